/*
 * test_graph_stress: randomized mutators on a shared graph; nothing
 * reachable is ever lost or damaged.
 *
 *   test_graph_stress [SECONDS]
 *
 * Without SECONDS: a short run (a fixed number of operations per thread,
 * scaled down under sanitizers), as in the test suite.  With SECONDS: run
 * that long (`make soak`).
 *
 * Threads share SLOTS root slots (in .bss).  A node carries its id, a
 * checksum of the id, EDGES edges and a payload of 0..2000 bytes filled
 * from its id, so any damage (a freed and reused node, a stray write) shows
 * as a wrong checksum or payload.  Each thread, at random:
 *   - puts a new node into a slot;
 *   - links: an edge of a node found in a slot (or one step further) to
 *     another such node, building lists, DAGs and cycles across threads;
 *   - cuts a slot or an edge (the subgraph behind it becomes garbage unless
 *     reachable otherwise);
 *   - makes private scratch objects (16 B..100 KiB, pattern-filled), keeps a
 *     few on its stack, frees some itself, and hands others to the next
 *     thread through a mailbox, which checks and frees them;
 *   - gives some new nodes a finalizer (any mode), which checks that its
 *     node is intact and then marks it finalized: a walk that reaches a
 *     finalized node has found a finalizer that ran on a reachable node;
 *   - keeps short weak links (in malloc memory) to nodes, reads them and
 *     puts what it read back into a slot: a link not yet cleared must lead
 *     to an intact, never finalized node, and may bring it back;
 *   - now and then collects; and whenever a collection (its own or an
 *     automatic one) has run since the last walk, walks the whole graph
 *     from the slots and checks every node it reaches (other threads keep
 *     mutating: every node a walker reaches is reachable at that moment,
 *     so it must be intact).  So every collection is followed by a walk.
 * The model is reachability itself: whatever a thread can reach through
 * slots, edges, its stack or its mailbox must check out.  The heap must
 * stay under HEAP_BOUND.  Any failure prints the seed (HGC_TEST_SEED
 * reruns it; thread interleavings differ, the operation streams do not).
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#define NTHREADS 4
#define SLOTS 2048
#define EDGES 3
#define MAX_PAYLOAD 2000
#define SCRATCH 16
#define MAILBOX 256
#define HEAP_BOUND (256 * MiB)
#define WEAK 64 /* weak links per thread */

typedef struct gnode {
    uint64_t id;
    uint64_t check;
    _Atomic(struct gnode *) edge[EDGES];
    uint32_t payload_len;
    unsigned char payload[];
} gnode;

static _Atomic(gnode *) slots[SLOTS]; /* .bss: roots */

/* Single-producer single-consumer rings: thread i hands to thread i+1. */
typedef struct mailbox {
    _Atomic size_t head, tail;
    void *_Atomic item[MAILBOX];
} mailbox;
static mailbox boxes[NTHREADS];

static uint64_t seed;
static _Atomic uint64_t next_id = 1;
static _Atomic int stop_flag;
static _Atomic uint64_t total_ops, total_walk_nodes, total_walks, total_handed;
static _Atomic uint64_t total_finalized, total_weak_reads, total_weak_cleared;
static _Atomic size_t max_heap;
static _Atomic uint64_t walked_after; /* collection count the last walk followed */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void fail_node(const gnode *n, const char *what)
{
    fprintf(stderr, "test_graph_stress: node %p damaged (%s): id %llu check %llx; seed %llu\n",
            (const void *)n, what, (unsigned long long)n->id, (unsigned long long)n->check,
            (unsigned long long)seed);
    abort();
}

static void check_node(const gnode *n)
{
    if (n->check == ~mix(n->id))
        fail_node(n, "finalized, yet reachable");
    if (n->check != mix(n->id) || n->id == 0 || n->id >= atomic_load(&next_id))
        fail_node(n, "checksum");
    if (n->payload_len > MAX_PAYLOAD)
        fail_node(n, "payload length");
    for (uint32_t i = 0; i < n->payload_len; i++)
        if (n->payload[i] != (unsigned char)(mix(n->id + i) >> 56))
            fail_node(n, "payload");
}

/* Runs once the node is unreachable: it must be intact (kept so for its
 * finalizer), and nobody may reach it afterwards. */
