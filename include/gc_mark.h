/*
 * gc_mark.h -- the part of the Boehm collector's low-level marking
 * interface that hgc supports: pushing extra root ranges from a callback
 * (runtimes with stacks of their own, such as fibers) and the heap's
 * bounds.  Custom object kinds and mark procedures (GC_new_kind,
 * GC_new_proc, GC_mark_and_push...) are not declared: hgc's marker has no
 * place to call them from (docs/COMPAT.md).
 */
#ifndef GC_MARK_H
#define GC_MARK_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called with the world stopped, after the other roots are scanned; each
 * GC_push_* call in it scans [lo, hi) conservatively.  Outside the
 * callback the push functions must not be called. */
typedef void (*GC_push_other_roots_proc)(void);
GC_API GC_push_other_roots_proc GC_push_other_roots;
GC_API void GC_set_push_other_roots(GC_push_other_roots_proc fn);
GC_API GC_push_other_roots_proc GC_get_push_other_roots(void);
GC_API void GC_push_all(void *lo, void *hi);
GC_API void GC_push_all_eager(void *lo, void *hi);
GC_API void GC_push_conditional(void *lo, void *hi, int all);

/* Mark bits, for a GC_push_other_roots procedure (ECL keeps its stacks'
 * blocks alive with GC_set_mark_bit).  hgc marks the object as a pointer
 * to it would, its contents traced too, where Boehm sets the bit alone:
 * more retention, never less.  Outside marking GC_set_mark_bit does
 * nothing, and GC_clear_mark_bit never does anything (the object stays
 * as live as it was).  GC_is_marked: whether the object was found live by
 * the marking in progress, or else by the last one. */
GC_API void GC_set_mark_bit(const void *p);
GC_API void GC_clear_mark_bit(const void *p);
GC_API int GC_is_marked(const void *p);

/* Bounds of the heap, updated after each collection: no heap object lies
 * outside [least, greatest). */
GC_API void *GC_least_plausible_heap_addr;
GC_API void *GC_greatest_plausible_heap_addr;

#ifdef __cplusplus
}
#endif
#endif /* GC_MARK_H */
