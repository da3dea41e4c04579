/* collector.c -- the collection cycle and its statistics.  See
 * collector.h for the order of a cycle and why, pacing.h for when. */
#include <pthread.h>
#include <time.h>

#include "cycle/collector.h"
#include "alloc/alloc.h"
#include "base/options.h"
#include "base/trace.h"
#include "base/util.h"
#include "cycle/finalize.h"
#include "cycle/pacing.h"
#include "mark/gen.h"
#include "mark/mark.h"
#include "mark/verify.h"
#include "mutator/phase.h"
#include "mutator/stw.h"
#include "os/os.h"
#include "roots/roots.h"

static _Atomic int disabled;       /* hgc_disable() depth */
static long long verify_mode;      /* HGC_VERIFY */

void (*hgc__collect_event)(enum collect_event ev);
volatile int *hgc__dont_gc;

static inline void event(enum collect_event ev)
{
    if (hgc__collect_event)
        hgc__collect_event(ev);
}

static bool dont_gc(void)
{
    return atomic_load_explicit(&disabled, memory_order_relaxed) != 0 ||
           (hgc__dont_gc && *hgc__dont_gc);
}

/* Statistics, written under the world lock. */
static collector_stats stats;

static void on_slow_path(thread_rec *t);
static void concurrent_init(void);
static bool concurrent_on; /* HGC_CONCURRENT */

void collector_init(void)
{
    verify_mode = option_get(OPT_VERIFY);
    concurrent_init();
    pacing_init();
    long long markers = option_get(OPT_MARKERS);
    if (markers == 0) /* automatic: one per CPU */
        markers = os_ncpus();
    mark_init((size_t)option_get(OPT_MARK_STACK_LIMIT), (unsigned)markers,
              (unsigned)option_get(OPT_TEST_MARKER_DELAY));
    gen_init(concurrent_on);
    threads_on_fork_child(trace_after_fork_child);
    roots_add_source(finalize_each_root);
    alloc_set_hooks(&(alloc_hooks){.slow_path = on_slow_path, .claimed = pacing_note_alloc});
}

static bool in_flight(void);

bool collector_should_collect(void)
{
    /* While a concurrent mark runs, only to wait for its end (below). */
    if (in_flight())
        return pacing_over_goal() && !dont_gc();
    return pacing_due() && !dont_gc();
}

static void stress_tick(thread_rec *t)
{
    if (t->stress_left > 1) {
        t->stress_left--;
        return;
    }
    t->stress_left = hgc__gc_stress;
    collector_collect(GC_REASON_STRESS);
}

/* The most ranges one assist scans, about 0.2-0.5 ms of work: what it
 * owes beyond that waits for its thread's next slow path, so the program
 * sees short gaps while its allocation slows to what marking keeps up
 * with. */
#define ASSIST_MAX_RANGES 32768

static _Atomic uint64_t mark_cycle_no; /* concurrent marks started */
/* hgc_get_concurrent_stats: marks ended and their drains' time, assists,
 * waits past the goal. */
static _Atomic uint64_t cs_marks, cs_mark_ns, cs_assists, cs_assist_ns, cs_waits, cs_wait_ns;

void collector_get_concurrent_stats(collector_concurrent_stats *out)
{
    out->marks = atomic_load_explicit(&cs_marks, memory_order_relaxed);
    out->mark_ns = atomic_load_explicit(&cs_mark_ns, memory_order_relaxed);
    out->assists = atomic_load_explicit(&cs_assists, memory_order_relaxed);
    out->assist_ns = atomic_load_explicit(&cs_assist_ns, memory_order_relaxed);
    out->waits = atomic_load_explicit(&cs_waits, memory_order_relaxed);
    out->wait_ns = atomic_load_explicit(&cs_wait_ns, memory_order_relaxed);
}

/* One assist: mark up to `want` bytes (mark.h), counted. */
static size_t assist_slice(thread_rec *t, size_t want)
{
    uint64_t t0 = os_now_ns();
    size_t marked = mark_assist(t, want, ASSIST_MAX_RANGES);
    if (marked) {
        atomic_fetch_add_explicit(&cs_assists, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&cs_assist_ns, os_now_ns() - t0, memory_order_relaxed);
    }
    return marked;
}

