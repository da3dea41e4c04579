/*
 * finalize.c -- finalizers, weak links and uncollectable objects (see
 * finalize.h for the rules and the order of a cycle).
 */
#include <pthread.h>
#include <string.h>

#include "hgc.h"
#include "base/check.h"
#include "base/addrmap.h"
#include "base/vec.h"
#include "cycle/finalize.h"
#include "heap/heap.h"
#include "mark/mark.h"
#include "mutator/phase.h"

/* Entries in all tables: while 0, collections and lookups skip them. */
static _Atomic size_t fin_registered;
_Atomic size_t hgc__fin_ready;
volatile int *hgc__fin_on_demand;

/* ------------------------------------------------------------ tables */

/* Every insertion and removal in the tables goes through these two, so
 * that fin_registered counts the entries of all tables. */
static size_t table_insert(addrmap *m, uintptr_t key, bool *existed)
{
    size_t i = addrmap_insert(m, key, existed);
    if (i != ADDRMAP_NONE && !*existed)
        atomic_fetch_add_explicit(&fin_registered, 1, memory_order_relaxed);
    return i;
}

static void table_remove_at(addrmap *m, size_t i)
{
    addrmap_remove_at(m, i);
    atomic_fetch_sub_explicit(&fin_registered, 1, memory_order_relaxed);
}

static pthread_mutex_t tables_lock = PTHREAD_MUTEX_INITIALIZER;

/* Object -> finalizer. */
enum { FIN_FN, FIN_DATA, FIN_MODE, FIN_NVALS };
static addrmap finalizers = {.nvals = FIN_NVALS};
/* Link address -> ~target (hidden: never a heap address) and kind. */
enum { WEAK_TARGET, WEAK_LONG, WEAK_NVALS };
static addrmap weak_links = {.nvals = WEAK_NVALS};
/* Uncollectable objects (keys only: the key array is scanned as a root). */
static addrmap uncollectable = {.nvals = 0};

/* Finalizers ready to run: (object, fn, data) triples, entries
 * [ready_head, ready.n), scanned as a root; those below ready_head are
 * zero (run already). */
typedef struct ready_entry {
    void *obj;
    hgc_finalizer_fn fn;
    void *data;
} ready_entry;
static vec ready = VEC_INIT(ready_entry);
static size_t ready_head;

static _Atomic bool on_demand;
static _Atomic(void (*)(void)) notifier;
static _Atomic bool notify_pending; /* finalizers were queued since the last notice */

static thread_rec *enter(void)
{
    thread_rec *t = threads_register();
    crit_enter(t);
    pthread_mutex_lock(&tables_lock);
    return t;
}

static void leave(thread_rec *t)
{
    pthread_mutex_unlock(&tables_lock);
    crit_exit(t);
}

/* The object start p names, or 0 when p is not the start of an object. */
static uintptr_t object_start(const void *p)
{
    uintptr_t obj;
    return p && heap_object_of((uintptr_t)p, &obj) && obj == (uintptr_t)p ? obj : 0;
}

/* ---------------------------------------------------- the cycle's part */

static void ready_push(void *obj, hgc_finalizer_fn fn, void *data)
{
    if (ready.n == ready.cap) {
        /* Full: the waiting entries slide down over the run ones, into a
         * grown queue when they fill half of it or more, so that a slide
         * never moves more entries than it makes room for. */
        size_t waiting = ready.n - ready_head;
        if (2 * waiting >= ready.cap && !vec_reserve(&ready, ready.cap + 1))
            hgc__fatal("out of memory for the finalization queue (%zu entries)", ready.cap + 1);
        ready_entry *q = ready.data;
        memmove(q, q + ready_head, waiting * sizeof *q);
        vec_truncate(&ready, waiting);
        ready_head = 0;
    }
    ready_entry *e = vec_push(&ready); /* there is room: no failure */
    *e = (ready_entry){obj, fn, data};
}

