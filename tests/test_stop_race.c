/*
 * test_stop_race: a stop signal that reaches a thread after it entered a
 * blocking region (cases transit and contend), or while it is already
 * stopping at a safe point (case nested), or not at all (case lost; both
 * described at their code).
 *
 * The collector signals every thread that is not in a blocking region,
 * then waits until each has acknowledged or entered one: a blocking
 * thread counts as stopped.  A thread signalled just before it entered
 * its region still runs the handler there, and the collector does not
 * wait for it.  If the world restarts between the handler's decision to
 * stop and its reading of the restart count, the thread used to sleep
 * until the *next* restart.  Two ways it showed:
 *
 *   transit  threads enter and leave blocking regions in a tight loop
 *            (allocating nothing, so that only main collects) while main
 *            runs one collection at a time and then waits for every
 *            thread to take a step: a thread asleep in its handler takes
 *            none until a next collection, and fails the round after 2 s.
 *   contend  more threads than CPUs allocate against a tiny heap floor
 *            and call hgc_collect(): a thread that waits for the world
 *            lock is in a blocking region, and one asleep in its handler
 *            while holding the next ticket stops every thread for good.
 *
 * HGC_TEST_STOP_DELAY (set for the cases, which run as children) makes a
 * handler that runs in a blocking region sleep between the decision and
 * the acknowledgement, so that the window, a few instructions wide in real
 * programs, is hit within a second.  A watchdog thread (never registered)
 * fails a case whose threads make no progress for WATCHDOG_S seconds,
 * instead of leaving CTest to kill a hung process.
 * Every thread checks the contents of the objects it keeps.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define RING 16
#define WATCHDOG_S 5

static atomic_ulong progress;
static atomic_int finished;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *watchdog(void *arg)
{
    const char *what = arg;
    unsigned long last = atomic_load(&progress);
    double last_change = now_s();
    while (!atomic_load(&finished)) {
        usleep(50000);
        unsigned long p = atomic_load(&progress);
        if (p != last) {
            last = p;
            last_change = now_s();
        } else if (now_s() - last_change > WATCHDOG_S) {
            fprintf(stderr, "test_stop_race %s: no progress for %d s: a thread sleeps in its "
                            "stop handler after the restart, or a stop waits for a thread "
                            "that never got its signal\n", what, WATCHDOG_S);
            fflush(stderr);
            abort();
        }
    }
    return NULL;
}

/* One allocation of a ring of RING live objects, checking the one it
 * replaces. */
static void ring_step(uint64_t **ring, uintptr_t id, uint64_t i)
{
    unsigned slot = (unsigned)(i % RING);
    uint64_t *old = ring[slot];
    if (old)
        CHECKF(old[0] == ((id << 48) ^ (i - RING)) && old[3] == ~old[0],
               "thread %u: object %p holds %#" PRIx64, (unsigned)id, (void *)old, old[0]);
    uint64_t *o = hgc_malloc(32);
    CHECK(o != NULL);
    o[0] = (id << 48) ^ i;
    o[3] = ~o[0];
    ring[slot] = o;
}

/* ---- transit ---- */

enum { NTRANSIT = 3 };
static atomic_int stop_transit;
static atomic_ulong transit_steps[NTRANSIT];

static void *transit_worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    /* Objects allocated once: an allocation here could start a
     * collection, whose restart would wake a thread stuck in its handler
     * and hide the bug. */
    uint64_t *ring[RING] = {0};
    for (uint64_t i = 0; i < RING; i++)
        ring_step(ring, id, i);
    for (uint64_t i = 0; !atomic_load_explicit(&stop_transit, memory_order_relaxed); i++) {
        hgc_blocking_enter();
        hgc_blocking_leave();
        atomic_store_explicit(&transit_steps[id], i, memory_order_relaxed);
        if (i % 1024 == 0)
            for (uint64_t k = 0; k < RING; k++)
                CHECKF(ring[k][0] == ((id << 48) ^ k) && ring[k][3] == ~ring[k][0],
                       "transit thread %u: object %p holds %#" PRIx64, (unsigned)id,
                       (void *)ring[k], ring[k][0]);
    }
    return NULL;
}

/* Rounds of one collection each; after it, every thread must move on
 * without another collection to wake it. */
static void case_transit(void)
{
    pthread_t th[NTRANSIT];
    for (uintptr_t i = 0; i < NTRANSIT; i++)
        CHECK(pthread_create(&th[i], NULL, transit_worker, (void *)i) == 0);
    int rounds = test_slow() ? 60 : 150;
    for (int r = 0; r < rounds; r++) {
        hgc_collect();
        atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
        for (int i = 0; i < NTRANSIT; i++) {
            unsigned long at = atomic_load(&transit_steps[i]);
            double give_up = now_s() + 2.0;
            while (atomic_load(&transit_steps[i]) == at) {
                CHECKF(now_s() < give_up,
                       "round %d: transit thread %d made no step for 2 s after the "
                       "collection: it sleeps in its stop handler after the restart", r, i);
                usleep(20);
            }
        }
    }
    atomic_store(&stop_transit, 1);
    for (int i = 0; i < NTRANSIT; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    printf("transit: %d rounds\n", rounds);
}

/* ---- workers of contend and nested ---- */

static double run_end;        /* the workers stop past this time */
static bool workers_collect;  /* odd workers also call hgc_collect() */

static void *ring_worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t *ring[RING] = {0};
    for (uint64_t i = 0;; i++) {
        ring_step(ring, id, i);
        if (i % 1024 == 0) {
            atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
            if (now_s() > run_end)
                break;
        }
        if (workers_collect && (id & 1) && i % 2000 == 0)
            hgc_collect();
    }
    return NULL;
}

