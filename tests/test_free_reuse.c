/*
 * test_free_reuse: explicit hgc_free gives memory back for reuse.
 *   - with collection disabled, 1,000,000 rounds of hgc_malloc(48)/hgc_free
 *     leave stats.heap_bytes (nearly) constant and freed_bytes grows;
 *   - the same for a mix of small sizes and for large objects (8 MiB);
 *   - hgc_free(NULL) is a no-op;
 *   - free then malloc of the same size on the same thread returns the freed
 *     memory within a few tries, and it comes back zeroed;
 *   - the slots a thread's cache never handed out (its span's bump region)
 *     are handed out again, zeroed and once only, after the thread exits.
 */
#include "test.h"

#include <pthread.h>

static TEST_NOINLINE void small_loop(size_t rounds)
{
    hgc_stats s0, s1;
    size_t i;
    void *p;

    /* warm up the size class */
    for (i = 0; i < 1000; i++) {
        p = hgc_malloc(48);
        CHECK(p != NULL);
        hgc_free(p);
    }
    s0 = test_stats();
    for (i = 0; i < rounds; i++) {
        unsigned char *q = (unsigned char *)hgc_malloc(48);
        CHECK(q != NULL);
        CHECK(q[0] == 0 && q[47] == 0);
        memset(q, 0x77, 48);
        hgc_free(q);
    }
    s1 = test_stats();
    CHECKF(s1.heap_bytes <= s0.heap_bytes + MiB,
           "heap grew from %zu to %zu over %zu malloc(48)/free rounds",
           s0.heap_bytes, s1.heap_bytes, rounds);
    CHECK(s1.collections == s0.collections);
    CHECKF(s1.freed_bytes - s0.freed_bytes >= rounds * 48,
           "freed_bytes grew by %zu only", s1.freed_bytes - s0.freed_bytes);
    CHECK(s1.allocated_bytes - s0.allocated_bytes >= rounds * 48);
}

static TEST_NOINLINE void mixed_loop(size_t rounds)
{
    hgc_stats s0, s1;
    test_rng r = {1234};
    void *batch[64];
    size_t i, j;

    s0 = test_stats();
    for (i = 0; i < rounds; i++) {
        for (j = 0; j < 64; j++) {
            size_t n = test_rand_range(&r, 1, 3000);
            batch[j] = (j & 1) ? hgc_malloc(n) : hgc_malloc_atomic(n);
            CHECK(batch[j] != NULL);
            memset(batch[j], 0x33, n);
        }
        for (j = 0; j < 64; j++)
            hgc_free(batch[(j * 7) % 64]);
    }
    s1 = test_stats();
    CHECKF(s1.heap_bytes <= s0.heap_bytes + 8 * MiB,
           "mixed sizes: heap grew from %zu to %zu", s0.heap_bytes,
           s1.heap_bytes);
}

static TEST_NOINLINE void large_loop(size_t rounds)
{
    hgc_stats s0, s1;
    size_t i;
    s0 = test_stats();
    for (i = 0; i < rounds; i++) {
        size_t n = 8 * MiB + (i % 3) * 4096;
        unsigned char *p = (unsigned char *)hgc_malloc(n);
        CHECK(p != NULL);
        CHECK(p[0] == 0 && p[n / 2] == 0 && p[n - 1] == 0);
        p[0] = p[n / 2] = p[n - 1] = 1;
        hgc_free(p);
    }
    s1 = test_stats();
    CHECKF(s1.heap_bytes <= s0.heap_bytes + 32 * MiB,
           "large: heap grew from %zu to %zu over %zu rounds of 8 MiB",
           s0.heap_bytes, s1.heap_bytes, rounds);
}

static TEST_NOINLINE void reuse(size_t n)
{
    int tries, found = 0;
    for (tries = 0; tries < 8 && !found; tries++) {
        unsigned char *p = (unsigned char *)hgc_malloc(n), *q;
        CHECK(p != NULL);
        memset(p, 0xFF, n);
        hgc_free(p);
        q = (unsigned char *)hgc_malloc(n);
        CHECK(q != NULL);
        CHECKF(test_is_zero(q, n), "%zu-byte object not zeroed", n);
        if (q == p)
            found = 1;
        hgc_free(q);
    }
    CHECKF(found, "freed %zu-byte object never handed out again", n);
}

static void *kept[3];

static void *short_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        kept[i] = hgc_malloc(32);
        CHECK(kept[i] != NULL);
        memset(kept[i], 0x5a, 32);
    }
    return NULL;
}

/* Collection disabled: nothing but the exit can give the span back. */
static TEST_NOINLINE void exited_cache(void)
{
    pthread_t th;
    CHECK(pthread_create(&th, NULL, short_thread, NULL) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    uintptr_t span_page = (uintptr_t)kept[0] & ~(uintptr_t)8191;
    int same_span = 0;
    for (int i = 0; i < 20000; i++) {
        unsigned char *q = (unsigned char *)hgc_malloc(32);
        CHECK(q != NULL);
        CHECKF(test_is_zero(q, 32), "32-byte object %p not zeroed", (void *)q);
        CHECK(q != kept[0] && q != kept[1] && q != kept[2]);
        memset(q, 0x33, 32);
        if (((uintptr_t)q & ~(uintptr_t)8191) == span_page)
            same_span = 1;
    }
    CHECKF(same_span, "the exited thread's unused slots were never handed out");
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 32; k++)
            CHECK(((unsigned char *)kept[i])[k] == 0x5a);
}

int main(void)
{
    hgc_init();
    hgc_free(NULL);
    hgc_disable();
    hgc_free(NULL);
    small_loop(test_scale(1000000, 2, 4));
    mixed_loop(2000);
    large_loop(100);
    reuse(48);
    reuse(16);
    reuse(1000);
    reuse(4096);
    exited_cache();
    hgc_enable();
    reuse(48);
    printf("test_free_reuse: ok\n");
    return 0;
}
