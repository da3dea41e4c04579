/*
 * mixed_sizes.c -- explicit malloc/free of long-tailed sizes, freed out of
 * order and partly by another thread, built for one allocation back end
 * (see gcapi.h).  It asks how hgc does as a plain malloc replacement.
 *
 *   mixed_sizes_<backend> [THREADS [SLOTS [STEPS]]]
 *
 *   THREADS  worker threads, default 2
 *   SLOTS    table entries per thread, default 50000
 *   STEPS    steps per thread, default 10000000
 *
 * Sizes: a class k in 0..11 is drawn with probability 2^-(k+1) (class 11
 * takes the rest of the tail), then a size uniform in [8 << k, 16 << k]:
 * from 8 bytes to 32 KiB, half of the objects under 17 bytes, one in 2048
 * over 16 KiB.  A deterministic PRNG per thread makes the sequence the same
 * for every back end.
 *
 * Each worker fills a table of SLOTS objects, then each step picks a slot
 * at random and retires its object: one in 8 goes to the next thread's
 * queue (a mutex-protected ring; if it is full the object is freed here),
 * the others are freed at once; a new object of a fresh random size takes
 * the slot.  Every 64 steps a worker takes what its own queue holds and
 * frees it.  So objects are freed out of order, one in 8 by a thread that
 * did not allocate it.  Everything is freed explicitly (GC_FREE) for every
 * back end, the collectors included; objects are GC_ALLOC_ATOMIC (data,
 * no pointers), the tables and queues GC_ALLOC, so the collectors see them.
 *
 * Checks: every object's first word holds its serial and size, its last
 * whole word the complement, and a last byte past the whole words the
 * low byte of the first word; each is checked before the object is freed.  The sums of first
 * words over all allocations and over all frees must agree, as must the
 * counts.  A mismatch aborts.
 *
 * Output, one line:
 *   RESULT name=mixed_sizes threads=T slots=.. steps=.. ops=.. mops=..
 *          remote_frees=.. time_s=.. peak_rss_kb=.. collections=..
 *          max_pause_ms=.. backend=..
 * where ops counts allocations (the initial fills included), mops =
 * ops / time_s / 1e6, and remote_frees the objects freed by another thread.
 */
#include "gcapi.h" /* first: Boehm's gc.h must redirect pthread_create */
#include "bench_util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 64
#define MAX_CLASS 11
#define QCAP 4096       /* queue capacity; power of two */
#define DRAIN_EVERY 64  /* steps between queue drains */
#define REMOTE_ONE_IN 8 /* share of retired objects sent to the next thread */

/* A thread's inbound queue of objects to free. */
typedef struct queue {
    pthread_mutex_t lock;
    void **buf; /* QCAP entries, GC_ALLOC: the objects in it stay visible */
    unsigned head, tail; /* tail - head entries, indices mod QCAP */
} queue;

typedef struct worker {
    int id;
    long slots, steps;
    queue *out; /* the next thread's queue */
    queue in;
    /* Results. */
    long long made, freed, remote;
    uint64_t made_sum, freed_sum;
} worker;


static size_t draw_size(bench_rng *r)
{
    unsigned long long x = bench_rng_next(r);
    int k = __builtin_ctzll(x | (1ULL << MAX_CLASS)); /* P(k) = 2^-(k+1) */
    size_t lo = (size_t)8 << k;
    return lo + (size_t)bench_rng_below(r, lo + 1);
}

static void *obj_new(worker *w, size_t size)
{
    uint64_t first = ((uint64_t)w->id << 56) + ((uint64_t)w->made << 16) + size;
    unsigned char *o = GC_ALLOC_ATOMIC(size);
    memcpy(o, &first, 8);
    if (size >= 16) {
        uint64_t last = ~first;
        memcpy(o + (size / 8 - 1) * 8, &last, 8);
    }
    if (size % 8 != 0) /* a tail past the last whole word */
        o[size - 1] = (unsigned char)first;
    w->made++;
    w->made_sum += first;
    return o;
}

/* Check o and free it, counting it as freed by w. */
static void obj_free(worker *w, void *p)
{
    unsigned char *o = p;
    uint64_t first, last;
    memcpy(&first, o, 8);
    size_t size = first & 0xffff;
    if (size < 8 || size > (16 << MAX_CLASS))
        bench_fatal("mixed_sizes: object %p has a corrupt header %llx", p,
                    (unsigned long long)first);
    if (size >= 16) {
        memcpy(&last, o + (size / 8 - 1) * 8, 8);
        if (last != ~first)
            bench_fatal("mixed_sizes: object %p of %zu bytes: corrupt last word", p, size);
    }
    if (size % 8 != 0 && o[size - 1] != (unsigned char)first)
        bench_fatal("mixed_sizes: object %p of %zu bytes: corrupt last byte", p, size);
    w->freed++;
    w->freed_sum += first;
    GC_FREE(o);
}