/* A thread allocating while a concurrent mark runs pays for what it
 * allocated past the assist point (pacing.h) by marking, as Go's assists
 * do: its debt grows with its claims and shrinks by what it marks. */
static void assist(thread_rec *t)
{
    uint64_t cycle_no = atomic_load_explicit(&mark_cycle_no, memory_order_relaxed);
    size_t a = atomic_load_explicit(&t->alloc_bytes, memory_order_relaxed);
    if (t->assist_cycle != cycle_no) { /* its first assist of this mark */
        t->assist_cycle = cycle_no;
        t->assist_seen = a;
        t->assist_debt = 0;
    }
    size_t owed = pacing_assist_bytes(a - t->assist_seen);
    t->assist_seen = a;
    t->assist_debt = owed > SIZE_MAX - t->assist_debt ? SIZE_MAX : t->assist_debt + owed;
    if (t->assist_debt == 0)
        return;
    size_t marked = assist_slice(t, t->assist_debt);
    t->assist_debt = marked >= t->assist_debt || marked == 0 ? 0 : t->assist_debt - marked;
}

/* The allocator's slow_path hook (alloc.h). */
static void on_slow_path(thread_rec *t)
{
    if (unlikely(hgc__gc_stress))
        stress_tick(t);
    if (in_flight() && pacing_assist_due() && !dont_gc())
        assist(t);
    if (collector_should_collect())
        collector_collect(GC_REASON_ALLOC);
}

void collector_disable(void) { atomic_fetch_add(&disabled, 1); }

void collector_enable(void)
{
    int old = atomic_load(&disabled);
    while (old > 0 && !atomic_compare_exchange_weak(&disabled, &old, old - 1)) {
    }
}

void collector_set_boehm_divisor(unsigned divisor) { pacing_set_boehm_divisor(divisor); }
void collector_add_min_heap(size_t bytes) { pacing_add_min_heap(bytes); }

/* ------------------------------------------------------------ the cycle */

/* One collection, from its start to its end, in the phase functions below
 * (in the order they run).  Lives in collector_collect's frame. */
typedef struct cycle {
    enum gc_reason why;
    thread_rec *self;
    bool major;
    bool verify;       /* check the marks (HGC_VERIFY, hgc_verify()) */
    size_t live;       /* bytes found live */
    trace_times tt;
} cycle;

/* World running, world lock held: what must be done before the stop. */
static void cycle_prepare(cycle *c)
{
    event(COLLECT_START);
    c->tt.start = os_now_ns();
    alloc_finish_sweep(c->self);
    c->tt.swept = os_now_ns();
    roots_snapshot_segments();
    mark_start_helpers();
    pacing_count_allocating_threads();
    c->major = pacing_choose_major(c->why);
}

static void cycle_stop(cycle *c)
{
    c->tt.stop = os_now_ns();
    event(COLLECT_PRE_STOP_WORLD);
    stw_stop_world(c->self);
    c->tt.stopped = os_now_ns();
    event(COLLECT_POST_STOP_WORLD);
}

/* A minor collection starts from the old objects on written pages (mark.h:
 * phase 1); false when it must turn major instead, nothing marked yet. */
static bool mark_written_old(cycle *c)
{
    size_t old_bytes;
    enum gen_push r = gen_push_written(pacing_minor_limit(c->why), c->verify, false, &old_bytes);
    if (r != GEN_PUSH_OK) {
        if (r == GEN_PUSH_TOO_MUCH)
            pacing_minor_too_costly(old_bytes);
        return false;
    }
    mark_drain();
    mark_young_phase();
    return true;
}

