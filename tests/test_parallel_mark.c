/*
 * test_parallel_mark: marking with several threads keeps every reachable
 * object and reclaims the rest, whatever the number of markers.
 *
 * For HGC_MARKERS = 1, 2, 4 and 16 a child process builds
 *   - a root array of 200,000 pointers (a large object, pushed in pieces
 *     that markers share) to nodes with 4 atomic leaves each,
 *   - a complete binary tree of depth 17 (shared subtree by subtree),
 *   - a list of 300,000 nodes (one long chain nobody can share),
 * collects three times with garbage in between, and verifies all of it.
 * live_bytes must cover the structures and stay within a bound (duplicate
 * scans by racing markers may count an object twice, rarely); the garbage
 * must be reclaimed (heap bounded).  With N markers the process must have
 * N - 1 more threads after the first collection (the helpers).
 *
 * A last case has helpers wake late (HGC_TEST_MARKER_DELAY): minor
 * collections each run parallel rounds back to back (written old objects,
 * then the roots), so a helper woken for one round's work or its end is
 * still on its way when the next round begins.  It must sit out a round
 * that ended without it and leave the next one's accounting alone; every
 * collection is verified (HGC_VERIFY) and every tree checked.
 */
#include "test.h"

#include <dirent.h>

#define WIDE 200000
#define LEAVES 4
#define TREE_DEPTH 17
#define LIST 300000

struct wnode {
    uint64_t check;
    uint64_t *leaf[LEAVES];
};
struct lnode {
    struct lnode *next;
    uint64_t idx, check;
};

static size_t wide_n, list_n;

static uint64_t key(const void *p, uint64_t i) { return (uintptr_t)p * 31 + i; }

static TEST_NOINLINE struct wnode **build_wide(void)
{
    struct wnode **root = (struct wnode **)hgc_malloc(wide_n * sizeof *root);
    CHECK(root != NULL);
    for (size_t i = 0; i < wide_n; i++) {
        struct wnode *w = (struct wnode *)hgc_malloc(sizeof *w);
        CHECK(w != NULL);
        w->check = key(w, i);
        for (size_t k = 0; k < LEAVES; k++) {
            uint64_t *leaf = (uint64_t *)hgc_malloc_atomic(16);
            CHECK(leaf != NULL);
            leaf[0] = key(leaf, k);
            leaf[1] = key(w, k);
            w->leaf[k] = leaf;
        }
        root[i] = w;
    }
    return root;
}

static TEST_NOINLINE void verify_wide(struct wnode **root)
{
    for (size_t i = 0; i < wide_n; i++) {
        struct wnode *w = root[i];
        CHECKF(w != NULL && w->check == key(w, i), "wide node %zu broken", i);
        for (size_t k = 0; k < LEAVES; k++)
            CHECKF(w->leaf[k][0] == key(w->leaf[k], k) && w->leaf[k][1] == key(w, k),
                   "wide node %zu leaf %zu broken", i, k);
    }
}

static TEST_NOINLINE struct lnode *build_list(void)
{
    struct lnode *h = NULL;
    for (size_t i = 0; i < list_n; i++) {
        struct lnode *n = (struct lnode *)hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        n->idx = i;
        n->check = key(n, i);
        n->next = h;
        h = n;
    }
    return h;
}

