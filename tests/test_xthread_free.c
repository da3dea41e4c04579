/*
 * test_xthread_free: cross-thread free storm.  Two producer threads
 * allocate objects of 16..512 bytes filled with a checked pattern and pass
 * them through four single-producer/single-consumer rings (in .bss, so
 * objects in flight are reachable) to two consumer threads, which register
 * first (a popped object's slot is soon reused), verify and hgc_free()
 * them.  About 2,000,000 objects in all (scaled down under
 * sanitizers).  A fifth thread calls hgc_collect() now and then and samples
 * stats.heap_bytes, which must stay under 64 MiB.
 * A second phase repeats the storm (half as many objects) with collection
 * disabled and no collector thread: the heap stays under the same bound only
 * if memory freed by another thread is reused.
 */
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define NPROD 2
#define NCONS 2
#define CAP 1024 /* per ring, power of two */
#define HEAP_BOUND (64 * MiB)

struct ring {
    _Atomic size_t head; /* next to pop  (consumer) */
    char pad1[56];
    _Atomic size_t tail; /* next to push (producer) */
    char pad2[56];
    void *slot[CAP];
};

static struct ring rings[NPROD][NCONS]; /* .bss: a root */
static size_t per_producer;
static atomic_int producers_left;
static atomic_int consumers_left;
static atomic_size_t consumed;
static atomic_size_t max_heap;
static uint64_t seed;

static uint64_t obj_key(const void *p, size_t n) { return (uintptr_t)p ^ n; }

static void push(struct ring *r, void *p)
{
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    while (t - atomic_load_explicit(&r->head, memory_order_acquire) >= CAP)
        sched_yield();
    r->slot[t % CAP] = p;
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

/* NULL when empty */
static void *pop(struct ring *r)
{
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    void *p;
    if (h == atomic_load_explicit(&r->tail, memory_order_acquire))
        return NULL;
    p = r->slot[h % CAP];
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return p;
}

static void sample_heap(void)
{
    hgc_stats s = test_stats();
    size_t m = atomic_load(&max_heap);
    while (s.heap_bytes > m &&
           !atomic_compare_exchange_weak(&max_heap, &m, s.heap_bytes)) {
    }
}

static void *producer(void *arg)
{
    int id = (int)(intptr_t)arg;
    test_rng r = {seed + (uint64_t)id * 1000003};
    size_t i;
    for (i = 0; i < per_producer; i++) {
        size_t n = test_rand_range(&r, 16, 512);
        uint64_t *p = (uint64_t *)((i & 1) ? hgc_malloc(n)
                                           : hgc_malloc_atomic(n));
        CHECKF(p != NULL, "producer %d: allocation %zu failed", id, i);
        CHECK(test_is_zero(p, n));
        p[0] = n;
        test_fill(p + 1, n - 8, obj_key(p, n));
        push(&rings[id][i % NCONS], p);
        if (i % 8192 == 0)
            sample_heap();
    }
    atomic_fetch_sub(&producers_left, 1);
    return NULL;
}

static void *consumer(void *arg)
{
    int id = (int)(intptr_t)arg;
    /* Before the first pop: an object popped from a ring is reachable only
     * from this thread's registers and stack once the producer reuses its
     * slot, and an unregistered thread's stack is no root.  (The first
     * hgc_free would register it, too late.) */
    hgc_thread_register();
    for (;;) {
        int got = 0, k;
        for (k = 0; k < NPROD; k++) {
            uint64_t *p = (uint64_t *)pop(&rings[k][id]);
            size_t n;
            if (!p)
                continue;
            got = 1;
            n = (size_t)p[0];
            CHECKF(n >= 16 && n <= 512, "consumer %d: object %p has size "
                   "word %zu", id, (void *)p, n);
            CHECK(hgc_base(p) == p);
            CHECK(hgc_size(p) >= n);
            CHECK_PATTERN(p + 1, n - 8, obj_key(p, n));
            hgc_free(p);
            atomic_fetch_add_explicit(&consumed, 1, memory_order_relaxed);
        }
        if (!got) {
            if (atomic_load(&producers_left) == 0) {
                int empty = 1;
                for (k = 0; k < NPROD; k++)
                    if (atomic_load(&rings[k][id].head) !=
                        atomic_load(&rings[k][id].tail))
                        empty = 0;
                if (empty)
                    break;
            }
            sched_yield();
        }
    }
    atomic_fetch_sub(&consumers_left, 1);
    return NULL;
}

static void *collector(void *arg)
{
    int n = 0;
    (void)arg;
    hgc_thread_register();
    while (atomic_load(&consumers_left) > 0) {
        hgc_collect();
        sample_heap();
        n++;
        test_sleep_ms(5);
    }
    printf("collector thread: %d collections\n", n);
    return NULL;
}

static void storm(int with_collector, size_t objects_per_producer)
{
    pthread_t prod[NPROD], cons[NCONS], coll;
    hgc_stats s0, s;
    uint64_t t0 = test_now_ns();
    int i;

    per_producer = objects_per_producer;
    atomic_store(&producers_left, NPROD);
    atomic_store(&consumers_left, NCONS);
    atomic_store(&consumed, 0);
    atomic_store(&max_heap, 0);
    s0 = test_stats();
    for (i = 0; i < NCONS; i++)
        CHECK(pthread_create(&cons[i], NULL, consumer, (void *)(intptr_t)i) == 0);
    if (with_collector)
        CHECK(pthread_create(&coll, NULL, collector, NULL) == 0);
    for (i = 0; i < NPROD; i++)
        CHECK(pthread_create(&prod[i], NULL, producer, (void *)(intptr_t)i) == 0);
    for (i = 0; i < NPROD; i++)
        CHECK(pthread_join(prod[i], NULL) == 0);
    for (i = 0; i < NCONS; i++)
        CHECK(pthread_join(cons[i], NULL) == 0);
    if (with_collector)
        CHECK(pthread_join(coll, NULL) == 0);

    sample_heap();
    s = test_stats();
    CHECKF(atomic_load(&consumed) == per_producer * NPROD,
           "consumed %zu of %zu objects", atomic_load(&consumed),
           per_producer * NPROD);
    CHECKF(s.freed_bytes - s0.freed_bytes >= per_producer * NPROD * 16,
           "freed_bytes grew by %zu only", s.freed_bytes - s0.freed_bytes);
    CHECKF(atomic_load(&max_heap) < HEAP_BOUND,
           "%s: heap_bytes reached %zu (bound %zu)",
           with_collector ? "with collector" : "collection disabled",
           atomic_load(&max_heap), (size_t)HEAP_BOUND);
    if (!with_collector)
        CHECK(s.collections == s0.collections);
    printf("%s: %zu objects in %.2f s, max heap %zu KiB, %" PRIu64
           " collections\n",
           with_collector ? "with collector" : "collection disabled",
           per_producer * NPROD, (double)(test_now_ns() - t0) / 1e9,
           atomic_load(&max_heap) / KiB, s.collections - s0.collections);
}

int main(void)
{
    seed = test_seed();
    hgc_init();
    storm(1, test_scale(1000000, 4, 10));
    hgc_disable();
    storm(0, test_scale(500000, 4, 10));
    hgc_enable();
    printf("test_xthread_free: ok\n");
    return 0;
}
