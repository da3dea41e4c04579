/*
 * test_kinds: kinds with a mark function (hgc_kind_create, hgc.h).
 *   - what the function marks from malloc'd memory, which hgc never scans,
 *     survives collections; dropped from there, it dies;
 *   - a minor collection runs the function of an old object although no
 *     heap page was written: only the malloc'd table changed;
 *   - the object's own words keep nothing alive: only the function does;
 *   - the function never sees a freed slot, though a root still points at
 *     it, nor anything but zeros or what the program wrote;
 *   - large objects of the kind, and hgc_realloc keeping the kind;
 *   - a chain of objects each marking the next with hgc_mark_word (its
 *     link hidden from a word scan) survives whole at any length: marking
 *     does not recurse;
 *   - threads allocating objects of the kind while others collect;
 *   - HGC_MAX_KINDS kinds can be made, then -1; an unknown kind number and
 *     a NULL mark function are fatal errors naming them.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define BOX_MAGIC 0x626f782d6b696e64ull /* "box-kind" */
#define SLOTS 4096

/* A box: the function marks side[slot] (malloc'd) and ignores `own`. */
typedef struct box {
    uint64_t magic;
    uint64_t slot;
    void *own;
    uint64_t pad;
} box;

static void **side;                /* malloc'd: invisible to the collector */
static _Atomic long bad_calls;     /* the function saw something it must not */
static _Atomic long box_calls;
static int box_kind, link_kind;

static void mark_box(void *obj, size_t size, hgc_mark_state *st, void *env)
{
    box *b = obj;
    atomic_fetch_add_explicit(&box_calls, 1, memory_order_relaxed);
    if (env != &box_kind || size < sizeof *b || (b->magic != BOX_MAGIC && b->magic != 0) ||
        b->slot >= SLOTS) {
        atomic_fetch_add_explicit(&bad_calls, 1, memory_order_relaxed);
        return;
    }
    if (b->magic == BOX_MAGIC)
        hgc_mark_word(st, side[b->slot]);
}

static box *new_box(uint64_t slot, void *target)
{
    box *b = hgc_malloc_kind(sizeof *b, box_kind);
    CHECK(b != NULL);
    CHECK(b->magic == 0 && b->slot == 0 && b->own == NULL);
    side[slot] = target;
    b->slot = slot;
    b->magic = BOX_MAGIC;
    return b;
}

typedef struct target {
    uint64_t key;
    uint64_t words[3];
} target;

static TEST_NOINLINE target *new_target(uint64_t key)
{
    target *t = hgc_malloc_atomic(sizeof *t);
    CHECK(t != NULL);
    t->key = key;
    return t;
}

/* Targets reached only through the function survive; once the table
 * forgets them, they die (weak links, in malloc'd memory, tell). */
static box *kept_boxes[64];
static TEST_NOINLINE void make_boxes(void **links, int n)
{
    for (int i = 0; i < n; i++) {
        target *t = new_target(1000 + (uint64_t)i);
        links[i] = t;
        CHECK(hgc_weak_register(&links[i], t) == HGC_OK);
        kept_boxes[i] = new_box((uint64_t)i, t);
    }
}

static void test_side_table(void)
{
    enum { N = 64 };
    void **links = calloc(N, sizeof *links);
    CHECK(links != NULL);
    make_boxes(links, N);
    test_collect_n(3);
    test_churn(4 * MiB);
    for (int i = 0; i < N; i++) {
        CHECKF(links[i] != NULL, "target %d, marked only by its box's function, was freed", i);
        CHECK(((target *)links[i])->key == 1000 + (uint64_t)i);
    }
    CHECK(atomic_load(&box_calls) > 0);
    for (int i = 0; i < N; i++)
        side[i] = NULL;
    test_collect_n(3);
    int cleared = 0;
    for (int i = 0; i < N; i++) {
        cleared += links[i] == NULL;
        CHECK(kept_boxes[i]->magic == BOX_MAGIC && kept_boxes[i]->slot == (uint64_t)i);
    }
    CHECKF(cleared >= N * 9 / 10, "only %d of %d targets the table forgot were freed", cleared,
           N);
    for (int i = 0; i < N; i++)
        CHECK(hgc_weak_unregister(&links[i]) == HGC_OK || links[i] == NULL);
    free(links);
}

