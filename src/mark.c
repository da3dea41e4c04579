/* mark.c -- conservative marking with an explicit, growable mark stack. */
#include <string.h>

#include "heap.h"
#include "mark.h"
#include "os.h"
#include "util.h"

typedef struct mark_entry {
    uintptr_t lo, hi;
} mark_entry;

static mark_entry *stack;
static size_t top, cap, limit;
static bool overflowed;
static size_t live_bytes;
/* Heap bounds, snapshot for the cycle (the heap cannot grow while the
 * world is stopped). */
static uintptr_t lo_bound, hi_bound;

void mark_init(size_t stack_limit_entries)
{
    limit = stack_limit_entries ? stack_limit_entries : SIZE_MAX;
}

void mark_begin(void)
{
    top = 0;
    overflowed = false;
    live_bytes = 0;
    lo_bound = atomic_load_explicit(&hgc__heap_lo, memory_order_acquire);
    hi_bound = atomic_load_explicit(&hgc__heap_hi, memory_order_acquire);
    if (hi_bound < lo_bound) /* no heap yet */
        lo_bound = hi_bound = 0;
}

size_t mark_live_bytes(void) { return live_bytes; }

static bool grow_stack(void)
{
    size_t ncap = cap ? cap * 2 : 4096;
    if (ncap > limit)
        ncap = limit;
    if (ncap <= cap)
        return false;
    mark_entry *n = os_reserve(ncap * sizeof *n, 4096);
    if (!n)
        return false;
    if (top)
        memcpy(n, stack, top * sizeof *n);
    if (stack)
        os_unmap(stack, cap * sizeof *stack);
    stack = n;
    cap = ncap;
    return true;
}

static inline void push(uintptr_t lo, uintptr_t hi)
{
    if (unlikely(top == cap) && !grow_stack()) {
        /* The object is marked but unscanned: mark_drain() finds it again
         * by rescanning marked objects. */
        overflowed = true;
        return;
    }
    stack[top].lo = lo;
    stack[top].hi = hi;
    top++;
}

static inline void mark_word(uintptr_t w)
{
    if (w - lo_bound >= hi_bound - lo_bound)
        return;
    arena *a = atomic_load_explicit(&hgc__arena_table[w >> ARENA_SHIFT], memory_order_relaxed);
    if (!a)
        return;
    span *s = atomic_load_explicit(&a->pages[(w >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)],
                                   memory_order_relaxed);
    uint8_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
    uintptr_t obj;
    size_t scan_bytes;
    if (state == SPAN_SMALL) {
        obj = span_object_start(s, w, NULL);
        if (!obj)
            return;
        scan_bytes = s->elem_size;
    } else if (state == SPAN_LARGE) {
        obj = s->base;
        scan_bytes = (s->req_size + sizeof(uintptr_t) - 1) & ~(sizeof(uintptr_t) - 1);
    } else {
        return;
    }
    uint8_t *m = span_mark_of(s, obj);
    if (*m)
        return;
    *m = 1;
    live_bytes += s->elem_size;
    if (s->kind == KIND_SCANNED)
        push(obj, obj + scan_bytes);
}

NO_SANITIZE_SCAN void mark_range(uintptr_t lo, uintptr_t hi)
{
    lo = (lo + sizeof(uintptr_t) - 1) & ~(sizeof(uintptr_t) - 1);
    for (uintptr_t p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t))
        mark_word(*(const uintptr_t *)p);
}

/* Draining goes through a small FIFO between the stack and the scan: an
 * object is prefetched when it enters the FIFO and scanned PREFETCH_DEPTH
 * objects later, when its cache line has arrived.  Marking is bound by
 * these misses, not by instructions. */
#define PREFETCH_DEPTH 8

static void drain_stack(void)
{
    mark_entry fifo[PREFETCH_DEPTH];
    unsigned head = 0, count = 0;
    for (;;) {
        while (count < PREFETCH_DEPTH && top) {
            top--;
            __builtin_prefetch((const void *)stack[top].lo);
            fifo[(head + count) % PREFETCH_DEPTH] = stack[top];
            count++;
        }
        if (count == 0)
            return;
        mark_entry e = fifo[head];
        head = (head + 1) % PREFETCH_DEPTH;
        count--;
        mark_range(e.lo, e.hi);
    }
}

/* Overflow recovery: scan every marked object of a scanned span again. */
static void rescan_span(span *s, void *arg)
{
    (void)arg;
    if (s->kind != KIND_SCANNED)
        return;
    uint8_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
    if (state == SPAN_LARGE) {
        if (*span_mark_of(s, s->base))
            mark_range(s->base, s->base + s->req_size);
    } else {
        for (uint32_t i = 0; i < s->nelems; i++) {
            uintptr_t obj = s->base + (uintptr_t)i * s->elem_size;
            if (*span_mark_of(s, obj))
                mark_range(obj, obj + s->elem_size);
        }
    }
    drain_stack();
}

void mark_drain(void)
{
    drain_stack();
    while (overflowed) {
        overflowed = false;
        pageheap_each_span(rescan_span, NULL);
    }
}