static void node_finalizer(void *obj, void *data)
{
    gnode *n = (gnode *)obj;
    (void)data;
    check_node(n);
    n->check = ~mix(n->id);
    atomic_fetch_add_explicit(&total_finalized, 1, memory_order_relaxed);
}

static gnode *new_node(test_rng *r)
{
    uint32_t len = (uint32_t)test_rand_range(r, 0, MAX_PAYLOAD);
    gnode *n = (gnode *)hgc_malloc(sizeof *n + len);
    CHECK(n != NULL);
    CHECK(test_is_zero(n, sizeof *n + len));
    n->id = atomic_fetch_add(&next_id, 1);
    n->check = mix(n->id);
    n->payload_len = len;
    for (uint32_t i = 0; i < len; i++)
        n->payload[i] = (unsigned char)(mix(n->id + i) >> 56);
    /* Mostly unordered: two ordered finalizable nodes on one cycle are
     * never finalized (the documented rule), and random edges make many
     * cycles, which would grow the heap of a long soak. */
    if (test_rand(r) % 8 == 0) {
        unsigned m = (unsigned)(test_rand(r) % 8);
        int mode = m == 0 ? HGC_FINALIZE_ORDERED
                 : m == 1 ? HGC_FINALIZE_IGNORE_SELF
                          : HGC_FINALIZE_UNORDERED;
        CHECK(hgc_register_finalizer(n, node_finalizer, NULL, mode, NULL, NULL) == HGC_OK);
    }
    return n;
}

/* A node from a random slot, maybe one edge further; NULL if empty. */
static gnode *pick(test_rng *r)
{
    gnode *n = atomic_load_explicit(&slots[test_rand(r) % SLOTS], memory_order_acquire);
    if (n && (test_rand(r) & 1)) {
        gnode *m = atomic_load_explicit(&n->edge[test_rand(r) % EDGES], memory_order_acquire);
        if (m)
            n = m;
    }
    return n;
}

/* --- visited set for walks (thread-private, malloc'd) --------------- */
typedef struct vset {
    uintptr_t *v;
    size_t cap, n;
} vset;

static int vset_add(vset *s, uintptr_t p)
{
    if (2 * (s->n + 1) > s->cap) {
        vset t = {(uintptr_t *)calloc(s->cap ? s->cap * 2 : 4096, sizeof(uintptr_t)),
                  s->cap ? s->cap * 2 : 4096, 0};
        CHECK(t.v != NULL);
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i])
                vset_add(&t, s->v[i]);
        free(s->v);
        *s = t;
    }
    size_t i = (size_t)mix(p) & (s->cap - 1);
    while (s->v[i]) {
        if (s->v[i] == p)
            return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->v[i] = p;
    s->n++;
    return 1;
}

/* Check every node reachable from the slots; returns how many.  The work
 * stack is an hgc object: a node waiting on it may meanwhile be cut off by
 * another thread, and only this reference keeps it alive (in malloc()
 * memory it would be invisible to the collector).  The visited set holds
 * addresses it never dereferences, so malloc() is fine there. */
static size_t walk(void)
{
    vset seen = {NULL, 0, 0};
    size_t cap = 4096, top = 0, count = 0;
    gnode **stack = (gnode **)hgc_malloc(cap * sizeof *stack);
    CHECK(stack != NULL);
    for (size_t i = 0; i < SLOTS; i++) {
        gnode *n = atomic_load_explicit(&slots[i], memory_order_acquire);
        if (n && vset_add(&seen, (uintptr_t)n))
            stack[top++] = n;
        while (top) {
            gnode *x = stack[--top];
            check_node(x);
            count++;
            for (int e = 0; e < EDGES; e++) {
                gnode *y = atomic_load_explicit(&x->edge[e], memory_order_acquire);
                if (!y || !vset_add(&seen, (uintptr_t)y))
                    continue;
                if (top == cap) {
                    cap *= 2;
                    stack = (gnode **)hgc_realloc(stack, cap * sizeof *stack);
                    CHECK(stack != NULL);
                }
                stack[top++] = y;
            }
        }
    }
    hgc_free(stack);
    free(seen.v);
    return count;
}

/* --- scratch objects ------------------------------------------------- */
static size_t scratch_size(uint64_t key) { return 16 + (size_t)(mix(key) % (key & 15 ? 1000 : 100000)); }

