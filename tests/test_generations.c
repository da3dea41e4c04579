/*
 * test_generations: minor collections (sticky marks, src/mark/gen.h).
 *
 * A minor collection traces only from the roots and from the old objects on
 * pages written since the last collection.  Each case makes young objects
 * reachable only through an old object, written in a different way, runs
 * minor collections and then allocates enough of the same size to reuse
 * every freed slot: a young object the minor collection missed is
 * overwritten, and its check word says so.
 *
 *   stores      plain stores into many old objects, into all of them or
 *               into every 7th (pages partly written), over several rounds
 *   syscall     the kernel writes the pointer: read() from a pipe into an
 *               old object
 *   large       a store into the middle of an old 1 MiB object
 *   typed       a store into the pointer word of an old typed object
 *   threads     4 threads store into their own old arrays and collect
 *   ages        stores into a survivor of one minor collection (its page
 *               is not protected), then into it once old
 *   stale_survivor  a free slot in a cached span that a stale word marked
 *               a survivor, reused two minor collections later
 *   reclaim     (child, HGC_GOGC=off) a survivor of one minor collection
 *               that dies is freed by the next; one that survives two is
 *               old: 200 minor collections with 1 MiB of garbage each keep
 *               the heap small, and old garbage waits for a major
 *               collection (a weak link to it stays set)
 *   backoff     (child) when each minor collection would promote about the
 *               whole live set, pacing backs off to major collections
 *   written     (child) ... and when the old objects on written pages
 *               weigh a third of the live set: scanning them in a minor
 *               collection costs about what a major collection costs
 *   building    (child, HGC_GOGC=25) ... but when a major collection finds
 *               what was promoted still live, the backoff ends
 *   reuse       (child) memory freed by a collection after it was protected
 *               is reused without a write fault per page
 *   cached      (child) the span a thread allocates into is not protected
 *               when a collection makes its objects old: allocating on
 *               after each collection costs no write fault
 *   partial     (child) nor is a span where the collection left dead
 *               objects beside the old ones: sweeping it, then allocating
 *               into its free slots, costs no write fault
 *   closed      (child) the program closes hgc's descriptors and reuses the
 *               numbers: collections turn major and stay correct
 *   stack       (child, HGC_TRACE) a minor collection of old data written
 *               all over keeps the mark stacks short (the trace says how
 *               long they got)
 *   off         (child, HGC_GENERATIONAL=0) no collection is minor
 *   fork        a forked child collects with majors only, correctly
 *
 * Where the kernel cannot report written pages, hgc_collect_minor() runs
 * major collections: the test then checks only that and exits 77
 * (skipped).
 */
#include "test.h"

#include <pthread.h>
#include <sys/resource.h>

#define MAGIC 0x9e3779b97f4a7c15ull

typedef struct node {
    struct node *kid;
    uint64_t check;
    uint64_t pad[2];
} node;

static uint64_t key(const void *p) { return (uintptr_t)p ^ MAGIC; }

static TEST_NOINLINE node *young(void)
{
    node *y = (node *)hgc_malloc(sizeof *y);
    CHECK(y != NULL);
    y->check = key(y);
    return y;
}

static void check_young(const node *y)
{
    CHECK(y != NULL);
    CHECKF(y->check == key(y) && hgc_base(y) == y,
           "young object %p lost by a minor collection (check %#" PRIx64 ")", (const void *)y,
           y->check);
}

/* Allocate n nodes of garbage: enough to reuse every freed slot. */
static TEST_NOINLINE void overwrite_free_slots(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t *g = (uint64_t *)hgc_malloc(sizeof(node));
        CHECK(g != NULL);
        g[0] = g[1] = g[2] = g[3] = 0x5a5a5a5a5a5a5a5aull;
    }
}

static int minor(void)
{
    test_clear_stack();
    return hgc_collect_minor();
}

/* ------------------------------------------------------------------ */

#define NOLD 20000
static node **olds; /* a root: the array object itself lives in the heap */

