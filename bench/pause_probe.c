/*
 * pause_probe.c -- how long the mutator is held up, built for one
 * allocation back end (see gcapi.h).
 *
 *   pause_probe_<backend> [--csv FILE] [NODES [ALLOCS]]
 *
 *   NODES    nodes of the long-lived tree, default 8000000
 *   ALLOCS   short-lived allocations after it, default 100000000
 *   --csv FILE  (or the environment variable BENCH_CSV=FILE) write the
 *            heap-size samples and the long gaps to FILE, see below
 *
 * Work: a binary tree of exactly NODES 16-byte nodes (two pointers) is
 * built and kept for the whole run: a large live set that every full
 * collection must mark.  Then the program makes ALLOCS allocations of 32
 * bytes, each live for the next 256 (a ring), as an allocation-heavy
 * program does.  Every 16 allocations it reads CLOCK_MONOTONIC; the gap
 * since the previous reading is the time those 16 allocations took, and
 * a long gap is a pause the program saw, whatever caused it (a stop-the-
 * world collection, a lock held by a collector, page faults...).  The
 * gaps go into a histogram with 8 buckets per doubling (one bucket is
 * 9% wide), which gives the percentiles.  At the end the tree is walked
 * and its node count checked, and a checksum of the short-lived objects
 * is compared with its closed form; a mismatch aborts.
 *
 * clock_ns, measured before the run, is the cost of one clock reading;
 * the timestamps add about clock_ns / 16 to every allocation.
 *
 * Heap size is sampled from the mutator at most every 5 ms (checked every
 * 4096 allocations and every 65536 tree nodes): bench_heap_bytes() (the
 * collector's heap; -1 for malloc) and the resident set size.
 *
 * Output, one line:
 *   RESULT name=pause_probe nodes=.. allocs=.. clock_ns=.. build_s=..
 *          churn_s=.. max_gap_ms=.. p99_gap_ms=.. p9999_gap_ms=..
 *          gaps_over_1ms=.. time_s=.. peak_rss_kb=.. collections=..
 *          max_pause_ms=.. backend=..
 * The percentiles are the upper edges of their buckets; they cover the
 * allocation phase (ALLOCS / 16 gaps), as do max_gap_ms and gaps_over_1ms.
 * time_s is build_s + churn_s; max_pause_ms is the collector's own
 * longest stop-the-world pause over the whole run.
 *
 * The CSV has one record per line, times in seconds from the start:
 *   heap,T,HEAP_BYTES,RSS_KB     a sample (HEAP_BYTES -1 for malloc)
 *   gap,T,MS                     a gap over 1 ms, T at its end
 */
#include "gcapi.h" /* first: Boehm's gc.h must redirect pthread_create */
#include "bench_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 16   /* allocations per timestamp */
#define RING 256   /* short-lived objects kept live; power of two */
#define SUB 8      /* histogram buckets per doubling */
#define NBUCKETS (64 * SUB)
#define SAMPLE_NS 5000000LL
#define MAX_SAMPLES 200000
#define MAX_GAPS 200000

typedef struct node {
    struct node *left;
    struct node *right;
} node;

/* ---------------------------------------------------------- the record */

typedef struct sample {
    long long t_ns, heap;
    long rss_kb;
} sample;

typedef struct gap {
    long long t_ns, len_ns;
} gap;

static long long t_origin;
static long long last_sample_ns = -SAMPLE_NS;
static sample *samples; /* from malloc: holds no heap pointers */
static long nsamples;
static gap *gaps;
static long ngaps;
static long long hist[NBUCKETS];

static inline long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void maybe_sample(long long now)
{
    if (now - last_sample_ns < SAMPLE_NS || nsamples >= MAX_SAMPLES)
        return;
    last_sample_ns = now;
    samples[nsamples].t_ns = now - t_origin;
    samples[nsamples].heap = bench_heap_bytes();
    samples[nsamples].rss_kb = bench_rss_kb();
    nsamples++;
}

