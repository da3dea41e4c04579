/*
 * stw.h -- stopping and restarting the world with signals.
 *
 * Handshake: the collector starts a stop round, sets `stopping`, then asks
 * every registered thread that is not in a blocking region to stop (its
 * stop_asked = the round) and sends it the stop signal.  A thread that
 * receives it outside a critical section records its stack pointer (its
 * registers are in the signal frame, on its stack, above that pointer),
 * acknowledges the round (stop_acked), posts the semaphore that wakes the
 * collector and sleeps until the world epoch changes.  Inside a critical
 * section it only sets stop_pending and stops at crit_exit.  A signal for
 * another round, or a second one in the same round, does nothing.  The
 * collector waits until each asked thread has acknowledged the round or
 * entered a blocking region.  The handler calls only async-signal-safe
 * functions (sem_post, futex; nanosleep for HGC_TEST_STOP_DELAY) and
 * touches only its own thread record.
 */
#ifndef HGC_STW_H
#define HGC_STW_H

#include "threads.h"

/* delay_us: HGC_TEST_STOP_DELAY (stw.c). */
void stw_init(int stop_signal, unsigned delay_us);
int stw_signal(void); /* the stop signal in use */
void stw_stop_world(thread_rec *self);
void stw_start_world(void);
void stw_blocking_enter(thread_rec *t);
void stw_blocking_leave(thread_rec *t);
/* After fork, in the child. */
void stw_after_fork_child(void);

#endif
