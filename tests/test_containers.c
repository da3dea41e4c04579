/*
 * test_containers: the collector's own containers (base/vec.h,
 * base/addrmap.h), linked from the library's internal objects, each
 * checked against a plain reference model:
 *   - vec: many pushes read back across several growths, elements of odd
 *     sizes, zeroed slots (also after truncation), reserve, pop, free and
 *     reuse, failed growth leaving the array as it was, memory outside the
 *     collected heap;
 *   - addrmap: insert, find and remove with keys that share a slot (they
 *     differ only in their low bits), sequential addresses, keys differing
 *     only in high bits, deletion then reinsertion through tombstones,
 *     growth that drops tombstones, values zero on insert, nvals 0 and 3,
 *     and a randomized sequence checked against a reference array;
 *   - the layout table's index (an addrmap keyed by content): thousands of
 *     distinct layouts, each made twice;
 *   - in builds with invariant checks, an index past the end and a marker
 *     key abort with a message naming what broke.
 */
#include "test.h"

#include "base/addrmap.h"
#include "base/check.h"
#include "base/vec.h"

/* ------------------------------------------------------------------ vec */

static uint64_t word_at(size_t i) { return (uint64_t)i * 0x9E3779B97F4A7C15ull + 7; }

static void vec_many_pushes(void)
{
    vec v = VEC_INIT(uint64_t);
    size_t n = 200000, growths = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t *p = vec_push(&v);
        CHECK(p != NULL);
        CHECKF(*p == 0, "slot %zu not zeroed", i);
        *p = word_at(i);
        if (v.cap != cap) {
            CHECKF(cap == 0 ? v.cap * sizeof(uint64_t) >= 4096 : v.cap == 2 * cap,
                   "capacity %zu after %zu", v.cap, cap);
            cap = v.cap;
            growths++;
        }
    }
    CHECK(v.n == n);
    CHECKF(growths >= 5, "only %zu growths", growths);
    CHECKF(((uintptr_t)v.data & 4095) == 0, "data %p not page aligned", v.data);
    CHECKF(hgc_base(v.data) == NULL, "vec memory %p is in the collected heap", v.data);
    for (size_t i = 0; i < n; i++)
        CHECKF(VEC_AT(&v, uint64_t, i) == word_at(i), "element %zu: %#" PRIx64, i,
               VEC_AT(&v, uint64_t, i));
    /* Pop, then push again: the slot comes back zeroed. */
    for (size_t i = n; i-- > n - 1000;)
        CHECKF(*(uint64_t *)vec_pop(&v) == word_at(i), "popped element %zu", i);
    CHECK(v.n == n - 1000);
    uint64_t *p = vec_push(&v);
    CHECK(p != NULL && *p == 0);
    vec_truncate(&v, 10);
    CHECK(v.n == 10 && v.cap == cap);
    p = vec_push(&v);
    CHECK(p != NULL && *p == 0 && VEC_AT(&v, uint64_t, 9) == word_at(9));
    vec_free(&v);
    CHECK(v.data == NULL && v.n == 0 && v.cap == 0 && v.elem == sizeof(uint64_t));
    /* Usable again after vec_free. */
    for (size_t i = 0; i < 5000; i++)
        *(uint64_t *)vec_push(&v) = word_at(i + 1);
    for (size_t i = 0; i < 5000; i++)
        CHECK(VEC_AT(&v, uint64_t, i) == word_at(i + 1));
    vec_free(&v);
}

/* An element size that divides no page: growth copies whole elements. */
typedef struct odd {
    uint8_t b[13];
} odd;

static void vec_odd_elements(void)
{
    vec v = VEC_INIT(odd);
    size_t n = 30000;
    for (size_t i = 0; i < n; i++) {
        odd *e = vec_push(&v);
        CHECK(e != NULL);
        for (size_t k = 0; k < sizeof e->b; k++) {
            CHECK(e->b[k] == 0);
            e->b[k] = (uint8_t)(i * 31 + k);
        }
    }
    CHECK(v.cap >= n && v.cap * sizeof(odd) >= 4096);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof(odd); k++)
            CHECKF(VEC_AT(&v, odd, i).b[k] == (uint8_t)(i * 31 + k), "element %zu byte %zu", i,
                   k);
    vec_free(&v);
}

