/*
 * test_mark_overflow: with HGC_MARK_STACK_LIMIT=16 (a debug option capping
 * the mark stack so that overflow handling runs) a collection still keeps
 * every reachable object alive:
 *   - a wide tree: a root array of 100,000 pointers, each to a node with 8
 *     children (900,000 objects);
 *   - a deep list of 1,000,000 nodes, every node also pointing to a small
 *     leaf;
 *   - a complete binary tree of depth 17;
 *   - one 2.5 MB array of 320,000 pointers to leaves: a large object is
 *     scanned a piece at a time, and a capped stack must hold the rest of
 *     it (pushing every piece at once overflowed on every rescan, for good).
 * The structures are built, collected several times with garbage in between,
 * and verified completely; live_bytes must cover them.  The work runs in a
 * child with the variable set (hgc reads its environment once, at
 * initialization); the same scenario also runs in this process without the
 * limit.
 */
#include "test.h"

#define WIDE 100000
#define KIDS 8
#define DEEP 1000000
#define TREE_DEPTH 17
#define BIG 320000

struct wnode {
    uint64_t check;
    uint64_t *kid[KIDS]; /* 16-byte atomic leaves */
};

struct lnode {
    struct lnode *next;
    uint64_t *leaf;
    uint64_t idx;
};


static size_t wide_n, deep_n, big_n;

static uint64_t key(const void *p, uint64_t i) { return (uintptr_t)p * 13 + i; }

static TEST_NOINLINE struct wnode **build_wide(void)
{
    struct wnode **root = (struct wnode **)hgc_malloc(wide_n * sizeof *root);
    size_t i, k;
    CHECK(root != NULL);
    for (i = 0; i < wide_n; i++) {
        struct wnode *w = (struct wnode *)hgc_malloc(sizeof *w);
        CHECK(w != NULL);
        w->check = key(w, i);
        for (k = 0; k < KIDS; k++) {
            uint64_t *leaf = (uint64_t *)hgc_malloc_atomic(16);
            CHECK(leaf != NULL);
            leaf[0] = key(leaf, k);
            leaf[1] = key(w, k);
            w->kid[k] = leaf;
        }
        root[i] = w;
    }
    return root;
}

static TEST_NOINLINE void verify_wide(struct wnode **root)
{
    size_t i, k;
    for (i = 0; i < wide_n; i++) {
        struct wnode *w = root[i];
        CHECKF(w != NULL && w->check == key(w, i), "wide node %zu broken", i);
        for (k = 0; k < KIDS; k++) {
            uint64_t *leaf = w->kid[k];
            CHECKF(leaf[0] == key(leaf, k) && leaf[1] == key(w, k),
                   "wide node %zu child %zu broken", i, k);
        }
    }
}

static TEST_NOINLINE struct lnode *build_deep(void)
{
    struct lnode *h = NULL;
    size_t i;
    for (i = 0; i < deep_n; i++) {
        struct lnode *n = (struct lnode *)hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        n->leaf = (uint64_t *)hgc_malloc(16);
        CHECK(n->leaf != NULL);
        n->leaf[0] = key(n->leaf, i);
        n->idx = i;
        n->next = h;
        h = n;
    }
    return h;
}

static TEST_NOINLINE void verify_deep(struct lnode *h)
{
    size_t expect = deep_n;
    for (; h; h = h->next) {
        CHECK(expect > 0);
        expect--;
        CHECKF(h->idx == expect && h->leaf[0] == key(h->leaf, expect),
               "deep node %zu broken", expect);
    }
    CHECK(expect == 0);
}

static TEST_NOINLINE uint64_t **build_big(void)
{
    uint64_t **big = (uint64_t **)hgc_malloc(big_n * sizeof *big);
    CHECK(big != NULL);
    for (size_t i = 0; i < big_n; i++) {
        big[i] = (uint64_t *)hgc_malloc_atomic(16);
        CHECK(big[i] != NULL);
        big[i][0] = key(big[i], i);
    }
    return big;
}

static TEST_NOINLINE void verify_big(uint64_t **big)
{
    for (size_t i = 0; i < big_n; i++)
        CHECKF(big[i][0] == key(big[i], i), "big array leaf %zu broken", i);
}

static int scenario(const char *label)
{
    struct wnode **volatile wide;
    struct lnode *volatile deep;
    test_tnode *volatile tree;
    uint64_t **volatile big;
    size_t min_bytes;
    uint64_t t0 = test_now_ns();
    int i;

    wide_n = test_scale(WIDE, 2, 4);
    deep_n = test_scale(DEEP, 2, 4);
    big_n = BIG; /* not scaled: it must span more pieces than the cap */
    hgc_init();
    wide = build_wide();
    deep = build_deep();
    tree = test_tree_build(TREE_DEPTH, 1);
    big = build_big();
    min_bytes = wide_n * (sizeof(void *) + sizeof(struct wnode) + KIDS * 16) +
                deep_n * (sizeof(struct lnode) + 16) + big_n * (sizeof(void *) + 16);
    for (i = 0; i < 3; i++) {
        hgc_stats s;
        test_clear_stack();
        hgc_collect();
        s = test_stats();
        CHECKF(s.live_bytes >= min_bytes,
               "%s: live_bytes %zu but at least %zu bytes are reachable",
               label, s.live_bytes, min_bytes);
        test_churn_sizes(test_scale(32 * MiB, 4, 8), 16, 64, (uint64_t)i);
    }
    verify_wide(wide);
    verify_deep(deep);
    verify_big(big);
    CHECK(test_tree_verify(tree, TREE_DEPTH, 1) == ((size_t)1 << TREE_DEPTH) - 1);
    printf("%s: ok (%.2f s)\n", label, (double)(test_now_ns() - t0) / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const env[] = {"HGC_MARK_STACK_LIMIT=16", NULL};

    if (argc > 1 && strcmp(argv[1], "limited") == 0)
        return scenario("with HGC_MARK_STACK_LIMIT=16");

    if (!test_case_passes("limited", env, "limited (HGC_MARK_STACK_LIMIT=16)"))
        return 1;
    printf("child with HGC_MARK_STACK_LIMIT=16: ok\n");
    scenario("without limit");
    printf("test_mark_overflow: ok\n");
    return 0;
}
