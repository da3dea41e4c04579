/*
 * alloc_fast.h -- the allocation fast path, inline in every public
 * allocation function (api.c, and the Boehm layer's in compat/).
 * Everything else is hgc__alloc_slow.
 */
#ifndef HGC_ALLOC_FAST_H
#define HGC_ALLOC_FAST_H

#include "alloc.h"

/* First allocation of a thread, empty list, large object, out of memory
 * (api.c). */
INTERNAL void *hgc__alloc_slow(size_t n, unsigned kind);

/* The fast path: pop the thread's free list for the class, or step through
 * its bump region.  hgc__tcache of an unregistered thread has neither, so
 * the slow path registers it.  No atomics, no lock, no shared cache line;
 * the collector never edits a cache, so a stop signal may land anywhere in
 * here.  Bytes are counted when slots enter the cache (alloc.c). */
static inline void *alloc_fast(size_t n, unsigned kind)
{
    tcache *tc = hgc__tcache;
    unsigned c;
    /* Tiny sizes first: most requests are, and they need one test. */
    if (likely(n <= 1024))
        c = hgc__class_tiny_index[(n + 15) >> 4];
    else if (n <= SMALL_MAX)
        c = hgc__class_small_index[(n + 127) >> 7];
    else
        return hgc__alloc_slow(n, kind);
    void **p = tc->free[kind][c];
    if (likely(p != NULL)) {
        void *next = link_decode(p[0]);
        tc->free[kind][c] = next;
        /* The next pop loads next's first word: start that miss now, so it
         * overlaps with the caller's work instead of the next call. */
        __builtin_prefetch(next, 1);
        return slot_hand_out(p, hgc__class_size[c]);
    }
    uintptr_t b = tc->bump[kind][c];
    size_t size = hgc__class_size[c];
    if (likely(b + size <= tc->bump_end[kind][c])) {
        tc->bump[kind][c] = b + size;
        return bump_hand_out(b, size);
    }
    return hgc__alloc_slow(n, kind);
}

#endif
