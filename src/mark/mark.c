/*
 * mark.c -- conservative marking with per-marker mark stacks, drained in
 * parallel by the collecting thread and helper threads.
 *
 * Markers.  Marker 0 is the collecting thread; markers 1..n-1 are helper
 * threads started before the first collection that needs them (never with
 * the world stopped: a stopped thread may hold a lock pthread_create
 * takes).  Helpers are internal: not registered, never stopped, all signals
 * blocked, and they touch only mark stacks, mark bytes and heap memory that
 * the stopped world cannot change.
 *
 * Work.  Each marker pops ranges from its own stack and scans them; a word
 * that points into an unmarked object marks it and, for scanned kinds,
 * pushes the object's range.  When some marker is idle and a busy one holds
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
 *
 * Mark bytes are set with a relaxed load and a relaxed store, no
 * read-modify-write: two markers that race on one object both push it (or
 * list it for promotion) and it is scanned twice, which costs time, not
 * correctness.  That holds because within one phase (mark.h) the value a
 * marker stores depends only on the value it loaded, and racing markers
 * load the same one.  The object's bytes are then counted twice in
 * live_bytes; the count feeds pacing only.
 *
 * Overflow.  When a stack cannot grow (memory, or HGC_MARK_STACK_LIMIT), the
 * object stays marked but unscanned and `overflowed` is set; once the
 * parallel round is over, marker 0 rescans every marked object of every
 * scanned span until a pass ends without overflow.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "heap/heap.h"
#include "heap/layout.h"
#include "heap/marks.h"
#include "mutator/threads.h"
#include "roots/roots.h"
#include "mark/mark.h"
#include "os/os.h"
#include "base/util.h"

/* Words [lo, hi) to scan.  Objects are 16-byte aligned, so bit 0 of lo is
 * free: it is set for a typed object (or a piece of a large one), whose
 * words are scanned only where its layout says (scan_typed). */
typedef struct mark_entry {
    uintptr_t lo, hi;
} mark_entry;
#define ENTRY_TYPED ((uintptr_t)1)

#define MAX_MARKERS 16
#define PACKET_ENTRIES 512
/* A longer range (a large object, or a window of one) is scanned this many
 * bytes at a time: draining pushes the rest back first, below what the
 * piece refers to.  So the stack holds one entry per large object and at
 * most a piece's referents above it, an idle marker can take the rest from
 * the bottom, and an overflow loses at most the rest, which the rescan
 * finds (Overflow, above).  Pushing all pieces at once did neither: the
 * stacks grew to 2 MiB each for an array of 300,000 pointers, and an array
 * of more pieces than a capped stack holds overflowed again on every
 * rescan.  Typed ranges are cut only beyond SMALL_MAX: scan_typed finds a
 * small object's layout word at the end of its range, a large object's (or
 * any piece's) through its span. */
#define LARGE_CHUNK ((uintptr_t)16 << 10)
#define INITIAL_STACK 4096
/* Ranges marker 0 scans alone before it wakes the helpers: a small heap is
 * marked before they would have woken up (about 100 us of work). */
#define SOLO_BUDGET 16384

/* One marker's private stack: live entries are stack[bot, top).  Only its
 * own thread touches it while a round runs.  Entries leave from the top
 * when scanned and from the bottom when shared. */
typedef struct marker {
    mark_entry *stack;
    size_t bot, top, cap;
    size_t live_bytes;
    /* Minor collections: objects found carrying the previous survivor
     * value, to be made old by mark_promote_phase (mark.h). */
    mark_entry *promo;
    size_t npromo, promo_cap;
    uint64_t round_seen; /* helpers: the last round taken part in */
} __attribute__((aligned(64))) marker;

typedef struct packet {
    struct packet *next;
    size_t n;
    mark_entry e[PACKET_ENTRIES];
} packet;

static marker markers[MAX_MARKERS];
/* What a word that points into an object does to it (mark.h): MODE_OLD
 * makes it old; MODE_YOUNG (phase 2 of a minor collection) gives it the
 * survivor value `survivor_now`, or lists it for promotion if it carries
 * `survivor_before`.  Set with the world stopped, before a round starts. */
