/*
 * scan.c -- the scanning kernel: mark stacks, what a word that points into
 * an object does to it, scanning ranges (conservatively or by layout), and
 * draining one marker's stack.  How markers share work is work.c's.
 *
 * Work.  Each marker pops ranges from its own stack and scans them; a word
 * that points into an unmarked object marks it and, for scanned kinds,
 * pushes the object's range.
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
 * object stays marked but unscanned and `hgc__mark_overflowed` is set; once
 * the parallel round is over, marker 0 rescans every marked object of every
 * scanned span until a pass ends without overflow (work.c: mark_drain).
 */
#include <string.h>

#include "alloc/alloc.h"
#include "base/check.h"
#include "base/util.h"
#include "heap/heap.h"
#include "heap/layout.h"
#include "heap/marks.h"
#include "mark/mark.h"
#include "mark/marker.h"
#include "mutator/phase.h"
#include "mutator/threads.h"
#include "os/os.h"
#include "roots/roots.h"

/* A longer range (a large object, or a window of one) is scanned this many
 * bytes at a time: draining pushes the rest back first, below what the
 * piece refers to.  So the stack holds one entry per large object and at
 * most a piece's referents above it, an idle marker can take the rest from
 * the bottom, and an overflow loses at most the rest, which the rescan
 * finds (Overflow, above).  Pushing all pieces at once did neither: the
 * stacks grew to 2 MiB each for an array of 300,000 pointers, and an array
 * of more pieces than a capped stack holds hgc__mark_overflowed again on every
 * rescan.  Typed ranges are cut only beyond SMALL_MAX: scan_typed finds a
 * small object's layout word at the end of its range, a large object's (or
 * any piece's) through its span. */
#define LARGE_CHUNK ((uintptr_t)16 << 10)
#define INITIAL_STACK 4096

marker hgc__markers[MAX_MARKERS + MAX_ASSISTS];
/* What a word that points into an object does to it (mark.h): MODE_OLD
 * makes it old; MODE_YOUNG (phase 2 of a minor collection) gives it the
 * survivor value `survivor_now`, or lists it for promotion if it carries
 * `survivor_before`.  Set with the world stopped, before a round starts. */
enum mark_mode { MODE_OLD, MODE_YOUNG };
static enum mark_mode mode;
static uint8_t survivor_now = MARK_SURVIVOR_A, survivor_before = MARK_SURVIVOR_B;
/* Bytes marked in earlier phases of this collection. */
static size_t counted_old, counted_survivor;
/* Bytes of roots scanned since mark_begin, thread stacks counted twice
 * (pacing: Boehm's budget, pacing.h). */
static size_t root_bytes;
/* Promotion list entries: lo is the object with its entry tag (marker.h)
 * and PROMO_LARGE in its low bits (objects are 16-byte aligned); hi its
 * end, or its span if large.  Pointer-free objects are never listed: they
 * become old at once. */
#define PROMO_LARGE ((uintptr_t)4)
_Static_assert((PROMO_LARGE & ENTRY_TAGS) == 0 && PROMO_LARGE < GRANULE, "promotion flags fit");
static size_t limit;          /* stack entries per marker, SIZE_MAX = none */
_Atomic bool hgc__mark_overflowed;
/* hgc__heap_below and hgc__heap_end (heap.h), snapshot for the cycle (the
 * heap cannot grow while the world is stopped).  With no heap yet, the
 * range that scan() derives from them is empty. */
static uintptr_t below_bound, end_bound;
/* A mostly-concurrent mark is running with the world running (collector.h):
 * mark functions wait for its final stop, which runs them for every marked
 * object of their kinds (gen.c), as the contract of kind.h wants the world
 * stopped. */
static _Atomic bool concurrent;

static void mark_root(const root_desc *d, void *arg);

void marker_set_limit(size_t entries) { limit = entries; }

