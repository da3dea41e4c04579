/*
 * alloc.h -- size classes to objects: thread caches, central span lists,
 * large objects and explicit free.
 *
 * A free slot looks like this, always:
 *     word 0: next free slot XOR link_key   (so a conservative scan of a free
 *             slot never sees a heap pointer)
 *     word 1: slot address XOR tag_key      (marks it free: hgc_free checks
 *             it to report double frees)
 *     rest:   zero; in debug builds (HGC_DEBUG) every byte POISON instead,
 *             checked and zeroed when the slot is handed out, so that a
 *             write after free is reported at the next reuse
 * so handing a slot out costs clearing two words.  Objects are at least 16
 * bytes, so both words exist.
 *
 * Central lists, per (home, kind, class), under the central's lock:
 *   partial  swept spans with free slots (free list in span->free)
 *   full     swept spans without free slots (fewer than a batch of frees
 *            may wait in xfree; see "Batches" in central.c)
 *   old      with generations: full spans whose every slot was marked,
 *            left alone by minor collections (all their objects are old)
 *   unswept  spans whose marks are from the last collection; the first
 *            thread that needs a span sweeps them one by one.
 * Each collection moves partial and full (and, if major, old) to unswept
 * while the world is stopped, whole lists at a time; cached spans stay
 * with their threads.  A thread files its spans in its home's centrals and
 * takes from them first (central.c).
 */
#ifndef HGC_ALLOC_H
#define HGC_ALLOC_H

#include "base/check.h"
#include "base/tools.h"
#include "heap/heap.h"
#include "mutator/threads.h"

extern INTERNAL uintptr_t hgc__link_key, hgc__tag_key;

/* HGC_GC_STRESS=N, else 0.  In stress mode every allocation takes the slow
 * path (alloc.c keeps thread caches' lists out of the fast path's reach),
 * and each thread collects at every Nth of its allocations (the cycle
 * layer's slow_path hook). */
extern INTERNAL uint64_t hgc__gc_stress;
/* Every allocation and free takes the slow path (stress mode, where each
 * is counted, and tool mode, base/tools.h): the fast paths find no list,
 * no bump region, and hgc_free's declines. */
extern INTERNAL bool hgc__alloc_watched;

/* What the collector does on the allocator's path.  The allocator never
 * calls upward: the cycle layer sets these at initialization, before any
 * allocation (no-ops until then).
 *   slow_path: where both slow paths start, after the safe point and
 *              outside every critical section: collect if stress mode or
 *              pacing says so (later, mark assists);
 *   claimed:   bytes entered t's cache (a span's free slots) or a large
 *              object was handed out; may run inside a critical section,
 *              so it takes no lock and never blocks. */
typedef struct alloc_hooks {
    void (*slow_path)(thread_rec *t);
    void (*claimed)(thread_rec *t, size_t bytes);
} alloc_hooks;
void alloc_set_hooks(const alloc_hooks *h);

static inline void *link_decode(void *w) { return (void *)((uintptr_t)w ^ hgc__link_key); }
static inline void *link_encode(void *p) { return (void *)((uintptr_t)p ^ hgc__link_key); }
static inline uintptr_t free_tag(const void *p) { return (uintptr_t)p ^ hgc__tag_key; }
/* Word i (0: link, 1: tag) of what may be a free slot, which ASan builds
 * poison (base/tools.h): read unchecked. */
static inline NO_SANITIZE_ADDRESS uintptr_t slot_word(const void *p, unsigned i)
{
    return ((const uintptr_t *)p)[i];
}
static inline NO_SANITIZE_ADDRESS void slot_set_word(void *p, unsigned i, uintptr_t w)
{
    ((uintptr_t *)p)[i] = w;
}
/* The same read outside the collector and the slow paths, where under
 * memcheck word 1 may lie past the bytes a live object asked for. */
static inline uintptr_t slot_word_quiet(const void *p, unsigned i)
{
    tools_quiet_begin();
    uintptr_t w = slot_word(p, i);
    tools_quiet_end();
    return w;
}

#define POISON 0xdb /* words of it are never heap addresses */

/* Zero words 2.. of a slot of at most 64 bytes (sizes are multiples of
 * 16).  Spelled out: a loop would be turned into a call to memset, which
 * costs more than these stores. */
static inline void zero_tail_64(uintptr_t *w, size_t size)
{
    if (size > 16) {
        w[2] = 0;
        w[3] = 0;
    }
    if (size > 32) {
        w[4] = 0;
        w[5] = 0;
    }
    if (size > 48) {
        w[6] = 0;
        w[7] = 0;
    }
}

/* Turn the slot at p (size bytes) into a free slot whose successor is
 * next.  zero: the slot may hold old data. */
static inline void slot_make_free(void *p, size_t size, void *next, bool zero)
{
    uintptr_t *w = p;
    tools_unpoison(p, size);
#ifdef HGC_DEBUG
    (void)zero;
    if (size > 2 * sizeof(uintptr_t))
        __builtin_memset(w + 2, POISON, size - 2 * sizeof(uintptr_t));
#else
    if (zero && size > 2 * sizeof(uintptr_t)) {
        if (size <= 64)
            zero_tail_64(w, size);
        else
            __builtin_memset(w + 2, 0, size - 2 * sizeof(uintptr_t));
    }
#endif
    w[0] = (uintptr_t)link_encode(next);
    w[1] = free_tag(p);
    tools_poison(p, size);
}

#ifdef HGC_DEBUG
void alloc_poison_violated(const void *p, size_t size, size_t at); /* fatal */
#endif

