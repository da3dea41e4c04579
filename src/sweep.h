/* sweep.h -- turning a span's marks into free slots. */
#ifndef HGC_SWEEP_H
#define HGC_SWEEP_H

#include "heap.h"

enum sweep_result { SWEEP_EMPTY, SWEEP_FULL, SWEEP_PARTIAL };

/* Sweep a small span that the caller holds exclusively (off every list,
 * inside a critical section).  Unmarked slots become free slots on
 * s->free; marks are cleared for the next cycle.  A span with no live
 * object is left untouched (SWEEP_EMPTY, marks all clear, free list
 * unset): the caller either reuses it with sweep_init_fresh() -- no trip
 * through the page heap and its lock -- or gives it to pageheap_free(). */
enum sweep_result sweep_span(span *s);

/* Build the free list of a span fresh from the page heap (or swept
 * empty): every slot free. */
void sweep_init_fresh(span *s);

#endif
