/*
 * test_errors: fatal errors, environment parsing and out-of-memory.
 *
 * Death cases (each runs this binary as a child; it must die of SIGABRT
 * after printing exactly the documented line with the addresses passed):
 *   free_stack, free_malloc      "hgc: hgc_free(P): not a pointer allocated by hgc"
 *   free_interior_small/_large   "hgc: hgc_free(P): interior pointer, object starts at B"
 *   double_free_small/_mid/_large  "hgc: hgc_free(P): double free"
 *   free_interior_remote, double_free_remote: the same two lines, for an
 *                                 object of a span no cache of this thread
 *                                 holds (allocated by a thread now gone)
 *   free_unallocated             "hgc: hgc_free(P): not a pointer allocated by hgc
 *                                 (never handed out)"
 *   add_roots_lo_hi              "hgc: hgc_add_roots(LO, HI): lo > hi"
 *   remove_roots_lo_hi           "hgc: hgc_remove_roots(LO, HI): lo > hi"
 *   realloc_stack                "hgc: hgc_realloc(P): not a pointer allocated by hgc"
 *   realloc_interior             "hgc: hgc_realloc(P): interior pointer, object starts at B"
 *   realloc_freed                "hgc: hgc_realloc(P): object already freed"
 *   unregister_in_block          "hgc: hgc_thread_unregister() inside a blocking region"
 *   finalizer_mode, weak_unaligned: a bad mode, a misaligned weak link
 *   weak_null                    "hgc: hgc_weak_register(NULL): the link is NULL"
 *                                 (after hgc_weak_unregister(NULL) returned
 *                                 HGC_NOT_FOUND)
 * Harmless misuse (child "noops", exit 0, nothing on stderr): unregistering
 * a thread that never registered, leaving a blocking region never entered,
 * removing roots never added, hgc_free(NULL).
 * The child prints the addresses it uses on a "TEST-ADDR" line first.
 *
 * Environment (children with the variable set; bad values warn with a line
 * starting "hgc: warning: NAME" and the default is used):
 *   HGC_GOGC=abc      warning; automatic collections still happen
 *   HGC_GOGC=off      no automatic collection during 200 MB of allocation;
 *                     hgc_collect() still collects
 *   HGC_GOGC=50       accepted silently
 *   HGC_SIG_SUSPEND=abc / =9   warning; threads are still stopped correctly
 *   HGC_MIN_HEAP=xyz  warning
 *   HGC_MIN_HEAP=64M  no automatic collection while the heap stays under it
 *                     (control: the default does collect in the same run)
 *   HGC_STATS=1       "hgc: stats:" lines at exit, mentioning collections;
 *                     none without it
 * Out of memory (child "oom"): hgc_malloc / hgc_malloc_atomic of 2^50 bytes
 * return NULL; with a handler set, the handler gets the size and its value
 * is returned; hgc_set_oom_handler returns the previous handler.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

/* ------------------------------------------------------------------ */
/* child side                                                           */

