/*
 * protect.h -- write tracking of heap pages, for generations (mark/gen.h).
 *
 * The kernel reports every page written since it was last protected
 * (os_wt_*).  This file owns whether tracking works and which pages are
 * protected: every arena is registered as it is mapped, a span's pages are
 * protected at the end of a collection when they hold old objects
 * (arena.protect, span.protected, span.has_old) and unprotected when the
 * span empties.  The generational policy -- what to scan, when a
 * collection may be minor -- is mark/gen.c's.
 */
#ifndef HGC_HEAP_PROTECT_H
#define HGC_HEAP_PROTECT_H

#include <stdbool.h>
#include <stdint.h>

#include "heap/heap.h"

/* Start tracking, if the kernel can (before the first arena). */
void heap_wt_init(void);
/* Tracking works: every arena is registered and this is not a forked
 * child.  It only ever goes from true to false. */
bool heap_wt_tracking(void);
/* Stop for good: the kernel stopped telling, or a descriptor was lost. */
void heap_wt_stop(void);
/* Still valid?  Stops tracking if not.  Two system calls. */
bool heap_wt_check(void);
/* A new arena [lo, hi) (page heap, heap lock held). */
void heap_wt_arena_added(uintptr_t lo, uintptr_t hi);
/* World stopped, after marking: protect the spans whose protect bytes are
 * set -- if `apply` -- and clear the bytes; every such span gets has_old.
 * With skip_protected, a span marked protected is known to have all its
 * pages protected (gen.c: every written page was just protected again)
 * and is left as it is. */
void heap_wt_protect(bool apply, bool skip_protected);
/* Before a concurrent mark (cycle/collector.c), world running, world lock
 * held: protect every span that holds objects with pointers, except those
 * a thread cache holds and those of kinds with mark functions, so that
 * every later write to a marked object is reported.  The pages of the
 * spans left out count as written. */
void heap_wt_protect_all(void);
/* Span s (held exclusively) holds no object any more: lift the protection
 * heap_wt_protect may have left on its pages, so that reusing them does
 * not fault page by page. */
void heap_span_emptied(span *s);
/* In a forked child: no write tracking from now on. */
void heap_wt_after_fork_child(void);

#endif