/* The free slot p of size bytes, just taken off a list, as a zeroed
 * object. */
static inline void *slot_hand_out(void **p, size_t size)
{
    tools_unpoison(p, size);
    hgc_assert((uintptr_t)p[1] == free_tag(p),
               "slot %p (%zu bytes) on a free list is not a free slot: word 1 is %#lx, not its tag "
               "(written after it was freed?)",
               (void *)p, size, (unsigned long)(uintptr_t)p[1]);
#ifdef HGC_DEBUG
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 2 * sizeof(uintptr_t); i < size; i++)
        if (b[i] != POISON)
            alloc_poison_violated(p, size, i);
    __builtin_memset(p, 0, size);
#else
    (void)size;
    p[0] = NULL;
    p[1] = NULL;
#endif
    return p;
}

/* Bump regions (tcache.bump): classes up to BUMP_MAX bytes skip building a
 * free list in a span that is wholly free; its slots are handed out in
 * address order and zeroed then, word by word (the span may hold old
 * data). */
#define BUMP_MAX 64 /* zero_tail_64 */
static inline void *bump_hand_out(uintptr_t b, size_t size)
{
    uintptr_t *w = (uintptr_t *)b;
    tools_unpoison(w, size); /* the span's slots may have been freed before */
    w[0] = 0;
    w[1] = 0;
    zero_tail_64(w, size);
    return w;
}

/* Bytes handed to t: large objects, and small slots as they enter t's
 * cache (alloc_fast.h counts nothing), so hgc_stats.allocated_bytes runs
 * ahead of the program by what waits in caches -- at most a span per class
 * and thread, plus the thread's own frees not yet reused.  Only t writes
 * its counters: relaxed, for statistics to read. */
static inline void count_allocated(thread_rec *t, size_t bytes)
{
    atomic_store_explicit(&t->alloc_bytes,
                          atomic_load_explicit(&t->alloc_bytes, memory_order_relaxed) + bytes,
                          memory_order_relaxed);
}

/* Bytes t freed explicitly. */
static inline void count_freed(thread_rec *t, size_t bytes)
{
    atomic_store_explicit(&t->freed_bytes,
                          atomic_load_explicit(&t->freed_bytes, memory_order_relaxed) + bytes,
                          memory_order_relaxed);
}

/* A slot of a span t's cache holds, valid and allocated, goes straight
 * back onto the list at head: no atomics, and no critical section, as the
 * collector never edits a cache.  The slot's bytes re-enter the cache, so
 * they count as allocated again. */
static inline void free_to_cache(thread_rec *t, span *s, void *p, void **head)
{
    size_t size = s->elem_size;
    hgc_assert(atomic_load_explicit(&s->owner, memory_order_relaxed) == &t->tc,
               "object %p freed into the cache of thread %#lx, which does not hold its span",
               p, t->tid);
    /* A free slot is never old (gen.h).  No sweep touches a cached span,
     * but a concurrent mark's markers and its clearing of the marks
     * (cycle/collector.c) may store into this byte meanwhile: atomically. */
    __atomic_store_n(span_mark_of(s, (uintptr_t)p), 0, __ATOMIC_RELAXED);
    slot_make_free(p, size, *head, true);
    *head = p;
    count_freed(t, size);
    count_allocated(t, size);
}

/* Also registers the thread hooks: a registering thread's home gets its
 * central lists, a leaving one gives its cached spans back. */
void alloc_init(void);
/* A new kind (kind.h) with its central lists; its number, or -1 when
 * NKINDS exist.  The caller holds the world lock, which orders this with
 * registering threads (their homes' lists) and other new kinds. */
int alloc_kind_create(unsigned scan, kind_mark_fn mark, void *env);

/* Out-of-line paths behind the inline fast path in api.c.  They return NULL
 * when memory is exhausted. */
void *alloc_small_slow(thread_rec *t, unsigned kind, unsigned cls);
void *alloc_large(thread_rec *t, size_t n, unsigned kind);
/* free_to_cache, out of line. */
void alloc_free_to_cache(thread_rec *t, span *s, void *p, void **head);
/* Free p (already validated as an object start of span s). */
void alloc_free_small(thread_rec *t, span *s, void *p);
/* The same for a span t's cache does not hold: the lock-free push. */
void alloc_free_remote(thread_rec *t, span *s, void *p);
void alloc_free_large(thread_rec *t, span *s, void *p);

/* Give a thread's cached spans back to the central lists (its release
 * hook, threads.h). */
void alloc_release_cache(thread_rec *t);

/* Collector hooks, world stopped. */
void alloc_sweep_large(void);          /* free unmarked large objects */
/* Move central spans to unswept: all of them after a major collection,
 * all but the all-old full ones after a minor. */
void alloc_prepare_sweep(bool major);
void alloc_clear_cache_marks(tcache *tc); /* cached spans skip this sweep */
/* After a minor collection: clear the marks equal to `dead` (survivors
 * that died, heap.h) in tc's cached spans, which no sweep visits. */
void alloc_clear_cache_dead_marks(tcache *tc, uint8_t dead);
/* Verification (HGC_VERIFY, hgc_verify()), world stopped: check every
 * central list against its counts and its spans' tags; fatal if wrong. */
void alloc_verify_lists(void);
/* World running, before a collection: sweep every unswept span. */
void alloc_finish_sweep(thread_rec *t);
/* After alloc_finish_sweep, world lock held (no span becomes unswept):
 * wait until the spans other threads took to sweep are swept -- before
 * marks change with the world running (a concurrent mark's start). */
void alloc_wait_sweeps(void);

#endif