static TEST_NOINLINE void attach(size_t step)
{
    for (size_t i = 0; i < NOLD; i += step)
        olds[i]->kid = young();
}

static void case_stores(void)
{
    olds = (node **)hgc_malloc(NOLD * sizeof *olds);
    CHECK(olds != NULL);
    for (size_t i = 0; i < NOLD; i++)
        olds[i] = young();
    hgc_collect(); /* every node is old now */
    for (int round = 0; round < 6; round++) {
        size_t step = round % 2 ? 7 : 1;
        attach(step);
        CHECK(minor() == 1);
        overwrite_free_slots(4 * NOLD);
        for (size_t i = 0; i < NOLD; i += step)
            check_young(olds[i]->kid);
        /* The kids are old now; one more minor must keep them without
         * any new write. */
        CHECK(minor() == 1);
        overwrite_free_slots(NOLD);
        for (size_t i = 0; i < NOLD; i += step)
            check_young(olds[i]->kid);
    }
    olds = NULL;
}

/* ------------------------------------------------------------------ */

static TEST_NOINLINE void send_young(int fd)
{
    node *y = young();
    CHECK(write(fd, &y, sizeof y) == (ssize_t)sizeof y);
}

static void case_syscall(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    node **old = (node **)hgc_malloc(64 * sizeof *old);
    CHECK(old != NULL);
    hgc_collect();
    for (int i = 0; i < 64; i++)
        send_young(fds[1]);
    test_clear_stack();
    /* The kernel stores each pointer: the only copy is in the old object. */
    for (int i = 0; i < 64; i++)
        CHECK(read(fds[0], &old[i], sizeof old[i]) == (ssize_t)sizeof old[i]);
    CHECK(minor() == 1);
    overwrite_free_slots(4096);
    for (int i = 0; i < 64; i++)
        check_young(old[i]);
    close(fds[0]);
    close(fds[1]);
}

/* ------------------------------------------------------------------ */

static void case_large(void)
{
    size_t n = MiB / sizeof(node *);
    node **big = (node **)hgc_malloc(n * sizeof *big);
    CHECK(big != NULL);
    hgc_collect();
    big[n / 2 + 3] = young();
    big[n - 1] = young();
    CHECK(minor() == 1);
    overwrite_free_slots(4096);
    check_young(big[n / 2 + 3]);
    check_young(big[n - 1]);
}

static void case_typed(void)
{
    /* Word 0 a counter, word 1 a pointer, word 2 a counter. */
    uint64_t bits = 2;
    hgc_layout l = hgc_make_layout(&bits, 3);
    CHECK(l != 0);
    uint64_t **objs = (uint64_t **)hgc_malloc(256 * sizeof *objs);
    CHECK(objs != NULL);
    for (int i = 0; i < 256; i++) {
        objs[i] = (uint64_t *)hgc_malloc_typed(3 * sizeof(uint64_t), l);
        CHECK(objs[i] != NULL);
    }
    hgc_collect();
    for (int i = 0; i < 256; i++)
        objs[i][1] = (uint64_t)(uintptr_t)young();
    CHECK(minor() == 1);
    overwrite_free_slots(4096);
    for (int i = 0; i < 256; i++)
        check_young((node *)(uintptr_t)objs[i][1]);
}

/* ------------------------------------------------------------------ */

#define NTHREADS 4
static size_t per_thread;

static void *thread_main(void *arg)
{
    uint64_t seed = (uintptr_t)arg * 2654435761u + 1;
    node **mine = (node **)hgc_malloc(per_thread * sizeof *mine);
    CHECK(mine != NULL);
    for (size_t i = 0; i < per_thread; i++)
        mine[i] = young();
    for (int round = 0; round < 40; round++) {
        for (size_t k = 0; k < per_thread / 4; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            mine[(seed >> 33) % per_thread]->kid = young();
        }
        if (round % 8 == (int)(uintptr_t)arg)
            minor();
        overwrite_free_slots(per_thread);
        for (size_t i = 0; i < per_thread; i++)
            if (mine[i]->kid)
                check_young(mine[i]->kid);
    }
    return NULL;
}

