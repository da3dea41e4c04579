/* sweep.h -- turning a span's marks into free slots. */
#ifndef HGC_SWEEP_H
#define HGC_SWEEP_H

#include "heap.h"

enum sweep_result { SWEEP_FREED, SWEEP_FULL, SWEEP_PARTIAL };

/* Sweep a small span that the caller holds exclusively (off every list,
 * inside a critical section).  Unmarked slots become free slots on
 * s->free; marks are cleared for the next cycle.  A span with no live
 * object goes back to the page heap (SWEEP_FREED: s is gone). */
enum sweep_result sweep_span(span *s);

/* Build the free list of a span fresh from the page heap: every slot free. */
void sweep_init_fresh(span *s);

#endif
