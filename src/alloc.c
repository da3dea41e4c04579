/*
 * alloc.c -- thread caches, central span lists, large objects, explicit free.
 *
 * Lock order: central lock -> heap lock -> metadata lock; the large-object
 * lock is taken alone or before the heap lock.  All of them are taken only
 * inside critical sections (threads.h) or by the world-lock holder.
 *
 * A new object is reachable only from its allocating thread's registers and
 * stack until the caller stores it.  So every path leaves its critical
 * section (where the thread may stop for a collection) with the object's
 * address in a local, never only behind its span descriptor, which is
 * metadata and not a root.
 */
#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "collector.h"
#include "gen.h"
#include "stw.h"
#include "sweep.h"

uintptr_t hgc__link_key, hgc__tag_key;

typedef struct central {
    pthread_mutex_t lock;
    /* old: with generations, full spans whose every slot is old (swept
     * with every mark MARK_OLD).  Those marks cannot change until the next
     * major collection, so minor collections leave them unswept.  Nothing
     * else goes there: a span holding a young object or a survivor must be
     * swept after every collection, or it would keep survivor marks across
     * two minor collections (heap.h). */
    span partial, full, old;
    /* Spans to sweep, by home: a thread takes those of its own home first.
     * Its writes to them hit lines still in its own CPU's cache, where a
     * span another CPU filled last costs a transfer per line (ARCHITECTURE.md,
     * Homes).  Bit h of unswept_homes: unswept[h] is not empty. */
    span unswept[NHOMES];
    uint32_t unswept_homes;
    _Atomic size_t nunswept; /* spans on the unswept lists, for lock-free peeks */
} central;

/* In metadata memory, like free_runs (pageheap.c): static data is scanned
 * as roots at every collection -- this library's own, too -- and the list
 * heads, which hold only descriptor addresses, would be 64 KiB of it. */
static central (*centrals)[NCLASSES];
static _Atomic size_t unswept_total;

/* Batches.  Frees into a span that the freeing thread does not cache go to
 * the span's xfree without a lock, except the one that makes the stack's
 * push count (since it was last emptied) equal to the class's batch: that
 * one pushes under the central lock and moves the span from the full to
 * the partial list.  A span goes onto the full list only under the lock and
 * only with fewer than a batch of frees waiting (central_file), and nobody
 * empties xfree while the span is on a central list, so the count rises one
 * by one from there and the batch-completing free always finds it.  The
 * price: up to batch - 1 freed slots per full span (an eighth of its slots)
 * wait for more frees or for the next collection's sweep, which applies
 * them.  The gain: one lock per batch instead of one per span visit, and a
 * span taken from the partial list holds a batch of free slots, not one. */
#define BATCH_SHARE 8
static uint32_t batch[NCLASSES];

static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;
static span large_spans; /* every live large object */

#ifdef HGC_DEBUG
NOINLINE void alloc_poison_violated(const void *p, size_t size, size_t at)
{
    hgc__fatal("object %p (%zu bytes) was written after it was freed: byte %zu is %#x, not "
               "the poison %#x (debug build)",
               p, size, at, ((const unsigned char *)p)[at], POISON);
}
#endif

void alloc_init(void)
{
    hgc__link_key = (uintptr_t)os_random_u64();
    hgc__tag_key = (uintptr_t)os_random_u64();
    /* Central locks are held for a few list operations: spinning briefly
     * beats sleeping in the kernel when two threads claim spans at once. */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    centrals = meta_alloc(NKINDS * sizeof *centrals);
    for (int k = 0; k < NKINDS; k++)
        for (int c = 0; c < NCLASSES; c++) {
            central *ce = &centrals[k][c];
            pthread_mutex_init(&ce->lock, &attr);
            span_list_init(&ce->partial);
            span_list_init(&ce->full);
            span_list_init(&ce->old);
            for (int h = 0; h < NHOMES; h++)
                span_list_init(&ce->unswept[h]);
        }
    pthread_mutexattr_destroy(&attr);
    span_list_init(&large_spans);
    for (int c = 1; c < NCLASSES; c++) {
        uint32_t n = hgc__class_geom[c].nelems / BATCH_SHARE;
        batch[c] = n ? n : 1;
    }
}

/* File s, held exclusively, on its central's partial list if it has free
 * slots or a batch of frees waiting in xfree, else on the full list.  The
 * caller holds the central lock.  The xfree check is what keeps the batch
 * rule (above) whole: a free that completed the batch while s was held
 * found it on no list, so it is our job. */