static void vec_reserve_cases(void)
{
    vec v = VEC_INIT(uint64_t);
    CHECK(vec_reserve(&v, 10000));
    CHECK(v.n == 0 && v.cap >= 10000 && v.data != NULL);
    void *data = v.data;
    size_t cap = v.cap;
    CHECK(vec_reserve(&v, 5)); /* already room: nothing moves */
    CHECK(v.data == data && v.cap == cap);
    for (size_t i = 0; i < cap; i++)
        *(uint64_t *)vec_push(&v) = word_at(i);
    CHECKF(v.data == data && v.cap == cap, "reserved room moved: %p -> %p", data, v.data);

    /* Failed growth (overflowing sizes, or more than the address space):
     * false, and the array is as it was. */
    CHECK(!vec_reserve(&v, SIZE_MAX));
    CHECK(!vec_reserve(&v, SIZE_MAX / sizeof(uint64_t) + 1));
    CHECK(!vec_reserve(&v, (size_t)1 << 60));
    CHECK(v.data == data && v.cap == cap && v.n == cap);
    for (size_t i = 0; i < cap; i++)
        CHECK(VEC_AT(&v, uint64_t, i) == word_at(i));
    CHECK(vec_reserve(&v, 3 * cap));
    CHECK(v.cap >= 3 * cap && v.n == cap);
    for (size_t i = 0; i < cap; i++)
        CHECK(VEC_AT(&v, uint64_t, i) == word_at(i));
    vec_free(&v);
}

/* -------------------------------------------------------------- addrmap */

/* The live slots hold exactly the reference's present keys, each in one
 * slot: every present key is found, no absent one is, each live slot is
 * the one its key is found at, and there are as many as present keys. */
static void check_walk(const addrmap *m, const uintptr_t *keys, const int *present, size_t n)
{
    size_t live = 0, expect = 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (!addrmap_live_at(m, i))
            continue;
        live++;
        CHECKF(addrmap_find(m, m->keys[i]) == i, "key %#lx of slot %zu is found elsewhere",
               (unsigned long)m->keys[i], i);
    }
    for (size_t k = 0; k < n; k++) {
        expect += present[k] != 0;
        CHECKF((addrmap_find(m, keys[k]) != ADDRMAP_NONE) == (present[k] != 0),
               "key %#lx: found %d, in the reference %d", (unsigned long)keys[k],
               addrmap_find(m, keys[k]) != ADDRMAP_NONE, present[k]);
    }
    CHECKF(live == expect && m->live == expect, "%zu live slots, live %zu, reference %zu", live,
           m->live, expect);
}

static void addrmap_collisions(unsigned nvals)
{
    /* Keys differing only in their three low bits share a slot; 2..7
     * share one with the smallest keys there are. */
    enum { N = 64 };
    uintptr_t keys[N];
    int present[N] = {0};
    for (size_t k = 0; k < N; k++)
        keys[k] = k < 6 ? 2 + k : k < 14 ? 0x7000 + (k - 6) : 0x10000 + (k - 14);
    addrmap m = {.nvals = nvals};
    for (size_t k = 0; k < N; k++) {
        bool existed = true;
        size_t i = addrmap_insert(&m, keys[k], &existed);
        CHECK(i != ADDRMAP_NONE && !existed && m.keys[i] == keys[k]);
        for (unsigned j = 0; j < nvals; j++) {
            CHECKF(addrmap_vals(&m, i)[j] == 0, "value %u of new key %#lx", j,
                   (unsigned long)keys[k]);
            addrmap_vals(&m, i)[j] = keys[k] * 10 + j;
        }
        present[k] = 1;
    }
    check_walk(&m, keys, present, N);

    /* Remove every other key of the collision chain: the rest are found
     * past the tombstones. */
    for (size_t k = 0; k < 14; k += 2) {
        size_t i = addrmap_find(&m, keys[k]);
        CHECK(i != ADDRMAP_NONE);
        addrmap_remove_at(&m, i);
        CHECK(m.keys[i] == ADDRMAP_DELETED);
        CHECK(addrmap_find(&m, keys[k]) == ADDRMAP_NONE);
        present[k] = 0;
    }
    for (size_t k = 0; k < N; k++) {
        size_t i = addrmap_find(&m, keys[k]);
        CHECKF((i != ADDRMAP_NONE) == present[k], "key %#lx found %d", (unsigned long)keys[k],
               i != ADDRMAP_NONE);
        for (unsigned j = 0; present[k] && j < nvals; j++)
            CHECK(addrmap_vals(&m, i)[j] == keys[k] * 10 + j);
    }
    check_walk(&m, keys, present, N);

    /* Reinserted keys get zero values again, and existing keys say so. */
    for (size_t k = 0; k < 14; k++) {
        bool existed;
        size_t i = addrmap_insert(&m, keys[k], &existed);
        CHECK(i != ADDRMAP_NONE && existed == (present[k] != 0));
        for (unsigned j = 0; j < nvals; j++)
            CHECK(addrmap_vals(&m, i)[j] == (present[k] ? keys[k] * 10 + j : 0));
        present[k] = 1;
    }
    check_walk(&m, keys, present, N);
    addrmap_free(&m);
    CHECK(m.cap == 0 && m.live == 0 && m.keys == NULL && m.nvals == nvals);
    CHECK(addrmap_find(&m, keys[0]) == ADDRMAP_NONE);
}

