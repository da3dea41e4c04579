/*
 * test_weak: weak links (hgc_weak_register and friends).
 *   - a link in unscanned memory (malloc) is cleared when its target dies
 *     and kept, still pointing at the intact target, while it lives;
 *   - a link in a scanned heap object holding the target hidden works the
 *     same, and dies with that object (its registration is dropped);
 *   - short and long links around a finalizer: the short link is cleared
 *     in the collection that finds the target unreachable, the long one
 *     only after the finalizer ran and the target died for good;
 *   - return codes: duplicate, not found, not an object, move;
 *   - threads registering, moving and dropping links while others collect.
 * A conservative collector may keep a dropped target through a stale stack
 * word, so "must be cleared" checks allow a few stragglers; "must not"
 * checks are exact.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define N 200
#define MIN_DEAD(n) ((n) * 9 / 10)

typedef struct node {
    uint64_t key;
    uintptr_t hidden; /* a weak link kept in a scanned object */
} node;

static node *kept[N];

static TEST_NOINLINE void make_targets(void **links)
{
    for (int i = 0; i < N; i++) {
        node *n = hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        n->key = 0xabc0000 + (uint64_t)i;
        links[i] = n;
        CHECK(hgc_weak_register(&links[i], n) == HGC_OK);
        if (i % 2 == 0)
            kept[i] = n;
    }
}

static void test_unscanned_links(void)
{
    void **links = malloc(N * sizeof *links); /* malloc memory: not scanned */
    CHECK(links != NULL);
    make_targets(links);
    test_collect_n(3);
    test_churn(4 * MiB);
    int cleared = 0;
    for (int i = 0; i < N; i++) {
        if (i % 2 == 0) {
            CHECKF(links[i] == kept[i], "link %d to a live object was changed", i);
            CHECK(((node *)links[i])->key == 0xabc0000 + (uint64_t)i);
        } else {
            cleared += links[i] == NULL;
        }
    }
    CHECKF(cleared >= MIN_DEAD(N / 2), "only %d of %d links to dead objects cleared", cleared,
           N / 2);
    for (int i = 0; i < N; i += 2) {
        CHECK(hgc_weak_unregister(&links[i]) == HGC_OK);
        CHECK(hgc_weak_unregister(&links[i]) == HGC_NOT_FOUND);
        kept[i] = NULL;
    }
    /* Unregistered links are never touched again. */
    test_collect_n(2);
    for (int i = 0; i < N; i += 2)
        CHECK(links[i] != NULL);
    for (int i = 1; i < N; i += 2) /* a straggler's link is still registered */
        hgc_weak_unregister(&links[i]);
    free(links);
}

/* Holders keep hidden weak links to targets; dropping the holders drops
 * the registrations with them. */
static node *holders[N];

static TEST_NOINLINE void make_holders(void)
{
    for (int i = 0; i < N; i++) {
        node *h = hgc_malloc(sizeof *h), *t = hgc_malloc(sizeof *t);
        CHECK(h && t);
        t->key = 7;
        h->hidden = HGC_HIDE_POINTER(t);
        CHECK(hgc_weak_register((void **)&h->hidden, t) == HGC_OK);
        holders[i] = h;
        if (i % 2 == 0)
            kept[i] = t;
    }
}

static TEST_NOINLINE void drop_holders(uintptr_t *where)
{
    for (int i = 0; i < N; i++) {
        where[i] = (uintptr_t)&holders[i]->hidden;
        holders[i] = NULL;
    }
}

static void test_hidden_links(void)
{
    make_holders();
    test_collect_n(2);
    int cleared = 0;
    for (int i = 0; i < N; i++) {
        node *t = HGC_REVEAL_POINTER(holders[i]->hidden);
        if (i % 2 == 0)
            CHECK(t == kept[i] && t->key == 7);
        else
            cleared += holders[i]->hidden == 0;
    }
    CHECKF(cleared >= MIN_DEAD(N / 2), "only %d of %d hidden links cleared", cleared, N / 2);
    for (int i = 0; i < N; i++)
        kept[i] = NULL;

    /* Now the holders die: their links' registrations go with them. */
    uintptr_t *where = malloc(N * sizeof *where);
    CHECK(where != NULL);
    drop_holders(where);
    test_collect_n(3);
    int forgotten = 0;
    for (int i = 0; i < N; i++) {
        /* A registration still there would make unregister succeed. */
        void **link = (void **)where[i];
        forgotten += hgc_base(link) == NULL || hgc_weak_unregister(link) == HGC_NOT_FOUND;
    }
    CHECKF(forgotten >= MIN_DEAD(N), "only %d of %d links in dead holders forgotten", forgotten,
           N);
    free(where);
}

/* Short and long links to objects with finalizers. */
static void **short_links, **long_links;
static int finalized[N];
static int bad;

static void fin(void *p, void *data)
{
    int i = (int)(uintptr_t)data;
    (void)p;
    /* The short link is gone already, the long one not yet. */
    if (short_links[i] != NULL || long_links[i] != p)
        bad++;
    finalized[i]++;
}

