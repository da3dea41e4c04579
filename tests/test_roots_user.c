/*
 * test_roots_user: hgc_add_roots() over a malloc()ed array of pointers keeps
 * 64 large objects (1 MiB each) alive through collections and garbage; after
 * hgc_remove_roots() and a collection, live_bytes drops by at least 32 MiB.
 * Also: a range registered in two halves is removed by one call covering
 * both (remove drops ranges fully inside [lo, hi)), and a range removed
 * does not take the other ranges with it.
 */
#include "test.h"

#define NOBJ 64
#define OBJ_SIZE (1 * MiB)

static TEST_NOINLINE void fill_array(void **arr, int from, int to)
{
    int i;
    for (i = from; i < to; i++) {
        void *p = hgc_malloc(OBJ_SIZE);
        CHECK(p != NULL);
        test_fill(p, OBJ_SIZE, (uintptr_t)p + (uint64_t)i);
        arr[i] = p;
    }
}

static TEST_NOINLINE void verify_array(void **arr, int from, int to)
{
    int i;
    for (i = from; i < to; i++) {
        CHECK(arr[i] != NULL);
        CHECK(hgc_base(arr[i]) == arr[i]);
        CHECK_PATTERN(arr[i], OBJ_SIZE, (uintptr_t)arr[i] + (uint64_t)i);
    }
}

static TEST_NOINLINE void churn(int round)
{
    test_churn(test_scale(16 * MiB, 4, 8));
    test_churn_sizes(test_scale(32 * MiB, 4, 8), OBJ_SIZE, OBJ_SIZE,
                     (uint64_t)round);
}

static size_t live_after_collect(void)
{
    test_collect_n(1);
    return test_stats().live_bytes;
}

int main(void)
{
    void **arr = (void **)malloc(NOBJ * sizeof(void *));
    size_t live_held, live_after;
    int round;

    CHECK(arr != NULL);
    memset(arr, 0, NOBJ * sizeof(void *));
    hgc_init();

    /* Part 1: one range over the whole array. */
    hgc_add_roots(arr, arr + NOBJ);
    fill_array(arr, 0, NOBJ);
    test_clear_stack();
    for (round = 0; round < 4; round++) {
        size_t live = live_after_collect();
        CHECKF(live >= (size_t)NOBJ * OBJ_SIZE,
               "live_bytes %zu, but the root range holds %zu bytes", live,
               (size_t)NOBJ * OBJ_SIZE);
        churn(round);
        verify_array(arr, 0, NOBJ);
        test_clear_stack();
    }
    live_held = live_after_collect();
    hgc_remove_roots(arr, arr + NOBJ);
    live_after = live_after_collect();
    CHECKF(live_after + 32 * MiB <= live_held,
           "after hgc_remove_roots live_bytes went only from %zu to %zu",
           live_held, live_after);

    /* Part 2: two halves, removed by one covering call. */
    memset(arr, 0, NOBJ * sizeof(void *));
    hgc_add_roots(arr, arr + NOBJ / 2);
    hgc_add_roots(arr + NOBJ / 2, arr + NOBJ);
    fill_array(arr, 0, NOBJ);
    test_clear_stack();
    churn(10);
    CHECK(live_after_collect() >= (size_t)NOBJ * OBJ_SIZE);
    verify_array(arr, 0, NOBJ);

    /* Removing an unrelated (empty) range changes nothing. */
    {
        static void *other[4];
        hgc_add_roots(other, other + 4);
        hgc_remove_roots(other, other + 4);
    }
    test_clear_stack();
    churn(11);
    CHECK(live_after_collect() >= (size_t)NOBJ * OBJ_SIZE);
    verify_array(arr, 0, NOBJ);

    live_held = live_after_collect();
    hgc_remove_roots(arr, arr + NOBJ);
    live_after = live_after_collect();
    CHECKF(live_after + 32 * MiB <= live_held,
           "two halves: live_bytes went only from %zu to %zu", live_held,
           live_after);

    /* Part 3: removing one half keeps the other half alive. */
    memset(arr, 0, NOBJ * sizeof(void *));
    hgc_add_roots(arr, arr + NOBJ / 2);
    hgc_add_roots(arr + NOBJ / 2, arr + NOBJ);
    fill_array(arr, 0, NOBJ);
    test_clear_stack();
    hgc_remove_roots(arr, arr + NOBJ / 2);
    churn(12);
    live_after = live_after_collect();
    CHECKF(live_after >= (size_t)(NOBJ / 2) * OBJ_SIZE,
           "live_bytes %zu with half of the roots left", live_after);
    CHECKF(live_after < (size_t)NOBJ * OBJ_SIZE - 16 * MiB,
           "live_bytes %zu: removed half not reclaimed", live_after);
    churn(13);
    verify_array(arr, NOBJ / 2, NOBJ);
    hgc_remove_roots(arr + NOBJ / 2, arr + NOBJ);

    free(arr);
    printf("test_roots_user: ok\n");
    return 0;
}
