/*
 * central.c -- the central span lists, per home, kind and class (alloc.h):
 * filing spans, taking them for a thread cache, sweeping unswept ones on
 * the way, the batch rule of remote frees, and moving every list to
 * unswept at a collection.
 *
 * Lock order: central lock -> heap lock -> metadata lock, and one central
 * lock at a time.  Central locks are taken only inside critical sections
 * (threads.h) or by the world-lock holder.
 */
#include <pthread.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/central.h"
#include "alloc/sweep.h"
#include "base/check.h"
#include "mutator/phase.h"

/* One home's share of the spans of one kind and size class (alloc.h).  A
 * span on a central list is on the central of its home (span.home), and
 * it is filed and unfiled only under that central's lock; its home
 * changes only while no list holds it.  Each thread files the spans it
 * used in its own home's centrals and takes from them first, so two
 * threads allocating one class take different locks and touch different
 * lines (ARCHITECTURE.md, Homes).
 *
 * Tags.  prepare_sweep moves whole lists to unswept without touching a
 * span, so a span's tag (span.list) and filed_cycle together say where it
 * is: a span tagged FULL or PARTIAL is on that list if it was filed in the
 * current sweep cycle, else on the unswept list; one tagged OLD is on the
 * old list if it was filed since the last major collection (minor ones
 * leave the old list alone), else on the unswept list. */
typedef struct central {
    pthread_mutex_t lock;
    /* old: with generations, full spans whose every slot is old (swept
     * with every mark MARK_OLD).  Those marks cannot change until the next
     * major collection, so minor collections leave them unswept.  Nothing
     * else goes there: a span holding a young object or a survivor must be
     * swept after every collection, or it would keep survivor marks across
     * two minor collections (heap.h). */
    span partial, full, old, unswept;
    /* List lengths.  npartial and nunswept are also read without the lock,
     * as hints, by threads looking for spans of other homes. */
    _Atomic uint32_t npartial, nunswept;
    uint32_t nfull, nold;
} central;

/* In metadata memory, like free_runs (pageheap.c): static data is scanned
 * as roots at every collection -- this library's own, too -- and the list
 * heads, which hold only descriptor addresses, would be tens of KiB of it.
 * A home's centrals are set up when a thread first takes the home, so a
 * program with one thread pays for one home. */
typedef struct home_centrals {
    /* Spans on this home's unswept lists, all classes: sweep_one_any's
     * hint. */
    _Atomic size_t unswept;
    /* Bit c of used[k]: central [k][c] has had a span filed since it was
     * last found empty (prepare_sweep visits only those).  Set under the
     * central's lock, cleared with the world stopped. */
    _Atomic uint64_t used[NKINDS];
    central c[NKINDS][NCLASSES];
} home_centrals;

_Static_assert(NCLASSES <= 64, "home_centrals.used holds a bit per class");

static home_centrals *_Atomic homes[NHOMES];

static pthread_mutexattr_t central_lock_attr;

/* Sweep cycles (Tags, above): sweep_cycle counts alloc_prepare_sweep's
 * calls, major_cycle is its value at the last major one.  Written with the
 * world stopped, read inside critical sections. */
static uint64_t sweep_cycle = 1, major_cycle = 1;

static inline home_centrals *home_of(unsigned home)
{
    return atomic_load_explicit(&homes[home], memory_order_acquire);
}

static inline central *central_of(unsigned home, unsigned kind, unsigned cls)
{
    return &home_of(home)->c[kind][cls];
}

/* Add d to a list length that other threads peek at, its central locked. */
static inline void count_add(_Atomic uint32_t *n, int d)
{
    atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + (uint32_t)d,
                          memory_order_relaxed);
}

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
uint32_t hgc__batch[NCLASSES];

static void home_init(thread_rec *t);

