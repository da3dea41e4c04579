/*
 * marks.h -- how long mark bytes live, and which spans' marks are known to
 * be all zero.
 *
 * Mark byte values are in heap.h.  Without generations every mark lasts
 * one collection; with them (mark/gen.h) marks are sticky: sweeping frees
 * the slots that are not live and keeps the marks of the rest.  The
 * allocator (sweeping, explicit free) and the marker both read this state,
 * so it lives below both; the collection cycle sets it.
 */
#ifndef HGC_HEAP_MARKS_H
#define HGC_HEAP_MARKS_H

#include <stdbool.h>

#include "heap/heap.h"

/* Marks outlive collections (set once by gen_init, before any allocation). */
extern INTERNAL bool hgc__sticky_marks;

/* Every mark byte of small span s (held exclusively) is 0 now: until the
 * next marking, heap_clear_marks may skip it.  Mostly-garbage heaps are
 * mostly such spans, and clearing their marks again would cost a pass over
 * a sixteenth of the heap in every major pause. */
void heap_marks_zeroed(span *s);
/* World stopped, marking over: any span may hold marks again. */
void heap_marking_done(void);
/* World stopped, major collection, before marking: clear every mark. */
void heap_clear_marks(void);
/* The same with the world running, the world lock held and no sweep
 * pending (before a concurrent mark's first stop): the program's frees
 * only ever write zeros into mark bytes meanwhile. */
void heap_clear_marks_running(void);

#endif
