/*
 * test_realloc: hgc_realloc
 *   - grows and shrinks across small / medium / large boundaries keeping
 *     min(old, new) bytes of content, with the new tail zeroed, for scanned
 *     and atomic objects, with collections and garbage in between;
 *   - a chain of growth steps 16 B -> 8 MiB and back keeps contents;
 *   - hgc_realloc(NULL, n) acts as hgc_malloc(n) (zeroed, hgc_size >= n);
 *   - hgc_realloc(p, 0) returns NULL;
 *   - a failing realloc (huge size) returns NULL and leaves p untouched;
 *   - a realloc'ed scanned object is still scanned (its pointers keep their
 *     targets alive); a realloc'ed atomic object is still atomic (pointers
 *     in it do not keep 16 MiB of targets alive).
 */
#include "test.h"

static const size_t sizes[] = {1,    8,     16,    17,     48,      100,
                               255,  1000,  2047,  4096,   4097,    8192,
                               32768, 65536, 100000, MiB,  5 * MiB + 3};
#define NS (sizeof sizes / sizeof sizes[0])

static TEST_NOINLINE void one_pair(size_t a, size_t b, int atomic,
                                   uint64_t key)
{
    unsigned char *p = (unsigned char *)(atomic ? hgc_malloc_atomic(a)
                                                : hgc_malloc(a));
    unsigned char *q;
    size_t keep = a < b ? a : b;
    CHECK(p != NULL);
    test_fill(p, a, key);
    q = (unsigned char *)hgc_realloc(p, b);
    CHECKF(q != NULL, "realloc %zu -> %zu failed", a, b);
    CHECKF(hgc_size(q) >= b, "realloc %zu -> %zu: hgc_size %zu", a, b,
           hgc_size(q));
    CHECK(hgc_base(q) == q);
    CHECKF(test_find_bad(q, keep, key) == (size_t)-1,
           "realloc %zu -> %zu (%s): content lost at byte %zu", a, b,
           atomic ? "atomic" : "scanned", test_find_bad(q, keep, key));
    if (b > a)
        CHECKF(test_is_zero(q + a, b - a),
               "realloc %zu -> %zu: new tail not zeroed", a, b);
}

static TEST_NOINLINE void all_pairs(void)
{
    size_t i, j;
    int atomic, k = 0;
    for (atomic = 0; atomic < 2; atomic++)
        for (i = 0; i < NS; i++)
            for (j = 0; j < NS; j++) {
                one_pair(sizes[i], sizes[j], atomic, (uint64_t)(i * NS + j));
                if (++k % 64 == 0) {
                    test_churn(test_scale(4 * MiB, 4, 8));
                    hgc_collect();
                }
            }
}

/* Growth chain: the object is kept only through the local across
 * collections; content verified at every step. */
static TEST_NOINLINE void chain(int atomic)
{
    size_t n = 16, prev;
    unsigned char *volatile p =
        (unsigned char *)(atomic ? hgc_malloc_atomic(n) : hgc_malloc(n));
    CHECK(p != NULL);
    test_fill(p, n, 99);
    while (n < 8 * MiB) {
        prev = n;
        n = n * 3 / 2 + 1;
        p = (unsigned char *)hgc_realloc(p, n);
        CHECK(p != NULL);
        CHECK_PATTERN(p, prev, 99);
        CHECK(test_is_zero(p + prev, n - prev));
        test_fill(p, n, 99);
        if (prev < 4096 || n > 4 * MiB) {
            test_clear_stack();
            hgc_collect();
            test_churn_sizes(test_scale(2 * MiB, 4, 8), prev, prev, n);
            CHECK_PATTERN(p, n, 99);
        }
    }
    while (n > 16) {
        n = n / 3 + 5;
        p = (unsigned char *)hgc_realloc(p, n);
        CHECK(p != NULL);
        CHECK(hgc_size(p) >= n);
        CHECK_PATTERN(p, n, 99);
        test_clear_stack();
        hgc_collect();
        test_churn_sizes(test_scale(2 * MiB, 4, 8), n, n, n);
        CHECK_PATTERN(p, n, 99);
    }
    CHECK(hgc_realloc(p, 0) == NULL);
}

static TEST_NOINLINE void misc(void)
{
    unsigned char *p, *q;
    size_t n;

    /* realloc(NULL, n) */
    for (n = 1; n <= 4 * MiB; n = n * 4 + 3) {
        p = (unsigned char *)hgc_realloc(NULL, n);
        CHECK(p != NULL);
        CHECK(hgc_size(p) >= n);
        CHECK(test_is_zero(p, n));
        test_fill(p, n, n);
        /* realloc(p, 0) frees p and returns NULL */
        CHECK(hgc_realloc(p, 0) == NULL);
    }

    /* failure leaves p untouched */
    p = (unsigned char *)hgc_malloc(1000);
    CHECK(p != NULL);
    test_fill(p, 1000, 5);
    q = (unsigned char *)hgc_realloc(p, (size_t)1 << 50);
    CHECK(q == NULL);
    CHECK(hgc_base(p) == p);
    CHECK(hgc_size(p) >= 1000);
    CHECK_PATTERN(p, 1000, 5);
    q = (unsigned char *)hgc_realloc(p, SIZE_MAX - 4096);
    CHECK(q == NULL);
    CHECK_PATTERN(p, 1000, 5);
    q = (unsigned char *)hgc_realloc(p, 2000);
    CHECK(q != NULL);
    CHECK_PATTERN(q, 1000, 5);
    hgc_free(q);
}

/* Kind preservation.  Targets: 16 objects of 1 MiB referenced only from a
 * container that was realloc'ed from 64 bytes to 64 KiB. */
static TEST_NOINLINE void fill_targets(void **c)
{
    size_t i;
    for (i = 0; i < 16; i++) {
        c[i * 512 + 1] = hgc_malloc(MiB);
        CHECK(c[i * 512 + 1] != NULL);
        test_fill(c[i * 512 + 1], MiB, i);
    }
}

static TEST_NOINLINE size_t kind_live(int atomic)
{
    void *volatile c = atomic ? hgc_malloc_atomic(64) : hgc_malloc(64);
    size_t live, i;
    CHECK(c != NULL);
    c = hgc_realloc(c, 64 * KiB);
    CHECK(c != NULL);
    fill_targets((void **)c);
    test_collect_n(2);
    live = test_stats().live_bytes;
    if (!atomic) {
        test_churn_sizes(test_scale(32 * MiB, 4, 8), MiB, MiB, 3);
        for (i = 0; i < 16; i++)
            CHECK_PATTERN(((void **)c)[i * 512 + 1], MiB, i);
    }
    c = NULL;
    return live;
}

static TEST_NOINLINE void kinds(void)
{
    size_t base, scanned, atomic;
    test_collect_n(2);
    base = test_stats().live_bytes;
    scanned = kind_live(0);
    atomic = kind_live(1);
    CHECKF(scanned >= base + 16 * MiB,
           "realloc'ed scanned object not scanned: live %zu, base %zu",
           scanned, base);
    CHECKF(atomic < base + 8 * MiB,
           "realloc'ed atomic object was scanned: live %zu, base %zu", atomic,
           base);
}

int main(void)
{
    hgc_init();
    kinds(); /* first: measured on a fresh heap */
    all_pairs();
    chain(0);
    chain(1);
    misc();
    printf("test_realloc: ok\n");
    return 0;
}
