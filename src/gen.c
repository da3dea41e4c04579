/* gen.c -- generations by sticky mark bytes.  See gen.h for the argument. */
#include <string.h>

#include "gen.h"
#include "heap.h"
#include "mark.h"
#include "options.h"
#include "os.h"

bool hgc__sticky_marks;
/* Write tracking works: registered for every arena, and not in a forked
 * child.  Changed only with the world lock held. */
static _Atomic bool tracking;

void gen_init(void)
{
    if (!option_get(OPT_GENERATIONAL))
        return;
    hgc__sticky_marks = true;
    tracking = os_wt_init();
}

bool gen_minor_possible(void) { return tracking; }

void gen_arena_added(uintptr_t lo, uintptr_t hi)
{
    if (tracking && !os_wt_register(lo, hi))
        tracking = false; /* that arena's writes would go unseen */
}

void gen_after_fork_child(void)
{
    tracking = false;
    os_wt_after_fork_child();
}

/* ------------------------------------------------------------ written pages */

/* Whether any slot first..last of small span s is marked.  Most written
 * pages hold only young objects: their marks are checked eight bytes at a
 * time (slot marks lie between the bytes of the other granules, which are
 * always zero). */
static bool any_mark(const span *s, uint32_t first, uint32_t last)
{
    const uint8_t *m = span_mark_of(s, s->base + (uintptr_t)first * s->elem_size);
    const uint8_t *end = span_mark_of(s, s->base + (uintptr_t)last * s->elem_size) + 1;
    for (; m + 8 <= end; m += 8) {
        uint64_t w;
        memcpy(&w, m, sizeof w);
        if (w)
            return true;
    }
    for (; m < end; m++)
        if (*m)
            return true;
    return false;
}

/* Push the old objects of span s that overlap [lo, hi) (within s) and note
 * their pages for protection. */
static void push_old_in(arena *a, span *s, uintptr_t lo, uintptr_t hi)
{
    if (s->kind == KIND_ATOMIC)
        return;
    bool typed = s->kind == KIND_TYPED;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE) {
        if (!*span_mark_of(s, s->base))
            return;
        /* Only the written window: the rest of the object was not written,
         * so it refers only to old objects. */
        uintptr_t end = s->base + (s->req_size & ~(sizeof(uintptr_t) - 1));
        if (hi > end)
            hi = end;
        if (lo < hi) {
            mark_push_range(lo, hi, typed);
            /* A page of s in this arena (s may begin in an earlier one). */
            a->protect[(lo >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)] = 1;
        }
        return;
    }
    size_t size = s->elem_size;
    uint32_t first = (uint32_t)((lo - s->base) / size);
    uint32_t last = (uint32_t)((hi - 1 - s->base) / size);
    if (last >= s->nelems)
        last = s->nelems - 1;
    if (first > last || !any_mark(s, first, last))
        return;
    bool found = false;
    for (uint32_t i = first; i <= last; i++) {
        uintptr_t obj = s->base + (uintptr_t)i * size;
        if (*span_mark_of(s, obj)) {
            mark_push_range(obj, obj + size, typed);
            found = true;
        }
    }
    if (found)
        a->protect[(s->base >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)] = 1;
}

/* os_wt_each_written callback: [lo, hi) inside one arena. */
static void push_old_written(uintptr_t lo, uintptr_t hi, void *arg)
{
    arena *a = arg;
    while (lo < hi) {
        span *s = atomic_load_explicit(&a->pages[(lo >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)],
                                       memory_order_relaxed);
        uintptr_t end = s->base + s->npages * PAGE_SIZE;
        if (end > hi)
            end = hi;
        if (atomic_load_explicit(&s->state, memory_order_relaxed) != SPAN_FREE)
            push_old_in(a, s, lo, end);
        lo = end;
    }
}

static bool push_arena(arena *a, void *arg)
{
    (void)arg;
    return os_wt_each_written(a->base, a->base + ARENA_SIZE, push_old_written, a);
}

bool gen_push_written(void)
{
    if (!tracking)
        return false;
    if (pageheap_each_arena(push_arena, NULL))
        return true;
    tracking = false; /* the kernel stopped telling: majors from now on */
    return false;
}

/* ------------------------------------------------------------------ marks */

static void clear_span_marks(span *s, void *arg)
{
    (void)arg;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE)
        *s->marks = 0; /* its only mark; the span may outgrow its arena's table */
    else
        memset(s->marks, 0, (s->npages * PAGE_SIZE) >> GRANULE_SHIFT);
}

void gen_clear_marks(void)
{
    pageheap_each_span(clear_span_marks, NULL);
}

/* ------------------------------------------------------------- protection */

/* Protect the spans whose first page has its protect byte set (marker and
 * push_old_in set it for a page of the span; normalised here), clearing
 * the bytes.  Adjacent spans go in one call. */
static bool protect_arena(arena *a, void *arg)
{
    (void)arg;
    uintptr_t run_lo = 0, run_hi = 0;
    for (size_t pg = 0; pg < PAGES_PER_ARENA;) {
        /* Eight pages at a time while their bytes are all zero. */
        if (pg % 8 == 0 && pg + 8 <= PAGES_PER_ARENA) {
            uint64_t w;
            memcpy(&w, &a->protect[pg], sizeof w);
            if (w == 0) {
                pg += 8;
                continue;
            }
        }
        if (!a->protect[pg]) {
            pg++;
            continue;
        }
        span *s = atomic_load_explicit(&a->pages[pg], memory_order_relaxed);
        /* A large span may run past this arena (never a small one). */
        uintptr_t span_end = s->base + s->npages * PAGE_SIZE;
        size_t end_pg = span_end - a->base >= ARENA_SIZE ? PAGES_PER_ARENA
                                                         : (span_end - a->base) >> PAGE_SHIFT;
        memset(&a->protect[pg], 0, end_pg - pg);
        pg = end_pg;
        if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_FREE ||
            s->kind == KIND_ATOMIC)
            continue;
        uintptr_t lo = s->base, hi = lo + s->npages * PAGE_SIZE;
        if (lo != run_hi) {
            if (run_lo < run_hi)
                os_wt_protect(run_lo, run_hi);
            run_lo = lo;
        }
        run_hi = hi;
    }
    if (run_lo < run_hi)
        os_wt_protect(run_lo, run_hi);
    return true;
}

void gen_protect(void)
{
    if (tracking)
        pageheap_each_arena(protect_arena, NULL);
}
