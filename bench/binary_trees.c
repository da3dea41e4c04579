/*
 * binary_trees.c -- the benchmarks-game "binary-trees" workload, built for
 * one allocation back end (see gcapi.h).
 *
 *   binary_trees_<backend> [--free] [--verbose] [DEPTH [THREADS]]
 *
 *   DEPTH    maximum depth, default 21 (values below 6 are raised to 6)
 *   THREADS  worker threads, default 1; with more than one, the iterations
 *            of every depth level are split across the workers, each of
 *            which builds and checks its own trees
 *   --free   free every tree explicitly once it is checked (GC_FREE);
 *            required by the malloc back end, which cannot drop memory
 *   --verbose  print the usual check lines
 *
 * Work: a "stretch" tree of depth DEPTH+1 is built, checked and dropped;
 * one long-lived tree of depth DEPTH is built and kept for the whole run;
 * then for d = 4, 6, ..., DEPTH, 1 << (DEPTH - d + 4) trees of depth d are
 * built, checked and dropped; finally the long-lived tree is checked.  A
 * node is two child pointers (16 bytes on LP64); a tree of depth d has
 * 2^(d+1) - 1 nodes and its check is that count.  Every check is compared
 * with the expected value and a mismatch aborts.
 *
 * Output: the check lines with --verbose, and always one line
 *   RESULT name=binary_trees depth=.. threads=.. free=0|1 time_s=..
 *          peak_rss_kb=.. collections=.. max_pause_ms=.. backend=..
 * (on one line).  time_s covers all of the work above (not GC_INIT);
 * collections and max_pause_ms are -1 where the back end has none.
 */
#include "gcapi.h" /* first: Boehm's gc.h must redirect pthread_create */
#include "bench_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct node {
    struct node *left;
    struct node *right;
} node;

_Static_assert(sizeof(node) == 2 * sizeof(void *), "node is two pointers");

#define MIN_DEPTH 4
#define MAX_DEPTH 28 /* 2^33 nodes per level: far beyond any sane run */
#define MAX_THREADS 256
#define MAX_LEVELS ((MAX_DEPTH - MIN_DEPTH) / 2 + 1)

/* Build a complete tree of the given depth (depth 0: a single leaf). */
static node *tree_build(int depth)
{
    node *n = GC_ALLOC(sizeof *n);
    if (depth > 0) {
        n->left = tree_build(depth - 1);
        n->right = tree_build(depth - 1);
    } else {
        n->left = NULL;
        n->right = NULL;
    }
    return n;
}

/* Number of nodes; checks along the way that every node has zero or two
 * children. */
static long tree_check(const node *n)
{
    if (n->left == NULL) {
        if (n->right != NULL)
            bench_fatal("binary_trees: corrupt node %p (left NULL, right %p)",
                        (const void *)n, (const void *)n->right);
        return 1;
    }
    if (n->right == NULL)
        bench_fatal("binary_trees: corrupt node %p (left %p, right NULL)",
                    (const void *)n, (const void *)n->left);
    return 1 + tree_check(n->left) + tree_check(n->right);
}

/* Free every node of the tree, children before their parent. */
static void tree_free(node *n)
{
    if (n->left != NULL) {
        tree_free(n->left);
        tree_free(n->right);
    }
    GC_FREE(n);
}

static long tree_nodes(int depth)
{
    return (1L << (depth + 1)) - 1;
}

static void expect(const char *what, int depth, long got, long want)
{
    if (got != want)
        bench_fatal("binary_trees: check mismatch for %s of depth %d: "
                    "got %ld, expected %ld", what, depth, got, want);
}

/* Build, check and (with do_free) free `count` trees of depth d; returns
 * the sum of their checks. */
static long run_trees(int d, long count, int do_free)
{
    long sum = 0;
    for (long i = 0; i < count; i++) {
        node *t = tree_build(d);
        sum += tree_check(t);
        if (do_free)
            tree_free(t);
    }
    return sum;
}

static __attribute__((noinline)) long stretch(int d, int do_free)
{
    return run_trees(d, 1, do_free);
}

static long level_iterations(int depth, int d)
{
    return 1L << (depth - d + MIN_DEPTH);
}

typedef struct worker {
    pthread_t tid;
    int id;
    int nthreads;
    int depth;
    int do_free;
    long checks[MAX_LEVELS]; /* this worker's check sum per level */
} worker;

/* Run this worker's share of every level: iterations [lo, hi) of each. */
static void worker_run(worker *w)
{
    int li = 0;
    for (int d = MIN_DEPTH; d <= w->depth; d += 2, li++) {
        long it = level_iterations(w->depth, d);
        long lo = it * w->id / w->nthreads;
        long hi = it * (w->id + 1) / w->nthreads;
        w->checks[li] = run_trees(d, hi - lo, w->do_free);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    THREAD_REGISTER();
    worker_run(w);
    THREAD_UNREGISTER();
    return NULL;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--free] [--verbose] [DEPTH [THREADS]]\n"
            "  DEPTH default 21 (minimum 6), THREADS default 1\n",
            prog);
}

