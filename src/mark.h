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
 * Marking runs with the world stopped.  Roots are scanned by the collecting
 * thread; mark_drain() then drains with every marker thread (mark.c).
 */
#ifndef HGC_MARK_H
#define HGC_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* stack_limit_entries: per marker, 0 = unlimited; markers: threads that
 * mark, the collecting one included. */
void mark_init(size_t stack_limit_entries, unsigned markers);
/* Start the helper threads that are missing; world running, world lock
 * held. */
void mark_start_helpers(void);
/* In the child of fork(): the helpers are gone. */
void mark_after_fork_child(void);
void mark_begin(void);
/* Scan [lo, hi) conservatively: every aligned word that points into an
 * object marks it. */
void mark_range(uintptr_t lo, uintptr_t hi);
void mark_drain(void);
/* Push [lo, hi) to be scanned, an old object (or a window of a large one)
 * that is marked already (gen.c); typed: scan by its layout. */
void mark_push_range(uintptr_t lo, uintptr_t hi, bool typed);
/* Finalization (finalize.c), world stopped, after the roots are drained;
 * each is followed by mark_drain().  p points into an object. */
bool mark_is_marked(uintptr_t p);
/* Mark the object as if a root held p. */
void mark_object(uintptr_t p);
/* Push what the object refers to, without marking the object itself; with
 * skip_self, words that point into the object itself are ignored. */
void mark_referents(uintptr_t p, bool skip_self);
/* Bytes of objects marked since mark_begin(). */
size_t mark_live_bytes(void);

#endif
