/*
 * live_set.c -- churn against a bounded live set, built for one allocation
 * back end (see gcapi.h).  It asks how much memory a back end needs for a
 * given amount of live data while the program keeps replacing it.
 *
 *   live_set_<backend> [THREADS [SLOTS [STEPS]]]
 *
 *   THREADS  worker threads, default 2
 *   SLOTS    objects each thread keeps live, default 400000
 *   STEPS    replacements per thread, default 10000000
 *
 * Each worker allocates a table of SLOTS pointers (GC_ALLOC, so that the
 * collectors see it) and fills it with objects of mixed small sizes: slot
 * i always holds an object of SIZES[i % 8] bytes (16 to 256), so the live
 * set has a fixed byte size.  Then, STEPS times, it picks a slot at random
 * (a deterministic PRNG), checks the object there, and replaces it with a
 * new one of the same size (the old one dropped, or freed by the malloc
 * back ends).  Every object holds a serial number in its first word and
 * a mix of that serial and its slot in its last; every check compares
 * them, and at the end all slots are checked.  A mismatch
 * aborts.  Objects are scanned (GC_ALLOC) but hold no pointers.
 *
 * live_kb is the exact size of the live set: every slot's requested
 * object size plus the tables, over all threads.  With a collector that
 * lets the heap grow GOGC percent over the live data between collections,
 * the peak RSS to expect is about live x (1 + GOGC / 100), plus the
 * program itself.
 *
 * Output, one line:
 *   RESULT name=live_set threads=T slots=.. steps=.. live_kb=.. mops=..
 *          time_s=.. peak_rss_kb=.. collections=.. max_pause_ms=.. backend=..
 * where mops counts replacements (over all threads) per second.
 */
#include "gcapi.h" /* first: Boehm's gc.h must redirect pthread_create */
#include "bench_util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 256

static const size_t SIZES[8] = {16, 24, 32, 48, 64, 96, 128, 256};

typedef struct worker {
    int id;
    long slots;
    long steps;
    uint64_t serial; /* objects made so far */
} worker;


static inline size_t slot_size(long i)
{
    return SIZES[i & 7];
}

/* The last word of an object: its serial and slot mixed. */
static inline uint64_t obj_tag(uint64_t serial, long slot)
{
    return ~serial * 0x9e3779b97f4a7c15ULL ^ (uint64_t)slot;
}

static uint64_t *obj_new(long slot, uint64_t serial)
{
    size_t sz = slot_size(slot);
    uint64_t *o = GC_ALLOC(sz);
    o[0] = serial;
    o[sz / 8 - 1] = obj_tag(serial, slot);
    return o;
}

static void obj_check(const uint64_t *o, long slot)
{
    size_t sz = slot_size(slot);
    if (o[sz / 8 - 1] != obj_tag(o[0], slot))
        bench_fatal("live_set: corrupt object %p in slot %ld", (const void *)o, slot);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    const long slots = w->slots;
    bench_rng rng = bench_rng_seed((unsigned long long)w->id + 1);
    uint64_t serial = 0;

    THREAD_REGISTER();
    uint64_t **table = GC_ALLOC((size_t)slots * sizeof *table);
    for (long i = 0; i < slots; i++)
        table[i] = obj_new(i, serial++);
    bench_worker_ready();

    for (long s = 0; s < w->steps; s++) {
        long i = (long)bench_rng_below(&rng, (unsigned long long)slots);
        obj_check(table[i], i);
        if (!BENCH_GC_DROPS)
            GC_FREE(table[i]);
        table[i] = obj_new(i, serial++);
    }

    for (long i = 0; i < slots; i++) {
        obj_check(table[i], i);
        if (table[i][0] >= serial)
            bench_fatal("live_set: slot %ld holds serial %llu of %llu", i,
                        (unsigned long long)table[i][0], (unsigned long long)serial);
        if (!BENCH_GC_DROPS)
            GC_FREE(table[i]);
    }
    if (!BENCH_GC_DROPS)
        GC_FREE(table);
    w->serial = serial;
    THREAD_UNREGISTER();
    return NULL;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [THREADS [SLOTS [STEPS]]]\n"
                    "  THREADS default 2, SLOTS (live objects per thread) default 400000,\n"
                    "  STEPS (replacements per thread) default 10000000\n",
            prog);
}

int main(int argc, char **argv)
{
    long threads = 2, slots = 400000, steps = 10000000;
    const bench_arg args[] = {{"thread count", 1, MAX_THREADS, &threads},
                              {"slot count", 8, 1L << 30, &slots},
                              {"step count", 0, 1L << 40, &steps}};
    bench_parse_positional(argc, argv, usage, args, 3);
    int nthreads = (int)threads;

    GC_INIT();

    /* The live set: every slot's object plus the table, per thread. */
    size_t live = (size_t)slots * sizeof(void *);
    for (long i = 0; i < slots; i++)
        live += slot_size(i);
    live *= (size_t)nthreads;

    worker *ws = calloc((size_t)nthreads, sizeof *ws);
    if (ws == NULL)
        bench_fatal("live_set: out of memory for %d workers", nthreads);
    for (int i = 0; i < nthreads; i++) {
        ws[i].id = i;
        ws[i].slots = slots;
        ws[i].steps = steps;
    }
    /* The time includes filling the tables: the workers are ready when
     * each has filled its own. */
    double t0 = bench_start_workers(nthreads, worker_main, ws, sizeof *ws, 1);
    bench_join_workers();
    double elapsed = bench_now() - t0;

    for (int i = 0; i < nthreads; i++)
        if (ws[i].serial != (uint64_t)(slots + steps))
            bench_fatal("live_set: thread %d made %llu objects, expected %ld", i,
                        (unsigned long long)ws[i].serial, slots + steps);
    free(ws);

    printf("RESULT name=live_set threads=%d slots=%ld steps=%ld live_kb=%zu mops=%.2f",
           nthreads, slots, steps, live / 1024,
           (double)nthreads * (double)steps / elapsed / 1e6);
    bench_result_tail(elapsed);
    return 0;
}