static void *new_scratch(uint64_t key)
{
    size_t n = scratch_size(key);
    uint64_t *p = (uint64_t *)(key & 1 ? hgc_malloc_atomic(n) : hgc_malloc(n));
    CHECK(p != NULL);
    p[0] = key;
    test_fill(p + 1, n - 8, key);
    return p;
}

static void check_scratch(const void *q)
{
    const uint64_t *p = (const uint64_t *)q;
    size_t n = scratch_size(p[0]);
    CHECKF(hgc_base(p) == p && hgc_size(p) >= n, "scratch %p: bad object (seed %llu)", q,
           (unsigned long long)seed);
    CHECK_PATTERN(p + 1, n - 8, p[0]);
}

static int mail_put(mailbox *b, void *p)
{
    size_t t = atomic_load_explicit(&b->tail, memory_order_relaxed);
    if (t - atomic_load_explicit(&b->head, memory_order_acquire) >= MAILBOX)
        return 0;
    atomic_store_explicit(&b->item[t % MAILBOX], p, memory_order_relaxed);
    atomic_store_explicit(&b->tail, t + 1, memory_order_release);
    return 1;
}

static void *mail_get(mailbox *b)
{
    size_t h = atomic_load_explicit(&b->head, memory_order_relaxed);
    if (h == atomic_load_explicit(&b->tail, memory_order_acquire))
        return NULL;
    void *p = atomic_load_explicit(&b->item[h % MAILBOX], memory_order_relaxed);
    atomic_store_explicit(&b->head, h + 1, memory_order_release);
    return p;
}

static void sample_heap(void)
{
    size_t h = test_stats().heap_bytes, m = atomic_load(&max_heap);
    while (h > m && !atomic_compare_exchange_weak(&max_heap, &m, h)) {
    }
}

typedef struct worker {
    int id;
    uint64_t ops_limit; /* 0: until stop_flag */
} worker;