/* A link lies in an object that is unmarked (and so will be freed). */
static bool link_holder_dead(uintptr_t link)
{
    uintptr_t obj;
    span *s = heap_object_of(link, &obj);
    return s && !mark_byte_live(*span_mark_of(s, obj));
}

static void clear_weak_links(bool long_links)
{
    for (size_t i = 0; i < weak_links.cap; i++) {
        if (!addrmap_live_at(&weak_links, i))
            continue;
        uintptr_t link = weak_links.keys[i];
        uintptr_t *v = addrmap_vals(&weak_links, i);
        if (long_links && link_holder_dead(link)) {
            table_remove_at(&weak_links, i); /* its memory is about to go */
            continue;
        }
        if ((v[WEAK_LONG] != 0) != long_links || mark_is_marked(~v[WEAK_TARGET]))
            continue;
        *(void **)link = NULL;
        table_remove_at(&weak_links, i);
    }
}

void finalize_after_mark(void)
{
    hgc_assert(phase_get() == GC_MARK_TERMINATION, "finalization in phase %s",
               phase_name(phase_get()));
    if (atomic_load_explicit(&fin_registered, memory_order_relaxed) == 0)
        return;
    pthread_mutex_lock(&tables_lock);
    clear_weak_links(false);

    /* What unreachable finalizable objects refer to survives this cycle:
     * those objects are finalized first. */
    bool any = false;
    for (size_t i = 0; i < finalizers.cap; i++) {
        if (!addrmap_live_at(&finalizers, i) || mark_is_marked(finalizers.keys[i]))
            continue;
        int mode = (int)addrmap_vals(&finalizers, i)[FIN_MODE];
        if (mode != HGC_FINALIZE_UNORDERED) {
            mark_referents(finalizers.keys[i], mode == HGC_FINALIZE_IGNORE_SELF);
            any = true;
        }
    }
    if (any)
        mark_drain();

    size_t queued = 0;
    for (size_t i = 0; i < finalizers.cap; i++) {
        if (!addrmap_live_at(&finalizers, i) || mark_is_marked(finalizers.keys[i]))
            continue;
        uintptr_t obj = finalizers.keys[i], *v = addrmap_vals(&finalizers, i);
        ready_push((void *)obj, (hgc_finalizer_fn)v[FIN_FN], (void *)v[FIN_DATA]);
        table_remove_at(&finalizers, i);
        mark_object(obj); /* resurrected until its finalizer has run */
        queued++;
    }
    if (queued) {
        mark_drain();
        atomic_fetch_add_explicit(&hgc__fin_ready, queued, memory_order_relaxed);
        atomic_store_explicit(&notify_pending, true, memory_order_relaxed);
    }
    clear_weak_links(true);
    pthread_mutex_unlock(&tables_lock);
}

void finalize_each_root(void (*fn)(const root_desc *d, void *arg), void *arg)
{
    pthread_mutex_lock(&tables_lock);
    for (size_t i = 0; i < finalizers.cap; i++) {
        if (!addrmap_live_at(&finalizers, i))
            continue;
        uintptr_t *data = &addrmap_vals(&finalizers, i)[FIN_DATA];
        root_desc d = {.kind = ROOT_FINALIZER, .lo = (uintptr_t)data,
                       .hi = (uintptr_t)(data + 1)};
        fn(&d, arg);
    }
    if (ready.n > ready_head) {
        const ready_entry *q = ready.data;
        root_desc d = {.kind = ROOT_FINALIZER, .lo = (uintptr_t)(q + ready_head),
                       .hi = (uintptr_t)(q + ready.n)};
        fn(&d, arg);
    }
    if (uncollectable.live) {
        root_desc d = {.kind = ROOT_UNCOLLECTABLE, .lo = (uintptr_t)uncollectable.keys,
                       .hi = (uintptr_t)(uncollectable.keys + uncollectable.cap)};
        fn(&d, arg);
    }
    pthread_mutex_unlock(&tables_lock);
}

