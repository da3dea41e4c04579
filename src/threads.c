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

#include "alloc.h"
#include "stw.h"
#include "threads.h"
#include "util.h"

__thread thread_rec *hgc__self;

static pthread_mutex_t world_lock = PTHREAD_MUTEX_INITIALIZER;
static thread_rec *registry;
static thread_rec *spare;
static size_t nthreads;
static size_t retired_alloc, retired_freed;
static pthread_key_t exit_key;

void threads_lock(void) { pthread_mutex_lock(&world_lock); }
void threads_unlock(void) { pthread_mutex_unlock(&world_lock); }

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
    t->next = registry;
    if (registry)
        registry->prev = t;
    registry = t;
    nthreads++;
    /* Set before the lock is released: from then on collections signal
     * this thread, and its handler must find its record. */
    hgc__self = t;
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
    alloc_release_cache(t);
    threads_lock();
    unlink_rec(t);
    hgc__self = NULL;
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

/* fork(): hold every internal lock across it so the child inherits none
 * held by a thread that does not exist there. */
static void fork_prepare(void)
{
    threads_lock();
    alloc_fork_lock();
}

static void fork_parent(void)
{
    alloc_fork_unlock();
    threads_unlock();
}

static void fork_child(void)
{
    alloc_fork_unlock();
    stw_after_fork_child();
    /* Only the forking thread survives: give the others' cached spans back
     * and drop their records. */
    thread_rec *self = hgc__self;
    for (thread_rec *t = registry, *next; t; t = next) {
        next = t->next;
        if (t == self)
            continue;
        t->in_crit = 0;
        t->stop_pending = 0;
        alloc_release_cache(t);
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
