/* sweep.h -- turning a span's marks into free slots. */
#ifndef HGC_SWEEP_H
#define HGC_SWEEP_H

#include "heap/heap.h"

/* SWEEP_OLD: full, and every slot old (generations only). */
enum sweep_result { SWEEP_EMPTY, SWEEP_FULL, SWEEP_OLD, SWEEP_PARTIAL };

/* Sweep a small span that the caller holds exclusively (off every list,
 * inside a critical section).  Unmarked slots become free slots on
 * s->free; marks are cleared for the next cycle (with generations, only
 * those of dead survivors: gen.h).  A span with no live object is left
 * untouched but for its marks (SWEEP_EMPTY, marks all clear, free list
 * unset): the caller either reuses it with sweep_init_fresh() -- no trip
 * through the page heap and its lock -- or gives it to pageheap_free(). */
enum sweep_result sweep_span(span *s);

/* Build the free list of a span fresh from the page heap (or swept
 * empty): every slot free. */
void sweep_init_fresh(span *s);

/* hgc_assert_slow that list, n slots long, is a well-formed free list of
 * s: each a slot of s, tagged free (alloc.h), no cycle. */
void sweep_check_free_list(const span *s, void *list, uint32_t n);

#endif
