/*
 * roots.h -- where marking starts: thread stacks and registers, data
 * segments of the executable and shared libraries, user ranges.
 * The root table is protected by the world lock.
 */
#ifndef HGC_ROOTS_H
#define HGC_ROOTS_H

#include <stdint.h>

#include "mutator/threads.h"

void roots_add(uintptr_t lo, uintptr_t hi);
void roots_remove(uintptr_t lo, uintptr_t hi);
void roots_clear(void); /* every user range */
/* World running: record the writable data segments to scan. */
void roots_snapshot_segments(void);
/* What a root range is, for messages. */
enum root_kind {
    ROOT_SEGMENT,
    ROOT_USER,
    ROOT_STACK,
    ROOT_REGISTERS,
    ROOT_FINALIZER,     /* finalizer data, objects queued for finalization */
    ROOT_UNCOLLECTABLE, /* the table of uncollectable objects */
};
typedef struct root_desc {
    enum root_kind kind;
    unsigned long tid; /* ROOT_STACK, ROOT_REGISTERS: the thread */
    uintptr_t lo, hi;
    bool moving;       /* the stack of a thread in a blocking region */
} root_desc;
/* One line such as "stack of thread 0x7f.. [lo, hi)" into buf. */
void roots_describe(const root_desc *d, char *buf, size_t size);

typedef void (*root_fn)(const root_desc *d, void *arg);
/* Root sources of the layers above (the finalization tables), each
 * calling fn on its ranges; registered at initialization, at most
 * ROOT_SOURCES of them. */
#define ROOT_SOURCES 4
void roots_add_source(void (*each)(root_fn fn, void *arg));

/* World stopped: call fn on every root range -- data segments, user
 * ranges, the registered sources' ranges (finalize.h), then each registered thread's stack and register spill (self,
 * the collecting thread, from self->collect_sp).  A thread in a blocking
 * region keeps running below the frame that entered it, so its stack range
 * is marked `moving`: its words may differ from one scan to the next. */
void roots_each(thread_rec *self, root_fn fn, void *arg);
/* The two parts of roots_each: everything but the threads, and the
 * threads' stacks and register spills. */
void roots_each_global(root_fn fn, void *arg);
void roots_each_stack(thread_rec *self, root_fn fn, void *arg);

#endif
