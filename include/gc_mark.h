/*
 * gc_mark.h -- the Boehm collector's low-level marking interface, as hgc
 * supports it: pushing extra root ranges from a callback (runtimes with
 * stacks of their own, such as fibers), mark bits, the heap's bounds, and
 * object kinds with mark procedures (docs/COMPAT.md).
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

/* Bounds of the heap, updated when the world stops for a collection and
 * after it: while marking, no heap object lies outside [least, greatest]. */
GC_API void *GC_least_plausible_heap_addr;
GC_API void *GC_greatest_plausible_heap_addr;

/* Kinds and mark procedures.  GC_new_kind(free_list, descriptor, adjust,
 * clear) makes a kind for GC_generic_malloc and its relatives.  With
 * GC_MAKE_PROC(GC_new_proc(proc), env) as descriptor, proc(addr, msp,
 * limit, env) runs for every reachable object of the kind while the world
 * is stopped (hgc.h, hgc_kind_create, states the contract: it also runs
 * in every minor collection for every old object of the kind, may run on
 * several collector threads at once, and never sees a free slot) and must
 * push what the object refers to with GC_mark_and_push (GC_MARK_AND_PUSH),
 * returning the stack pointer that gave back; it must not push entries
 * itself.  Other descriptors (lengths, bitmaps, per-object) give a kind
 * scanned like GC_malloc's, or for a length of 0 like GC_malloc_atomic's.
 * free_list is not used (GC_new_free_list returns an empty array) and
 * every object is handed out zeroed whatever clear says.  At most 64
 * procedures and HGC_MAX_KINDS kinds. */
struct GC_ms_entry {
    void *opaque;
};
typedef struct GC_ms_entry *(*GC_mark_proc)(GC_word *addr, struct GC_ms_entry *mark_stack_ptr,
                                            struct GC_ms_entry *mark_stack_limit, GC_word env);
#define GC_LOG_MAX_MARK_PROCS 6
#define GC_MAX_MARK_PROCS (1 << GC_LOG_MAX_MARK_PROCS)
#define GC_DS_TAG_BITS 2
#define GC_DS_TAGS ((1 << GC_DS_TAG_BITS) - 1)
#define GC_DS_LENGTH 0
#define GC_DS_BITMAP 1
#define GC_DS_PROC 2
#define GC_DS_PER_OBJECT 3
#define GC_MAKE_PROC(proc_index, env)                                                         \
    (((((env) << GC_LOG_MAX_MARK_PROCS) | (proc_index)) << GC_DS_TAG_BITS) | GC_DS_PROC)
GC_API void **GC_new_free_list(void);
GC_API void **GC_new_free_list_inner(void);
GC_API unsigned GC_new_proc(GC_mark_proc proc);
GC_API unsigned GC_new_proc_inner(GC_mark_proc proc);
GC_API unsigned GC_new_kind(void **free_list, GC_word descriptor, int adjust, int clear);
GC_API unsigned GC_new_kind_inner(void **free_list, GC_word descriptor, int adjust, int clear);
/* Inside a mark procedure: mark what obj points into (interior pointers
 * count; a value outside the heap is ignored).  Returns mark_stack_ptr.
 * In a push-other-roots procedure it marks as GC_set_mark_bit does. */
GC_API struct GC_ms_entry *GC_mark_and_push(void *obj, struct GC_ms_entry *mark_stack_ptr,
                                            struct GC_ms_entry *mark_stack_limit, void **src);
#define GC_MARK_AND_PUSH(obj, msp, lim, src)                                                  \
    ((GC_word)(obj) >= (GC_word)GC_least_plausible_heap_addr &&                               \
             (GC_word)(obj) <= (GC_word)GC_greatest_plausible_heap_addr                       \
         ? GC_mark_and_push(obj, msp, lim, src)                                               \
         : (msp))
/* Objects of kind k (GC_I_PTRFREE, GC_I_NORMAL, 2 and 3 for Boehm's
 * uncollectable and atomic uncollectable ones, or a GC_new_kind number).
 * A kind no call made is a fatal error.  GC_generic_malloc_many stores in
 * *result about a page worth of objects of n bytes linked through their
 * first word (NULL if none could be had); the program owns them from
 * then on: a pointer-free kind's links keep nothing alive. */
GC_API void *GC_malloc_kind(size_t n, int k);
GC_API void *GC_malloc_kind_global(size_t n, int k);
GC_API void *GC_generic_malloc_ignore_off_page(size_t n, int k);
GC_API void *GC_generic_malloc_uncollectable(size_t n, int k);
GC_API void GC_generic_malloc_many(size_t n, int k, void **result);

#ifdef __cplusplus
}
#endif
#endif /* GC_MARK_H */
