/*
 * threads.h -- thread records, thread caches and critical sections.
 *
 * Every registered thread has a thread_rec, allocated as metadata (never in
 * the collected heap) and reachable from the registry list.  Records are
 * recycled, never unmapped.  The registry is changed only under the
 * collector lock (collector.h), so a collection sees a fixed set of threads.
 *
 * Thread cache (tcache): one current span and one free list per (kind,
 * class).  Only the owning thread reads or writes its lists -- the collector
 * included: it never flushes or edits a cache.  That is what makes the
 * allocation fast path safe to interrupt anywhere by the stop signal: no
 * other thread acts on its half-done state.  The price is that a span held
 * by a cache is not swept in that cycle (its garbage waits one cycle).
 *
 * Critical sections: code that holds an internal lock or has a span off
 * every list (sweeping it, moving it) runs inside crit_enter/crit_exit.  The
 * stop signal arriving inside one only sets stop_pending; the thread stops
 * itself at crit_exit.  So a stopped thread never holds an internal lock and
 * never has a span in flight, and the collector may take any lock while the
 * world is stopped.  Rules: never take the collector lock, never block on
 * the collector and never start a collection inside a critical section.
 * The one other way to hold an internal lock is to hold the world lock
 * around it: no collection can stop the world meanwhile.  A registered
 * thread that took, say, the heap lock outside both could be stopped
 * holding it while another thread waits for it inside a critical section,
 * where it can never acknowledge the stop (test_stats_race).
 */
#ifndef HGC_THREADS_H
#define HGC_THREADS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap/heap.h"
#include "os/os.h"

typedef struct tcache {
    void *free[NKINDS][NCLASSES];   /* encoded free lists, see alloc.h */
    /* Bump regions: the never-allocated tail [bump, bump_end) of the
     * cached span, handed out in address order once its free list is
     * empty (both 0 when there is none).  BUMP_MAX classes only. */
    uintptr_t bump[NKINDS][NCLASSES];
    uintptr_t bump_end[NKINDS][NCLASSES];
    span *cur[NKINDS][NCLASSES];    /* span each list came from (or NULL) */
} tcache;

typedef struct thread_rec {
    tcache tc;
    /* Bytes handed out by this thread; written only by the owner (relaxed
     * atomics so statistics can read it). */
    _Atomic size_t alloc_bytes;
    _Atomic size_t freed_bytes;
    size_t claim_pending;           /* pacing.c: claims not yet published */
    size_t alloc_at_collect;        /* pacing.c: alloc_bytes at the last collection */
    uint64_t stress_left;           /* HGC_GC_STRESS: allocations until the next collection */
    /* collector.c, mark assists: the concurrent mark they count for,
     * alloc_bytes when last counted, and bytes still to mark. */
    uint64_t assist_cycle;
    size_t assist_seen, assist_debt;

    /* Signal handshake.  in_crit, stop_pending and in_stop_self are
     * touched by the owner and by its own signal handler only, hence
     * signal fences suffice. */
    volatile int in_crit;
    volatile int stop_pending;
    volatile int in_stop_self; /* stw.c: stw_stop_self */
    /* The stop round the collector asked this thread to stop in, and the
     * last round it acknowledged (stw.c). */
    _Atomic unsigned stop_asked, stop_acked;
    /* The last round in which the stop signal's handler found the thread
     * still running: written by the handler, read by the collector to learn
     * whether the thread needed the signal (a heuristic: relaxed). */
    _Atomic unsigned handler_round;
    /* Collector only (stw.c): stops left in which to signal at once, the
     * length of the last such run, whether signalled in this round and
     * when last. */
    unsigned signal_now_left, signal_now_run;
    bool stop_signalled;
    uint64_t signalled_ns;
    uintptr_t stop_sp;              /* stack pointer while stopped */
    uintptr_t collect_sp;           /* while this thread collects: see collector.c */

    /* Blocking regions: `blocking` is read by the collector (seq_cst
     * Dekker-style with the collector's `stopping` flag, see stw.c). */
    _Atomic int blocking;
    int blocking_depth;
    uintptr_t block_sp;
    uintptr_t block_regs[OS_NREGS];

    uintptr_t stack_lo, stack_hi;   /* hi: one past the top of the stack */
    unsigned long tid;              /* pthread_t */
    unsigned home;                  /* central.c: whose central lists it files in and takes from first */
    bool stopped_in_block;          /* collector: scanned from block_sp */
    bool in_finalizers;             /* finalize.c: running queued finalizers */

    struct thread_rec *next, *prev; /* registry, under the collector lock */
} thread_rec;

/* The calling thread's record, or NULL if it is not registered. */
extern INTERNAL __thread thread_rec *hgc__self;
/* The cache the allocation fast path uses (alloc_fast.h): &hgc__self->tc
 * while the thread is registered, else a cache with no free slot and no
 * bump region, on which the fast path falls through to the slow path --
 * so that the fast path needs no test for an unregistered thread.  Changed
 * together with hgc__self. */
extern INTERNAL __thread tcache *hgc__tcache;

void stw_stop_self(thread_rec *t); /* stw.c */

/* Abort if t runs in a stop round it acknowledged (stw.c).  Called after
 * every stop, and at every critical section in debug and ThreadSanitizer
 * builds (or with -DHGC_CHECK_RUNNING=1). */
void stw_check_running(const thread_rec *t);

static inline void crit_enter(thread_rec *t)
{
#if defined(HGC_DEBUG) || HGC_TSAN || (defined(HGC_CHECK_RUNNING) && HGC_CHECK_RUNNING)
    stw_check_running(t);
#endif
    t->in_crit++;
    atomic_signal_fence(memory_order_seq_cst);
}

static inline void crit_exit(thread_rec *t)
{
    atomic_signal_fence(memory_order_seq_cst);
    if (--t->in_crit == 0 && t->stop_pending) {
        t->stop_pending = 0;
        stw_stop_self(t);
    }
}

/* Registry (threads.c).  Walks and counts need the world lock. */
void threads_lock(void);   /* the world lock: never inside a critical section */
void threads_unlock(void);
thread_rec *threads_register(void);        /* idempotent */
void threads_unregister(void);             /* idempotent */
thread_rec *threads_first(void);
size_t threads_count(void);
void threads_init(void);

/* What the layers above do when a thread comes or goes and when the
 * process forks.  Registered at initialization, before any thread
 * registers; called in the order registered.
 *   register:   world lock held, before the thread's first allocation;
 *   release:    the thread leaves and must give back what it holds: on its
 *               own thread when it unregisters (world lock not held), and
 *               in a forked child for every thread but the forking one
 *               (world lock held);
 *   fork_prepare, fork_parent: before fork() takes the world lock and
 *               after the parent gives it back, on the forking thread;
 *   fork_child: in the child, world lock held, before the other threads'
 *               records are released. */
void threads_on_register(void (*fn)(thread_rec *t));
void threads_on_release(void (*fn)(thread_rec *t));
void threads_on_fork_prepare(void (*prepare)(void), void (*parent)(void));
void threads_on_fork_child(void (*fn)(void));
/* Totals of exited threads' counters plus live ones. */
void threads_counters(size_t *allocated, size_t *freed);

#endif