static TEST_NOINLINE void verify_list(const struct lnode *h)
{
    size_t expect = list_n;
    for (; h; h = h->next) {
        CHECK(expect > 0);
        expect--;
        CHECKF(h->idx == expect && h->check == key(h, expect), "list node %zu broken", expect);
    }
    CHECK(expect == 0);
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static int scenario(int markers)
{
    struct wnode **volatile wide;
    test_tnode *volatile tree;
    struct lnode *volatile list;

    /* Threads of the runtime itself (a sanitizer's, say) are not ours. */
    int threads_before = count_threads();
    wide_n = test_scale(WIDE, 2, 4);
    list_n = test_scale(LIST, 2, 4);
    hgc_init();
    wide = build_wide();
    tree = test_tree_build(TREE_DEPTH, 1);
    list = build_list();
    size_t tree_n = ((size_t)1 << TREE_DEPTH) - 1;
    /* Bytes as the size classes round them: 32-byte tree nodes (24), 48-byte
     * wide nodes (40), 32-byte list nodes (24), 16-byte leaves. */
    size_t min_bytes = wide_n * sizeof(void *) + wide_n * (48 + LEAVES * 16) + tree_n * 32 +
                       list_n * 32;
    size_t heap_max = 0;
    for (int i = 0; i < 3; i++) {
        test_clear_stack();
        hgc_collect();
        hgc_stats s = test_stats();
        CHECKF(s.live_bytes >= min_bytes, "markers %d: live_bytes %zu < %zu reachable", markers,
               s.live_bytes, min_bytes);
        CHECKF(s.live_bytes <= min_bytes + min_bytes / 4 + 8 * MiB,
               "markers %d: live_bytes %zu, far above the %zu reachable", markers, s.live_bytes,
               min_bytes);
        if (i == 0) {
            /* ThreadSanitizer starts a background thread of its own when
             * the first thread is created. */
            int extra = test_tsan() && markers > 1 ? 1 : 0;
            int helpers = count_threads() - threads_before - extra;
            CHECKF(helpers == markers - 1, "markers %d: %d helper threads, expected %d",
                   markers, helpers, markers - 1);
        }
        if (s.heap_bytes > heap_max)
            heap_max = s.heap_bytes;
        test_churn_sizes(test_scale(64 * MiB, 4, 8), 16, 256, (uint64_t)i);
    }
    verify_wide(wide);
    CHECK(test_tree_verify(tree, TREE_DEPTH, 1) == tree_n);
    verify_list(list);
    /* 64 MiB of garbage per round on top of the live set: reclaimed, or the
     * heap would pass 3 x 64 MiB. */
    CHECKF(heap_max < min_bytes * 3 + 96 * MiB, "markers %d: heap grew to %zu bytes", markers,
           heap_max);
    fprintf(stderr, "HGC_MARKERS=%d: ok (live %zu bytes)\n", markers, min_bytes);
    return 0;
}

#define LATE_KEEP 4
#define LATE_COLLECTIONS 30
#define LATE_DEPTH 15 /* 32767 nodes: past the ranges marker 0 scans alone */

static int late_helpers(void)
{
    hgc_init();
    /* Old once the major collection below has run: the trees stored into
     * it are found through its written page (a minor's first phase). */
    test_tnode **volatile keep = (test_tnode **)hgc_malloc(LATE_KEEP * sizeof *keep);
    hgc_collect();
    int minors = 0;
    for (int i = 0; i < LATE_COLLECTIONS; i++) {
        keep[i % LATE_KEEP] = test_tree_build(LATE_DEPTH, (uint64_t)i + 1);
        /* Young and held only by this frame: the minor's second phase. */
        test_tnode *volatile local = test_tree_build(LATE_DEPTH, (uint64_t)i + 1000);
        test_clear_stack();
        minors += hgc_collect_minor(); /* a major where writes cannot be tracked */
        CHECK(test_tree_verify(local, LATE_DEPTH, (uint64_t)i + 1000) ==
              ((size_t)1 << LATE_DEPTH) - 1);
        for (int j = 0; j <= i && j < LATE_KEEP; j++) {
            int made = i - ((i - j) % LATE_KEEP); /* the iteration that last stored keep[j] */
            CHECK(test_tree_verify(keep[j], LATE_DEPTH, (uint64_t)made + 1) ==
                  ((size_t)1 << LATE_DEPTH) - 1);
        }
    }
    fprintf(stderr, "late helpers: ok (%d of %d collections minor)\n", minors, LATE_COLLECTIONS);
    return 0;
}

int main(int argc, char **argv)
{
    static const int counts[] = {1, 2, 4, 16};
    if (argc > 1 && strcmp(argv[1], "late") == 0)
        return late_helpers();
    if (argc > 1)
        return scenario(atoi(argv[1]));
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        char name[16], var[32];
        snprintf(name, sizeof name, "%d", counts[i]);
        snprintf(var, sizeof var, "HGC_MARKERS=%d", counts[i]);
        const char *env[] = {var, NULL};
        if (!test_case_passes(name, env, var))
            return 1;
    }
    const char *late_env[] = {"HGC_MARKERS=4", "HGC_TEST_MARKER_DELAY=300", "HGC_VERIFY=1", NULL};
    if (!test_case_passes("late", late_env, "late helpers"))
        return 1;
    printf("test_parallel_mark: ok\n");
    return 0;
}
