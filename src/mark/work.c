/*
 * work.c -- work distribution: marker 0 and the helper threads drain
 * together in rounds, sharing work through a pool of packets; overflow
 * recovery after a round.  The scanning itself is scan.c's.
 *
 * Markers.  Marker 0 is the collecting thread; markers 1..n-1 are helper
 * threads started before the first collection that needs them (never with
 * the world stopped: a stopped thread may hold a lock pthread_create
 * takes).  Helpers are internal: not registered, never stopped, all signals
 * blocked, and they touch only mark stacks, mark bytes and heap memory
 * (which a concurrent mark reads while the program changes it: see
 * cycle/collector.c).  A round may admit only the first N markers
 * (mark_drain_concurrent): the rest sit it out.
 *
 * Sharing.  When some marker is idle and a busy one holds
 * two or more entries, the busy one moves the OLDEST half of them (at most
 * a packet; the bottom of its stack: on trees, the biggest unexplored
 * subtrees) into a packet on the shared pool.
 *
 * Rounds.  A parallel drain is a round: marker 0 wakes every helper and
 * goes on draining; a helper joins the round when it wakes, if the round
 * is still on.  The round ends when every marker that joined is idle and
 * the pool is empty, decided under the pool lock; a helper that wakes
 * after that sits the round out.  Work lives only in the stacks of
 * markers that joined and in the pool, so the ones that did not join
 * cannot hold any.  Nor does marker 0 wait for the helpers to leave: at
 * the end each one is idle in refill(), its work done and published under
 * the pool lock, and what it does when it wakes touches only variables
 * under that lock -- a wait tagged with an older round just returns.
 * Waiting for every helper to wake, at the start and at the end, made
 * each round as long as the slowest of 15 idle CPUs' wake-ups: on a
 * 16-CPU virtual machine, 16 markers marked binary-trees slower than one.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "base/tools.h"
#include "base/util.h"
#include "heap/heap.h"
#include "mark/mark.h"
#include "mark/marker.h"
#include "mutator/threads.h"
#include "os/os.h"

/* Ranges marker 0 scans alone before it wakes the helpers: a small heap is
 * marked before they would have woken up (about 100 us of work). */
#define SOLO_BUDGET 16384

typedef struct packet {
    struct packet *next;
    size_t n;
    mark_entry e[PACKET_ENTRIES];
} packet;

static bool share_ok;         /* limit leaves room for packets */
/* Pool and rounds, all under pool_lock except `hgc__mark_hungry`. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;   /* work or end */
static pthread_cond_t round_cv = PTHREAD_COND_INITIALIZER;  /* new round */
static packet *pool_full, *pool_spare;
static unsigned pool_count;       /* packets on pool_full */
static unsigned nidle;            /* markers waiting for work */
/* Idle markers that no packet on the pool is left for (nidle - pool_count,
 * or 0), for busy markers' lock-free peeks.  A busy marker takes the pool
 * lock only when it is nonzero: with `nidle` there instead, 15 busy or
 * waking markers took the lock after every range while one packet waited
 * for a marker still waking up, and marking a tree on 16 CPUs took twice
 * as long as on one. */
_Atomic unsigned hgc__mark_hungry;
static bool round_done;
static bool assists_welcome; /* a concurrent round runs: mutators may join */
static uint64_t round_no;
static unsigned participants;     /* marker 0 and the helpers that joined */
/* Markers allowed into the current round: helpers numbered from this on
 * sit it out (a concurrent mark leaves CPUs to the program). */
static unsigned round_markers = MAX_MARKERS;
/* Markers of this round not idle in refill(), counted apart from nidle as
 * a check of the ending: a round that ends with one still working would
 * let marker 0 go on while objects are being marked. */
static unsigned working;
unsigned hgc__nmarkers = 1;     /* marker 0 plus helpers started */
static unsigned wanted_markers = 1;
/* HGC_TEST_MARKER_DELAY: how long a helper dawdles, the pool lock released,
 * each time it wakes up, so that tests see rounds end and new ones begin
 * while helpers are still waking (Rounds, above). */
static uint64_t helper_delay_ns;

static void mark_after_fork_child(void);

