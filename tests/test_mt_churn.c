/*
 * test_mt_churn: 8 threads each keep a private table of 256 live objects
 * (the table itself is an hgc object held by the thread's stack) and
 * continuously replace random entries: the old object is verified before it
 * is dropped, the new one filled with a pattern.  Every object of 32 bytes or
 * more also owns a 16-byte child object reachable only through it.
 * Collections happen automatically and through hgc_collect() calls from the
 * threads themselves.  At the end every table is verified.  Prints its seed
 * (HGC_TEST_SEED reproduces the allocation sequence).
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define NTHREADS 8
#define TABLE 256

struct obj {
    size_t size;        /* requested size */
    struct obj *child;  /* NULL or a 16-byte atomic object */
    uint64_t data[];    /* pattern, (size - 16) bytes */
};

static uint64_t seed;
static size_t iterations;
static atomic_int finished;

static uint64_t key_of(const void *p) { return (uintptr_t)p * 0x100000001b3ull; }

static struct obj *make(test_rng *r)
{
    size_t n = test_rand(r) % 64 == 0 ? test_rand_range(r, 4096, 70000)
                                      : test_rand_range(r, 16, 2048);
    struct obj *o = (struct obj *)hgc_malloc(n);
    CHECK(o != NULL);
    CHECK(o->size == 0 && o->child == NULL);
    o->size = n;
    if (n >= 32) {
        uint64_t *c = (uint64_t *)hgc_malloc_atomic(16);
        CHECK(c != NULL);
        c[0] = key_of(c);
        c[1] = key_of(o);
        o->child = (struct obj *)c;
    }
    test_fill(o->data, n - 16, key_of(o));
    return o;
}

static void verify(const struct obj *o, int tid, size_t slot)
{
    CHECKF(o != NULL, "thread %d slot %zu: NULL", tid, slot);
    CHECKF(o->size >= 16 && o->size <= 70000,
           "thread %d slot %zu: object %p has size field %zu", tid, slot,
           (const void *)o, o->size);
    CHECKF(hgc_base(o) == o, "thread %d slot %zu: hgc_base(%p) = %p (size %zu)",
           tid, slot, (const void *)o, hgc_base(o), o->size);
    CHECKF(hgc_size(o) >= o->size, "thread %d slot %zu: hgc_size(%p) = %zu < "
           "%zu", tid, slot, (const void *)o, hgc_size(o), o->size);
    CHECK_PATTERN(o->data, o->size - 16, key_of(o));
    if (o->size >= 32) {
        const uint64_t *c = (const uint64_t *)o->child;
        CHECKF(c != NULL, "thread %d slot %zu: child lost", tid, slot);
        CHECKF(c[0] == key_of(c) && c[1] == key_of(o),
               "thread %d slot %zu: child %p of %p corrupted", tid, slot,
               (const void *)c, (const void *)o);
    }
}

static void *worker(void *arg)
{
    int tid = (int)(intptr_t)arg;
    test_rng r = {seed * 31 + (uint64_t)tid};
    struct obj **volatile table =
        (struct obj **)hgc_malloc(TABLE * sizeof(struct obj *));
    size_t i;

    CHECK(table != NULL);
    for (i = 0; i < TABLE; i++)
        table[i] = make(&r);
    for (i = 0; i < iterations; i++) {
        size_t k = (size_t)(test_rand(&r) % TABLE);
        verify(table[k], tid, k);
        table[k] = make(&r);
        if (test_rand(&r) % 20000 == 0)
            hgc_collect();
    }
    for (i = 0; i < TABLE; i++)
        verify(table[i], tid, i);
    atomic_fetch_add(&finished, 1);
    return NULL;
}

int main(void)
{
    pthread_t th[NTHREADS];
    hgc_stats s0, s;
    int i;

    seed = test_seed();
    iterations = test_scale(150000, 4, 10);
    hgc_init();
    s0 = test_stats();
    for (i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) == 0);
    for (i = 0; i < NTHREADS; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    CHECK(atomic_load(&finished) == NTHREADS);
    s = test_stats();
    CHECKF(s.collections > s0.collections, "no collection happened");
    printf("%d threads x %zu replacements, %" PRIu64 " collections, "
           "max pause %.2f ms\n", NTHREADS, iterations,
           s.collections - s0.collections, (double)s.pause_max_ns / 1e6);
    printf("test_mt_churn: ok\n");
    return 0;
}