void central_init(void)
{
    /* Central locks are held for a few list operations: spinning briefly
     * beats sleeping in the kernel when two threads claim spans at once. */
    pthread_mutexattr_init(&central_lock_attr);
    pthread_mutexattr_settype(&central_lock_attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    for (int c = 1; c < NCLASSES; c++) {
        uint32_t n = hgc__class_geom[c].nelems / BATCH_SHARE;
        hgc__batch[c] = n ? n : 1;
    }
    threads_on_register(home_init);
}

/* Set up h's central lists of kind k.  Only kinds that exist are set up:
 * the table has room for NKINDS, most of it never touched. */
static void kind_centrals_init(home_centrals *h, unsigned k)
{
    for (int c = 0; c < NCLASSES; c++) {
        central *ce = &h->c[k][c];
        pthread_mutex_init(&ce->lock, &central_lock_attr);
        span_list_init(&ce->partial);
        span_list_init(&ce->full);
        span_list_init(&ce->old);
        span_list_init(&ce->unswept);
    }
}

/* The registration hook (threads.h): a thread registers (world lock
 * held): set up the central lists of its home, if not yet done, before it
 * allocates.  Kinds are added under the same lock (central_add_kind). */
static void home_init(thread_rec *t)
{
    unsigned home = t->home;
    if (home_of(home))
        return;
    home_centrals *h = meta_alloc(sizeof *h);
    for (unsigned k = 0; k < kind_count(); k++)
        kind_centrals_init(h, k);
    atomic_store_explicit(&homes[home], h, memory_order_release);
}

void central_add_kind(unsigned k)
{
    for (unsigned i = 0; i < NHOMES; i++)
        if (home_of(i))
            kind_centrals_init(home_of(i), k);
}

/* Put s on ce's list `id` (PARTIAL, FULL or OLD), ce locked, s held
 * exclusively and of ce's home. */
static void central_push(central *ce, span *s, enum span_list_id id)
{
    hgc_assert(atomic_load_explicit(&s->owner, memory_order_relaxed) == NULL,
               "span %p filed on a central list while a thread cache holds it", (void *)s->base);
    hgc_assert(atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_SMALL &&
                   s->sizeclass != 0,
               "span %p (state %u) filed on a central list is not a small-object span",
               (void *)s->base, atomic_load_explicit(&s->state, memory_order_relaxed));
    span_set_list(s, id);
    s->filed_cycle = sweep_cycle;
    if (id == LIST_PARTIAL) {
        span_list_push(&ce->partial, s);
        count_add(&ce->npartial, 1);
    } else if (id == LIST_FULL) {
        span_list_push(&ce->full, s);
        ce->nfull++;
    } else {
        span_list_push(&ce->old, s);
        ce->nold++;
    }
    home_centrals *h = home_of(atomic_load_explicit(&s->home, memory_order_relaxed));
    uint64_t bit = (uint64_t)1 << s->sizeclass;
    if (!(atomic_load_explicit(&h->used[s->kind], memory_order_relaxed) & bit))
        atomic_fetch_or_explicit(&h->used[s->kind], bit, memory_order_relaxed);
}

/* File s, held exclusively, on its central's partial list if it has free
 * slots or a batch of frees waiting in xfree, else on the full list.  The
 * caller holds the central lock.  The xfree check is what keeps the batch
 * rule (above) whole: a free that completed the batch while s was held
 * found it on no list, so it is our job. */
static void central_file(central *ce, span *s, bool has_free)
{
    if (!has_free &&
        xfree_count(atomic_load_explicit(&s->xfree, memory_order_relaxed)) >= hgc__batch[s->sizeclass])
        has_free = true;
    central_push(ce, s, has_free ? LIST_PARTIAL : LIST_FULL);
}

/* File a span that sweeping found not empty: all-old ones (generations) on
 * the old list, unless a batch of frees waits. */
static void central_file_swept(central *ce, span *s, enum sweep_result r)
{
    if (r == SWEEP_OLD &&
        xfree_count(atomic_load_explicit(&s->xfree, memory_order_relaxed)) < hgc__batch[s->sizeclass])
        central_push(ce, s, LIST_OLD);
    else
        central_file(ce, s, r == SWEEP_PARTIAL);
}

void central_put(span *s, enum sweep_result r)
{
    central *ce = central_of(atomic_load_explicit(&s->home, memory_order_relaxed), s->kind,
                             s->sizeclass);
    pthread_mutex_lock(&ce->lock);
    central_file_swept(ce, s, r);
    pthread_mutex_unlock(&ce->lock);
}

/* Take the first span of ce's partial list, ce locked; NULL if empty. */
static span *partial_pop(central *ce)
{
    span *s = span_list_pop(&ce->partial);
    if (s) {
        count_add(&ce->npartial, -1);
        span_set_list(s, LIST_NONE);
    }
    return s;
}

/* Take the first span of ce's unswept list, ce (of home h) locked; NULL if
 * empty.  Of the full spans the newest comes first (prepare_sweep): the
 * likeliest to be in the cache still. */
/* Spans taken off an unswept list and not swept yet (alloc_wait_sweeps):
 * raised under the central's lock, lowered when the sweep is done. */
static _Atomic unsigned sweeps_in_flight;

static span *unswept_pop(central *ce, home_centrals *h)
{
    span *s = span_list_pop(&ce->unswept);
    if (s) {
        atomic_fetch_add_explicit(&sweeps_in_flight, 1, memory_order_relaxed);
        count_add(&ce->nunswept, -1);
        atomic_fetch_sub_explicit(&h->unswept, 1, memory_order_relaxed);
        span_set_list(s, LIST_NONE);
    }
    return s;
}

/* Sweep s, which unswept_pop gave. */
static enum sweep_result sweep_popped(span *s)
{
    enum sweep_result r = sweep_span(s);
    atomic_fetch_sub_explicit(&sweeps_in_flight, 1, memory_order_release);
    return r;
}

void alloc_wait_sweeps(void)
{
    while (atomic_load_explicit(&sweeps_in_flight, memory_order_acquire) != 0)
        os_yield();
}

/* Sweep one unswept span of any home and class; false when none is left.
 * Used when the page heap is empty: garbage in other classes may free
 * whole spans. */
static bool sweep_one_any(void)
{
    static _Atomic unsigned cursor;
    unsigned start = atomic_fetch_add_explicit(&cursor, 1, memory_order_relaxed);
    for (unsigned i = 0; i < NHOMES; i++) {
        home_centrals *h = home_of((start + i) % NHOMES);
        if (!h || atomic_load_explicit(&h->unswept, memory_order_relaxed) == 0)
            continue;
        unsigned cells = kind_count() * NCLASSES;
        for (unsigned j = 0; j < cells; j++) {
            unsigned cell = (start + j) % cells;
            central *ce = &h->c[cell / NCLASSES][cell % NCLASSES];
            if (atomic_load_explicit(&ce->nunswept, memory_order_relaxed) == 0)
                continue; /* a hint; the pop below re-checks under the lock */
            pthread_mutex_lock(&ce->lock);
            span *s = unswept_pop(ce, h);
            pthread_mutex_unlock(&ce->lock);
            if (!s)
                continue;
            enum sweep_result r = sweep_popped(s);
            if (r == SWEEP_EMPTY)
                pageheap_free(s); /* memory is what the caller is after */
            else
                central_put(s, r);
            return true;
        }
    }
    return false;
}

/* Pages for a new span, sweeping other classes before growing the heap. */
span *central_pages(size_t npages, enum span_state state)
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
 * slots carry poison).  Nor for kinds with a mark function: a slot that a
 * stale pointer reaches must be either the program's object or a free
 * slot (alloc.h), which the marker does not show to the function -- never
 * a bump slot, which may hold the span's old data. */
