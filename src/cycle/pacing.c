/* pacing.c -- when to collect, and whether major.  See pacing.h. */
#include "cycle/pacing.h"
#include "base/options.h"
#include "mark/gen.h"
#include "os/os.h"

/* Read by running mutators: relaxed atomics, changed only under the world
 * lock (alloc_since also by the claims of running threads). */
static _Atomic size_t alloc_since; /* bytes claimed since the last cycle */
static _Atomic size_t trigger;     /* collect when alloc_since reaches it */
/* What mutators compare alloc_since with (set_marks): a cycle starts at
 * due_at (the trigger, or earlier for a concurrent mark); while one marks,
 * allocating threads assist from assist_at on, each marking
 * assist_ratio16 / 16 bytes per byte it allocates, and wait for its end
 * from goal_at on. */
static _Atomic size_t due_at, assist_at, goal_at, assist_ratio16;
static bool concurrent; /* HGC_CONCURRENT: majors mark concurrently */
static long long gogc;             /* percent, -1 = automatic collection off */
/* pacing_set_boehm_divisor; 0: by gogc.  Boehm's budget counts live
 * pointer-free bytes at a quarter, since they cost its full collections
 * nothing to trace; hgc's minor collections cost the same whatever the
 * old strings weigh, and a budget that small only makes them run more
 * often (ECL: BENCHMARKS.md), so every live byte counts in full here. */
static unsigned boehm_divisor;
static size_t roots_scanned; /* bytes, stacks twice, at the last collection */
/* With Boehm's pacing: the heap Boehm's collector would have now.  Boehm
 * collects when its heap is full, and grows the heap instead when the
 * allocation since the last collection has not reached the budget yet; it
 * never shrinks it.  So between two collections a program allocates all
 * that is free in that heap, which is more than the budget once its live
 * data has shrunk (ECL's benchmark allocates 15 MB per collection on
 * Boehm, with a budget of 6 MB).  boehm_grow raises it after each major
 * collection; collections come when it is full (next_trigger). */
static size_t boehm_heap;
static size_t min_heap;
static size_t ncpus;
static size_t next_trigger_bytes;  /* computed by pacing_marked */

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

static size_t headroom(size_t live);
static void set_marks(size_t trig);

static void set_trigger(size_t bytes)
{
    atomic_store_explicit(&trigger, bytes, memory_order_relaxed);
    set_marks(bytes);
}

void pacing_init(void)
{
    gogc = option_get(OPT_GOGC);
    min_heap = (size_t)option_get(OPT_MIN_HEAP);
    ncpus = os_ncpus();
    set_trigger(gogc < 0 ? SIZE_MAX : min_heap);
}

bool pacing_due(void)
{
    return atomic_load_explicit(&alloc_since, memory_order_relaxed) >=
           atomic_load_explicit(&due_at, memory_order_relaxed);
}

bool pacing_assist_due(void)
{
    return atomic_load_explicit(&alloc_since, memory_order_relaxed) >=
           atomic_load_explicit(&assist_at, memory_order_relaxed);
}

bool pacing_over_goal(void)
{
    return atomic_load_explicit(&alloc_since, memory_order_relaxed) >=
           atomic_load_explicit(&goal_at, memory_order_relaxed);
}

size_t pacing_assist_bytes(size_t allocated)
{
    size_t r = atomic_load_explicit(&assist_ratio16, memory_order_relaxed);
    return allocated > SIZE_MAX / 1024 ? SIZE_MAX : allocated * r / 16;
}

void pacing_set_concurrent(bool on)
{
    concurrent = on;
    set_marks(atomic_load_explicit(&trigger, memory_order_relaxed));
}

/* Where the next cycle starts, and for a concurrent mark where allocation
 * assists and where it waits: world lock held, before the restart. */
static void set_marks(size_t trig)
{
    size_t due = trig, assist = SIZE_MAX, goal = SIZE_MAX, ratio = 0;
    if (concurrent && next_major && trig != SIZE_MAX) {
        /* The mark may take a quarter of the major budget: it starts that
         * much early (at most half the trigger), the collector thread marks
         * alone until the trigger, allocating threads assist from there,
         * and they mark until the end only past the trigger plus that
         * quarter. */
        size_t room = headroom(old_live + survivor_live) / 4;
        size_t early = room < trig / 2 ? room : trig / 2;
        due = trig - early;
        assist = trig;
        goal = trig > SIZE_MAX - room ? SIZE_MAX : trig + room;
        /* Bytes to mark per byte allocated past `assist`, in 16ths: twice
         * what is live now (old objects and survivors: the mark's work,
         * with room for what the estimate misses), over the room left
         * until the goal; capped at 64. */
        size_t left = goal - assist;
        double work = 2.0 * (double)(old_live + survivor_live);
        ratio = left ? (size_t)(work * 16.0 / (double)left) : 1024;
        if (ratio > 1024)
            ratio = 1024;
        if (ratio < 16)
            ratio = 16;
    }
    atomic_store_explicit(&due_at, due, memory_order_relaxed);
    atomic_store_explicit(&assist_at, assist, memory_order_relaxed);
    atomic_store_explicit(&goal_at, goal, memory_order_relaxed);
    atomic_store_explicit(&assist_ratio16, ratio, memory_order_relaxed);
}

/* Claims are published to the shared counter in batches, so that threads
 * claiming spans do not bounce its cache line: at most NOTE_BATCH bytes,
 * or 1/16 of the trigger, wait per thread (a collection may start that
 * much late; bytes still waiting at a collection count toward the next,
 * and those of a thread that exits are dropped: pacing is an estimate). */
#define NOTE_BATCH ((size_t)256 << 10)

