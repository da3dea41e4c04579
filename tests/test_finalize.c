/*
 * test_finalize: finalizers (hgc_register_finalizer and friends).
 *   - a dropped object's finalizer runs exactly once, with its object and
 *     data; the data (reachable only through the registration) is intact;
 *     a reachable object's finalizer never runs;
 *   - ordered mode: with A -> B both finalizable, A's finalizer runs in an
 *     earlier collection than B's, and B is intact when A's runs;
 *   - an object pointing to itself is never finalized in ordered mode, is
 *     in ignore-self mode; unordered pairs are finalized together;
 *   - resurrection: a finalizer that stores its object keeps it alive and
 *     intact through later collections; registering again in the
 *     finalizer runs it again;
 *   - replacing, cancelling (fn NULL, hgc_free) and bad arguments;
 *   - on demand: nothing runs until hgc_run_finalizers(); the notifier is
 *     called; a finalizer that allocates and collects does not recurse;
 *   - threads registering finalizers while others collect.
 * A conservative collector may keep a dropped object through a stale stack
 * word, so "must die" checks allow a few stragglers; "must not" checks are
 * exact.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define N 200
#define MIN_DEAD(n) ((n) * 9 / 10)

typedef struct obj {
    uint64_t index;
    uint64_t key;       /* index-derived pattern word */
    struct obj *next;   /* ordered pairs: A -> B */
} obj;

static uint64_t key_of(uint64_t i) { return i * 0x9E3779B97F4A7C15ull ^ 0x5eed; }

/* Per index: how often its finalizer ran, and in which collection. */
#define NINDEX (5 * N)
static int ran[NINDEX];
static uint64_t ran_cycle[NINDEX];
static uint64_t ran_seq[NINDEX];
static uint64_t seq;
static int bad;         /* a finalizer saw something wrong */

static uint64_t collections(void) { return test_stats().collections; }

static void check_obj(const obj *o)
{
    if (o->key != key_of(o->index))
        bad++;
}

static void fin_record(void *p, void *data)
{
    obj *o = p;
    check_obj(o);
    if (data) { /* data: a heap object holding the index, pattern-filled */
        const uint64_t *d = data;
        if (d[0] != o->index || d[1] != key_of(o->index) * 3)
            bad++;
    }
    ran[o->index]++;
    ran_cycle[o->index] = collections();
    ran_seq[o->index] = ++seq;
}

static obj *make_obj(uint64_t i)
{
    obj *o = hgc_malloc(sizeof *o);
    CHECK(o != NULL);
    o->index = i;
    o->key = key_of(i);
    return o;
}

static int count_ran(uint64_t lo, uint64_t hi)
{
    int n = 0;
    for (uint64_t i = lo; i < hi; i++) {
        CHECKF(ran[i] <= 1, "finalizer of %llu ran %d times", (unsigned long long)i, ran[i]);
        n += ran[i];
    }
    return n;
}

/* -------------------------------------------------------------- basic */

static obj *kept[N / 2];

static TEST_NOINLINE void make_basic(void)
{
    for (uint64_t i = 0; i < N; i++) {
        obj *o = make_obj(i);
        uint64_t *data = hgc_malloc_atomic(2 * sizeof *data);
        CHECK(data != NULL);
        data[0] = i;
        data[1] = key_of(i) * 3;
        CHECK(hgc_register_finalizer(o, fin_record, data, HGC_FINALIZE_ORDERED, NULL, NULL) ==
              HGC_OK);
        if (i % 2 == 0)
            kept[i / 2] = o;
    }
}

static void test_basic(void)
{
    make_basic();
    test_collect_n(3);
    test_churn(4 * MiB); /* reuse whatever was freed: data must not be */
    test_collect_n(2);
    for (uint64_t i = 0; i < N; i += 2)
        CHECKF(ran[i] == 0, "finalizer of reachable object %llu ran", (unsigned long long)i);
    int dead = count_ran(0, N);
    CHECKF(dead >= MIN_DEAD(N / 2), "only %d of %d finalizers ran", dead, N / 2);
    CHECK(bad == 0);
    for (int i = 0; i < N / 2; i++)
        check_obj(kept[i]);
    CHECK(bad == 0);
}