static void case_threads(void)
{
    pthread_t t[NTHREADS];
    per_thread = test_scale(4000, 2, 8);
    for (uintptr_t i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, thread_main, (void *)i) == 0);
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
}

/* ------------------------------------------------------------------ */

/* volatile: a static that is never read would lose its stores. */
static node *volatile strong;
/* The weak link lives in pointer-free memory: the collector must not see
 * it as a reference. */
static node **weak_link;

static TEST_NOINLINE void make_weak_target(void)
{
    weak_link = (node **)hgc_malloc_atomic(sizeof *weak_link);
    CHECK(weak_link != NULL);
    strong = young();
    *weak_link = strong;
    CHECK(hgc_weak_register((void **)weak_link, strong) == HGC_OK);
}

/* Store 16 young objects into the old array `old`, collect with
 * hgc_collect_minor() (which must return `want`: 1 minor, 0 major), reuse
 * every freed slot and check the 16 survived. */
static void young_through(node **old, int want)
{
    for (int i = 0; i < 16; i++)
        old[i] = young();
    CHECK(minor() == want);
    overwrite_free_slots(4096);
    for (int i = 0; i < 16; i++)
        check_young(old[i]);
}

static int fin_runs;
static void count_fin(void *obj, void *data)
{
    (void)obj;
    (void)data;
    fin_runs++;
}

/* Give `strong` a young kid with a finalizer and a weak link (returned),
 * leaving no copy of its address in this frame. */
static TEST_NOINLINE node **watched_kid(void)
{
    node *kid = young();
    strong->kid = kid;
    CHECK(hgc_register_finalizer(kid, count_fin, NULL, HGC_FINALIZE_ORDERED, NULL, NULL) ==
          HGC_OK);
    node **link = (node **)hgc_malloc_atomic(sizeof *link);
    CHECK(link != NULL);
    *link = kid;
    CHECK(hgc_weak_register((void **)link, kid) == HGC_OK);
    return link;
}

/* An array that survived one minor collection is young still: stores into
 * it are not tracked, it is traced from the roots.  The next minor
 * collection makes it old together with what it refers to; stores into it
 * after that are tracked. */
static void case_ages(void)
{
    olds = (node **)hgc_malloc(16 * sizeof *olds);
    CHECK(olds != NULL);
    CHECK(minor() == 1);        /* a survivor */
    young_through(olds, 1);     /* old now */
    young_through(olds, 1);
    olds = NULL;

    /* What a survivor refers to is marked only when the survivor is made
     * old, after the roots: no finalizer may run and no weak link be
     * cleared before that. */
    strong = young(); /* a survivor after this minor collection */
    CHECK(minor() == 1);
    fin_runs = 0;
    node **link = watched_kid();
    CHECK(minor() == 1); /* the survivor becomes old, with its kid */
    CHECK(*link == strong->kid);
    CHECK(hgc_run_finalizers() == 0 && fin_runs == 0);
    check_young(strong->kid);
    strong = NULL;
}

/* A stale word: a root that the collector scans conservatively. */
static volatile uintptr_t stale_word;

static TEST_NOINLINE node *freed_slot(void)
{
    node *a = young();
    hgc_free(a); /* onto this thread's cache list, first out */
    return a;
}

/* Give `strong` a young kid with a weak link (returned). */
static TEST_NOINLINE node **link_kid(void)
{
    strong->kid = young();
    node **link = (node **)hgc_malloc_atomic(sizeof *link);
    CHECK(link != NULL);
    *link = strong->kid;
    CHECK(hgc_weak_register((void **)link, strong->kid) == HGC_OK);
    return link;
}

