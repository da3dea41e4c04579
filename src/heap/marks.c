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
