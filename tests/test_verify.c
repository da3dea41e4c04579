/*
 * test_verify: the heap verifier (HGC_VERIFY, hgc_verify()).
 *
 * Each case runs as a child process:
 *   clean      HGC_VERIFY=1 HGC_STATS=1: a list, a tree and threads churning
 *              with collections; exits 0 and the stats line reports every
 *              collection verified with objects traced;
 *   explicit   no HGC_VERIFY: hgc_verify() verifies exactly the collections
 *              it runs (the stats line says 3 after three calls);
 *   miss_root  HGC_VERIFY=2 (self-test: the collector drops the mark of
 *              every object whose first word is the self-test word): an
 *              object held by a global must be reported, naming the object,
 *              the global's address and a data-segment root, then abort;
 *   miss_deep  the same for an object held inside another object that a
 *              global holds: the report names the holding object.
 */
#include "test.h"

#include <pthread.h>

#define SELFTEST_WORD 0x6867632d76657269ull

static void *volatile global_ref;

static TEST_NOINLINE void *make_list(int n)
{
    void **head = NULL;
    int i;
    for (i = 0; i < n; i++) {
        void **node = (void **)hgc_malloc(32);
        CHECK(node != NULL);
        node[0] = head;
        head = node;
    }
    return head;
}

static void *churner(void *arg)
{
    (void)arg;
    test_churn(test_scale(16 * MiB, 4, 8));
    return NULL;
}

static int case_clean(void)
{
    pthread_t th[2];
    int i;
    global_ref = make_list(20000);
    for (i = 0; i < 2; i++)
        CHECK(pthread_create(&th[i], NULL, churner, NULL) == 0);
    for (i = 0; i < 5; i++)
        hgc_collect();
    for (i = 0; i < 2; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    hgc_verify();
    return 0;
}

static int case_explicit(void)
{
    global_ref = make_list(1000);
    hgc_verify();
    hgc_collect(); /* not verified */
    hgc_verify();
    hgc_verify();
    return 0;
}

static int case_miss(int deep)
{
    uint64_t *victim = (uint64_t *)hgc_malloc(48);
    CHECK(victim != NULL);
    victim[0] = SELFTEST_WORD;
    if (deep) {
        void **holder = (void **)hgc_malloc(64);
        CHECK(holder != NULL);
        holder[3] = victim;
        global_ref = holder;
        fprintf(stderr, "TEST-ADDR %p %p %p\n", (void *)victim, (void *)&holder[3],
                (void *)holder);
    } else {
        global_ref = victim;
        fprintf(stderr, "TEST-ADDR %p %p\n", (void *)victim, (void *)&global_ref);
    }
    victim = NULL;
    hgc_collect();
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int run_child(const char *name)
{
    if (!strcmp(name, "clean")) return case_clean();
    if (!strcmp(name, "explicit")) return case_explicit();
    if (!strcmp(name, "miss_root")) return case_miss(0);
    if (!strcmp(name, "miss_deep")) return case_miss(1);
    fprintf(stderr, "unknown case %s\n", name);
    return 2;
}

static int failures;

static void fail(const char *name, const char *why, const test_child *c)
{
    fprintf(stderr, "FAIL %s: %s\n", name, why);
    test_print_child(name, c);
    failures++;
}

/* The stats line "verified N collections, M objects traced"; -1 if none. */
static long verified(const char *err, long *objects)
{
    const char *l = strstr(err, "hgc: stats: verified ");
    long n = -1;
    *objects = -1;
    if (l && sscanf(l, "hgc: stats: verified %ld collections, %ld objects", &n, objects) != 2)
        n = -1;
    return n;
}

static void check_clean(void)
{
    static const char *const env[] = {"HGC_VERIFY=1", "HGC_STATS=1", NULL};
    test_child c;
    long n, objects;
    test_run_case("clean", env, &c);
    n = verified(c.err, &objects);
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0)
        fail("clean", "verification failed or the child crashed", &c);
    else if (n < 6 || objects < 20000)
        fail("clean", "expected at least 6 verified collections and 20000 objects", &c);
    else
        printf("ok   clean: %ld collections verified, %ld objects traced\n", n, objects);
    test_child_free(&c);
}

static void check_explicit(void)
{
    static const char *const env[] = {"HGC_STATS=1", NULL};
    test_child c;
    long n, objects;
    test_run_case("explicit", env, &c);
    n = verified(c.err, &objects);
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 || n != 3 || objects < 3000)
        fail("explicit", "expected exit 0 and exactly 3 verified collections", &c);
    else
        printf("ok   explicit: 3 collections verified, %ld objects traced\n", objects);
    test_child_free(&c);
}

static void check_miss(const char *name, int deep)
{
    static const char *const env[] = {"HGC_VERIFY=2", NULL};
    test_child c;
    char victim[64], where[64], holder[64], expect[512];
    const char *l;
    test_run_case(name, env, &c);
    l = strstr(c.err, "TEST-ADDR ");
    if (!l || sscanf(l, "TEST-ADDR %63s %63s %63s", victim, where, holder) < 2) {
        fail(name, "no TEST-ADDR line", &c);
        test_child_free(&c);
        return;
    }
    if (deep)
        snprintf(expect, sizeof expect,
                 "hgc: verify: object %s (48 bytes) is reachable but not marked: "
                 "referenced from %s inside object %s, on a path from root data segment",
                 victim, where, holder);
    else
        snprintf(expect, sizeof expect,
                 "hgc: verify: object %s (48 bytes) is reachable but not marked: "
                 "referenced from %s in root data segment",
                 victim, where);
    if (!WIFSIGNALED(c.status) || WTERMSIG(c.status) != SIGABRT ||
        !test_has_line_prefix(c.err, expect) || strstr(c.err, "TEST-REACHED"))
        fail(name, "expected an abort with a line starting with the expected report", &c);
    else
        printf("ok   %s\n", name);
    test_child_free(&c);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return run_child(argv[1]);
    check_clean();
    check_explicit();
    check_miss("miss_root", 0);
    check_miss("miss_deep", 1);
    if (failures) {
        fprintf(stderr, "test_verify: %d case(s) failed\n", failures);
        return 1;
    }
    printf("test_verify: ok\n");
    return 0;
}
