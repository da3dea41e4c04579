/* stw.c -- stop-the-world by signals, blocking regions.  See stw.h. */
#include <errno.h>
#include <signal.h>

#include "os/os.h"
#include "mutator/stw.h"
#include "base/util.h"

static int stop_signal;
/* 1 from the start of a stop until the restart; read by the handler (to
 * ignore stray signals), by stw_poll and by hgc_blocking_leave (Dekker
 * with thread_rec.blocking: both sides use seq_cst). */
_Atomic int hgc__stopping;
/* Bumped at every restart; stopped threads sleep on it. */
static _Atomic unsigned world_epoch;
/* Bumped at every stop.  A thread is asked to stop in a round
 * (thread_rec.stop_asked) and acknowledges that round (stop_acked), so a
 * signal that arrives late -- after its round, or twice in it -- is
 * recognized and ignored instead of being counted for another stop. */
static _Atomic unsigned stop_round;
/* HGC_STOP_TIMEOUT: how long a stop waits for a thread (0: forever). */
static uint64_t stop_timeout_ns;
/* HGC_TEST_STOP_DELAY: how long a thread whose stop signal reaches it in a
 * blocking region sleeps between deciding to stop and acknowledging --
 * the window of the race that stw_stop_self closes, widened for
 * test_stop_race.  Zero (no sleep) unless a test sets it. */
static uint64_t stop_delay_ns;
/* HGC_TEST_STOP_NESTED: test_stop_race's "nested" case (see nest_stop). */
static bool test_stop_nested;
/* HGC_TEST_LOSE_SIGNAL: test_stop_race's "lost" case (see RESIGNAL_NS). */
static bool test_lose_signal;

/* Threads asleep on world_epoch: the restart makes the wake-up call only
 * when there are some.  Dekker with world_epoch (seq_cst on both sides): a
 * sleeper counts itself, then looks at the epoch; the restart bumps the
 * epoch, then looks at the count -- so either the restart sees the
 * sleeper, or the sleeper sees the new epoch and does not sleep. */
static _Atomic unsigned restart_sleepers;

/* Spinning waiters.  A thread waiting for the restart (or for the world
 * lock, threads.c) spins for up to STW_SPIN_NS before it sleeps: most
 * pauses are shorter, and a sleeper costs the waker a system call that
 * kicks its CPU and is itself slow to resume -- on a virtual machine tens
 * of microseconds each, as the host must wake the idle CPU.  But a spinner
 * holds a CPU the collector and its markers may need, so at most one
 * fewer than there are CPUs spin at once (500 stopped threads spinning on
 * two CPUs would stretch every pause by milliseconds), and nobody spins
 * for the restart when the last collection held the world stopped longer
 * than the spin.  That is measured from the moment every thread had
 * stopped, not from the stop request: a stop that had to signal a thread
 * takes tens of microseconds by itself, and counted in, it made the next
 * stop's waiters sleep, the restart wake them -- a system call that on a
 * virtual machine may put the woken thread on the collector's CPU and
 * hold the collector up for a millisecond -- and the woken thread late
 * for its next safe point, so that it needed the signal again: a cycle
 * that cost some runs of churn 20 ms. */
static unsigned max_spinners;
static _Atomic unsigned spinners;
static _Atomic uint64_t last_held_ns; /* of the last stop, for the next one's waiters */
static uint64_t stopped_at_ns;

bool stw_spin_begin(void)
{
    if (atomic_fetch_add_explicit(&spinners, 1, memory_order_relaxed) < max_spinners)
        return true;
    atomic_fetch_sub_explicit(&spinners, 1, memory_order_relaxed);
    return false;
}

void stw_spin_end(void)
{
    atomic_fetch_sub_explicit(&spinners, 1, memory_order_relaxed);
}

/* A spin step yields the CPU rather than pausing on it: the thread that
 * will end the wait (the collector, the lock holder) may be queued on this
 * very CPU -- on a virtual machine the scheduler often wakes a thread on
 * its waker's CPU when the other one is idle in the host -- and a
 * spinner that kept it from running stretched the pause by the rest of
 * its spin.  With no one else to run, the yield returns at once. */
bool stw_spin_again(bool *spin, uint64_t until)
{
    if (!*spin)
        return false;
    if (os_now_ns() < until) {
        os_yield();
        return true;
    }
    stw_spin_end();
    *spin = false;
    return false;
}

