/* roots.c -- the root set: user ranges, data segments, thread stacks. */
#include <stdio.h>

#include "base/util.h"
#include "base/vec.h"
#include "os/os.h"
#include "roots/roots.h"

typedef struct root_range {
    uintptr_t lo, hi;
} root_range;

/* Both tables change only under the world lock (roots.h), as roots_each
 * reads them with the world stopped: growth never moves them under a
 * reader. */
static vec user_roots = VEC_INIT(root_range); /* hgc_add_roots ranges */
static vec segments = VEC_INIT(root_range);   /* snapshot of writable data segments */
static void (*sources[ROOT_SOURCES])(root_fn fn, void *arg);
static size_t nsources;

void roots_add_source(void (*each)(root_fn fn, void *arg))
{
    if (nsources == ROOT_SOURCES)
        hgc__fatal("more than %d root sources", ROOT_SOURCES);
    sources[nsources++] = each;
}

static void table_add(vec *t, uintptr_t lo, uintptr_t hi)
{
    root_range *r = vec_push(t);
    if (!r)
        hgc__fatal("out of memory for the table of root ranges (%zu entries)", t->n + 1);
    *r = (root_range){lo, hi};
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
        root_range r = VEC_AT(&user_roots, root_range, i);
        if (r.lo >= lo && r.hi <= hi)
            continue;
        VEC_AT(&user_roots, root_range, j++) = r;
    }
    vec_truncate(&user_roots, j);
}

void roots_clear(void)
{
    vec_truncate(&user_roots, 0);
}

static void add_segment(uintptr_t lo, uintptr_t hi, void *arg)
{
    (void)arg;
    table_add(&segments, lo, hi);
}

void roots_snapshot_segments(void)
{
    vec_truncate(&segments, 0);
    os_each_data_segment(add_segment, NULL);
}

static void each_range(const root_desc *d, void (*fn)(const root_desc *d, void *arg),
                       void *arg)
{
    if (d->lo < d->hi)
        fn(d, arg);
}

static void each_thread(thread_rec *t, root_fn fn, void *arg)
{
    uintptr_t sp = t->stopped_in_block ? t->block_sp : t->stop_sp;
    if (t->stopped_in_block) {
        root_desc r = {.kind = ROOT_REGISTERS, .tid = t->tid, .lo = (uintptr_t)t->block_regs,
                       .hi = (uintptr_t)(t->block_regs + OS_NREGS)};
        each_range(&r, fn, arg);
    }
    if (sp < t->stack_lo || sp > t->stack_hi) {
        /* Stopped on an alternate signal stack: its registers are there, its
         * frames are not; scanning the whole stack is the safe fallback only
         * if it is mapped, which we cannot know.  Refuse loudly. */
        hgc__fatal("thread %lu stopped outside its stack (sp %p, stack %p..%p)", t->tid,
                   (void *)sp, (void *)t->stack_lo, (void *)t->stack_hi);
    }
    root_desc d = {.kind = ROOT_STACK, .tid = t->tid, .lo = sp, .hi = t->stack_hi,
                   .moving = t->stopped_in_block};
    each_range(&d, fn, arg);
}

void roots_each_global(root_fn fn, void *arg)
{
    for (size_t i = 0; i < segments.n; i++) {
        root_range r = VEC_AT(&segments, root_range, i);
        root_desc d = {.kind = ROOT_SEGMENT, .lo = r.lo, .hi = r.hi};
        each_range(&d, fn, arg);
    }
    for (size_t i = 0; i < user_roots.n; i++) {
        root_range r = VEC_AT(&user_roots, root_range, i);
        root_desc d = {.kind = ROOT_USER, .lo = r.lo, .hi = r.hi};
        each_range(&d, fn, arg);
    }
    for (size_t i = 0; i < nsources; i++)
        sources[i](fn, arg);
}

void roots_each_stack(thread_rec *self, root_fn fn, void *arg)
{
    for (thread_rec *t = threads_first(); t; t = t->next) {
        if (t != self) {
            each_thread(t, fn, arg);
            continue;
        }
        /* From collector_collect's frame, which holds its register spill. */
        root_desc d = {.kind = ROOT_STACK, .tid = t->tid, .lo = t->collect_sp, .hi = t->stack_hi};
        each_range(&d, fn, arg);
    }
}

void roots_each(thread_rec *self, root_fn fn, void *arg)
{
    roots_each_global(fn, arg);
    roots_each_stack(self, fn, arg);
}

void roots_describe(const root_desc *d, char *buf, size_t size)
{
    static const char *const what[] = {"data segment",        "user root range",
                                       "stack of thread",     "registers of thread",
                                       "finalization table",  "uncollectable objects"};
    if (d->kind == ROOT_STACK || d->kind == ROOT_REGISTERS)
        snprintf(buf, size, "%s %#lx [%p, %p)", what[d->kind], d->tid, (void *)d->lo,
                 (void *)d->hi);
    else
        snprintf(buf, size, "%s [%p, %p)", what[d->kind], (void *)d->lo, (void *)d->hi);
}

