/*
 * test_invariants: the invariants checked as hgc runs (base/check.h) --
 * in builds with HGC_CHECK_LEVEL >= 1 (debug and sanitizer builds).
 *   tag    an object is freed, the word that marks its slot free is
 *          overwritten, and the slot is handed out again: the allocation
 *          aborts with one line naming the broken invariant, where it is
 *          checked, the slot and the word;
 *   clean  allocation of many sizes by four threads, frees by the owner
 *          and by other threads, collections, a thread that exits: every
 *          check on (whole free lists and mark bytes at level 2), no report.
 * Other builds check nothing: the test is skipped (exit 77).
 */
#define _GNU_SOURCE
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#if HGC_TEST_CHECK_LEVEL >= 1
/* ASan builds poison free slots and would report the write below first:
 * it is made unchecked, so that hgc's own check is what catches it. */
#if defined(__clang__)
__attribute__((no_sanitize("address")))
#elif defined(__GNUC__)
__attribute__((no_sanitize_address))
#endif
static TEST_NOINLINE void write_unchecked(void **p, int i, void *v) { p[i] = v; }

static int case_tag(void)
{
    void **p = (void **)hgc_malloc(48), *q;
    CHECK(p != NULL);
    hgc_free(p);
    fprintf(stderr, "TEST-ADDR %p\n", (void *)p);
    write_unchecked(p, 1, (void *)0x1234); /* the bug under test: a write into a freed object */
    for (int i = 0; i < 10000; i++) { /* p comes back first: it heads the free list */
        q = hgc_malloc(48);
        if (q == (void *)p)
            break;
    }
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static void *churn(void *arg)
{
    static void *_Atomic handoff[4][256];
    unsigned id = (unsigned)(uintptr_t)arg;
    test_rng r = {id + 1};
    void *keep[256] = {0};
    for (int i = 0; i < (int)test_scale(200000, 4, 10); i++) {
        size_t n = test_rand_range(&r, 1, i % 97 == 0 ? 40000 : 600);
        unsigned k = (unsigned)test_rand_range(&r, 0, 255);
        if (keep[k] && i % 3 == 0)
            hgc_free(keep[k]); /* the owner's free */
        keep[k] = hgc_malloc(n);
        CHECK(keep[k] != NULL && test_is_zero(keep[k], n));
        /* Another thread frees what this one allocated. */
        void *mine = hgc_malloc(32);
        void *theirs = atomic_exchange(&handoff[(id + 1) % 4][k], mine);
        if (theirs)
            hgc_free(theirs);
        if (i % 50000 == 0)
            hgc_collect();
    }
    return NULL;
}

static int case_clean(void)
{
    pthread_t t[4];
    for (unsigned i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)i) == 0);
    for (unsigned i = 0; i < 4; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    hgc_collect();
    hgc_collect_minor();
    return 0;
}
#endif

int main(int argc, char **argv)
{
#if HGC_TEST_CHECK_LEVEL < 1
    (void)argc;
    (void)argv;
    printf("test_invariants: skipped, this build checks no invariant\n");
    return 77;
#else
    test_child c;
    char a[64] = "", expect[256];
    const char *l;
    int failures = 0;
    if (argc > 1)
        return !strcmp(argv[1], "tag") ? case_tag() : case_clean();

    test_run_case_addr("tag", &c, a);
    snprintf(expect, sizeof expect,
             "slot %s (48 bytes) on a free list is not a free slot: word 1 is 0x1234, not its tag "
             "(written after it was freed?) ((uintptr_t)p[1] == free_tag(p))", a);
    l = strstr(c.err, "hgc: invariant broken at alloc/alloc.h:");
    if (!WIFSIGNALED(c.status) || WTERMSIG(c.status) != SIGABRT || !l || !strstr(l, expect) ||
        strstr(c.err, "TEST-REACHED")) {
        fprintf(stderr, "FAIL tag: expected an abort with\n  hgc: invariant broken at "
                        "alloc/alloc.h:LINE: %s\n", expect);
        test_print_child("tag", &c);
        failures++;
    } else {
        printf("ok   tag\n");
    }
    test_child_free(&c);

    if (test_case_passes("clean", NULL, "clean"))
        printf("ok   clean\n");
    else
        failures++;
    if (failures)
        return 1;
    printf("test_invariants: ok (check level %d)\n", HGC_TEST_CHECK_LEVEL);
    return 0;
#endif
}
