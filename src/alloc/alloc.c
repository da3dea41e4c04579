/*
 * alloc.c -- thread caches' slow paths, large objects, explicit free.
 * The central span lists are central.c's.
 *
 * Lock order: the large-object lock is taken alone or before the heap
 * lock; central locks (central.c) before the heap lock.  All of them are
 * taken only inside critical sections (threads.h) or by the world-lock
 * holder.
 *
 * A new object is reachable only from its allocating thread's registers and
 * stack until the caller stores it.  So every path leaves its critical
 * section (where the thread may stop for a collection) with the object's
 * address in a local, never only behind its span descriptor, which is
 * metadata and not a root.
 */
#include <pthread.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/central.h"
#include "base/options.h"
#include "heap/marks.h"
#include "mutator/stw.h"
#include "alloc/sweep.h"

uintptr_t hgc__link_key, hgc__tag_key;

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

uint64_t hgc__gc_stress;
bool hgc__alloc_watched;

static void no_slow_path(thread_rec *t) { (void)t; }

static void no_claim(thread_rec *t, size_t bytes) { (void)t, (void)bytes; }

static alloc_hooks hooks = {no_slow_path, no_claim};

void alloc_set_hooks(const alloc_hooks *h) { hooks = *h; }

void alloc_init(void)
{
    hgc__gc_stress = (uint64_t)option_get(OPT_GC_STRESS);
    tools_init();
    hgc__alloc_watched = hgc__gc_stress != 0 || hgc__tools;
    hgc__link_key = (uintptr_t)os_random_u64();
    hgc__tag_key = (uintptr_t)os_random_u64();
    span_list_init(&large_spans);
    central_init();
    threads_on_release(alloc_release_cache);
}

/* Where both allocation slow paths start, outside every critical section:
 * a safe point (stop if the world is stopping), then a collection if
 * stress mode or pacing calls for one. */
static void slow_path_start(thread_rec *t)
{
    stw_poll(t);
    hooks.slow_path(t);
}

void *alloc_small_slow(thread_rec *t, unsigned kind, unsigned cls)
{
    slow_path_start(t);

    crit_enter(t);
    void *list = t->tc.free[kind][cls];
    span *s = t->tc.cur[kind][cls], *old = NULL;
    if (unlikely(hgc__alloc_watched) && !list && s) {
        /* Watched, the cache's list is kept in the span, see below. */
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
        hooks.claimed(t, (size_t)s->nfree * s->elem_size);
        count_allocated(t, (size_t)s->nfree * s->elem_size);
        list = s->free;
        if (!list && !bump) { /* a full span that a batch of frees made partial again */
            uintptr_t x = atomic_exchange_explicit(&s->xfree, 0, memory_order_acquire);
            list = xfree_top(x);
            count_allocated(t, (size_t)xfree_count(x) * s->elem_size);
        }
        hgc_assert(atomic_load_explicit(&s->owner, memory_order_relaxed) == NULL,
                   "span %p taken for a cache while another cache holds it", (void *)s->base);
        if (hgc_check_level >= 2 && !bump)
            sweep_check_free_list(s, s->free, s->nfree);
        s->free = NULL;
        s->nfree = 0;
        span_set_list(s, LIST_CACHED);
        atomic_store_explicit(&s->home, (uint8_t)t->home, memory_order_relaxed);
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
    t->tc.free[kind][cls] = link_decode((void *)slot_word(p, 0));
    slot_hand_out(p, hgc__class_size[cls]);
    if (unlikely(hgc__alloc_watched)) {
        /* Out of the fast path's reach, so every allocation comes here.
         * A cached span's s->free is otherwise unused. */
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
    slow_path_start(t);

    crit_enter(t);
    span *s = central_pages(npages, SPAN_LARGE);
    if (!s) {
        crit_exit(t);
        return NULL;
    }
    size_t bytes = npages * PAGE_SIZE;
    tools_unpoison((void *)s->base, bytes); /* its pages may hold freed slots */
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
    hooks.claimed(t, bytes);
    return p;
}

void alloc_free_to_cache(thread_rec *t, span *s, void *p, void **head)
{
    free_to_cache(t, s, p, head);
}

void alloc_free_small(thread_rec *t, span *s, void *p)
{
    if (atomic_load_explicit(&s->owner, memory_order_relaxed) == &t->tc) {
        /* Owner (free_fast takes most of these; watched, the cache's
         * list is kept in the span, see alloc_small_slow). */
        void **head = unlikely(hgc__alloc_watched) ? &s->free : &t->tc.free[s->kind][s->sizeclass];
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
    uint32_t b = hgc__batch[s->sizeclass];
    uintptr_t old = atomic_load_explicit(&s->xfree, memory_order_relaxed);
    slot_make_free(p, size, xfree_top(old), true);
    for (;;) {
        uintptr_t new = (uintptr_t)p | ((old & ~(XFREE_ONE - 1)) + XFREE_ONE);
        if (unlikely(xfree_count(new) == b)) {
            central_free_completing_batch(t, s, p);
            return;
        }
        if (atomic_compare_exchange_weak_explicit(&s->xfree, &old, new, memory_order_release,
                                                  memory_order_relaxed))
            return;
        slot_set_word(p, 0, (uintptr_t)link_encode(xfree_top(old)));
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
    /* Free pages carry no marks; a concurrent mark may store here too. */
    __atomic_store_n(span_mark_of(s, s->base), 0, __ATOMIC_RELAXED);
    tools_poison((void *)s->base, s->elem_size);
    pageheap_free(s);
    crit_exit(t);
}

int alloc_kind_create(unsigned scan, kind_mark_fn mark, void *env)
{
    int k = kind_add(scan, mark, env);
    if (k >= 0) {
        central_add_kind((unsigned)k);
        kind_publish((unsigned)k);
    }
    return k;
}

void alloc_release_cache(thread_rec *t)
{
    crit_enter(t);
    tools_quiet_begin(); /* the lists' links are in free slots */
    for (unsigned k = 0; k < kind_count(); k++)
        for (unsigned c = 1; c < NCLASSES; c++) {
            span *s = t->tc.cur[k][c];
            if (!s)
                continue;
            void *list = t->tc.free[k][c];
            if (!list) /* watched, the list is kept here (never both) */
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
            for (void *x = list; x; x = link_decode((void *)slot_word(x, 0)))
                n++;
            s->free = list;
            s->nfree = n;
            atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
            central_put(s, n ? SWEEP_PARTIAL : SWEEP_FULL);
            t->tc.cur[k][c] = NULL;
            t->tc.free[k][c] = NULL;
        }
    tools_quiet_end();
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
        tools_object_freed((void *)s->base, s->elem_size);
        tools_poison((void *)s->base, s->elem_size);
        span_list_remove(s);
        pageheap_free(s);
    }
}

void alloc_clear_cache_dead_marks(tcache *tc, uint8_t dead)
{
    const uint64_t dead8 = dead * 0x0101010101010101ull;
    for (unsigned k = 0; k < kind_count(); k++)
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
    for (unsigned k = 0; k < kind_count(); k++)
        for (unsigned c = 1; c < NCLASSES; c++) {
            span *s = tc->cur[k][c];
            if (s)
                memset(s->marks, 0, (s->npages * PAGE_SIZE) >> GRANULE_SHIFT);
        }
}