/* Phase GC_MARK, world stopped: mark everything reachable. */
static void cycle_mark(cycle *c)
{
    phase_set(GC_MARK);
    event(COLLECT_MARK_START);
    mark_begin(!c->major);
    if (!c->major && !mark_written_old(c)) {
        /* Turning major costs only the scan of the written pages. */
        c->major = true;
        mark_begin(false);
    }
    if (c->major && hgc__sticky_marks)
        heap_clear_marks();
    mark_roots(c->self);
    /* Everything reachable is marked only after phase 3 (mark.h); what
     * finalization then marks becomes old. */
    if (!c->major)
        mark_promote_phase();
}

/* Phase GC_MARK_TERMINATION, world stopped: finalization marks what it
 * resurrects, then the marks are final (and checked, if asked). */
static void cycle_terminate(cycle *c)
{
    phase_set(GC_MARK_TERMINATION);
    finalize_after_mark();
    heap_marking_done();
    event(COLLECT_MARK_END);
    c->tt.marked = c->tt.verified = os_now_ns();
    if (c->verify) {
        if (verify_mode == 2)
            verify_selftest_unmark();
        verify_marks(c->self, !c->major); /* before anything reads or clears the marks */
        alloc_verify_lists();
        c->tt.verified = os_now_ns();
    }
}

/* Still GC_MARK_TERMINATION: pacing learns what marking found, pages are
 * protected for the next minor collection, and the sweep is set up. */
static void cycle_setup_sweep(cycle *c)
{
    size_t marked_old, marked_survivors;
    mark_totals(&marked_old, &marked_survivors);
    c->live = pacing_marked(c->major, marked_old, marked_survivors, mark_root_bytes());
    /* Protection pays only if the next collection is minor. */
    gen_protect(!pacing_next_major());
    alloc_sweep_large();
    alloc_prepare_sweep(c->major);
    if (c->verify)
        alloc_verify_lists();
    /* Cached spans skip this sweep (alloc.h); their marks are cleared here. */
    for (thread_rec *t = threads_first(); t; t = t->next) {
        if (!hgc__sticky_marks)
            alloc_clear_cache_marks(&t->tc);
        else if (!c->major)
            alloc_clear_cache_dead_marks(&t->tc, mark_dead_survivor());
    }
}

static void count_pause(uint64_t ns)
{
    stats.pause_total_ns += ns;
    if (ns > stats.pause_max_ns)
        stats.pause_max_ns = ns;
}

/* Everything a running mutator reads about the cycle is written before the
 * restart, whose release store orders it. */
static void cycle_restart(cycle *c)
{
    stats.collections++;
    if (!c->major)
        stats.minor_collections++;
    stats.live_bytes = c->live;
    pacing_restart();
    phase_set(GC_OFF);
    event(COLLECT_PRE_START_WORLD);
    stw_start_world();
    c->tt.restarted = os_now_ns();
    event(COLLECT_POST_START_WORLD);
    count_pause(c->tt.restarted - c->tt.stop);
}

/* World running, world lock held. */
static void cycle_finish(cycle *c)
{
    /* Keep the heap floor (plus an eighth): a heap that small fills it
     * again before the next collection, so releasing those pages would
     * only fault them back in.  A bigger heap releases what stayed free
     * for two cycles, as its peak RSS may not grow with kept runs that do
     * not fit what it asks for next. */
    size_t keep = pacing_heap_floor();
    pageheap_scavenge(stats.collections, 2, keep + keep / 8);
    if (trace_on()) {
        static const char *const reasons[] = {"allocation", "explicit", "verify", "stress",
                                              "out of memory", "minor"};
        size_t heap, mapped;
        pageheap_bytes(&heap, &mapped);
        c->tt.end = os_now_ns();
        trace_cycle(&c->tt, reasons[c->why], c->major, c->live, heap, mark_stack_bytes());
    }
    event(COLLECT_END);
}

/* ------------------------------------------------ mostly-concurrent marking */