/* A young target only side[100] and the weak *link refer to. */
static TEST_NOINLINE void put_young_target(void **link, uint64_t key)
{
    target *t = new_target(key);
    *link = t;
    CHECK(hgc_weak_register(link, t) == HGC_OK);
    side[100] = t;
}

/* An old box whose table entry changes to a young object between two
 * collections: no heap page was written, yet the minor collection must
 * run the box's function. */
static void test_minor(void)
{
    box *b = new_box(100, NULL);
    test_collect_n(2); /* b is old now */
    void **link = malloc(sizeof *link);
    CHECK(link != NULL);
    int minor = 0;
    for (int round = 0; round < 5; round++) {
        put_young_target(link, 5000 + (uint64_t)round);
        test_clear_stack();
        minor += hgc_collect_minor();
        CHECKF(*link != NULL, "round %d: a young object marked only by an old box's function "
                              "was freed by a %s collection", round, minor ? "minor" : "major");
        CHECK(((target *)*link)->key == 5000 + (uint64_t)round);
        CHECK(hgc_weak_unregister(link) == HGC_OK);
    }
    side[100] = NULL;
    printf("test_kinds: %d of 5 collections were minor\n", minor);
    CHECK(b->magic == BOX_MAGIC);
    free(link);
}

/* The box's own word points at a target: nothing keeps that alive. */
static TEST_NOINLINE box *box_owning(void **link)
{
    box *b = new_box(200, NULL);
    target *t = new_target(77);
    b->own = t;
    *link = t;
    CHECK(hgc_weak_register(link, t) == HGC_OK);
    return b;
}

static box *owner_root;
static void test_own_words_unscanned(void)
{
    void **links = calloc(16, sizeof *links);
    CHECK(links != NULL);
    box *owners[16];
    for (int i = 0; i < 16; i++)
        owners[i] = box_owning(&links[i]);
    owner_root = owners[0];
    test_collect_n(2);
    int cleared = 0;
    for (int i = 0; i < 16; i++)
        cleared += links[i] == NULL;
    CHECKF(cleared >= 14, "only %d of 16 objects held by a box's own word were freed", cleared);
    for (int i = 0; i < 16; i++) {
        CHECK(owners[i]->magic == BOX_MAGIC);
        CHECK(hgc_weak_unregister(&links[i]) == HGC_OK || links[i] == NULL);
    }
    CHECK(owner_root->slot == 200);
    free(links);
}

/* Freed boxes that a root still points at: the function must not run on
 * them (their words now hold the free list's encoding). */
static box *stale[256];
static void test_freed_slots(void)
{
    for (int i = 0; i < 256; i++)
        stale[i] = new_box(300, NULL);
    for (int i = 0; i < 256; i++)
        hgc_free(stale[i]);
    atomic_store(&bad_calls, 0);
    test_collect_n(2);
    CHECKF(atomic_load(&bad_calls) == 0, "the mark function ran on %ld freed slots",
           atomic_load(&bad_calls));
    memset(stale, 0, sizeof stale);
}

/* Large boxes, and realloc keeping the kind. */
static void test_large_and_realloc(void)
{
    box *big = hgc_malloc_kind(256 * KiB, box_kind);
    CHECK(big != NULL && test_is_zero(big, 256 * KiB));
    void **link = malloc(sizeof *link);
    CHECK(link != NULL);
    target *t = new_target(9);
    *link = t;
    CHECK(hgc_weak_register(link, t) == HGC_OK);
    side[400] = t;
    t = NULL;
    big->slot = 400;
    big->magic = BOX_MAGIC;
    test_collect_n(2);
    CHECKF(*link != NULL, "a target marked by a large box's function was freed");
    box *small = hgc_realloc(big, sizeof(box));
    CHECK(small != NULL && small->magic == BOX_MAGIC && small->slot == 400);
    box *grown = hgc_realloc(small, 64 * KiB);
    CHECK(grown != NULL && grown->magic == BOX_MAGIC);
    test_collect_n(2);
    CHECKF(*link != NULL, "a target marked by a reallocated box's function was freed");
    side[400] = NULL;
    CHECK(hgc_weak_unregister(link) == HGC_OK);
    free(link);
    CHECK(grown->slot == 400);
}

/* A chain: each link marks the next through its hidden word. */
typedef struct chain {
    uintptr_t next_hidden;
    uint64_t seq;
} chain;

static void mark_link(void *obj, size_t size, hgc_mark_state *st, void *env)
{
    (void)size;
    (void)env;
    chain *c = obj;
    if (c->next_hidden)
        hgc_mark_word(st, test_unhide(c->next_hidden));
}

