/*
 * api.c -- the public functions of hgc.h: initialization, the inline
 * allocation fast path, explicit free, queries and statistics.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hgc.h"
#include "alloc/alloc.h"
#include "alloc/alloc_fast.h"
#include "cycle/collector.h"
#include "cycle/finalize.h"
#include "heap/layout.h"
#include "base/options.h"
#include "roots/roots.h"
#include "mutator/stw.h"
#include "base/util.h"
#include "base/trace.h"
#include "mark/mark.h"
#include "mark/verify.h"

#define API HGC_API

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static _Atomic(hgc_oom_fn) oom_handler;

static void print_stats(void)
{
    hgc_stats s;
    hgc_get_stats(&s);
    fprintf(stderr,
            "hgc: stats: collections %llu (%llu minor), pause total %.3f ms, pause max %.3f ms\n"
            "hgc: stats: heap %zu bytes, mapped %zu bytes, live %zu bytes after the last collection\n"
            "hgc: stats: allocated %zu bytes, freed explicitly %zu bytes, threads %zu\n",
            (unsigned long long)s.collections, (unsigned long long)s.minor_collections,
            s.pause_total_ns / 1e6, s.pause_max_ns / 1e6,
            s.heap_bytes, s.mapped_bytes, s.live_bytes, s.allocated_bytes, s.freed_bytes,
            s.threads);
    hgc_concurrent_stats cs;
    hgc_get_concurrent_stats(&cs);
    if (cs.marks)
        fprintf(stderr,
                "hgc: stats: concurrent marks %llu (%.3f ms), assists %llu (%.3f ms), waits past "
                "the goal %llu (%.3f ms)\n",
                (unsigned long long)cs.marks, cs.mark_ns / 1e6, (unsigned long long)cs.assists,
                cs.assist_ns / 1e6, (unsigned long long)cs.waits, cs.wait_ns / 1e6);
    uint64_t cycles, objects;
    verify_totals(&cycles, &objects);
    if (cycles)
        fprintf(stderr, "hgc: stats: verified %llu collections, %llu objects traced, none unmarked\n",
                (unsigned long long)cycles, (unsigned long long)objects);
}

static void init_all(void)
{
    options_init();
    trace_init();
    sizeclass_init();
    pageheap_init();
    alloc_init();
    collector_init();
    stw_init((int)option_get(OPT_SIG_SUSPEND), (unsigned)option_get(OPT_STOP_TIMEOUT),
             (unsigned)option_get(OPT_TEST_STOP_DELAY),
             option_get(OPT_TEST_STOP_NESTED) != 0, option_get(OPT_TEST_LOSE_SIGNAL) != 0);
    threads_init();
    if (option_get(OPT_STATS))
        atexit(print_stats);
}

API void hgc_init(void)
{
    pthread_once(&init_once, init_all);
    threads_register();
}

/* The library registers the thread that loads it (normally the main
 * thread) so that its stack is a root even before it allocates. */
__attribute__((constructor)) static void hgc_load(void)
{
    hgc_init();
}

static void *out_of_memory(size_t n)
{
    hgc__warn("out of memory: an allocation of %zu bytes failed", n);
    hgc_oom_fn fn = atomic_load(&oom_handler);
    return fn ? fn(n) : NULL;
}

NOINLINE void *hgc__alloc_slow(size_t n, unsigned kind)
{
    thread_rec *t = hgc__self;
    if (!t) {
        hgc_init();
        t = hgc__self;
    }
    tools_quiet_begin();
    void *p = n <= SMALL_MAX ? alloc_small_slow(t, kind, size_to_class(n))
                             : alloc_large(t, n, kind);
    if (unlikely(!p) && n <= ((size_t)1 << ADDRESS_BITS)) {
        /* Garbage may hold the memory (or a heap limit was reached):
         * collect once before giving up. */
        collector_collect(GC_REASON_OOM);
        p = n <= SMALL_MAX ? alloc_small_slow(t, kind, size_to_class(n))
                           : alloc_large(t, n, kind);
    }
    tools_quiet_end();
    if (unlikely(hgc__tools) && p) {
        /* A small typed object's layout is in its slot's last word: the
         * block is the whole slot. */
        size_t slot = pagemap_lookup((uintptr_t)p)->elem_size;
        crit_enter(t);
        tools_block_made(p, kind == KIND_TYPED && n <= SMALL_MAX ? slot : n, slot);
        crit_exit(t);
    }
    if (!p)
        p = out_of_memory(n);
    /* A collection in the slow path may have queued finalizers; p is in
     * this frame meanwhile. */
    finalize_poll(t);
    return p;
}

