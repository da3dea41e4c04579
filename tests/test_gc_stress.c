/*
 * test_gc_stress: HGC_GC_STRESS=N collects at every Nth allocation of each
 * thread, fast path included, and loses nothing doing so.
 *
 * Cases (children with the variable set):
 *   count   N=50, pacing off: 1000 small allocations in a row run exactly 20 collections
 *           (the 1st, 51st, ... allocation collects), large ones count too,
 *           and none run while collection is disabled;
 *   work    N=7: objects freed by their owner, freed by another thread and
 *           dropped are all reused while every object kept stays intact,
 *           and a thread that exits hands its cached spans back whole;
 *   bad     HGC_GC_STRESS=abc, pacing off: a warning, and no stress
 *           (allocations run no collection).
 */
#include "test.h"

#include <pthread.h>

static uint64_t collections(void) { return test_stats().collections; }

/* Allocate n objects of `size` bytes and drop them; the collections run
 * meanwhile. */
static uint64_t collections_during(int n, size_t size)
{
    void *volatile sink;
    uint64_t c0 = collections();
    for (int i = 0; i < n; i++)
        sink = hgc_malloc(size);
    (void)sink;
    return collections() - c0;
}

static int case_count(void)
{
    uint64_t c;
    hgc_init();
    c = collections_during(1000, 24);
    CHECKF(c == 20, "1000 allocations ran %llu collections, expected 20", (unsigned long long)c);
    c = collections_during(100, 100000); /* large */
    CHECKF(c == 2, "100 large allocations ran %llu collections, expected 2", (unsigned long long)c);
    hgc_disable();
    c = collections_during(1000, 24);
    hgc_enable();
    CHECK(c == 0);
    return 0;
}

#define KEEP 512

struct obj {
    uint64_t check;
    size_t n;
    unsigned char pad[40];
};

static uint64_t okey(const struct obj *o) { return (uintptr_t)o * 0x9E3779B97F4A7C15ull; }

static struct obj *make(size_t n)
{
    struct obj *o = (struct obj *)hgc_malloc(sizeof *o);
    CHECK(o != NULL);
    CHECK(test_is_zero(o, sizeof *o));
    o->check = okey(o);
    o->n = n;
    return o;
}

static void *other_thread(void *arg)
{
    struct obj **give = (struct obj **)arg;
    int i;
    /* Free what the main thread made, allocate some of our own, exit
     * with a cached span holding free slots. */
    for (i = 0; i < KEEP / 2; i++) {
        CHECK(give[i]->check == okey(give[i]));
        hgc_free(give[i]);
        give[i] = NULL;
    }
    for (i = 0; i < 300; i++)
        (void)make((size_t)i);
    return NULL;
}

static int case_work(void)
{
    static struct obj *keep[KEEP];
    static struct obj *give[KEEP / 2];
    pthread_t t;
    size_t round, i;
    hgc_init();
    for (round = 0; round < 20; round++) {
        for (i = 0; i < KEEP; i++) {
            if (keep[i] && (i + round) % 3 == 0) {
                hgc_free(keep[i]); /* by the owner */
                keep[i] = NULL;
            }
            if (!keep[i])
                keep[i] = make(i);
        }
        for (i = 0; i < KEEP / 2; i++)
            give[i] = make(i + 1000);
        CHECK(pthread_create(&t, NULL, other_thread, give) == 0);
        CHECK(pthread_join(t, NULL) == 0);
        for (i = 0; i < 2000; i++)
            (void)make(i); /* dropped */
        for (i = 0; i < KEEP; i++)
            CHECKF(keep[i]->check == okey(keep[i]) && keep[i]->n == i,
                   "round %zu: kept object %zu damaged", round, i);
    }
    printf("work: %llu collections\n", (unsigned long long)collections());
    return 0;
}

static int case_bad(void)
{
    hgc_init();
    CHECK(collections_during(1000, 24) == 0);
    return 0;
}

static int failures;

static void run(const char *name, const char *env0, const char *env1,
                const char *must_prefix)
{
    const char *env[] = {env0, env1, NULL};
    test_child c;
    test_run_case(name, env, &c);
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 ||
        (must_prefix && !test_has_line_prefix(c.err, must_prefix))) {
        fprintf(stderr, "FAIL %s (%s)\n", name, env0);
        test_print_child(name, &c);
        failures++;
    } else {
        printf("ok   %s (%s)\n", name, env0);
    }
    test_child_free(&c);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (!strcmp(argv[1], "count")) return case_count();
        if (!strcmp(argv[1], "work")) return case_work();
        if (!strcmp(argv[1], "bad")) return case_bad();
        return 2;
    }
    /* Pacing off, so that every collection of "count" is a stress one. */
    run("count", "HGC_GC_STRESS=50", "HGC_GOGC=off", NULL);
    run("work", "HGC_GC_STRESS=7", NULL, NULL);
    run("bad", "HGC_GC_STRESS=abc", "HGC_GOGC=off", "hgc: warning: HGC_GC_STRESS");
    if (failures)
        return 1;
    printf("test_gc_stress: ok\n");
    return 0;
}
