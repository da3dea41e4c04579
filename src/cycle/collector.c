/* collector.c -- the collection cycle, pacing and statistics.  See
 * collector.h for the order of a cycle and why. */
#include "cycle/collector.h"
#include "cycle/finalize.h"
#include "alloc/alloc.h"
#include "mark/gen.h"
#include "mark/mark.h"
#include "base/options.h"
#include "os/os.h"
#include "roots/roots.h"
#include "mutator/stw.h"
#include "base/util.h"
#include "base/trace.h"
#include "mark/verify.h"

/* Pacing state read by running mutators: relaxed atomics, changed only
 * under the world lock. */
static _Atomic size_t alloc_since; /* bytes claimed since the last cycle */
static _Atomic size_t trigger;     /* collect when alloc_since reaches it */
static _Atomic int disabled;       /* hgc_disable() depth */
static long long gogc;             /* percent, -1 = automatic collection off */
static long long verify_mode;      /* HGC_VERIFY */
static size_t min_heap;
static size_t ncpus;

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

/* Generations (gen.h), under the world lock: live bytes after the last
 * major collection; bytes of old objects since (major_live plus what minor
 * collections promoted, some of it dead by now); bytes of the last
 * collection's survivors; whether the next collection must be major; and
 * the backoff after a minor collection that did not pay (majors to run
 * before the next minor, and the length of the next backoff). */
static size_t major_live, old_live, survivor_live;
static bool next_major = true;
static unsigned minor_backoff, backoff_len = 2;
static bool backoff_for_writes; /* what the last failed minor found too much of */

static void on_slow_path(thread_rec *t);
static void note_alloc(thread_rec *t, size_t bytes);

void collector_init(void)
{
    gogc = option_get(OPT_GOGC);
    verify_mode = option_get(OPT_VERIFY);
    min_heap = (size_t)option_get(OPT_MIN_HEAP);
    ncpus = os_ncpus();
    atomic_store(&trigger, gogc < 0 ? SIZE_MAX : min_heap);
    long long markers = option_get(OPT_MARKERS);
    if (markers == 0) /* automatic: one per CPU */
        markers = os_ncpus();
    mark_init((size_t)option_get(OPT_MARK_STACK_LIMIT), (unsigned)markers,
              (unsigned)option_get(OPT_TEST_MARKER_DELAY));
    gen_init();
    threads_on_fork_child(trace_after_fork_child);
    roots_add_source(finalize_each_root);
    alloc_set_hooks(&(alloc_hooks){.slow_path = on_slow_path, .claimed = note_alloc});
}

bool collector_should_collect(void)
{
    return atomic_load_explicit(&alloc_since, memory_order_relaxed) >=
               atomic_load_explicit(&trigger, memory_order_relaxed) &&
           !dont_gc();
}

/* Claims are published to the shared counter in batches, so that threads
 * claiming spans do not bounce its cache line: at most NOTE_BATCH bytes,
 * or 1/16 of the trigger, wait per thread (a collection may start that
 * much late; bytes still waiting at a collection count toward the next,
 * and those of a thread that exits are dropped: pacing is an estimate). */
#define NOTE_BATCH ((size_t)256 << 10)