/* ------------------------------------------------------ mutator side */

void finalize_forget(void *obj)
{
    thread_rec *t = enter();
    size_t i = addrmap_find(&finalizers, (uintptr_t)obj);
    if (i != ADDRMAP_NONE)
        table_remove_at(&finalizers, i);
    i = addrmap_find(&uncollectable, (uintptr_t)obj);
    if (i != ADDRMAP_NONE)
        table_remove_at(&uncollectable, i);
    leave(t);
}

bool finalize_is_uncollectable(void *obj)
{
    if (atomic_load_explicit(&fin_registered, memory_order_relaxed) == 0)
        return false;
    thread_rec *t = enter();
    bool r = addrmap_find(&uncollectable, (uintptr_t)obj) != ADDRMAP_NONE;
    leave(t);
    return r;
}

/* Object o (a heap object start) goes into a table hgc_free must look at. */
static void note_registered(uintptr_t o)
{
    uintptr_t start;
    span *s = heap_object_of(o, &start);
    if (s)
        atomic_store_explicit(&s->registered, true, memory_order_relaxed);
}

bool finalize_add_uncollectable(void *obj)
{
    bool existed;
    thread_rec *t = enter();
    size_t i = table_insert(&uncollectable, (uintptr_t)obj, &existed);
    if (i != ADDRMAP_NONE)
        note_registered((uintptr_t)obj);
    leave(t);
    return i != ADDRMAP_NONE;
}

HGC_API int hgc_register_finalizer(void *obj, hgc_finalizer_fn fn, void *data, int mode,
                                   hgc_finalizer_fn *old_fn, void **old_data)
{
    if (old_fn)
        *old_fn = NULL;
    if (old_data)
        *old_data = NULL;
    uintptr_t o = object_start(obj);
    if (!o)
        return HGC_NOT_OBJECT;
    if (mode != HGC_FINALIZE_ORDERED && mode != HGC_FINALIZE_IGNORE_SELF &&
        mode != HGC_FINALIZE_UNORDERED)
        hgc__fatal("hgc_register_finalizer(%p): unknown mode %d", obj, mode);
    thread_rec *t = enter();
    size_t i = addrmap_find(&finalizers, o);
    if (i != ADDRMAP_NONE) {
        uintptr_t *v = addrmap_vals(&finalizers, i);
        if (old_fn)
            *old_fn = (hgc_finalizer_fn)v[FIN_FN];
        if (old_data)
            *old_data = (void *)v[FIN_DATA];
        if (!fn)
            table_remove_at(&finalizers, i);
    }
    int rc = HGC_OK;
    if (fn) {
        bool existed;
        i = table_insert(&finalizers, o, &existed);
        if (i == ADDRMAP_NONE) {
            rc = HGC_NO_MEMORY;
        } else {
            note_registered(o);
            uintptr_t *v = addrmap_vals(&finalizers, i);
            v[FIN_FN] = (uintptr_t)fn;
            v[FIN_DATA] = (uintptr_t)data;
            v[FIN_MODE] = (uintptr_t)mode;
        }
    }
    leave(t);
    return rc;
}

static int weak_register(void **link, const void *obj, bool long_link)
{
    if (!link)
        hgc__fatal("hgc_weak_register(NULL): the link is NULL");
    if (((uintptr_t)link & (sizeof(void *) - 1)) != 0)
        hgc__fatal("hgc_weak_register(%p): the link is not aligned to a pointer", (void *)link);
    uintptr_t o = object_start(obj);
    if (!o)
        return HGC_NOT_OBJECT;
    bool existed;
    thread_rec *t = enter();
    size_t i = table_insert(&weak_links, (uintptr_t)link, &existed);
    if (i != ADDRMAP_NONE && !existed) {
        addrmap_vals(&weak_links, i)[WEAK_TARGET] = ~o;
        addrmap_vals(&weak_links, i)[WEAK_LONG] = long_link;
    }
    leave(t);
    return i == ADDRMAP_NONE ? HGC_NO_MEMORY : existed ? HGC_DUPLICATE : HGC_OK;
}