HOT_ENTRY API void *hgc_malloc(size_t n) { return alloc_fast(n, KIND_SCANNED); }
HOT_ENTRY API void *hgc_malloc_atomic(size_t n) { return alloc_fast(n, KIND_ATOMIC); }

/* The word of a typed object that holds its layout: its last one (for a
 * large object, the last of the bytes asked for). */
static uintptr_t *layout_word(const span *s, uintptr_t obj)
{
    size_t bytes = atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE
                       ? s->req_size
                       : s->elem_size;
    return (uintptr_t *)(obj + bytes) - 1;
}

API hgc_layout hgc_make_layout(const uint64_t *bitmap, size_t nwords)
{
    thread_rec *t = threads_register();
    crit_enter(t); /* the layout lock is internal */
    hgc_layout l = layout_make(bitmap, nwords);
    crit_exit(t);
    return l;
}

API void *hgc_malloc_typed(size_t n, hgc_layout layout)
{
    size_t words = (n + sizeof(uintptr_t) - 1) / sizeof(uintptr_t);
    if (words > SIZE_MAX / sizeof(uintptr_t) - 1)
        return out_of_memory(n);
    void *p = alloc_fast((words + 1) * sizeof(uintptr_t), KIND_TYPED);
    span *s = p ? pagemap_lookup((uintptr_t)p) : NULL;
    if (!s || s->kind != KIND_TYPED)
        return p; /* NULL, or what the out-of-memory handler returned */
    /* Until this store the word is 0, "no pointers": right for an object
     * that is all zeros, so a collection in between loses nothing. */
    *layout_word(s, (uintptr_t)p) = layout;
    return p;
}

API void *hgc_calloc_typed(size_t count, size_t size, hgc_layout layout)
{
    if (size && count > SIZE_MAX / size)
        return out_of_memory(SIZE_MAX);
    hgc_layout array = layout;
    if (count > 1) {
        thread_rec *t = threads_register();
        crit_enter(t);
        array = layout_make_array(layout, size);
        crit_exit(t);
    }
    if (array == HGC_LAYOUT_ERROR)
        return hgc_malloc(count * size); /* no exact map: conservative */
    return hgc_malloc_typed(count * size, array);
}

static void *make_uncollectable(void *p)
{
    if (p && !finalize_add_uncollectable(p)) {
        hgc_free(p);
        return out_of_memory(0);
    }
    return p;
}

API void *hgc_malloc_uncollectable(size_t n) { return make_uncollectable(hgc_malloc(n)); }

API void *hgc_malloc_atomic_uncollectable(size_t n)
{
    return make_uncollectable(hgc_malloc_atomic(n));
}

/* The span of an object start, or a fatal error naming what p is instead
 * and the public function (hgc_free or hgc_realloc) that was handed it. */
static span *object_span_or_die(void *p, bool in_realloc)
{
    span *s = pagemap_lookup((uintptr_t)p);
    uint8_t state = s ? atomic_load_explicit(&s->state, memory_order_acquire) : SPAN_FREE;
    const char *fn = in_realloc ? "hgc_realloc" : "hgc_free";
    const char *freed = in_realloc ? "object already freed" : "double free";
    if (!s)
        hgc__fatal("%s(%p): not a pointer allocated by hgc", fn, p);
    if (state == SPAN_FREE)
        hgc__fatal("%s(%p): %s", fn, p, freed); /* in the heap, on free pages */
    uintptr_t start = state == SPAN_LARGE ? s->base : span_object_start(s, (uintptr_t)p, NULL);
    if (start == 0)
        hgc__fatal("%s(%p): not a pointer allocated by hgc", fn, p);
    if (start != (uintptr_t)p)
        hgc__fatal("%s(%p): interior pointer, object starts at %p", fn, p, (void *)start);
    if (state == SPAN_SMALL && slot_word_quiet(p, 1) == free_tag(p))
        hgc__fatal("%s(%p): %s", fn, p, freed);
    return s;
}