/* A free slot in a thread's cached span, marked as a survivor through a
 * stale word, then no longer reached: the next minor collection must clear
 * that mark (no sweep visits a cached span).  Otherwise the object later
 * allocated there is born carrying the survivor value that the minor
 * collection after comes to use -- "marked already" -- and is never
 * scanned: its young kid is found dead (its weak link cleared). */
static void case_stale_survivor(void)
{
    /* Kept hidden (and volatile: no register copy of the address either):
     * a plain copy would keep the slot reached. */
    volatile uintptr_t hidden = (uintptr_t)freed_slot() ^ MAGIC;
    stale_word = hidden ^ MAGIC;
    CHECK(minor() == 1); /* marks the free slot a survivor */
    stale_word = 0;
    CHECK(minor() == 1); /* a dead survivor now */
    strong = young();
    if ((uintptr_t)strong != (hidden ^ MAGIC)) {
        printf("stale_survivor: the freed slot was not reused; case skipped\n");
        strong = NULL;
        return;
    }
    node **link = link_kid();
    CHECK(minor() == 1);
    CHECK(*link == strong->kid);
    overwrite_free_slots(4096);
    check_young(strong->kid);
    strong = NULL;
}

/* Child, HGC_GOGC=off: only the collections asked for run. */
static int child_reclaim(void)
{
    make_weak_target();
    CHECK(minor() == 1); /* the target survived once */
    strong = NULL;
    CHECK(minor() == 1); /* ... and died before the second: it was young */
    CHECK(*weak_link == NULL);

    make_weak_target();
    CHECK(minor() == 1);
    CHECK(minor() == 1); /* the target survived twice: old now */
    strong = NULL;       /* ... and garbage */
    for (int i = 0; i < 200; i++) {
        test_churn(MiB);
        CHECK(minor() == 1);
    }
    hgc_stats s = test_stats();
    CHECKF(s.heap_bytes < 48 * MiB, "heap %zu bytes after 200 MiB of young garbage",
           s.heap_bytes);
    CHECK(s.minor_collections == 204);
    /* Dead but old: only a major collection finds it. */
    CHECK(*weak_link != NULL);
    test_collect_n(1);
    CHECK(*weak_link == NULL);
    return 0;
}

/* Child, default pacing: every round replaces every object of an old table
 * by a young one, so each minor collection would promote about the whole
 * live set.  Pacing must notice that minors do not pay and back off to
 * majors; without the backoff every other collection is minor. */
static int child_backoff(void)
{
    size_t n = 200000;
    node **table = (node **)hgc_malloc(n * sizeof *table);
    CHECK(table != NULL);
    for (size_t i = 0; i < n; i++)
        table[i] = young();
    for (int round = 0; round < 60; round++) {
        for (size_t i = 0; i < n; i++) {
            check_young(table[i]);
            table[i] = young();
        }
    }
    for (size_t i = 0; i < n; i++)
        check_young(table[i]);
    hgc_stats s = test_stats();
    CHECKF(s.collections >= 20, "only %llu collections", (unsigned long long)s.collections);
    CHECKF(s.minor_collections * 3 < s.collections,
           "%llu of %llu collections minor: no backoff", (unsigned long long)s.minor_collections,
           (unsigned long long)s.collections);
    return 0;
}

/* Child: 96K nodes kept old, then rounds that write into the first 40% of
 * them (a word that holds no pointer) and allocate 4 MiB of garbage.  The
 * written pages hold a third of the live bytes: minor collections would
 * scan them at twice the cost per byte of a major one, so pacing's
 * collections turn major and back off. */