enum mark_mode { MODE_OLD, MODE_YOUNG };
static enum mark_mode mode;
static uint8_t survivor_now = MARK_SURVIVOR_A, survivor_before = MARK_SURVIVOR_B;
/* Bytes marked in earlier phases of this collection. */
static size_t counted_old, counted_survivor;
/* Promotion list entries: lo is the object with these flags in its low
 * bits (objects are 16-byte aligned); hi its end, or its span if large.
 * Pointer-free objects are never listed: they become old at once. */
#define PROMO_TYPED ENTRY_TYPED
#define PROMO_LARGE ((uintptr_t)4)
static size_t limit;          /* stack entries per marker, SIZE_MAX = none */
static bool share_ok;         /* limit leaves room for packets */
static _Atomic bool overflowed;
/* hgc__heap_below and hgc__heap_end (heap.h), snapshot for the cycle (the
 * heap cannot grow while the world is stopped).  With no heap yet, the
 * range that scan() derives from them is empty. */
static uintptr_t below_bound, end_bound;

/* Pool and rounds, all under pool_lock except `hungry`. */
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
static _Atomic unsigned hungry;
static bool round_done;
static uint64_t round_no;
static unsigned participants;     /* marker 0 and the helpers that joined */
/* Markers of this round not idle in refill(), counted apart from nidle as
 * a check of the ending: a round that ends with one still working would
 * let marker 0 go on while objects are being marked. */
static unsigned working;
static unsigned nmarkers = 1;     /* marker 0 plus helpers started */
static unsigned wanted_markers = 1;
/* HGC_TEST_MARKER_DELAY: how long a helper dawdles, the pool lock released,
 * each time it wakes up, so that tests see rounds end and new ones begin
 * while helpers are still waking (Rounds, above). */
static uint64_t helper_delay_ns;

static void mark_after_fork_child(void);

void mark_init(size_t stack_limit_entries, unsigned nmarkers_wanted, unsigned delay_us)
{
    helper_delay_ns = (uint64_t)delay_us * 1000;
    limit = stack_limit_entries ? stack_limit_entries : SIZE_MAX;
    share_ok = limit >= 4 * PACKET_ENTRIES;
    if (nmarkers_wanted < 1)
        nmarkers_wanted = 1;
    wanted_markers = nmarkers_wanted > MAX_MARKERS ? MAX_MARKERS : nmarkers_wanted;
    threads_on_fork_child(mark_after_fork_child);
}

void mark_begin(bool minor)
{
    for (unsigned i = 0; i < nmarkers; i++) {
        markers[i].bot = markers[i].top = 0;
        markers[i].live_bytes = 0;
        markers[i].npromo = 0;
    }
    counted_old = counted_survivor = 0;
    mode = MODE_OLD;
    if (minor) {
        uint8_t v = survivor_now;
        survivor_now = survivor_before;
        survivor_before = v;
        hgc__live_marks = MARK_OLD | survivor_now;
    } else {
        hgc__live_marks = MARK_OLD;
    }
    atomic_store_explicit(&overflowed, false, memory_order_relaxed);
    below_bound = atomic_load_explicit(&hgc__heap_below, memory_order_acquire);
    end_bound = atomic_load_explicit(&hgc__heap_end, memory_order_acquire);
}

uint8_t mark_dead_survivor(void) { return survivor_before; }

/* Move the markers' byte counts to the current phase's total. */
static void count_phase(void)
{
    size_t n = 0;
    for (unsigned i = 0; i < nmarkers; i++) {
        n += markers[i].live_bytes;
        markers[i].live_bytes = 0;
    }
    if (mode == MODE_OLD)
        counted_old += n;
    else
        counted_survivor += n;
}

void mark_totals(size_t *old_bytes, size_t *survivor_bytes)
{
    count_phase();
    *old_bytes = counted_old;
    *survivor_bytes = counted_survivor;
}

/* Double an array of entries holding `used` of *cap (up to `limit`);
 * false when it cannot grow. */