static bool bump_class(unsigned kind, unsigned cls)
{
#ifdef HGC_DEBUG
    (void)kind;
    (void)cls;
    return false;
#else
    return hgc__class_size[cls] <= BUMP_MAX && !hgc__alloc_watched && kind_scan(kind) != SCAN_PROC;
#endif
}

/* Make wholly free span s ready: a free list, or (*bump set) nothing, the
 * caller bumps through it. */
static void fresh_span(span *s, unsigned cls, bool *bump)
{
    *bump = bump_class(s->kind, cls);
    if (*bump) {
        s->free = NULL;
        s->nfree = s->nelems;
    } else {
        sweep_init_fresh(s);
    }
}

/* A span of class cls from ce's lists, taken off them: a partial one, else
 * unswept ones swept until one has room (full ones are filed back), NULL if
 * neither list has one.  Called with ce locked; returns with it unlocked. */
static span *central_take(central *ce, home_centrals *h, unsigned cls, bool *bump)
{
    span *s = partial_pop(ce);
    while (!s) {
        s = unswept_pop(ce, h);
        if (!s)
            break;
        pthread_mutex_unlock(&ce->lock);
        enum sweep_result r = sweep_popped(s);
        if (r == SWEEP_PARTIAL)
            return s;
        if (r == SWEEP_EMPTY) {
            /* Reuse it in place: cheaper than the page heap round trip. */
            fresh_span(s, cls, bump);
            return s;
        }
        pthread_mutex_lock(&ce->lock);
        central_file_swept(ce, s, r);
        s = partial_pop(ce); /* it, if a batch of frees waits */
    }
    pthread_mutex_unlock(&ce->lock);
    return s;
}

