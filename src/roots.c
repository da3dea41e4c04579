/* roots.c -- the root set: user ranges, data segments, thread stacks. */
#include <string.h>

#include "mark.h"
#include "os.h"
#include "roots.h"
#include "util.h"

typedef struct root_range {
    uintptr_t lo, hi;
} root_range;

typedef struct root_table {
    root_range *v;
    size_t n, cap;
} root_table;

static root_table user_roots; /* hgc_add_roots ranges */
static root_table segments;   /* snapshot of writable data segments */

static void table_add(root_table *t, uintptr_t lo, uintptr_t hi)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        root_range *v = meta_alloc(ncap * sizeof *v);
        if (t->n)
            memcpy(v, t->v, t->n * sizeof *v);
        t->v = v; /* the old array is abandoned metadata: growth is rare */
        t->cap = ncap;
    }
    t->v[t->n].lo = lo;
    t->v[t->n].hi = hi;
    t->n++;
}

void roots_add(uintptr_t lo, uintptr_t hi)
{
    if (lo < hi)
        table_add(&user_roots, lo, hi);
}

void roots_remove(uintptr_t lo, uintptr_t hi)
{
    size_t j = 0;
    for (size_t i = 0; i < user_roots.n; i++) {
        root_range r = user_roots.v[i];
        if (r.lo >= lo && r.hi <= hi)
            continue;
        user_roots.v[j++] = r;
    }
    user_roots.n = j;
}

static void add_segment(uintptr_t lo, uintptr_t hi, void *arg)
{
    (void)arg;
    table_add(&segments, lo, hi);
}

void roots_snapshot_segments(void)
{
    segments.n = 0;
    os_each_data_segment(add_segment, NULL);
}

/* The collecting thread's own stack: spill the callee-saved registers into
 * this frame, then scan from the real stack pointer, below the spill. */
static NOINLINE NO_SANITIZE_SCAN void mark_own_stack(thread_rec *self)
{
    uintptr_t regs[OS_NREGS];
    os_spill_registers(regs);
    uintptr_t sp = os_stack_pointer();
    mark_range(sp, self->stack_hi);
    mark_range((uintptr_t)regs, (uintptr_t)(regs + OS_NREGS));
}

static void mark_thread(thread_rec *t)
{
    uintptr_t sp = t->stopped_in_block ? t->block_sp : t->stop_sp;
    if (t->stopped_in_block)
        mark_range((uintptr_t)t->block_regs, (uintptr_t)(t->block_regs + OS_NREGS));
    if (sp < t->stack_lo || sp > t->stack_hi) {
        /* Stopped on an alternate signal stack: its registers are there, its
         * frames are not; scanning the whole stack is the safe fallback only
         * if it is mapped, which we cannot know.  Refuse loudly. */
        hgc__fatal("thread %lu stopped outside its stack (sp %p, stack %p..%p)", t->tid,
                   (void *)sp, (void *)t->stack_lo, (void *)t->stack_hi);
    }
    mark_range(sp, t->stack_hi);
}

/* Every root is scanned first and the objects they reach are drained in
 * one go, so that all markers start together on the whole root set. */
void roots_mark_all(thread_rec *self)
{
    for (size_t i = 0; i < segments.n; i++)
        mark_range(segments.v[i].lo, segments.v[i].hi);
    for (size_t i = 0; i < user_roots.n; i++)
        mark_range(user_roots.v[i].lo, user_roots.v[i].hi);
    for (thread_rec *t = threads_first(); t; t = t->next) {
        if (t == self)
            mark_own_stack(self);
        else
            mark_thread(t);
    }
    mark_drain();
}
