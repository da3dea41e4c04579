/*
 * gcbench.c -- the classic GCBench workload (binary trees built top-down
 * and bottom-up next to a long-lived tree and a big pointer-free array),
 * built for one allocation back end (see gcapi.h).
 *
 *   gcbench_<backend> [--free] [--verbose]
 *
 *   --free     free every temporary tree explicitly (GC_FREE); required by
 *              the malloc back ends, which cannot drop memory
 *   --verbose  print what is being built
 *
 * Parameters (the classic ones): a stretch tree of depth 18 is built and
 * dropped; a long-lived tree of depth 16 and an array of 500,000 doubles
 * (GC_ALLOC_ATOMIC: no pointers) are kept for the whole run; then for
 * d = 4, 6, ..., 16, 2 * size(18) / size(d) trees of depth d are built
 * top-down (allocate a node, then fill in its children) and as many
 * bottom-up (children first, then the parent), each dropped at once.  A
 * node is two child pointers and two ints (24 bytes on LP64); size(d) is
 * the node count of a complete tree of depth d, 2^(d+1) - 1.
 *
 * Checks: the first and last tree of every batch are walked and their node
 * count compared with size(d); at the end the long-lived tree is walked and
 * the array's contents summed and compared with a recomputation.  A
 * mismatch aborts.
 *
 * Output, one line:
 *   RESULT name=gcbench free=0|1 time_s=.. peak_rss_kb=.. collections=..
 *          max_pause_ms=.. backend=..
 */
#include "gcapi.h" /* first: Boehm's gc.h must redirect pthread_create */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRETCH_DEPTH 18
#define LONG_LIVED_DEPTH 16
#define ARRAY_LEN 500000
#define MIN_DEPTH 4
#define MAX_DEPTH 16

typedef struct gnode {
    struct gnode *left;
    struct gnode *right;
    int i, j; /* payload, as in the classic node; never read */
} gnode;

static int verbose;

static long tree_size(int depth)
{
    return (1L << (depth + 1)) - 1;
}

static gnode *new_node(gnode *left, gnode *right)
{
    gnode *n = GC_ALLOC(sizeof *n);
    n->left = left;
    n->right = right;
    return n;
}

/* Top-down: give the existing node n two fresh children, then recurse
 * into them (the parent is older than its children). */
static void populate(int depth, gnode *n)
{
    if (depth <= 0)
        return;
    n->left = new_node(NULL, NULL);
    n->right = new_node(NULL, NULL);
    populate(depth - 1, n->left);
    populate(depth - 1, n->right);
}

/* Bottom-up: build both subtrees, then their parent (children older). */
static gnode *make_tree(int depth)
{
    if (depth <= 0)
        return new_node(NULL, NULL);
    gnode *l = make_tree(depth - 1);
    gnode *r = make_tree(depth - 1);
    return new_node(l, r);
}

static long tree_count(const gnode *n)
{
    if (n->left == NULL || n->right == NULL) {
        if (n->left != n->right)
            bench_fatal("gcbench: corrupt node %p", (const void *)n);
        return 1;
    }
    return 1 + tree_count(n->left) + tree_count(n->right);
}

static void tree_free(gnode *n)
{
    if (n->left != NULL) {
        tree_free(n->left);
        tree_free(n->right);
    }
    GC_FREE(n);
}

static void expect_tree(const char *what, int depth, const gnode *t)
{
    long got = tree_count(t);
    if (got != tree_size(depth))
        bench_fatal("gcbench: %s tree of depth %d has %ld nodes, expected %ld", what,
                    depth, got, tree_size(depth));
}

/* Build and drop (or free) the batch of trees of one depth, both ways. */
static __attribute__((noinline)) void time_construction(int depth, int do_free)
{
    long iters = 2 * tree_size(STRETCH_DEPTH) / tree_size(depth);
    if (verbose)
        printf("creating %ld trees of depth %d\n", iters, depth);
    for (long k = 0; k < iters; k++) {
        gnode *t = new_node(NULL, NULL);
        populate(depth, t);
        if (k == 0 || k == iters - 1)
            expect_tree("top-down", depth, t);
        if (do_free)
            tree_free(t);
    }
    for (long k = 0; k < iters; k++) {
        gnode *t = make_tree(depth);
        if (k == 0 || k == iters - 1)
            expect_tree("bottom-up", depth, t);
        if (do_free)
            tree_free(t);
    }
}

static __attribute__((noinline)) void stretch(int do_free)
{
    gnode *t = make_tree(STRETCH_DEPTH);
    expect_tree("stretch", STRETCH_DEPTH, t);
    if (do_free)
        tree_free(t);
}

static double array_expected_sum(void)
{
    double s = 0;
    for (long i = 0; i < ARRAY_LEN; i++)
        s += 1.0 / (double)(i + 1);
    return s;
}

/* The long-lived structures and the batches: everything the timed run
 * does, in one frame that main() does not share. */
static __attribute__((noinline)) void run(int do_free)
{
    if (verbose)
        printf("stretching memory with a tree of depth %d\n", STRETCH_DEPTH);
    stretch(do_free);
    bench_scrub_stack();

    if (verbose)
        printf("creating a long-lived tree of depth %d and an array of %d doubles\n",
               LONG_LIVED_DEPTH, ARRAY_LEN);
    gnode *long_lived = new_node(NULL, NULL);
    populate(LONG_LIVED_DEPTH, long_lived);
    double *array = GC_ALLOC_ATOMIC(ARRAY_LEN * sizeof *array);
    for (long i = 0; i < ARRAY_LEN; i++)
        array[i] = 1.0 / (double)(i + 1);

    for (int d = MIN_DEPTH; d <= MAX_DEPTH; d += 2)
        time_construction(d, do_free);

    expect_tree("long-lived", LONG_LIVED_DEPTH, long_lived);
    double s = 0;
    for (long i = 0; i < ARRAY_LEN; i++)
        s += array[i];
    if (s != array_expected_sum())
        bench_fatal("gcbench: the long-lived array changed (sum %.17g)", s);
    if (do_free) {
        tree_free(long_lived);
        GC_FREE(array);
    }
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--free] [--verbose]\n", prog);
}

int main(int argc, char **argv)
{
    const char *prog = argv[0];
    int do_free = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--free") == 0) {
            do_free = 1;
        } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(prog);
            return 0;
        } else {
            usage(prog);
            return 2;
        }
    }
    if (!BENCH_GC_DROPS && !do_free) {
        fprintf(stderr, "%s: the %s back end cannot reclaim dropped trees; run it with --free\n",
                prog, BENCH_BACKEND);
        return 2;
    }

    GC_INIT();
    double t0 = bench_now();
    run(do_free);
    double elapsed = bench_now() - t0;

    printf("RESULT name=gcbench free=%d", do_free);
    bench_result_tail(elapsed);
    return 0;
}