/* Async-signal-safe (clock_gettime, sched_yield, futex). */
static void wait_for_restart(unsigned epoch)
{
    bool spin = atomic_load_explicit(&last_held_ns, memory_order_relaxed) < STW_SPIN_NS &&
                stw_spin_begin();
    uint64_t spin_until = spin ? os_now_ns() + STW_SPIN_NS : 0;
    while (atomic_load_explicit(&world_epoch, memory_order_acquire) == epoch) {
        if (stw_spin_again(&spin, spin_until))
            continue;
        atomic_fetch_add(&restart_sleepers, 1);
        if (atomic_load(&world_epoch) == epoch)
            os_wait_on((const unsigned *)&world_epoch, epoch);
        atomic_fetch_sub(&restart_sleepers, 1);
    }
    if (spin)
        stw_spin_end();
}

/* The round t is asked to stop in now and has not acknowledged, or 0. */
static unsigned stop_wanted(const thread_rec *t)
{
    unsigned round = atomic_load_explicit(&stop_round, memory_order_acquire);
    bool wanted = atomic_load_explicit(&hgc__stopping, memory_order_acquire) &&
                  atomic_load_explicit(&t->stop_asked, memory_order_relaxed) == round &&
                  atomic_load_explicit(&t->stop_acked, memory_order_relaxed) != round;
    return wanted ? round : 0;
}

/* HGC_TEST_STOP_NESTED: a stop signal lands between stop_once's reading
 * of the restart count and its decision -- the window that stw_stop_self
 * guards (test_stop_race, case "nested").  The thread signals itself; the
 * handler runs here, at once, unless stop_once runs in the handler
 * already (then the signal waits for it to return, and finds the stop
 * taken).  Should the handler take a stop in here (the guard gone), the
 * thread then waits for the next stop to ask it, so that the outer
 * stop_once finds that stop's round with the count read before both --
 * and must fail stw_stop_self's check rather than pass by luck.  Signal
 * safe: pthread_kill, clock_gettime, sched_yield. */