/* Hand p to queue q; 0 if the queue is full. */
static int queue_push(queue *q, void *p)
{
    int ok = 0;
    pthread_mutex_lock(&q->lock);
    if (q->tail - q->head < QCAP) {
        q->buf[q->tail++ & (QCAP - 1)] = p;
        ok = 1;
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

/* Free whatever w's queue holds; the objects were allocated elsewhere. */
static void queue_drain(worker *w)
{
    void *batch[QCAP];
    unsigned n = 0;
    pthread_mutex_lock(&w->in.lock);
    while (w->in.head != w->in.tail) {
        unsigned i = w->in.head++ & (QCAP - 1);
        batch[n++] = w->in.buf[i];
        w->in.buf[i] = NULL;
    }
    pthread_mutex_unlock(&w->in.lock);
    for (unsigned i = 0; i < n; i++) {
        obj_free(w, batch[i]);
        w->remote++;
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    bench_rng rng = bench_rng_seed(1000 + (unsigned long long)w->id);

    THREAD_REGISTER();
    void **table = GC_ALLOC((size_t)w->slots * sizeof *table);
    for (long i = 0; i < w->slots; i++)
        table[i] = obj_new(w, draw_size(&rng));
    bench_worker_ready();

    for (long s = 0; s < w->steps; s++) {
        long i = (long)bench_rng_below(&rng, (unsigned long long)w->slots);
        if (bench_rng_below(&rng, REMOTE_ONE_IN) != 0 || !queue_push(w->out, table[i]))
            obj_free(w, table[i]);
        table[i] = obj_new(w, draw_size(&rng));
        if (s % DRAIN_EVERY == DRAIN_EVERY - 1)
            queue_drain(w);
    }
    for (long i = 0; i < w->slots; i++)
        obj_free(w, table[i]);
    GC_FREE(table);
    THREAD_UNREGISTER();
    return NULL;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [THREADS [SLOTS [STEPS]]]\n"
                    "  THREADS default 2, SLOTS (per thread) default 50000,\n"
                    "  STEPS (per thread) default 10000000\n",
            prog);
}

int main(int argc, char **argv)
{
    long threads = 2, slots = 50000, steps = 10000000;
    const bench_arg args[] = {{"thread count", 1, MAX_THREADS, &threads},
                              {"slot count", 1, 1L << 28, &slots},
                              {"step count", 0, 1L << 36, &steps}};
    bench_parse_positional(argc, argv, usage, args, 3);
    int nthreads = (int)threads;

    GC_INIT();

    /* The workers are in GC_ALLOC memory so that the queues' buffers, which
     * only they point to, stay visible to the collectors. */
    worker *ws = GC_ALLOC((size_t)nthreads * sizeof *ws);
    for (int i = 0; i < nthreads; i++) {
        ws[i].id = i;
        ws[i].slots = slots;
        ws[i].steps = steps;
        ws[i].out = &ws[(i + 1) % nthreads].in;
        ws[i].in.buf = GC_ALLOC(QCAP * sizeof(void *));
        pthread_mutex_init(&ws[i].in.lock, NULL);
    }
    double t0 = bench_start_workers(nthreads, worker_main, ws, sizeof *ws, 1);
    bench_join_workers();
    /* What is still queued arrived after its thread's last drain. */
    for (int i = 0; i < nthreads; i++)
        queue_drain(&ws[i]);
    double elapsed = bench_now() - t0;

    long long made = 0, freed = 0, remote = 0;
    uint64_t made_sum = 0, freed_sum = 0;
    for (int i = 0; i < nthreads; i++) {
        made += ws[i].made;
        freed += ws[i].freed;
        remote += ws[i].remote;
        made_sum += ws[i].made_sum;
        freed_sum += ws[i].freed_sum;
        pthread_mutex_destroy(&ws[i].in.lock);
        GC_FREE(ws[i].in.buf);
    }
    if (made != (long long)nthreads * (slots + steps) || freed != made || freed_sum != made_sum)
        bench_fatal("mixed_sizes: %lld allocated, %lld freed (expected %lld); sums %llx / %llx",
                    made, freed, (long long)nthreads * (slots + steps),
                    (unsigned long long)made_sum, (unsigned long long)freed_sum);
    GC_FREE(ws);

    printf("RESULT name=mixed_sizes threads=%d slots=%ld steps=%ld ops=%lld mops=%.2f "
           "remote_frees=%lld",
           nthreads, slots, steps, made, (double)made / elapsed / 1e6, remote);
    bench_result_tail(elapsed);
    return 0;
}
