/*
 * gcapi.h -- one allocation interface, six back ends, for the benchmarks.
 *
 * Compile each benchmark with exactly one of
 *   -DBENCH_HGC       hgc (include <hgc.h>, link libhgc)
 *   -DBENCH_BOEHM     Boehm-Demers-Weiser GC (Debian libgc-dev, link -lgc)
 *   -DBENCH_COMPAT    the same Boehm code, against hgc's gc.h and libgc.so.1
 *   -DBENCH_MALLOC    the system malloc: calloc() / free(); GC_FREE really frees
 *   -DBENCH_MIMALLOC  as BENCH_MALLOC, linked with -lmimalloc, which replaces
 *                     malloc() and friends at link time (libmimalloc-dev)
 *   -DBENCH_JEMALLOC  as BENCH_MALLOC, linked with -ljemalloc (libjemalloc-dev)
 *
 * For the last two, GC_INIT() checks that a malloc()ed block really comes
 * from that allocator and aborts otherwise, so a link that silently kept
 * glibc's malloc cannot be reported under the wrong name.
 *
 * and use only these names:
 *   GC_INIT()              once, at the start of main(), on the main thread
 *   GC_ALLOC(n)            n zeroed bytes that may hold heap pointers
 *   GC_ALLOC_ATOMIC(n)     n zeroed bytes that hold no heap pointers
 *   GC_REALLOC(p, n)       resize p (NULL: allocate) keeping min(old, n)
 *                          bytes and p's kind; bytes past the old size are
 *                          unspecified (zero for the collectors, not malloc)
 *   GC_FREE(p)             explicit free (NULL is a no-op)
 *   THREAD_REGISTER()      at the start of every worker thread
 *   THREAD_UNREGISTER()    at the end of every worker thread, after its last
 *                          use of a heap pointer
 *   bench_gc_stats(&collections, &max_pause_ms)
 *                          collections so far and the longest stop-the-world
 *                          pause in milliseconds; -1 where the back end has
 *                          no such number
 *   bench_heap_bytes()     bytes of heap the collector holds now, -1 for
 *                          the malloc back ends (cheap enough to call every
 *                          few milliseconds)
 *   BENCH_BACKEND          "hgc", "boehm", "compat", "malloc", "mimalloc",
 *                          "jemalloc"
 *   BENCH_GC_DROPS         1 when unreferenced memory is reclaimed without
 *                          GC_FREE (a collector), 0 for the malloc back ends
 *
 * Every macro expands to one call of a static inline function, so arguments
 * are evaluated exactly once.  The allocation functions never return NULL:
 * an allocation failure prints a message and aborts.
 *
 * This header keeps a little state (Boehm pause timing), as static
 * variables: it is meant for single-file benchmark programs.
 *
 * Include this header before any other header that could include
 * <pthread.h>: for Boehm, <gc.h> must see GC_THREADS first so that it
 * redirects pthread_create() and friends to its own wrappers, which register
 * the new threads with the collector.
 */
#ifndef BENCH_GCAPI_H
#define BENCH_GCAPI_H

/* POSIX barriers and clock_gettime even under a strict -std=c11. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#if (defined(BENCH_HGC) + defined(BENCH_BOEHM) + defined(BENCH_COMPAT) + \
     defined(BENCH_MALLOC) + defined(BENCH_MIMALLOC) + defined(BENCH_JEMALLOC)) != 1
#error "define exactly one of BENCH_HGC, BENCH_BOEHM, BENCH_COMPAT, BENCH_MALLOC, BENCH_MIMALLOC, BENCH_JEMALLOC"
#endif

/* BENCH_COMPAT: the Boehm code below, compiled against hgc's gc.h and
 * linked with hgc's libgc.so.1 -- what a Boehm program gets by switching. */
#if defined(BENCH_BOEHM) || defined(BENCH_COMPAT)
#define BENCH_BOEHM_API 1
#endif

#if defined(BENCH_HGC)
#define BENCH_BACKEND "hgc"
#elif defined(BENCH_BOEHM)
#define BENCH_BACKEND "boehm"
#elif defined(BENCH_COMPAT)
#define BENCH_BACKEND "compat"
#elif defined(BENCH_MIMALLOC)
#define BENCH_BACKEND "mimalloc"
#elif defined(BENCH_JEMALLOC)
#define BENCH_BACKEND "jemalloc"
#else
#define BENCH_BACKEND "malloc"
#endif