void mark_begin(bool minor)
{
    hgc_assert(phase_get() == GC_MARK, "marking begins in phase %s", phase_name(phase_get()));
    for (unsigned i = 0; i < hgc__nmarkers; i++) {
        hgc__markers[i].bot = hgc__markers[i].top = 0;
        hgc__markers[i].live_bytes = 0;
        hgc__markers[i].npromo = 0;
    }
    counted_old = counted_survivor = 0;
    root_bytes = 0;
    mode = MODE_OLD;
    if (minor) {
        uint8_t v = survivor_now;
        survivor_now = survivor_before;
        survivor_before = v;
        hgc__live_marks = MARK_OLD | survivor_now;
    } else {
        hgc__live_marks = MARK_OLD;
    }
    atomic_store_explicit(&hgc__mark_overflowed, false, memory_order_relaxed);
    below_bound = atomic_load_explicit(&hgc__heap_below, memory_order_acquire);
    end_bound = atomic_load_explicit(&hgc__heap_end, memory_order_acquire);
}

uint8_t mark_dead_survivor(void) { return survivor_before; }

void mark_concurrent_begin(void) { atomic_store_explicit(&concurrent, true, memory_order_relaxed); }

bool mark_world_stopped(void)
{
    return phase_get() == GC_MARK && !atomic_load_explicit(&concurrent, memory_order_relaxed);
}

void mark_final_begin(void)
{
    atomic_store_explicit(&concurrent, false, memory_order_relaxed);
    root_bytes = 0; /* the roots are scanned again now */
    below_bound = atomic_load_explicit(&hgc__heap_below, memory_order_acquire);
    end_bound = atomic_load_explicit(&hgc__heap_end, memory_order_acquire);
}

void mark_rescan_marked(void)
{
    atomic_store_explicit(&hgc__mark_overflowed, true, memory_order_relaxed);
    mark_drain();
}

void mark_roots_push(struct thread_rec *self)
{
    roots_each(self, mark_root, NULL);
}

/* Move the markers' byte counts to the current phase's total. */
static void count_phase(void)
{
    size_t n = mark_take_assist_bytes();
    for (unsigned i = 0; i < hgc__nmarkers; i++) {
        n += hgc__markers[i].live_bytes;
        hgc__markers[i].live_bytes = 0;
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
 * false when it cannot grow.  Mark stacks are not vecs (base/vec.h): they
 * have a limit (HGC_MARK_STACK_LIMIT) whose overflow marking recovers
 * from, a bottom that sharing advances, and the drain loop keeps their
 * top in a register (cursor, below). */
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
NOINLINE bool marker_grow(marker *m)
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
        atomic_store_explicit(&hgc__mark_overflowed, true, memory_order_relaxed);
        return;
    }
    hgc_assert(m->top < m->cap, "marker %d: push at %zu past its stack of %zu",
               (int)(m - hgc__markers), m->top, m->cap);
    hgc_assert(lo <= hi, "marker %d: range [%#lx, %#lx) pushed backwards", (int)(m - hgc__markers),
               (unsigned long)lo, (unsigned long)hi);
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
    unsigned scan = kind_scan(s->kind);
    if (scan == SCAN_NONE)
        return;
    uintptr_t tag = entry_tag(scan);
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
            unsigned scan = kind_scan(s->kind);
            if (scan == SCAN_NONE) { /* nothing to scan: old at once */
                __atomic_store_n(mb, MARK_OLD, __ATOMIC_RELAXED);
                m->live_bytes += s->elem_size;
                return;
            }
            __atomic_store_n(mb, survivor_now, __ATOMIC_RELAXED);
            uintptr_t tag = PROMO_LARGE | entry_tag(scan);
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
    hgc_assert(c->bot <= c->top && c->top <= c->cap,
               "marker %d: stack entries [%zu, %zu) outside its %zu", (int)(m - hgc__markers),
               c->bot, c->top, c->cap);
    m->bot = c->bot;
    m->top = c->top;
    m->live_bytes += c->live;
    c->live = 0;
}

/* Phase 2 of a minor collection found small object obj (mark byte *mb,
 * scan class `scan`) carrying the previous survivor value: list it for
 * promotion.  Works on m's fields, not a cursor's. */
