/*
 * test_typed: typed objects are scanned exactly, each with its own layout.
 *   - a word the layout marks as a pointer keeps its target alive; a word
 *     it does not mark (holding the very same address) does not: a weak
 *     link to a target held only there is cleared;
 *   - objects of different layouts in one size class (so in shared spans)
 *     each follow their own layout;
 *   - a layout longer than 63 words (the table form) on a large object and
 *     on a small one of 20 KiB (longer than the piece the marker scans a
 *     large object by, which must not cut a small one), and arrays from
 *     hgc_calloc_typed with the element map repeated;
 *   - layouts are values: equal maps give equal layouts, no bits give 0;
 *   - hgc_size excludes the layout word, realloc keeps the layout;
 *   - an overwritten layout word makes the object scanned conservatively
 *     (it retains more, never less, and nothing crashes).
 */
#include "test.h"

#define N 100
#define MIN_DEAD(n) ((n) * 9 / 10)

typedef struct target {
    uint64_t key;
} target;

static target *new_target(uint64_t key)
{
    target *t = hgc_malloc_atomic(sizeof *t);
    CHECK(t != NULL);
    t->key = key;
    return t;
}

/* Objects of 4 words; layout A: word 0 and 2 are pointers; layout B: word 1
 * and 3.  Both kinds hold targets in all four words; the weak links say
 * which targets survived. */
static uint64_t bits_a = 0x5, bits_b = 0xa;
static void **links;           /* N objects x 4 words */
static void *volatile kept[N]; /* volatile: only written, yet a root */

static TEST_NOINLINE void make_mixed(hgc_layout la, hgc_layout lb)
{
    for (int i = 0; i < N; i++) {
        void **o = hgc_malloc_typed(4 * sizeof(void *), i % 2 ? lb : la);
        CHECK(o != NULL);
        CHECK(hgc_size(o) >= 4 * sizeof(void *));
        for (int w = 0; w < 4; w++) {
            target *t = new_target((uint64_t)i * 4 + (uint64_t)w);
            o[w] = t;
            links[i * 4 + w] = t;
            CHECK(hgc_weak_register(&links[i * 4 + w], t) == HGC_OK);
        }
        kept[i] = o;
    }
}

static void test_mixed_layouts(void)
{
    hgc_layout la = hgc_make_layout(&bits_a, 4), lb = hgc_make_layout(&bits_b, 4);
    CHECK(la != lb && la != 0 && lb != 0);
    CHECK(hgc_make_layout(&bits_a, 4) == la);
    CHECK(hgc_make_layout(&bits_a, 40) == la); /* trailing words without pointers */
    uint64_t none = 0;
    CHECK(hgc_make_layout(&none, 4) == 0);
    links = malloc(4 * N * sizeof *links);
    CHECK(links != NULL);
    make_mixed(la, lb);
    test_collect_n(3);
    int cleared = 0, total = 0;
    for (int i = 0; i < N; i++) {
        uint64_t bits = i % 2 ? bits_b : bits_a;
        for (int w = 0; w < 4; w++) {
            void *l = links[i * 4 + w];
            if (bits >> w & 1) {
                CHECKF(l != NULL, "object %d: target in pointer word %d was collected", i, w);
                CHECK(((target *)l)->key == (uint64_t)i * 4 + (uint64_t)w);
            } else {
                total++;
                cleared += l == NULL;
            }
        }
    }
    CHECKF(cleared >= MIN_DEAD(total), "only %d of %d targets in non-pointer words collected",
           cleared, total);
    for (int i = 0; i < 4 * N; i++)
        hgc_weak_unregister(&links[i]);
    for (int i = 0; i < N; i++)
        kept[i] = NULL;
    free(links);
}

/* An object of `words` words (at most BIG_WORDS) whose pointers are at
 * every 100th word. */
#define BIG_WORDS 8192
static uint64_t big_bits[BIG_WORDS / 64];

static TEST_NOINLINE void **make_big(int words, hgc_layout l, void **wl)
{
    void **o = hgc_malloc_typed((size_t)words * sizeof(void *), l);
    CHECK(o != NULL);
    CHECK(hgc_size(o) >= (size_t)words * sizeof(void *));
    for (int w = 0; w < words; w += 50) {
        target *t = new_target((uint64_t)w);
        o[w] = t;
        wl[w / 50] = t;
        CHECK(hgc_weak_register(&wl[w / 50], t) == HGC_OK);
    }
    return o;
}