void mark_init(size_t stack_limit_entries, unsigned nmarkers_wanted, unsigned delay_us)
{
    helper_delay_ns = (uint64_t)delay_us * 1000;
    size_t limit = stack_limit_entries ? stack_limit_entries : SIZE_MAX;
    marker_set_limit(limit);
    share_ok = limit >= 4 * PACKET_ENTRIES;
    if (nmarkers_wanted < 1)
        nmarkers_wanted = 1;
    wanted_markers = nmarkers_wanted > MAX_MARKERS ? MAX_MARKERS : nmarkers_wanted;
    threads_on_fork_child(mark_after_fork_child);
}

/* Under pool_lock, after nidle or pool_count changed. */
static void update_hungry(void)
{
    atomic_store_explicit(&hgc__mark_hungry, nidle > pool_count ? nidle - pool_count : 0,
                          memory_order_relaxed);
}

/* Move the oldest half of m's entries (at most a packet) to the pool, if
 * the pool is short of work for the idle markers.  m holds at least 2. */
NOINLINE void work_share(marker *m)
{
    pthread_mutex_lock(&pool_lock);
    if (pool_count < nidle) {
        size_t n = (m->top - m->bot) / 2;
        if (n > PACKET_ENTRIES)
            n = PACKET_ENTRIES;
        packet *p = pool_spare;
        if (p)
            pool_spare = p->next;
        else
            p = meta_alloc(sizeof *p); /* recycled forever after */
        memcpy(p->e, m->stack + m->bot, n * sizeof *p->e);
        p->n = n;
        m->bot += n;
        p->next = pool_full;
        pool_full = p;
        pool_count++;
        update_hungry();
        pthread_cond_signal(&pool_cv);
    }
    pthread_mutex_unlock(&pool_lock);
}

/* pthread_cond_wait on the pool lock, then HGC_TEST_MARKER_DELAY's dawdle
 * for helpers. */
static void pool_wait(pthread_cond_t *cv, const marker *m)
{
    pthread_cond_wait(cv, &pool_lock);
    if (unlikely(helper_delay_ns) && m != &hgc__markers[0]) {
        pthread_mutex_unlock(&pool_lock);
        os_sleep_ns(helper_delay_ns);
        pthread_mutex_lock(&pool_lock);
    }
}

/* Under pool_lock, a packet on the pool and m idle: load the packet into
 * m's (empty) stack; m is working again. */
static void take_packet(marker *m)
{
    packet *p = pool_full;
    pool_full = p->next;
    pool_count--;
    nidle--;
    working++;
    update_hungry();
    hgc_assert(p->n <= PACKET_ENTRIES && p->n <= m->cap,
               "marker %d: packet of %zu entries for a stack of %zu", (int)(m - hgc__markers),
               p->n, m->cap);
    memcpy(m->stack, p->e, p->n * sizeof *p->e); /* cap >= 4 packets */
    m->bot = 0;
    m->top = p->n;
    p->next = pool_spare;
    pool_spare = p;
}

/* Wait for a packet and load it into m's (empty) stack; false when the
 * round is over: every marker idle and the pool empty. */
static bool refill(marker *m)
{
    pthread_mutex_lock(&pool_lock);
    uint64_t round = round_no;
    nidle++;
    working--;
    update_hungry();
    for (;;) {
        if (round_no != round) {
            /* Woken after the round ended and the next began: nidle and
             * the pool are the new round's, not to be touched.  The wake
             * may have been meant for one of its markers: pass it on. */
            if (pool_full)
                pthread_cond_signal(&pool_cv);
            pthread_mutex_unlock(&pool_lock);
            return false;
        }
        if (pool_full) {
            take_packet(m);
            pthread_mutex_unlock(&pool_lock);
            return true;
        }
        if (round_done || nidle == participants) {
            if (!round_done) {
                if (working != 0)
                    hgc__fatal("marking round ended with %u markers still working", working);
                round_done = true;
                pthread_cond_broadcast(&pool_cv);
            }
            pthread_mutex_unlock(&pool_lock);
            return false;
        }
        pool_wait(&pool_cv, m);
    }
}

static void work(marker *m)
{
    do
        marker_drain(m, true, SIZE_MAX);
    while (refill(m));
}

static void *helper_main(void *arg)
{
    marker *m = arg;
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        while (round_no == m->round_seen)
            pool_wait(&round_cv, m);
        m->round_seen = round_no;
        if (round_done || (unsigned)(m - hgc__markers) >= round_markers)
            continue; /* woke too late (marker 0 may be past the round), or not wanted */
        participants++;
        working++;
        m->bot = m->top = 0;
        pthread_mutex_unlock(&pool_lock);
        tools_quiet_begin(); /* marking reads what it reads (base/tools.h) */
        work(m);
        tools_quiet_end();
        pthread_mutex_lock(&pool_lock);
    }
    return NULL;
}