/* Bucket b holds gaps in [lower(b), lower(b + 1)), lower(b) being
 * 2^(b / SUB) * (1 + (b % SUB) / SUB) ns for b >= SUB, and b ns below. */
static int bucket_of(long long ns)
{
    if (ns < SUB)
        return ns < 0 ? 0 : (int)ns;
    int e = 63 - __builtin_clzll((unsigned long long)ns);
    int frac = (int)((ns >> (e - 3)) & (SUB - 1)); /* SUB == 8: 3 bits */
    return e * SUB + frac;
}

static double bucket_upper_ns(int b)
{
    if (b < SUB)
        return b + 1;
    int e = b / SUB, frac = b % SUB;
    return (double)((1ULL << e) + ((unsigned long long)(frac + 1) << (e - 3)));
}

/* The per_10000-th part percentile of the histogram, in ms. */
static double percentile_ms(long long total, long long per_10000)
{
    long long want = (total * per_10000 + 9999) / 10000, acc = 0;
    for (int b = 0; b < NBUCKETS; b++) {
        acc += hist[b];
        if (acc >= want && acc > 0)
            return bucket_upper_ns(b) / 1e6;
    }
    return 0;
}

/* ------------------------------------------------------------ the work */

static long build_count; /* nodes built, for the sampling cadence */

/* A tree of exactly n >= 1 nodes, as balanced as n allows. */
static node *tree_build(long n)
{
    node *t = GC_ALLOC(sizeof *t);
    if ((++build_count & 65535) == 0)
        maybe_sample(now_ns());
    long rest = n - 1, l = rest / 2;
    if (l > 0)
        t->left = tree_build(l);
    if (rest - l > 0)
        t->right = tree_build(rest - l);
    return t;
}

static long tree_count(const node *t)
{
    long c = 1;
    while (t != NULL) { /* recursion on the left, a loop on the right */
        if (t->left != NULL)
            c += tree_count(t->left);
        t = t->right;
        if (t != NULL)
            c++;
    }
    return c;
}

/* The allocation phase: returns the checksum of the words read back. */
static __attribute__((noinline)) uint64_t churn(long allocs, long long *max_gap_ns)
{
    uint64_t *ring[RING];
    uint64_t sum = 0;
    long long prev = now_ns(), maxg = 0;

    memset(ring, 0, sizeof ring);
    for (long i = 0; i < allocs; i++) {
        unsigned slot = (unsigned)i & (RING - 1);
        uint64_t *old = ring[slot];
        if (old != NULL) {
            sum += old[0];
            if (!BENCH_GC_DROPS)
                GC_FREE(old);
        }
        uint64_t *o = GC_ALLOC(32);
        o[0] = (uint64_t)i;
        ring[slot] = o;

        if ((i & (BATCH - 1)) == BATCH - 1) {
            long long now = now_ns(), g = now - prev;
            prev = now;
            hist[bucket_of(g)]++;
            if (g > maxg)
                maxg = g;
            if (g > 1000000 && ngaps < MAX_GAPS) {
                gaps[ngaps].t_ns = now - t_origin;
                gaps[ngaps].len_ns = g;
                ngaps++;
            }
            if ((i & 4095) == 4095)
                maybe_sample(now);
        }
    }
    for (unsigned slot = 0; slot < RING; slot++) {
        if (ring[slot] != NULL) {
            sum += ring[slot][0];
            if (!BENCH_GC_DROPS)
                GC_FREE(ring[slot]);
        }
    }
    *max_gap_ns = maxg;
    return sum;
}

typedef struct outcome {
    double build_s, churn_s;
    long long max_gap_ns;
} outcome;