/* -------------------------------------------------------------- order */

#define PAIRS 100
/* Ordered pairs use indices [PAIR_BASE, +2 * PAIRS), unordered ones the
 * next 2 * PAIRS: an ordered object kept by a stale word and finalized
 * late must not count for an unordered one. */
#define PAIR_BASE N

static void fin_first(void *p, void *data)
{
    obj *a = p;
    (void)data;
    /* B must still be intact and not finalized yet. */
    check_obj(a->next);
    if (ran[a->next->index] != 0)
        bad++;
    fin_record(p, NULL);
}

static TEST_NOINLINE void make_pairs(int mode, uint64_t base)
{
    for (uint64_t k = 0; k < PAIRS; k++) {
        obj *a = make_obj(base + 2 * k), *b = make_obj(base + 2 * k + 1);
        a->next = b;
        CHECK(hgc_register_finalizer(a, mode == HGC_FINALIZE_UNORDERED ? fin_record : fin_first,
                                     NULL, mode, NULL, NULL) == HGC_OK);
        CHECK(hgc_register_finalizer(b, fin_record, NULL, mode, NULL, NULL) == HGC_OK);
    }
}

static void reset(uint64_t lo, uint64_t hi)
{
    for (uint64_t i = lo; i < hi; i++)
        ran[i] = 0, ran_cycle[i] = 0, ran_seq[i] = 0;
}

static void test_order(void)
{
    make_pairs(HGC_FINALIZE_ORDERED, PAIR_BASE);
    test_collect_n(4);
    int both = 0;
    for (uint64_t k = 0; k < PAIRS; k++) {
        uint64_t a = PAIR_BASE + 2 * k, b = a + 1;
        if (ran[b])
            CHECKF(ran[a] && ran_cycle[a] < ran_cycle[b],
                   "pair %llu: B finalized in collection %llu, A in %llu (ran %d)",
                   (unsigned long long)k, (unsigned long long)ran_cycle[b],
                   (unsigned long long)ran_cycle[a], ran[a]);
        both += ran[a] && ran[b];
    }
    CHECK(bad == 0);
    CHECKF(both >= MIN_DEAD(PAIRS), "only %d of %d ordered pairs finalized", both, PAIRS);

    /* Unordered: both ends go in the same collection. */
    const uint64_t ubase = PAIR_BASE + 2 * PAIRS;
    make_pairs(HGC_FINALIZE_UNORDERED, ubase);
    test_collect_n(1);
    int together = 0;
    for (uint64_t k = 0; k < PAIRS; k++) {
        uint64_t a = ubase + 2 * k, b = a + 1;
        together += ran[a] && ran[b] && ran_cycle[a] == ran_cycle[b];
    }
    CHECKF(together >= MIN_DEAD(PAIRS), "only %d of %d unordered pairs finalized together",
           together, PAIRS);
    count_ran(PAIR_BASE, PAIR_BASE + 4 * PAIRS);
}

/* --------------------------------------------------------- self cycles */

#define SELF_BASE (PAIR_BASE + 4 * PAIRS)
#define SELF 100

static TEST_NOINLINE void make_selfish(int mode)
{
    for (uint64_t i = 0; i < SELF; i++) {
        obj *o = make_obj(SELF_BASE + i);
        o->next = o;
        CHECK(hgc_register_finalizer(o, fin_record, NULL, mode, NULL, NULL) == HGC_OK);
    }
}

