/*
 * test_large: large objects.
 * (parts 3 and 2 run first, on a fresh heap)
 *   1. Objects of 64 KiB .. 64 MiB (scanned and atomic) are zeroed when
 *      handed out, keep their contents across collections while large
 *      garbage of similar sizes is churned, and hgc_base works on them.
 *   2. Dropped large objects are reclaimed: allocating 1 GiB in total of
 *      large objects (64 KiB .. 8 MiB, a few kept alive in a ring) keeps
 *      stats.heap_bytes under 256 MiB.
 *   3. hgc_malloc_atomic large objects are not scanned: pointers stored in
 *      one do not keep their targets alive, while the same pointers in a
 *      scanned large object do.
 */
#include "test.h"

static const size_t keep_sizes[] = {
    64 * KiB, 64 * KiB + 1, 100 * KiB, 1 * MiB, 3 * MiB + 17, 16 * MiB,
    64 * MiB,
};
#define NKEEP (sizeof keep_sizes / sizeof keep_sizes[0])
#define HEAP_BOUND (256 * MiB)

static uintptr_t hidden[2 * NKEEP];

static size_t ksize(size_t i) { return keep_sizes[i % NKEEP]; }

static TEST_NOINLINE void make_kept(void *volatile *keep)
{
    size_t i;
    for (i = 0; i < 2 * NKEEP; i++) {
        size_t n = ksize(i);
        void *p = i < NKEEP ? hgc_malloc(n) : hgc_malloc_atomic(n);
        CHECKF(p != NULL, "allocation of %zu bytes failed", n);
        CHECKF(test_is_zero(p, n), "fresh %zu-byte object not zeroed", n);
        CHECK(hgc_size(p) >= n);
        test_fill(p, n, (uintptr_t)p ^ i);
        hidden[i] = test_hide(p);
        keep[i] = p;
    }
}

static TEST_NOINLINE void verify_kept(void *volatile *keep)
{
    size_t i;
    for (i = 0; i < 2 * NKEEP; i++) {
        char *p = (char *)test_unhide(hidden[i]);
        size_t n = ksize(i);
        CHECK(keep[i] == p);
        CHECK(hgc_base(p) == p);
        CHECK(hgc_base(p + n / 3) == p);
        CHECK(hgc_base(p + n - 1) == p);
        CHECK(hgc_size(p) >= n);
        CHECK_PATTERN(p, n, (uintptr_t)p ^ i);
    }
}

/* Large garbage; every object is checked to be zero where sampled (so
 * memory of a reclaimed object must be cleared before reuse) and then
 * dirtied. */
static TEST_NOINLINE size_t large_churn(size_t bytes, size_t lo, size_t hi,
                                        test_rng *r, void **ring, size_t nring)
{
    size_t done = 0, k = 0;
    while (done < bytes) {
        size_t n = test_rand_range(r, lo, hi), j;
        unsigned char *p =
            (unsigned char *)((k & 1) ? hgc_malloc_atomic(n) : hgc_malloc(n));
        CHECKF(p != NULL, "allocation of %zu bytes failed", n);
        for (j = 0; j < n; j += 4096 + 8) {
            CHECKF(p[j] == 0, "fresh %zu-byte object dirty at %zu", n, j);
            p[j] = 0x5A;
        }
        CHECK(p[n - 1] == 0);
        p[n - 1] = 0x5A;
        if (nring)
            ring[k % nring] = p;
        done += n;
        k++;
    }
    return k;
}

static TEST_NOINLINE void part1(void)
{
    void *volatile keep[2 * NKEEP];
    test_rng r = {42};
    int round;
    size_t i;

    make_kept(keep);
    for (round = 0; round < 4; round++) {
        hgc_stats s;
        size_t held = 0;
        for (i = 0; i < 2 * NKEEP; i++)
            held += ksize(i);
        test_clear_stack();
        hgc_collect();
        s = test_stats();
        CHECKF(s.live_bytes >= held, "live_bytes %zu < %zu held", s.live_bytes,
               held);
        large_churn(test_scale(96 * MiB, 2, 4), 64 * KiB, 4 * MiB, &r, NULL, 0);
        large_churn(test_scale(64 * MiB, 2, 4), 16 * MiB, 16 * MiB, &r, NULL,
                    0);
        verify_kept(keep);
    }
    for (i = 0; i < 2 * NKEEP; i++)
        keep[i] = NULL;
}

static TEST_NOINLINE void part2(void)
{
    test_rng r = {7};
    size_t total = test_slow_kind() == 2 ? 512 * MiB : 1024 * MiB;
    size_t done = 0, max_heap = 0;
    void **ring = (void **)hgc_malloc(4 * sizeof(void *));
    CHECK(ring != NULL);

    test_collect_n(1);
    while (done < total) {
        hgc_stats s;
        large_churn(16 * MiB, 64 * KiB, 8 * MiB, &r, ring, 4);
        done += 16 * MiB;
        s = test_stats();
        if (s.heap_bytes > max_heap)
            max_heap = s.heap_bytes;
        CHECKF(s.heap_bytes < HEAP_BOUND,
               "heap_bytes %zu after %zu MiB of large objects", s.heap_bytes,
               done / MiB);
    }
    printf("part 2: %zu MiB of large objects, max heap %zu MiB\n", total / MiB,
           max_heap / MiB);
}

/* n pointers to 1 MiB objects stored in a large container of the given
 * kind; returns live_bytes after a collection with the container alive. */
static TEST_NOINLINE void fill_container(void **c, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        c[i * 512] = hgc_malloc(MiB);
        CHECK(c[i * 512] != NULL);
    }
}

static TEST_NOINLINE size_t container_live(int atomic)
{
    void *volatile c;
    size_t live;
    c = atomic ? hgc_malloc_atomic(16 * 4096) : hgc_malloc(16 * 4096);
    CHECK(c != NULL);
    fill_container((void **)c, 16);
    test_collect_n(2);
    live = test_stats().live_bytes;
    CHECK(hgc_base(c) == c);
    c = NULL;
    return live;
}

static TEST_NOINLINE void part3(void)
{
    size_t base, scanned, atomic;
    test_collect_n(2);
    base = test_stats().live_bytes;
    scanned = container_live(0);
    atomic = container_live(1);
    CHECKF(scanned >= base + 16 * MiB,
           "scanned container: live_bytes %zu, base %zu", scanned, base);
    CHECKF(scanned >= atomic + 12 * MiB,
           "scanned container: live_bytes %zu, atomic container: %zu",
           scanned, atomic);
    CHECKF(atomic < base + 8 * MiB,
           "atomic container kept its targets: live_bytes %zu, base %zu",
           atomic, base);
}

int main(void)
{
    hgc_init();
    /* parts 3 and 2 first, on a fresh heap: no stale reference to an earlier
     * large object can distort their measurements */
    part3();
    part2();
    part1();
    printf("test_large: ok\n");
    return 0;
}
