/*
 * test_poison: in debug builds (CMAKE_BUILD_TYPE=Debug), free slots are
 * filled with poison that is checked when the slot is handed out again.
 *   uaf    an object is freed, one byte of it written, and the slot handed
 *          out again: the allocation aborts with one line naming the
 *          object, its size, the byte and its value;
 *   clean  100,000 allocations of mixed sizes with frees in between (owner
 *          and cross-thread) and collections: no report, and every object
 *          handed out reads as zero.
 * Other builds have no poison: the test is skipped (exit 77).
 */
#include "test.h"

#include <pthread.h>

#if HGC_TEST_DEBUG_BUILD
static int case_uaf(void)
{
    unsigned char *p = (unsigned char *)hgc_malloc(64), *q;
    CHECK(p != NULL);
    hgc_free(p);
    fprintf(stderr, "TEST-ADDR %p\n", (void *)p);
    p[40] = 1; /* the bug under test */
    for (int i = 0; i < 10000; i++) { /* p comes back first: it heads the free list */
        q = (unsigned char *)hgc_malloc(64);
        if (q == p)
            break;
    }
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static void *freer(void *arg)
{
    void **v = (void **)arg;
    for (int i = 0; i < 1000; i++)
        hgc_free(v[i]);
    return NULL;
}

static int case_clean(void)
{
    static void *keep[1000];
    test_rng r = {7};
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 1000; i++) {
            size_t n = test_rand_range(&r, 1, 3000);
            keep[i] = hgc_malloc(n);
            CHECK(keep[i] != NULL && test_is_zero(keep[i], n));
        }
        if (round % 2) {
            for (int i = 0; i < 1000; i++)
                hgc_free(keep[i]);
        } else {
            pthread_t t;
            CHECK(pthread_create(&t, NULL, freer, keep) == 0);
            CHECK(pthread_join(t, NULL) == 0);
        }
        if (round % 10 == 0)
            hgc_collect();
    }
    return 0;
}
#endif

int main(int argc, char **argv)
{
#if !HGC_TEST_DEBUG_BUILD
    (void)argc;
    (void)argv;
    printf("test_poison: skipped, not a debug build\n");
    return 77;
#else
    test_child c;
    char a[64] = "", expect[256];
    int failures = 0;
    if (argc > 1)
        return !strcmp(argv[1], "uaf") ? case_uaf() : case_clean();

    test_run_case_addr("uaf", &c, a);
    snprintf(expect, sizeof expect,
             "hgc: object %s (64 bytes) was written after it was freed: byte 40 is 0x1, not "
             "the poison 0xdb (debug build)", a);
    if (!WIFSIGNALED(c.status) || WTERMSIG(c.status) != SIGABRT || !test_has_line(c.err, expect) ||
        strstr(c.err, "TEST-REACHED")) {
        fprintf(stderr, "FAIL uaf: expected an abort with\n  %s\n", expect);
        test_print_child("uaf", &c);
        failures++;
    } else {
        printf("ok   uaf\n");
    }
    test_child_free(&c);

    test_run_case("clean", NULL, &c);
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
        test_print_child("clean", &c);
        failures++;
    } else {
        printf("ok   clean\n");
    }
    test_child_free(&c);
    if (failures)
        return 1;
    printf("test_poison: ok\n");
    return 0;
#endif
}
