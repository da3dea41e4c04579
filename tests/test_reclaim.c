/*
 * test_reclaim: garbage is reclaimed automatically.  Allocates 2 GiB in
 * total (256 MiB under sanitizers) of objects of mixed sizes 16..4096 bytes,
 * plus one 100 KiB object in every 64, while a small live set (a ring of
 * 1000 objects, replaced now and then and content-checked) stays reachable.
 * The heap (max of stats.heap_bytes over the run) must stay under 64 MiB and
 * automatic collections must have happened.
 */
#include "test.h"

#define RING 1000
#define HEAP_BOUND (64 * MiB)

static size_t ring_size[RING];

static uint64_t ring_key(void *p, size_t i) { return (uintptr_t)p * 3 + i; }

static TEST_NOINLINE void *make_ring_obj(test_rng *r, size_t i)
{
    size_t n = test_rand_range(r, 16, 4096);
    void *p = (i % 4 == 0) ? hgc_malloc_atomic(n) : hgc_malloc(n);
    CHECK(p != NULL);
    test_fill(p, n, ring_key(p, i));
    ring_size[i] = n;
    return p;
}

static void check_ring_obj(void **ring, size_t i)
{
    CHECK(ring[i] != NULL);
    CHECK_PATTERN(ring[i], ring_size[i], ring_key(ring[i], i));
}

int main(void)
{
    uint64_t seed = test_seed();
    test_rng r = {seed};
    size_t total = test_slow() ? 256 * MiB : 2048 * MiB;
    size_t done = 0, next_sample = 0, max_heap = 0, count = 0, i;
    void **ring;
    hgc_stats s0, s;

    hgc_init();
    s0 = test_stats();
    ring = (void **)hgc_malloc(RING * sizeof(void *));
    CHECK(ring != NULL);
    for (i = 0; i < RING; i++)
        ring[i] = make_ring_obj(&r, i);

    while (done < total) {
        size_t n;
        unsigned char *p;
        count++;
        n = (count % 64 == 0) ? 100 * KiB : test_rand_range(&r, 16, 4096);
        p = (unsigned char *)((count & 1) ? hgc_malloc(n)
                                          : hgc_malloc_atomic(n));
        CHECKF(p != NULL, "allocation %zu of %zu bytes failed", count, n);
        CHECK(p[0] == 0 && p[n - 1] == 0);
        p[0] = 0xEE;
        p[n - 1] = 0xEE;
        done += n;
        if (count % 512 == 0) {
            size_t k = (size_t)(test_rand(&r) % RING);
            check_ring_obj(ring, k);
            ring[k] = make_ring_obj(&r, k);
        }
        if (done >= next_sample) {
            s = test_stats();
            if (s.heap_bytes > max_heap)
                max_heap = s.heap_bytes;
            CHECKF(s.heap_bytes < HEAP_BOUND,
                   "heap_bytes %zu after allocating %zu bytes (live set "
                   "about %zu bytes)", s.heap_bytes, done,
                   (size_t)RING * 2048);
            next_sample = done + MiB;
        }
    }
    for (i = 0; i < RING; i++)
        check_ring_obj(ring, i);

    s = test_stats();
    CHECKF(s.collections > s0.collections,
           "no automatic collection during %zu bytes of allocation", total);
    CHECK(s.allocated_bytes - s0.allocated_bytes >= total);
    printf("allocated %zu MiB in %zu objects, max heap %zu KiB, %" PRIu64
           " collections\n", total / MiB, count, max_heap / KiB,
           s.collections - s0.collections);
    printf("test_reclaim: ok\n");
    return 0;
}
