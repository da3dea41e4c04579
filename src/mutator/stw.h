/*
 * stw.h -- stopping and restarting the world: safe points, with signals as
 * the backstop.
 *
 * Handshake: the collector starts a stop round, sets `stopping`, then asks
 * every registered thread that is not in a blocking region to stop (its
 * stop_asked = the round).  A thread stops at its next safe point
 * (stw_poll, in the allocation slow paths), or when the stop signal
 * reaches it: after a grace period, or at once to a thread that needed it
 * lately (stw.c).  A thread that stops outside a critical
 * section records its stack pointer (its registers are in the signal frame
 * or in stw_stop_self's spill, on its stack, above that pointer),
 * acknowledges the round (stop_acked), posts the semaphore that wakes the
 * collector and waits until the world epoch changes.  Inside a critical
 * section the handler only sets stop_pending, and the thread stops at
 * crit_exit.  A signal for another round, or one for a round already
 * acknowledged, does nothing.  The collector waits until each asked thread
 * has acknowledged the round or entered a blocking region.  The handler
 * calls only async-signal-safe functions (sem_post, clock_gettime,
 * sched_yield, futex; nanosleep for HGC_TEST_STOP_DELAY, pthread_kill for
 * HGC_TEST_STOP_NESTED) and touches only its own thread record; it ignores
 * a signal that arrives while the thread is already stopping, which then
 * takes the stop asked for (stw.c).  When no thread has acknowledged for
 * 10 ms, those still running are signalled again.
 */
#ifndef HGC_STW_H
#define HGC_STW_H

#include "mutator/threads.h"
#include "base/util.h"

/* Nonzero from the start of a stop until the restart (stw.c). */
extern INTERNAL _Atomic int hgc__stopping;

/* A safe point: stop here if the world is being stopped.  Only where the
 * thread is outside every critical section, its cache consistent -- the
 * places a stop signal could land as well. */
static inline void stw_poll(thread_rec *t)
{
    if (unlikely(atomic_load_explicit(&hgc__stopping, memory_order_relaxed)) && !t->in_crit)
        stw_stop_self(t);
}

/* timeout_s: HGC_STOP_TIMEOUT, how long a stop waits for a thread before
 * it aborts naming it (0: forever).  The test hooks (stw.c): delay_us
 * HGC_TEST_STOP_DELAY, nested HGC_TEST_STOP_NESTED, lose
 * HGC_TEST_LOSE_SIGNAL. */
void stw_init(int stop_signal, unsigned timeout_s, unsigned delay_us, bool nested, bool lose);
int stw_signal(void); /* the stop signal in use */
void stw_stop_world(thread_rec *self);
void stw_start_world(void);
void stw_blocking_enter(thread_rec *t);
void stw_blocking_leave(thread_rec *t);
/* A waiter may spin for up to STW_SPIN_NS if stw_spin_begin() says so;
 * else it sleeps at once.  In its wait loop, stw_spin_again(&spin, until)
 * spins one step (a sched_yield: stw.c) and returns true while spin is set
 * and until is ahead;
 * past it, it ends the spin (stw_spin_end, spin = false) and returns
 * false.  A waiter whose wait ends while spin is still set calls
 * stw_spin_end itself.  Async-signal-safe. */
#define STW_SPIN_NS 50000
bool stw_spin_begin(void);
void stw_spin_end(void);
bool stw_spin_again(bool *spin, uint64_t until);
/* After fork, in the child. */
void stw_after_fork_child(void);

#endif
