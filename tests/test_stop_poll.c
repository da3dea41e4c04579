/*
 * test_stop_poll: a thread that blocks every signal, the stop signal
 * included, is still stopped for collections -- at its next allocation
 * that refills its cache -- and its stack is scanned from there.
 *
 * Without that safe point, the first collection would wait for the
 * worker's acknowledgement forever (the alarm below turns that into a
 * failure).  The worker holds a linked list in its locals only, allocates
 * garbage without pause and checks the list's contents as it goes; main
 * collects COLLECTIONS times meanwhile.  The work runs in a child with
 * HGC_GOGC=off: a collection of the worker's own would let main's stop
 * through as well, the worker waiting for the world lock in a blocking
 * region.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define NNODES 2000
#define COLLECTIONS 100

struct node {
    struct node *next;
    uint64_t idx;
    uint64_t check[4];
};

static atomic_int started;
static atomic_int done;

static uint64_t node_key(const struct node *n) { return (uint64_t)(uintptr_t)n ^ (n->idx << 40); }

static TEST_NOINLINE struct node *build_list(void)
{
    struct node *head = NULL;
    for (uint64_t i = 0; i < NNODES; i++) {
        struct node *n = hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        n->next = head;
        n->idx = i;
        test_fill(n->check, sizeof n->check, node_key(n));
        head = n;
    }
    return head;
}

static TEST_NOINLINE void verify_list(const struct node *head)
{
    uint64_t want = NNODES;
    for (const struct node *n = head; n; n = n->next) {
        want--;
        CHECKF(n->idx == want, "node %p holds index %" PRIu64 ", expected %" PRIu64,
               (const void *)n, n->idx, want);
        CHECKF(test_find_bad(n->check, sizeof n->check, node_key(n)) == (size_t)-1,
               "node %" PRIu64 " at %p was overwritten", want, (const void *)n);
    }
    CHECK(want == 0);
}

static void *worker(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    CHECK(pthread_sigmask(SIG_BLOCK, &all, NULL) == 0);
    struct node *head = build_list();
    atomic_store(&started, 1);
    unsigned long rounds = 0;
    while (!atomic_load(&done)) {
        /* Garbage: 4096 objects refill the cache of their class several
         * times, so the worker passes its safe point often. */
        for (int i = 0; i < 4096; i++) {
            volatile uint64_t *g = hgc_malloc(48);
            CHECK(g != NULL);
            g[0] = (uint64_t)i;
        }
        if (++rounds % 16 == 0)
            verify_list(head);
    }
    verify_list(head);
    return NULL;
}

static int run(void)
{
    alarm(30); /* a collection that waits forever for the worker fails here */
    pthread_t th;
    CHECK(pthread_create(&th, NULL, worker, NULL) == 0);
    while (!atomic_load(&started))
        sched_yield();
    hgc_stats before, after;
    hgc_get_stats(&before);
    for (int i = 0; i < COLLECTIONS; i++) {
        hgc_collect();
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    hgc_get_stats(&after);
    atomic_store(&done, 1);
    CHECK(pthread_join(th, NULL) == 0);
    CHECKF(after.collections - before.collections >= COLLECTIONS,
           "%" PRIu64 " collections, expected at least %d", after.collections - before.collections,
           COLLECTIONS);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return run();
    const char *const env[] = {"HGC_GOGC=off", NULL};
    CHECK(test_case_passes("run", env, "run"));
    printf("test_stop_poll: %d collections with a worker that blocks every signal: ok\n",
           COLLECTIONS);
    return 0;
}