static bool entries_grow(mark_entry **arr, size_t *cap, size_t used)
{
    size_t ncap = *cap ? *cap * 2 : INITIAL_STACK;
    if (ncap > limit)
        ncap = limit;
    if (ncap <= *cap)
        return false;
    mark_entry *n = os_reserve(ncap * sizeof *n, 4096);
    if (!n)
        return false;
    if (used)
        memcpy(n, *arr, used * sizeof *n);
    if (*arr)
        os_unmap(*arr, *cap * sizeof **arr);
    *arr = n;
    *cap = ncap;
    return true;
}

/* Make room for one more entry at the top: first by moving the live
 * entries down over the shared-away bottom, else by doubling. */
static NOINLINE bool marker_grow(marker *m)
{
    if (m->bot > 0) {
        size_t n = m->top - m->bot;
        memmove(m->stack, m->stack + m->bot, n * sizeof *m->stack);
        m->bot = 0;
        m->top = n;
        return true;
    }
    return entries_grow(&m->stack, &m->cap, m->top);
}

/* Push [lo, hi) on m's stack (its fields, not a cursor's). */
static void marker_push(marker *m, uintptr_t lo, uintptr_t hi)
{
    if (m->top == m->cap && !marker_grow(m)) {
        atomic_store_explicit(&overflowed, true, memory_order_relaxed);
        return;
    }
    m->stack[m->top].lo = lo;
    m->stack[m->top].hi = hi;
    m->top++;
}

/* List an object for promotion; false when the list cannot grow (the
 * caller scans it as a survivor instead: it stays young, which is safe). */
static inline bool promo_push(marker *m, uintptr_t lo, uintptr_t hi)
{
    if (m->npromo == m->promo_cap && !entries_grow(&m->promo, &m->promo_cap, m->npromo))
        return false;
    m->promo[m->npromo].lo = lo;
    m->promo[m->npromo].hi = hi;
    m->npromo++;
    return true;
}

/* The page of p (in arena a) holds a newly marked object: its span is
 * write-protected at the end of the collection (gen.h).  Markers race on
 * these bytes with stores of the same value. */
static inline void note_protect(arena *a, uintptr_t p)
{
    __atomic_store_n(&a->protect[(p >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)], 1, __ATOMIC_RELAXED);
}

/* Push the words of large object s (drained LARGE_CHUNK at a time). */
static void push_large(marker *m, span *s)
{
    if (s->kind == KIND_ATOMIC)
        return;
    uintptr_t tag = s->kind == KIND_TYPED ? ENTRY_TYPED : 0;
    uintptr_t end = s->base + ((s->req_size + sizeof(uintptr_t) - 1) & ~(sizeof(uintptr_t) - 1));
    marker_push(m, s->base | tag, end);
}

/* A word that points into a page whose page info is 0: a large object, a
 * free span, or nothing.  Works on m's fields. */
static NOINLINE void mark_word_large(marker *m, arena *a, uintptr_t w)
{
    span *s = atomic_load_explicit(&a->pages[(w >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)],
                                   memory_order_relaxed);
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != SPAN_LARGE)
        return;
    uint8_t *mb = span_mark_of(s, s->base);
    uint8_t b = __atomic_load_n(mb, __ATOMIC_RELAXED);
    if (mode == MODE_YOUNG) {
        if (b == survivor_before) {
            if (s->kind == KIND_ATOMIC) { /* nothing to scan: old at once */
                __atomic_store_n(mb, MARK_OLD, __ATOMIC_RELAXED);
                m->live_bytes += s->elem_size;
                return;
            }
            __atomic_store_n(mb, survivor_now, __ATOMIC_RELAXED);
            uintptr_t tag = PROMO_LARGE | (s->kind == KIND_TYPED ? PROMO_TYPED : 0);
            if (!promo_push(m, s->base | tag, (uintptr_t)s))
                push_large(m, s);
            return;
        }
        if (b != 0)
            return;
        __atomic_store_n(mb, survivor_now, __ATOMIC_RELAXED);
    } else {
        if (b == MARK_OLD)
            return;
        __atomic_store_n(mb, MARK_OLD, __ATOMIC_RELAXED);
        note_protect(a, w);
    }
    m->live_bytes += s->elem_size;
    push_large(m, s);
}

