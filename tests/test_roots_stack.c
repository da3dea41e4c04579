/*
 * test_roots_stack: an object referenced only from a local variable (a
 * volatile pointer in a stack slot of the main thread) survives collections,
 * both in main's frame and in a frame deep in a recursion; once the slots are
 * cleared, the same objects are reclaimed (which proves nothing else kept
 * them alive).
 */
#include "test.h"

#define NLARGE 8
#define NSMALL 200
#define NOBJ (NLARGE + NSMALL)
#define LARGE_SIZE (1 * MiB)

static uintptr_t hidden[NOBJ];

static size_t obj_size(int i)
{
    if (i < NLARGE)
        return LARGE_SIZE + (size_t)i * 4096 + 8;
    return 16 + ((size_t)i * 37) % 2000;
}

static TEST_NOINLINE void make_objects(void *volatile *slots)
{
    int i;
    for (i = 0; i < NOBJ; i++) {
        size_t n = obj_size(i);
        void *p = (i % 3 == 0) ? hgc_malloc_atomic(n) : hgc_malloc(n);
        CHECK(p != NULL);
        CHECK(test_is_zero(p, n));
        test_fill(p, n, (uintptr_t)p);
        hidden[i] = test_hide(p);
        slots[i] = p;
    }
}

static TEST_NOINLINE void verify_objects(void *volatile *slots)
{
    int i;
    for (i = 0; i < NOBJ; i++) {
        void *p = test_unhide(hidden[i]);
        size_t n = obj_size(i);
        CHECK(slots[i] == p);
        CHECK(hgc_base(p) == p);
        CHECK(hgc_size(p) >= n);
        CHECK_PATTERN(p, n, (uintptr_t)p);
    }
}

/* Garbage of the same shapes as the objects under test, so that a slot
 * wrongly freed is handed out again and overwritten. */
static TEST_NOINLINE void churn_round(int round)
{
    test_churn(test_scale(24 * MiB, 4, 8));
    test_churn_sizes(test_scale(24 * MiB, 4, 8), LARGE_SIZE,
                     LARGE_SIZE + 64 * KiB, (uint64_t)round + 11);
}

/* --- deep recursion: one object per frame --------------------------- */

#define DEPTH 2000
static uintptr_t deep_hidden[DEPTH];

static TEST_NOINLINE int deep(int level)
{
    void *volatile mine;
    void *p = hgc_malloc(64);
    int r;
    CHECK(p != NULL);
    test_fill(p, 64, (uintptr_t)p + (uintptr_t)level);
    deep_hidden[level] = test_hide(p);
    mine = p;
    p = NULL;
    if (level + 1 < DEPTH) {
        r = deep(level + 1);
    } else {
        int i;
        for (i = 0; i < 3; i++) {
            test_clear_stack();
            hgc_collect();
            test_churn_sizes(test_scale(16 * MiB, 4, 8), 48, 80, (uint64_t)i);
        }
        r = 0;
    }
    CHECK(mine == test_unhide(deep_hidden[level]));
    CHECK_PATTERN(mine, 64, (uintptr_t)mine + (uintptr_t)level);
    return r + 1;
}

int main(void)
{
    void *volatile slots[NOBJ];
    hgc_stats s;
    size_t live_held;
    int round, i;

    hgc_init();
    make_objects(slots);

    for (round = 0; round < 5; round++) {
        test_clear_stack();
        hgc_collect();
        s = test_stats();
        CHECKF(s.live_bytes >= (size_t)NLARGE * LARGE_SIZE,
               "live_bytes %zu after collection, but %zu bytes are held by the "
               "stack", s.live_bytes, (size_t)NLARGE * LARGE_SIZE);
        churn_round(round);
        verify_objects(slots);
    }

    /* Control: the stack slots were the only references. */
    test_collect_n(1);
    live_held = test_stats().live_bytes;
    for (i = 0; i < NOBJ; i++)
        slots[i] = NULL;
    test_collect_n(2);
    s = test_stats();
    CHECKF(s.live_bytes + (size_t)NLARGE * LARGE_SIZE / 2 <= live_held,
           "live_bytes went only from %zu to %zu after dropping the stack "
           "references", live_held, s.live_bytes);

    CHECK(deep(0) == DEPTH);

    printf("test_roots_stack: ok\n");
    return 0;
}
