/* stw.c -- stop-the-world by signals, blocking regions.  See stw.h. */
#include <errno.h>
#include <signal.h>

#include "stw.h"
#include "util.h"

static int stop_signal;
/* 1 from the start of a stop until the restart; read by the handler (to
 * ignore stray signals) and by hgc_blocking_leave (Dekker with
 * thread_rec.blocking: both sides use seq_cst). */
static _Atomic int stopping;
/* Bumped at every restart; stopped threads sleep on it. */
static _Atomic unsigned world_epoch;

/* Never inlined: the frame holds the register spill, and stop_sp is taken
 * below it. */
NOINLINE void stw_stop_self(thread_rec *t)
{
    uintptr_t regs[OS_NREGS];
    os_spill_registers(regs);
    unsigned epoch = atomic_load_explicit(&world_epoch, memory_order_acquire);
    t->stop_sp = os_stack_pointer();
    os_sem_post(); /* releases stop_sp and everything this thread wrote */
    while (atomic_load_explicit(&world_epoch, memory_order_acquire) == epoch)
        os_wait_on((const unsigned *)&world_epoch, epoch);
    /* Keep the spill alive until the collector is done with it. */
    __asm__ volatile("" : : "r"(regs) : "memory");
}

static void stop_handler(int sig)
{
    (void)sig;
    int saved_errno = errno;
    thread_rec *t = hgc__self;
    if (t && atomic_load_explicit(&stopping, memory_order_acquire)) {
        if (t->in_crit)
            t->stop_pending = 1;
        else
            stw_stop_self(t);
    }
    errno = saved_errno;
}

int stw_signal(void)
{
    return stop_signal;
}

void stw_init(int sig)
{
    stop_signal = sig;
    os_sem_init();
    if (!os_install_signal(sig, stop_handler))
        hgc__fatal("cannot install the handler of signal %d", sig);
}

void stw_stop_world(thread_rec *self)
{
    atomic_store(&stopping, 1);
    unsigned sent = 0;
    for (thread_rec *t = threads_first(); t; t = t->next) {
        t->stopped_in_block = false;
        if (t == self)
            continue;
        if (atomic_load(&t->blocking)) {
            t->stopped_in_block = true;
            continue;
        }
        if (!os_signal_thread(t->tid, stop_signal))
            hgc__fatal("cannot stop thread %lu: it exited without unregistering", t->tid);
        sent++;
    }
    for (unsigned i = 0; i < sent; i++)
        os_sem_wait();
}

void stw_start_world(void)
{
    atomic_store(&stopping, 0);
    atomic_fetch_add_explicit(&world_epoch, 1, memory_order_release);
    os_wake_all((const unsigned *)&world_epoch);
}

/* Callers have checked blocking_depth; only the outermost level acts. */
NOINLINE void stw_blocking_enter(thread_rec *t)
{
    os_spill_registers(t->block_regs);
    t->block_sp = os_stack_pointer();
    atomic_store(&t->blocking, 1);
}

void stw_blocking_leave(thread_rec *t)
{
    for (;;) {
        unsigned epoch = atomic_load_explicit(&world_epoch, memory_order_acquire);
        atomic_store(&t->blocking, 0);
        if (!atomic_load(&stopping))
            return;
        /* A collection is stopping the world and may have counted this
         * thread as stopped: stay out until it restarts the world. */
        atomic_store(&t->blocking, 1);
        while (atomic_load_explicit(&world_epoch, memory_order_acquire) == epoch) {
            /* A stop signal sent before `blocking` was set may be pending
             * here, and the collector waits for its ack.  The kernel runs
             * the handler inside the futex wait; ThreadSanitizer delivers
             * signals only at intercepted calls, which a raw futex wait is
             * not, so under it poll with nanosleep instead. */
            if (HGC_TSAN)
                os_sleep_ns(50000);
            else
                os_wait_on((const unsigned *)&world_epoch, epoch);
        }
    }
}

void stw_after_fork_child(void)
{
    os_sem_init();
    atomic_store(&stopping, 0);
}
