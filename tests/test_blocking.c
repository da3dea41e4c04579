/*
 * test_blocking: hgc_blocking_enter() / hgc_blocking_leave().
 *  1. Three threads sit in a blocking region: one sleeping 3 s, one blocked
 *     in read() on a pipe, one sleeping with every signal blocked.  Each
 *     holds a list and a 1 MiB payload in its stack only.  Meanwhile main
 *     collects 5 times with garbage in between: each hgc_collect() must
 *     return within 1 s (blocked threads are not waited for), and live_bytes
 *     must include the blocked threads' payloads.  After leaving, each thread
 *     verifies its objects and allocates again.
 *  2. Threads entering and leaving blocking regions (nested too) in a tight
 *     loop while main collects continuously: leaving while a collection is
 *     in progress is safe; objects stay intact.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define PAYLOAD MiB
#define LIST_LEN 100

struct node {
    struct node *next;
    void *payload;
    uint64_t idx, check;
};

static atomic_int in_region;
static int pipe_fds[2];

static uint64_t nkey(const struct node *n, uint64_t i) { return (uintptr_t)n ^ (i << 48); }

static TEST_NOINLINE struct node *make_list(void)
{
    struct node *h = NULL;
    uint64_t i;
    for (i = 0; i < LIST_LEN; i++) {
        struct node *n = (struct node *)hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        n->next = h;
        n->idx = LIST_LEN - 1 - i;
        n->check = nkey(n, n->idx);
        h = n;
    }
    h->payload = hgc_malloc_atomic(PAYLOAD);
    CHECK(h->payload != NULL);
    test_fill(h->payload, PAYLOAD, (uintptr_t)h->payload);
    return h;
}

static TEST_NOINLINE void check_list(const struct node *h)
{
    uint64_t i = 0;
    CHECK(h != NULL && h->payload != NULL);
    CHECK_PATTERN(h->payload, PAYLOAD, (uintptr_t)h->payload);
    for (; h; h = h->next, i++) {
        CHECK(i < LIST_LEN);
        CHECKF(h->idx == i && h->check == nkey(h, i), "node %" PRIu64
               " broken", i);
    }
    CHECK(i == LIST_LEN);
}

static void sleep_until(uint64_t deadline)
{
    uint64_t now;
    while ((now = test_now_ns()) < deadline) {
        uint64_t d = deadline - now;
        struct timespec ts = {(time_t)(d / 1000000000u),
                              (long)(d % 1000000000u)};
        nanosleep(&ts, NULL); /* may be cut short by a signal */
    }
}

enum { B_SLEEP, B_READ, B_MASKED };

static void *blocker(void *arg)
{
    int kind = (int)(intptr_t)arg;
    struct node *volatile list = make_list();
    sigset_t all, old;

    test_clear_stack();
    hgc_blocking_enter();
    if (kind == B_MASKED) {
        sigfillset(&all);
        CHECK(pthread_sigmask(SIG_BLOCK, &all, &old) == 0);
    }
    atomic_fetch_add(&in_region, 1);
    if (kind == B_READ) {
        char c;
        ssize_t r;
        while ((r = read(pipe_fds[0], &c, 1)) < 0 && errno == EINTR) {
        }
        CHECK(r == 1);
    } else {
        sleep_until(test_now_ns() + (kind == B_SLEEP ? 3000 : 2500) *
                                        (uint64_t)1000000);
    }
    if (kind == B_MASKED)
        CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
    hgc_blocking_leave();

    check_list(list);
    list = make_list();
    test_churn(4 * MiB);
    check_list(list);
    return NULL;
}

static TEST_NOINLINE void part1(void)
{
    static const char *names[] = {"sleeping", "in read()", "signals blocked"};
    pthread_t th[3];
    uint64_t worst = 0;
    int i;

    CHECK(pipe(pipe_fds) == 0);
    for (i = 0; i < 3; i++)
        CHECK(pthread_create(&th[i], NULL, blocker, (void *)(intptr_t)i) == 0);
    while (atomic_load(&in_region) < 3)
        test_sleep_ms(1);
    for (i = 0; i < 5; i++) {
        uint64_t t0 = test_now_ns(), dt;
        hgc_stats s;
        test_clear_stack();
        hgc_collect();
        dt = test_now_ns() - t0;
        if (dt > worst)
            worst = dt;
        CHECKF(dt < 1000000000u,
               "hgc_collect() took %.3f s with threads in blocking regions",
               (double)dt / 1e9);
        s = test_stats();
        CHECKF(s.live_bytes >= 3 * PAYLOAD,
               "live_bytes %zu: objects of blocked threads not kept",
               s.live_bytes);
        test_churn(test_scale(8 * MiB, 2, 4));
        test_churn_sizes(test_scale(4 * MiB, 2, 4), PAYLOAD, PAYLOAD,
                         (uint64_t)i);
    }
    CHECK(write(pipe_fds[1], "x", 1) == 1);
    for (i = 0; i < 3; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        printf("blocked thread (%s): ok\n", names[i]);
    }
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    printf("part 1: slowest collection %.1f ms\n", (double)worst / 1e6);
}

static atomic_int loop_done;

static void *flipper(void *arg)
{
    int id = (int)(intptr_t)arg;
    struct node *volatile list = make_list();
    size_t iters = test_scale(10000, 4, 10), i;
    for (i = 0; i < iters; i++) {
        hgc_blocking_enter();
        if (i % 3 == 0) {
            hgc_blocking_enter(); /* nested */
            hgc_blocking_leave();
        }
        if (id == 1 && i % 64 == 0) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
        hgc_blocking_leave();
        if (i % 16 == 0) {
            uint64_t *p = (uint64_t *)hgc_malloc(64);
            CHECK(p != NULL);
            p[0] = (uintptr_t)p;
            if (i % 1024 == 0)
                check_list(list);
            CHECK(p[0] == (uintptr_t)p);
        }
    }
    check_list(list);
    atomic_fetch_add(&loop_done, 1);
    return NULL;
}

static TEST_NOINLINE void part2(void)
{
    pthread_t th[2];
    int i, n = 0;
    for (i = 0; i < 2; i++)
        CHECK(pthread_create(&th[i], NULL, flipper, (void *)(intptr_t)i) == 0);
    while (atomic_load(&loop_done) < 2) {
        uint64_t until;
        hgc_collect();
        n++;
        /* let the threads run a little between collections */
        until = test_now_ns() + (uint64_t)(n % 7) * 30000;
        while (test_now_ns() < until) {
        }
    }
    for (i = 0; i < 2; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    printf("part 2: %d collections during enter/leave loops\n", n);
}

int main(void)
{
    hgc_init();
    part1();
    part2();
    printf("test_blocking: ok\n");
    return 0;
}
