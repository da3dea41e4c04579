/*
 * central.h -- the allocator's own interface to its central span lists
 * (central.c; the lists themselves are described in alloc.h).  Not for
 * other layers.
 */
#ifndef HGC_ALLOC_CENTRAL_H
#define HGC_ALLOC_CENTRAL_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/sweep.h"
#include "heap/heap.h"
#include "mutator/threads.h"

/* Batches of remote frees per class (central.c: Batches). */
extern INTERNAL uint32_t hgc__batch[NCLASSES];

/* Lock attributes, batch sizes, the thread registration hook. */
void central_init(void);
/* Kind k is being added (alloc_kind_create): set up its lists in every
 * home.  World lock held. */
void central_add_kind(unsigned k);
/* A span of class cls with free slots in s->free (or, if that is empty, a
 * batch in s->xfree, or if *bump is set, wholly free), taken off every
 * list: from the caller's home, else another's, else fresh pages; NULL
 * when memory is exhausted.  old, if not NULL, is the caller's exhausted
 * span of that class, filed under the same lock hold.  Inside a critical
 * section. */
span *central_acquire(unsigned kind, unsigned cls, unsigned home, span *old, bool *bump);
/* File s (held exclusively, swept or with its free list counted) on its
 * home's central, as sweeping found it. */
void central_put(span *s, enum sweep_result r);
/* Pages for a new span, sweeping other classes before the heap grows. */
span *central_pages(size_t npages, enum span_state state);
/* The remote free of p into s that completes a batch (central.c). */
void central_free_completing_batch(thread_rec *t, span *s, void *p);

#endif
