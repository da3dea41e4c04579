/*
 * pacing.h -- when to collect, and whether the next collection is major.
 *
 * A collection starts when the bytes claimed by allocation since the last
 * one reach the trigger (a concurrent major one earlier: set_marks in
 * pacing.c): max(live * GOGC / 100, floor), where the floor is
 * HGC_MIN_HEAP per thread that allocated since the last collection,
 * counting at most one per CPU.  With generations, minor collections run
 * within the budget of the last major one until what they promoted fills
 * half of it, or while a backoff says minors do not pay (pacing.c).
 *
 * State read by running mutators (the claim counter and the trigger) is in
 * relaxed atomics; everything else changes only under the world lock.
 */
#ifndef HGC_CYCLE_PACING_H
#define HGC_CYCLE_PACING_H

#include <stdbool.h>
#include <stddef.h>

#include "cycle/collector.h"
#include "mutator/threads.h"

void pacing_init(void);
/* The claimed bytes have reached the trigger (relaxed: a heuristic). */
bool pacing_due(void);
/* Concurrent marking on or off (collector.c): at initialization, or under
 * the world lock. */
void pacing_set_concurrent(bool on);
/* While a concurrent mark runs (relaxed): allocating threads should assist
 * it (the claims since the last cycle passed the trigger; the mark started
 * earlier, by up to a quarter of the major budget); they should mark until
 * its end (they passed the heap goal, that quarter past the trigger).
 * Both false with GOGC=off. */
bool pacing_assist_due(void);
bool pacing_over_goal(void);
/* Bytes an assist should mark for `allocated` bytes claimed past the
 * assist point: twice the live bytes, spread over the room left until the
 * goal. */
size_t pacing_assist_bytes(size_t allocated);
/* The allocator's claimed hook (alloc.h): bytes entered t's cache or a
 * large object.  Never blocks. */
void pacing_note_alloc(thread_rec *t, size_t bytes);
/* Boehm's pacing instead of GOGC's, for its interface (divisor 0: back to
 * GOGC): the heap holds the live bytes and (2 x the live bytes + the
 * roots' bytes, stacks counted twice) / divisor, the budget Boehm's
 * GC_free_space_divisor sets for a heap of objects with pointers (Boehm
 * counts pointer-free bytes at a quarter, pacing.c says why hgc does not);
 * like Boehm's, that heap never shrinks, and a collection comes when it
 * is full.  Takes the world lock. */
void pacing_set_boehm_divisor(unsigned divisor);
/* Raise the heap floor at run time; takes the world lock. */
void pacing_add_min_heap(size_t bytes);

/* The cycle's questions and reports, world stopped, in this order. */
/* Count the threads that allocated since the last collection. */
void pacing_count_allocating_threads(void);
bool pacing_choose_major(enum gc_reason why);
/* Old bytes on written pages above which a minor collection turns major. */
size_t pacing_minor_limit(enum gc_reason why);
/* A minor collection turned major: it found old_bytes on written pages. */
void pacing_minor_too_costly(size_t old_bytes);
/* Marking is over: it made marked_old bytes old and kept marked_survivors
 * young, scanning root_bytes of roots (stacks counted twice).  Computes
 * the next trigger; returns the live bytes. */
size_t pacing_marked(bool major, size_t marked_old, size_t marked_survivors, size_t root_bytes);
/* Whether the next collection will be major (after pacing_marked). */
bool pacing_next_major(void);
/* Just before the restart: start counting claims toward the next trigger. */
void pacing_restart(void);
/* Heap bytes that a collection need not give back to the OS. */
size_t pacing_heap_floor(void);

#endif