/* Sequential addresses and keys differing only in high bits, many of
 * each: several growths, everything found, nothing else. */
static void addrmap_many(void)
{
    addrmap m = {.nvals = 1};
    size_t n = 50000;
    for (size_t k = 0; k < n; k++) {
        bool existed;
        uintptr_t a = 0x10000000 + 16 * k, b = ((uintptr_t)(k + 1) << 40) | 0x1000;
        size_t i = addrmap_insert(&m, a, &existed);
        CHECK(i != ADDRMAP_NONE && !existed);
        addrmap_vals(&m, i)[0] = k;
        i = addrmap_insert(&m, b, &existed);
        CHECK(i != ADDRMAP_NONE && !existed);
        addrmap_vals(&m, i)[0] = ~k;
    }
    CHECK(m.live == 2 * n && 2 * m.used <= m.cap);
    CHECKF(hgc_base(m.keys) == NULL && hgc_base(m.vals) == NULL,
           "addrmap memory in the collected heap");
    for (size_t k = 0; k < n; k++) {
        size_t i = addrmap_find(&m, 0x10000000 + 16 * k);
        CHECKF(i != ADDRMAP_NONE && addrmap_vals(&m, i)[0] == k, "sequential key %zu", k);
        i = addrmap_find(&m, ((uintptr_t)(k + 1) << 40) | 0x1000);
        CHECKF(i != ADDRMAP_NONE && addrmap_vals(&m, i)[0] == ~k, "high key %zu", k);
        CHECK(addrmap_find(&m, 0x10000000 + 16 * k + 8) == ADDRMAP_NONE);
        CHECK(addrmap_find(&m, ((uintptr_t)(k + 1) << 40) | 0x2000) == ADDRMAP_NONE);
    }
    addrmap_free(&m);
}

/* Churn at a small size: growth drops the tombstones instead of doubling. */
static void addrmap_tombstone_churn(void)
{
    addrmap m = {.nvals = 0};
    for (size_t k = 0; k < 100000; k++) {
        bool existed;
        uintptr_t key = 0x4000 + 8 * k;
        CHECK(addrmap_insert(&m, key, &existed) != ADDRMAP_NONE && !existed);
        if (k >= 10) {
            size_t i = addrmap_find(&m, key - 80);
            CHECK(i != ADDRMAP_NONE);
            addrmap_remove_at(&m, i);
        }
        CHECK(m.live == (k < 10 ? k + 1 : 10));
    }
    CHECKF(m.cap == 64, "capacity %zu for 10 live keys", m.cap);
    for (size_t k = 0; k < 100000; k++)
        CHECK((addrmap_find(&m, 0x4000 + 8 * k) != ADDRMAP_NONE) == (k >= 100000 - 10));
    addrmap_free(&m);
}