static TEST_NOINLINE void make_finalizable(void)
{
    for (int i = 0; i < N; i++) {
        node *n = hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        short_links[i] = long_links[i] = n;
        CHECK(hgc_weak_register(&short_links[i], n) == HGC_OK);
        CHECK(hgc_weak_register_long(&long_links[i], n) == HGC_OK);
        CHECK(hgc_register_finalizer(n, fin, (void *)(uintptr_t)i, HGC_FINALIZE_ORDERED, NULL,
                                     NULL) == HGC_OK);
    }
}

static void test_short_and_long(void)
{
    short_links = calloc(N, sizeof *short_links);
    long_links = calloc(N, sizeof *long_links);
    CHECK(short_links && long_links);
    hgc_set_finalize_on_demand(1, NULL);
    make_finalizable();
    test_collect_n(1);
    int queued = 0;
    for (int i = 0; i < N; i++) {
        if (short_links[i] == NULL) {
            queued++;
            CHECKF(long_links[i] != NULL, "long link %d cleared before the finalizer ran", i);
        }
    }
    CHECKF(queued >= MIN_DEAD(N), "only %d of %d short links cleared", queued, N);
    test_collect_n(1); /* still queued: long links stay */
    for (int i = 0; i < N; i++)
        if (short_links[i] == NULL)
            CHECK(long_links[i] != NULL);
    hgc_run_finalizers();
    hgc_set_finalize_on_demand(0, NULL);
    CHECK(bad == 0);
    test_collect_n(2);
    int gone = 0;
    for (int i = 0; i < N; i++) {
        CHECK(finalized[i] <= 1);
        gone += finalized[i] && long_links[i] == NULL;
    }
    CHECKF(gone >= MIN_DEAD(N), "only %d of %d long links cleared after finalization", gone, N);
    /* Links of targets a stale word still keeps are registered: they must
     * go before their memory does. */
    for (int i = 0; i < N; i++) {
        hgc_weak_unregister(&short_links[i]);
        hgc_weak_unregister(&long_links[i]);
    }
    free(short_links);
    free(long_links);
}

static void test_codes(void)
{
    static int global;
    void **links = calloc(3, sizeof *links);
    CHECK(links != NULL);
    node *n = hgc_malloc(sizeof *n);
    CHECK(n != NULL);
    links[0] = n;
    CHECK(hgc_weak_register(&links[0], &global) == HGC_NOT_OBJECT);
    CHECK(hgc_weak_register(&links[0], (char *)n + 1) == HGC_NOT_OBJECT);
    CHECK(hgc_weak_register(&links[0], n) == HGC_OK);
    CHECK(hgc_weak_register(&links[0], n) == HGC_DUPLICATE);
    CHECK(hgc_weak_move(&links[1], &links[2]) == HGC_NOT_FOUND);
    CHECK(hgc_weak_register(&links[2], n) == HGC_OK);
    CHECK(hgc_weak_move(&links[0], &links[2]) == HGC_DUPLICATE);
    CHECK(hgc_weak_unregister(&links[2]) == HGC_OK);
    CHECK(hgc_weak_move(&links[0], &links[1]) == HGC_OK);
    CHECK(hgc_weak_move(&links[0], &links[1]) == HGC_NOT_FOUND);
    CHECK(hgc_weak_move(&links[1], &links[1]) == HGC_OK);
    links[1] = n;
    links[0] = n; /* no longer registered: must survive untouched */
    links[2] = n;
    n = NULL;
    test_collect_n(3);
    CHECK(links[0] != NULL && links[2] != NULL);
    /* links[1] was cleared unless a stale word kept n; either way not
     * written with anything else. */
    CHECK(links[1] == NULL || links[1] == links[0]);
    hgc_weak_unregister(&links[1]);
    free(links);
}

/* Threads: each registers links in its own malloc array, moves half of
 * them, and checks they are cleared or intact while others collect. */
#define THREADS 4
static TEST_NOINLINE void mt_round(void **links, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        node *x = hgc_malloc(sizeof *x);
        CHECK(x != NULL);
        x->key = i;
        links[2 * i] = x;
        CHECK(hgc_weak_register(&links[2 * i], x) == HGC_OK);
        if (i % 2) {
            CHECK(hgc_weak_move(&links[2 * i], &links[2 * i + 1]) == HGC_OK);
            links[2 * i + 1] = x;
            links[2 * i] = NULL; /* no longer a link: plain memory */
        }
    }
}

static void *mt_worker(void *arg)
{
    size_t n = (size_t)arg;
    void **links = calloc(2 * n, sizeof *links);
    CHECK(links != NULL);
    for (int round = 0; round < 4; round++) {
        mt_round(links, n);
        test_clear_stack();
        hgc_collect();
        for (size_t i = 0; i < 2 * n; i++) {
            node *x = links[i];
            if (x)
                CHECK(x->key == i / 2);
            hgc_weak_unregister(&links[i]);
            links[i] = NULL;
        }
    }
    free(links);
    return NULL;
}

static void test_threads(void)
{
    size_t n = test_scale(2000, 4, 8);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, mt_worker, (void *)n) == 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
}

int main(void)
{
    hgc_init();
    test_unscanned_links();
    test_hidden_links();
    test_short_and_long();
    test_codes();
    test_threads();
    printf("test_weak: ok\n");
    return 0;
}