/* A major collection started by allocation marks mostly while the program
 * runs (HGC_CONCURRENT=1, where the kernel reports written pages):
 *   0. world running, world lock held, the previous sweep finished (and
 *      the sweeps other threads had begun: alloc_wait_sweeps): protect
 *      every span with pointers (gen_protect_for_mark) and clear the marks
 *      (heap_clear_marks_running) -- a write after the protection counts
 *      as written, and frees only write zeros into marks meanwhile;
 *   1. the first stop, on the thread that triggered it: scan the roots,
 *      pushing what they reach, and restart;
 *   2. the collector thread (below) drains that work with at most one
 *      marker fewer than the CPUs, the world running, joined for slices by
 *      allocating threads past the assist point (assist(): Go's assists,
 *      work in proportion to allocation).  Mark functions are deferred
 *      (mark.h); objects the program allocates meanwhile are unmarked;
 *   3. the final stop, on the collector thread: every marked object on a
 *      page written since step 0 is scanned again (the kernel protects
 *      each such page again as it reports it, so the end of the cycle
 *      need not protect those spans anew), every marked object of a kind
 *      with a mark function has it run, every root is scanned again (the
 *      Boehm layer's procedure included), and marking drains to the end;
 *      then the cycle ends as a stopped one does.
 * Why nothing reachable stays unmarked: at the final stop, with the world
 * stopped, take a reachable object and a path to it from a root.  Follow
 * the path from its last marked object that was scanned with the contents
 * it has now -- one exists, as the roots are scanned now.  The next object
 * on the path is marked by that scan.  A marked object was scanned either
 * in this stop (its current contents) or during step 2, after step 0's
 * protection; if it was written after that scan, its page was written
 * since step 0 and it is scanned again in this stop.  So every object on
 * the path is marked and scanned with its current contents.
 * The program's explicit frees may race with a marker on a mark byte (both
 * store atomically): a free slot may be left marked, as a stale
 * conservative pointer can leave one in a stopped collection too; it is
 * retained until the next major collection at worst.
 * Minor collections, explicit ones and those of the verifier stay stopped;
 * none starts while a concurrent mark runs: hgc_collect() waits for its
 * end and then collects, and an allocating thread that passes the heap
 * goal before it ends marks until its end (help_mark_end).  Pacing starts a
 * concurrent mark early and replaces minors that would mark much by
 * concurrent majors (pacing.c). */

static uint64_t hold_ns;         /* HGC_TEST_CONCURRENT_HOLD */
static unsigned concurrent_markers;
/* bg_lock guards changes of `marking` and the hand-over of `bg_cycle`;
 * `marking` is also read without it.  The world lock guards `bg_running`
 * and `fork_pending`. */
static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bg_cv = PTHREAD_COND_INITIALIZER;
static _Atomic bool marking;     /* a concurrent mark is in flight */
static bool bg_running;          /* the collector thread exists */
static bool fork_pending;        /* start no concurrent mark: a fork is near */
static cycle bg_cycle;

static bool in_flight(void) { return atomic_load_explicit(&marking, memory_order_acquire); }

bool collector_marking(void) { return in_flight(); }

bool collector_enable_concurrent(void)
{
    threads_lock();
    if (!concurrent_on && gen_concurrent_possible()) {
        concurrent_on = true;
        pacing_set_concurrent(true);
    }
    bool on = concurrent_on;
    threads_unlock();
    return on;
}

bool collector_concurrent_on(void)
{
    threads_lock();
    bool on = concurrent_on && gen_concurrent_possible();
    threads_unlock();
    return on;
}

static void concurrent_fork_prepare(void);
static void concurrent_fork_parent(void);
static void concurrent_fork_child(void);

static void concurrent_init(void)
{
    concurrent_on = option_get(OPT_CONCURRENT) != 0;
    hold_ns = (uint64_t)option_get(OPT_TEST_CONCURRENT_HOLD) * 1000000;
    long long cpus = os_ncpus();
    concurrent_markers = cpus > 1 ? (unsigned)(cpus - 1) : 1;
    pacing_set_concurrent(concurrent_on);
    threads_on_fork_prepare(concurrent_fork_prepare, concurrent_fork_parent);
    threads_on_fork_child(concurrent_fork_child);
}

/* Wait until no concurrent mark is in flight, in a blocking region (the
 * final stop must not wait for this thread). */
