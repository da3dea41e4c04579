/* collector.c -- the collection cycle and its statistics.  See
 * collector.h for the order of a cycle and why, pacing.h for when. */
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

void collector_init(void)
{
    verify_mode = option_get(OPT_VERIFY);
    pacing_init();
    long long markers = option_get(OPT_MARKERS);
    if (markers == 0) /* automatic: one per CPU */
        markers = os_ncpus();
    mark_init((size_t)option_get(OPT_MARK_STACK_LIMIT), (unsigned)markers,
              (unsigned)option_get(OPT_TEST_MARKER_DELAY));
    gen_init();
    threads_on_fork_child(trace_after_fork_child);
    roots_add_source(finalize_each_root);
    alloc_set_hooks(&(alloc_hooks){.slow_path = on_slow_path, .claimed = pacing_note_alloc});
}

bool collector_should_collect(void) { return pacing_due() && !dont_gc(); }

static void stress_tick(thread_rec *t)
{
    if (t->stress_left > 1) {
        t->stress_left--;
        return;
    }
    t->stress_left = hgc__gc_stress;
    collector_collect(GC_REASON_STRESS);
}

/* The allocator's slow_path hook (alloc.h). */
static void on_slow_path(thread_rec *t)
{
    if (unlikely(hgc__gc_stress))
        stress_tick(t);
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
    enum gen_push r = gen_push_written(pacing_minor_limit(c->why), c->verify, &old_bytes);
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
    pacing_count_allocating_threads();
    c->major = pacing_choose_major(c->why);
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
    uint64_t pause = c->tt.restarted - c->tt.stop;
    stats.pause_total_ns += pause;
    if (pause > stats.pause_max_ns)
        stats.pause_max_ns = pause;
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
    threads_lock();
    if (dont_gc() || (why == GC_REASON_ALLOC && !collector_should_collect())) {
        /* Disabled, or another thread collected while we waited. */
        threads_unlock();
        return -1;
    }
    tools_quiet_begin(); /* marking reads uninitialised stack words */
    cycle c = {.why = why, .self = self, .verify = verify_mode || why == GC_REASON_VERIFY};
    cycle_prepare(&c);
    cycle_stop(&c);
    cycle_mark(&c);
    cycle_terminate(&c);
    cycle_setup_sweep(&c);
    cycle_restart(&c);
    cycle_finish(&c);
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
