/*
 * threads.c -- the thread registry, the world lock, exit clean-up and fork.
 *
 * The world lock serializes collections with every change of the registry
 * and of the root table, so a collection sees a fixed set of threads.
 * Records of unregistered threads are kept on a spare list and reused.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "base/check.h"
#include "mutator/stw.h"
#include "mutator/threads.h"
#include "base/util.h"

__thread thread_rec *hgc__self;
/* Never written: every fast path that reads it fails before any store.
 * Const, so it lies in read-only data: not scanned as a root, and a write
 * would fault. */
static const tcache no_cache;
__thread tcache *hgc__tcache = (tcache *)&no_cache;

/* The world lock is a ticket lock: first come, first served.  A thread
 * that collects back to back (hgc_collect in a loop) would otherwise take
 * it again before a waiter polling with backoff ever saw it free, and
 * starve fork, registration and statistics.  world_serving is the ticket
 * that holds it; unlocking serves the next. */
static _Atomic unsigned world_next, world_serving;
/* Waiters asleep on world_serving; the unlock makes the wake-up call only
 * when there are some (Dekker, seq_cst on both sides: a sleeper counts
 * itself before the futex compares world_serving; the unlock bumps
 * world_serving before it reads the count).  A waiter may spin first
 * (stw.h): the lock is mostly held for one collection, tens of
 * microseconds. */
static _Atomic unsigned world_sleepers;
static thread_rec *registry;
static thread_rec *spare;
static size_t nthreads;
static size_t retired_alloc, retired_freed;
static unsigned next_home; /* homes go round-robin to registering threads */
static pthread_key_t exit_key;

/* The hooks (threads.h); written before any thread registers. */
#define MAX_HOOKS 8
typedef struct hook_list {
    size_t n;
    void (*fn[MAX_HOOKS])(void);
} hook_list;
static hook_list on_register, on_release, on_fork_prepare, on_fork_parent, on_fork_child;

static void hook_add(hook_list *l, void (*fn)(void), const char *what)
{
    /* A hook added later would miss the threads registered before it. */
    hgc_assert(registry == NULL, "%s hook added after a thread registered", what);
    if (l->n == MAX_HOOKS)
        hgc__fatal("more than %d %s hooks", MAX_HOOKS, what);
    l->fn[l->n++] = fn;
}

static void hooks_call_rec(const hook_list *l, thread_rec *t)
{
    for (size_t i = 0; i < l->n; i++)
        ((void (*)(thread_rec *))l->fn[i])(t);
}

void threads_on_register(void (*fn)(thread_rec *t))
{
    hook_add(&on_register, (void (*)(void))fn, "thread registration");
}

void threads_on_release(void (*fn)(thread_rec *t))
{
    hook_add(&on_release, (void (*)(void))fn, "thread release");
}

void threads_on_fork_child(void (*fn)(void)) { hook_add(&on_fork_child, fn, "fork"); }

void threads_on_fork_prepare(void (*prepare)(void), void (*parent)(void))
{
    hook_add(&on_fork_prepare, prepare, "fork");
    hook_add(&on_fork_parent, parent, "fork");
}

static void hooks_call(const hook_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        l->fn[i]();
}

/* A registered thread waiting for the world lock counts as blocked: the
 * holder may be a collector that is stopping the world, and a thread asleep
 * in pthread_mutex_lock must not be needed for that (under ThreadSanitizer
 * it would not even receive the stop signal there).  Once the lock is ours
 * no collection can be running, so leaving the region never waits. */
void threads_lock(void)
{
    thread_rec *t = hgc__self;
    bool wrap = t && t->blocking_depth == 0;
    if (wrap)
        stw_blocking_enter(t);
    /* Wait for our turn, spinning or in a futex woken by the unlock: a stop
     * signal sent just before `blocking` was set is still handled in either
     * (the kernel runs the handler inside the wait).  ThreadSanitizer
     * delivers signals only at intercepted calls, which neither a spin nor
     * a raw futex wait is: under it, poll with short sleeps instead (short:
     * the lock idles until the next in line looks again). */
    unsigned ticket = atomic_fetch_add(&world_next, 1);
    long backoff_ns = 1000;
    bool spin = !HGC_TSAN && stw_spin_begin();
    uint64_t spin_until = spin ? os_now_ns() + STW_SPIN_NS : 0;
    for (;;) {
        unsigned serving = atomic_load(&world_serving);
        if (serving == ticket)
            break;
        if (stw_spin_again(&spin, spin_until))
            continue;
        if (HGC_TSAN) {
            os_sleep_ns((uint64_t)backoff_ns);
            if (backoff_ns < 50000)
                backoff_ns *= 2;
        } else {
            atomic_fetch_add(&world_sleepers, 1);
            os_wait_on((const unsigned *)&world_serving, serving);
            atomic_fetch_sub(&world_sleepers, 1);
        }
    }
    if (spin)
        stw_spin_end();
    if (wrap)
        stw_blocking_leave(t);
}