static void central_file(central *ce, span *s, bool has_free)
{
    if (!has_free &&
        xfree_count(atomic_load_explicit(&s->xfree, memory_order_relaxed)) >= batch[s->sizeclass])
        has_free = true;
    span_set_list(s, has_free ? LIST_PARTIAL : LIST_FULL);
    span_list_push(has_free ? &ce->partial : &ce->full, s);
}

static void central_put(span *s, enum sweep_result r)
{
    central *ce = &centrals[s->kind][s->sizeclass];
    pthread_mutex_lock(&ce->lock);
    if (r == SWEEP_OLD &&
        xfree_count(atomic_load_explicit(&s->xfree, memory_order_relaxed)) < batch[s->sizeclass]) {
        span_set_list(s, LIST_OLD);
        span_list_push(&ce->old, s);
    } else {
        central_file(ce, s, r == SWEEP_PARTIAL);
    }
    pthread_mutex_unlock(&ce->lock);
}

/* Take an unswept span of ce, preferably one of home (ANY_HOME: no
 * preference), central lock held.  Of a home's full spans the newest comes
 * first (prepare_sweep): the likeliest to be in the cache still. */
#define ANY_HOME NHOMES
_Static_assert(ANY_HOME < 32, "unswept_homes holds a bit per home, and none for ANY_HOME");
static span *unswept_pop(central *ce, unsigned home)
{
    uint32_t homes = ce->unswept_homes;
    if (!homes)
        return NULL;
    unsigned h = homes & (1u << home) ? home : (unsigned)__builtin_ctz(homes);
    span *s = span_list_pop(&ce->unswept[h]);
    if (span_list_empty(&ce->unswept[h]))
        ce->unswept_homes &= ~(1u << h);
    atomic_fetch_sub_explicit(&ce->nunswept, 1, memory_order_relaxed);
    return s;
}

/* Sweep one unswept span of any class; false when none is left.  Used when
 * the page heap is empty: garbage in other classes may free whole spans. */
static bool sweep_one_any(void)
{
    static _Atomic unsigned cursor;
    if (atomic_load_explicit(&unswept_total, memory_order_relaxed) == 0)
        return false;
    unsigned start = atomic_fetch_add_explicit(&cursor, 1, memory_order_relaxed);
    for (unsigned i = 0; i < NKINDS * NCLASSES; i++) {
        unsigned j = (start + i) % (NKINDS * NCLASSES);
        central *ce = &centrals[j / NCLASSES][j % NCLASSES];
        if (atomic_load_explicit(&ce->nunswept, memory_order_relaxed) == 0)
            continue; /* a hint; the pop below re-checks under the lock */
        pthread_mutex_lock(&ce->lock);
        span *s = unswept_pop(ce, ANY_HOME);
        pthread_mutex_unlock(&ce->lock);
        if (!s)
            continue;
        atomic_fetch_sub_explicit(&unswept_total, 1, memory_order_relaxed);
        span_set_list(s, LIST_NONE);
        enum sweep_result r = sweep_span(s);
        if (r == SWEEP_EMPTY)
            pageheap_free(s); /* memory is what the caller is after */
        else
            central_put(s, r);
        return true;
    }
    return false;
}

/* Pages for a new span, sweeping other classes before growing the heap. */
static span *pages_for(size_t npages, enum span_state state)
{
    span *s;
    while (!(s = pageheap_alloc_nogrow(npages, state)))
        if (!sweep_one_any())
            return pageheap_alloc(npages, state);
    return s;
}

/* Whether a wholly free span of class cls is handed out by bumping (see
 * BUMP_MAX) rather than through a free list.  Not in stress mode (whose
 * slow path hands out one object at a time) nor in debug builds (free
 * slots carry poison). */
static bool bump_class(unsigned cls)
{
#ifdef HGC_DEBUG
    (void)cls;
    return false;
#else
    return hgc__class_size[cls] <= BUMP_MAX && !hgc__gc_stress;
#endif
}

/* Make wholly free span s ready: a free list, or (*bump set) nothing, the
 * caller bumps through it. */
static void fresh_span(span *s, unsigned cls, bool *bump)
{
    *bump = bump_class(cls);
    if (*bump) {
        s->free = NULL;
        s->nfree = s->nelems;
    } else {
        sweep_init_fresh(s);
    }
}

/* A span of class cls with free slots in s->free (or, if that is empty, a
 * batch in s->xfree, or if *bump is set, wholly free), taken off every
 * list.  old, if not NULL, is the caller's exhausted span of that class,
 * filed under the same lock hold. */