static int child_written(void)
{
    const size_t n = 96 * 1024, written = n * 2 / 5;
    node **table = (node **)hgc_malloc(n * sizeof *table);
    CHECK(table != NULL);
    for (size_t i = 0; i < n; i++)
        table[i] = young();
    test_collect_n(1);
    hgc_stats a = test_stats();
    for (int round = 0; round < 40; round++) {
        for (size_t i = 0; i < written; i++)
            table[i]->pad[0] = (uint64_t)round;
        overwrite_free_slots(4 * MiB / sizeof(node));
    }
    hgc_stats b = test_stats();
    unsigned long long collections = b.collections - a.collections;
    unsigned long long minors = b.minor_collections - a.minor_collections;
    CHECKF(collections >= 10, "only %llu collections", collections);
    CHECKF(minors * 4 < collections, "%llu of %llu collections minor: no backoff", minors,
           collections);
    for (size_t i = 0; i < n; i++)
        check_young(table[i]);
    return 0;
}

/* Child, HGC_GOGC=off: only the collections asked for run.  A major
 * collection finds 32 MiB of objects live and protects their pages (the
 * next collection is planned minor); they are dropped and found dead by a
 * second major one.  Allocating 32 MiB again reuses their spans, which must
 * not fault page by page: the sweeper lifts the protection of a span it
 * finds empty, in one call. */
static node *volatile chain;

static TEST_NOINLINE void build_chain(size_t n)
{
    node *head = NULL;
    for (size_t i = 0; i < n; i++) {
        node *y = young();
        y->kid = head;
        head = y;
    }
    chain = head;
}

/* Child, HGC_GOGC=25: a program builds long-lived data in steps and stores
 * each into an old object, so each step's minor collection promotes it --
 * more than pacing lets a minor promote.  Four failures in a row put the
 * next 16 collections into backoff (majors).  The first of those majors
 * finds everything promoted still live, so the backoff ends there and the
 * garbage made afterwards is collected by minors (without the early end,
 * every collection of that phase is major, each tracing all the steps). */
static int child_building(void)
{
    node **holder = (node **)hgc_malloc(4 * sizeof *holder);
    CHECK(holder != NULL);
    hgc_collect(); /* the holder is old */
    for (int i = 0; i < 4; i++) {
        hgc_disable(); /* only the collections asked for, for now */
        build_chain((size_t)16 * MiB / sizeof(node));
        hgc_enable();
        holder[i] = chain;
        chain = NULL;
        CHECK(minor() == 1); /* promotes the step */
    }
    hgc_stats a = test_stats();
    test_churn(128 * MiB);
    hgc_stats b = test_stats();
    unsigned long long collections = b.collections - a.collections;
    unsigned long long majors = collections - (b.minor_collections - a.minor_collections);
    CHECKF(collections >= 6, "only %llu collections", collections);
    CHECKF(majors <= 2, "%llu of %llu collections of the garbage phase major", majors,
           collections);
    for (int i = 0; i < 4; i++)
        CHECK(holder[i] != NULL);
    return 0;
}

static long minor_faults(void)
{
    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
    return ru.ru_minflt;
}

static int child_reuse(void)
{
    const size_t bytes = 32 * MiB, n = bytes / sizeof(node);
    build_chain(n);
    test_collect_n(1);
    chain = NULL;
    test_clear_stack();
    test_collect_n(1);
    long before = minor_faults();
    build_chain(n);
    long faults = minor_faults() - before;
    CHECKF(faults < (long)(bytes / 4096 / 8),
           "%ld page faults reusing %zu MiB of once-protected memory", faults, bytes / MiB);
    size_t count = 0;
    for (node *y = chain; y; y = y->kid, count++)
        check_young(y);
    CHECK(count == n);
    return 0;
}

/* Child, HGC_GOGC=off: 8 MiB of nodes, of which every fourth stays live
 * through a collection that makes it old.  Every page then holds old
 * objects and free slots; allocating 6 MiB more sweeps those spans and
 * fills the slots, writing every page. */
static node **partial_table;

static TEST_NOINLINE void partial_fill(size_t n)
{
    partial_table = (node **)hgc_malloc(n * sizeof(node *));
    CHECK(partial_table != NULL);
    for (size_t i = 0; i < n; i++)
        partial_table[i] = young();
    for (size_t i = 0; i < n; i++)
        if (i % 4)
            partial_table[i] = NULL;
}