void threads_unlock(void)
{
    atomic_fetch_add(&world_serving, 1);
    if (!HGC_TSAN && atomic_load(&world_sleepers))
        os_wake_all((const unsigned *)&world_serving);
}

thread_rec *threads_first(void) { return registry; }
size_t threads_count(void) { return nthreads; }

/* Runs at thread exit for registered threads (pthread key destructor). */
static void on_thread_exit(void *rec)
{
    (void)rec;
    threads_unregister();
}

static void unlink_rec(thread_rec *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        registry = t->next;
    if (t->next)
        t->next->prev = t->prev;
    retired_alloc += atomic_load_explicit(&t->alloc_bytes, memory_order_relaxed);
    retired_freed += atomic_load_explicit(&t->freed_bytes, memory_order_relaxed);
    nthreads--;
    t->next = spare;
    t->prev = NULL;
    spare = t;
}

thread_rec *threads_register(void)
{
    thread_rec *t = hgc__self;
    if (t)
        return t;
    threads_lock();
    t = spare;
    if (t)
        spare = t->next;
    else
        t = meta_alloc(sizeof *t);
    memset(t, 0, sizeof *t);
    os_stack_bounds(&t->stack_lo, &t->stack_hi);
    t->tid = os_thread_self();
    t->home = next_home++ % NHOMES;
    hooks_call_rec(&on_register, t);
    t->next = registry;
    if (registry)
        registry->prev = t;
    registry = t;
    nthreads++;
    /* Set before the lock is released: from then on collections signal
     * this thread, and its handler must find its record. */
    hgc__self = t;
    hgc__tcache = &t->tc;
    threads_unlock();
    pthread_setspecific(exit_key, t);
    return t;
}

void threads_unregister(void)
{
    thread_rec *t = hgc__self;
    if (!t)
        return;
    if (t->blocking_depth)
        hgc__fatal("hgc_thread_unregister() inside a blocking region");
    hooks_call_rec(&on_release, t);
    threads_lock();
    unlink_rec(t);
    hgc__self = NULL;
    hgc__tcache = (tcache *)&no_cache;
    threads_unlock();
    pthread_setspecific(exit_key, NULL);
}

void threads_counters(size_t *allocated, size_t *freed)
{
    size_t a = retired_alloc, f = retired_freed;
    for (thread_rec *t = registry; t; t = t->next) {
        a += atomic_load_explicit(&t->alloc_bytes, memory_order_relaxed);
        f += atomic_load_explicit(&t->freed_bytes, memory_order_relaxed);
    }
    *allocated = a;
    *freed = f;
}

/* fork(): the world is stopped across it.  A stopped thread is never in a
 * critical section, so no internal lock is held by a thread that will not
 * exist in the child; the world lock itself is held by the forking thread. */
static void fork_prepare(void)
{
    hooks_call(&on_fork_prepare);
    threads_lock();
    stw_stop_world(hgc__self);
}

static void fork_parent(void)
{
    stw_start_world();
    threads_unlock();
    hooks_call(&on_fork_parent);
}

static void fork_child(void)
{
    /* Tickets taken by threads that do not exist here would never be
     * served and never give the lock back: only ours (held) remains. */
    atomic_store_explicit(&world_next, atomic_load(&world_serving) + 1, memory_order_relaxed);
    atomic_store_explicit(&world_sleepers, 0, memory_order_relaxed);
    stw_after_fork_child();
    for (size_t i = 0; i < on_fork_child.n; i++)
        on_fork_child.fn[i]();
    /* Only the forking thread survives: give the others' cached spans back
     * and drop their records. */
    thread_rec *self = hgc__self;
    for (thread_rec *t = registry, *next; t; t = next) {
        next = t->next;
        if (t == self)
            continue;
        t->in_crit = 0;
        t->stop_pending = 0;
        hooks_call_rec(&on_release, t);
        unlink_rec(t);
    }
    threads_unlock();
}

void threads_init(void)
{
    if (pthread_key_create(&exit_key, on_thread_exit) != 0)
        hgc__fatal("cannot create the thread-exit key");
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}
