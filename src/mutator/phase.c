/* phase.c -- the collector's phase and its one way to change.  See phase.h. */
#include "mutator/phase.h"

_Atomic int hgc__phase = GC_OFF;

const char *phase_name(enum gc_phase p)
{
    static const char *const names[] = {"off", "mark", "mark termination"};
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "invalid";
}

void phase_set(enum gc_phase p)
{
    enum gc_phase now = (enum gc_phase)atomic_load_explicit(&hgc__phase, memory_order_relaxed);
    /* The successor of each phase: the cycle never skips or reverses one. */
    static const enum gc_phase next[] = {
        [GC_OFF] = GC_MARK,
        [GC_MARK] = GC_MARK_TERMINATION,
        [GC_MARK_TERMINATION] = GC_OFF,
    };
    if ((unsigned)now >= sizeof next / sizeof next[0] || next[now] != p)
        hgc__fatal("collector phase: %s cannot follow %s", phase_name(p), phase_name(now));
    atomic_store_explicit(&hgc__phase, p, memory_order_release);
}
