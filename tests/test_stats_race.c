/*
 * test_stats_race: hgc_get_stats() from running threads never deadlocks a
 * collection.
 *
 * The hazard: a thread that reads statistics takes internal locks; if the
 * stop signal stops it while it holds one, another thread that waits for
 * that lock inside a critical section can never acknowledge the stop, and
 * the collector waits forever.  Two threads read statistics in a tight
 * loop, two allocate small and large objects (every large one takes the
 * page-heap lock inside a critical section) and the main thread collects,
 * for about a second.  A watchdog turns a hang into a failure.
 */
#include "test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

static atomic_int stop;
static atomic_size_t reads, allocs;

static void on_alarm(int sig)
{
    static const char msg[] = "test_stats_race: FAILED: deadlock (no progress in 60 s)\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) {
    }
    _exit(1);
}

static void *reader(void *arg)
{
    size_t n = 0;
    (void)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        hgc_stats s;
        hgc_get_stats(&s);
        CHECK(s.mapped_bytes >= s.heap_bytes); /* read together */
        n++;
    }
    atomic_fetch_add(&reads, n);
    return NULL;
}

static void *allocator(void *arg)
{
    test_rng r = {(uint64_t)(intptr_t)arg + 1};
    void *keep[64] = {0};
    size_t n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        size_t i = test_rand_range(&r, 0, 63);
        size_t size = (n & 3) == 0 ? test_rand_range(&r, 40 * KiB, 200 * KiB)
                                   : test_rand_range(&r, 16, 4096);
        keep[i] = hgc_malloc(size);
        CHECK(keep[i] != NULL);
        ((char *)keep[i])[size - 1] = 1;
        n++;
    }
    atomic_fetch_add(&allocs, n);
    return NULL;
}

int main(void)
{
    pthread_t th[4];
    uint64_t t0;
    int i, collections = 0;

    hgc_init();
    signal(SIGALRM, on_alarm);
    alarm(60);
    for (i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, i < 2 ? reader : allocator,
                             (void *)(intptr_t)i) == 0);
    t0 = test_now_ns();
    while (test_now_ns() - t0 < 1000000000ull) {
        hgc_collect();
        collections++;
    }
    atomic_store(&stop, 1);
    for (i = 0; i < 4; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    alarm(0);
    printf("test_stats_race: %d collections, %zu stats reads, %zu allocations\n",
           collections, atomic_load(&reads), atomic_load(&allocs));
    CHECK(collections > 0 && atomic_load(&reads) > 0 && atomic_load(&allocs) > 0);
    printf("test_stats_race: ok\n");
    return 0;
}
