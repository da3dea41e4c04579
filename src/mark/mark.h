/*
 * mark.h -- mark bytes and the grey work list.
 *
 * Marking is iterative: a scanned object's range is pushed on the mark
 * stack, never recursed into, so depth is bounded by the stack and not by the
 * shape of the heap.  When the stack cannot grow (memory, or the
 * HGC_MARK_STACK_LIMIT debug cap) the object stays marked but unscanned and
 * `overflowed` is set; mark_drain() then rescans every marked scanned object
 * in the heap until a pass ends without overflow.
 *
 * Marking runs with the world stopped, or mostly concurrently (below).
 * Roots are scanned by the collecting thread; mark_drain() then drains
 * with every marker thread (work.c).
 */
#ifndef HGC_MARK_H
#define HGC_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* stack_limit_entries: per marker, 0 = unlimited; markers: threads that
 * mark, the collecting one included; delay_us: HGC_TEST_MARKER_DELAY
 * (work.c). */
void mark_init(size_t stack_limit_entries, unsigned markers, unsigned delay_us);
/* Start the helper threads that are missing; world running, world lock
 * held. */
void mark_start_helpers(void);
/* Start marking, world stopped.  A major collection marks everything it
 * reaches MARK_OLD.  A minor one (gen.h) marks in three phases, so that no
 * marker needs read-modify-write on a mark byte:
 *   1. the old objects on written pages (mark_push_range, then
 *      mark_drain): everything they reach that is not old becomes old;
 *   2. after mark_young_phase(), the roots: an unmarked object gets this
 *      collection's survivor value and is scanned; one carrying the
 *      previous survivor value -- live at two minor collections in a row --
 *      gets the new value too but is only put on a promotion list;
 *   3. mark_promote_phase(): the listed objects and everything they reach
 *      that is not old yet become old.
 * Only then is everything reachable marked; what finalization marks after
 * that becomes old.  At the end every old object refers only to old
 * objects (or lies on a written page: gen.h), and every survivor was
 * scanned. */
void mark_begin(bool minor);
void mark_young_phase(void);
void mark_promote_phase(void);
/* The previous survivor value of the current minor collection: bytes that
 * still hold it after marking are dead survivors. */
uint8_t mark_dead_survivor(void);
/* Scan [lo, hi) conservatively: every aligned word that points into an
 * object marks it. */
void mark_range(uintptr_t lo, uintptr_t hi);
struct thread_rec;
/* World stopped: mark from every root (roots.h), then drain.  self is the
 * collecting thread. */
void mark_roots(struct thread_rec *self);
/* The Boehm layer's GC_push_other_roots chain, unset otherwise.  When set,
 * it runs with the world stopped after the other roots, in place of the
 * thread stacks, which it scans with mark_thread_stacks: Boehm's default
 * procedure pushes every thread's stack, and runtimes that replace it
 * (Crystal, ECL) first say where their threads' stacks are now
 * (GC_set_stackbottom) and then call the procedure they replaced; if it
 * did not, the stacks are scanned after it.  It may call mark_range on
 * ranges of its own. */
extern INTERNAL void (*hgc__push_other_roots)(void);
/* Inside hgc__push_other_roots: scan every thread's stack and registers. */
void mark_thread_stacks(void);
void mark_drain(void);
/* Mostly-concurrent marking (cycle/collector.h), in this order:
 * mark_concurrent_begin, world stopped, after mark_begin: from now on mark
 * functions are not run (their objects are only marked); mark_roots_push:
 * scan every root but the Boehm layer's procedure, pushing what they
 * reach, not draining; then, world running, mark_drain_concurrent; at the
 * final stop mark_final_begin (the heap may have grown, and the roots are
 * counted again), the rescans (gen.h), mark_roots. */
void mark_concurrent_begin(void);
/* Marking with the world stopped: a root procedure (the Boehm layer's) may
 * mark now.  False while a concurrent mark drains with the world running,
 * when marker 0's stack belongs to the collector thread. */
bool mark_world_stopped(void);
void mark_roots_push(struct thread_rec *self);
/* World running, on the thread that began the marking or took it over:
 * drain with at most `markers` markers (itself included) and the assists
 * of allocating threads.  A stack that could not grow leaves the overflow
 * for the final stop's mark_drain.  hold_ns (HGC_TEST_CONCURRENT_HOLD):
 * leave the work to assists for that long first. */
void mark_drain_concurrent(unsigned markers, uint64_t hold_ns);
void mark_final_begin(void);
/* While mark_drain_concurrent runs, on an allocating thread t (outside
 * every critical section): mark with the collector thread until this
 * thread marked want_bytes or scanned about max_ranges ranges, or no work
 * is left.  Returns the bytes it marked (0: no round to join). */
size_t mark_assist(struct thread_rec *t, size_t want_bytes, size_t max_ranges);
/* World stopped: scan again every marked object (write tracking failed
 * during a concurrent mark). */
void mark_rescan_marked(void);
/* Push [lo, hi) to be scanned, an old object (or a window of a large one)
 * that is marked already (gen.c), as its scan class says (kind.h): by its
 * layout, by its kind's mark function (then lo is the object, whole), or
 * every word. */
void mark_push_range(uintptr_t lo, uintptr_t hi, unsigned scan);
/* Inside a kind's mark function (kind.h), on the marker that runs it: mark
 * what word w points into, as a conservative root word would; or every
 * word of [lo, hi).  Whatever they mark is scanned later, never inside the
 * call, so a mark function's stack depth does not grow with the heap. */
struct hgc_mark_state;
void mark_state_word(struct hgc_mark_state *st, uintptr_t w);
void mark_state_range(struct hgc_mark_state *st, uintptr_t lo, uintptr_t hi);
/* Entries waiting on the collecting thread's mark stack. */
size_t mark_pending(void);
/* Finalization (finalize.c), world stopped, after the roots are drained;
 * each is followed by mark_drain().  p points into an object. */
bool mark_is_marked(uintptr_t p);
/* Mark the object as if a root held p. */
void mark_object(uintptr_t p);
/* Push what the object refers to, without marking the object itself; with
 * skip_self, words that point into the object itself are ignored. */
void mark_referents(uintptr_t p, bool skip_self);
/* Bytes of objects marked since mark_begin(): made old, and given a
 * survivor value.  An object that became a survivor and then old in one
 * minor collection counts in both; the totals feed pacing only. */
void mark_totals(size_t *old_bytes, size_t *survivor_bytes);
/* Bytes of roots scanned since mark_begin() (mark_range, from the
 * collecting thread), thread stacks counted twice; for pacing. */
size_t mark_root_bytes(void);
/* Bytes the markers' stacks and promotion lists hold; they keep the size
 * of the deepest marking so far (for HGC_TRACE). */
size_t mark_stack_bytes(void);

#endif
