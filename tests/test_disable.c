/*
 * test_disable: hgc_disable() / hgc_enable().
 *   - while disabled, hgc_collect() is a no-op (stats.collections does not
 *     move) and allocating 128 MiB of garbage triggers no automatic
 *     collection: the heap grows instead;
 *   - calls nest: after two hgc_disable(), one hgc_enable() still leaves
 *     collection disabled; the second one re-enables it;
 *   - allocation keeps working while disabled, live objects stay intact;
 *   - once enabled again, hgc_collect() collects and the garbage is
 *     reclaimed.
 */
#include "test.h"

static void *volatile keep;

static TEST_NOINLINE void garbage(size_t bytes)
{
    test_churn_sizes(bytes, 2000, 6000, bytes);
}

int main(void)
{
    hgc_stats s0, s1, s2;
    size_t n = test_scale(128 * MiB, 2, 4);

    hgc_init();
    keep = hgc_malloc(5000);
    CHECK(keep != NULL);
    test_fill(keep, 5000, 1);
    hgc_collect();

    /* single disable */
    hgc_disable();
    s0 = test_stats();
    hgc_collect();
    hgc_collect();
    s1 = test_stats();
    CHECKF(s1.collections == s0.collections,
           "hgc_collect() collected while disabled (%" PRIu64 " -> %" PRIu64
           ")", s0.collections, s1.collections);
    garbage(n);
    s1 = test_stats();
    CHECKF(s1.collections == s0.collections,
           "automatic collection while disabled");
    CHECKF(s1.heap_bytes >= s0.heap_bytes + n / 2,
           "heap %zu -> %zu after %zu bytes of garbage while disabled",
           s0.heap_bytes, s1.heap_bytes, n);
    CHECK_PATTERN(keep, 5000, 1);

    /* nesting */
    hgc_disable();
    hgc_enable(); /* still disabled once */
    hgc_collect();
    garbage(n / 4);
    s2 = test_stats();
    CHECKF(s2.collections == s0.collections,
           "collected after a nested hgc_disable/hgc_enable pair");

    hgc_disable();
    hgc_disable(); /* depth 3 */
    hgc_enable();
    hgc_enable(); /* depth 1 */
    hgc_collect();
    CHECK(test_stats().collections == s0.collections);

    hgc_enable(); /* depth 0: enabled */
    test_clear_stack();
    hgc_collect();
    s2 = test_stats();
    CHECKF(s2.collections == s0.collections + 1,
           "hgc_collect() after re-enabling: collections %" PRIu64
           " -> %" PRIu64, s0.collections, s2.collections);
    CHECKF(s2.live_bytes < n / 4,
           "live_bytes %zu after collecting %zu bytes of garbage",
           s2.live_bytes, n);
    CHECK_PATTERN(keep, 5000, 1);

    /* automatic collection works again */
    garbage(n);
    CHECK(test_stats().collections > s2.collections);
    CHECK_PATTERN(keep, 5000, 1);

    printf("test_disable: ok\n");
    return 0;
}