/* A span of another home (the spans of threads that left, or garbage that
 * other threads made), before the heap grows.  Homes whose hints say they
 * have nothing are passed over without their locks. */
static span *central_steal(unsigned kind, unsigned cls, unsigned home, bool *bump)
{
    for (unsigned i = 1; i < NHOMES; i++) {
        home_centrals *h = home_of((home + i) % NHOMES);
        if (!h)
            continue;
        central *ce = &h->c[kind][cls];
        if (atomic_load_explicit(&ce->npartial, memory_order_relaxed) == 0 &&
            atomic_load_explicit(&ce->nunswept, memory_order_relaxed) == 0)
            continue;
        pthread_mutex_lock(&ce->lock);
        span *s = central_take(ce, h, cls, bump);
        if (s)
            return s;
    }
    return NULL;
}

/* A span of class cls with free slots in s->free (or, if that is empty, a
 * batch in s->xfree, or if *bump is set, wholly free), taken off every
 * list: from the caller's home, else another's, else fresh pages.  old, if
 * not NULL, is the caller's exhausted span of that class, filed under the
 * same lock hold. */
span *central_acquire(unsigned kind, unsigned cls, unsigned home, span *old, bool *bump)
{
    *bump = false;
    home_centrals *h = home_of(home);
    central *ce = &h->c[kind][cls];
    pthread_mutex_lock(&ce->lock);
    if (old)
        central_file(ce, old, false);
    span *s = central_take(ce, h, cls, bump);
    if (!s)
        s = central_steal(kind, cls, home, bump);
    if (s)
        return s;

    s = central_pages(hgc__class_pages[cls], SPAN_SMALL);
    if (!s)
        return NULL;
    pageheap_set_small(s, kind, cls);
    fresh_span(s, cls, bump);
    return s;
}

/* The central of s's home, locked.  Which central s is filed on can change
 * only while no list holds it (its home changes then), so if s is on a
 * central list at all, it is on the one whose home reads the same with
 * that central's lock held. */
static central *lock_span_central(span *s)
{
    for (;;) {
        unsigned home = atomic_load_explicit(&s->home, memory_order_relaxed);
        central *ce = central_of(home, s->kind, s->sizeclass);
        pthread_mutex_lock(&ce->lock);
        if (atomic_load_explicit(&s->home, memory_order_relaxed) == home)
            return ce;
        pthread_mutex_unlock(&ce->lock);
    }
}

