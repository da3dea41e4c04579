/*
 * test_fork: fork() while other threads allocate.  The parent runs 4 threads
 * that churn allocations (each keeping a checked ring of live objects); the
 * main thread forks 3 times during the churn.  Each child (only its forking
 * thread exists there) allocates 100 MB in total keeping a live list of
 * every 10th object, calls hgc_collect(), verifies the list, allocates from
 * a new thread, and exits 0.  The parent checks every child's exit status,
 * keeps churning, and finishes its own checks.  A fifth thread calls
 * hgc_collect() back to back the whole time, so forks land in the middle
 * of collections (fork waits for the one in progress: the child never
 * inherits a stopped world or a half-marked heap).
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define NTHREADS 4
#define RING 128

static atomic_int stop;
static atomic_long rounds_done[NTHREADS];
/* sizes of the churners' ring objects: static, not malloc()ed, so that a
 * child's exit-time leak check (LeakSanitizer) sees no orphaned blocks of
 * the threads that fork() left behind */
static size_t ring_sizes[NTHREADS][RING];

struct cnode {
    struct cnode *next;
    uint64_t idx;
    uint64_t data[126]; /* 1 KiB node */
};

static uint64_t okey(const void *p, size_t n) { return (uintptr_t)p + n; }

static void *churner(void *arg)
{
    int id = (int)(intptr_t)arg;
    test_rng r = {(uint64_t)id + 1};
    void **volatile ring = (void **)hgc_malloc(RING * sizeof(void *));
    size_t *sizes = ring_sizes[id];
    long n = 0;
    size_t k;
    CHECK(ring != NULL);
    while (!atomic_load(&stop)) {
        k = (size_t)(test_rand(&r) % RING);
        if (ring[k])
            CHECK_PATTERN(ring[k], sizes[k], okey(ring[k], sizes[k]));
        sizes[k] = test_rand_range(&r, 16, 3000);
        ring[k] = hgc_malloc(sizes[k]);
        CHECK(ring[k] != NULL);
        test_fill(ring[k], sizes[k], okey(ring[k], sizes[k]));
        if (++n % 1024 == 0)
            atomic_store(&rounds_done[id], n);
    }
    for (k = 0; k < RING; k++)
        if (ring[k])
            CHECK_PATTERN(ring[k], sizes[k], okey(ring[k], sizes[k]));
    return NULL;
}

static void *child_thread(void *arg)
{
    void *p = hgc_malloc(100);
    (void)arg;
    CHECK(p != NULL);
    test_fill(p, 100, 1);
    hgc_collect();
    CHECK_PATTERN(p, 100, 1);
    return p;
}

static TEST_NOINLINE void child_main(int which)
{
    struct cnode *volatile head = NULL;
    size_t total = test_scale(100 * 1000 * 1000, 2, 4), done = 0;
    uint64_t i = 0, kept = 0;
    struct cnode *x;
    pthread_t t;
    void *ret;

    while (done < total) {
        struct cnode *c = (struct cnode *)hgc_malloc(sizeof *c);
        CHECK(c != NULL);
        CHECK(c->next == NULL && c->idx == 0);
        c->idx = i;
        test_fill(c->data, sizeof c->data, okey(c, i));
        if (i % 10 == 0) {
            c->next = head;
            head = c;
            kept++;
        }
        done += sizeof *c;
        i++;
    }
    test_clear_stack();
    hgc_collect();
    test_churn(test_scale(16 * MiB, 2, 4));
    for (x = head; x; x = x->next) {
        CHECK(kept > 0);
        kept--;
        CHECK(x->idx == kept * 10);
        CHECK_PATTERN(x->data, sizeof x->data, okey(x, x->idx));
    }
    CHECK(kept == 0);
    /* the child can start threads of its own (TSan forbids threads after a
     * multi-threaded fork, so not there) */
    if (test_slow_kind() != 2) {
        CHECK(pthread_create(&t, NULL, child_thread, NULL) == 0);
        CHECK(pthread_join(t, &ret) == 0);
        CHECK_PATTERN(ret, 100, 1);
    }
    (void)which;
    exit(0);
}

static atomic_long forced_collections;

static void *collector(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        hgc_collect();
        atomic_fetch_add(&forced_collections, 1);
    }
    return NULL;
}

int main(void)
{
    pthread_t th[NTHREADS], coll;
    void *volatile mine;
    int i, f;

    hgc_init();
    mine = hgc_malloc(4096);
    CHECK(mine != NULL);
    test_fill(mine, 4096, 77);
    for (i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&th[i], NULL, churner, (void *)(intptr_t)i) == 0);
    CHECK(pthread_create(&coll, NULL, collector, NULL) == 0);

    for (f = 0; f < 3; f++) {
        pid_t pid;
        int status;
        test_sleep_ms(100);
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(60); /* a deadlock in the child shows as SIGALRM */
            child_main(f);
        }
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "child %d: %s %d", f,
               WIFEXITED(status) ? "exit status" : "killed by signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        printf("child %d ok\n", f);
        fflush(stdout);
    }

    test_sleep_ms(100);
    atomic_store(&stop, 1);
    CHECK(pthread_join(coll, NULL) == 0);
    CHECK(atomic_load(&forced_collections) > 0);
    printf("%ld collections forced around the forks\n", atomic_load(&forced_collections));
    for (i = 0; i < NTHREADS; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        CHECKF(atomic_load(&rounds_done[i]) > 0,
               "churn thread %d made no progress", i);
    }
    test_clear_stack();
    hgc_collect();
    CHECK_PATTERN(mine, 4096, 77);
    printf("test_fork: ok\n");
    return 0;
}