/* The hot state of a marker in locals: the compiler cannot keep fields of
 * a global in registers across the mark-byte stores (char stores may alias
 * anything), but it can keep a non-escaping local struct there. */
typedef struct cursor {
    mark_entry *stack;
    size_t bot, top, cap;
    size_t live;
} cursor;

static inline void cursor_load(cursor *c, const marker *m)
{
    c->stack = m->stack;
    c->bot = m->bot;
    c->top = m->top;
    c->cap = m->cap;
    c->live = 0;
}

static inline void cursor_store(marker *m, cursor *c)
{
    m->bot = c->bot;
    m->top = c->top;
    m->live_bytes += c->live;
    c->live = 0;
}

/* Phase 2 of a minor collection found small object obj (mark byte *mb)
 * carrying the previous survivor value: list it for promotion.  Works on
 * m's fields, not a cursor's. */
static NOINLINE void survived_again(marker *m, uint8_t *mb, uintptr_t obj, size_t size,
                                    unsigned kind)
{
    if (kind == KIND_ATOMIC) { /* nothing to scan: old at once */
        __atomic_store_n(mb, MARK_OLD, __ATOMIC_RELAXED);
        m->live_bytes += size;
        return;
    }
    __atomic_store_n(mb, survivor_now, __ATOMIC_RELAXED);
    uintptr_t lo = obj | (kind == KIND_TYPED ? PROMO_TYPED : 0);
    if (promo_push(m, lo, obj + size))
        return;
    m->live_bytes += size; /* a survivor after all: scanned as one */
    marker_push(m, lo, obj + size);
}

/* Scan [lo, hi) conservatively into marker m through cursor c.  Small
 * objects are found from the page info and the class tables alone: the
 * span descriptor, one more cache miss per pointer, is not read. */
static inline __attribute__((always_inline)) NO_SANITIZE_SCAN void
scan(marker *m, cursor *c, uintptr_t lo, uintptr_t hi, const bool young)
{
    /* Locals: a heap address in a register or below the collector's frame
     * is no root.  No heap: below_bound + 1 wraps to 0 = end_bound. */
    const uintptr_t heap_lo = below_bound + 1, heap_len = end_bound - heap_lo;
    const uint8_t now = survivor_now, before = survivor_before;
    _Atomic(arena *) *const table = hgc__arena_table;
    lo = (lo + sizeof(uintptr_t) - 1) & ~(sizeof(uintptr_t) - 1);
    hi &= ~(sizeof(uintptr_t) - 1);
    /* Last word first: the first field's target is pushed last and popped
     * next, so a structure built depth-first, first field first (lists,
     * trees), is marked in the order it lies in memory. */
    for (uintptr_t p = hi; p > lo;) {
        p -= sizeof(uintptr_t);
        uintptr_t w = *(const uintptr_t *)p;
        if (w - heap_lo >= heap_len)
            continue;
        arena *a = atomic_load_explicit(&table[w >> ARENA_SHIFT], memory_order_relaxed);
        if (!a)
            continue;
        unsigned pi = a->pinfo[(w >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)];
        if (unlikely(pi == 0)) {
            cursor_store(m, c);
            mark_word_large(m, a, w);
            cursor_load(c, m);
            continue;
        }
        const class_geom *g = &hgc__class_geom[pi & PINFO_CLASS_MASK];
        size_t size = g->size;
        uintptr_t obj;
        if (g->align_mask) {
            obj = w & g->align_mask;
        } else {
            uintptr_t span_base =
                (w & ~(PAGE_SIZE - 1)) - ((uintptr_t)(pi >> PINFO_PAGE_SHIFT) << PAGE_SHIFT);
            uint32_t idx = (uint32_t)(((w - span_base) * g->magic) >> DIV_SHIFT);
            if (idx >= g->nelems)
                continue; /* the span's tail waste */
            obj = span_base + (uintptr_t)idx * size;
        }
        uint8_t *mb = (uint8_t *)(a->mark_bias + (obj >> GRANULE_SHIFT));
        uint8_t b = __atomic_load_n(mb, __ATOMIC_RELAXED);
        unsigned kind = (pi >> PINFO_KIND_SHIFT) & 3;
        if (young) {
            if (b != 0) {
                if (b == before) {
                    cursor_store(m, c);
                    survived_again(m, mb, obj, size, kind);
                    cursor_load(c, m);
                }
                continue;
            }
            __atomic_store_n(mb, now, __ATOMIC_RELAXED);
        } else {
            if (b == MARK_OLD)
                continue;
            __atomic_store_n(mb, MARK_OLD, __ATOMIC_RELAXED);
            note_protect(a, obj);
        }
        c->live += size;
        if (kind == KIND_ATOMIC)
            continue;
        _Static_assert(KIND_TYPED >> 1 == ENTRY_TYPED && KIND_SCANNED >> 1 == 0,
                       "the kind gives the entry's tag");
        if (unlikely(c->top == c->cap)) {
            cursor_store(m, c);
            marker_push(m, obj | kind >> 1, obj + size);
            cursor_load(c, m);
            continue;
        }
        c->stack[c->top].lo = obj | kind >> 1;
        c->stack[c->top].hi = obj + size;
        c->top++;
    }
}