static void wait_for_mark_end(thread_rec *self)
{
    bool wrap = self && self->blocking_depth == 0;
    if (wrap)
        stw_blocking_enter(self);
    pthread_mutex_lock(&bg_lock);
    while (in_flight())
        pthread_cond_wait(&bg_cv, &bg_lock);
    pthread_mutex_unlock(&bg_lock);
    if (wrap)
        stw_blocking_leave(self);
}

/* Past the heap goal: mark until the mark ends rather than only wait for
 * it.  When no work can be had (the collector thread has not opened its
 * round yet, or the round is over and the final stop comes), wait a
 * millisecond at a time, in a blocking region. */
static void help_mark_end(thread_rec *self)
{
    while (in_flight()) {
        if (assist_slice(self, SIZE_MAX) != 0)
            continue;
        bool wrap = self->blocking_depth == 0;
        if (wrap)
            stw_blocking_enter(self);
        pthread_mutex_lock(&bg_lock);
        if (in_flight()) {
            struct timespec ts;
            os_realtime_after(&ts, 1000000);
            pthread_cond_timedwait(&bg_cv, &bg_lock, &ts);
        }
        pthread_mutex_unlock(&bg_lock);
        if (wrap)
            stw_blocking_leave(self);
    }
}

static void concurrent_fork_prepare(void)
{
    threads_lock();
    fork_pending = true;
    threads_unlock();
    wait_for_mark_end(hgc__self);
}

static void concurrent_fork_parent(void)
{
    threads_lock();
    fork_pending = false;
    threads_unlock();
}

static void concurrent_fork_child(void)
{
    /* No mark was in flight (concurrent_fork_prepare); the collector
     * thread did not survive.  World lock held. */
    fork_pending = false;
    pthread_mutex_init(&bg_lock, NULL);
    pthread_cond_init(&bg_cv, NULL);
    bg_running = false;
}

static void hold(void)
{
    if (unlikely(hold_ns))
        os_sleep_ns(hold_ns);
}

static void finish_cycle(cycle *c);

/* Steps 2 and 3 (above), on the collector thread. */
static void cycle_mark_concurrently(cycle *c)
{
    tools_quiet_begin();
    mark_drain_concurrent(concurrent_markers, hold_ns);
    c->tt.drained = os_now_ns();
    atomic_fetch_add_explicit(&cs_marks, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&cs_mark_ns, c->tt.drained - c->tt.first_restarted,
                              memory_order_relaxed);
    hold();
    /* As in cycle_prepare: libraries loaded during the mark are roots. */
    roots_snapshot_segments();
    threads_lock();
    cycle_stop(c);
    mark_final_begin();
    size_t written_bytes;
    if (gen_push_written(SIZE_MAX, false, true, &written_bytes) != GEN_PUSH_OK)
        mark_rescan_marked(); /* the kernel stopped telling: every marked object */
    mark_drain();
    mark_roots(NULL);
    finish_cycle(c);
    threads_unlock();
    tools_quiet_end();
}

static void *collector_thread(void *arg)
{
    (void)arg;
    os_thread_background();
    pthread_mutex_lock(&bg_lock);
    for (;;) {
        while (!in_flight())
            pthread_cond_wait(&bg_cv, &bg_lock);
        pthread_mutex_unlock(&bg_lock);
        cycle_mark_concurrently(&bg_cycle);
        pthread_mutex_lock(&bg_lock);
        atomic_store_explicit(&marking, false, memory_order_release);
        pthread_cond_broadcast(&bg_cv);
    }
    return NULL;
}

/* World running, world lock held: whether the collector thread runs (it
 * is started here, never with the world stopped). */
static bool collector_thread_ready(void)
{
    if (bg_running)
        return true;
    int rc = os_start_internal_thread(collector_thread, NULL);
    if (rc != 0) {
        hgc__warn("cannot start the collector thread (error %d); marking with the world stopped",
                  rc);
        concurrent_on = false;
        return false;
    }
    bg_running = true;
    return true;
}

/* Step 1 (above), world lock held, the previous sweep finished.  The
 * collector thread takes the cycle over. */