void pacing_note_alloc(thread_rec *t, size_t bytes)
{
    size_t pending = t->claim_pending + bytes;
    if (pending >= NOTE_BATCH ||
        pending * 16 >= atomic_load_explicit(&trigger, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&alloc_since, pending, memory_order_relaxed);
        pending = 0;
    }
    t->claim_pending = pending;
}

static size_t next_trigger(void);
static void boehm_grow(size_t live);

void pacing_set_boehm_divisor(unsigned divisor)
{
    threads_lock();
    boehm_divisor = divisor;
    if (divisor)
        boehm_grow(major_live);
    set_trigger(next_trigger());
    threads_unlock();
}

void pacing_add_min_heap(size_t bytes)
{
    threads_lock();
    min_heap = bytes > SIZE_MAX - min_heap ? SIZE_MAX : min_heap + bytes;
    if (boehm_divisor)
        boehm_grow(major_live);
    set_trigger(next_trigger());
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
void pacing_count_allocating_threads(void)
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
size_t pacing_heap_floor(void)
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
    size_t floor = pacing_heap_floor();
    if (gogc < 0) /* no automatic collection: a goal for judging minors */
        return live > floor ? live : floor;
    if (boehm_divisor)
        return boehm_heap > live ? boehm_heap - live : 0;
    size_t budget = (size_t)((double)live * (double)gogc / 100.0);
    return budget > floor ? budget : floor;
}

/* With Boehm's pacing, after a major collection found `live` bytes: Boehm's
 * heap must hold them and the budget (pacing.h), and at least the floor.
 * Boehm grows its heap in steps of a divisor-th of its size; growing it
 * only as far as needed keeps the same pacing at a smaller peak. */
static void boehm_grow(size_t live)
{
    size_t budget = (size_t)(((double)live * 2.0 + (double)roots_scanned) / (double)boehm_divisor);
    size_t floor = pacing_heap_floor();
    size_t need = live + (budget > floor ? budget : floor);
    if (need > boehm_heap)
        boehm_heap = need;
}

/* With concurrent marking, a minor collection that would mark more than
 * this (its pause grows with it) is replaced by a concurrent major one. */
#define CONCURRENT_MINOR_MAX ((size_t)4 << 20)
/* Of the bytes allocated before the last minor collection, the share it
 * marked (survivors and promoted), in 1/1024ths: what the next one is
 * expected to mark of its own. */
static size_t minor_keep1024;

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
    if (!next_major && concurrent && gogc >= 0) {
        size_t left = room > promoted ? room - promoted : 0;
        if ((double)left * (double)minor_keep1024 / 1024.0 > (double)CONCURRENT_MINOR_MAX)
            next_major = true;
    }
    if (gogc < 0)
        return SIZE_MAX;
    size_t left = room > promoted ? room - promoted : 0;
    if (boehm_divisor) /* collect when Boehm's heap is full */
        return left;
    /* A minor collection's interval also grows with what is live now
     * (old objects and survivors), as a heap without generations would:
     * a stale major_live must not shrink it to the floor. */
    size_t now = headroom(old_live + survivor_live);
    if (!next_major && now > left)
        left = now;
    size_t floor = pacing_heap_floor();
    return left > floor ? left : floor;
}

/* Scanning an old object found on a written page costs about twice what
 * marking it costs a major collection: each is pushed alone, after a walk
 * of the kernel's page table and of its span's marks.  (ECL's benchmark:
 * minor collections that scanned 3.7 MB of such objects took longer than
 * major ones marking 10 MB.) */
#define WRITTEN_OLD_COST 2

/* After a minor collection found more than half a major collection's work
 * in old objects on written pages (weighed by WRITTEN_OLD_COST; it turns
 * major then) or promoted that much, the program writes its old objects
 * too widely, or keeps too much of what it allocates, for minors to pay:
 * the next collections are major
 * -- 2 (the one that turned major included), then 4, up to 64 while trials
 * keep failing.  Majors during a backoff leave pages unprotected, which
 * spares the program the faults. */
static void judge_minor(size_t old_bytes, size_t promoted)
{
    if (WRITTEN_OLD_COST * old_bytes + promoted > major_live / 2) {
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
bool pacing_choose_major(enum gc_reason why)
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

size_t pacing_minor_limit(enum gc_reason why)
{
    /* Pacing's minors turn major when that is cheaper; asked-for ones
     * (hgc_collect_minor, stress) stay minor. */
    return why == GC_REASON_ALLOC ? major_live / 2 / WRITTEN_OLD_COST : SIZE_MAX;
}

void pacing_minor_too_costly(size_t old_bytes) { judge_minor(old_bytes, 0); }

size_t pacing_marked(bool major, size_t marked_old, size_t marked_survivors, size_t root_bytes)
{
    roots_scanned = root_bytes;
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
        /* Forget a high survival rate by halves, so that minors are tried
         * again when the program stops building long-lived data. */
        minor_keep1024 /= 2;
        if (boehm_divisor)
            boehm_grow(major_live);
    } else {
        /* A minor collection marked only what it promoted and its
         * survivors. */
        old_live += marked_old;
        judge_minor(0, marked_old);
        size_t since = atomic_load_explicit(&alloc_since, memory_order_relaxed);
        double keep = since ? (double)(marked_old + marked_survivors) * 1024.0 / (double)since : 0;
        minor_keep1024 = keep > 1024.0 ? 1024 : (size_t)keep;
    }
    survivor_live = marked_survivors;
    next_trigger_bytes = next_trigger();
    return old_live + survivor_live;
}

bool pacing_next_major(void) { return next_major; }

void pacing_restart(void)
{
    atomic_store_explicit(&alloc_since, 0, memory_order_relaxed);
    set_trigger(next_trigger_bytes);
}