void mark_start_helpers(void)
{
    if (hgc__nmarkers >= wanted_markers)
        return;
    while (hgc__nmarkers < wanted_markers) {
        marker *m = &hgc__markers[hgc__nmarkers];
        if (!m->stack && !marker_grow(m))
            break;
        /* Rounds so far are not this helper's; it counts from the next. */
        pthread_mutex_lock(&pool_lock);
        m->round_seen = round_no;
        pthread_mutex_unlock(&pool_lock);
        int rc = os_start_internal_thread(helper_main, m);
        if (rc != 0) {
            hgc__warn("cannot start a marker thread (error %d); marking with %u", rc, hgc__nmarkers);
            wanted_markers = hgc__nmarkers;
            break;
        }
        pthread_mutex_lock(&pool_lock);
        hgc__nmarkers++;
        pthread_mutex_unlock(&pool_lock);
    }
}

static void give_back(marker *m);

/* Drain marker 0's stack with the first `markers` markers, and with
 * assists if `assists` (a concurrent mark).  hold_ns (tests): marker 0
 * first puts its work on the pool and sleeps that long, so that only
 * assists mark meanwhile. */
static void parallel_drain(unsigned markers, bool assists, uint64_t hold_ns)
{
    pthread_mutex_lock(&pool_lock);
    round_markers = markers;
    nidle = 0;
    atomic_store_explicit(&hgc__mark_hungry, 0, memory_order_relaxed);
    round_done = false;
    participants = 1;
    working = 1;
    round_no++;
    assists_welcome = assists;
    if (hold_ns)
        give_back(&hgc__markers[0]);
    pthread_cond_broadcast(&round_cv);
    pthread_mutex_unlock(&pool_lock);

    if (hold_ns)
        os_sleep_ns(hold_ns);
    work(&hgc__markers[0]);
    pthread_mutex_lock(&pool_lock);
    assists_welcome = false;
    pthread_mutex_unlock(&pool_lock);
}

void mark_drain(void)
{
    marker *m0 = &hgc__markers[0];
    if (hgc__nmarkers == 1 || !share_ok)
        marker_drain(m0, false, SIZE_MAX);
    else if (!marker_drain(m0, false, SOLO_BUDGET))
        parallel_drain(MAX_MARKERS, false, 0);
    while (atomic_load_explicit(&hgc__mark_overflowed, memory_order_relaxed)) {
        atomic_store_explicit(&hgc__mark_overflowed, false, memory_order_relaxed);
        pageheap_each_span(mark_rescan_span, NULL);
    }
}

void mark_drain_concurrent(unsigned markers, uint64_t hold_ns)
{
    marker *m0 = &hgc__markers[0];
    if (!share_ok) {
        os_sleep_ns(hold_ns);
        marker_drain(m0, false, SIZE_MAX);
        return;
    }
    /* A round even for marker 0 alone, so that assists can join it. */
    parallel_drain(markers, true, hold_ns);
}

/* ------------------------------------------------------------------ assists
 *
 * A mutator that allocates faster than a concurrent mark progresses joins
 * its round for a slice (collector.c decides when and how much): it takes
 * a marker of its own (hgc__markers[MAX_MARKERS ..]), counts as a
 * participant, waits a little for a packet as an idle marker does, drains
 * until it marked what it owes or scanned its most ranges, and leaves --
 * putting what its stack still holds back on the pool as packets.  A participant that leaves idle may be the last one that kept
 * the round from ending: it then ends the round itself.  The whole slice
 * runs in a critical section, so the thread is never stopped holding the
 * pool lock or a part of the round's work; the final stop waits for the
 * slice's end (the wait for a packet is bounded by ASSIST_WAIT_NS). */
#define ASSIST_WAIT_NS 200000
#define ASSIST_CHUNK 512 /* ranges drained between checks of the debt */

/* Under pool_lock: a participant left the round idle-handed; end the
 * round if every remaining one is idle and no packet waits. */
static void leave_idle(void)
{
    participants--;
    if (!round_done && participants > 0 && nidle == participants && !pool_full) {
        if (working != 0)
            hgc__fatal("marking round ended with %u markers still working", working);
        round_done = true;
        pthread_cond_broadcast(&pool_cv);
    }
    update_hungry();
}