static span *central_acquire(unsigned kind, unsigned cls, unsigned home, span *old, bool *bump)
{
    *bump = false;
    central *ce = &centrals[kind][cls];
    pthread_mutex_lock(&ce->lock);
    if (old)
        central_file(ce, old, false);
    span *s = span_list_pop(&ce->partial);
    while (!s) {
        s = unswept_pop(ce, home);
        if (!s)
            break;
        pthread_mutex_unlock(&ce->lock);
        atomic_fetch_sub_explicit(&unswept_total, 1, memory_order_relaxed);
        span_set_list(s, LIST_NONE);
        enum sweep_result r = sweep_span(s);
        if (r == SWEEP_PARTIAL)
            return s;
        if (r == SWEEP_EMPTY) {
            /* Reuse it in place: cheaper than the page heap round trip. */
            fresh_span(s, cls, bump);
            return s;
        }
        pthread_mutex_lock(&ce->lock);
        central_file(ce, s, false);
        s = span_list_pop(&ce->partial); /* it, if a batch of frees waits */
    }
    pthread_mutex_unlock(&ce->lock);
    if (s)
        return s;

    s = pages_for(hgc__class_pages[cls], SPAN_SMALL);
    if (!s)
        return NULL;
    pageheap_set_small(s, kind, cls);
    fresh_span(s, cls, bump);
    return s;
}

void *alloc_small_slow(thread_rec *t, unsigned kind, unsigned cls)
{
    stw_poll(t);
    if (unlikely(hgc__gc_stress))
        collector_stress_tick(t);
    if (collector_should_collect())
        collector_collect(GC_REASON_ALLOC);

    crit_enter(t);
    void *list = t->tc.free[kind][cls];
    span *s = t->tc.cur[kind][cls], *old = NULL;
    if (unlikely(hgc__gc_stress) && !list && s) {
        /* Stress mode keeps the cache's list in the span, see below. */
        list = s->free;
        s->free = NULL;
    }
    if (!list && s) {
        /* Frees from other threads refill the current span first. */
        uintptr_t x = atomic_exchange_explicit(&s->xfree, 0, memory_order_acquire);
        list = xfree_top(x);
        count_allocated(t, (size_t)xfree_count(x) * s->elem_size);
        if (!list) {
            /* Exhausted: central_acquire files it on its central's lists,
             * in the same lock hold that takes the next span. */
            atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
            t->tc.cur[kind][cls] = NULL;
            t->tc.bump[kind][cls] = t->tc.bump_end[kind][cls] = 0;
            old = s;
        }
    }
    bool bump = false;
    if (!list) {
        s = central_acquire(kind, cls, t->home, old, &bump);
        if (!s) {
            crit_exit(t);
            return NULL;
        }
        collector_note_alloc(t, (size_t)s->nfree * s->elem_size);
        count_allocated(t, (size_t)s->nfree * s->elem_size);
        list = s->free;
        if (!list && !bump) { /* a full span that a batch of frees made partial again */
            uintptr_t x = atomic_exchange_explicit(&s->xfree, 0, memory_order_acquire);
            list = xfree_top(x);
            count_allocated(t, (size_t)xfree_count(x) * s->elem_size);
        }
        s->free = NULL;
        s->nfree = 0;
        span_set_list(s, LIST_CACHED);
        s->home = (uint8_t)t->home;
        atomic_store_explicit(&s->owner, &t->tc, memory_order_relaxed);
        t->tc.cur[kind][cls] = s;
    }
    if (bump) {
        size_t size = hgc__class_size[cls];
        uintptr_t b = s->base;
        t->tc.bump[kind][cls] = b + size;
        t->tc.bump_end[kind][cls] = b + (uintptr_t)s->nelems * size;
        crit_exit(t);
        return bump_hand_out(b, size);
    }
    void **p = list;
    t->tc.free[kind][cls] = link_decode(p[0]);
    slot_hand_out(p, hgc__class_size[cls]);
    if (unlikely(hgc__gc_stress)) {
        /* Out of the fast path's reach, so every allocation comes here and
         * is counted.  A cached span's s->free is otherwise unused. */
        t->tc.cur[kind][cls]->free = t->tc.free[kind][cls];
        t->tc.free[kind][cls] = NULL;
    }
    crit_exit(t);
    return p;
}