static __attribute__((noinline)) void run(long nodes, long allocs, outcome *out)
{
    long long t0 = now_ns();
    node *tree = tree_build(nodes);
    long long t1 = now_ns();
    maybe_sample(t1);
    uint64_t sum = churn(allocs, &out->max_gap_ns);
    long long t2 = now_ns();
    maybe_sample(t2 + SAMPLE_NS); /* always a last sample */

    /* Words 0 .. allocs - 1 were written and each read back once. */
    uint64_t n = (uint64_t)allocs;
    uint64_t want = (n % 2 == 0) ? (n / 2) * (n - 1) : n * ((n - 1) / 2);
    if (sum != want)
        bench_fatal("pause_probe: checksum %llu, expected %llu", (unsigned long long)sum,
                    (unsigned long long)want);
    long c = tree_count(tree);
    if (c != nodes)
        bench_fatal("pause_probe: the tree has %ld nodes, expected %ld", c, nodes);
    out->build_s = (double)(t1 - t0) / 1e9;
    out->churn_s = (double)(t2 - t1) / 1e9;
}

/* Nanoseconds per clock reading, over a million of them. */
static double clock_cost_ns(void)
{
    long long t0 = now_ns(), x = 0;
    for (int i = 0; i < 1000000; i++)
        x += now_ns();
    __asm__ volatile("" : : "r"(x));
    return (double)(now_ns() - t0) / 1e6;
}

static void write_csv(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        bench_fatal("pause_probe: cannot write %s", path);
    fprintf(f, "# pause_probe %s: heap,t_s,heap_bytes,rss_kb / gap,t_s,ms\n", BENCH_BACKEND);
    for (long i = 0; i < nsamples; i++)
        fprintf(f, "heap,%.6f,%lld,%ld\n", (double)samples[i].t_ns / 1e9, samples[i].heap,
                samples[i].rss_kb);
    for (long i = 0; i < ngaps; i++)
        fprintf(f, "gap,%.6f,%.3f\n", (double)gaps[i].t_ns / 1e9, (double)gaps[i].len_ns / 1e6);
    if (fclose(f) != 0)
        bench_fatal("pause_probe: error writing %s", path);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--csv FILE] [NODES [ALLOCS]]\n"
                    "  NODES default 8000000, ALLOCS default 100000000\n",
            prog);
}

int main(int argc, char **argv)
{
    const char *prog = argv[0];
    const char *csv = getenv("BENCH_CSV");
    long nodes = 8000000, allocs = 100000000;
    int npos = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(prog);
            return 0;
        } else if (a[0] == '-') {
            usage(prog);
            return 2;
        } else if (npos == 0) {
            nodes = bench_parse_long(prog, "node count", a, 1, 1L << 32);
            npos++;
        } else if (npos == 1) {
            allocs = bench_parse_long(prog, "allocation count", a, 0, 1L << 40);
            npos++;
        } else {
            usage(prog);
            return 2;
        }
    }
    if (csv != NULL && csv[0] == '\0')
        csv = NULL;

    samples = malloc(MAX_SAMPLES * sizeof *samples);
    gaps = malloc(MAX_GAPS * sizeof *gaps);
    if (samples == NULL || gaps == NULL)
        bench_fatal("pause_probe: out of memory for the record");
    double clock_ns = clock_cost_ns();

    GC_INIT();
    t_origin = now_ns();
    outcome out;
    run(nodes, allocs, &out);

    long long total = 0, over = 0;
    for (int b = 0; b < NBUCKETS; b++)
        total += hist[b];
    for (long i = 0; i < ngaps; i++)
        over += gaps[i].len_ns > 1000000;
    if (ngaps == MAX_GAPS) { /* the record is full: count from the histogram */
        over = 0;
        for (int b = bucket_of(1000000) + 1; b < NBUCKETS; b++)
            over += hist[b];
    }
    if (csv != NULL)
        write_csv(csv);

    printf("RESULT name=pause_probe nodes=%ld allocs=%ld clock_ns=%.1f build_s=%.4f "
           "churn_s=%.4f max_gap_ms=%.3f p99_gap_ms=%.4f p9999_gap_ms=%.4f gaps_over_1ms=%lld",
           nodes, allocs, clock_ns, out.build_s, out.churn_s, (double)out.max_gap_ns / 1e6,
           percentile_ms(total, 9900), percentile_ms(total, 9999), over);
    bench_result_tail(out.build_s + out.churn_s);
    return 0;
}
