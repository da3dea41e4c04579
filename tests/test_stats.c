/*
 * test_stats: hgc_get_stats() counters move as documented.
 *   - allocated_bytes grows by at least what was allocated (and is
 *     monotonic); freed_bytes grows by at least what hgc_free released;
 *   - collections increases by exactly k after k hgc_collect() calls with
 *     no allocation in between;
 *   - pause_max_ns > 0, pause_max_ns <= pause_total_ns, pause_total_ns
 *     grows with collections;
 *   - live_bytes after a collection holding 16 MiB in 16 large objects is
 *     between 16 MiB and 32 MiB, and drops back once they are dropped;
 *   - heap_bytes >= live_bytes, mapped_bytes >= heap_bytes (mapped adds free
 *     pages not yet given back);
 *   - threads counts registered threads (1 for main; 2 while another
 *     registered thread is alive).
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_int phase;

static void *registered(void *arg)
{
    (void)arg;
    hgc_thread_register();
    atomic_store(&phase, 1);
    while (atomic_load(&phase) != 2)
        test_sleep_ms(1);
    return NULL;
}

static TEST_NOINLINE void hold16(void *volatile *keep)
{
    int i;
    for (i = 0; i < 16; i++) {
        keep[i] = hgc_malloc(MiB);
        CHECK(keep[i] != NULL);
        test_fill(keep[i], MiB, (uint64_t)i);
    }
}

int main(void)
{
    hgc_stats s0, s1, s2;
    void *volatile keep[16];
    void *p;
    pthread_t t;
    int i;

    hgc_init();
    s0 = test_stats();
    CHECK(s0.threads == 1);

    /* allocated_bytes */
    for (i = 0; i < 1000; i++) {
        p = hgc_malloc(100);
        CHECK(p != NULL);
    }
    p = hgc_malloc_atomic(5 * MiB);
    CHECK(p != NULL);
    s1 = test_stats();
    CHECKF(s1.allocated_bytes >= s0.allocated_bytes + 1000 * 100 + 5 * MiB,
           "allocated_bytes %zu -> %zu", s0.allocated_bytes,
           s1.allocated_bytes);
    CHECK(s1.heap_bytes >= 5 * MiB);
    CHECK(s1.mapped_bytes >= s1.heap_bytes);

    /* freed_bytes */
    s0 = test_stats();
    hgc_free(p);
    p = hgc_malloc(4000);
    CHECK(p != NULL);
    hgc_free(p);
    s1 = test_stats();
    CHECKF(s1.freed_bytes >= s0.freed_bytes + 5 * MiB + 4000,
           "freed_bytes %zu -> %zu", s0.freed_bytes, s1.freed_bytes);
    CHECK(s1.allocated_bytes >= s0.allocated_bytes + 4000);

    /* collections and pauses */
    s0 = test_stats();
    for (i = 0; i < 5; i++)
        hgc_collect();
    s1 = test_stats();
    CHECKF(s1.collections == s0.collections + 5,
           "collections %" PRIu64 " -> %" PRIu64 " after 5 hgc_collect()",
           s0.collections, s1.collections);
    CHECK(s1.pause_max_ns > 0);
    CHECK(s1.pause_max_ns <= s1.pause_total_ns);
    CHECK(s1.pause_total_ns > s0.pause_total_ns);
    CHECK(s1.pause_total_ns < (uint64_t)60 * 1000000000u);
    CHECK(s1.allocated_bytes >= s0.allocated_bytes);

    /* live_bytes */
    hold16(keep);
    test_clear_stack();
    hgc_collect();
    s1 = test_stats();
    CHECKF(s1.live_bytes >= 16 * MiB && s1.live_bytes <= 32 * MiB,
           "live_bytes %zu while 16 MiB are held", s1.live_bytes);
    CHECK(s1.heap_bytes >= s1.live_bytes);
    CHECK(s1.mapped_bytes >= s1.heap_bytes);
    for (i = 0; i < 16; i++)
        CHECK_PATTERN(keep[i], MiB, (uint64_t)i);
    for (i = 0; i < 16; i++)
        keep[i] = NULL;
    test_clear_stack();
    hgc_collect();
    s2 = test_stats();
    CHECKF(s2.live_bytes + 8 * MiB <= s1.live_bytes,
           "live_bytes %zu -> %zu after dropping 16 MiB", s1.live_bytes,
           s2.live_bytes);

    /* threads */
    CHECK(pthread_create(&t, NULL, registered, NULL) == 0);
    while (atomic_load(&phase) != 1)
        test_sleep_ms(1);
    s1 = test_stats();
    CHECKF(s1.threads == 2, "threads %zu with one extra registered thread",
           s1.threads);
    atomic_store(&phase, 2);
    CHECK(pthread_join(t, NULL) == 0);
    hgc_collect();
    s1 = test_stats();
    CHECKF(s1.threads == 1, "threads %zu after the extra thread exited",
           s1.threads);

    /* monotonic counters */
    s2 = test_stats();
    CHECK(s2.allocated_bytes >= s1.allocated_bytes);
    CHECK(s2.freed_bytes >= s1.freed_bytes);
    CHECK(s2.collections >= s1.collections);

    printf("test_stats: ok\n");
    return 0;
}