static void cycle_start_concurrent(cycle *c)
{
    /* Before the stop: a write between the protection and the stop only
     * counts as written (gen.h), and protecting costs milliseconds. */
    gen_protect_for_mark();
    alloc_wait_sweeps();
    if (hgc__sticky_marks)
        heap_clear_marks_running();
    c->tt.first_stop = os_now_ns();
    event(COLLECT_PRE_STOP_WORLD);
    stw_stop_world(c->self);
    event(COLLECT_POST_STOP_WORLD);
    phase_set(GC_MARK);
    event(COLLECT_MARK_START);
    mark_begin(false);
    mark_concurrent_begin();
    mark_roots_push(c->self);
    event(COLLECT_PRE_START_WORLD);
    stw_start_world();
    c->tt.first_restarted = os_now_ns();
    event(COLLECT_POST_START_WORLD);
    count_pause(c->tt.first_restarted - c->tt.first_stop);
    /* The collector thread scans no stack of its own. */
    c->self = NULL;
    atomic_fetch_add_explicit(&mark_cycle_no, 1, memory_order_relaxed);
    pthread_mutex_lock(&bg_lock);
    bg_cycle = *c;
    atomic_store_explicit(&marking, true, memory_order_release);
    pthread_cond_broadcast(&bg_cv);
    pthread_mutex_unlock(&bg_lock);
}

/* Whether this cycle marks concurrently: world lock held, after
 * cycle_prepare chose major or minor. */
static bool wants_concurrent(const cycle *c)
{
    return concurrent_on && c->major && !fork_pending &&
           (c->why == GC_REASON_ALLOC || c->why == GC_REASON_STRESS) &&
           gen_concurrent_possible() && collector_thread_ready();
}

/* Phases 4 to 7, world stopped at first (and the marks complete). */
static void finish_cycle(cycle *c)
{
    cycle_terminate(c);
    cycle_setup_sweep(c);
    cycle_restart(c);
    cycle_finish(c);
}

/* Never inlined: its frame is where the collecting thread's own stack scan
 * starts.  The callee-saved registers are spilled into that frame, and
 * everything the collection itself calls lies below collect_sp, unscanned:
 * the marker and the verifier see exactly the same words, and neither sees
 * the stale heap addresses that sweeping and marking leave down there. */
NOINLINE int collector_collect(enum gc_reason why)
{
    uintptr_t regs[OS_NREGS];
    os_spill_registers(regs);
    thread_rec *self = threads_register();
    self->collect_sp = os_stack_pointer();
    for (;;) {
        threads_lock();
        if (dont_gc() || (why == GC_REASON_ALLOC && !collector_should_collect())) {
            /* Disabled, or another thread collected while we waited. */
            threads_unlock();
            return -1;
        }
        if (!in_flight())
            break;
        /* A concurrent mark runs: allocation waits for its end only past
         * the heap goal (collector_should_collect), stress not at all; any
         * other collection starts after it. */
        threads_unlock();
        uint64_t t0 = os_now_ns();
        if (why == GC_REASON_ALLOC)
            help_mark_end(self);
        else if (why != GC_REASON_STRESS)
            wait_for_mark_end(self);
        if (why == GC_REASON_ALLOC) {
            atomic_fetch_add_explicit(&cs_waits, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&cs_wait_ns, os_now_ns() - t0, memory_order_relaxed);
        }
        if (why == GC_REASON_ALLOC || why == GC_REASON_STRESS)
            return -1;
    }
    tools_quiet_begin(); /* marking reads uninitialised stack words */
    cycle c = {.why = why, .self = self, .verify = verify_mode || why == GC_REASON_VERIFY};
    cycle_prepare(&c);
    if (wants_concurrent(&c)) {
        cycle_start_concurrent(&c);
    } else {
        cycle_stop(&c);
        cycle_mark(&c);
        finish_cycle(&c);
    }
    tools_quiet_end();
    threads_unlock();
    /* Keep the spill alive until the scans are done. */
    __asm__ volatile("" : : "r"(regs) : "memory");
    return c.major ? 0 : 1;
}

void collector_get_stats(collector_stats *out)
{
    *out = stats;
}