static void test_self_cycles(void)
{
    reset(SELF_BASE, SELF_BASE + SELF);
    make_selfish(HGC_FINALIZE_ORDERED);
    test_collect_n(3);
    CHECKF(count_ran(SELF_BASE, SELF_BASE + SELF) == 0,
           "an ordered finalizer ran on an object that points to itself");
    /* The registrations stay; switching them to ignore-self is not
     * possible without the objects, so make new ones. */
    make_selfish(HGC_FINALIZE_IGNORE_SELF);
    test_collect_n(3);
    int n = count_ran(SELF_BASE, SELF_BASE + SELF);
    CHECKF(n >= MIN_DEAD(SELF), "only %d of %d ignore-self finalizers ran", n, SELF);
}

/* -------------------------------------------------------- resurrection */

#define RES_BASE (SELF_BASE + SELF)
#define RES 50
static obj *saved[RES];
static uintptr_t saved_hidden[RES];
static int rearm;

static void fin_resurrect(void *p, void *data)
{
    obj *o = p;
    (void)data;
    check_obj(o);
    saved[o->index - RES_BASE] = o;
    ran[o->index]++;
    if (rearm)
        CHECK(hgc_register_finalizer(o, fin_resurrect, NULL, HGC_FINALIZE_ORDERED, NULL, NULL) ==
              HGC_OK);
}

static TEST_NOINLINE void make_resurrecting(void)
{
    for (uint64_t i = 0; i < RES; i++) {
        obj *o = make_obj(RES_BASE + i);
        saved_hidden[i] = test_hide(o);
        CHECK(hgc_register_finalizer(o, fin_resurrect, NULL, HGC_FINALIZE_ORDERED, NULL, NULL) ==
              HGC_OK);
    }
}

static TEST_NOINLINE void drop_saved(void)
{
    for (int i = 0; i < RES; i++)
        saved[i] = NULL;
}

static void test_resurrection(void)
{
    make_resurrecting();
    test_collect_n(2);
    int n = count_ran(RES_BASE, RES_BASE + RES);
    CHECKF(n >= MIN_DEAD(RES), "only %d of %d resurrecting finalizers ran", n, RES);
    test_churn(4 * MiB);
    test_collect_n(2);
    test_churn(4 * MiB);
    for (int i = 0; i < RES; i++) {
        if (!saved[i])
            continue;
        CHECK(saved[i] == test_unhide(saved_hidden[i]));
        check_obj(saved[i]); /* not reused while saved */
        CHECK(ran[RES_BASE + i] == 1); /* consumed: did not run again */
    }
    CHECK(bad == 0);

    /* Registering again from the finalizer arms it again. */
    rearm = 1;
    for (int i = 0; i < RES; i++)
        if (saved[i])
            CHECK(hgc_register_finalizer(saved[i], fin_resurrect, NULL, HGC_FINALIZE_ORDERED,
                                         NULL, NULL) == HGC_OK);
    drop_saved();
    test_collect_n(2);
    int twice = 0;
    for (int i = 0; i < RES; i++)
        twice += ran[RES_BASE + i] >= 2;
    CHECKF(twice >= MIN_DEAD(n), "only %d of %d re-registered finalizers ran again", twice, n);
    rearm = 0;
    drop_saved();
}

/* ---------------------------------------------------- api edge cases */

static void fin_never(void *p, void *data)
{
    (void)p;
    (void)data;
    bad += 1000;
}

static int data_a, data_b;

static TEST_NOINLINE void make_cancelled(void)
{
    for (int i = 0; i < 50; i++) {
        obj *o = make_obj(0);
        hgc_finalizer_fn old_fn = fin_record;
        void *old_data = &data_a;
        CHECK(hgc_register_finalizer(o, fin_never, &data_a, HGC_FINALIZE_ORDERED, &old_fn,
                                     &old_data) == HGC_OK);
        CHECK(old_fn == NULL && old_data == NULL);
        CHECK(hgc_register_finalizer(o, fin_never, &data_b, HGC_FINALIZE_UNORDERED, &old_fn,
                                     &old_data) == HGC_OK);
        CHECK(old_fn == fin_never && old_data == &data_a);
        if (i % 2) {
            CHECK(hgc_register_finalizer(o, NULL, NULL, 0, &old_fn, &old_data) == HGC_OK);
            CHECK(old_fn == fin_never && old_data == &data_b);
        } else {
            hgc_free(o); /* cancels too */
        }
    }
}

