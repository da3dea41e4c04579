/*
 * gc_unsupported.c -- Boehm's low-level marking interface (gc_mark.h)
 * beyond other-root pushing: custom object kinds and mark procedures.
 * hgc's marker has no place to call user mark procedures from, so these
 * entry points exist only so that programs importing them load and fail
 * with a message naming what is missing, not with a dynamic linker error.
 *
 * Pushing extra roots from a callback (GC_set_push_other_roots with
 * GC_push_all / GC_push_all_eager / GC_push_conditional, as runtimes with
 * their own stacks do) is supported: the callback runs while the world is
 * stopped, after the other roots, and each push scans its range
 * conservatively.  As in Boehm, the procedure it replaces (the initial
 * GC_push_other_roots) is what scans the threads' stacks: a runtime sets
 * their current bottoms (GC_set_stackbottom) and then calls it.
 */
#include "gc.h"
#include "gc_mark.h"

#include "mark/mark.h"
#include "mutator/phase.h"
#include "roots/roots.h"
#include "base/util.h"

/* Boehm's default: every thread's stack.  Programs that install their own
 * procedure save this one and call it last. */
static void push_thread_stacks(void) { mark_thread_stacks(); }

GC_push_other_roots_proc GC_push_other_roots = push_thread_stacks;

static void call_push_other_roots(void)
{
    GC_push_other_roots_proc fn = GC_push_other_roots;
    if (fn) /* if it does not call the default, mark_roots scans the stacks */
        fn();
    else /* Boehm would scan no thread stack at all: retain more instead */
        mark_thread_stacks();
}

__attribute__((constructor)) static void unsupported_load(void)
{
    hgc__push_other_roots = call_push_other_roots;
}

void GC_set_push_other_roots(GC_push_other_roots_proc fn) { GC_push_other_roots = fn; }
GC_push_other_roots_proc GC_get_push_other_roots(void) { return GC_push_other_roots; }

void GC_push_all(void *lo, void *hi) { mark_range((uintptr_t)lo, (uintptr_t)hi); }
void GC_push_all_eager(void *lo, void *hi) { mark_range((uintptr_t)lo, (uintptr_t)hi); }

void GC_push_conditional(void *lo, void *hi, int all)
{
    (void)all;
    mark_range((uintptr_t)lo, (uintptr_t)hi);
}

/* Marked as a pointer to it would be, contents included (gc_mark.h):
 * Boehm's bit alone, on an object that holds pointers, would also leave
 * hgc's generations with an old object whose referents are not. */
void GC_set_mark_bit(const void *p)
{
    if (phase_get() == GC_MARK)
        mark_object((uintptr_t)p);
}

void GC_clear_mark_bit(const void *p) { (void)p; }

int GC_is_marked(const void *p) { return mark_is_marked((uintptr_t)p); }

#define UNSUPPORTED(name)                                                                  \
    __attribute__((visibility("default"), noreturn)) void name(void);                      \
    void name(void)                                                                        \
    {                                                                                      \
        hgc__fatal(#name " is not supported (custom object kinds and mark procedures; "    \
                         "see docs/COMPAT.md)");                                           \
    }

UNSUPPORTED(GC_new_kind)
UNSUPPORTED(GC_new_kind_inner)
UNSUPPORTED(GC_new_proc)
UNSUPPORTED(GC_new_proc_inner)
UNSUPPORTED(GC_new_free_list)
UNSUPPORTED(GC_new_free_list_inner)
UNSUPPORTED(GC_generic_malloc_many)
UNSUPPORTED(GC_mark_and_push)
UNSUPPORTED(GC_init_gcj_malloc)
UNSUPPORTED(GC_gcj_malloc)