static void note_alloc(thread_rec *t, size_t bytes)
{
    size_t pending = t->claim_pending + bytes;
    if (pending >= NOTE_BATCH ||
        pending * 16 >= atomic_load_explicit(&trigger, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&alloc_since, pending, memory_order_relaxed);
        pending = 0;
    }
    t->claim_pending = pending;
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

static void clear_cache_marks_all(void)
{
    for (thread_rec *t = threads_first(); t; t = t->next)
        alloc_clear_cache_marks(&t->tc);
}

static void clear_cache_dead_marks_all(uint8_t dead)
{
    for (thread_rec *t = threads_first(); t; t = t->next)
        alloc_clear_cache_dead_marks(&t->tc, dead);
}

static size_t next_trigger(void);

void collector_set_gogc(long long percent)
{
    threads_lock();
    gogc = percent;
    atomic_store_explicit(&trigger, next_trigger(), memory_order_relaxed);
    threads_unlock();
}

void collector_add_min_heap(size_t bytes)
{
    threads_lock();
    min_heap = bytes > SIZE_MAX - min_heap ? SIZE_MAX : min_heap + bytes;
    atomic_store_explicit(&trigger, next_trigger(), memory_order_relaxed);
    threads_unlock();
}

/* Threads that claimed memory between the last two collections, as
 * counted by the last one (under the world lock). */
static size_t allocating_threads = 1;

/* World stopped: count the threads whose alloc_bytes moved since the last
 * collection (span claims, and slots an owner freed for reuse).  A thread
 * parked in pthread_join, or waiting for work, does not allocate: counting
 * it would give one allocating thread the floor of two, and two the
 * collections of one each (each collection stops both). */
static void count_allocating_threads(void)
{
    size_t n = 0;
    for (thread_rec *t = threads_first(); t; t = t->next) {
        size_t a = atomic_load_explicit(&t->alloc_bytes, memory_order_relaxed);
        if (a != t->alloc_at_collect)
            n++;
        t->alloc_at_collect = a;
    }
    allocating_threads = n;
}

/* The heap floor: HGC_MIN_HEAP per thread that allocates (at most one per
 * CPU: no more can run at once), so that threads allocating in parallel
 * do not collect more often per allocation than one alone -- each
 * collection stops them all.  World lock held. */
static size_t heap_floor(void)
{
    size_t par = allocating_threads;
    if (par > ncpus)
        par = ncpus;
    if (par < 1)
        par = 1;
    return min_heap > SIZE_MAX / par ? SIZE_MAX : min_heap * par;
}

/* The bytes a heap whose last major collection found `live` bytes may
 * allocate before the next major one. */
static size_t headroom(size_t live)
{
    size_t floor = heap_floor();
    if (gogc < 0) /* no automatic collection: a goal for judging minors */
        return live > floor ? live : floor;
    size_t budget = (size_t)((double)live * (double)gogc / 100.0);
    return budget > floor ? budget : floor;
}

/* Allocation until the next collection, and whether it is major.  With
 * generations, the heap may grow to major_live + headroom(major_live) as
 * without: minor collections run whenever the allocation since the last
 * one fills what is left of that goal, until what they promoted (old_live
 * - major_live: old objects, some of them dead by now) has used half the
 * headroom, or while backing off; then the next is major -- or, if more,
 * the headroom of what is live now.  Survivors do not shorten the
 * allocation (ARCHITECTURE.md, Pacing): counting them would bring the next
 * minor early enough to find the same short-lived structure live again and
 * promote it. */
static size_t next_trigger(void)
{
    size_t room = headroom(major_live);
    size_t promoted = old_live > major_live ? old_live - major_live : 0;
    next_major = !gen_minor_possible() || minor_backoff > 0 || promoted > room / 2;
    if (gogc < 0)
        return SIZE_MAX;
    size_t left = room > promoted ? room - promoted : 0;
    /* A minor collection's interval also grows with what is live now
     * (old objects and survivors), as a heap without generations would:
     * a stale major_live must not shrink it to the floor. */
    size_t now = headroom(old_live + survivor_live);
    if (!next_major && now > left)
        left = now;
    size_t floor = heap_floor();
    return left > floor ? left : floor;
}

/* After a minor collection found more than half a major collection's work
 * in old objects on written pages (it turns major then) or promoted that
 * much, the program writes its old objects too widely, or keeps too much
 * of what it allocates, for minors to pay: the next collections are major
 * -- 2 (the one that turned major included), then 4, up to 64 while trials
 * keep failing.  Majors during a backoff leave pages unprotected, which
 * spares the program the faults. */
static void judge_minor(size_t old_bytes, size_t promoted)
{
    if (old_bytes + promoted > major_live / 2) {
        backoff_for_writes = old_bytes > promoted;
        minor_backoff = backoff_len;
        if (backoff_len < 64)
            backoff_len *= 2;
    } else {
        backoff_len = 2;
    }
}

/* Minor unless something asks for major: no write tracking, an explicit,
 * verifying or last-resort collection (callers expect everything dead to
 * go), pacing, every fourth stress collection (so that both kinds are
 * tested).  hgc_collect_minor() overrides pacing. */
static bool choose_major(enum gc_reason why)
{
    static unsigned stress_count;
    switch (why) {
    case GC_REASON_EXPLICIT:
    case GC_REASON_VERIFY:
    case GC_REASON_OOM:
        return true;
    case GC_REASON_MINOR:
        return !gen_minor_possible();
    case GC_REASON_STRESS:
        return !gen_minor_possible() || stress_count++ % 4 == 0;
    case GC_REASON_ALLOC:
        break;
    }
    return !gen_minor_possible() || next_major;
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
    event(COLLECT_START);
    trace_times tt;
    tt.start = os_now_ns();
    alloc_finish_sweep(self);
    tt.swept = os_now_ns();
    roots_snapshot_segments();
    mark_start_helpers();

    uint64_t t0 = os_now_ns();
    tt.stop = t0;
    event(COLLECT_PRE_STOP_WORLD);
    stw_stop_world(self);
    tt.stopped = os_now_ns();
    event(COLLECT_POST_STOP_WORLD);

    event(COLLECT_MARK_START);
    count_allocating_threads();
    bool major = choose_major(why);
    mark_begin(!major);
    if (!major) {
        size_t old_bytes;
        /* Pacing's minors turn major when that is cheaper; asked-for ones
         * (hgc_collect_minor, stress) stay minor. */
        size_t limit = why == GC_REASON_ALLOC ? major_live / 2 : SIZE_MAX;
        enum gen_push r =
            gen_push_written(limit, verify_mode || why == GC_REASON_VERIFY, &old_bytes);
        if (r != GEN_PUSH_OK) {
            /* Nothing is marked yet: turning major costs only the scan. */
            major = true;
            mark_begin(false);
            if (r == GEN_PUSH_TOO_MUCH)
                judge_minor(old_bytes, 0);
        } else {
            mark_drain(); /* phase 1 (mark.h) */
            mark_young_phase();
        }
    }
    if (major && hgc__sticky_marks)
        heap_clear_marks();
    mark_roots(self);
    /* Everything reachable is marked only after phase 3 (mark.h); what
     * finalization then marks becomes old. */
    if (!major)
        mark_promote_phase();
    finalize_after_mark();
    heap_marking_done();
    event(COLLECT_MARK_END);
    tt.marked = tt.verified = os_now_ns();
    if (verify_mode || why == GC_REASON_VERIFY) {
        if (verify_mode == 2)
            verify_selftest_unmark();
        verify_marks(self, !major); /* before anything reads or clears the marks */
        alloc_verify_lists();
        tt.verified = os_now_ns();
    }
    /* A minor collection marked only what it promoted and its survivors. */
    size_t marked_old, marked_survivors;
    mark_totals(&marked_old, &marked_survivors);
    if (major) {
        if (minor_backoff > 0)
            minor_backoff--;
        /* A backoff for promotion ends early when this major collection
         * finds most of what was promoted still live: the program was
         * building long-lived data, which majors only trace again. */
        size_t promoted = old_live > major_live ? old_live - major_live : 0;
        size_t old_dead = old_live > marked_old ? old_live - marked_old : 0;
        if (minor_backoff > 0 && !backoff_for_writes && old_dead < promoted / 2) {
            minor_backoff = 0;
            backoff_len = 2;
        }
        major_live = old_live = marked_old;
    } else {
        old_live += marked_old;
        judge_minor(0, marked_old);
    }
    survivor_live = marked_survivors;
    size_t live = old_live + survivor_live;
    size_t next = next_trigger();
    /* Protection pays only if the next collection is minor. */
    gen_protect(!next_major);
    alloc_sweep_large();
    alloc_prepare_sweep(major);
    if (verify_mode || why == GC_REASON_VERIFY)
        alloc_verify_lists();
    if (!hgc__sticky_marks)
        clear_cache_marks_all();
    else if (!major)
        clear_cache_dead_marks_all(mark_dead_survivor());

    stats.collections++;
    if (!major)
        stats.minor_collections++;
    stats.live_bytes = live;
    atomic_store_explicit(&alloc_since, 0, memory_order_relaxed);
    atomic_store_explicit(&trigger, next, memory_order_relaxed);

    event(COLLECT_PRE_START_WORLD);
    stw_start_world();
    tt.restarted = os_now_ns();
    event(COLLECT_POST_START_WORLD);
    uint64_t pause = tt.restarted - t0;
    stats.pause_total_ns += pause;
    if (pause > stats.pause_max_ns)
        stats.pause_max_ns = pause;

    /* Keep the heap floor (plus an eighth): a heap that small fills it
     * again before the next collection, so releasing those pages would
     * only fault them back in.  A bigger heap releases what stayed free
     * for two cycles, as its peak RSS may not grow with kept runs that do
     * not fit what it asks for next. */
    size_t keep = heap_floor();
    pageheap_scavenge(stats.collections, 2, keep + keep / 8);
    if (trace_on()) {
        static const char *const reasons[] = {"allocation", "explicit", "verify", "stress",
                                              "out of memory", "minor"};
        size_t heap, mapped;
        pageheap_bytes(&heap, &mapped);
        tt.end = os_now_ns();
        trace_cycle(&tt, reasons[why], major, live, heap, mark_stack_bytes());
    }
    event(COLLECT_END);
    threads_unlock();
    /* Keep the spill alive until the scans are done. */
    __asm__ volatile("" : : "r"(regs) : "memory");
    return major ? 0 : 1;
}

void collector_get_stats(collector_stats *out)
{
    *out = stats;
}
