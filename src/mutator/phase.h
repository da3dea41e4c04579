/*
 * phase.h -- the collector's phase.
 *
 * It lives here, below the allocator, so that every layer that must act
 * on it reads it without an upward call: the allocator (to allocate black
 * while marking), a write barrier (to shade while marking), the marker and
 * the cycle.
 *
 *   GC_OFF               no marking.  The last cycle's spans may still be
 *                        unswept: allocating threads sweep them lazily.
 *   GC_MARK              marking: with the world stopped, or from the
 *                        first stop of a mostly-concurrent mark to its
 *                        final stop while mutators run (collector.c).
 *   GC_MARK_TERMINATION  the world stopped, marking finishing: finalizers
 *                        queued, weak links cleared, marks verified, the
 *                        sweep set up.  Nothing is marked after it.
 *
 * The only transitions are OFF -> MARK -> MARK_TERMINATION -> OFF, made by
 * phase_set on the collecting thread under the world lock.  The store is a
 * release and phase_get an acquire: a thread that sees a phase sees
 * everything the collector wrote before entering it.
 */
#ifndef HGC_MUTATOR_PHASE_H
#define HGC_MUTATOR_PHASE_H

#include <stdatomic.h>

#include "base/util.h"

enum gc_phase { GC_OFF = 0, GC_MARK = 1, GC_MARK_TERMINATION = 2 };

extern INTERNAL _Atomic int hgc__phase;

static inline enum gc_phase phase_get(void)
{
    return (enum gc_phase)atomic_load_explicit(&hgc__phase, memory_order_acquire);
}

/* Enter phase p; a transition other than the three above is fatal. */
void phase_set(enum gc_phase p);
/* "off", "mark", "mark termination". */
const char *phase_name(enum gc_phase p);

#endif
