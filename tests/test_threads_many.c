/*
 * test_threads_many: many threads.
 *   1. 500 threads (100 under TSan) live at once: each allocates a small
 *      list and a 16 KiB payload held by its stack, waits (in
 *      pthread_cond_wait) while main collects twice (live_bytes covers them)
 *      (stats.threads counts them all), then verifies its list and exits.
 *   2. 10,000 threads (1000 under TSan) created over time in batches of 50,
 *      each allocating a little; a third call hgc_thread_unregister() before
 *      exiting, the others do not; main collects every few batches.
 *   At the end stats.threads is back to (nearly) 1: registrations of exited
 *   threads were cleaned up.  Threads use 256 KiB stacks.
 */
#include "test.h"

#include <pthread.h>

#define STACK_SIZE (256 * KiB)
#define LIST_LEN 20
#define PAYLOAD (16 * KiB)
#define BATCH 50

struct node {
    struct node *next;
    uint64_t check;
    uint64_t pad[2];
};

/* A barrier made of a mutex and a condition variable: the threads wait in
 * pthread_cond_wait(), where they can be stopped by a signal in every build
 * (ThreadSanitizer defers signals to threads blocked in
 * pthread_barrier_wait, which would hang any signal-based collector). */
static pthread_mutex_t bar_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bar_cv = PTHREAD_COND_INITIALIZER;
static int bar_arrived, bar_go;

static void barrier_arrive_and_wait(void)
{
    pthread_mutex_lock(&bar_mu);
    bar_arrived++;
    pthread_cond_broadcast(&bar_cv);
    while (!bar_go)
        pthread_cond_wait(&bar_cv, &bar_mu);
    pthread_mutex_unlock(&bar_mu);
}

static void barrier_wait_all(int n)
{
    pthread_mutex_lock(&bar_mu);
    while (bar_arrived < n)
        pthread_cond_wait(&bar_cv, &bar_mu);
    pthread_mutex_unlock(&bar_mu);
}

static void barrier_release(void)
{
    pthread_mutex_lock(&bar_mu);
    bar_go = 1;
    pthread_cond_broadcast(&bar_cv);
    pthread_mutex_unlock(&bar_mu);
}

static uint64_t nkey(const struct node *n, uint64_t i)
{
    return (uintptr_t)n * 7 + i;
}

static TEST_NOINLINE struct node *make_list(int len)
{
    struct node *h = NULL;
    int i;
    for (i = 0; i < len; i++) {
        struct node *n = (struct node *)hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        n->next = h;
        n->check = nkey(n, (uint64_t)(len - 1 - i));
        h = n;
    }
    return h;
}

static TEST_NOINLINE void check_list(const struct node *h, int len)
{
    int i = 0;
    for (; h; h = h->next, i++) {
        CHECK(i < len);
        CHECKF(h->check == nkey(h, (uint64_t)i), "node %d of %p broken", i,
               (const void *)h);
    }
    CHECK(i == len);
}

static void *live_thread(void *arg)
{
    struct node *volatile list = make_list(LIST_LEN);
    void *volatile payload = hgc_malloc_atomic(PAYLOAD);
    (void)arg;
    CHECK(payload != NULL);
    test_fill(payload, PAYLOAD, (uintptr_t)payload);
    test_clear_stack();
    barrier_arrive_and_wait();
    check_list(list, LIST_LEN);
    CHECK_PATTERN(payload, PAYLOAD, (uintptr_t)payload);
    return NULL;
}

static void *short_thread(void *arg)
{
    int i = (int)(intptr_t)arg;
    struct node *volatile list = make_list(1 + i % 8);
    void *p = hgc_malloc_atomic((size_t)(16 + i % 500));
    CHECK(p != NULL);
    check_list(list, 1 + i % 8);
    if (i % 3 == 0)
        hgc_thread_unregister();
    return NULL;
}

static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    pthread_attr_t a;
    int rc;
    CHECK(pthread_attr_init(&a) == 0);
    CHECK(pthread_attr_setstacksize(&a, STACK_SIZE) == 0);
    rc = pthread_create(t, &a, fn, arg);
    CHECKF(rc == 0, "pthread_create: %s", strerror(rc));
    pthread_attr_destroy(&a);
}

int main(void)
{
    int slow = test_slow_kind() == 2;
    int nlive = slow ? 100 : 500;
    int ntotal = slow ? 1000 : 10000;
    pthread_t *th;
    hgc_stats s;
    int i, b;
    uint64_t t0;

    hgc_init();
    th = (pthread_t *)calloc((size_t)nlive, sizeof *th);
    CHECK(th != NULL);

    /* 1. many live threads */
    t0 = test_now_ns();
    for (i = 0; i < nlive; i++)
        start(&th[i], live_thread, NULL);
    barrier_wait_all(nlive);
    for (i = 0; i < 2; i++) {
        test_clear_stack();
        hgc_collect();
        s = test_stats();
        CHECKF(s.live_bytes >= (size_t)nlive * (PAYLOAD + LIST_LEN *
                                                 sizeof(struct node)),
               "live_bytes %zu but %d threads hold %zu bytes on their stacks",
               s.live_bytes, nlive,
               (size_t)nlive * (PAYLOAD + LIST_LEN * sizeof(struct node)));
        test_churn_sizes(test_scale(16 * MiB, 4, 8), sizeof(struct node),
                         sizeof(struct node), (uint64_t)i);
        test_churn_sizes(test_scale(16 * MiB, 4, 8), PAYLOAD, PAYLOAD,
                         (uint64_t)i);
    }
    s = test_stats();
    CHECKF(s.threads >= (size_t)nlive + 1,
           "stats.threads %zu with %d threads registered", s.threads,
           nlive + 1);
    barrier_release();
    for (i = 0; i < nlive; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    printf("%d live threads: %.2f s\n", nlive,
           (double)(test_now_ns() - t0) / 1e9);

    /* 2. many threads over time */
    t0 = test_now_ns();
    for (b = 0; b < ntotal / BATCH; b++) {
        pthread_t bt[BATCH];
        for (i = 0; i < BATCH; i++)
            start(&bt[i], short_thread, (void *)(intptr_t)(b * BATCH + i));
        if (b % 10 == 5)
            hgc_collect();
        for (i = 0; i < BATCH; i++)
            CHECK(pthread_join(bt[i], NULL) == 0);
    }
    printf("%d short threads: %.2f s\n", ntotal,
           (double)(test_now_ns() - t0) / 1e9);

    hgc_collect();
    s = test_stats();
    CHECKF(s.threads >= 1 && s.threads <= 2,
           "stats.threads is %zu after all threads exited", s.threads);
    free(th);
    printf("test_threads_many: ok\n");
    return 0;
}
