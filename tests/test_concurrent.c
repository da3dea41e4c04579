/*
 * test_concurrent: a mostly-concurrent mark (HGC_CONCURRENT=1) loses no
 * object that the program hides from the marker while it runs.
 *
 * Run by ctest with HGC_CONCURRENT=1, HGC_GENERATIONAL=0 (every collection
 * major, so every automatic one is concurrent) and
 * HGC_TEST_CONCURRENT_HOLD=H: the collector thread puts the work on the
 * pool for assists and waits H ms after the first stop before it drains,
 * and H ms after the drain before the final stop.  Each case starts a concurrent mark by allocating, acts in one of
 * the two windows, waits for the mark to end and checks that the hidden
 * object survived: its pattern stays intact after enough allocation of its
 * size class to reuse every slot the sweep freed (and, under HGC_VERIFY=1,
 * the final stop's verifier checks every reachable object is marked).
 *
 * The ways to hide an object from a marker (Go's hybrid-barrier proposal
 * lists them), each forced into its window:
 *   stack:    before the drain, moved from an unscanned heap object to a
 *             stack and deleted from the heap;
 *   register: the same, held in a register;
 *   black:    after the drain, an object allocated during the mark (and
 *             on the stack only) stored into a scanned object;
 *   threads:  after the drain, passed to another thread through a scanned
 *             object and deleted from it;
 *   large:    the stack case with a large object;
 *   fresh:    a chain of objects allocated during the mark, held by its
 *             head on the stack;
 *   kind:     an object reachable only through a mark function's table in
 *             malloc'd memory, the table changed after the drain: the
 *             function must run again at the final stop, world stopped;
 *   assist:   the collector thread leaves the work on the pool for the
 *             first window; a thread allocating fast meanwhile must take
 *             it (a mark assist), and a list it marks survives;
 *   fork:     fork() during the mark (waits for the mark's end), the child
 *             allocates and collects;
 *   exit:     a thread that allocates and exits during the mark.
 * Without write tracking (old kernel, no userfaultfd) the test is skipped.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define HIDDEN_SIZE 208   /* a size class the test uses for nothing else */
#define LARGE_SIZE (300 * KiB)

static unsigned hold_ms;
static const char *test_case; /* for failure messages */

typedef struct holder {
    void *f[4];
} holder;
static holder *g_holder; /* a root: .bss */

/* Allocate garbage until a concurrent mark is in flight.  It then sits in
 * its first window (before the drain) for hold_ms. */
static void start_mark(void)
{
    uint64_t t0 = test_now_ns();
    while (!hgc_marking()) {
        for (int i = 0; i < 64; i++) {
            void *volatile p = hgc_malloc(64);
            (void)p;
        }
        CHECKF(test_now_ns() - t0 < 10ull * 1000000000, "no concurrent mark started in 10 s");
    }
}

/* From the first window into the second (drained, before the final stop). */
static void to_second_window(void) { test_sleep_ms(hold_ms + hold_ms / 2); }

static void wait_mark_end(void)
{
    while (hgc_marking())
        test_sleep_ms(5);
}

static void *new_hidden(uint64_t key)
{
    void *p = hgc_malloc(HIDDEN_SIZE);
    CHECK(p != NULL);
    test_fill(p, HIDDEN_SIZE, key);
    /* Move this thread's cache of the class past p's span: a cached span
     * is not swept, and the check would not see p freed. */
    for (int i = 0; i < 400; i++) {
        void *volatile q = hgc_malloc(HIDDEN_SIZE);
        (void)q;
    }
    return p;
}

/* Reuse every slot of the hidden objects' class that the last sweep freed:
 * a hidden object the mark missed is overwritten. */
static void churn_hidden_class(void)
{
    for (int i = 0; i < 4000; i++) {
        void *p = hgc_malloc(HIDDEN_SIZE);
        CHECK(p != NULL);
        memset(p, 0xa5, HIDDEN_SIZE);
    }
}

static void check_hidden(void *p, size_t n, uint64_t key)
{
    churn_hidden_class();
    CHECKF(hgc_size(p) >= n, "%s: hidden object %p was freed", test_case, p);
    size_t bad = test_find_bad(p, n, key);
    CHECKF(bad == (size_t)-1, "%s: hidden object %p (%zu bytes) damaged at byte %zu", test_case,
           p, n, bad);
}