void *alloc_large(thread_rec *t, size_t n, unsigned kind)
{
    size_t npages = (n + PAGE_SIZE - 1) / PAGE_SIZE;
    if (n > ((size_t)1 << ADDRESS_BITS))
        return NULL;
    stw_poll(t);
    if (unlikely(hgc__gc_stress))
        collector_stress_tick(t);
    if (collector_should_collect())
        collector_collect(GC_REASON_ALLOC);

    crit_enter(t);
    span *s = pages_for(npages, SPAN_LARGE);
    if (!s) {
        crit_exit(t);
        return NULL;
    }
    size_t bytes = npages * PAGE_SIZE;
    if (s->needzero) {
        if (bytes >= ((size_t)1 << 20))
            os_release((void *)s->base, bytes); /* reads back as zero */
        else
            memset((void *)s->base, 0, bytes);
    }
    s->needzero = false;
    s->kind = (uint8_t)kind;
    s->elem_size = bytes;
    s->nelems = 1;
    s->div_magic = 0;
    s->req_size = n;
    pthread_mutex_lock(&large_lock);
    span_list_push(&large_spans, s);
    pthread_mutex_unlock(&large_lock);
    count_allocated(t, bytes);
    /* The object must be in a local before crit_exit, which may stop this
     * thread for a collection: the span descriptor is not a root, the
     * local is. */
    void *p = (void *)s->base;
    crit_exit(t);
    collector_note_alloc(t, bytes);
    return p;
}

/* The free that completes a batch in s's xfree (see "Batches" above): the
 * slot p is already a free slot, only its link is set here.  If s sits on
 * the full list it moves to the partial list.  The push happens under the
 * central lock: until our object is in xfree it keeps the span alive (it
 * was marked, or allocated after the sweep), so s is still of this central;
 * once it is in, a sweeper could free the span -- but no sweeper can take a
 * span off the unswept list while we hold the lock, and we touch the span
 * only under it. */
static NOINLINE void free_completing_batch(thread_rec *t, span *s, void *p)
{
    central *ce = &centrals[s->kind][s->sizeclass];
    crit_enter(t);
    pthread_mutex_lock(&ce->lock);
    uintptr_t old = atomic_load_explicit(&s->xfree, memory_order_relaxed);
    do
        ((void **)p)[0] = link_encode(xfree_top(old));
    while (!atomic_compare_exchange_weak_explicit(&s->xfree, &old,
                                                  (uintptr_t)p | ((old & ~(XFREE_ONE - 1)) + XFREE_ONE),
                                                  memory_order_release, memory_order_relaxed));
    if (span_list_of(s) == LIST_FULL || span_list_of(s) == LIST_OLD) {
        span_list_remove(s);
        span_set_list(s, LIST_PARTIAL);
        span_list_push(&ce->partial, s);
    }
    pthread_mutex_unlock(&ce->lock);
    crit_exit(t);
}

void alloc_free_to_cache(thread_rec *t, span *s, void *p, void **head)
{
    free_to_cache(t, s, p, head);
}

void alloc_free_small(thread_rec *t, span *s, void *p)
{
    if (atomic_load_explicit(&s->owner, memory_order_relaxed) == &t->tc) {
        /* Owner (free_fast takes most of these; stress mode keeps the
         * cache's list in the span, see alloc_small_slow). */
        void **head = unlikely(hgc__gc_stress) ? &s->free : &t->tc.free[s->kind][s->sizeclass];
        free_to_cache(t, s, p, head);
        return;
    }
    alloc_free_remote(t, s, p);
}

/* Push onto the span's xfree stack, counting the push.  The owner (or the
 * sweeper) takes the whole stack with one exchange, so there is no ABA.
 * No lock, unless this push completes a batch. */
void alloc_free_remote(thread_rec *t, span *s, void *p)
{
    size_t size = s->elem_size;
    count_freed(t, size);
    uint32_t b = batch[s->sizeclass];
    uintptr_t old = atomic_load_explicit(&s->xfree, memory_order_relaxed);
    slot_make_free(p, size, xfree_top(old), true);
    for (;;) {
        uintptr_t new = (uintptr_t)p | ((old & ~(XFREE_ONE - 1)) + XFREE_ONE);
        if (unlikely(xfree_count(new) == b)) {
            free_completing_batch(t, s, p);
            return;
        }
        if (atomic_compare_exchange_weak_explicit(&s->xfree, &old, new, memory_order_release,
                                                  memory_order_relaxed))
            return;
        ((void **)p)[0] = link_encode(xfree_top(old));
    }
}

void alloc_free_large(thread_rec *t, span *s, void *p)
{
    crit_enter(t);
    pthread_mutex_lock(&large_lock);
    /* Re-check under the lock: two racing frees of one object must not
     * both give its pages back. */
    bool ok = atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE &&
              s->base == (uintptr_t)p && s->next != NULL;
    if (ok)
        span_list_remove(s);
    pthread_mutex_unlock(&large_lock);
    if (!ok) {
        crit_exit(t);
        hgc__fatal("hgc_free(%p): double free", p);
    }
    count_freed(t, s->elem_size);
    *span_mark_of(s, s->base) = 0; /* free pages carry no marks */
    pageheap_free(s);
    crit_exit(t);
}