static int child_partial(void)
{
    const size_t bytes = 8 * MiB, n = bytes / sizeof(node);
    partial_fill(n);
    test_collect_n(1);
    long before = minor_faults();
    overwrite_free_slots(n - n / 4);
    long faults = minor_faults() - before;
    CHECKF(faults < (long)(bytes / 4096 / 8),
           "%ld page faults filling the free slots of %zu MiB of spans with old objects", faults,
           bytes / MiB);
    for (size_t i = 0; i < n; i += 4)
        check_young(partial_table[i]);
    return 0;
}

/* Child, HGC_GOGC=off: each round allocates nodes into a ring whose last
 * 16 stay reachable, then collects; the collection makes those 16 old and
 * would protect their pages.  They sit in the span the thread is filling,
 * so the next round's allocation writes there at once: protecting that
 * span would cost a fault every round. */
#define CACHED_RING 16
static node *volatile cached_ring[CACHED_RING];

static TEST_NOINLINE void cached_round(void)
{
    for (size_t i = 0; i < 2000; i++)
        cached_ring[i % CACHED_RING] = young();
}

static int child_cached(void)
{
    const int rounds = 100;
    for (int i = 0; i < 5; i++) { /* warm up: the heap reaches its size */
        cached_round();
        test_collect_n(1);
    }
    long before = minor_faults();
    for (int i = 0; i < rounds; i++) {
        cached_round();
        test_collect_n(1);
    }
    long faults = minor_faults() - before;
    CHECKF(faults < rounds / 4, "%ld page faults in %d rounds of allocation after a collection",
           faults, rounds);
    for (size_t i = 0; i < CACHED_RING; i++)
        check_young(cached_ring[i]);
    return 0;
}

/* Child: the program closes hgc's descriptors (as a daemon's loop over
 * every descriptor would; only those two here, so that sanitizer runtimes
 * keep theirs) and opens files that get the numbers back.  The collector
 * must notice that its write tracking is gone and go on with majors,
 * correctly. */
static int child_closed(void)
{
    node **old = (node **)hgc_malloc(16 * sizeof *old);
    CHECK(old != NULL);
    CHECK(minor() == 1);
    int closed = 0;
    for (int fd = 3; fd < 1024; fd++) {
        char path[64], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (strstr(target, "userfaultfd") || strstr(target, "pagemap")) {
            close(fd);
            closed++;
        }
    }
    CHECK(closed == 2);
    for (int i = 0; i < 2; i++)
        CHECK(open("/dev/null", O_RDONLY) >= 0);
    young_through(old, 0);
    for (int round = 0; round < 4; round++) {
        test_churn(8 * MiB); /* automatic collections and new arenas */
        CHECK(minor() == 0);
    }
    return 0;
}

static int child_off(void)
{
    node *y = young();
    CHECK(hgc_collect_minor() == 0);
    check_young(y);
    CHECK(test_stats().minor_collections == 0);
    return 0;
}

static void case_fork(void)
{
    node **old = (node **)hgc_malloc(16 * sizeof *old);
    CHECK(old != NULL);
    hgc_collect();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The write tracking speaks of the parent: the child must not use
         * it, so every collection is major -- and still correct. */
        for (int i = 0; i < 16; i++)
            old[i] = young();
        if (hgc_collect_minor() != 0)
            _exit(2);
        overwrite_free_slots(4096);
        for (int i = 0; i < 16; i++)
            if (old[i]->check != key(old[i]))
                _exit(3);
        _exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child status %#x", status);
    /* The parent goes on with minors. */
    young_through(old, 1);
}

/* Child (HGC_TRACE set): a minor collection of old data written all over
 * -- every one of many old small objects, and every slot of an old table
 * -- marks without a deep mark stack: the old objects on written pages are
 * drained as they are pushed, and the table's written window is scanned in
 * pieces.  Pushed at once, each would take 4.8 MiB of stack. */