/* Everything free_fast leaves (alloc_fast.h): NULL, unregistered threads,
 * large objects, registered objects, stress mode and every wrong call. */
static NOINLINE void free_checked(void *p)
{
    if (!p)
        return;
    thread_rec *t = hgc__self;
    if (!t) {
        hgc_init();
        t = hgc__self;
    }
    span *s = object_span_or_die(p, false);
    /* A slot of this thread's bump region was never handed out.  (Another
     * thread's region is that thread's own business: not checked.) */
    if (atomic_load_explicit(&s->owner, memory_order_relaxed) == &t->tc &&
        (uintptr_t)p >= t->tc.bump[s->kind][s->sizeclass] &&
        (uintptr_t)p < t->tc.bump_end[s->kind][s->sizeclass])
        hgc__fatal("hgc_free(%p): not a pointer allocated by hgc (never handed out)", p);
    if (unlikely(atomic_load_explicit(&s->registered, memory_order_relaxed)))
        finalize_forget(p);
    tools_quiet_begin();
    if (unlikely(hgc__tools)) {
        crit_enter(t);
        tools_block_freed(p, s->elem_size);
        crit_exit(t);
    }
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE)
        alloc_free_large(t, s, p);
    else
        alloc_free_small(t, s, p);
    tools_quiet_end();
}

HOT_ENTRY API void hgc_free(void *p)
{
    if (!free_fast(p))
        free_checked(p);
}

/* Object start and usable size for any address; 0 when not in an object.
 * A typed object's layout word is not usable. */
static uintptr_t object_of(const void *p, size_t *size)
{
    uintptr_t obj;
    span *s = heap_object_of((uintptr_t)p, &obj);
    if (!s)
        return 0;
    *size = s->kind == KIND_TYPED ? (uintptr_t)layout_word(s, obj) - obj : s->elem_size;
    return obj;
}

API size_t hgc_size(const void *p)
{
    size_t size = 0;
    uintptr_t start = object_of(p, &size);
    if (!start || start != (uintptr_t)p)
        return 0;
    /* Under Valgrind, the bytes past those asked for are unaddressable. */
    size_t asked = tools_asked(p);
    return asked && asked < size ? asked : size;
}

API void *hgc_base(const void *p)
{
    size_t size;
    return (void *)object_of(p, &size);
}

/* ------------------------------------------------------------------ kinds */

_Static_assert(HGC_MAX_KINDS == NKINDS - KIND_FIRST_CUSTOM,
               "hgc.h's HGC_MAX_KINDS is what the kind table leaves to programs");

API int hgc_kind_create(hgc_mark_fn mark, void *env)
{
    if (!mark)
        hgc__fatal("hgc_kind_create: the mark function is NULL");
    hgc_init();
    threads_lock();
    int k = alloc_kind_create(SCAN_PROC, mark, env);
    threads_unlock();
    return k;
}

/* Die unless kind came from hgc_kind_create. */
static NOINLINE void bad_kind(int kind)
{
    hgc__fatal("hgc_malloc_kind: %d is not a kind made by hgc_kind_create", kind);
}

HOT_ENTRY API void *hgc_malloc_kind(size_t n, int kind)
{
    if (unlikely((unsigned)kind - KIND_FIRST_CUSTOM >= kind_count() - KIND_FIRST_CUSTOM))
        bad_kind(kind);
    return alloc_fast(n, (unsigned)kind);
}

API void hgc_mark_word(hgc_mark_state *st, const void *p) { mark_state_word(st, (uintptr_t)p); }

API void hgc_mark_range(hgc_mark_state *st, const void *lo, const void *hi)
{
    mark_state_range(st, (uintptr_t)lo, (uintptr_t)hi);
}