static int case_free_stack(void)
{
    volatile long x = 0;
    hgc_init();
    fprintf(stderr, "TEST-ADDR %p\n", (void *)&x);
    hgc_free((void *)&x);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_free_malloc(void)
{
    void *m = malloc(64);
    hgc_init();
    fprintf(stderr, "TEST-ADDR %p\n", m);
    hgc_free(m);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_free_interior(size_t n, size_t off)
{
    char *p = (char *)hgc_malloc(n);
    CHECK(p != NULL);
    fprintf(stderr, "TEST-ADDR %p %p\n", (void *)(p + off), (void *)p);
    hgc_free(p + off);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_double_free(size_t n)
{
    void *p = hgc_malloc(n);
    CHECK(p != NULL);
    hgc_free(p);
    fprintf(stderr, "TEST-ADDR %p\n", p);
    hgc_free(p);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

/* An object of n bytes allocated by a thread that has exited since: its
 * span is in no thread's cache, so a free takes the path of a thread that
 * does not own the span (a lock-free push), not the owner's. */
static void *remote_alloc(void *arg)
{
    return hgc_malloc((size_t)(uintptr_t)arg);
}

static char *remote_object(size_t n)
{
    pthread_t t;
    void *p = NULL;
    CHECK(pthread_create(&t, NULL, remote_alloc, (void *)(uintptr_t)n) == 0);
    CHECK(pthread_join(t, &p) == 0);
    CHECK(p != NULL);
    return p;
}

static int case_free_interior_remote(void)
{
    char *p = remote_object(48);
    fprintf(stderr, "TEST-ADDR %p %p\n", (void *)(p + 16), (void *)p);
    hgc_free(p + 16);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_double_free_remote(void)
{
    char *p = remote_object(48);
    hgc_free(p);
    fprintf(stderr, "TEST-ADDR %p\n", (void *)p);
    hgc_free(p);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

/* The next slot after a fresh 32-byte object lies in this thread's bump
 * region: never handed out.  (Cases run without the parent's HGC_*
 * variables, so never in stress mode, which has no bump regions; debug
 * builds have none either.) */
static int case_free_unallocated(void)
{
    char *p = (char *)hgc_malloc(32);
    CHECK(p != NULL);
    fprintf(stderr, "TEST-ADDR %p\n", (void *)(p + 32));
    hgc_free(p + 32);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static char roots_buf[256];

static int case_add_roots(void)
{
    void *lo = roots_buf + 128, *hi = roots_buf;
    hgc_init();
    fprintf(stderr, "TEST-ADDR %p %p\n", lo, hi);
    hgc_add_roots(lo, hi);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_remove_roots(void)
{
    void *lo = roots_buf + 128, *hi = roots_buf;
    hgc_init();
    fprintf(stderr, "TEST-ADDR %p %p\n", lo, hi);
    hgc_remove_roots(lo, hi);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_realloc_stack(void)
{
    volatile long x = 0;
    hgc_init();
    fprintf(stderr, "TEST-ADDR %p\n", (void *)&x);
    (void)hgc_realloc((void *)&x, 100);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_realloc_interior(void)
{
    char *p = (char *)hgc_malloc(256);
    CHECK(p != NULL);
    fprintf(stderr, "TEST-ADDR %p %p\n", (void *)(p + 32), (void *)p);
    (void)hgc_realloc(p + 32, 1000);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_realloc_freed(void)
{
    void *p = hgc_malloc(256);
    CHECK(p != NULL);
    hgc_free(p);
    fprintf(stderr, "TEST-ADDR %p\n", p);
    (void)hgc_realloc(p, 1000);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_unregister_in_block(void)
{
    hgc_init();
    hgc_blocking_enter();
    fprintf(stderr, "TEST-ADDR 0\n");
    hgc_thread_unregister();
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static void *never_registered(void *arg)
{
    (void)arg;
    hgc_thread_unregister(); /* never registered: nothing to do */
    hgc_blocking_leave();    /* never entered */
    hgc_free(NULL);
    return NULL;
}

static int case_noops(void)
{
    pthread_t t;
    hgc_init();
    CHECK(pthread_create(&t, NULL, never_registered, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    hgc_blocking_leave();
    hgc_remove_roots(roots_buf, roots_buf + 64); /* never added */
    hgc_thread_unregister();
    hgc_thread_unregister(); /* twice */
    hgc_collect();            /* from a thread that unregistered: registers again */
    CHECK(test_stats().collections >= 1);
    return 0;
}

/* allocate `bytes` of garbage; return the number of automatic collections */
static uint64_t garbage_collections(size_t bytes)
{
    hgc_stats s0 = test_stats(), s1;
    test_churn_sizes(bytes, 1000, 8000, 5);
    s1 = test_stats();
    return s1.collections - s0.collections;
}

static int case_gogc_auto(void)
{
    hgc_init();
    CHECKF(garbage_collections(test_scale(200 * MiB, 2, 4)) > 0,
           "no automatic collection in 200 MB of garbage");
    return 0;
}

static int case_gogc_off(void)
{
    hgc_stats s0, s1;
    size_t n = test_scale(200 * MiB, 2, 4);
    hgc_init();
    s0 = test_stats();
    CHECK(garbage_collections(n) == 0);
    s1 = test_stats();
    CHECKF(s1.heap_bytes >= s0.heap_bytes + n / 2,
           "heap %zu -> %zu: garbage was reclaimed without a collection",
           s0.heap_bytes, s1.heap_bytes);
    hgc_collect();
    s1 = test_stats();
    CHECK(s1.collections == s0.collections + 1);
    return 0;
}

static int case_min_heap_big(void)
{
    hgc_init();
    CHECKF(garbage_collections(30 * MiB) == 0,
           "automatic collection below HGC_MIN_HEAP=64M");
    return 0;
}

static int case_min_heap_default(void)
{
    hgc_init();
    CHECKF(garbage_collections(30 * MiB) > 0,
           "no automatic collection in 30 MB of garbage with defaults");
    return 0;
}

static atomic_int th_ready, th_go;

static void *holder(void *arg)
{
    void *volatile p = hgc_malloc(MiB);
    (void)arg;
    CHECK(p != NULL);
    test_fill(p, MiB, (uintptr_t)p);
    test_clear_stack();
    atomic_store(&th_ready, 1);
    while (!atomic_load(&th_go)) {
    }
    CHECK_PATTERN(p, MiB, (uintptr_t)p);
    return NULL;
}

/* threads are stopped and scanned correctly */
static int case_threads_work(void)
{
    pthread_t t;
    int i;
    hgc_init();
    CHECK(pthread_create(&t, NULL, holder, NULL) == 0);
    while (!atomic_load(&th_ready))
        test_sleep_ms(1);
    for (i = 0; i < 4; i++) {
        hgc_collect();
        CHECK(test_stats().live_bytes >= MiB);
        test_churn_sizes(8 * MiB, MiB, MiB, (uint64_t)i);
    }
    atomic_store(&th_go, 1);
    CHECK(pthread_join(t, NULL) == 0);
    return 0;
}

static int case_work(void)
{
    void *volatile p;
    hgc_init();
    p = hgc_malloc(1000);
    CHECK(p != NULL);
    test_fill(p, 1000, 3);
    test_churn(8 * MiB);
    hgc_collect();
    CHECK_PATTERN(p, 1000, 3);
    return 0;
}

static size_t oom_seen;
static int oom_calls;
static char oom_fallback[64];

static void *oom_handler(size_t n)
{
    oom_seen = n;
    oom_calls++;
    return oom_fallback;
}

static int case_oom(void)
{
    size_t huge = (size_t)1 << 50;
    void *p;
    hgc_init();
    CHECK(hgc_malloc(huge) == NULL);
    CHECK(hgc_malloc_atomic(huge) == NULL);
    CHECK(hgc_malloc(SIZE_MAX) == NULL);
    CHECK(hgc_malloc_atomic(SIZE_MAX - 100) == NULL);

    CHECK(hgc_set_oom_handler(oom_handler) == NULL);
    p = hgc_malloc(huge);
    CHECK(p == oom_fallback);
    CHECK(oom_seen == huge && oom_calls == 1);
    p = hgc_malloc_atomic(huge + 8);
    CHECK(p == oom_fallback);
    CHECK(oom_seen == huge + 8 && oom_calls == 2);
    /* A typed allocation hands the handler's memory back untouched (its
     * layout word goes nowhere). */
    memset(oom_fallback, 0x5a, sizeof oom_fallback);
    p = hgc_malloc_typed(huge, 0);
    CHECK(p == oom_fallback && oom_calls == 3);
    for (size_t k = 0; k < sizeof oom_fallback; k++)
        CHECK((unsigned char)oom_fallback[k] == 0x5a);
    oom_calls = 2;
    CHECK(hgc_set_oom_handler(NULL) == oom_handler);
    CHECK(hgc_malloc(huge) == NULL);
    CHECK(oom_calls == 2);

    /* the heap still works */
    p = hgc_malloc(100);
    CHECK(p != NULL && hgc_size(p) >= 100);
    hgc_collect();
    return 0;
}

static void never_called(void *obj, void *data)
{
    (void)obj;
    (void)data;
}

static int case_finalizer_mode(void)
{
    void *p = hgc_malloc(32);
    fprintf(stderr, "TEST-ADDR %p\n", p);
    hgc_register_finalizer(p, never_called, NULL, 7, NULL, NULL);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_weak_unaligned(void)
{
    static char buf[32];
    void **link = (void **)(buf + 1);
    void *p = hgc_malloc(32);
    fprintf(stderr, "TEST-ADDR %p\n", (void *)link);
    hgc_weak_register(link, p);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int case_weak_null(void)
{
    void *p = hgc_malloc(32);
    fprintf(stderr, "TEST-ADDR %p\n", p);
    CHECK(hgc_weak_unregister(NULL) == HGC_NOT_FOUND);
    hgc_weak_register(NULL, p);
    fprintf(stderr, "TEST-REACHED\n");
    return 0;
}

static int run_child(const char *name)
{
    if (!strcmp(name, "free_stack")) return case_free_stack();
    if (!strcmp(name, "free_malloc")) return case_free_malloc();
    if (!strcmp(name, "free_interior_small")) return case_free_interior(64, 16);
    if (!strcmp(name, "free_interior_large"))
        return case_free_interior(MiB, 3 * 4096 + 8);
    if (!strcmp(name, "double_free_small")) return case_double_free(64);
    if (!strcmp(name, "double_free_mid")) return case_double_free(160); /* memset when freed */
    if (!strcmp(name, "double_free_large")) return case_double_free(MiB);
    if (!strcmp(name, "free_interior_remote")) return case_free_interior_remote();
    if (!strcmp(name, "double_free_remote")) return case_double_free_remote();
    if (!strcmp(name, "free_unallocated")) return case_free_unallocated();
    if (!strcmp(name, "add_roots_lo_hi")) return case_add_roots();
    if (!strcmp(name, "remove_roots_lo_hi")) return case_remove_roots();
    if (!strcmp(name, "realloc_stack")) return case_realloc_stack();
    if (!strcmp(name, "realloc_interior")) return case_realloc_interior();
    if (!strcmp(name, "realloc_freed")) return case_realloc_freed();
    if (!strcmp(name, "unregister_in_block")) return case_unregister_in_block();
    if (!strcmp(name, "noops")) return case_noops();
    if (!strcmp(name, "gogc_auto")) return case_gogc_auto();
    if (!strcmp(name, "gogc_off")) return case_gogc_off();
    if (!strcmp(name, "min_heap_big")) return case_min_heap_big();
    if (!strcmp(name, "min_heap_default")) return case_min_heap_default();
    if (!strcmp(name, "threads_work")) return case_threads_work();
    if (!strcmp(name, "work")) return case_work();
    if (!strcmp(name, "oom")) return case_oom();
    if (!strcmp(name, "finalizer_mode")) return case_finalizer_mode();
    if (!strcmp(name, "weak_unaligned")) return case_weak_unaligned();
    if (!strcmp(name, "weak_null")) return case_weak_null();
    fprintf(stderr, "unknown case %s\n", name);
    return 2;
}

/* ------------------------------------------------------------------ */
/* parent side                                                          */

static int failures;

/* the "TEST-ADDR a [b]" line of a child */
static int child_addrs(const char *err, char *a, char *b)
{
    const char *l = strstr(err, "TEST-ADDR ");
    a[0] = b[0] = 0;
    if (!l)
        return 0;
    return sscanf(l, "TEST-ADDR %63s %63s", a, b);
}

static void death_case(const char *name, const char *kind)
{
    test_child c;
    char a[64], b[64], expect[256];
    int n;

    test_run_case(name, NULL, &c);
    n = child_addrs(c.err, a, b);
    if (!strcmp(kind, "not"))
        snprintf(expect, sizeof expect,
                 "hgc: hgc_free(%s): not a pointer allocated by hgc", a);
    else if (!strcmp(kind, "interior"))
        snprintf(expect, sizeof expect,
                 "hgc: hgc_free(%s): interior pointer, object starts at %s", a,
                 b);
    else if (!strcmp(kind, "double"))
        snprintf(expect, sizeof expect, "hgc: hgc_free(%s): double free", a);
    else if (!strcmp(kind, "unalloc") && HGC_TEST_DEBUG_BUILD)
        /* Debug builds keep free lists: the slot is a free one. */
        snprintf(expect, sizeof expect, "hgc: hgc_free(%s): double free", a);
    else if (!strcmp(kind, "unalloc"))
        snprintf(expect, sizeof expect,
                 "hgc: hgc_free(%s): not a pointer allocated by hgc (never handed out)", a);
    else if (!strcmp(kind, "rnot"))
        snprintf(expect, sizeof expect,
                 "hgc: hgc_realloc(%s): not a pointer allocated by hgc", a);
    else if (!strcmp(kind, "rinterior"))
        snprintf(expect, sizeof expect,
                 "hgc: hgc_realloc(%s): interior pointer, object starts at %s", a, b);
    else if (!strcmp(kind, "rfreed"))
        snprintf(expect, sizeof expect, "hgc: hgc_realloc(%s): object already freed", a);
    else if (!strcmp(kind, "rroots"))
        snprintf(expect, sizeof expect, "hgc: hgc_remove_roots(%s, %s): lo > hi", a, b);
    else if (!strcmp(kind, "finmode"))
        snprintf(expect, sizeof expect, "hgc: hgc_register_finalizer(%s): unknown mode 7", a);
    else if (!strcmp(kind, "weakalign"))
        snprintf(expect, sizeof expect,
                 "hgc: hgc_weak_register(%s): the link is not aligned to a pointer", a);
    else if (!strcmp(kind, "weaknull"))
        snprintf(expect, sizeof expect, "hgc: hgc_weak_register(NULL): the link is NULL");
    else if (!strcmp(kind, "unreg"))
        snprintf(expect, sizeof expect,
                 "hgc: hgc_thread_unregister() inside a blocking region");
    else
        snprintf(expect, sizeof expect, "hgc: hgc_add_roots(%s, %s): lo > hi",
                 a, b);

    if (n < 1 || !WIFSIGNALED(c.status) || WTERMSIG(c.status) != SIGABRT ||
        !test_has_line(c.err, expect) || strstr(c.err, "TEST-REACHED")) {
        fprintf(stderr, "FAIL %s: expected death by SIGABRT with the line\n"
                        "  %s\n", name, expect);
        test_print_child(name, &c);
        failures++;
    } else {
        printf("ok   %s\n", name);
    }
    test_child_free(&c);
}

/* A child that must exit 0; warn_prefix: a line that must (or, when
 * must_warn is 0, must not) start stderr lines. */
static void env_case(const char *name, const char *const *env,
                     const char *prefix, int must_have)
{
    test_child c;
    int ok;
    test_run_case(name, env, &c);
    ok = WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0;
    if (prefix && test_has_line_prefix(c.err, prefix) != must_have)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "FAIL %s with %s: expected exit 0%s%s%s\n", name,
                env && env[0] ? env[0] : "(no env)",
                prefix ? (must_have ? " and a line starting \""
                                    : " and no line starting \"")
                       : "",
                prefix ? prefix : "", prefix ? "\"" : "");
        test_print_child(name, &c);
        failures++;
    } else {
        printf("ok   %s %s\n", name, env && env[0] ? env[0] : "");
    }
    test_child_free(&c);
}

static void stats_case(void)
{
    static const char *const env[] = {"HGC_STATS=1", NULL};
    test_child c;
    const char *l;
    int ok, coll = 0;
    test_run_case("work", env, &c);
    ok = WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0 &&
         test_has_line_prefix(c.err, "hgc: stats:");
    for (l = c.err; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char line[512];
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, l, len);
        line[len] = 0;
        if (!strncmp(line, "hgc: stats:", 11) && strstr(line, "collections"))
            coll = 1;
    }
    if (!ok || !coll) {
        fprintf(stderr, "FAIL HGC_STATS=1: expected \"hgc: stats:\" lines at "
                        "exit, one mentioning collections\n");
        test_print_child("work", &c);
        failures++;
    } else {
        printf("ok   HGC_STATS=1\n");
    }
    test_child_free(&c);
}

int main(int argc, char **argv)
{
    char sig9[32], usr2[32];

    if (argc > 1)
        return run_child(argv[1]);

    death_case("free_stack", "not");
    death_case("free_malloc", "not");
    death_case("free_interior_small", "interior");
    death_case("free_interior_large", "interior");
    death_case("double_free_small", "double");
    death_case("double_free_mid", "double");
    death_case("double_free_large", "double");
    death_case("free_interior_remote", "interior");
    death_case("double_free_remote", "double");
    death_case("free_unallocated", "unalloc");
    death_case("add_roots_lo_hi", "roots");
    death_case("remove_roots_lo_hi", "rroots");
    death_case("realloc_stack", "rnot");
    death_case("realloc_interior", "rinterior");
    death_case("realloc_freed", "rfreed");
    death_case("unregister_in_block", "unreg");
    death_case("finalizer_mode", "finmode");
    death_case("weak_unaligned", "weakalign");
    death_case("weak_null", "weaknull");
    env_case("noops", NULL, "hgc", 0); /* no line from hgc at all */

    {
        static const char *const e_abc[] = {"HGC_GOGC=abc", NULL};
        static const char *const e_off[] = {"HGC_GOGC=off", NULL};
        static const char *const e_50[] = {"HGC_GOGC=50", NULL};
        static const char *const e_sig[] = {"HGC_SIG_SUSPEND=abc", NULL};
        static const char *const e_mh[] = {"HGC_MIN_HEAP=xyz", NULL};
        static const char *const e_markers[] = {"HGC_MARKERS=lots", NULL};
        static const char *const e_verify[] = {"HGC_VERIFY=yes", NULL};
        static const char *const e_gen[] = {"HGC_GENERATIONAL=2", NULL};
        static const char *const e_delay[] = {"HGC_TEST_STOP_DELAY=-5", NULL};
        static const char *const e_mdelay[] = {"HGC_TEST_MARKER_DELAY=2000000", NULL};
        static const char *const e_nested[] = {"HGC_TEST_STOP_NESTED=yes", NULL};
        static const char *const e_lose[] = {"HGC_TEST_LOSE_SIGNAL=2", NULL};
        static const char *const e_mh64[] = {"HGC_MIN_HEAP=64M", NULL};
        const char *e_sig9[] = {sig9, NULL};
        const char *e_usr2[] = {usr2, NULL};
        snprintf(sig9, sizeof sig9, "HGC_SIG_SUSPEND=%d", SIGKILL);
        snprintf(usr2, sizeof usr2, "HGC_SIG_SUSPEND=%d", SIGUSR2);

        env_case("gogc_auto", NULL, "hgc: ", 0); /* defaults: silent */
        env_case("gogc_auto", e_abc, "hgc: warning: HGC_GOGC", 1);
        env_case("gogc_auto", e_50, "hgc: warning", 0);
        env_case("gogc_off", e_off, "hgc: warning", 0);
        env_case("threads_work", e_sig, "hgc: warning: HGC_SIG_SUSPEND", 1);
        env_case("threads_work", e_sig9, "hgc: warning: HGC_SIG_SUSPEND", 1);
        env_case("threads_work", e_usr2, "hgc: warning", 0);
        env_case("work", e_mh, "hgc: warning: HGC_MIN_HEAP", 1);
        env_case("work", e_markers, "hgc: warning: HGC_MARKERS", 1);
        env_case("work", e_verify, "hgc: warning: HGC_VERIFY", 1);
        env_case("work", e_gen, "hgc: warning: HGC_GENERATIONAL", 1);
        env_case("threads_work", e_delay, "hgc: warning: HGC_TEST_STOP_DELAY", 1);
        env_case("work", e_mdelay, "hgc: warning: HGC_TEST_MARKER_DELAY", 1);
        env_case("threads_work", e_nested, "hgc: warning: HGC_TEST_STOP_NESTED", 1);
        env_case("threads_work", e_lose, "hgc: warning: HGC_TEST_LOSE_SIGNAL", 1);
        env_case("min_heap_default", NULL, NULL, 0);
        env_case("min_heap_big", e_mh64, "hgc: warning", 0);
    }
    stats_case();
    /* Out of memory warns (once per failed request), then NULL or the
     * handler's result. */
    env_case("oom", NULL, "hgc: warning: out of memory: an allocation of", 1);

    if (failures) {
        fprintf(stderr, "%d case(s) failed\n", failures);
        return 1;
    }
    printf("test_errors: ok\n");
    return 0;
}