/* scan() in the current mode, for the paths off the drain loop. */
static NOINLINE NO_SANITIZE_SCAN void scan_any(marker *m, cursor *c, uintptr_t lo, uintptr_t hi)
{
    if (mode == MODE_YOUNG)
        scan(m, c, lo, hi, true);
    else
        scan(m, c, lo, hi, false);
}

/* Scan the words of a typed object (or a piece of a large one) that its
 * layout names.  The layout is the object's last word: for a small object
 * the entry is the whole slot, for a large one the span says where the
 * object ends.  A layout value that names nothing scans conservatively. */
static NOINLINE NO_SANITIZE_SCAN void scan_typed(marker *m, cursor *c, uintptr_t lo, uintptr_t hi)
{
    lo &= ~ENTRY_TYPED;
    arena *a = atomic_load_explicit(&hgc__arena_table[lo >> ARENA_SHIFT], memory_order_relaxed);
    size_t page = (lo >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1);
    uintptr_t obj, end; /* the object and its layout word */
    if (a->pinfo[page] == 0) {
        span *s = atomic_load_explicit(&a->pages[page], memory_order_relaxed);
        obj = s->base;
        end = obj + s->req_size - sizeof(uintptr_t);
    } else {
        obj = lo;
        end = hi - sizeof(uintptr_t);
    }
    if (hi > end)
        hi = end;
    uintptr_t v = *(const uintptr_t *)end;
    size_t i = (lo - obj) / sizeof(uintptr_t), n = (hi - obj) / sizeof(uintptr_t);
    if (v & 1) {
        if (n > LAYOUT_INLINE_WORDS)
            n = LAYOUT_INLINE_WORDS;
        if (i >= n)
            return;
        uint64_t bits = (v >> 1) & ((1ull << n) - 1) & ~((1ull << i) - 1);
        while (bits) {
            uintptr_t p = obj + (uintptr_t)__builtin_ctzll(bits) * sizeof(uintptr_t);
            bits &= bits - 1;
            scan_any(m, c, p, p + sizeof(uintptr_t));
        }
        return;
    }
    if (v == 0)
        return;
    if (!layout_entry_of(v)) {
        scan_any(m, c, lo, hi);
        return;
    }
    for (; i < n; i++)
        if (layout_word_is_pointer(v, i))
            scan_any(m, c, obj + i * sizeof(uintptr_t), obj + (i + 1) * sizeof(uintptr_t));
}

NO_SANITIZE_SCAN void mark_range(uintptr_t lo, uintptr_t hi)
{
    marker *m = &markers[0];
    cursor c;
    cursor_load(&c, m);
    scan_any(m, &c, lo, hi);
    cursor_store(m, &c);
}

/* Under pool_lock, after nidle or pool_count changed. */
static void update_hungry(void)
{
    atomic_store_explicit(&hungry, nidle > pool_count ? nidle - pool_count : 0,
                          memory_order_relaxed);
}

/* Move the oldest half of m's entries (at most a packet) to the pool, if
 * the pool is short of work for the idle markers.  m holds at least 2. */
static NOINLINE void share(marker *m)
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