static void test_api(void)
{
    static int global;
    obj *o = make_obj(0);
    CHECK(hgc_register_finalizer(&global, fin_never, NULL, 0, NULL, NULL) == HGC_NOT_OBJECT);
    CHECK(hgc_register_finalizer((char *)o + 8, fin_never, NULL, 0, NULL, NULL) ==
          HGC_NOT_OBJECT);
    CHECK(hgc_register_finalizer(NULL, fin_never, NULL, 0, NULL, NULL) == HGC_NOT_OBJECT);
    make_cancelled();
    test_collect_n(3);
    CHECK(bad == 0);
}

/* ----------------------------------------------------------- on demand */

#define DEM_BASE (RES_BASE + RES)
#define DEM 50
_Static_assert(DEM_BASE + DEM <= NINDEX, "indices fit");
static int notified;
static void notify(void) { notified++; }

static void fin_allocating(void *p, void *data)
{
    (void)data;
    /* Allocation and collection inside a finalizer: no recursion into the
     * queue, no deadlock. */
    for (int i = 0; i < 100; i++)
        CHECK(hgc_malloc(64) != NULL);
    hgc_collect();
    fin_record(p, NULL);
}

static TEST_NOINLINE void make_on_demand(void)
{
    for (uint64_t i = 0; i < DEM; i++)
        CHECK(hgc_register_finalizer(make_obj(DEM_BASE + i), fin_allocating, NULL,
                                     HGC_FINALIZE_ORDERED, NULL, NULL) == HGC_OK);
}

static void test_on_demand(void)
{
    hgc_set_finalize_on_demand(1, notify);
    make_on_demand();
    test_collect_n(2);
    test_churn(2 * MiB);
    CHECKF(count_ran(DEM_BASE, DEM_BASE + DEM) == 0, "finalizers ran without being asked");
    size_t pending = hgc_finalizers_pending();
    CHECKF(pending >= (size_t)MIN_DEAD(DEM), "only %zu finalizers pending", pending);
    CHECK(notified >= 1);
    size_t n = hgc_run_finalizers();
    CHECK(n >= pending);
    CHECK(hgc_finalizers_pending() == 0);
    CHECK((int)n == count_ran(DEM_BASE, DEM_BASE + DEM));
    CHECK(bad == 0);
    hgc_set_finalize_on_demand(0, NULL);
}

/* ------------------------------------------------------------- threads */

#define THREADS 4
static _Atomic int mt_ran;
static void fin_count(void *p, void *data)
{
    (void)p;
    (void)data;
    atomic_fetch_add(&mt_ran, 1);
}

static TEST_NOINLINE void *mt_worker(void *arg)
{
    size_t n = (size_t)arg;
    for (size_t i = 0; i < n; i++) {
        obj *o = make_obj(i);
        CHECK(hgc_register_finalizer(o, fin_count, NULL, HGC_FINALIZE_ORDERED, NULL, NULL) ==
              HGC_OK);
        if (i % 64 == 0)
            hgc_collect();
    }
    return NULL;
}

static void test_threads(void)
{
    size_t n = test_scale(4000, 4, 8);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, mt_worker, (void *)n) == 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    test_collect_n(3);
    int done = atomic_load(&mt_ran);
    CHECKF((size_t)done >= THREADS * n * 9 / 10, "%d of %zu finalizers ran", done, THREADS * n);
    CHECKF((size_t)done <= THREADS * n, "%d finalizers ran for %zu objects", done, THREADS * n);
}

int main(void)
{
    hgc_init();
    test_basic();
    test_order();
    test_self_cycles();
    test_resurrection();
    test_api();
    test_on_demand();
    test_threads();
    printf("test_finalize: ok\n");
    return 0;
}