static void *mutator(void *arg)
{
    worker *w = (worker *)arg;
    test_rng r = {seed * 31 + (uint64_t)w->id + 1};
    void *scratch[SCRATCH] = {0}; /* on this stack: roots */
    mailbox *in = &boxes[w->id], *out = &boxes[(w->id + 1) % NTHREADS];
    /* Short weak links, in memory the collector does not scan. */
    gnode **links = (gnode **)calloc(WEAK, sizeof *links);
    CHECK(links != NULL);
    /* Before the first pick: a node read from a shared slot is held in
     * locals only, and an unregistered thread's stack is no root. */
    hgc_thread_register();
    uint64_t ops = 0, key_base = (uint64_t)w->id << 48;
    while (w->ops_limit ? ops < w->ops_limit : !atomic_load(&stop_flag)) {
        unsigned op = (unsigned)(test_rand(&r) % 100);
        ops++;
        if (op < 25) {
            gnode *n = new_node(&r);
            atomic_store_explicit(&slots[test_rand(&r) % SLOTS], n, memory_order_release);
        } else if (op < 50) {
            gnode *a = pick(&r), *b = pick(&r);
            if (a) {
                check_node(a);
                atomic_store_explicit(&a->edge[test_rand(&r) % EDGES], b, memory_order_release);
            }
        } else if (op < 60) {
            if (test_rand(&r) & 1) {
                atomic_store_explicit(&slots[test_rand(&r) % SLOTS], NULL, memory_order_release);
            } else {
                gnode *a = pick(&r);
                if (a)
                    atomic_store_explicit(&a->edge[test_rand(&r) % EDGES], NULL,
                                          memory_order_release);
            }
        } else if (op < 81) {
            size_t i = test_rand(&r) % WEAK;
            gnode *n = pick(&r);
            if (links[i])
                hgc_weak_unregister((void **)&links[i]);
            links[i] = n;
            if (n)
                CHECK(hgc_weak_register((void **)&links[i], n) == HGC_OK);
        } else if (op < 83) {
            gnode *n = links[test_rand(&r) % WEAK];
            atomic_fetch_add_explicit(&total_weak_reads, 1, memory_order_relaxed);
            if (!n) {
                atomic_fetch_add_explicit(&total_weak_cleared, 1, memory_order_relaxed);
            } else {
                check_node(n); /* a root again, from here */
                if (test_rand(&r) & 1)
                    atomic_store_explicit(&slots[test_rand(&r) % SLOTS], n,
                                          memory_order_release);
            }
        } else if (op < 85) {
            size_t i = test_rand(&r) % SCRATCH;
            if (scratch[i]) {
                check_scratch(scratch[i]);
                if (test_rand(&r) & 1) {
                    hgc_free(scratch[i]); /* by the thread that made it */
                } else if (mail_put(out, scratch[i])) {
                    atomic_fetch_add_explicit(&total_handed, 1, memory_order_relaxed);
                } else {
                    hgc_free(scratch[i]);
                }
            }
            scratch[i] = new_scratch(key_base + ops);
        } else if (op < 99) {
            void *p;
            while ((p = mail_get(in)) != NULL) {
                check_scratch(p);
                hgc_free(p); /* by another thread than the one that made it */
            }
        } else if (test_rand(&r) % 50 == 0) {
            hgc_collect();
        }
        if (ops % 256 == 0) {
            /* A walk after every collection (several may share one). */
            uint64_t c = test_stats().collections, w = atomic_load(&walked_after);
            if (c != w && atomic_compare_exchange_strong(&walked_after, &w, c)) {
                sample_heap();
                atomic_fetch_add(&total_walk_nodes, walk());
                atomic_fetch_add(&total_walks, 1);
            }
        }
    }
    for (int i = 0; i < SCRATCH; i++)
        if (scratch[i])
            check_scratch(scratch[i]);
    for (int i = 0; i < WEAK; i++)
        if (links[i])
            hgc_weak_unregister((void **)&links[i]);
    free(links);
    atomic_fetch_add(&total_ops, ops);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    double seconds = argc > 1 ? atof(argv[1]) : 0;
    uint64_t per_thread = seconds > 0 ? 0 : test_scale(300000, 4, 10);
    uint64_t t0 = test_now_ns();
    hgc_stats s0, s1;
    int i;

    seed = test_seed();
    hgc_init();
    s0 = test_stats();
    for (i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        w[i].ops_limit = per_thread;
        CHECK(pthread_create(&th[i], NULL, mutator, &w[i]) == 0);
    }
    if (seconds > 0) {
        while ((double)(test_now_ns() - t0) / 1e9 < seconds) {
            test_sleep_ms(100);
            sample_heap();
        }
        atomic_store(&stop_flag, 1);
    }
    for (i = 0; i < NTHREADS; i++)
        CHECK(pthread_join(th[i], NULL) == 0);

    /* Drain the mailboxes, collect, and check the whole graph once more. */
    for (i = 0; i < NTHREADS; i++) {
        void *p;
        while ((p = mail_get(&boxes[i])) != NULL) {
            check_scratch(p);
            hgc_free(p);
        }
    }
    hgc_collect();
    sample_heap();
    size_t final_nodes = walk();
    s1 = test_stats();
    printf("test_graph_stress: %d threads, %llu operations, %llu collections, %llu walks "
           "checked %llu nodes, %llu objects handed between threads, %zu nodes reachable at "
           "the end, max heap %zu MiB, %.1f s; %llu finalizers ran, %llu weak link reads, %llu "
           "found cleared\n",
           NTHREADS, (unsigned long long)atomic_load(&total_ops),
           (unsigned long long)(s1.collections - s0.collections),
           (unsigned long long)atomic_load(&total_walks),
           (unsigned long long)atomic_load(&total_walk_nodes),
           (unsigned long long)atomic_load(&total_handed), final_nodes,
           atomic_load(&max_heap) / MiB, (double)(test_now_ns() - t0) / 1e9,
           (unsigned long long)atomic_load(&total_finalized),
           (unsigned long long)atomic_load(&total_weak_reads),
           (unsigned long long)atomic_load(&total_weak_cleared));
    CHECKF(atomic_load(&max_heap) < HEAP_BOUND, "heap reached %zu bytes (bound %zu); seed %llu",
           atomic_load(&max_heap), (size_t)HEAP_BOUND, (unsigned long long)seed);
    CHECK(s1.collections > s0.collections && atomic_load(&total_walks) > 0);
    CHECK(atomic_load(&total_finalized) > 0 && atomic_load(&total_weak_cleared) > 0);
    printf("test_graph_stress: ok\n");
    return 0;
}