/* Draining goes through a small FIFO between the stack and the scan: a
 * range is prefetched when it leaves the stack and scanned PREFETCH_DEPTH
 * ranges later, when its first cache line has arrived.  Marking is bound
 * by these misses more than by instructions. */
#define PREFETCH_DEPTH 8

/* Scan until m's stack is empty, or until `budget` ranges were scanned
 * (then the ranges in flight go back on the stack and false is returned).
 * With `shared`, feed idle markers. */
static inline __attribute__((always_inline)) NO_SANITIZE_SCAN bool
drain_mode(marker *m, bool shared, size_t budget, const bool young)
{
    /* Two scalar arrays, not one of mark_entry: an entry pushed with two
     * 8-byte stores and copied back with one 16-byte load would stall on
     * store forwarding. */
    uintptr_t fifo_lo[PREFETCH_DEPTH], fifo_hi[PREFETCH_DEPTH];
    unsigned head = 0, count = 0;
    cursor c;
    cursor_load(&c, m);
    for (;;) {
        while (count < PREFETCH_DEPTH && c.top > c.bot) {
            c.top--;
            unsigned slot = (head + count) % PREFETCH_DEPTH;
            fifo_lo[slot] = c.stack[c.top].lo;
            fifo_hi[slot] = c.stack[c.top].hi;
            __builtin_prefetch((const void *)fifo_lo[slot]);
            count++;
        }
        if (count == 0)
            break;
        if (unlikely(budget-- == 0)) {
            /* Newest first, so the oldest in flight -- taken from the top
             * first -- is on top again: the stack is as it was. */
            cursor_store(m, &c);
            for (unsigned i = count; i-- > 0;) {
                unsigned slot = (head + i) % PREFETCH_DEPTH;
                marker_push(m, fifo_lo[slot], fifo_hi[slot]);
            }
            return false;
        }
        uintptr_t lo = fifo_lo[head], hi = fifo_hi[head];
        head = (head + 1) % PREFETCH_DEPTH;
        count--;
        /* A small typed object (SMALL_MAX at most) stays whole: scan_typed
         * finds its layout word at the end of the range. */
        if (unlikely(hi - (lo & ~ENTRY_TYPED) > LARGE_CHUNK) &&
            (!(lo & ENTRY_TYPED) || hi - (lo & ~ENTRY_TYPED) > SMALL_MAX)) {
            uintptr_t mid = (lo & ~ENTRY_TYPED) + LARGE_CHUNK;
            if (unlikely(c.top == c.cap)) {
                cursor_store(m, &c);
                marker_push(m, mid | (lo & ENTRY_TYPED), hi);
                cursor_load(&c, m);
            } else {
                c.stack[c.top].lo = mid | (lo & ENTRY_TYPED);
                c.stack[c.top].hi = hi;
                c.top++;
            }
            hi = mid;
        }
        if (unlikely(lo & ENTRY_TYPED))
            scan_typed(m, &c, lo, hi);
        else
            scan(m, &c, lo, hi, young);
        if (shared && unlikely(atomic_load_explicit(&hungry, memory_order_relaxed) != 0) &&
            c.top - c.bot >= 2) {
            cursor_store(m, &c);
            share(m);
            cursor_load(&c, m);
        }
    }
    c.bot = c.top = 0;
    cursor_store(m, &c);
    return true;
}

static NO_SANITIZE_SCAN bool drain(marker *m, bool shared, size_t budget)
{
    if (mode == MODE_YOUNG)
        return drain_mode(m, shared, budget, true);
    return drain_mode(m, shared, budget, false);
}

/* pthread_cond_wait on the pool lock, then HGC_TEST_MARKER_DELAY's dawdle
 * for helpers. */
