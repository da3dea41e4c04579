/*
 * test_threads_register: explicit thread registration.
 *   - hgc_init / hgc_thread_register / hgc_thread_unregister are idempotent:
 *     calling them twice changes stats.threads once;
 *   - a thread that exits without unregistering is removed (stats.threads
 *     back down after join + a collection);
 *   - a thread that never allocates but calls hgc_thread_register() and
 *     holds the only pointer to an object on its stack keeps it alive while
 *     main collects and churns; it verifies the object afterwards;
 *   - a thread can register again after unregistering, and allocate;
 *   - a thread that unregistered and allocates again registers again, and
 *     does not allocate from the cache of the thread that took over its
 *     old record.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define OBJ (4 * MiB)

static atomic_int step;
static uintptr_t handoff;   /* the object, disguised */
static uintptr_t expected;  /* same, for verification */

static void wait_step(int s)
{
    while (atomic_load(&step) < s)
        test_sleep_ms(1);
}

static size_t nthreads(void) { return test_stats().threads; }

/* Registers twice, unregisters twice, registers again; main observes
 * stats.threads between the steps (the thread itself does not call
 * hgc_get_stats, which may register its caller). */
static atomic_int istep;

static void iwait(int s)
{
    while (atomic_load(&istep) < s)
        test_sleep_ms(1);
}

static void *idem(void *arg)
{
    (void)arg;
    hgc_thread_register();
    hgc_thread_register();
    atomic_store(&istep, 1);
    iwait(2);
    hgc_thread_unregister();
    hgc_thread_unregister();
    atomic_store(&istep, 3);
    iwait(4);
    hgc_thread_register();
    {
        void *p = hgc_malloc(100);
        CHECK(p != NULL);
    }
    atomic_store(&istep, 5);
    iwait(6);
    hgc_thread_unregister();
    atomic_store(&istep, 7);
    iwait(8);
    return NULL;
}

static void check_idem(size_t n0)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, idem, NULL) == 0);
    iwait(1);
    CHECKF(nthreads() == n0 + 1, "threads %zu after registering twice",
           nthreads());
    atomic_store(&istep, 2);
    iwait(3);
    CHECKF(nthreads() == n0, "threads %zu after unregistering twice",
           nthreads());
    atomic_store(&istep, 4);
    iwait(5);
    CHECKF(nthreads() == n0 + 1, "threads %zu after registering again",
           nthreads());
    atomic_store(&istep, 6);
    iwait(7);
    CHECKF(nthreads() == n0, "threads %zu after the last unregister",
           nthreads());
    atomic_store(&istep, 8);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(nthreads() == n0);
}

/* Record reuse: `first` allocates, unregisters and waits while `second`
 * registers -- taking over the record first gave back -- and allocates from
 * a fresh cache; then first allocates again, which must register it anew
 * rather than use the cache that is now second's. */
static atomic_int rstep;
static void *first_obj, *second_obj, *again_obj;

static void rwait(int s)
{
    while (atomic_load(&rstep) < s)
        test_sleep_ms(1);
}

static void *reuse_first(void *arg)
{
    (void)arg;
    CHECK(hgc_malloc(48) != NULL);
    hgc_thread_unregister();
    atomic_store(&rstep, 1);
    rwait(2);
    again_obj = hgc_malloc(48);
    CHECK(again_obj != NULL);
    atomic_store(&rstep, 3);
    rwait(4);
    return NULL;
}

static void *reuse_second(void *arg)
{
    (void)arg;
    second_obj = hgc_malloc(48);
    CHECK(second_obj != NULL);
    atomic_store(&rstep, 2);
    rwait(4);
    /* Its cache must be as second left it: the next slot is new too. */
    first_obj = hgc_malloc(48);
    CHECK(first_obj != NULL && first_obj != again_obj && first_obj != second_obj);
    return NULL;
}

static void check_record_reuse(size_t n0)
{
    pthread_t a, b;
    CHECK(pthread_create(&a, NULL, reuse_first, NULL) == 0);
    rwait(1);
    CHECK(pthread_create(&b, NULL, reuse_second, NULL) == 0);
    rwait(3);
    CHECKF(nthreads() == n0 + 2, "threads %zu: a thread allocating after it unregistered "
           "was not registered again", nthreads());
    CHECK(again_obj != second_obj);
    atomic_store(&rstep, 4);
    CHECK(pthread_join(a, NULL) == 0);
    CHECK(pthread_join(b, NULL) == 0);
}

/* registers (explicitly or by allocating) and exits without unregistering */
static void *leaver(void *arg)
{
    if (arg)
        hgc_thread_register();
    else
        CHECK(hgc_malloc(64) != NULL);
    return NULL;
}

/* never allocates: registers, takes the only pointer, holds it */
static void *holder(void *arg)
{
    void *volatile mine;
    (void)arg;
    hgc_thread_register();
    wait_step(1);
    mine = test_unhide(handoff);
    handoff = 0;
    test_clear_stack();
    atomic_store(&step, 2);
    wait_step(3);
    CHECK(mine == test_unhide(expected));
    CHECK_PATTERN(mine, OBJ, (uintptr_t)mine);
    return NULL;
}

static TEST_NOINLINE void make_obj(void)
{
    void *p = hgc_malloc(OBJ);
    CHECK(p != NULL);
    test_fill(p, OBJ, (uintptr_t)p);
    expected = test_hide(p);
    /* handoff is disguised too: until the holder has it, the object is
     * reachable from nowhere, so no collection may run in between. */
    handoff = test_hide(p);
}

int main(void)
{
    pthread_t t;
    size_t n0;
    int i;

    hgc_init();
    hgc_init();
    hgc_thread_register();
    hgc_thread_register();
    n0 = nthreads();
    CHECKF(n0 == 1, "threads %zu with only main registered", n0);

    /* idempotence */
    check_idem(n0);
    check_record_reuse(n0);

    /* exit without unregistering */
    for (i = 0; i < 2; i++) {
        CHECK(pthread_create(&t, NULL, leaver, i ? (void *)1 : NULL) == 0);
        CHECK(pthread_join(t, NULL) == 0);
        hgc_collect();
        CHECKF(nthreads() == n0, "threads %zu after a thread exited "
               "registered (%s)", nthreads(),
               i ? "hgc_thread_register" : "by allocation");
    }

    /* a registered thread that never allocates keeps its object alive */
    hgc_disable(); /* the object is unreachable during the handoff */
    CHECK(pthread_create(&t, NULL, holder, NULL) == 0);
    make_obj();
    test_clear_stack();
    atomic_store(&step, 1);
    wait_step(2);
    hgc_enable();
    CHECK(nthreads() == n0 + 1);
    for (i = 0; i < 4; i++) {
        hgc_stats s;
        test_clear_stack();
        hgc_collect();
        s = test_stats();
        CHECKF(s.live_bytes >= OBJ,
               "live_bytes %zu while the holder thread keeps %zu bytes",
               s.live_bytes, (size_t)OBJ);
        test_churn(test_scale(8 * MiB, 4, 8));
        test_churn_sizes(test_scale(16 * MiB, 4, 8), OBJ, OBJ, (uint64_t)i);
    }
    atomic_store(&step, 3);
    CHECK(pthread_join(t, NULL) == 0);
    hgc_collect();
    CHECK(nthreads() == n0);

    /* main can unregister and register again */
    hgc_thread_unregister();
    hgc_thread_register();
    CHECK(nthreads() == n0);
    CHECK(hgc_malloc(10) != NULL);

    printf("test_threads_register: ok\n");
    return 0;
}
