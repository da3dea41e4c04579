/*
 * finalize.h -- finalizers, weak links and uncollectable objects: the
 * per-object registrations the collector consults around marking.
 *
 * All three tables are under one lock, taken by mutators inside a critical
 * section and by the collector with the world stopped.  They live in
 * memory the collector does not scan; what they must keep alive they
 * report as roots (finalize_each_root):
 *   - the data argument of every registered finalizer;
 *   - every object queued for finalization, with its data, until its
 *     finalizer has run (it is resurrected for that);
 *   - every uncollectable object.
 * Objects with a finalizer and targets of weak links are held by address,
 * as plain words nobody scans, so the tables never keep them alive.
 *
 * A cycle (collector.c), world stopped, after the roots are marked:
 *   1. weak links whose target is unmarked are cleared (short links);
 *   2. for every unmarked object with an ordered finalizer, what it
 *      refers to is marked (not the object itself, unless a cycle leads
 *      back to it): an object reachable from another finalizable object
 *      waits for that one's finalizer first;
 *   3. every object with a finalizer that is still unmarked is moved to
 *      the queue and marked with everything it refers to;
 *   4. long weak links whose target is still unmarked are cleared, and
 *      links held inside objects that died are forgotten.
 * Queued finalizers run outside the collector, in whichever thread next
 * leaves an allocation's slow path or hgc_collect() (or on demand).
 */
#ifndef HGC_FINALIZE_H
#define HGC_FINALIZE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roots/roots.h"
#include "mutator/threads.h"
#include "base/util.h"

/* Finalizers queued and not yet started. */
extern INTERNAL _Atomic size_t hgc__fin_ready;
/* The Boehm layer's GC_finalize_on_demand, which programs may write
 * directly: nonzero acts as hgc_set_finalize_on_demand(1, ...). */
extern INTERNAL volatile int *hgc__fin_on_demand;

/* World stopped, roots drained: steps 1 to 4 above. */
void finalize_after_mark(void);
/* World stopped: call fn on every root the tables hold. */
void finalize_each_root(void (*fn)(const root_desc *d, void *arg), void *arg);
/* An object is being freed explicitly: forget its finalizer and
 * uncollectable registration.  Its weak links stay (hgc.h says why). */
void finalize_forget(void *obj);
bool finalize_is_uncollectable(void *obj);
/* Make obj uncollectable; false when out of memory. */
bool finalize_add_uncollectable(void *obj);
/* Run queued finalizers, or call the notifier in on-demand mode, unless
 * this thread is already running finalizers. */
void finalize_attend(thread_rec *t);

static inline void finalize_poll(thread_rec *t)
{
    if (unlikely(atomic_load_explicit(&hgc__fin_ready, memory_order_relaxed) != 0))
        finalize_attend(t);
}

#endif
