/*
 * alloc_fast.h -- the allocation fast path, inline in every public
 * allocation function (api.c, and the Boehm layer's in compat/): pop the
 * thread's free list for the class.  Everything else is hgc__alloc_slow.
 */
#ifndef HGC_ALLOC_FAST_H
#define HGC_ALLOC_FAST_H

#include "alloc.h"

/* First allocation of a thread, empty list, large object, out of memory
 * (api.c). */
INTERNAL void *hgc__alloc_slow(size_t n, unsigned kind);

/* The fast path: pop the thread's free list for the class.  No atomics, no
 * lock, no shared cache line; the collector never edits this list, so a
 * stop signal may land anywhere in here. */
static inline void *alloc_fast(size_t n, unsigned kind)
{
    thread_rec *t = hgc__self;
    if (likely(t != NULL && n <= SMALL_MAX)) {
        unsigned c = size_to_class(n);
        void **p = t->tc.free[kind][c];
        if (likely(p != NULL)) {
            void *next = link_decode(p[0]);
            t->tc.free[kind][c] = next;
            /* The next pop loads next's first word: start that miss now, so
             * it overlaps with the caller's work instead of the next call. */
            __builtin_prefetch(next, 1);
            size_t size = hgc__class_size[c];
            atomic_store_explicit(&t->alloc_bytes,
                                  atomic_load_explicit(&t->alloc_bytes, memory_order_relaxed) +
                                      size,
                                  memory_order_relaxed);
            return slot_hand_out(p, size);
        }
        uintptr_t b = t->tc.bump[kind][c];
        size_t size = hgc__class_size[c];
        if (likely(b + size <= t->tc.bump_end[kind][c])) {
            t->tc.bump[kind][c] = b + size;
            atomic_store_explicit(&t->alloc_bytes,
                                  atomic_load_explicit(&t->alloc_bytes, memory_order_relaxed) +
                                      size,
                                  memory_order_relaxed);
            return bump_hand_out(b, size);
        }
    }
    return hgc__alloc_slow(n, kind);
}

#endif