static void pool_wait(pthread_cond_t *cv, const marker *m)
{
    pthread_cond_wait(cv, &pool_lock);
    if (unlikely(helper_delay_ns) && m != &markers[0]) {
        pthread_mutex_unlock(&pool_lock);
        os_sleep_ns(helper_delay_ns);
        pthread_mutex_lock(&pool_lock);
    }
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
            packet *p = pool_full;
            pool_full = p->next;
            pool_count--;
            nidle--;
            working++;
            update_hungry();
            memcpy(m->stack, p->e, p->n * sizeof *p->e); /* cap >= 4 packets */
            m->bot = 0;
            m->top = p->n;
            p->next = pool_spare;
            pool_spare = p;
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
        drain(m, true, SIZE_MAX);
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
        if (round_done)
            continue; /* woke too late: marker 0 may be past the round */
        participants++;
        working++;
        m->bot = m->top = 0;
        pthread_mutex_unlock(&pool_lock);
        work(m);
        pthread_mutex_lock(&pool_lock);
    }
    return NULL;
}

void mark_start_helpers(void)
{
    if (nmarkers >= wanted_markers)
        return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited by the helpers */
    while (nmarkers < wanted_markers) {
        marker *m = &markers[nmarkers];
        if (!m->stack && !marker_grow(m))
            break;
        /* Rounds so far are not this helper's; it counts from the next. */
        pthread_mutex_lock(&pool_lock);
        m->round_seen = round_no;
        pthread_mutex_unlock(&pool_lock);
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&tid, &attr, helper_main, m);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            hgc__warn("cannot start a marker thread (error %d); marking with %u", rc, nmarkers);
            wanted_markers = nmarkers;
            break;
        }
        pthread_mutex_lock(&pool_lock);
        nmarkers++;
        pthread_mutex_unlock(&pool_lock);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Drain marker 0's stack with every marker. */
static void parallel_drain(void)
{
    pthread_mutex_lock(&pool_lock);
    nidle = 0;
    atomic_store_explicit(&hungry, 0, memory_order_relaxed);
    round_done = false;
    participants = 1;
    working = 1;
    round_no++;
    pthread_cond_broadcast(&round_cv);
    pthread_mutex_unlock(&pool_lock);

    work(&markers[0]);
}

/* Push the words of object obj of span s, as scanning a pointer to it
 * would, without looking at its mark. */
static void push_object(marker *m, span *s, uintptr_t obj)
{
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE)
        push_large(m, s);
    else if (s->kind != KIND_ATOMIC)
        marker_push(m, obj | (s->kind == KIND_TYPED ? ENTRY_TYPED : 0), obj + s->elem_size);
}

/* Overflow recovery: scan again every object of a scanned span that
 * carries the mark the current mode gives (so a minor collection's phase 2
 * rescans its survivors, not the old generation). */
static void rescan_span(span *s, void *arg)
{
    (void)arg;
    if (s->kind == KIND_ATOMIC)
        return;
    uint8_t want = mode == MODE_YOUNG ? survivor_now : MARK_OLD;
    uint8_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
    if (state == SPAN_LARGE) {
        if (*span_mark_of(s, s->base) == want)
            push_object(&markers[0], s, s->base);
    } else {
        for (uint32_t i = 0; i < s->nelems; i++) {
            uintptr_t obj = s->base + (uintptr_t)i * s->elem_size;
            if (*span_mark_of(s, obj) == want) {
                push_object(&markers[0], s, obj);
                drain(&markers[0], false, SIZE_MAX); /* so a tiny stack cannot overflow */
            }
        }
    }
    drain(&markers[0], false, SIZE_MAX);
}

void mark_drain(void)
{
    marker *m0 = &markers[0];
    if (nmarkers == 1 || !share_ok)
        drain(m0, false, SIZE_MAX);
    else if (!drain(m0, false, SOLO_BUDGET))
        parallel_drain();
    while (atomic_load_explicit(&overflowed, memory_order_relaxed)) {
        atomic_store_explicit(&overflowed, false, memory_order_relaxed);
        pageheap_each_span(rescan_span, NULL);
    }
}

void mark_young_phase(void)
{
    count_phase();
    mode = MODE_YOUNG;
}

