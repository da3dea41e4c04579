/*
 * test_pacing: when automatic collections run, and what the heap keeps.
 *
 *   idle      one thread makes 64 MiB of garbage while another registered
 *             thread waits: the heap floor counts only the thread that
 *             allocates, so collections run about every HGC_MIN_HEAP bytes
 *             (4 MiB here), not every 8
 *   release   256 MiB of dropped objects go back to the OS: after a few
 *             collections the heap maps and the process holds far less
 *
 * Under HGC_GC_STRESS every few allocations collect, so the counts mean
 * nothing: the count checks are skipped then.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#define FLOOR (4 * MiB)

typedef struct cell {
    struct cell *next;
    uint64_t word;
} cell;

static bool stressed(void) { return getenv("HGC_GC_STRESS") != NULL; }

/* Allocate `bytes` of 32-byte garbage, each object reachable only until
 * the next one is made. */
static TEST_NOINLINE void garbage(size_t bytes)
{
    cell *volatile last = NULL;
    for (size_t done = 0; done < bytes; done += 32) {
        cell *c = (cell *)hgc_malloc(32);
        CHECK(c != NULL);
        c->next = last;
        c->word = done;
        last = c;
        last = NULL;
    }
}

static uint64_t collections(void) { return test_stats().collections; }

/* ------------------------------------------------------------------ idle */

static atomic_int idle_ready, idle_stop;

static void *idle_main(void *arg)
{
    (void)arg;
    hgc_thread_register();
    atomic_store(&idle_ready, 1);
    while (!atomic_load(&idle_stop))
        usleep(1000); /* registered, never in a blocking region */
    hgc_thread_unregister();
    return NULL;
}

static void case_idle(void)
{
    pthread_t th;
    CHECK(pthread_create(&th, NULL, idle_main, NULL) == 0);
    while (!atomic_load(&idle_ready))
        usleep(100);
    garbage(4 * FLOOR); /* a collection or two to count the threads */
    uint64_t c0 = collections();
    garbage(16 * FLOOR);
    uint64_t n = collections() - c0;
    atomic_store(&idle_stop, 1);
    CHECK(pthread_join(th, NULL) == 0);
    printf("idle: %llu collections in %zu MiB\n", (unsigned long long)n, 16 * FLOOR / MiB);
    if (!stressed())
        CHECKF(n >= 12, "%llu collections in 16 floors of garbage beside an idle thread",
               (unsigned long long)n);
}

/* --------------------------------------------------------------- release */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f != NULL);
    long size = 0, resident = 0;
    CHECK(fscanf(f, "%ld %ld", &size, &resident) == 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static cell *volatile big;

static TEST_NOINLINE void build_big(size_t bytes)
{
    cell *head = NULL;
    for (size_t done = 0; done < bytes; done += 1024) {
        cell *c = (cell *)hgc_malloc(1024);
        CHECK(c != NULL);
        c->next = head;
        head = c;
    }
    big = head;
}

static void case_release(void)
{
    const size_t bytes = test_scale(256 * MiB, 2, 4);
    build_big(bytes);
    test_collect_n(1);
    hgc_stats full = test_stats();
    long rss_full = rss_kib();
    big = NULL;
    test_collect_n(4); /* free the objects, then age the free pages */
    hgc_stats after = test_stats();
    long rss_after = rss_kib();
    printf("release: mapped %zu -> %zu MiB, RSS %ld -> %ld MiB\n", full.mapped_bytes / MiB,
           after.mapped_bytes / MiB, rss_full / 1024, rss_after / 1024);
    CHECKF(full.mapped_bytes >= bytes, "mapped %zu bytes holding %zu live", full.mapped_bytes,
           bytes);
    CHECKF(after.mapped_bytes < bytes / 4, "%zu of %zu bytes still mapped after the drop",
           after.mapped_bytes, full.mapped_bytes);
    CHECKF(rss_after < rss_full - (long)(bytes / 2 / KiB), "RSS %ld KiB, was %ld KiB", rss_after,
           rss_full);
}

int main(void)
{
    hgc_init();
    case_idle();
    case_release();
    printf("test_pacing: ok\n");
    return 0;
}
