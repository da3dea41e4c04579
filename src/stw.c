/* stw.c -- stop-the-world by signals, blocking regions.  See stw.h. */
#include <errno.h>
#include <signal.h>

#include "os.h"
#include "stw.h"
#include "util.h"

static int stop_signal;
/* 1 from the start of a stop until the restart; read by the handler (to
 * ignore stray signals) and by hgc_blocking_leave (Dekker with
 * thread_rec.blocking: both sides use seq_cst). */
static _Atomic int stopping;
/* Bumped at every restart; stopped threads sleep on it. */
static _Atomic unsigned world_epoch;
/* Bumped at every stop.  A thread is asked to stop in a round
 * (thread_rec.stop_asked) and acknowledges that round (stop_acked), so a
 * signal that arrives late -- after its round, or twice in it -- is
 * recognized and ignored instead of being counted for another stop. */
static _Atomic unsigned stop_round;
/* HGC_TEST_STOP_DELAY: how long a thread whose stop signal reaches it in a
 * blocking region sleeps between deciding to stop and acknowledging --
 * the window of the race that stw_stop_self closes, widened for
 * test_stop_race.  Zero (no sleep) unless a test sets it. */
static uint64_t stop_delay_ns;

/* The round t is asked to stop in now and has not acknowledged, or 0. */
static unsigned stop_wanted(const thread_rec *t)
{
    unsigned round = atomic_load_explicit(&stop_round, memory_order_acquire);
    bool wanted = atomic_load_explicit(&stopping, memory_order_acquire) &&
                  atomic_load_explicit(&t->stop_asked, memory_order_relaxed) == round &&
                  atomic_load_explicit(&t->stop_acked, memory_order_relaxed) != round;
    return wanted ? round : 0;
}

/* Never inlined: the frame holds the register spill, and stop_sp is taken
 * below it.
 *
 * The restart count is read before the decision to stop, not after.  The
 * collector does not wait for a thread that is in a blocking region -- and
 * a signal sent just before the thread entered one still runs this
 * handler in there.  Read after the decision, the count could already be
 * the restarted world's, and the thread would sleep until the next
 * restart: forever, if it holds the next ticket of the world lock
 * (test_stop_race).  Read before, it is this round's (a restart stores
 * stopping = 0 before it bumps the count, so a thread that sees the new
 * count sees stopping clear and does not stop). */
NOINLINE void stw_stop_self(thread_rec *t)
{
    unsigned epoch = atomic_load_explicit(&world_epoch, memory_order_acquire);
    unsigned round = stop_wanted(t);
    if (!round)
        return; /* a late signal, or a stop already acknowledged */
    if (stop_delay_ns && atomic_load_explicit(&t->blocking, memory_order_relaxed))
        os_sleep_ns(stop_delay_ns);
    uintptr_t regs[OS_NREGS];
    os_spill_registers(regs);
    t->stop_sp = os_stack_pointer();
    /* Releases stop_sp and everything this thread wrote. */
    atomic_store_explicit(&t->stop_acked, round, memory_order_release);
    os_sem_post(); /* wakes the collector */
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
    if (t && stop_wanted(t)) {
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

void stw_init(int sig, unsigned delay_us)
{
    stop_signal = sig;
    stop_delay_ns = (uint64_t)delay_us * 1000;
    os_sem_init();
    if (!os_install_signal(sig, stop_handler))
        hgc__fatal("cannot install the handler of signal %d", sig);
}

/* Wait until every thread asked to stop in this round has acknowledged it
 * or has entered a blocking region since.  The second case: a thread that
 * was signalled just before it set `blocking` and that cannot take the
 * signal where it waits now -- ThreadSanitizer delivers signals only at
 * intercepted calls, and not at all while it runs the atfork handlers
 * (fork_prepare waiting for the world lock).  A blocking thread is as good
 * as stopped: it touches no heap object until it leaves, and leaving waits
 * for the restart; it is scanned from the state it saved on entry.  Acks
 * only wake this loop (a late one may post after it ended): it counts
 * threads, not posts.  It polls for ACK_SPIN_NS before it sleeps: most
 * stops complete within that, and waking a sleeping collector costs about
 * as much again (tens of microseconds on a virtual machine, whose idle CPU
 * must be woken by the host). */
#define ACK_SPIN_NS 100000
static void wait_for_acks(unsigned round)
{
    uint64_t spin_until = os_now_ns() + ACK_SPIN_NS;
    for (;;) {
        bool waiting = false;
        for (thread_rec *t = threads_first(); t; t = t->next) {
            if (t->stopped_in_block || atomic_load(&t->stop_asked) != round ||
                atomic_load_explicit(&t->stop_acked, memory_order_acquire) == round)
                continue;
            if (atomic_load(&t->blocking))
                t->stopped_in_block = true;
            else
                waiting = true;
        }
        if (!waiting)
            break;
        if (os_now_ns() < spin_until)
            os_yield(); /* to a thread that must run to ack, if it waits here */
        else
            os_sem_wait_ns(1000000); /* an ack wakes it sooner */
    }
    os_sem_drain(); /* posts of acks counted by a recheck instead */
}

void stw_stop_world(thread_rec *self)
{
    unsigned round = atomic_fetch_add(&stop_round, 1) + 1;
    atomic_store(&stopping, 1);
    for (thread_rec *t = threads_first(); t; t = t->next) {
        t->stopped_in_block = false;
        if (t == self)
            continue;
        if (atomic_load(&t->blocking)) {
            t->stopped_in_block = true;
            continue;
        }
        atomic_store(&t->stop_asked, round);
        if (!os_signal_thread(t->tid, stop_signal))
            hgc__fatal("cannot stop thread %lu: it exited without unregistering", t->tid);
    }
    wait_for_acks(round);
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