/* Under pool_lock: move m's entries to the pool, a packet at a time. */
static void give_back(marker *m)
{
    while (m->top > m->bot) {
        size_t n = m->top - m->bot;
        if (n > PACKET_ENTRIES)
            n = PACKET_ENTRIES;
        packet *p = pool_spare;
        if (p)
            pool_spare = p->next;
        else
            p = meta_alloc(sizeof *p);
        memcpy(p->e, m->stack + m->top - n, n * sizeof *p->e);
        p->n = n;
        m->top -= n;
        p->next = pool_full;
        pool_full = p;
        pool_count++;
    }
    m->bot = m->top = 0;
    pthread_cond_broadcast(&pool_cv);
}

/* Under pool_lock, m idle: wait up to the deadline for a packet of this
 * round and load it (true); false when none came or the round ended. */
static bool assist_refill(marker *m, uint64_t round, uint64_t deadline_ns)
{
    nidle++;
    update_hungry();
    for (;;) {
        if (round_no != round) /* its round ended and the next began: the */
            return false;      /* counts are the new round's, not to be touched */
        if (pool_full) {
            take_packet(m);
            return true;
        }
        uint64_t now = os_now_ns();
        if (round_done || now >= deadline_ns)
            break;
        struct timespec ts;
        os_realtime_after(&ts, deadline_ns - now);
        pthread_cond_timedwait(&pool_cv, &pool_lock, &ts);
    }
    nidle--;
    leave_idle();
    return false;
}

/* Assists mark with hgc__markers[MAX_MARKERS ..] (marker.h). */
static bool assist_taken[MAX_ASSISTS];
static _Atomic size_t assist_live_bytes;

size_t mark_assist(thread_rec *t, size_t want_bytes, size_t max_ranges)
{
    crit_enter(t);
    pthread_mutex_lock(&pool_lock);
    marker *m = NULL;
    for (unsigned i = 0; assists_welcome && !round_done && i < MAX_ASSISTS; i++) {
        if (assist_taken[i])
            continue;
        m = &hgc__markers[MAX_MARKERS + i];
        if (m->stack || marker_grow(m))
            assist_taken[i] = true;
        else
            m = NULL;
        break;
    }
    if (!m) {
        pthread_mutex_unlock(&pool_lock);
        crit_exit(t);
        return 0;
    }
    uint64_t round = round_no;
    participants++;
    uint64_t deadline = os_now_ns() + ASSIST_WAIT_NS;
    size_t ranges = 0;
    while (assist_refill(m, round, deadline)) {
        pthread_mutex_unlock(&pool_lock);
        bool emptied;
        do {
            emptied = marker_drain(m, true, ASSIST_CHUNK);
            ranges += ASSIST_CHUNK;
        } while (!emptied && m->live_bytes < want_bytes && ranges < max_ranges);
        pthread_mutex_lock(&pool_lock);
        working--;
        if (!emptied) { /* paid, or out of time: the rest goes back */
            give_back(m);
            participants--;
            update_hungry();
            break;
        }
        if (m->live_bytes >= want_bytes || ranges >= max_ranges) {
            leave_idle();
            break;
        }
        deadline = os_now_ns() + ASSIST_WAIT_NS; /* idle again, as refill would be */
    }
    size_t marked = m->live_bytes;
    atomic_fetch_add_explicit(&assist_live_bytes, marked, memory_order_relaxed);
    m->live_bytes = 0;
    assist_taken[m - &hgc__markers[MAX_MARKERS]] = false;
    pthread_mutex_unlock(&pool_lock);
    crit_exit(t);
    return marked;
}

size_t mark_take_assist_bytes(void)
{
    return atomic_exchange_explicit(&assist_live_bytes, 0, memory_order_relaxed);
}

/* In the child of fork(): the helpers are gone. */
static void mark_after_fork_child(void)
{
    /* The helpers did not survive the fork; they were idle, waiting for a
     * round, but may have left the pool's lock and conditions mid-use. */
    pthread_mutex_init(&pool_lock, NULL);
    pthread_cond_init(&pool_cv, NULL);
    pthread_cond_init(&round_cv, NULL);
    hgc__nmarkers = 1;
    pool_full = NULL;
    pool_count = 0;
    /* The next collection starts new helpers -- except under
     * ThreadSanitizer, which cannot start threads in the child of a
     * multi-threaded process; there the child marks alone. */
    if (HGC_TSAN)
        wanted_markers = 1;
}
