/*
 * test_roots_globals: pointers stored only in writable data keep their
 * objects alive:
 *   - a .bss pointer and an initialized .data pointer of the executable;
 *   - the .bss and .data slots of a shared library linked to the test;
 *   - the same slots of a second shared library opened with dlopen() after
 *     the collector has already run.
 * Each root holds a 1 MiB object whose first word links a small list.
 * After all slots are cleared the objects are reclaimed (control).
 */
#include "test.h"

#include <dlfcn.h>

#ifndef ROOTS_DSO_DL_PATH
#error "ROOTS_DSO_DL_PATH must name the dlopen()ed test library"
#endif

/* from roots_dso.c, linked */
void roots_dso_set(int which, void *p);
void *roots_dso_get(int which);
int roots_dso_data_is_initial(void);

typedef void (*set_fn)(int, void *);
typedef void *(*get_fn)(int);
typedef int (*initial_fn)(void);

#define OBJ_SIZE (1 * MiB)
#define LIST_LEN 64
#define NROOTS 6

static int exe_dummy;
static void *volatile exe_bss_slot;               /* .bss */
static void *volatile exe_data_slot = &exe_dummy; /* .data */

static uintptr_t hidden[NROOTS];

struct node {
    struct node *next;
    uint64_t check;
};

/* A 1 MiB scanned object: word 0 -> list of LIST_LEN nodes, rest pattern. */
static TEST_NOINLINE void *make_bundle(int which)
{
    uint64_t *big = (uint64_t *)hgc_malloc(OBJ_SIZE);
    struct node *head = NULL;
    int i;
    CHECK(big != NULL);
    for (i = 0; i < LIST_LEN; i++) {
        struct node *n = (struct node *)hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        n->next = head;
        n->check = (uint64_t)(uintptr_t)n * 31 + (uint64_t)which;
        head = n;
    }
    big[0] = (uint64_t)(uintptr_t)head;
    test_fill(big + 1, OBJ_SIZE - 8, (uintptr_t)big);
    hidden[which] = test_hide(big);
    return big;
}

static TEST_NOINLINE void verify_bundle(void *p, int which)
{
    uint64_t *big = (uint64_t *)p;
    struct node *n;
    int count = 0;
    CHECKF(p == test_unhide(hidden[which]), "root %d changed: %p", which, p);
    CHECK(hgc_base(p) == p);
    CHECK_PATTERN(big + 1, OBJ_SIZE - 8, (uintptr_t)big);
    for (n = (struct node *)(uintptr_t)big[0]; n; n = n->next) {
        CHECKF(n->check == (uint64_t)(uintptr_t)n * 31 + (uint64_t)which,
               "root %d: list node %d broken", which, count);
        count++;
        CHECK(count <= LIST_LEN);
    }
    CHECK(count == LIST_LEN);
}

static set_fn dl_set;
static get_fn dl_get;

static void *get_root(int which)
{
    switch (which) {
    case 0: return exe_bss_slot;
    case 1: return exe_data_slot;
    case 2: return roots_dso_get(0);
    case 3: return roots_dso_get(1);
    case 4: return dl_get(0);
    default: return dl_get(1);
    }
}

static TEST_NOINLINE void set_root(int which, void *p)
{
    switch (which) {
    case 0: exe_bss_slot = p; break;
    case 1: exe_data_slot = p; break;
    case 2: roots_dso_set(0, p); break;
    case 3: roots_dso_set(1, p); break;
    case 4: dl_set(0, p); break;
    default: dl_set(1, p); break;
    }
}

static TEST_NOINLINE void fill_roots(int from, int to)
{
    int i;
    for (i = from; i < to; i++)
        set_root(i, make_bundle(i));
}

static TEST_NOINLINE void churn(int round)
{
    test_churn(test_scale(16 * MiB, 4, 8));
    test_churn_sizes(test_scale(16 * MiB, 4, 8), OBJ_SIZE, OBJ_SIZE + 4096,
                     (uint64_t)round);
    test_churn_sizes(test_scale(4 * MiB, 4, 8), 16, 16, (uint64_t)round + 99);
}

static TEST_NOINLINE void verify_all(int nroots)
{
    int i;
    for (i = 0; i < nroots; i++)
        verify_bundle(get_root(i), i);
}

static TEST_NOINLINE void check_live(int nroots)
{
    hgc_stats s = test_stats();
    CHECKF(s.live_bytes >= (size_t)nroots * OBJ_SIZE,
           "live_bytes %zu, but %d roots hold %zu bytes", s.live_bytes, nroots,
           (size_t)nroots * OBJ_SIZE);
}

int main(void)
{
    void *h;
    initial_fn dl_initial;
    size_t live_held;
    hgc_stats s;
    int round, i;

    CHECK(exe_data_slot == &exe_dummy); /* really in .data */
    CHECK(roots_dso_data_is_initial());

    hgc_init();
    /* executable and linked DSO first */
    fill_roots(0, 4);
    test_clear_stack();
    for (round = 0; round < 3; round++) {
        test_collect_n(1);
        s = test_stats();
        CHECKF(s.live_bytes >= 4 * OBJ_SIZE, "live_bytes %zu", s.live_bytes);
        churn(round);
        test_clear_stack();
    }

    /* a library loaded after the collector is running */
    h = dlopen(ROOTS_DSO_DL_PATH, RTLD_NOW | RTLD_LOCAL);
    CHECKF(h != NULL, "dlopen: %s", dlerror());
    dl_set = (set_fn)dlsym(h, "roots_dso_set");
    dl_get = (get_fn)dlsym(h, "roots_dso_get");
    dl_initial = (initial_fn)dlsym(h, "roots_dso_data_is_initial");
    CHECK(dl_set != NULL && dl_get != NULL && dl_initial != NULL);
    CHECK(dl_set != roots_dso_set); /* a separate copy with its own data */
    CHECK(dl_initial());
    fill_roots(4, NROOTS);
    CHECK(roots_dso_get(0) != dl_get(0));
    test_clear_stack();

    for (round = 0; round < 4; round++) {
        test_collect_n(1);
        check_live(NROOTS);
        churn(round + 10);
        verify_all(NROOTS);
        test_clear_stack();
    }

    /* Control: the slots were the only references. */
    test_collect_n(1);
    live_held = test_stats().live_bytes;
    for (i = 0; i < NROOTS; i++)
        set_root(i, NULL);
    test_collect_n(2);
    s = test_stats();
    CHECKF(s.live_bytes + (size_t)NROOTS * OBJ_SIZE / 2 <= live_held,
           "live_bytes went only from %zu to %zu after clearing the roots",
           live_held, s.live_bytes);

    printf("test_roots_globals: ok\n");
    return 0;
}
