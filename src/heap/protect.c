/* protect.c -- write tracking of heap pages.  See protect.h. */
#include <string.h>

#include "heap/protect.h"
#include "os/os.h"

/* Changed by a collection (world lock held), by an arena that cannot be
 * registered (heap lock held, world running -- hence atomic) or in a
 * forked child. */
static _Atomic bool tracking;

void heap_wt_init(void) { tracking = os_wt_init(); }

bool heap_wt_tracking(void) { return atomic_load_explicit(&tracking, memory_order_relaxed); }

void heap_wt_stop(void) { tracking = false; }

bool heap_wt_check(void)
{
    if (tracking && !os_wt_still_valid())
        tracking = false;
    return tracking;
}

void heap_wt_arena_added(uintptr_t lo, uintptr_t hi)
{
    if (tracking && (!os_wt_still_valid() || !os_wt_register(lo, hi)))
        tracking = false; /* that arena's writes would go unseen */
}

void heap_wt_after_fork_child(void)
{
    tracking = false;
    os_wt_after_fork_child();
}

/* Whether small span s has a slot that the coming sweep frees (marks as
 * this marking left them). */
static bool has_dead_slot(const span *s)
{
    size_t step = s->elem_size >> GRANULE_SHIFT;
    for (uint32_t i = 0; i < s->nelems; i++)
        if (!mark_byte_live(s->marks[i * step]))
            return true;
    return false;
}

/* Protect (if *arg) every span with a page whose protect byte is set, and
 * clear the bytes.  Adjacent spans go in one call.  Except a span that is
 * written soon anyway, where each first write to a protected page would
 * cost a fault: one a thread cache holds, which its owner allocates into
 * next, and one with a slot to free, which its sweep writes and then
 * allocation reuses (a program that keeps writing its old data leaves most
 * such spans partly free).  Left unprotected, their pages count as
 * written, so the next minor collection scans their old objects instead,
 * as it would after the faults -- and an old object that was not written
 * refers only to old objects, so scanning it changes nothing but the
 * time. */
typedef struct protect_args {
    bool apply, skip_protected;
} protect_args;

static bool protect_arena(arena *a, void *arg)
{
    const protect_args *pa = arg;
    bool apply = pa->apply;
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
        /* Pointer-free spans need no watching, and minor collections run
         * the mark function of every old object of a SCAN_PROC kind
         * whether its page was written or not (gen.c). */
        if (!apply || atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_FREE ||
            kind_scan(s->kind) == SCAN_NONE || kind_scan(s->kind) == SCAN_PROC)
            continue;
        s->has_old = true;
        if (atomic_load_explicit(&s->owner, memory_order_relaxed) != NULL)
            continue;
        if (pa->skip_protected && s->protected)
            continue; /* its pages are protected (heap_wt_protect) */
        if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_SMALL && has_dead_slot(s))
            continue;
        uintptr_t lo = s->base, hi = lo + s->npages * PAGE_SIZE;
        s->protected = true;
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

/* Protect every span of a scanned kind that no cache holds, whole arena
 * by arena, adjacent spans in one call.  The world runs: spans change
 * under this walk, so it reads them racily (unchecked by the sanitizers)
 * and may protect too much or too little.  Either is safe: protecting a
 * page costs at most a fault, and a page left unprotected counts as
 * written. */
static NO_SANITIZE_SCAN bool protect_arena_all(arena *a, void *arg)
{
    (void)arg;
    uintptr_t run_lo = 0, run_hi = 0;
    for (size_t pg = 0; pg < PAGES_PER_ARENA;) {
        span *s = atomic_load_explicit(&a->pages[pg], memory_order_relaxed);
        if (!s) {
            pg++;
            continue;
        }
        uintptr_t base = s->base, span_end = base + s->npages * PAGE_SIZE;
        size_t end_pg = span_end <= a->base ? 0
                        : span_end - a->base >= ARENA_SIZE ? PAGES_PER_ARENA
                                                          : (span_end - a->base) >> PAGE_SHIFT;
        /* A large span that began in an earlier arena was protected there
         * whole; a descriptor read mid-change may name anything. */
        bool starts_here = base == a->base + pg * PAGE_SIZE && end_pg > pg;
        pg = end_pg > pg ? end_pg : pg + 1;
        uint8_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
        unsigned scan = kind_scan(s->kind);
        if (!starts_here || state == SPAN_FREE || scan == SCAN_NONE || scan == SCAN_PROC ||
            atomic_load_explicit(&s->owner, memory_order_relaxed) != NULL)
            continue;
        s->protected = true;
        if (base != run_hi) {
            if (run_lo < run_hi)
                os_wt_protect(run_lo, run_hi);
            run_lo = base;
        }
        run_hi = span_end;
    }
    if (run_lo < run_hi)
        os_wt_protect(run_lo, run_hi);
    return true;
}

void heap_wt_protect_all(void)
{
    if (tracking)
        pageheap_each_arena_running(protect_arena_all, NULL);
}

void heap_span_emptied(span *s)
{
    s->has_old = false;
    if (!s->protected)
        return;
    s->protected = false;
    /* Tracking off: protection no longer matters (and in a forked child
     * the descriptor is gone).  If the program closed the descriptor and
     * its number was reused, the next collection notices; until then this
     * request fails on the foreign descriptor (userfaultfd's ioctl codes
     * mean nothing to other files). */
    if (atomic_load_explicit(&tracking, memory_order_relaxed))
        os_wt_unprotect(s->base, s->base + s->npages * PAGE_SIZE);
}

void heap_wt_protect(bool apply, bool skip_protected)
{
    protect_args pa = {apply, skip_protected};
    if (tracking)
        pageheap_each_arena(protect_arena, &pa);
}