/* Whether s, tagged with a central list, is on that list rather than the
 * unswept one (Tags, above); its central locked. */
static bool filed_this_cycle(const span *s)
{
    switch (span_list_of(s)) {
    case LIST_PARTIAL:
    case LIST_FULL:
        return s->filed_cycle == sweep_cycle;
    case LIST_OLD:
        return s->filed_cycle >= major_cycle;
    default:
        return false;
    }
}

/* Whether s is on its central's full or old list, that central locked. */
static bool on_full_list(const span *s)
{
    unsigned l = span_list_of(s);
    return (l == LIST_FULL || l == LIST_OLD) && filed_this_cycle(s);
}

/* The free that completes a batch in s's xfree (see "Batches" above): the
 * slot p is already a free slot, only its link is set here.  If s sits on
 * the full list it moves to the partial list.  Where s is is read before
 * the push and under the central lock: until our object is in xfree it
 * keeps the span alive (it was marked, or allocated after the sweep), so
 * s is still of this central; once it is in, a sweeper could free the
 * span -- but not one on a list, while we hold the lock, and one on no
 * list we leave alone. */
NOINLINE void central_free_completing_batch(thread_rec *t, span *s, void *p)
{
    crit_enter(t);
    central *ce = lock_span_central(s);
    bool move = on_full_list(s);
    uintptr_t old = atomic_load_explicit(&s->xfree, memory_order_relaxed);
    do
        slot_set_word(p, 0, (uintptr_t)link_encode(xfree_top(old)));
    while (!atomic_compare_exchange_weak_explicit(&s->xfree, &old,
                                                  (uintptr_t)p | ((old & ~(XFREE_ONE - 1)) + XFREE_ONE),
                                                  memory_order_release, memory_order_relaxed));
    if (move) {
        if (span_list_of(s) == LIST_FULL)
            ce->nfull--;
        else
            ce->nold--;
        span_list_remove(s);
        central_push(ce, s, LIST_PARTIAL);
    }
    pthread_mutex_unlock(&ce->lock);
    crit_exit(t);
}

/* Every list moves to unswept whole (Tags, above); the spans keep their
 * stale free lists, which sweeping rebuilds from the marks. */
void alloc_prepare_sweep(bool major)
{
    hgc_assert(phase_get() == GC_MARK_TERMINATION, "sweep set up in phase %s",
               phase_name(phase_get()));
    sweep_cycle++;
    if (major)
        major_cycle = sweep_cycle;
    for (unsigned hi = 0; hi < NHOMES; hi++) {
        home_centrals *h = home_of(hi);
        if (!h)
            continue;
        size_t n = 0;
        for (unsigned k = 0; k < kind_count(); k++) {
            uint64_t used = atomic_load_explicit(&h->used[k], memory_order_relaxed);
            for (uint64_t bits = used; bits; bits &= bits - 1) {
                central *ce = &h->c[k][__builtin_ctzll(bits)];
                size_t m = atomic_load_explicit(&ce->npartial, memory_order_relaxed) + ce->nfull +
                           atomic_load_explicit(&ce->nunswept, memory_order_relaxed);
                /* Partial spans first, then the full ones, newest first,
                 * then (major) the old ones, then what the last cycle left. */
                span_list_splice(&ce->partial, &ce->full);
                if (major) {
                    m += ce->nold;
                    ce->nold = 0;
                    span_list_splice(&ce->partial, &ce->old);
                }
                span_list_splice(&ce->partial, &ce->unswept);
                span_list_splice(&ce->unswept, &ce->partial);
                atomic_store_explicit(&ce->npartial, 0, memory_order_relaxed);
                ce->nfull = 0;
                atomic_store_explicit(&ce->nunswept, (uint32_t)m, memory_order_relaxed);
                if (m == 0 && ce->nold == 0)
                    used &= ~((uint64_t)1 << __builtin_ctzll(bits));
                n += m;
            }
            atomic_store_explicit(&h->used[k], used, memory_order_relaxed);
        }
        atomic_store_explicit(&h->unswept, n, memory_order_relaxed);
    }
}