void alloc_release_cache(thread_rec *t)
{
    crit_enter(t);
    for (unsigned k = 0; k < NKINDS; k++)
        for (unsigned c = 1; c < NCLASSES; c++) {
            span *s = t->tc.cur[k][c];
            if (!s)
                continue;
            void *list = t->tc.free[k][c];
            if (!list) /* stress mode keeps the list here (never both) */
                list = s->free;
            /* The bump region's slots join the list. */
            size_t size = s->elem_size;
            for (uintptr_t b = t->tc.bump_end[k][c]; b > t->tc.bump[k][c];) {
                b -= size;
                slot_make_free((void *)b, size, list, true);
                list = (void *)b;
            }
            t->tc.bump[k][c] = t->tc.bump_end[k][c] = 0;
            uint32_t n = 0;
            for (void *x = list; x; x = link_decode(*(void **)x))
                n++;
            s->free = list;
            s->nfree = n;
            atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
            central_put(s, n ? SWEEP_PARTIAL : SWEEP_FULL);
            t->tc.cur[k][c] = NULL;
            t->tc.free[k][c] = NULL;
        }
    crit_exit(t);
}

void alloc_sweep_large(void)
{
    for (span *s = large_spans.next, *next; s != &large_spans; s = next) {
        next = s->next;
        uint8_t *m = span_mark_of(s, s->base);
        if (mark_byte_live(*m)) {
            if (!hgc__sticky_marks)
                *m = 0;
            continue;
        }
        *m = 0; /* a dead survivor's mark, if any: free pages carry none */
        span_list_remove(s);
        pageheap_free(s);
    }
}

/* Move every span of list `from` to the unswept list of its home, in
 * order: walked from the tail, each pushed at the front.  Returns how many. */
static size_t move_to_unswept(central *ce, span *from)
{
    size_t n = 0;
    for (span *s = from->prev; s != from;) {
        span *prev = s->prev;
        span_set_list(s, LIST_UNSWEPT);
        s->free = NULL; /* rebuilt from the marks by the sweep */
        s->nfree = 0;
        span_list_push(&ce->unswept[s->home], s);
        ce->unswept_homes |= 1u << s->home;
        s = prev;
        n++;
    }
    span_list_init(from);
    return n;
}

void alloc_prepare_sweep(bool major)
{
    size_t n = 0;
    for (int k = 0; k < NKINDS; k++)
        for (int c = 1; c < NCLASSES; c++) {
            central *ce = &centrals[k][c];
            /* Each list is pushed in front of the one before: partial
             * spans come first, then the full ones, newest first. */
            size_t m = atomic_load_explicit(&ce->nunswept, memory_order_relaxed);
            if (major)
                m += move_to_unswept(ce, &ce->old);
            m += move_to_unswept(ce, &ce->full);
            m += move_to_unswept(ce, &ce->partial);
            atomic_store_explicit(&ce->nunswept, m, memory_order_relaxed);
            n += m;
        }
    atomic_store_explicit(&unswept_total, n, memory_order_relaxed);
}

void alloc_clear_cache_dead_marks(tcache *tc, uint8_t dead)
{
    const uint64_t dead8 = dead * 0x0101010101010101ull;
    for (unsigned k = 0; k < NKINDS; k++)
        for (unsigned c = 1; c < NCLASSES; c++) {
            span *s = tc->cur[k][c];
            if (!s)
                continue;
            uint8_t *m = s->marks;
            size_t n = (s->npages * PAGE_SIZE) >> GRANULE_SHIFT; /* a multiple of 8 */
            for (size_t i = 0; i < n; i += 8) {
                uint64_t w;
                memcpy(&w, m + i, sizeof w);
                /* A byte equal to `dead` has a zero xor; test for any. */
                uint64_t x = w ^ dead8;
                if (((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull) == 0)
                    continue;
                for (size_t j = i; j < i + 8; j++)
                    if (m[j] == dead)
                        m[j] = 0;
            }
        }
}

void alloc_clear_cache_marks(tcache *tc)
{
    for (unsigned k = 0; k < NKINDS; k++)
        for (unsigned c = 1; c < NCLASSES; c++) {
            span *s = tc->cur[k][c];
            if (s)
                memset(s->marks, 0, (s->npages * PAGE_SIZE) >> GRANULE_SHIFT);
        }
}

void alloc_finish_sweep(thread_rec *t)
{
    crit_enter(t);
    while (sweep_one_any()) {
        /* Let a pending stop through between spans. */
        crit_exit(t);
        crit_enter(t);
    }
    crit_exit(t);
}

