/*
 * test_uncollectable: hgc_malloc_uncollectable / _atomic_uncollectable.
 *   - an uncollectable object that nothing refers to survives collections
 *     and heavy garbage, contents intact, and keeps what it points to;
 *   - the atomic form survives too but keeps nothing alive;
 *   - hgc_free releases it (what it pointed to can then die), and
 *     hgc_realloc keeps the property.
 */
#include "test.h"

#define N 64

static uintptr_t hidden[N];
static void **links; /* malloc memory: weak links to the referents */

static TEST_NOINLINE void make(void)
{
    for (int i = 0; i < N; i++) {
        void **u = i % 2 ? hgc_malloc_atomic_uncollectable(4 * sizeof(void *))
                         : hgc_malloc_uncollectable(4 * sizeof(void *));
        CHECK(u != NULL);
        uint64_t *t = hgc_malloc_atomic(16);
        CHECK(t != NULL);
        t[0] = (uint64_t)i;
        u[0] = t;
        u[1] = (void *)(uintptr_t)(0xfeed0000 + i);
        links[i] = t;
        CHECK(hgc_weak_register(&links[i], t) == HGC_OK);
        hidden[i] = test_hide(u);
    }
}

static TEST_NOINLINE void release_half(void)
{
    for (int i = 0; i < N; i += 4) {
        void **u = test_unhide(hidden[i]);
        if (i % 8 == 0) {
            hgc_free(u);
        } else {
            u = hgc_realloc(u, 600); /* moves, stays uncollectable */
            CHECK(u != NULL);
            hidden[i] = test_hide(u);
        }
    }
}

int main(void)
{
    hgc_init();
    links = malloc(N * sizeof *links);
    CHECK(links != NULL);
    make();
    test_collect_n(2);
    test_churn(8 * MiB);
    test_collect_n(2);
    int atomic_dead = 0;
    for (int i = 0; i < N; i++) {
        void **u = test_unhide(hidden[i]);
        CHECKF(u[1] == (void *)(uintptr_t)(0xfeed0000 + i), "uncollectable %d was reused", i);
        if (i % 2 == 0) {
            CHECKF(links[i] != NULL, "referent of uncollectable %d collected", i);
            CHECK(((uint64_t *)u[0])[0] == (uint64_t)i);
        } else {
            atomic_dead += links[i] == NULL;
        }
    }
    CHECKF(atomic_dead >= N / 2 * 9 / 10, "atomic uncollectable objects kept %d referents",
           N / 2 - atomic_dead);

    release_half();
    test_collect_n(2);
    test_churn(4 * MiB);
    int freed_dead = 0, freed = 0;
    for (int i = 0; i < N; i += 4) {
        if (i % 8 == 0) {
            freed++;
            freed_dead += links[i] == NULL;
        } else {
            void **u = test_unhide(hidden[i]);
            CHECK(links[i] != NULL && u[1] == (void *)(uintptr_t)(0xfeed0000 + i));
            CHECK(hgc_size(u) >= 600);
        }
    }
    CHECKF(freed_dead >= freed * 3 / 4, "freed uncollectable objects kept %d of %d referents",
           freed - freed_dead, freed);
    printf("test_uncollectable: ok\n");
    return 0;
}