/* One list of a central, for alloc_verify_lists: every span on it has the
 * central's home, kind and class, is in use, and is where its tag says
 * (Tags, above); returns how many there are. */
static uint32_t verify_list(const central *ce, const span *head, unsigned home, unsigned kind,
                            unsigned cls, enum span_list_id want, const char *name)
{
    uint32_t n = 0;
    for (const span *s = head->next; s != head; s = s->next, n++) {
        unsigned tag = span_list_of(s);
        bool tagged = tag == LIST_PARTIAL || tag == LIST_FULL || tag == LIST_OLD;
        /* want LIST_NONE: the unswept list, where a span keeps the tag of
         * the list it was filed on in an earlier cycle. */
        bool where = want == LIST_NONE ? tagged && !filed_this_cycle(s)
                                       : tag == want && filed_this_cycle(s);
        bool ok = atomic_load_explicit(&s->home, memory_order_relaxed) == home &&
                  s->kind == kind && s->sizeclass == cls &&
                  atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_SMALL && where;
        if (!ok)
            hgc__fatal("central lists: span %p (home %u, kind %u, class %u, tag %u, filed in "
                       "cycle %llu of %llu, last major %llu) on the %s list of home %u, kind %u, "
                       "class %u (%p)",
                       (void *)s->base, atomic_load_explicit(&s->home, memory_order_relaxed),
                       s->kind, s->sizeclass, tag, (unsigned long long)s->filed_cycle,
                       (unsigned long long)sweep_cycle, (unsigned long long)major_cycle, name,
                       home, kind, cls, (const void *)ce);
    }
    return n;
}

void alloc_verify_lists(void)
{
    for (unsigned hi = 0; hi < NHOMES; hi++) {
        home_centrals *h = home_of(hi);
        if (!h)
            continue;
        size_t unswept = 0;
        for (unsigned k = 0; k < kind_count(); k++)
            for (unsigned c = 1; c < NCLASSES; c++) {
                central *ce = &h->c[k][c];
                uint32_t np = verify_list(ce, &ce->partial, hi, k, c, LIST_PARTIAL, "partial");
                uint32_t nf = verify_list(ce, &ce->full, hi, k, c, LIST_FULL, "full");
                uint32_t no = verify_list(ce, &ce->old, hi, k, c, LIST_OLD, "old");
                uint32_t nu = verify_list(ce, &ce->unswept, hi, k, c, LIST_NONE, "unswept");
                bool used = atomic_load_explicit(&h->used[k], memory_order_relaxed) >> c & 1;
                if (np != atomic_load_explicit(&ce->npartial, memory_order_relaxed) ||
                    nf != ce->nfull || no != ce->nold ||
                    nu != atomic_load_explicit(&ce->nunswept, memory_order_relaxed) ||
                    (np + nf + no + nu != 0 && !used))
                    hgc__fatal("central lists of home %u, kind %u, class %u: %u partial, %u full, "
                               "%u old, %u unswept spans, counted as %u, %u, %u, %u (%s in use)",
                               hi, k, c, np, nf, no, nu,
                               atomic_load_explicit(&ce->npartial, memory_order_relaxed), ce->nfull,
                               ce->nold, atomic_load_explicit(&ce->nunswept, memory_order_relaxed),
                               used ? "marked" : "not marked");
                unswept += nu;
            }
        if (unswept != atomic_load_explicit(&h->unswept, memory_order_relaxed))
            hgc__fatal("central lists of home %u: %zu unswept spans, counted as %zu", hi, unswept,
                       atomic_load_explicit(&h->unswept, memory_order_relaxed));
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
