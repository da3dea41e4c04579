/* marks.c -- the lifetime of mark bytes.  See marks.h. */
#include <string.h>

#include "heap/marks.h"

bool hgc__sticky_marks;
uint8_t hgc__live_marks = MARK_OLD;

/* Markings so far, counting from 1 (span.zero_cycle 0 never matches).  A
 * span's marks are all 0 while its zero_cycle equals this: only marking
 * sets a mark, and it bumps the count.  Written with the world stopped,
 * read by sweeps in between; the stop and restart order the two. */
static _Atomic uint64_t mark_cycle = 1;

void heap_marks_zeroed(span *s)
{
    s->zero_cycle = atomic_load_explicit(&mark_cycle, memory_order_relaxed);
}

void heap_marking_done(void)
{
    atomic_fetch_add_explicit(&mark_cycle, 1, memory_order_relaxed);
}

static void clear_span_marks(span *s, void *arg)
{
    uint64_t cycle = *(const uint64_t *)arg;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE)
        *s->marks = 0; /* its only mark; the span may outgrow its arena's table */
    else if (s->zero_cycle != cycle)
        memset(s->marks, 0, (s->npages * PAGE_SIZE) >> GRANULE_SHIFT);
}

void heap_clear_marks(void)
{
    uint64_t cycle = atomic_load_explicit(&mark_cycle, memory_order_relaxed);
    pageheap_each_span(clear_span_marks, &cycle);
}

/* Clear n bytes at p (8-byte aligned, n a multiple of 8) with relaxed
 * atomic stores: the program's frees write zeros into these bytes
 * meanwhile, and a memset would be checked by ThreadSanitizer's
 * interceptor although this walk is exempt from its instrumentation. */
static NO_SANITIZE_SCAN void clear_running(uint8_t *p, size_t n)
{
    uint64_t *w = (uint64_t *)p;
    for (size_t i = 0; i < n / 8; i++)
        __atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
}

/* heap_clear_marks for one arena, the world running: spans are read
 * racily; a descriptor read mid-change can only make this clear marks of
 * the same arena that are cleared anyway. */
static NO_SANITIZE_SCAN bool clear_arena_running(arena *a, void *arg)
{
    uint64_t cycle = *(const uint64_t *)arg;
    for (size_t pg = 0; pg < PAGES_PER_ARENA;) {
        span *s = atomic_load_explicit(&a->pages[pg], memory_order_relaxed);
        uintptr_t here = a->base + pg * PAGE_SIZE;
        if (!s || s->base != here) {
            pg++;
            continue;
        }
        size_t npages = s->npages;
        if (npages == 0 || npages > PAGES_PER_ARENA - pg)
            npages = PAGES_PER_ARENA - pg;
        uint8_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
        uint8_t *marks = a->marks + ((here - a->base) >> GRANULE_SHIFT);
        if (state == SPAN_LARGE)
            __atomic_store_n(marks, 0, __ATOMIC_RELAXED);
        else if (state == SPAN_SMALL && s->zero_cycle != cycle)
            clear_running(marks, (npages * PAGE_SIZE) >> GRANULE_SHIFT);
        pg += npages;
    }
    return true;
}

void heap_clear_marks_running(void)
{
    uint64_t cycle = atomic_load_explicit(&mark_cycle, memory_order_relaxed);
    pageheap_each_arena_running(clear_arena_running, &cycle);
}