#define WRITTEN_ALL 300000

static size_t trace_mark_stack_bytes(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char line[1024];
    size_t last = SIZE_MAX;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "\"mark_stack_bytes\":");
        if (p)
            last = (size_t)strtoull(p + strlen("\"mark_stack_bytes\":"), NULL, 10);
    }
    fclose(f);
    CHECKF(last != SIZE_MAX, "no mark_stack_bytes in the trace %s", path);
    return last;
}

static int child_stack(void)
{
    node **objs = (node **)hgc_malloc(WRITTEN_ALL * sizeof *objs);
    node **table = (node **)hgc_malloc(WRITTEN_ALL * sizeof *table);
    CHECK(objs != NULL && table != NULL);
    for (size_t i = 0; i < WRITTEN_ALL; i++) {
        objs[i] = young();
        table[i] = young();
    }
    hgc_collect(); /* all old */
    for (size_t i = 0; i < WRITTEN_ALL; i++) {
        objs[i]->kid = young();
        table[i] = young();
    }
    CHECK(minor() == 1);
    size_t stack = trace_mark_stack_bytes(getenv("HGC_TRACE"));
    CHECKF(stack <= 2 * MiB, "the minor collection grew the mark stacks to %zu bytes", stack);
    overwrite_free_slots(2 * WRITTEN_ALL);
    for (size_t i = 0; i < WRITTEN_ALL; i++) {
        check_young(objs[i]->kid);
        check_young(table[i]);
    }
    return 0;
}

/* ------------------------------------------------------------------ */

static void run_child(const char *name, const char *const *env)
{
    test_child c;
    test_run_case(name, env, &c);
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
        fprintf(stderr, "%s", c.err);
        CHECKF(0, "case %s failed (status %#x)", name, c.status);
    }
    free(c.err);
}

/* The cases that run_child starts in a process of their own. */
static const struct {
    const char *name;
    int (*run)(void);
} children[] = {
    {"reclaim", child_reclaim}, {"off", child_off},     {"backoff", child_backoff},
    {"closed", child_closed},   {"reuse", child_reuse}, {"building", child_building},
    {"cached", child_cached},   {"stack", child_stack},   {"partial", child_partial},
    {"written", child_written},
};

int main(int argc, char **argv)
{
    for (size_t i = 0; argc > 1 && i < sizeof children / sizeof children[0]; i++)
        if (strcmp(argv[1], children[i].name) == 0)
            return children[i].run();

    static const char *const off_env[] = {"HGC_GENERATIONAL=0", NULL};
    run_child("off", off_env);

    if (hgc_collect_minor() == 0) {
        printf("write tracking unavailable: every collection is major; minor cases skipped\n");
        return 77;
    }
    case_stores();
    case_syscall();
    case_large();
    case_typed();
    case_threads();
    case_ages();
    case_stale_survivor();
    case_fork();
    static const char *const reclaim_env[] = {"HGC_GOGC=off", NULL};
    run_child("reclaim", reclaim_env);
    run_child("backoff", NULL);
    run_child("written", NULL);
    static const char *const building_env[] = {"HGC_GOGC=25", NULL};
    run_child("building", building_env);
    static const char *const reuse_env[] = {"HGC_GOGC=off", NULL};
    run_child("reuse", reuse_env);
    run_child("cached", reuse_env);
    run_child("partial", reuse_env);
    run_child("closed", NULL);
    char trace[64], trace_env[80];
    snprintf(trace, sizeof trace, "/tmp/hgc-test-gen-stack-%d.json", (int)getpid());
    snprintf(trace_env, sizeof trace_env, "HGC_TRACE=%s", trace);
    const char *const stack_env[] = {trace_env, NULL};
    run_child("stack", stack_env);
    unlink(trace);
    printf("test_generations: ok (%llu of %llu collections minor)\n",
           (unsigned long long)test_stats().minor_collections,
           (unsigned long long)test_stats().collections);
    return 0;
}
