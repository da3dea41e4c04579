/*
 * churn.c -- allocation throughput of short-lived small objects, built for
 * one allocation back end (see gcapi.h).
 *
 *   churn_<backend> [THREADS [N]]
 *
 *   THREADS  worker threads, default 1
 *   N        allocations per thread, default 20000000
 *
 * Each worker allocates N objects of 32 bytes (GC_ALLOC, the scanned kind)
 * and writes a word into each.  The last 16 stay in a ring on the worker's
 * stack, so every object is genuinely live for 16 allocations; when it
 * leaves the ring its word is read back into a checksum and the object is
 * dropped (GC back ends) or freed (malloc back end).  The checksums are
 * verified at the end, so the work can't be optimized away.
 *
 * The workers register, then wait on a barrier with the main thread; the
 * time runs from the barrier's release to the last join.
 *
 * Output, one line:
 *   RESULT name=churn threads=T ops=.. time_s=.. mops=.. cpu_min_s=..
 *          cpu_max_s=.. peak_rss_kb=.. collections=.. max_pause_ms=..
 *          backend=..
 * where ops = T * N, mops = ops / time_s / 1e6, and cpu_min_s / cpu_max_s
 * are the least and the most CPU time a worker spent in its loop: equal
 * work, so on a quiet machine they are close, and when they are not, the
 * slower CPU set time_s.
 */
#include "gcapi.h" /* first: Boehm's gc.h must redirect pthread_create */
#include "bench_util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJ_SIZE 32
#define RING 16 /* power of two */
#define MAX_THREADS 256

typedef struct worker {
    int id;
    long n;
    uint64_t sum; /* sum of the words read back */
    double cpu_s; /* the worker's CPU time over its loop */
} worker;


/* The word written into the i-th object of worker id. */
static inline uint64_t obj_word(int id, long i)
{
    return ((uint64_t)id << 40) + (uint64_t)i;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    void *ring[RING];
    uint64_t sum = 0;
    const long n = w->n;
    const int id = w->id;

    THREAD_REGISTER();
    memset(ring, 0, sizeof ring);
    bench_worker_ready();
    double cpu0 = bench_thread_cpu();

    for (long i = 0; i < n; i++) {
        unsigned slot = (unsigned)i & (RING - 1);
        uint64_t *old = ring[slot];
        if (old != NULL) {
            sum += old[0];
            if (!BENCH_GC_DROPS)
                GC_FREE(old);
        }
        uint64_t *o = GC_ALLOC(OBJ_SIZE);
        o[0] = obj_word(id, i);
        ring[slot] = o;
    }
    for (unsigned slot = 0; slot < RING; slot++) {
        uint64_t *old = ring[slot];
        if (old != NULL) {
            sum += old[0];
            if (!BENCH_GC_DROPS)
                GC_FREE(old);
            ring[slot] = NULL;
        }
    }

    w->cpu_s = bench_thread_cpu() - cpu0;
    w->sum = sum;
    THREAD_UNREGISTER();
    return NULL;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [THREADS [N]]\n"
                    "  THREADS default 1, N (allocations per thread) default 20000000\n",
            prog);
}

int main(int argc, char **argv)
{
    long threads = 1, n = 20000000;
    const bench_arg args[] = {{"thread count", 1, MAX_THREADS, &threads},
                              {"allocation count", 1, 1L << 40, &n}};
    bench_parse_positional(argc, argv, usage, args, 2);
    int nthreads = (int)threads;

    GC_INIT();

    worker *ws = calloc((size_t)nthreads, sizeof *ws);
    if (ws == NULL)
        bench_fatal("churn: out of memory for %d workers", nthreads);
    for (int i = 0; i < nthreads; i++) {
        ws[i].id = i;
        ws[i].n = n;
    }
    double t0 = bench_start_workers(nthreads, worker_main, ws, sizeof *ws, 0);
    bench_join_workers();
    double elapsed = bench_now() - t0;

    /* Worker id wrote obj_word(id, i) for i in [0, n): the checksum is
     * n * (id << 40) + n (n - 1) / 2, modulo 2^64. */
    for (int i = 0; i < nthreads; i++) {
        uint64_t un = (uint64_t)n;
        uint64_t tri = (un % 2 == 0) ? (un / 2) * (un - 1) : un * ((un - 1) / 2);
        uint64_t want = un * ((uint64_t)i << 40) + tri;
        if (ws[i].sum != want)
            bench_fatal("churn: checksum mismatch in thread %d: got %llu, expected %llu",
                        i, (unsigned long long)ws[i].sum, (unsigned long long)want);
    }
    double cpu_min = ws[0].cpu_s, cpu_max = ws[0].cpu_s;
    for (int i = 1; i < nthreads; i++) {
        if (ws[i].cpu_s < cpu_min)
            cpu_min = ws[i].cpu_s;
        if (ws[i].cpu_s > cpu_max)
            cpu_max = ws[i].cpu_s;
    }
    free(ws);

    long long collections;
    double max_pause_ms;
    bench_gc_stats(&collections, &max_pause_ms);
    char pause_buf[32];
    if (max_pause_ms < 0)
        snprintf(pause_buf, sizeof pause_buf, "-1");
    else
        snprintf(pause_buf, sizeof pause_buf, "%.3f", max_pause_ms);

    long long ops = (long long)nthreads * n;
    printf("RESULT name=churn threads=%d ops=%lld time_s=%.4f mops=%.2f cpu_min_s=%.4f "
           "cpu_max_s=%.4f peak_rss_kb=%ld collections=%lld max_pause_ms=%s backend=%s\n",
           nthreads, ops, elapsed, (double)ops / elapsed / 1e6, cpu_min, cpu_max,
           bench_peak_rss_kb(), collections, pause_buf, BENCH_BACKEND);
    return 0;
}
