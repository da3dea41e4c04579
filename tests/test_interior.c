/*
 * test_interior: interior pointers keep objects alive and hgc_base /
 * hgc_size answer correctly.
 *   - objects of many sizes referenced only by p + n/2, or only by a pointer
 *     to their last byte p + n - 1, from the stack and from inside another
 *     heap object, survive collections and garbage;
 *   - hgc_base(p + k) == p for every k in [0, n) (sampled for big objects),
 *     hgc_base(p + hgc_size(p)) != p, hgc_size(p) >= n, hgc_size(p + 1) == 0;
 *   - hgc_base / hgc_size of a stack, global or malloc() address: NULL / 0;
 *   - dropping the interior pointers lets the objects be reclaimed.
 */
#include "test.h"

static const size_t sizes[] = {1,    8,    16,    24,     48,      100,
                               256,  1000, 2048,  4096,   5000,    32768,
                               65536 + 8, 100000, MiB + 5, 4 * MiB};
#define NS (sizeof sizes / sizeof sizes[0])
/* per size: [0] kept by p + n/2 on the stack, [1] by p + n - 1 on the stack,
 * [2] by p + n/2 inside a heap container, [3] by p + n - 1 in the container */
#define PER 4
#define NOBJ (NS * PER)

static uintptr_t hidden[NOBJ];
static size_t big_bytes; /* bytes in objects >= 1 MiB */
static int global_var;

static size_t size_of(size_t i) { return sizes[i / PER]; }

static char *interior_of(size_t i, char *p)
{
    size_t n = size_of(i);
    return (i % 2 == 0) ? p + n / 2 : p + n - 1;
}

static TEST_NOINLINE void make(char *volatile *keep, char **container)
{
    size_t i;
    for (i = 0; i < NOBJ; i++) {
        size_t n = size_of(i);
        char *p = (char *)((i / 2) % 2 ? hgc_malloc_atomic(n) : hgc_malloc(n));
        CHECK(p != NULL);
        test_fill(p, n, (uintptr_t)p);
        hidden[i] = test_hide(p);
        if (i % PER < 2)
            keep[i] = interior_of(i, p);
        else
            container[i] = interior_of(i, p);
        if (n >= MiB)
            big_bytes += n;
    }
}

static TEST_NOINLINE void check_base_size(char *p, size_t n)
{
    size_t k, step = n <= 16384 ? 1 : 61;
    size_t usable = hgc_size(p);
    CHECKF(usable >= n, "hgc_size(%p) = %zu < %zu", (void *)p, usable, n);
    CHECK(hgc_base(p) == p);
    for (k = 0; k < n; k += step)
        CHECKF(hgc_base(p + k) == p, "hgc_base(%p + %zu) = %p, expected %p",
               (void *)p, k, hgc_base(p + k), (void *)p);
    for (k = n > 64 ? n - 64 : 0; k < usable; k++)
        CHECKF(hgc_base(p + k) == p, "hgc_base(%p + %zu) = %p (usable %zu)",
               (void *)p, k, hgc_base(p + k), usable);
    CHECK(hgc_base(p + usable) != p);
    CHECK(hgc_size(p + 1) == 0);
    if (n > 16)
        CHECK(hgc_size(p + n / 2) == 0);
}

static TEST_NOINLINE void verify(char *volatile *keep, char **container)
{
    size_t i;
    for (i = 0; i < NOBJ; i++) {
        char *p = (char *)test_unhide(hidden[i]);
        size_t n = size_of(i);
        char *ip = (i % PER < 2) ? keep[i] : container[i];
        CHECK(ip == interior_of(i, p));
        CHECKF(hgc_base(ip) == p, "object %zu (%zu bytes): hgc_base(%p) = %p",
               i, n, (void *)ip, hgc_base(ip));
        CHECK_PATTERN(p, n, (uintptr_t)p);
        check_base_size(p, n);
    }
}

static TEST_NOINLINE void churn(int round)
{
    size_t i;
    test_churn(test_scale(16 * MiB, 4, 8));
    for (i = 0; i < NS; i++)
        test_churn_sizes(sizes[i] < 65536 ? test_scale(MiB, 4, 8)
                                          : test_scale(8 * MiB, 4, 8),
                         sizes[i], sizes[i], (uint64_t)round * 100 + i);
}

static TEST_NOINLINE void non_heap_addresses(void)
{
    int local = 0;
    char *m = (char *)malloc(100);
    CHECK(m != NULL);
    CHECK(hgc_base(&local) == NULL);
    CHECK(hgc_base(&global_var) == NULL);
    CHECK(hgc_base(m) == NULL);
    CHECK(hgc_base(m + 50) == NULL);
    CHECK(hgc_base(NULL) == NULL);
    CHECK(hgc_base((void *)(uintptr_t)1) == NULL);
    CHECK(hgc_base((void *)~(uintptr_t)0) == NULL);
    CHECK(hgc_size(&local) == 0);
    CHECK(hgc_size(&global_var) == 0);
    CHECK(hgc_size(m) == 0);
    CHECK(hgc_size(NULL) == 0);
    free(m);
}

int main(void)
{
    char *volatile keep[NOBJ];
    char **volatile container;
    size_t live_held, i;
    hgc_stats s;
    int round;

    hgc_init();
    non_heap_addresses();

    container = (char **)hgc_malloc(NOBJ * sizeof(char *));
    CHECK(container != NULL);
    for (i = 0; i < NOBJ; i++)
        keep[i] = NULL;
    make(keep, container);
    /* the container itself is referenced by an interior pointer too */
    container = (char **)((char *)container + 8);

    for (round = 0; round < 4; round++) {
        test_clear_stack();
        hgc_collect();
        s = test_stats();
        CHECKF(s.live_bytes >= big_bytes,
               "live_bytes %zu, but interior pointers hold %zu bytes",
               s.live_bytes, big_bytes);
        churn(round);
        verify(keep, (char **)((char *)container - 8));
    }
    non_heap_addresses();

    /* Control: without the interior pointers the objects go away. */
    test_collect_n(1);
    live_held = test_stats().live_bytes;
    for (i = 0; i < NOBJ; i++)
        keep[i] = NULL;
    container = NULL;
    test_collect_n(2);
    s = test_stats();
    CHECKF(s.live_bytes + big_bytes / 4 <= live_held,
           "live_bytes went only from %zu to %zu after dropping the interior "
           "pointers", live_held, s.live_bytes);

    printf("test_interior: ok\n");
    return 0;
}