HGC_API int hgc_weak_register(void **link, const void *obj)
{
    return weak_register(link, obj, false);
}

HGC_API int hgc_weak_register_long(void **link, const void *obj)
{
    return weak_register(link, obj, true);
}

HGC_API int hgc_weak_unregister(void **link)
{
    if (!link) /* never registered (weak_register refuses it) */
        return HGC_NOT_FOUND;
    thread_rec *t = enter();
    size_t i = addrmap_find(&weak_links, (uintptr_t)link);
    if (i != ADDRMAP_NONE)
        table_remove_at(&weak_links, i);
    leave(t);
    return i == ADDRMAP_NONE ? HGC_NOT_FOUND : HGC_OK;
}

HGC_API int hgc_weak_move(void **link, void **new_link)
{
    if (!new_link)
        hgc__fatal("hgc_weak_move(%p, NULL): the new link is NULL", (void *)link);
    if (((uintptr_t)new_link & (sizeof(void *) - 1)) != 0)
        hgc__fatal("hgc_weak_move(%p): the link is not aligned to a pointer", (void *)new_link);
    if (!link)
        return HGC_NOT_FOUND;
    thread_rec *t = enter();
    int rc = HGC_OK;
    size_t i = addrmap_find(&weak_links, (uintptr_t)link);
    if (i == ADDRMAP_NONE) {
        rc = HGC_NOT_FOUND;
    } else if (link != new_link) {
        uintptr_t v[WEAK_NVALS];
        memcpy(v, addrmap_vals(&weak_links, i), sizeof v);
        bool existed;
        size_t j = table_insert(&weak_links, (uintptr_t)new_link, &existed);
        if (j == ADDRMAP_NONE) {
            rc = HGC_NO_MEMORY;
        } else if (existed) {
            rc = HGC_DUPLICATE;
        } else {
            memcpy(addrmap_vals(&weak_links, j), v, sizeof v);
            table_remove_at(&weak_links, addrmap_find(&weak_links, (uintptr_t)link));
        }
    }
    leave(t);
    return rc;
}

HGC_API size_t hgc_finalizers_pending(void)
{
    return atomic_load_explicit(&hgc__fin_ready, memory_order_relaxed);
}

HGC_API size_t hgc_run_finalizers(void)
{
    size_t n = 0;
    for (;;) {
        thread_rec *t = enter();
        if (ready_head == ready.n) {
            leave(t);
            return n;
        }
        ready_entry e = VEC_AT(&ready, ready_entry, ready_head);
        VEC_AT(&ready, ready_entry, ready_head++) = (ready_entry){0}; /* no longer a root */
        if (ready_head == ready.n) {
            ready_head = 0;
            vec_truncate(&ready, 0);
        }
        atomic_fetch_sub_explicit(&hgc__fin_ready, 1, memory_order_relaxed);
        leave(t);
        /* e is in this frame now: a root until the call returns. */
        e.fn(e.obj, e.data);
        n++;
        __asm__ volatile("" : : "r"(&e) : "memory");
    }
}

HGC_API void hgc_set_finalize_on_demand(int on, void (*notify)(void))
{
    atomic_store(&notifier, notify);
    atomic_store(&on_demand, on != 0);
}

void finalize_attend(thread_rec *t)
{
    if (t->in_finalizers)
        return; /* a finalizer allocating: its caller runs the rest */
    t->in_finalizers = true;
    if (!atomic_load_explicit(&on_demand, memory_order_relaxed) &&
        !(hgc__fin_on_demand && *hgc__fin_on_demand)) {
        hgc_run_finalizers();
    } else if (atomic_exchange_explicit(&notify_pending, false, memory_order_relaxed)) {
        void (*notify)(void) = atomic_load(&notifier);
        if (notify)
            notify();
    }
    t->in_finalizers = false;
}