API void *hgc_realloc(void *p, size_t n)
{
    if (!p)
        return hgc_malloc(n);
    if (n == 0) {
        hgc_free(p);
        return NULL;
    }
    span *s = object_span_or_die(p, true);
    size_t old = hgc_size(p);
    unsigned kind = s->kind;
    /* Keep the object when it fits and would not waste more than half
     * (under Valgrind, never: the block would change size). */
    if (n <= old && n >= old / 2 && !hgc__tools)
        return p;
    void *q;
    if (kind == KIND_TYPED)
        q = hgc_malloc_typed(n, *layout_word(s, (uintptr_t)p));
    else if (kind >= KIND_FIRST_CUSTOM)
        q = hgc_malloc_kind(n, (int)kind);
    else if (atomic_load_explicit(&s->registered, memory_order_relaxed) &&
             finalize_is_uncollectable(p))
        q = kind == KIND_ATOMIC ? hgc_malloc_atomic_uncollectable(n) : hgc_malloc_uncollectable(n);
    else
        q = kind == KIND_ATOMIC ? hgc_malloc_atomic(n) : hgc_malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, n < old ? n : old);
    hgc_free(p);
    return q;
}

API void hgc_collect(void)
{
    hgc_init();
    collector_collect(GC_REASON_EXPLICIT);
    finalize_poll(hgc__self);
}

API int hgc_marking(void) { return collector_marking(); }

API int hgc_collect_minor(void)
{
    hgc_init();
    int r = collector_collect(GC_REASON_MINOR);
    finalize_poll(hgc__self);
    return r == 1;
}

API void hgc_verify(void)
{
    hgc_init();
    collector_collect(GC_REASON_VERIFY);
}

API void hgc_disable(void)
{
    hgc_init();
    collector_disable();
}

API void hgc_enable(void)
{
    collector_enable();
}

API void hgc_add_roots(void *lo, void *hi)
{
    if ((uintptr_t)lo > (uintptr_t)hi)
        hgc__fatal("hgc_add_roots(%p, %p): lo > hi", lo, hi);
    hgc_init();
    threads_lock();
    roots_add((uintptr_t)lo, (uintptr_t)hi);
    threads_unlock();
}

API void hgc_remove_roots(void *lo, void *hi)
{
    if ((uintptr_t)lo > (uintptr_t)hi)
        hgc__fatal("hgc_remove_roots(%p, %p): lo > hi", lo, hi);
    hgc_init();
    threads_lock();
    roots_remove((uintptr_t)lo, (uintptr_t)hi);
    threads_unlock();
}

API void hgc_thread_register(void)
{
    hgc_init();
}

API void hgc_thread_unregister(void)
{
    threads_unregister();
}

API void hgc_blocking_enter(void)
{
    thread_rec *t = hgc__self;
    if (!t)
        return; /* unregistered threads are never stopped anyway */
    if (t->blocking_depth++ == 0)
        stw_blocking_enter(t);
}

API void hgc_blocking_leave(void)
{
    thread_rec *t = hgc__self;
    if (!t || t->blocking_depth == 0)
        return;
    if (--t->blocking_depth == 0)
        stw_blocking_leave(t);
}

API hgc_oom_fn hgc_set_oom_handler(hgc_oom_fn fn)
{
    return atomic_exchange(&oom_handler, fn);
}

extern INTERNAL _Atomic(hgc_warn_fn) hgc__warn_handler; /* error.c */

API hgc_warn_fn hgc_set_warn_handler(hgc_warn_fn fn)
{
    return atomic_exchange_explicit(&hgc__warn_handler, fn, memory_order_acq_rel);
}

API void hgc_get_concurrent_stats(hgc_concurrent_stats *out)
{
    collector_concurrent_stats cs;
    collector_get_concurrent_stats(&cs);
    *out = (hgc_concurrent_stats){.marks = cs.marks, .mark_ns = cs.mark_ns,
                                  .assists = cs.assists, .assist_ns = cs.assist_ns,
                                  .waits = cs.waits, .wait_ns = cs.wait_ns};
}

API void hgc_get_stats(hgc_stats *out)
{
    hgc_init();
    collector_stats cs;
    memset(out, 0, sizeof *out);
    threads_lock();
    collector_get_stats(&cs);
    threads_counters(&out->allocated_bytes, &out->freed_bytes);
    out->threads = threads_count();
    /* Under the world lock, not after it: no collection can stop this
     * thread while it holds the heap lock (threads.h). */
    pageheap_bytes(&out->heap_bytes, &out->mapped_bytes);
    threads_unlock();
    out->live_bytes = cs.live_bytes;
    out->collections = cs.collections;
    out->minor_collections = cs.minor_collections;
    out->pause_total_ns = cs.pause_total_ns;
    out->pause_max_ns = cs.pause_max_ns;
}