static chain *chain_head;
static TEST_NOINLINE void build_chain(size_t n)
{
    chain *prev = NULL;
    for (size_t i = n; i-- > 0;) {
        chain *c = hgc_malloc_kind(sizeof *c, link_kind);
        CHECK(c != NULL);
        c->seq = i;
        c->next_hidden = prev ? test_hide(prev) : 0;
        prev = c;
    }
    chain_head = prev;
}

static void test_chain(void)
{
    size_t n = test_scale(1000000, 10, 20);
    build_chain(n);
    test_clear_stack();
    test_collect_n(2);
    test_churn(8 * MiB);
    size_t i = 0;
    for (chain *c = chain_head; c; c = c->next_hidden ? test_unhide(c->next_hidden) : NULL, i++)
        CHECKF(c->seq == i, "link %zu of the chain holds %" PRIu64, i, c->seq);
    CHECKF(i == n, "the chain has %zu links of %zu", i, n);
    chain_head = NULL;
}

/* Threads that allocate boxes and targets while others collect. */
static void *box_worker(void *arg)
{
    uint64_t base = (uint64_t)(uintptr_t)arg;
    int rounds = (int)test_scale(200, 10, 20);
    for (int r = 0; r < rounds; r++) {
        box *mine[16];
        for (int i = 0; i < 16; i++) {
            uint64_t slot = 1000 + base * 16 + (uint64_t)i;
            mine[i] = new_box(slot, new_target(slot * 1000 + (uint64_t)r));
        }
        if (r % 20 == 0)
            hgc_collect();
        test_churn(64 * KiB);
        for (int i = 0; i < 16; i++) {
            uint64_t slot = 1000 + base * 16 + (uint64_t)i;
            CHECK(mine[i]->magic == BOX_MAGIC && mine[i]->slot == slot);
            CHECKF(((target *)side[slot])->key == slot * 1000 + (uint64_t)r,
                   "thread %" PRIu64 ": a box's target was overwritten", base);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t th[3];
    for (uintptr_t i = 0; i < 3; i++)
        CHECK(pthread_create(&th[i], NULL, box_worker, (void *)i) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
}

static void noop_mark(void *obj, size_t size, hgc_mark_state *st, void *env)
{
    (void)obj, (void)size, (void)st, (void)env;
}

static void test_limits(void)
{
    int made = 2; /* box_kind and link_kind */
    while (hgc_kind_create(noop_mark, NULL) >= 0)
        made++;
    CHECKF(made == HGC_MAX_KINDS, "%d kinds made before -1, not HGC_MAX_KINDS (%d)", made,
           HGC_MAX_KINDS);
    CHECK(hgc_kind_create(noop_mark, NULL) == -1);
    test_child c;
    test_run_case("bad_kind", NULL, &c);
    CHECKF(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGABRT &&
               test_has_line(c.err, "hgc: hgc_malloc_kind: 99 is not a kind made by "
                                    "hgc_kind_create"),
           "hgc_malloc_kind(16, 99): status %d, stderr: %s", c.status, c.err);
    test_child_free(&c);
    test_run_case("null_fn", NULL, &c);
    CHECKF(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGABRT &&
               test_has_line(c.err, "hgc: hgc_kind_create: the mark function is NULL"),
           "hgc_kind_create(NULL, NULL): status %d, stderr: %s", c.status, c.err);
    test_child_free(&c);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "null_fn") == 0)
        return hgc_kind_create(NULL, NULL);
    if (argc > 1 && strcmp(argv[1], "bad_kind") == 0) {
        hgc_init();
        void *p = hgc_malloc_kind(16, 99);
        return p != NULL;
    }
    side = calloc(SLOTS, sizeof *side);
    CHECK(side != NULL);
    box_kind = hgc_kind_create(mark_box, &box_kind);
    link_kind = hgc_kind_create(mark_link, NULL);
    CHECK(box_kind >= 0 && link_kind >= 0 && box_kind != link_kind);
    test_side_table();
    test_minor();
    test_own_words_unscanned();
    test_freed_slots();
    test_large_and_realloc();
    test_chain();
    test_threads();
    CHECKF(atomic_load(&bad_calls) == 0, "the mark function saw %ld objects it must not",
           atomic_load(&bad_calls));
    test_limits();
    printf("test_kinds: ok\n");
    return 0;
}
