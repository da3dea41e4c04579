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
 * Marking runs with the world stopped, by one thread.  Mark bytes (not bits)
 * and ranges (not objects) on the stack are chosen so that parallel markers
 * can later mark with a byte store and split large ranges.
 */
#ifndef HGC_MARK_H
#define HGC_MARK_H

#include <stddef.h>
#include <stdint.h>

void mark_init(size_t stack_limit_entries);
void mark_begin(void);
/* Scan [lo, hi) conservatively: every aligned word that points into an
 * object marks it. */
void mark_range(uintptr_t lo, uintptr_t hi);
void mark_drain(void);
/* Bytes of objects marked since mark_begin(). */
size_t mark_live_bytes(void);

#endif