#if defined(BENCH_BOEHM_API)
#ifndef GC_THREADS
#define GC_THREADS
#endif
#include <gc.h>
#elif defined(BENCH_HGC)
#include <hgc.h>
#elif defined(BENCH_MIMALLOC)
#include <mimalloc.h>
#elif defined(BENCH_JEMALLOC)
#include <jemalloc/jemalloc.h>
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Print "bench (BACKEND): allocation of N bytes failed" and abort. */
static inline void bench_alloc_failed(size_t n)
{
    fprintf(stderr, "bench (%s): allocation of %zu bytes failed\n", BENCH_BACKEND, n);
    abort();
}

/* ------------------------------------------------------------------ hgc */
#if defined(BENCH_HGC)

#define BENCH_GC_DROPS 1

static inline void bench_gc_init(void)
{
    hgc_init();
}

static inline void *bench_gc_alloc(size_t n)
{
    void *p = hgc_malloc(n);
    if (__builtin_expect(p == NULL, 0))
        bench_alloc_failed(n);
    return p;
}

static inline void *bench_gc_alloc_atomic(size_t n)
{
    void *p = hgc_malloc_atomic(n);
    if (__builtin_expect(p == NULL, 0))
        bench_alloc_failed(n);
    return p;
}

static inline void *bench_gc_realloc(void *p, size_t n)
{
    void *q = hgc_realloc(p, n);
    if (__builtin_expect(q == NULL && n != 0, 0))
        bench_alloc_failed(n);
    return q;
}

static inline void bench_gc_free(void *p)
{
    hgc_free(p);
}

static inline long long bench_heap_bytes(void)
{
    hgc_stats st;
    hgc_get_stats(&st);
    return (long long)st.heap_bytes;
}

static inline void bench_thread_register(void)
{
    hgc_thread_register();
}

static inline void bench_thread_unregister(void)
{
    hgc_thread_unregister();
}

/* The main thread waiting for its workers touches no object: declared a
 * blocking region, a collection does not stop it (hgc.h), as hgc's
 * GC_pthread_join does for programs on the Boehm interface. */
static inline void bench_wait_begin(void)
{
    hgc_blocking_enter();
}

static inline void bench_wait_end(void)
{
    hgc_blocking_leave();
}

static inline void bench_gc_stats(long long *collections, double *max_pause_ms)
{
    hgc_stats st;
    hgc_get_stats(&st);
    *collections = (long long)st.collections;
    *max_pause_ms = (double)st.pause_max_ns / 1e6;
}

/* ------------------------------------- Boehm (and hgc's Boehm interface) */
#elif defined(BENCH_BOEHM_API)

#define BENCH_GC_DROPS 1

/*
 * Boehm has no pause statistic of its own: time each stop-the-world
 * interval with the collection event callback.  It runs with the GC lock
 * held, so the collector serializes every access to these variables; they
 * are read only when no collection can be running (after all workers are
 * joined, with no allocation in progress).
 */
static struct timespec bench_boehm_stop_start;
static int bench_boehm_stopped;
static long long bench_boehm_max_pause_ns = -1;

