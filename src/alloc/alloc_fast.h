/*
 * alloc_fast.h -- the allocation fast path, inline in every public
 * allocation function (api.c, and the Boehm layer's in compat/), and the
 * fast path of hgc_free.  Everything else is hgc__alloc_slow and the
 * checked free in api.c.
 */
#ifndef HGC_ALLOC_FAST_H
#define HGC_ALLOC_FAST_H

#include "alloc/alloc.h"

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
        void *next = link_decode((void *)slot_word(p, 0));
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

/* hgc_free's fast path: p is the start of an allocated small object and
 * the calling thread is registered.  Then p is freed and the result is
 * true: onto the thread's own list, inline, if its cache holds the span,
 * else through alloc_free_remote (a lock-free push).  Anything else, good
 * or bad -- NULL, a large object, an object with a finalizer, stress or
 * tool mode, an unregistered thread, any error -- gives false with nothing
 * changed, and the checked path in api.c decides and reports.
 *
 * The checks are those of object_span_or_die and hgc_free, on fields read
 * once: a small span, an object start, not a free slot (its tag, alloc.h),
 * and for the owner, not in its never-handed-out bump region.  A span
 * whose owner is this thread's cache is SPAN_SMALL and stays so: only the
 * owner takes a span out of its cache (alloc.c). */
static inline bool free_fast(void *p)
{
    thread_rec *t = hgc__self;
    span *s = pagemap_lookup((uintptr_t)p);
    if (unlikely(s == NULL) || unlikely(t == NULL))
        return false;
    bool own = atomic_load_explicit(&s->owner, memory_order_relaxed) == &t->tc;
    if (!own && atomic_load_explicit(&s->state, memory_order_acquire) != SPAN_SMALL)
        return false;
    if (unlikely(hgc__alloc_watched) ||
        unlikely(atomic_load_explicit(&s->registered, memory_order_relaxed)))
        return false;
    uintptr_t off = (uintptr_t)p - s->base;
    uint32_t idx = (uint32_t)((off * s->div_magic) >> DIV_SHIFT);
    if (unlikely(idx >= s->nelems) || unlikely((uintptr_t)idx * s->elem_size != off))
        return false;
    if (unlikely(slot_word(p, 1) == free_tag(p)))
        return false;
    if (!own) {
        alloc_free_remote(t, s, p);
        return true;
    }
    unsigned k = s->kind, c = s->sizeclass;
    if (unlikely((uintptr_t)p >= t->tc.bump[k][c] && (uintptr_t)p < t->tc.bump_end[k][c]))
        return false;
    if (likely(s->elem_size <= BUMP_MAX))
        free_to_cache(t, s, p, &t->tc.free[k][c]); /* no memset: no call, no saved registers */
    else
        alloc_free_to_cache(t, s, p, &t->tc.free[k][c]);
    return true;
}

#endif
