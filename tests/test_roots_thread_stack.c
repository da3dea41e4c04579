/*
 * test_roots_thread_stack: another thread's stack is scanned while it is
 * stopped.  A worker builds a 1000-node linked list (plus a 2 MiB payload
 * hanging off its head) held only by its local variables, tells main, then
 * waits:
 *   variant "spin":  spinning on an atomic flag, calling nothing;
 *   variant "cond":  blocked in pthread_cond_wait();
 *   variant "sleep": blocked in nanosleep() (woken by the flag).
 * Meanwhile main collects and churns garbage.  Then the worker verifies
 * every node.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define NNODES 1000
#define PAYLOAD (2 * MiB)

enum { V_SPIN, V_COND, V_SLEEP };

struct node {
    struct node *next;
    void *payload;
    uint64_t idx;
    uint64_t check[3];
};

static atomic_int ready;
static atomic_int go;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static uint64_t node_key(const struct node *n, uint64_t idx)
{
    return (uint64_t)(uintptr_t)n ^ (idx << 40);
}

static TEST_NOINLINE struct node *build_list(void)
{
    struct node *head = NULL;
    uint64_t i;
    for (i = 0; i < NNODES; i++) {
        struct node *n = (struct node *)hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        n->next = head;
        n->idx = NNODES - 1 - i;
        test_fill(n->check, sizeof n->check, node_key(n, n->idx));
        head = n;
    }
    head->payload = hgc_malloc_atomic(PAYLOAD);
    CHECK(head->payload != NULL);
    test_fill(head->payload, PAYLOAD, (uintptr_t)head->payload);
    return head;
}

static TEST_NOINLINE void verify_list(struct node *head)
{
    struct node *n;
    uint64_t i = 0;
    CHECK(head->payload != NULL);
    CHECK_PATTERN(head->payload, PAYLOAD, (uintptr_t)head->payload);
    for (n = head; n; n = n->next, i++) {
        CHECK(i < NNODES);
        CHECKF(n->idx == i, "node %" PRIu64 " has index %" PRIu64, i, n->idx);
        CHECK_PATTERN(n->check, sizeof n->check, node_key(n, i));
        if (i)
            CHECK(n->payload == NULL);
    }
    CHECK(i == NNODES);
}

static void *worker(void *arg)
{
    int variant = (int)(intptr_t)arg;
    struct node *volatile head = build_list();

    test_clear_stack();
    switch (variant) {
    case V_SPIN:
        atomic_store(&ready, 1);
        while (!atomic_load_explicit(&go, memory_order_acquire)) {
        }
        break;
    case V_COND:
        pthread_mutex_lock(&mu);
        atomic_store(&ready, 1);
        pthread_cond_signal(&cv);
        while (!atomic_load(&go))
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        break;
    default:
        atomic_store(&ready, 1);
        while (!atomic_load(&go)) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        break;
    }
    verify_list(head);
    /* the thread can still allocate afterwards */
    head = build_list();
    verify_list(head);
    return NULL;
}

static TEST_NOINLINE void run_variant(int variant, const char *name)
{
    pthread_t th;
    int round;

    atomic_store(&ready, 0);
    atomic_store(&go, 0);
    CHECK(pthread_create(&th, NULL, worker, (void *)(intptr_t)variant) == 0);
    if (variant == V_COND) {
        pthread_mutex_lock(&mu);
        while (!atomic_load(&ready))
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
    } else {
        while (!atomic_load(&ready))
            test_sleep_ms(1);
    }
    for (round = 0; round < 6; round++) {
        hgc_stats s;
        test_clear_stack();
        hgc_collect();
        s = test_stats();
        CHECKF(s.live_bytes >= PAYLOAD + NNODES * sizeof(struct node),
               "variant %s: live_bytes %zu after collection while the worker "
               "holds %zu bytes", name, s.live_bytes,
               PAYLOAD + NNODES * sizeof(struct node));
        test_churn(test_scale(16 * MiB, 4, 8));
        test_churn_sizes(test_scale(8 * MiB, 4, 8), sizeof(struct node),
                         sizeof(struct node), (uint64_t)round);
        test_churn_sizes(test_scale(8 * MiB, 4, 8), PAYLOAD, PAYLOAD,
                         (uint64_t)round);
    }
    if (variant == V_COND) {
        pthread_mutex_lock(&mu);
        atomic_store(&go, 1);
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    } else {
        atomic_store_explicit(&go, 1, memory_order_release);
    }
    CHECK(pthread_join(th, NULL) == 0);
    printf("variant %s: ok\n", name);
}

int main(void)
{
    hgc_init();
    run_variant(V_SPIN, "spin");
    run_variant(V_COND, "cond");
    run_variant(V_SLEEP, "sleep");
    printf("test_roots_thread_stack: ok\n");
    return 0;
}