static NOINLINE void survived_again(marker *m, uint8_t *mb, uintptr_t obj, size_t size,
                                    unsigned scan)
{
    if (scan == SCAN_NONE) { /* nothing to scan: old at once */
        __atomic_store_n(mb, MARK_OLD, __ATOMIC_RELAXED);
        m->live_bytes += size;
        return;
    }
    __atomic_store_n(mb, survivor_now, __ATOMIC_RELAXED);
    uintptr_t lo = obj | entry_tag(scan);
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
        unsigned scan = (pi >> PINFO_KIND_SHIFT) & 3; /* the kind's scan class */
        if (young) {
            if (b != 0) {
                if (b == before) {
                    cursor_store(m, c);
                    survived_again(m, mb, obj, size, scan);
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
        if (scan == SCAN_NONE)
            continue;
        if (unlikely(c->top == c->cap)) {
            cursor_store(m, c);
            marker_push(m, obj | entry_tag(scan), obj + size);
            cursor_load(c, m);
            continue;
        }
        c->stack[c->top].lo = obj | entry_tag(scan);
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
        /* Freed by the program while a concurrent mark held its range:
         * the descriptor may describe another span by now. */
        if (atomic_load_explicit(&concurrent, memory_order_relaxed) &&
            atomic_load_explicit(&s->state, memory_order_acquire) != SPAN_LARGE)
            return;
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

/* Run the mark function of the kind of object obj, an object start.  A
 * free slot (a stale pointer reached it) is passed over: the function
 * sees only objects the program was handed, as a free slot's words
 * (alloc.h) are no object's.  Bump regions never hold such kinds
 * (central.c), so every other slot is one the program holds. */
static NOINLINE void run_mark_fn(marker *m, cursor *c, uintptr_t obj)
{
    if (atomic_load_explicit(&concurrent, memory_order_relaxed))
        return; /* at the final stop (concurrent, above) */
    span *s = pagemap_lookup(obj);
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != SPAN_LARGE &&
        slot_word((const void *)obj, 1) == free_tag((const void *)obj))
        return;
    const kind_info *k = &hgc__kinds[s->kind];
    hgc_assert(k->scan == SCAN_PROC && k->mark, "object %p of kind %u has no mark function",
               (void *)obj, (unsigned)s->kind);
    cursor_store(m, c);
    /* The size hgc_size() reports: the slot, or a large object's pages. */
    k->mark((void *)obj, s->elem_size, (struct hgc_mark_state *)m, k->env);
    cursor_load(c, m);
}

NO_SANITIZE_SCAN void mark_state_word(struct hgc_mark_state *st, uintptr_t w)
{
    marker *m = (marker *)st;
    cursor c;
    cursor_load(&c, m);
    scan_any(m, &c, (uintptr_t)&w, (uintptr_t)(&w + 1));
    cursor_store(m, &c);
}

NO_SANITIZE_SCAN void mark_state_range(struct hgc_mark_state *st, uintptr_t lo, uintptr_t hi)
{
    marker *m = (marker *)st;
    cursor c;
    cursor_load(&c, m);
    scan_any(m, &c, lo, hi);
    cursor_store(m, &c);
}

size_t mark_root_bytes(void) { return root_bytes; }

NO_SANITIZE_SCAN void mark_range(uintptr_t lo, uintptr_t hi)
{
    marker *m = &hgc__markers[0];
    if (hi > lo)
        root_bytes += hi - lo;
    cursor c;
    cursor_load(&c, m);
    scan_any(m, &c, lo, hi);
    cursor_store(m, &c);
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
         * finds its layout word at the end of the range.  An object with a
         * mark function is never cut: the function gets it whole. */
        if (unlikely(hi - (lo & ~ENTRY_TAGS) > LARGE_CHUNK) && !(lo & ENTRY_PROC) &&
            (!(lo & ENTRY_TYPED) || hi - (lo & ~ENTRY_TAGS) > SMALL_MAX)) {
            uintptr_t mid = (lo & ~ENTRY_TAGS) + LARGE_CHUNK;
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
        if (unlikely(lo & ENTRY_TAGS)) {
            if (lo & ENTRY_TYPED)
                scan_typed(m, &c, lo, hi);
            else
                run_mark_fn(m, &c, lo & ~ENTRY_TAGS);
        } else {
            scan(m, &c, lo, hi, young);
        }
        if (shared && unlikely(atomic_load_explicit(&hgc__mark_hungry, memory_order_relaxed) != 0) &&
            c.top - c.bot >= 2) {
            cursor_store(m, &c);
            work_share(m);
            cursor_load(&c, m);
        }
    }
    c.bot = c.top = 0;
    cursor_store(m, &c);
    return true;
}

NO_SANITIZE_SCAN bool marker_drain(marker *m, bool shared, size_t budget)
{
    if (mode == MODE_YOUNG)
        return drain_mode(m, shared, budget, true);
    return drain_mode(m, shared, budget, false);
}

/* Push the words of object obj of span s, as scanning a pointer to it
 * would, without looking at its mark. */
static void push_object(marker *m, span *s, uintptr_t obj)
{
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE)
        push_large(m, s);
    else if (kind_scan(s->kind) != SCAN_NONE)
        marker_push(m, obj | entry_tag(kind_scan(s->kind)), obj + s->elem_size);
}

/* Overflow recovery: scan again every object of a scanned span that
 * carries the mark the current mode gives (so a minor collection's phase 2
 * rescans its survivors, not the old generation). */
void mark_rescan_span(span *s, void *arg)
{
    (void)arg;
    if (kind_scan(s->kind) == SCAN_NONE)
        return;
    uint8_t want = mode == MODE_YOUNG ? survivor_now : MARK_OLD;
    uint8_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
    if (state == SPAN_LARGE) {
        if (*span_mark_of(s, s->base) == want)
            push_object(&hgc__markers[0], s, s->base);
    } else {
        for (uint32_t i = 0; i < s->nelems; i++) {
            uintptr_t obj = s->base + (uintptr_t)i * s->elem_size;
            if (*span_mark_of(s, obj) == want) {
                push_object(&hgc__markers[0], s, obj);
                marker_drain(&hgc__markers[0], false, SIZE_MAX); /* so a tiny stack cannot overflow */
            }
        }
    }
    marker_drain(&hgc__markers[0], false, SIZE_MAX);
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
    marker *m0 = &hgc__markers[0];
    for (unsigned i = 0; i < hgc__nmarkers; i++) {
        marker *m = &hgc__markers[i];
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

void mark_push_range(uintptr_t lo, uintptr_t hi, unsigned scan)
{
    marker_push(&hgc__markers[0], lo | entry_tag(scan), hi);
}

size_t mark_pending(void)
{
    return hgc__markers[0].top - hgc__markers[0].bot;
}

size_t mark_stack_bytes(void)
{
    size_t n = 0;
    for (unsigned i = 0; i < hgc__nmarkers; i++)
        n += (hgc__markers[i].cap + hgc__markers[i].promo_cap) * sizeof(mark_entry);
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
    if (!s || kind_scan(s->kind) == SCAN_NONE)
        return;
    /* The mark function decides, about the object itself too. */
    if (!skip_self || kind_scan(s->kind) == SCAN_PROC) {
        push_object(&hgc__markers[0], s, obj);
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

static void mark_root(const root_desc *d, void *arg)
{
    (void)arg;
    if (d->kind == ROOT_STACK && d->hi > d->lo)
        root_bytes += d->hi - d->lo;
    mark_range(d->lo, d->hi);
}

/* Every root is scanned first and the objects they reach are drained in
 * one go, so that all markers start together on the whole root set. */
void (*hgc__push_other_roots)(void);
static thread_rec *marking_self; /* mark_roots' self, for mark_thread_stacks */
static bool stacks_marked;         /* mark_thread_stacks ran in this marking */

void mark_thread_stacks(void)
{
    roots_each_stack(marking_self, mark_root, NULL);
    stacks_marked = true;
}

void mark_roots(thread_rec *self)
{
    marking_self = self;
    stacks_marked = false;
    if (hgc__push_other_roots) {
        roots_each_global(mark_root, NULL);
        hgc__push_other_roots(); /* the thread stacks included */
    } else {
        roots_each(self, mark_root, NULL);
        stacks_marked = true;
    }
    /* A procedure that did not call the one it replaced (Boehm would then
     * scan no stack): the stacks all the same, retaining more, never less. */
    if (!stacks_marked)
        mark_thread_stacks();
    mark_drain();
}