static void addrmap_random(uint64_t seed)
{
    enum { POOL = 3000, NV = 3 };
    static uintptr_t keys[POOL], vals[POOL][NV];
    static int present[POOL];
    test_rng r = {seed};
    for (size_t k = 0; k < POOL; k++) {
        /* Keys of one base share a slot; a third differ only in high bits. */
        uintptr_t base = k % 3 == 0 ? (uintptr_t)(k / 8 + 1) << 44 : 0x20000 + (k / 8) * 64;
        keys[k] = base + k % 8;
    }
    addrmap m = {.nvals = NV};
    for (size_t step = 0; step < 400000; step++) {
        size_t k = test_rand_range(&r, 0, POOL - 1);
        size_t i = addrmap_find(&m, keys[k]);
        CHECKF((i != ADDRMAP_NONE) == present[k], "step %zu: key %#lx found %d, expected %d",
               step, (unsigned long)keys[k], i != ADDRMAP_NONE, present[k]);
        for (unsigned j = 0; present[k] && j < NV; j++)
            CHECKF(addrmap_vals(&m, i)[j] == vals[k][j], "step %zu: value %u of %#lx", step, j,
                   (unsigned long)keys[k]);
        switch (test_rand(&r) % 3) {
        case 0:
        case 1: {
            bool existed;
            i = addrmap_insert(&m, keys[k], &existed);
            CHECK(i != ADDRMAP_NONE && existed == (present[k] != 0));
            for (unsigned j = 0; !existed && j < NV; j++)
                CHECK(addrmap_vals(&m, i)[j] == 0);
            for (unsigned j = 0; j < NV; j++)
                vals[k][j] = addrmap_vals(&m, i)[j] = test_rand(&r);
            present[k] = 1;
            break;
        }
        default:
            if (i != ADDRMAP_NONE)
                addrmap_remove_at(&m, i);
            present[k] = 0;
        }
        if (step % 50000 == 0)
            check_walk(&m, keys, present, POOL);
    }
    check_walk(&m, keys, present, POOL);
    addrmap_free(&m);
}

/* --------------------------------------------------------- layout index */

static void layout_dedup(void)
{
    enum { N = 5000, WORDS = 200 };
    static hgc_layout made[N];
    uint64_t bits[(WORDS + 63) / 64];
    for (size_t k = 0; k < N; k++) {
        memset(bits, 0, sizeof bits);
        bits[k % 3] = k + 1;
        bits[3] = (uint64_t)1 << (k % 8); /* word 192 + k % 8: in the table */
        made[k] = hgc_make_layout(bits, WORDS);
        CHECKF(made[k] != 0 && (made[k] & 1) == 0, "layout %zu: %#lx", k,
               (unsigned long)made[k]);
    }
    for (size_t k = 0; k < N; k++) {
        memset(bits, 0, sizeof bits);
        bits[k % 3] = k + 1;
        bits[3] = (uint64_t)1 << (k % 8);
        CHECKF(hgc_make_layout(bits, WORDS) == made[k], "layout %zu made twice differs", k);
        /* Each distinct map took the next entry: none matched another. */
        CHECKF(made[k] == made[0] + 2 * k, "layout %zu: %#lx, the first %#lx", k,
               (unsigned long)made[k], (unsigned long)made[0]);
    }
}

/* ------------------------------------------------------------ main */

static void death(const char *name, const char *expect)
{
    test_child c;
    test_run_case(name, NULL, &c);
    CHECKF(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGABRT, "case %s: status %#x", name,
           c.status);
    CHECKF(strstr(c.err, expect) != NULL, "case %s: expected \"%s\" in: %s", name, expect, c.err);
    free(c.err);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (!strcmp(argv[1], "vec_past_end")) {
            vec v = VEC_INIT(int);
            for (int i = 0; i < 3; i++)
                *(int *)vec_push(&v) = i;
            printf("%d\n", VEC_AT(&v, int, 3));
        } else if (!strcmp(argv[1], "addrmap_marker_key")) {
            addrmap m = {.nvals = 0};
            bool existed;
            addrmap_insert(&m, ADDRMAP_DELETED, &existed);
        }
        return 3;
    }
    uint64_t seed = test_seed();
    vec_many_pushes();
    vec_odd_elements();
    vec_reserve_cases();
    addrmap_collisions(0);
    addrmap_collisions(2);
    addrmap_many();
    addrmap_tombstone_churn();
    addrmap_random(seed);
    layout_dedup();
    if (hgc_check_level >= 1) {
        death("vec_past_end", "vec index 3 past its length 3");
        death("addrmap_marker_key", "addrmap key 0x1 is a slot marker");
    }
    printf("test_containers: ok\n");
    return 0;
}