static TEST_NOINLINE void case_stack(void)
{
    test_case = "stack";
    g_holder->f[0] = new_hidden(1);
    start_mark();
    void *volatile x = g_holder->f[0]; /* g_holder is grey, not scanned yet */
    g_holder->f[0] = NULL;
    wait_mark_end();
    check_hidden(x, HIDDEN_SIZE, 1);
}

static TEST_NOINLINE void case_register(void)
{
    test_case = "register";
    g_holder->f[1] = new_hidden(2);
    start_mark();
    void *x = g_holder->f[1];
    g_holder->f[1] = NULL;
    while (hgc_marking()) {
        __asm__ volatile("" : "+r"(x)); /* kept in a register across the calls */
        test_sleep_ms(1);
    }
    __asm__ volatile("" : "+r"(x));
    check_hidden(x, HIDDEN_SIZE, 2);
}

static TEST_NOINLINE void case_black(void)
{
    test_case = "black";
    start_mark();
    void *volatile y = new_hidden(3); /* allocated during the mark: unmarked */
    to_second_window();                /* g_holder is black now */
    g_holder->f[2] = y;
    y = NULL;
    wait_mark_end();
    check_hidden(g_holder->f[2], HIDDEN_SIZE, 3);
    g_holder->f[2] = NULL;
}

/* threads: the other thread takes the object out of the mailbox (a scanned
 * heap object), clears it, and holds it on its stack until told. */
static holder *_Atomic mailbox;
static atomic_int phase;

static void *taker(void *arg)
{
    (void)arg;
    hgc_init(); /* registered: its stack is a root */
    while (atomic_load(&phase) != 1)
        test_sleep_ms(1);
    holder *m = atomic_load(&mailbox);
    void *volatile z = m->f[0];
    m->f[0] = NULL;
    atomic_store(&phase, 2);
    while (atomic_load(&phase) != 3)
        test_sleep_ms(1);
    check_hidden(z, HIDDEN_SIZE, 4);
    return NULL;
}

static TEST_NOINLINE void case_threads(void)
{
    test_case = "threads";
    holder *m = hgc_malloc(sizeof *m);
    atomic_store(&mailbox, m);
    g_holder->f[3] = m; /* reachable through g_holder, so black after the drain */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, taker, NULL) == 0);
    start_mark();
    void *volatile z = new_hidden(4);
    to_second_window();
    m->f[0] = z;
    z = NULL;
    atomic_store(&phase, 1);
    while (atomic_load(&phase) != 2)
        test_sleep_ms(1);
    wait_mark_end();
    atomic_store(&phase, 3);
    pthread_join(t, NULL);
    g_holder->f[3] = NULL;
}

static TEST_NOINLINE void case_large(void)
{
    test_case = "large";
    void *big = hgc_malloc(LARGE_SIZE);
    test_fill(big, LARGE_SIZE, 5);
    g_holder->f[0] = big;
    start_mark();
    void *volatile x = g_holder->f[0];
    g_holder->f[0] = NULL;
    wait_mark_end();
    /* A large object freed by the sweep goes back to the page heap at
     * once: allocate large objects over it. */
    for (int i = 0; i < 40; i++) {
        void *p = hgc_malloc(LARGE_SIZE);
        memset(p, 0x5a, LARGE_SIZE);
    }
    CHECKF(hgc_size(x) >= LARGE_SIZE, "hidden large object %p was freed", (void *)x);
    CHECK_PATTERN(x, LARGE_SIZE, 5);
}

static TEST_NOINLINE void case_fresh(void)
{
    test_case = "fresh";
    start_mark();
    void **volatile head = NULL;
    for (int i = 0; i < 1000; i++) {
        void **n = hgc_malloc(HIDDEN_SIZE);
        test_fill(n + 1, HIDDEN_SIZE - 8, 100 + (uint64_t)i);
        n[0] = head;
        head = n;
        if (i == 500)
            to_second_window();
    }
    wait_mark_end();
    churn_hidden_class();
    int i = 999;
    for (void **n = head; n; n = n[0], i--)
        CHECK_PATTERN(n + 1, HIDDEN_SIZE - 8, 100 + (uint64_t)i);
    CHECK(i == -1);
}

/* kind: objects of the kind refer to what table[] (malloc'd, never
 * scanned) holds. */
static void *_Atomic table[1];
static atomic_int fn_calls;
static void table_mark(void *obj, size_t size, hgc_mark_state *st, void *env)
{
    (void)obj, (void)size, (void)env;
    atomic_fetch_add(&fn_calls, 1);
    hgc_mark_word(st, atomic_load(&table[0]));
}