static void check_big_layout(int words)
{
    memset(big_bits, 0, sizeof big_bits);
    for (int w = 0; w < words; w += 100)
        big_bits[w / 64] |= 1ull << (w % 64);
    hgc_layout l = hgc_make_layout(big_bits, (size_t)words);
    CHECK(l != 0 && l != HGC_LAYOUT_ERROR && (l & 1) == 0); /* the table form */
    CHECK(hgc_make_layout(big_bits, (size_t)words) == l);
    void **wl = malloc((size_t)(words / 50 + 1) * sizeof *wl);
    CHECK(wl != NULL);
    void **volatile o = make_big(words, l, wl);
    test_collect_n(2);
    int cleared = 0;
    for (int w = 0; w < words; w += 50) {
        if (w % 100 == 0)
            CHECKF(wl[w / 50] != NULL, "%d-word object: pointer word %d's target collected",
                   words, w);
        else
            cleared += wl[w / 50] == NULL;
    }
    CHECKF(cleared >= MIN_DEAD(words / 100), "%d-word object: only %d non-pointer targets died",
           words, cleared);
    CHECK(o[0] != NULL);
    for (int i = 0; i < words / 50 + 1; i++)
        hgc_weak_unregister(&wl[i]);
    free(wl);
}

static void test_big_layout(void)
{
    check_big_layout(BIG_WORDS); /* a large object */
    check_big_layout(2560);      /* 20 KiB: a small one */
}

/* Arrays: elements of 3 words, pointer in the middle word only. */
#define ELEMS 5000
static TEST_NOINLINE void **make_array(hgc_layout l, void **wl)
{
    void **a = hgc_calloc_typed(ELEMS, 3 * sizeof(void *), l);
    CHECK(a != NULL);
    CHECK(hgc_size(a) >= ELEMS * 3 * sizeof(void *));
    for (int e = 0; e < ELEMS; e += 10) {
        for (int w = 0; w < 2; w++) { /* word 1 (pointer) and word 2 (not) */
            target *t = new_target((uint64_t)e);
            a[e * 3 + 1 + w] = t;
            wl[(e / 10) * 2 + w] = t;
            CHECK(hgc_weak_register(&wl[(e / 10) * 2 + w], t) == HGC_OK);
        }
    }
    return a;
}

static void test_arrays(void)
{
    uint64_t elem = 0x2; /* word 1 of 3 */
    hgc_layout l = hgc_make_layout(&elem, 3);
    void **wl = malloc(ELEMS / 10 * 2 * sizeof *wl);
    CHECK(wl != NULL);
    void **volatile a = make_array(l, wl);
    test_collect_n(2);
    int cleared = 0;
    for (int k = 0; k < ELEMS / 10; k++) {
        CHECKF(wl[2 * k] != NULL, "array element %d: pointer word's target collected", k * 10);
        cleared += wl[2 * k + 1] == NULL;
    }
    CHECKF(cleared >= MIN_DEAD(ELEMS / 10), "array: only %d of %d non-pointer targets died",
           cleared, ELEMS / 10);
    CHECK(a[1] != NULL);
    for (int i = 0; i < ELEMS / 10 * 2; i++)
        hgc_weak_unregister(&wl[i]);
    free(wl);
    /* An element size that is not whole words: scanned conservatively. */
    void **odd = hgc_calloc_typed(10, 12, l);
    CHECK(odd != NULL && hgc_size(odd) >= 120);
}

/* realloc keeps the layout; an overwritten layout word scans everything. */
static TEST_NOINLINE void **make_two(hgc_layout l, void **wl)
{
    void **o = hgc_malloc_typed(2 * sizeof(void *), l);
    CHECK(o != NULL);
    for (int w = 0; w < 2; w++) {
        target *t = new_target((uint64_t)w);
        o[w] = t;
        wl[w] = t;
        CHECK(hgc_weak_register(&wl[w], t) == HGC_OK);
    }
    return o;
}

static void test_realloc_and_garbage(void)
{
    uint64_t first = 0x1;
    hgc_layout l = hgc_make_layout(&first, 2);
    void **wl = malloc(2 * sizeof *wl); /* not on the (scanned) stack */
    CHECK(wl != NULL);
    void **volatile o = make_two(l, wl);
    o = hgc_realloc(o, 200 * sizeof(void *)); /* moves: another class */
    CHECK(o != NULL && hgc_size(o) >= 200 * sizeof(void *));
    test_collect_n(2);
    CHECK(wl[0] != NULL && ((target *)o[0])->key == 0);
    /* wl[1] may or may not be cleared (only word 0 counts, but the old
     * copy may linger on the stack); no check. */
    hgc_weak_unregister(&wl[0]);
    hgc_weak_unregister(&wl[1]);

    /* Clobber the layout word: the object is then scanned conservatively,
     * so its second word keeps its target too. */
    void **p = make_two(l, wl);
    size_t usable = hgc_size(p);
    p[usable / sizeof(void *)] = (void *)(uintptr_t)0x1234567890; /* the layout word */
    test_collect_n(2);
    CHECK(wl[0] != NULL && wl[1] != NULL);
    CHECK(((target *)p[1])->key == 1);
    hgc_weak_unregister(&wl[0]);
    hgc_weak_unregister(&wl[1]);
    free(wl);
}

int main(void)
{
    hgc_init();
    test_mixed_layouts();
    test_big_layout();
    test_arrays();
    test_realloc_and_garbage();
    printf("test_typed: ok\n");
    return 0;
}
