/* gen.c -- generations by sticky mark bytes.  See gen.h for the argument. */
#include <stdlib.h>
#include <string.h>

#include "mark/gen.h"
#include "base/tools.h"
#include "base/vec.h"
#include "heap/heap.h"
#include "heap/marks.h"
#include "heap/protect.h"
#include "mutator/threads.h"
#include "mark/mark.h"
#include "base/options.h"
#include "os/os.h"

/* The last collection protected what it found old (gen_protect(true)).
 * Then every scanned span that holds an old object has `has_old` set: old
 * objects are made only by collections, each one the last collection made
 * or found on a written page was noted for protection, the rest sat in
 * spans noted before, and `has_old` is cleared only on a span that holds
 * nothing.  A minor collection may then pass over the written pages of the
 * other spans -- the young ones, which all fresh allocation writes.  After
 * gen_protect(false) a forced minor (stress, hgc_collect_minor) must look
 * at every written page. */
static bool protection_complete;
/* This collection's gen_push_written protected every page it reported:
 * a span marked protected has all its pages protected now. */
static bool all_reprotected;

void gen_init(bool concurrent)
{
    /* Valgrind has no userfaultfd: spare the program its warning. */
    bool generational = option_get(OPT_GENERATIONAL) != 0;
    if ((!generational && !concurrent) || hgc__tools)
        return;
    hgc__sticky_marks = generational;
    heap_wt_init();
    threads_on_fork_child(heap_wt_after_fork_child);
}

bool gen_minor_possible(void) { return hgc__sticky_marks && heap_wt_tracking(); }

bool gen_concurrent_possible(void) { return heap_wt_tracking(); }

void gen_protect_for_mark(void)
{
    heap_wt_protect_all();
    /* Objects this marking marks may lie in any span: the final rescan
     * must not pass over spans without has_old. */
    protection_complete = false;
}

/* ------------------------------------------------------------ written pages */

/* Whether any slot first..last of small span s is old.  Most written
 * pages hold only young objects: their marks are checked eight bytes at a
 * time (slot marks lie between the bytes of the other granules, which are
 * always zero; MARK_OLD is the only mark value with bit 0 set). */
_Static_assert(MARK_OLD == 1 && !(MARK_SURVIVOR_A & 1) && !(MARK_SURVIVOR_B & 1),
               "bit 0 of a mark byte says old");
static bool any_old(const span *s, uint32_t first, uint32_t last)
{
    const uint8_t *m = span_mark_of(s, s->base + (uintptr_t)first * s->elem_size);
    const uint8_t *end = span_mark_of(s, s->base + (uintptr_t)last * s->elem_size) + 1;
    for (; m + 8 <= end; m += 8) {
        uint64_t w;
        memcpy(&w, m, sizeof w);
        if (w & 0x0101010101010101ull)
            return true;
    }
    for (; m < end; m++)
        if (*m == MARK_OLD)
            return true;
    return false;
}

/* Count the bytes of the old objects of span s that overlap [lo, hi)
 * (within s) into *bytes; with push, also push them and note their pages
 * for protection. */
static void push_old_in(arena *a, span *s, uintptr_t lo, uintptr_t hi, bool push, size_t *bytes)
{
    unsigned scan = kind_scan(s->kind);
    if (scan == SCAN_NONE || scan == SCAN_PROC) /* push_proc_objects pushes SCAN_PROC's */
        return;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE) {
        if (*span_mark_of(s, s->base) != MARK_OLD)
            return;
        /* Only the written window: the rest of the object was not written,
         * so it refers only to old objects. */
        uintptr_t end = s->base + ((s->req_size + sizeof(uintptr_t) - 1) & ~(sizeof(uintptr_t) - 1));
        if (hi > end)
            hi = end;
        if (lo < hi) {
            *bytes += hi - lo;
            if (push) {
                mark_push_range(lo, hi, scan);
                /* A page of s in this arena (s may begin in an earlier one). */
                a->protect[(lo >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)] = 1;
            }
        }
        return;
    }
    size_t size = s->elem_size;
    uint32_t first = (uint32_t)((lo - s->base) / size);
    uint32_t last = (uint32_t)((hi - 1 - s->base) / size);
    if (last >= s->nelems)
        last = s->nelems - 1;
    if (first > last || !any_old(s, first, last))
        return;
    bool found = false;
    for (uint32_t i = first; i <= last; i++) {
        uintptr_t obj = s->base + (uintptr_t)i * size;
        if (*span_mark_of(s, obj) == MARK_OLD) {
            if (push)
                mark_push_range(obj, obj + size, scan);
            *bytes += size;
            found = true;
        }
    }
    if (found && push)
        a->protect[(s->base >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)] = 1;
}