void mark_promote_phase(void)
{
    count_phase();
    mode = MODE_OLD;
    marker *m0 = &markers[0];
    for (unsigned i = 0; i < nmarkers; i++) {
        marker *m = &markers[i];
        for (size_t j = 0; j < m->npromo; j++) {
            uintptr_t lo = m->promo[j].lo, hi = m->promo[j].hi;
            uintptr_t obj = lo & ~(GRANULE - 1);
            arena *a = atomic_load_explicit(&hgc__arena_table[obj >> ARENA_SHIFT],
                                            memory_order_relaxed);
            uint8_t *mb = (uint8_t *)(a->mark_bias + (obj >> GRANULE_SHIFT));
            if (*mb == MARK_OLD)
                continue; /* listed twice, or reached from an earlier entry */
            *mb = MARK_OLD;
            note_protect(a, obj);
            if (lo & PROMO_LARGE) {
                span *s = (span *)hi;
                m0->live_bytes += s->elem_size;
                push_large(m0, s);
            } else {
                m0->live_bytes += hi - obj;
                marker_push(m0, lo & ~PROMO_LARGE, hi);
            }
            /* Drain as we go: the list may be longer than a stack may grow. */
            if (m0->top - m0->bot >= PACKET_ENTRIES)
                mark_drain();
        }
        m->npromo = 0;
    }
    mark_drain();
}

void mark_push_range(uintptr_t lo, uintptr_t hi, bool typed)
{
    marker_push(&markers[0], lo | (typed ? ENTRY_TYPED : 0), hi);
}

size_t mark_pending(void)
{
    return markers[0].top - markers[0].bot;
}

size_t mark_stack_bytes(void)
{
    size_t n = 0;
    for (unsigned i = 0; i < nmarkers; i++)
        n += (markers[i].cap + markers[i].promo_cap) * sizeof(mark_entry);
    return n;
}

bool mark_is_marked(uintptr_t p)
{
    uintptr_t obj;
    span *s = heap_object_of(p, &obj);
    return s && mark_byte_live(*span_mark_of(s, obj));
}

NO_SANITIZE_SCAN void mark_object(uintptr_t p)
{
    uintptr_t word = p;
    mark_range((uintptr_t)&word, (uintptr_t)(&word + 1));
}

NO_SANITIZE_SCAN void mark_referents(uintptr_t p, bool skip_self)
{
    uintptr_t obj;
    span *s = heap_object_of(p, &obj);
    if (!s || s->kind == KIND_ATOMIC)
        return;
    if (!skip_self) {
        push_object(&markers[0], s, obj);
        return;
    }
    bool large = atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE;
    size_t bytes = large ? s->req_size & ~(sizeof(uintptr_t) - 1) : s->elem_size;
    uintptr_t layout = 0;
    if (s->kind == KIND_TYPED) {
        bytes -= sizeof(uintptr_t);
        layout = *(const uintptr_t *)(obj + bytes);
    }
    for (size_t i = 0; i < bytes / sizeof(uintptr_t); i++) {
        const uintptr_t *wp = (const uintptr_t *)obj + i;
        if (s->kind == KIND_TYPED && !layout_word_is_pointer(layout, i))
            continue;
        if (*wp - obj >= s->elem_size) /* not into the object itself */
            mark_range((uintptr_t)wp, (uintptr_t)(wp + 1));
    }
}

/* In the child of fork(): the helpers are gone. */
static void mark_after_fork_child(void)
{
    /* The helpers did not survive the fork; they were idle, waiting for a
     * round, but may have left the pool's lock and conditions mid-use. */
    pthread_mutex_init(&pool_lock, NULL);
    pthread_cond_init(&pool_cv, NULL);
    pthread_cond_init(&round_cv, NULL);
    nmarkers = 1;
    pool_full = NULL;
    pool_count = 0;
    /* The next collection starts new helpers -- except under
     * ThreadSanitizer, which cannot start threads in the child of a
     * multi-threaded process; there the child marks alone. */
    if (HGC_TSAN)
        wanted_markers = 1;
}

static void mark_root(const root_desc *d, void *arg)
{
    (void)arg;
    mark_range(d->lo, d->hi);
}

/* Every root is scanned first and the objects they reach are drained in
 * one go, so that all markers start together on the whole root set. */
void (*hgc__push_other_roots)(void);

void mark_roots(thread_rec *self)
{
    roots_each(self, mark_root, NULL);
    if (hgc__push_other_roots)
        hgc__push_other_roots();
    mark_drain();
}
