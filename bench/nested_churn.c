/*
 * nested_churn.c -- multi-threaded churn of small nested objects, built
 * for one allocation back end (see gcapi.h).
 *
 *   nested_churn_<backend> [THREADS [N]]
 *
 *   THREADS  worker threads, default 1
 *   N        records built per thread, default 2000000
 *
 * Where churn.c allocates one flat 32-byte object at a time, this is the
 * shape of a program that builds little object graphs and drops them: each
 * worker builds N records, and a record is
 *
 *   a 32-byte root      (scanned: three pointers and a key)
 *   -> 3 x 24-byte mids (scanned: two pointers and a key)
 *   -> 2 x 16-byte leaves each (GC_ALLOC_ATOMIC: two numbers)
 *
 * i.e. 10 allocations of 3 sizes and 2 kinds, children allocated after
 * their parent and linked into it.  The last 16 records stay in a ring on
 * the worker's stack, so each is live for 16 records' worth of allocation;
 * when one leaves the ring it is walked and every key and leaf compared
 * with what was stored (a mismatch aborts), then it is dropped (collectors)
 * or freed node by node (malloc back ends).
 *
 * The time runs from the release of a start barrier to the last join.
 *
 * Output, one line:
 *   RESULT name=nested_churn threads=T records=.. ops=.. mops=.. time_s=..
 *          peak_rss_kb=.. collections=.. max_pause_ms=.. backend=..
 * where ops counts allocations (10 per record) and mops = ops / time_s / 1e6.
 */
#include "gcapi.h" /* first: Boehm's gc.h must redirect pthread_create */
#include "bench_util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 16 /* power of two */
#define MAX_THREADS 256
#define MIDS 3
#define LEAVES 2
#define ALLOCS_PER_RECORD (1 + MIDS + MIDS * LEAVES)

typedef struct leaf {
    uint64_t v[2];
} leaf;

typedef struct mid {
    leaf *leaf[LEAVES];
    uint64_t key;
} mid;

typedef struct record {
    mid *mid[MIDS];
    uint64_t key;
} record;

typedef struct worker {
    int id;
    long n;
    long checked; /* records verified */
} worker;


static record *record_build(uint64_t key)
{
    record *r = GC_ALLOC(sizeof *r);
    r->key = key;
    for (int m = 0; m < MIDS; m++) {
        mid *md = GC_ALLOC(sizeof *md);
        md->key = key + (uint64_t)m;
        r->mid[m] = md;
        for (int l = 0; l < LEAVES; l++) {
            leaf *lf = GC_ALLOC_ATOMIC(sizeof *lf);
            lf->v[0] = key ^ (uint64_t)(m * LEAVES + l);
            lf->v[1] = ~key;
            md->leaf[l] = lf;
        }
    }
    return r;
}

/* Walk r, compare everything with what record_build(key) stored, and free
 * the nodes if the back end needs that. */
static void record_check_drop(record *r, uint64_t key)
{
    if (r->key != key)
        bench_fatal("nested_churn: record key %llx, expected %llx",
                    (unsigned long long)r->key, (unsigned long long)key);
    for (int m = 0; m < MIDS; m++) {
        mid *md = r->mid[m];
        if (md->key != key + (uint64_t)m)
            bench_fatal("nested_churn: corrupt mid %d of record %llx", m,
                        (unsigned long long)key);
        for (int l = 0; l < LEAVES; l++) {
            leaf *lf = md->leaf[l];
            if (lf->v[0] != (key ^ (uint64_t)(m * LEAVES + l)) || lf->v[1] != ~key)
                bench_fatal("nested_churn: corrupt leaf %d.%d of record %llx", m, l,
                            (unsigned long long)key);
            if (!BENCH_GC_DROPS)
                GC_FREE(lf);
        }
        if (!BENCH_GC_DROPS)
            GC_FREE(md);
    }
    if (!BENCH_GC_DROPS)
        GC_FREE(r);
}

static inline uint64_t record_key(int id, long i)
{
    return ((uint64_t)id << 40) + (uint64_t)i * 16;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    record *ring[RING];
    long checked = 0;

    THREAD_REGISTER();
    memset(ring, 0, sizeof ring);
    bench_worker_ready();

    for (long i = 0; i < w->n + RING; i++) {
        unsigned slot = (unsigned)i & (RING - 1);
        if (ring[slot] != NULL) {
            record_check_drop(ring[slot], record_key(w->id, i - RING));
            ring[slot] = NULL;
            checked++;
        }
        if (i < w->n)
            ring[slot] = record_build(record_key(w->id, i));
    }

    w->checked = checked;
    THREAD_UNREGISTER();
    return NULL;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [THREADS [N]]\n"
                    "  THREADS default 1, N (records per thread) default 2000000\n",
            prog);
}

int main(int argc, char **argv)
{
    long threads = 1, n = 2000000;
    const bench_arg args[] = {{"thread count", 1, MAX_THREADS, &threads},
                              {"record count", 1, 1L << 36, &n}};
    bench_parse_positional(argc, argv, usage, args, 2);
    int nthreads = (int)threads;

    GC_INIT();

    worker *ws = calloc((size_t)nthreads, sizeof *ws);
    if (ws == NULL)
        bench_fatal("nested_churn: out of memory for %d workers", nthreads);
    for (int i = 0; i < nthreads; i++) {
        ws[i].id = i;
        ws[i].n = n;
    }
    double t0 = bench_start_workers(nthreads, worker_main, ws, sizeof *ws, 0);
    bench_join_workers();
    double elapsed = bench_now() - t0;

    for (int i = 0; i < nthreads; i++)
        if (ws[i].checked != n)
            bench_fatal("nested_churn: thread %d checked %ld records, expected %ld", i,
                        ws[i].checked, n);
    free(ws);

    long long ops = (long long)nthreads * n * ALLOCS_PER_RECORD;
    printf("RESULT name=nested_churn threads=%d records=%lld ops=%lld mops=%.2f", nthreads,
           (long long)nthreads * n, ops, (double)ops / elapsed / 1e6);
    bench_result_tail(elapsed);
    return 0;
}