static NOINLINE void nest_stop(thread_rec *t)
{
    unsigned acked = atomic_load_explicit(&t->stop_acked, memory_order_relaxed);
    if (!os_signal_thread(t->tid, stop_signal))
        hgc__fatal("HGC_TEST_STOP_NESTED: cannot signal thread %lu", t->tid);
    if (atomic_load_explicit(&t->stop_acked, memory_order_relaxed) == acked)
        return; /* the handler took no stop */
    uint64_t until = os_now_ns() + 1000000000;
    while (atomic_load(&t->stop_asked) == atomic_load(&t->stop_acked) && os_now_ns() < until)
        os_yield();
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
static NOINLINE void stop_once(thread_rec *t)
{
    unsigned epoch = atomic_load_explicit(&world_epoch, memory_order_acquire);
    if (unlikely(test_stop_nested))
        nest_stop(t);
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
    wait_for_restart(epoch);
    /* Keep the spill alive until the collector is done with it. */
    __asm__ volatile("" : : "r"(regs) : "memory");
}

/* Exact only in this order.  The thread's own acknowledgement first: the
 * stop signal's handler may run between any two of these loads, and if it
 * ran after the round was read it would acknowledge that very round and
 * return (the world restarted) -- an alarm for a thread that did nothing
 * wrong (seen in test_xthread_free).  Read first, the acknowledgement is of
 * a round X before any stop the handler takes here.  Then `stopping`, then
 * the round: a stop bumps the round before it sets `stopping`, so a round
 * read after seeing `stopping` set is that stop's or a later one's.  Equal
 * to X, it means round X, which this thread acknowledged, has not been
 * restarted yet -- and the thread runs. */
void stw_check_running(const thread_rec *t)
{
    unsigned acked = atomic_load_explicit(&t->stop_acked, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    if (!atomic_load(&hgc__stopping))
        return;
    unsigned round = atomic_load(&stop_round);
    if (acked == round)
        hgc__fatal("thread %lu runs in stop round %u, which it acknowledged", t->tid, round);
}

/* One stop at a time per thread.  A stop signal whose handler runs while
 * the thread is already in here (it reached a safe point as the signal
 * came) is ignored, and the stop it asked for is taken after: handled
 * nested, between stop_once's read of the restart count and its decision,
 * it acknowledged the round and waited for its restart, and the outer call
 * then found the next round asking, acknowledged that one too and, with
 * the count it had read before both, did not wait -- it ran on in a
 * stopped world (test_fork under ThreadSanitizer, once signals were sent
 * at once more often). */
NOINLINE void stw_stop_self(thread_rec *t)
{
    do {
        t->in_stop_self = 1;
        atomic_signal_fence(memory_order_seq_cst);
        stop_once(t);
        atomic_signal_fence(memory_order_seq_cst);
        t->in_stop_self = 0;
        atomic_signal_fence(memory_order_seq_cst);
    } while (stop_wanted(t));
    /* A stop that did not wait for its restart would show here: the
     * collector, acknowledged, is marking. */
    stw_check_running(t);
}

static void stop_handler(int sig)
{
    (void)sig;
    int saved_errno = errno;
    thread_rec *t = hgc__self;
    unsigned round = t && !t->in_stop_self ? stop_wanted(t) : 0;
    if (round) {
        atomic_store_explicit(&t->handler_round, round, memory_order_relaxed);
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

void stw_init(int sig, unsigned timeout_s, unsigned delay_us, bool nested, bool lose)
{
    stop_signal = sig;
    stop_timeout_ns = (uint64_t)timeout_s * 1000000000;
    stop_delay_ns = (uint64_t)delay_us * 1000;
    test_stop_nested = nested;
    test_lose_signal = lose;
    max_spinners = os_ncpus() - 1;
    os_sem_init();
    if (!os_install_signal(sig, stop_handler))
        hgc__fatal("cannot install the handler of signal %d", sig);
}

/* Signals are the backstop of a stop, not its first resort.  Sending one
 * costs the collector tens of microseconds on a virtual machine (the
 * kick of the target's CPU traps to the host), while a thread that
 * allocates reaches a safe point (stw_poll) or the world lock within a few
 * microseconds -- and a collection started by allocation usually finds
 * the other allocating threads just behind it.  So a thread gets
 * STOP_GRACE_NS to stop by itself before it is signalled.  One that
 * needed the signal anyway (a loop that does not allocate, a thread asleep
 * in a system call) is signalled at once in its next stops, for a run of
 * 1, 2, 4 ... up to SIGNAL_RUN_MAX stops, with a grace period again after
 * each run: a compute-bound thread costs a grace period once per 64 stops,
 * and an allocating thread that missed its grace once (the host preempted
 * it) is back to safe points after one stop.  Signalled for good instead,
 * a churning thread's stops stayed at 60 us instead of 1, longer than
 * waiters spin (wait_for_restart), and each restart then had to wake it:
 * 20 ms lost in some runs of churn. */
#define SIGNAL_RUN_MAX 64
#define STOP_GRACE_NS 20000

/* After t's stop: by_handler says whether it took the signal to stop. */
static void plan_signals(thread_rec *t, bool by_handler)
{
    if (!by_handler) {
        t->signal_now_left = t->signal_now_run = 0;
    } else if (t->signal_now_left > 0) {
        t->signal_now_left--;
    } else {
        /* It had its grace period, and needed the signal. */
        unsigned run = t->signal_now_run ? 2 * t->signal_now_run : 1;
        t->signal_now_run = run < SIGNAL_RUN_MAX ? run : SIGNAL_RUN_MAX;
        t->signal_now_left = t->signal_now_run;
    }
}

static void send_stop_signal(thread_rec *t)
{
    bool first = !t->stop_signalled;
    t->stop_signalled = true;
    t->signalled_ns = os_now_ns();
    if (unlikely(test_lose_signal) && first)
        return; /* as if lost */
    if (!os_signal_thread(t->tid, stop_signal))
        hgc__fatal("cannot stop thread %lu: it exited without unregistering", t->tid);
}

/* Wait until every thread asked to stop in this round has acknowledged it
 * or has entered a blocking region since, signalling those still running
 * when their grace ends.  The second case: a thread that
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
/* When no thread has acknowledged for RESIGNAL_NS, those still running are
 * signalled again (each at most once per RESIGNAL_NS).  ThreadSanitizer
 * can lose a signal: test_xthread_free hung once in about 50 runs with its
 * main thread blocked in pthread_join, signalled for the first stop of the
 * run and its handler never run -- the collector waiting for it, the
 * threads it joined waiting for the collector.  A second signal is
 * harmless: the handler ignores one for a round the thread has
 * acknowledged or while it is stopping, and inside a critical section it
 * only sets stop_pending again.  Only a stall calls for it, though: with
 * 500 threads on two CPUs a stop may take over 10 ms while acks still come
 * in (test_threads_many: pauses up to 12 ms), and a second round of
 * signals to every thread not yet through would only add work.
 * HGC_TEST_LOSE_SIGNAL drops the first signal of each round to each
 * thread (test_stop_race, case lost). */
#define RESIGNAL_NS 10000000
/* A thread that a stop has waited for longer than HGC_STOP_TIMEOUT: it
 * blocks the stop signal and neither allocates nor enters a blocking
 * region, or it waits where the handler cannot run.  Under
 * ThreadSanitizer, which delivers a signal only at an intercepted call,
 * that is a thread blocked in pthread_mutex_lock on a mutex that a stopped
 * thread holds: the collection could never end.  Saying which thread it
 * is beats hanging. */
static NOINLINE void stop_timed_out(unsigned round, uint64_t waited_ns)
{
    for (thread_rec *t = threads_first(); t; t = t->next) {
        if (t->stopped_in_block || atomic_load(&t->stop_asked) != round ||
            atomic_load_explicit(&t->stop_acked, memory_order_acquire) == round)
            continue;
        hgc__fatal("thread %#lx did not stop for a collection in %llu ms (signal %d %s): it "
                   "blocks the signal and neither allocates nor blocks in hgc_blocking_enter, "
                   "or waits where the signal's handler cannot run; HGC_STOP_TIMEOUT",
                   t->tid, (unsigned long long)(waited_ns / 1000000), stop_signal,
                   t->stop_signalled ? "sent" : "not sent");
    }
}

static void wait_for_acks(unsigned round)
{
    uint64_t start = os_now_ns(), progress_at = start;
    size_t last_pending = SIZE_MAX;
    for (;;) {
        uint64_t now = os_now_ns();
        bool grace_over = now - start >= STOP_GRACE_NS;
        bool stalled = now - progress_at >= RESIGNAL_NS;
        size_t pending = 0;
        for (thread_rec *t = threads_first(); t; t = t->next) {
            if (t->stopped_in_block || atomic_load(&t->stop_asked) != round ||
                atomic_load_explicit(&t->stop_acked, memory_order_acquire) == round)
                continue;
            if (atomic_load(&t->blocking)) {
                t->stopped_in_block = true;
                continue;
            }
            pending++;
            if (grace_over && (!t->stop_signalled ||
                               (stalled && now - t->signalled_ns >= RESIGNAL_NS)))
                send_stop_signal(t);
        }
        if (pending == 0)
            break;
        if (stop_timeout_ns && now - start >= stop_timeout_ns)
            stop_timed_out(round, now - start);
        if (pending < last_pending)
            progress_at = now;
        last_pending = pending;
        if (now - start < ACK_SPIN_NS)
            os_yield(); /* to a thread that must run to ack, if it waits here */
        else
            os_sem_wait_ns(1000000); /* an ack wakes it sooner */
    }
    os_sem_drain(); /* posts of acks counted by a recheck instead */
}

void stw_stop_world(thread_rec *self)
{
    unsigned round = atomic_fetch_add(&stop_round, 1) + 1;
    atomic_store(&hgc__stopping, 1);
    for (thread_rec *t = threads_first(); t; t = t->next) {
        t->stopped_in_block = false;
        t->stop_signalled = false;
        if (t == self)
            continue;
        if (atomic_load(&t->blocking)) {
            t->stopped_in_block = true;
            continue;
        }
        atomic_store(&t->stop_asked, round);
        if (t->signal_now_left > 0)
            send_stop_signal(t);
    }
    wait_for_acks(round);
    stopped_at_ns = os_now_ns();
    for (thread_rec *t = threads_first(); t; t = t->next)
        if (t != self && atomic_load_explicit(&t->stop_asked, memory_order_relaxed) == round)
            plan_signals(t, atomic_load_explicit(&t->handler_round, memory_order_relaxed) == round);
}

void stw_start_world(void)
{
    atomic_store_explicit(&last_held_ns, os_now_ns() - stopped_at_ns, memory_order_relaxed);
    atomic_store(&hgc__stopping, 0);
    atomic_fetch_add(&world_epoch, 1);
    if (atomic_load(&restart_sleepers))
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
        if (!atomic_load(&hgc__stopping))
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
                wait_for_restart(epoch);
        }
    }
}

void stw_after_fork_child(void)
{
    os_sem_init();
    atomic_store(&hgc__stopping, 0);
    /* Counted by threads that do not exist here. */
    atomic_store(&spinners, 0);
    atomic_store(&restart_sleepers, 0);
}