static TEST_NOINLINE void case_kind(void)
{
    test_case = "kind";
    int kind = hgc_kind_create(table_mark, NULL);
    CHECK(kind >= 0);
    void *k = hgc_malloc_kind(32, kind);
    g_holder->f[1] = k;
    start_mark();
    void *volatile w = new_hidden(6);
    to_second_window(); /* k was reached during the drain */
    atomic_store(&table[0], w);
    w = NULL;
    int calls = atomic_load(&fn_calls);
    wait_mark_end();
    CHECKF(atomic_load(&fn_calls) > calls, "the mark function did not run at the final stop");
    check_hidden(atomic_load(&table[0]), HIDDEN_SIZE, 6);
    g_holder->f[1] = NULL;
}

/* assist: the collector thread leaves the mark's work on the pool for
 * HGC_TEST_CONCURRENT_HOLD ms; this thread allocates past the assist
 * point meanwhile, so it must mark -- and everything still survives. */
static TEST_NOINLINE void case_assist(void)
{
    test_case = "assist";
    void **list = NULL;
    for (int i = 0; i < 20000; i++) {
        void **n = hgc_malloc(48);
        n[0] = list;
        n[1] = (void *)(uintptr_t)i;
        list = n;
    }
    g_holder->f[0] = list;
    list = NULL;
    hgc_concurrent_stats before, after;
    hgc_get_concurrent_stats(&before);
    start_mark();
    /* Allocate until this thread assists or the mark ends. */
    do {
        for (int i = 0; i < 1024; i++) {
            void *volatile p = hgc_malloc(64);
            (void)p;
        }
        hgc_get_concurrent_stats(&after);
    } while (hgc_marking() && after.assists == before.assists);
    wait_mark_end();
    hgc_get_concurrent_stats(&after);
    CHECKF(after.assists > before.assists, "no assist while the collector thread held off");
    churn_hidden_class();
    int i = 19999;
    for (void **n = g_holder->f[0]; n; n = n[0], i--)
        CHECKF(n[1] == (void *)(uintptr_t)i, "node %d of the list is damaged", i);
    CHECK(i == -1);
    g_holder->f[0] = NULL;
}

static TEST_NOINLINE void case_fork(void)
{
    test_case = "fork";
    start_mark();
    pid_t pid = fork(); /* waits for the mark's end */
    CHECK(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < 100000; i++) {
            void *volatile p = hgc_malloc(48);
            (void)p;
        }
        hgc_collect();
        _exit(hgc_marking() ? 3 : 0);
    }
    CHECK(!hgc_marking());
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
}

static void *short_lived(void *arg)
{
    (void)arg;
    void **volatile keep = NULL;
    for (int i = 0; i < 20000; i++) {
        void **p = hgc_malloc(64);
        p[0] = keep;
        keep = p;
    }
    return (void *)keep;
}

static TEST_NOINLINE void case_exit(void)
{
    test_case = "exit";
    start_mark();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, short_lived, NULL) == 0);
    void *chain;
    pthread_join(t, &chain);
    void *volatile keep = chain; /* the exited thread's chain, now ours */
    wait_mark_end();
    size_t n = 0;
    for (void **p = keep; p; p = p[0])
        n++;
    CHECK(n == 20000);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "probe") == 0)
        return hgc_collect_minor() == 1 ? 0 : 1;
    const char *h = getenv("HGC_TEST_CONCURRENT_HOLD");
    hold_ms = h ? (unsigned)atoi(h) : 0;
    CHECKF(hold_ms >= 50 && getenv("HGC_CONCURRENT"),
           "run with HGC_CONCURRENT=1 and HGC_TEST_CONCURRENT_HOLD=50 or more (ctest does)");
    /* Write tracking: a minor collection is possible with generations. */
    pid_t pid = fork();
    if (pid == 0) {
        setenv("HGC_GENERATIONAL", "1", 1);
        execl("/proc/self/exe", argv[0], "probe", (char *)NULL);
        _exit(2);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("test_concurrent: skipped (the kernel does not report written pages)\n");
        return 77;
    }

    g_holder = hgc_malloc(sizeof *g_holder);
    case_stack();
    case_register();
    case_black();
    case_threads();
    case_large();
    case_fresh();
    case_kind();
    case_assist();
    case_fork();
    case_exit();
    hgc_stats s;
    hgc_get_stats(&s);
    printf("test_concurrent: ok, %llu collections\n", (unsigned long long)s.collections);
    return 0;
}