/* The written runs of the last minor collection's scan, sorted by
 * address, kept when asked for (verification). */
typedef struct written_run {
    uintptr_t lo, hi;
} written_run;
static vec written = VEC_INIT(written_run);
static bool record_written;

static void note_written(uintptr_t lo, uintptr_t hi)
{
    written_run *r = vec_push(&written);
    if (!r)
        hgc__fatal("out of memory for the verifier's list of written pages");
    *r = (written_run){lo, hi};
}

static int cmp_run(const void *a, const void *b)
{
    uintptr_t x = ((const written_run *)a)->lo, y = ((const written_run *)b)->lo;
    return x < y ? -1 : x > y;
}

bool gen_was_written(uintptr_t p)
{
    size_t lo = 0, hi = written.n;
    while (lo < hi) { /* the first run that ends above p */
        size_t mid = (lo + hi) / 2;
        if (VEC_AT(&written, written_run, mid).hi <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < written.n && VEC_AT(&written, written_run, lo).lo <= p;
}

/* The walk of the written pages pushes old objects until PUSH_DEFER_AT
 * entries wait, then only counts, keeping the rest of the runs as `tail`:
 * draining them as they are pushed would mark for nothing if the count
 * then passed the limit and the collection turned major, and walking the
 * pages again (the kernel's page-table walk) would add to every pause.
 * When the count stays within the limit, the tail is pushed and drained a
 * batch at a time, so that the mark stack stays short when old objects
 * were written all over: pushed at once, 800,000 of them took 13 MiB of
 * stack (kept for good).  Objects the batches make old may be pushed again
 * from a later run; scanning one twice costs only time. */
#define PUSH_DEFER_AT 32768

typedef struct tail_run {
    arena *a;
    uintptr_t lo, hi;
} tail_run;
static vec tail = VEC_INIT(tail_run);

/* False when out of memory: the caller pushes instead (a deep stack, or an
 * overflow and its rescan, cost time, not correctness). */
static bool tail_add(arena *a, uintptr_t lo, uintptr_t hi)
{
    tail_run *r = vec_push(&tail);
    if (!r)
        return false;
    *r = (tail_run){a, lo, hi};
    return true;
}

typedef struct push_state {
    arena *a;
    bool reprotect;       /* protect the written pages again as they are read */
    bool push;            /* else count, and keep the runs in `tail` */
    bool drain;           /* drain every PUSH_DEFER_AT entries */
    bool no_tail;         /* out of memory for `tail`: push everything */
    size_t bytes, limit;
} push_state;

/* The old objects of the spans in [lo, hi), inside ps->a. */
static void push_old_run(push_state *ps, uintptr_t lo, uintptr_t hi)
{
    arena *a = ps->a;
    if (!ps->push && !tail_add(a, lo, hi))
        ps->push = ps->no_tail = true;
    while (lo < hi) {
        if (ps->push && mark_pending() >= PUSH_DEFER_AT) {
            if (ps->drain)
                mark_drain();
            else if (!ps->no_tail && tail_add(a, lo, hi))
                ps->push = false;
            else
                ps->no_tail = true;
        }
        span *s = atomic_load_explicit(&a->pages[(lo >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)],
                                       memory_order_relaxed);
        uintptr_t end = s->base + s->npages * PAGE_SIZE;
        if (end > hi)
            end = hi;
        if (atomic_load_explicit(&s->state, memory_order_relaxed) != SPAN_FREE &&
            (s->has_old || !protection_complete))
            push_old_in(a, s, lo, end, ps->push, &ps->bytes);
        lo = end;
    }
}

/* os_wt_each_written callback: [lo, hi) inside one arena. */
static void push_old_written(uintptr_t lo, uintptr_t hi, void *arg)
{
    push_state *ps = arg;
    if (record_written)
        note_written(lo, hi);
    if (ps->bytes > ps->limit)
        return; /* the collection will be major: stop counting */
    push_old_run(ps, lo, hi);
}

static bool push_arena(arena *a, void *arg)
{
    push_state *ps = arg;
    ps->a = a;
    return os_wt_each_written(a->base, a->base + ARENA_SIZE, ps->reprotect, push_old_written, ps);
}

/* Objects with a mark function.  Such a function may mark from memory
 * that hgc does not watch (a runtime's own stacks, malloc'd tables), so no
 * written page tells when what it marks has changed: a minor collection
 * runs it for every old object of its kind, as a root.  (Their spans are
 * never protected: protect.c.)  Young ones are run when reached, as in a
 * major collection. */
static void push_proc_span(span *s, void *arg)
{
    size_t *bytes = arg;
    if (kind_scan(s->kind) != SCAN_PROC)
        return;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == SPAN_LARGE) {
        if (*span_mark_of(s, s->base) == MARK_OLD) {
            mark_push_range(s->base, s->base + s->req_size, SCAN_PROC);
            *bytes += s->elem_size;
        }
        return;
    }
    for (uint32_t i = 0; i < s->nelems; i++) {
        uintptr_t obj = s->base + (uintptr_t)i * s->elem_size;
        if (*span_mark_of(s, obj) != MARK_OLD)
            continue;
        mark_push_range(obj, obj + s->elem_size, SCAN_PROC);
        *bytes += s->elem_size;
        if (mark_pending() >= PUSH_DEFER_AT)
            mark_drain();
    }
}

static size_t push_proc_objects(void)
{
    size_t bytes = 0;
    if (atomic_load_explicit(&hgc__proc_kinds, memory_order_relaxed) != 0)
        pageheap_each_span(push_proc_span, &bytes);
    return bytes;
}

enum gen_push gen_push_written(size_t limit, bool record, bool reprotect, size_t *old_bytes)
{
    vec_truncate(&written, 0);
    record_written = record;
    if (!heap_wt_check()) /* the program may have closed our descriptors */
        return GEN_PUSH_FAILED;
    vec_truncate(&tail, 0);
    push_state ps = {.push = true, .limit = limit, .reprotect = reprotect};
    bool ok = pageheap_each_arena(push_arena, &ps);
    all_reprotected = ok && reprotect;
    if (record) /* arenas come in creation order, not address order */
        qsort(written.data, written.n, sizeof(written_run), cmp_run);
    *old_bytes = ps.bytes;
    if (!ok) {
        heap_wt_stop(); /* the kernel stopped telling: majors from now on */
        return GEN_PUSH_FAILED;
    }
    if (ps.bytes > limit)
        return GEN_PUSH_TOO_MUCH; /* nothing drained: nothing marked */
    if (tail.n > 0) {
        mark_drain();
        ps.push = ps.drain = true; /* adds nothing to the tail it walks */
        for (size_t i = 0; i < tail.n; i++) {
            tail_run r = VEC_AT(&tail, tail_run, i);
            ps.a = r.a;
            push_old_run(&ps, r.lo, r.hi);
        }
    }
    *old_bytes += push_proc_objects();
    return GEN_PUSH_OK;
}

/* ------------------------------------------------------------------ marks */

/* ------------------------------------------------------------- protection */

void gen_protect(bool apply)
{
    /* Only protecting uses the descriptors here, and checking them costs
     * two system calls in the pause: a collection that is not followed by
     * a minor one (most, in a program whose objects die young) skips it.
     * gen_push_written checks before it reads them. */
    if (apply)
        heap_wt_check();
    heap_wt_protect(apply, all_reprotected);
    all_reprotected = false;
    protection_complete = heap_wt_tracking() && apply;
}
