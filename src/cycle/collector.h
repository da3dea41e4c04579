/*
 * collector.h -- the collection cycle and its statistics.
 *
 * A cycle, all under the world lock (threads.h), one phase function each
 * in collector.c; the collector's phase (mutator/phase.h) changes at 3, 4
 * and 6:
 *   1. prepare, world running: finish sweeping the previous cycle;
 *      snapshot the data segments (the loader lock must not be taken while
 *      a stopped thread might hold it); start missing marker helpers;
 *   2. stop the world (stw.c);
 *   3. mark (GC_MARK): from the old objects on written pages first, if
 *      minor (mark/gen.h), then from the roots, then promote;
 *   4. terminate (GC_MARK_TERMINATION): finalization marks what it
 *      resurrects; with HGC_VERIFY or hgc_verify(), check the marks;
 *   5. set up the sweep: pacing learns what marking found, pages holding
 *      old objects are protected, unmarked large objects freed, central
 *      lists moved to unswept whole, the marks of cached spans cleared;
 *   6. restart (GC_OFF): publish statistics and the next trigger, then
 *      restart the world.  Everything a running mutator reads about the
 *      cycle is written before the restart, whose release store orders it;
 *   7. finish, world running: give long-free pages back to the OS beyond
 *      the heap floor; HGC_TRACE's record.
 * A mostly-concurrent major collection (HGC_CONCURRENT) runs 3 as a first
 * stop, a drain by the collector thread while the world runs, and a final
 * stop that rescans, then 4 to 7 there (collector.c).
 * Small spans are swept lazily afterwards by the threads that need them.
 * When a collection starts and whether it is minor: pacing.h.
 */
#ifndef HGC_COLLECTOR_H
#define HGC_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

struct thread_rec;

enum gc_reason {
    GC_REASON_ALLOC,
    GC_REASON_EXPLICIT,
    GC_REASON_VERIFY,
    GC_REASON_STRESS,
    GC_REASON_OOM, /* an allocation failed: collect before giving up */
    GC_REASON_MINOR, /* hgc_collect_minor() */
};

/* Points of a cycle reported to hgc__collect_event, in this order. */
enum collect_event {
    COLLECT_START,
    COLLECT_PRE_STOP_WORLD,
    COLLECT_POST_STOP_WORLD,
    COLLECT_MARK_START,
    COLLECT_MARK_END,
    COLLECT_PRE_START_WORLD,
    COLLECT_POST_START_WORLD,
    COLLECT_END,
};

/* Hooks of the Boehm layer (compat/), unset otherwise.  The event hook is
 * called on the collecting thread with the world lock held (and between
 * the stop and start events with the world stopped): it must not
 * allocate or call into hgc.  dont_gc points at the layer's GC_dont_gc,
 * which programs also write directly: while nonzero, nothing collects. */
extern INTERNAL void (*hgc__collect_event)(enum collect_event ev);
extern INTERNAL volatile int *hgc__dont_gc;

void collector_init(void);
bool collector_should_collect(void);
/* 1 if the collection was minor, 0 if major, -1 if none ran (disabled,
 * or another thread's collection made this one unnecessary). */
int collector_collect(enum gc_reason why);
/* A concurrent mark is in flight (collector.c; relaxed, for hgc_marking). */
bool collector_marking(void);
/* Turn mostly-concurrent marking on (the Boehm layer's
 * GC_enable_incremental), where the kernel reports written pages; whether
 * it is on.  Takes the world lock. */
bool collector_enable_concurrent(void);
bool collector_concurrent_on(void);
void collector_disable(void);
void collector_enable(void);
/* From now on, pace as the Boehm collector with this free-space divisor
 * does (0: by HGC_GOGC again; pacing.h), and raise the heap floor. */
void collector_set_boehm_divisor(unsigned divisor);
void collector_add_min_heap(size_t bytes);

typedef struct collector_stats {
    uint64_t collections, minor_collections, pause_total_ns, pause_max_ns;
    size_t live_bytes;
} collector_stats;
void collector_get_stats(collector_stats *out);
/* Concurrent marking's counters (relaxed atomics, any thread). */
typedef struct collector_concurrent_stats {
    uint64_t marks, mark_ns, assists, assist_ns, waits, wait_ns;
} collector_concurrent_stats;
void collector_get_concurrent_stats(collector_concurrent_stats *out);

#endif