int main(int argc, char **argv)
{
    const char *prog = argv[0];
    int depth = 21, nthreads = 1, do_free = 0, verbose = 0, npos = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--free") == 0) {
            do_free = 1;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            verbose = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(prog);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9')) {
            fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
            usage(prog);
            return 2;
        } else if (npos == 0) {
            depth = (int)bench_parse_long(prog, "depth", a, 0, MAX_DEPTH - 1);
            npos++;
        } else if (npos == 1) {
            nthreads = (int)bench_parse_long(prog, "thread count", a, 1, MAX_THREADS);
            npos++;
        } else {
            usage(prog);
            return 2;
        }
    }
    if (depth < MIN_DEPTH + 2)
        depth = MIN_DEPTH + 2;
    if (!BENCH_GC_DROPS && !do_free) {
        fprintf(stderr, "%s: the %s back end cannot reclaim dropped trees; "
                        "run it with --free\n", prog, BENCH_BACKEND);
        return 2;
    }

    GC_INIT();

    int nlevels = (depth - MIN_DEPTH) / 2 + 1;
    long level_check[MAX_LEVELS];
    long stretch_check, long_lived_check;
    double t0 = bench_now();

    /* Stretch tree: one big tree, checked and dropped.  Built in a
     * function of its own, then the stack below is zeroed: otherwise a
     * register or stack slot of main() may keep the dropped tree's root
     * (it did, at -O2, making the tree live for the whole run under every
     * conservative collector). */
    stretch_check = stretch(depth + 1, do_free);
    bench_scrub_stack();
    expect("stretch tree", depth + 1, stretch_check, tree_nodes(depth + 1));

    /* The long-lived tree stays reachable from this frame throughout. */
    node *long_lived = tree_build(depth);

    if (nthreads == 1) {
        worker w;
        memset(&w, 0, sizeof w);
        w.id = 0;
        w.nthreads = 1;
        w.depth = depth;
        w.do_free = do_free;
        worker_run(&w);
        memcpy(level_check, w.checks, sizeof level_check);
    } else {
        worker *ws = calloc((size_t)nthreads, sizeof *ws);
        if (ws == NULL)
            bench_fatal("binary_trees: out of memory for %d workers", nthreads);
        for (int i = 0; i < nthreads; i++) {
            ws[i].id = i;
            ws[i].nthreads = nthreads;
            ws[i].depth = depth;
            ws[i].do_free = do_free;
            int rc = pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]);
            if (rc != 0)
                bench_fatal("binary_trees: pthread_create: %s", strerror(rc));
        }
        bench_wait_begin();
        for (int i = 0; i < nthreads; i++) {
            int rc = pthread_join(ws[i].tid, NULL);
            if (rc != 0)
                bench_fatal("binary_trees: pthread_join: %s", strerror(rc));
        }
        bench_wait_end();
        for (int li = 0; li < nlevels; li++) {
            level_check[li] = 0;
            for (int i = 0; i < nthreads; i++)
                level_check[li] += ws[i].checks[li];
        }
        free(ws);
    }

    for (int li = 0; li < nlevels; li++) {
        int d = MIN_DEPTH + 2 * li;
        expect("trees", d, level_check[li],
               level_iterations(depth, d) * tree_nodes(d));
    }

    long_lived_check = tree_check(long_lived);
    expect("long lived tree", depth, long_lived_check, tree_nodes(depth));
    if (do_free)
        tree_free(long_lived);

    double elapsed = bench_now() - t0;

    if (verbose) {
        printf("stretch tree of depth %d\t check: %ld\n", depth + 1, stretch_check);
        for (int li = 0; li < nlevels; li++) {
            int d = MIN_DEPTH + 2 * li;
            printf("%ld\t trees of depth %d\t check: %ld\n",
                   level_iterations(depth, d), d, level_check[li]);
        }
        printf("long lived tree of depth %d\t check: %ld\n", depth, long_lived_check);
    }

    long long collections;
    double max_pause_ms;
    bench_gc_stats(&collections, &max_pause_ms);
    char pause_buf[32];
    if (max_pause_ms < 0)
        snprintf(pause_buf, sizeof pause_buf, "-1");
    else
        snprintf(pause_buf, sizeof pause_buf, "%.3f", max_pause_ms);

    printf("RESULT name=binary_trees depth=%d threads=%d free=%d time_s=%.4f "
           "peak_rss_kb=%ld collections=%lld max_pause_ms=%s backend=%s\n",
           depth, nthreads, do_free, elapsed, bench_peak_rss_kb(), collections,
           pause_buf, BENCH_BACKEND);
    return 0;
}
