/*
 * gen.h -- generations by sticky mark bytes.
 *
 * With generations on, a mark byte outlives its collection: MARK_OLD is an
 * old object; 0 a young one (allocated since the last collection) or a
 * free slot; a survivor value (heap.h) a young object that the last minor
 * collection found live.  Sweeping frees the slots that are not live and
 * keeps the marks.  A major collection clears every mark first and traces
 * everything, as the collector always did; a minor one keeps the marks and
 * traces only from the roots and from the old objects on pages written
 * since the last collection, stopping at old objects; young objects it
 * finds live for the second time in a row become old (mark.h).
 *
 * Why that finds every live young object: at the end of any collection
 * every old object's referents are old (closure: marking scanned every
 * object it made old, and an old object not scanned was not written, so it
 * refers only to what was already old).  A young object referred to
 * by an old one therefore got there by a write into the old object after
 * the last collection -- and the kernel reports that write's page
 * (os_wt_*: every page not protected since its last write is reported, so
 * the report can over-approximate, never miss).  Conservative roots are
 * scanned whole each time, as before.
 *
 * Pages are protected at the end of each collection, world stopped, after
 * marking: then every old object's referents are old, so a page is clean
 * at that moment whatever it holds.  Which pages: those of the spans that
 * hold an object made old in this collection, or an old object found on a
 * written page -- the rest are either still protected or hold no old
 * object.  Pointer-free spans are never protected, nor is a span a thread
 * cache holds (its pages count as written: see protect_arena).
 *
 * Without write tracking (an old kernel, a seccomp filter, valgrind, the
 * child of a fork) every collection is major and the marks stay sticky.
 */
#ifndef HGC_GEN_H
#define HGC_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "heap/marks.h"

/* HGC_GENERATIONAL and the kernel probe; called by collector_init.  Write
 * tracking starts if generations or concurrent marking want it; marks are
 * sticky only with generations. */
void gen_init(bool concurrent);
/* Minor collections are possible now. */
bool gen_minor_possible(void);
/* A mostly-concurrent mark is possible now (the kernel reports written
 * pages). */
bool gen_concurrent_possible(void);
/* World running, world lock held, just before the first stop of a
 * mostly-concurrent mark (collector.h), so before anything is scanned:
 * protect every span holding objects with pointers, so that
 * gen_push_written at its final stop finds every marked object written
 * since it was scanned. */
void gen_protect_for_mark(void);
/* World stopped, before the roots of a minor collection: push every old
 * object on a written page, and every old object of a kind with a mark
 * function (draining some of them when there are many); their bytes go to
 * *old_bytes.  Unless OK, nothing is marked yet and the
 * collection must be major, after mark_begin() again: FAILED, the kernel
 * could not tell; TOO_MUCH, the written old objects passed `limit` bytes
 * (counting stopped there). */
enum gen_push { GEN_PUSH_OK, GEN_PUSH_FAILED, GEN_PUSH_TOO_MUCH };
/* With record, the written pages are kept for gen_was_written.  With
 * reprotect (the final stop of a concurrent mark, which protected every
 * span with pointers at its start), each written page is protected again
 * as it is read, so gen_protect need not protect those spans again. */
enum gen_push gen_push_written(size_t limit, bool record, bool reprotect, size_t *old_bytes);
/* Whether the page of p was reported written by the last recorded scan.
 * For the verifier: after a minor collection, a word on a page that was
 * not written, inside a marked object, that points to an unmarked object
 * is stale -- it held that address from before the object was allocated
 * (when the memory was free, which marks nothing), since any store of a
 * young object's address would have written the page.  The program cannot
 * reach the object through it: the holder is garbage found through a
 * false conservative root.  A collector that rescans everything retains
 * such objects; a minor one need not. */
bool gen_was_written(uintptr_t p);
/* World stopped, after marking (and verification): protect the pages that
 * the collection found to hold old objects -- if `apply`; pacing says
 * whether the next collection can use it. */
void gen_protect(bool apply);

#endif