static inline long long bench_boehm_ns(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void GC_CALLBACK bench_boehm_event(GC_EventType ev)
{
    struct timespec now;
    switch (ev) {
    case GC_EVENT_PRE_STOP_WORLD:
        clock_gettime(CLOCK_MONOTONIC, &bench_boehm_stop_start);
        bench_boehm_stopped = 1;
        break;
    case GC_EVENT_POST_START_WORLD:
        if (bench_boehm_stopped) {
            long long d;
            clock_gettime(CLOCK_MONOTONIC, &now);
            d = bench_boehm_ns(&now) - bench_boehm_ns(&bench_boehm_stop_start);
            if (d > bench_boehm_max_pause_ns)
                bench_boehm_max_pause_ns = d;
            bench_boehm_stopped = 0;
        }
        break;
    default:
        break;
    }
}

static inline void bench_gc_init(void)
{
    GC_INIT(); /* gc.h's macro, expanded here once and for all */
    GC_set_on_collection_event(bench_boehm_event);
}

static inline void *bench_gc_alloc(size_t n)
{
    void *p = GC_MALLOC(n);
    if (__builtin_expect(p == NULL, 0))
        bench_alloc_failed(n);
    return p;
}

static inline void *bench_gc_alloc_atomic(size_t n)
{
    void *p = GC_MALLOC_ATOMIC(n);
    if (__builtin_expect(p == NULL, 0))
        bench_alloc_failed(n);
    return p;
}

static inline void *bench_gc_realloc(void *p, size_t n)
{
    void *q = GC_REALLOC(p, n);
    if (__builtin_expect(q == NULL && n != 0, 0))
        bench_alloc_failed(n);
    return q;
}

static inline void bench_gc_free(void *p)
{
    GC_FREE(p);
}

static inline long long bench_heap_bytes(void)
{
    return (long long)GC_get_heap_size();
}

/* Threads started with pthread_create() are registered by Boehm's
 * GC_pthread_create wrapper (gc.h redirects the name under GC_THREADS) and
 * unregistered when they exit: nothing to do. */
static inline void bench_thread_register(void)
{
}

static inline void bench_thread_unregister(void)
{
}

/* Joins go through gc.h's GC_pthread_join: Boehm's keeps the joining
 * thread stoppable as any other, hgc's waits in a blocking region. */
static inline void bench_wait_begin(void)
{
}

static inline void bench_wait_end(void)
{
}

static inline void bench_gc_stats(long long *collections, double *max_pause_ms)
{
    *collections = (long long)GC_get_gc_no();
    *max_pause_ms = bench_boehm_max_pause_ns < 0
                        ? -1.0
                        : (double)bench_boehm_max_pause_ns / 1e6;
}

/* gc.h defines GC_INIT, GC_FREE and GC_REALLOC itself; the uniform names
 * below take over (bench_gc_init above already holds the expansion of
 * gc.h's GC_INIT). */
#undef GC_INIT
#undef GC_FREE
#undef GC_REALLOC

/* ------------------------------------------- malloc, mimalloc, jemalloc */
#else

#define BENCH_GC_DROPS 0

static inline void bench_gc_init(void)
{
#if defined(BENCH_MIMALLOC)
    /* A block from calloc() must lie in mimalloc's heap. */
    void *p = calloc(1, 64);
    int ok = p != NULL && mi_is_in_heap_region(p);
    free(p);
    if (!ok) {
        fprintf(stderr, "bench (mimalloc): malloc() is not mimalloc's (version %d)\n",
                mi_version());
        abort();
    }
#elif defined(BENCH_JEMALLOC)
    /* jemalloc counts the bytes each thread allocates; malloc() must move
     * that counter. */
    uint64_t before = 0, after = 0;
    size_t len = sizeof before;
    int rc = mallctl("thread.allocated", &before, &len, NULL, 0);
    void *p = malloc(4096);
    __asm__ volatile("" : : "r"(p) : "memory"); /* keep the call */
    len = sizeof after;
    if (rc == 0)
        rc = mallctl("thread.allocated", &after, &len, NULL, 0);
    free(p);
    if (rc != 0 || after < before + 4096) {
        fprintf(stderr, "bench (jemalloc): malloc() is not jemalloc's\n");
        abort();
    }
#endif
}

static inline void *bench_gc_alloc(size_t n)
{
    void *p = calloc(1, n);
    if (__builtin_expect(p == NULL, 0))
        bench_alloc_failed(n);
    return p;
}

static inline void *bench_gc_alloc_atomic(size_t n)
{
    void *p = calloc(1, n);
    if (__builtin_expect(p == NULL, 0))
        bench_alloc_failed(n);
    return p;
}

static inline void *bench_gc_realloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (__builtin_expect(q == NULL && n != 0, 0))
        bench_alloc_failed(n);
    return q;
}

static inline void bench_gc_free(void *p)
{
    free(p);
}

static inline long long bench_heap_bytes(void)
{
    return -1;
}

static inline void bench_thread_register(void)
{
}

static inline void bench_thread_unregister(void)
{
}

static inline void bench_wait_begin(void)
{
}

static inline void bench_wait_end(void)
{
}

static inline void bench_gc_stats(long long *collections, double *max_pause_ms)
{
    *collections = -1;
    *max_pause_ms = -1.0;
}

#endif

#define GC_INIT() bench_gc_init()
#define GC_ALLOC(n) bench_gc_alloc(n)
#define GC_ALLOC_ATOMIC(n) bench_gc_alloc_atomic(n)
#define GC_REALLOC(p, n) bench_gc_realloc(p, n)
#define GC_FREE(p) bench_gc_free(p)
#define THREAD_REGISTER() bench_thread_register()
#define THREAD_UNREGISTER() bench_thread_unregister()

#endif /* BENCH_GCAPI_H */