/* Runs n ring workers (ids from first_id) for a second (half under
 * sanitizers) while the calling thread runs meanwhile(), if not NULL;
 * checks that more than 20 collections ran, and reports them. */
static void run_workers(const char *what, int n, uintptr_t first_id, void (*meanwhile)(void))
{
    hgc_stats before, after;
    hgc_get_stats(&before);
    run_end = now_s() + (test_slow() ? 0.5 : 1.0);
    pthread_t th[8];
    CHECK(n <= 8);
    for (int i = 0; i < n; i++)
        CHECK(pthread_create(&th[i], NULL, ring_worker, (void *)(first_id + (uintptr_t)i)) == 0);
    if (meanwhile)
        meanwhile();
    for (int i = 0; i < n; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    hgc_get_stats(&after);
    printf("%s: %" PRIu64 " collections\n", what, (uint64_t)(after.collections - before.collections));
    CHECK(after.collections - before.collections > 20);
}

/* ---- contend ---- */

/* Odd workers ask for collections too: two ways into the lock. */
static void case_contend(void)
{
    workers_collect = true;
    run_workers("contend", 6, 100, NULL);
}

/* ---- nested ---- */

/* HGC_TEST_STOP_NESTED makes every thread that stops at a safe point send
 * itself the stop signal between reading the restart count and deciding
 * to stop.  The handler must leave that stop to the thread; one that took
 * it (acknowledged the round, waited out its restart) made the thread
 * then take the next round's stop with the old count -- and run on in a
 * stopped world, which the library's check after every stop reports. */

/* Back-to-back collections from a thread that never stops at a safe
 * point: the next round asks the workers while they are still in the
 * last one's stop. */
static void collect_until_end(void)
{
    while (now_s() < run_end)
        hgc_collect();
}

static void case_nested(void)
{
    workers_collect = false;
    run_workers("nested", 2, 200, collect_until_end);
}

/* ---- lost ---- */

/* HGC_TEST_LOSE_SIGNAL drops the first stop signal of each stop to each
 * thread, as ThreadSanitizer once did to a thread blocked in pthread_join.
 * Here the main thread, registered and holding objects, sits in
 * pthread_join -- no safe point, no blocking region -- while the thread it
 * joins collects: every stop must signal it a second time, or wait for
 * it forever. */
enum { LOST_COLLECTIONS = 20 };

static void *lost_collector(void *arg)
{
    (void)arg;
    for (int i = 0; i < LOST_COLLECTIONS; i++) {
        hgc_collect();
        atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
    }
    return NULL;
}

static void case_lost(void)
{
    uint64_t *ring[RING] = {0};
    for (uint64_t i = 0; i < 2 * RING; i++)
        ring_step(ring, 300, i);
    hgc_stats before, after;
    hgc_get_stats(&before);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, lost_collector, NULL) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    hgc_get_stats(&after);
    CHECK(after.collections - before.collections == LOST_COLLECTIONS);
    for (uint64_t i = RING; i < 2 * RING; i++) {
        uint64_t *o = ring[i % RING];
        CHECKF(o[0] == (((uint64_t)300 << 48) ^ i) && o[3] == ~o[0],
               "lost: object %p holds %#" PRIx64, (void *)o, o[0]);
    }
    printf("lost: %d collections\n", LOST_COLLECTIONS);
}

static void run_case(const char *name, void (*fn)(void))
{
    pthread_t dog;
    atomic_store(&finished, 0);
    CHECK(pthread_create(&dog, NULL, watchdog, (void *)name) == 0);
    fn();
    atomic_store(&finished, 1);
    CHECK(pthread_join(dog, NULL) == 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "transit") == 0)
            run_case("transit", case_transit);
        else if (strcmp(argv[1], "contend") == 0)
            run_case("contend", case_contend);
        else if (strcmp(argv[1], "nested") == 0)
            run_case("nested", case_nested);
        else if (strcmp(argv[1], "lost") == 0)
            run_case("lost", case_lost);
        else
            CHECKF(0, "unknown case %s", argv[1]);
        return 0;
    }
    /* Options are read when the library loads: each case runs in a child
     * with its own.  transit and contend: a collection every 64 KiB of
     * allocation and 1 ms between a handler's decision to stop and its
     * acknowledgement when it runs in a blocking region (longer than a
     * collection of this tiny heap); nested: the same floor and the
     * self-sent signal inside every stop; lost: every first signal
     * dropped. */
    static const char *const delay_env[] = {"HGC_MIN_HEAP=64K", "HGC_TEST_STOP_DELAY=1000", NULL};
    static const char *const nested_env[] = {"HGC_MIN_HEAP=64K", "HGC_TEST_STOP_NESTED=1", NULL};
    static const char *const lost_env[] = {"HGC_TEST_LOSE_SIGNAL=1", NULL};
    static const struct {
        const char *name;
        const char *const *env;
    } cases[] = {{"transit", delay_env}, {"contend", delay_env}, {"nested", nested_env},
                 {"lost", lost_env}};
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_child c;
        test_run_case(cases[i].name, cases[i].env, &c);
        if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
            fprintf(stderr, "FAIL %s\n", cases[i].name);
            test_print_child(cases[i].name, &c);
            failures++;
        } else {
            printf("ok   %s\n", cases[i].name);
        }
        test_child_free(&c);
    }
    return failures ? 1 : 0;
}
