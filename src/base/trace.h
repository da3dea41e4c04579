/*
 * trace.h -- HGC_TRACE: collector events in Chrome Trace Event format.
 * See trace.c.
 */
#ifndef HGC_TRACE_H
#define HGC_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Clock readings (os_now_ns) of one collection: cycle start, previous
 * sweep finished, stop requested, world stopped, marking done, verification
 * done (== marked without it), world restarted, cycle end.  A concurrent
 * mark (collector.h) also has its first stop requested and ended and the
 * end of its concurrent drain (0 otherwise); stop and stopped are then
 * its final stop's. */
typedef struct trace_times {
    uint64_t start, swept, stop, stopped, marked, verified, restarted, end;
    uint64_t first_stop, first_restarted, drained;
} trace_times;

void trace_init(void);              /* opens HGC_TRACE's file, if set */
bool trace_on(void);
/* Under the world lock, after the restart. */
void trace_cycle(const trace_times *t, const char *reason, bool major, size_t live_bytes,
                 size_t heap_bytes, size_t mark_stack_bytes);
void trace_after_fork_child(void);  /* the child does not write the parent's file */

#endif
