/*
 * gc_mark.c -- Boehm's low-level marking interface (gc_mark.h): pushing
 * other roots from a callback, mark bits, and object kinds with mark
 * procedures.
 *
 * Pushing extra roots from a callback (GC_set_push_other_roots with
 * GC_push_all / GC_push_all_eager / GC_push_conditional, as runtimes with
 * their own stacks do) runs the callback while the world is stopped,
 * after the other roots, and each push scans its range conservatively.
 * As in Boehm, the procedure it replaces (the initial GC_push_other_roots)
 * is what scans the threads' stacks: a runtime sets their current bottoms
 * (GC_set_stackbottom) and then calls it.
 *
 * Kinds: Boehm numbers them, the predefined ones first (pointer-free,
 * normal, uncollectable, atomic uncollectable), then those GC_new_kind
 * makes.  A kind whose descriptor names a mark procedure becomes a native
 * kind (hgc_kind_create) whose mark function calls the procedure; every
 * other descriptor (a length, a bitmap, a per-object descriptor) becomes a
 * kind scanned word by word or, for length 0, not at all -- more retention
 * than Boehm's exact scan, never less.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "gc.h"
#include "gc_mark.h"
#include "hgc.h"

#include "alloc/alloc.h"
#include "base/util.h"
#include "heap/kind.h"
#include "mark/mark.h"
#include "mutator/threads.h"
#include "roots/roots.h"

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

__attribute__((constructor)) static void gc_mark_load(void)
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
    if (mark_world_stopped())
        mark_object((uintptr_t)p);
}

void GC_clear_mark_bit(const void *p) { (void)p; }

int GC_is_marked(const void *p) { return mark_is_marked((uintptr_t)p); }

/* ------------------------------------------------------------- kinds */

/* What a Boehm kind number stands for. */
typedef struct boehm_kind {
    unsigned kind;      /* hgc's (kind.h) */
    bool uncollectable; /* the predefined UNCOLLECTABLE and AUNCOLLECTABLE */
    GC_mark_proc proc;  /* with its env, for kinds with a mark procedure */
    GC_word env;
} boehm_kind;

#define BOEHM_PREDEFINED 4
#define BOEHM_MAX_KINDS (BOEHM_PREDEFINED + HGC_MAX_KINDS)

/* Entries are written before nkinds includes them (release), never after. */
static boehm_kind kinds[BOEHM_MAX_KINDS] = {
    [GC_I_PTRFREE] = {.kind = KIND_ATOMIC},
    [GC_I_NORMAL] = {.kind = KIND_SCANNED},
    [2] = {.kind = KIND_SCANNED, .uncollectable = true},
    [3] = {.kind = KIND_ATOMIC, .uncollectable = true},
};
static _Atomic unsigned nkinds = BOEHM_PREDEFINED;
static GC_mark_proc procs[GC_MAX_MARK_PROCS];
static _Atomic unsigned nprocs;
/* Kinds and procedures are made under the world lock: the _inner calls
 * are for callers that hold it already (GC_call_with_alloc_lock's fn). */

/* The marker running a Boehm mark procedure on this thread, for
 * GC_mark_and_push; NULL outside one. */
static __thread hgc_mark_state *proc_state;

/* Entries of the stack a mark procedure is given.  GC_mark_and_push never
 * pushes on it (hgc's marker keeps its own), so the procedure returns the
 * pointer it was given; a few entries keep a procedure that checks for
 * room before each push content. */
#define PROC_STACK_ENTRIES 8

/* The mark function of a kind made from a Boehm descriptor with a mark
 * procedure: Boehm's calling convention around the native one. */
static void run_boehm_proc(void *obj, size_t size, hgc_mark_state *st, void *env)
{
    (void)size;
    const boehm_kind *k = env;
    struct GC_ms_entry stack[PROC_STACK_ENTRIES];
    hgc_mark_state *outer = proc_state;
    proc_state = st;
    struct GC_ms_entry *top = k->proc(obj, stack, stack + PROC_STACK_ENTRIES, k->env);
    proc_state = outer;
    if (top != stack)
        hgc__fatal("mark procedure %p pushed %td entries on the mark stack itself: hgc's "
                   "procedures must push with GC_mark_and_push (see docs/COMPAT.md)",
                   (void *)(uintptr_t)k->proc, top - stack);
}

struct GC_ms_entry *GC_mark_and_push(void *obj, struct GC_ms_entry *msp,
                                     struct GC_ms_entry *limit, void **src)
{
    (void)limit;
    (void)src;
    if (proc_state)
        hgc_mark_word(proc_state, obj);
    else if (mark_world_stopped()) /* a push-other-roots procedure */
        mark_object((uintptr_t)obj);
    else
        hgc__fatal("GC_mark_and_push(%p) called outside marking", obj);
    return msp;
}

unsigned GC_new_proc_inner(GC_mark_proc proc)
{
    unsigned n = atomic_load_explicit(&nprocs, memory_order_relaxed);
    if (n == GC_MAX_MARK_PROCS)
        hgc__fatal("GC_new_proc: no more mark procedures (Boehm's limit, %d, is reached)",
                   GC_MAX_MARK_PROCS);
    procs[n] = proc;
    atomic_store_explicit(&nprocs, n + 1, memory_order_release);
    return n;
}

unsigned GC_new_proc(GC_mark_proc proc)
{
    hgc_init();
    threads_lock();
    unsigned n = GC_new_proc_inner(proc);
    threads_unlock();
    return n;
}

/* Boehm hands the kind's free-list heads to inline allocation macros
 * (gc_inline.h); hgc fills them only through GC_generic_malloc_many, so
 * an empty array is all a kind needs.  Never freed, like Boehm's. */
#define FREE_LIST_HEADS 129
void **GC_new_free_list_inner(void)
{
    void **fl = calloc(FREE_LIST_HEADS, sizeof *fl);
    if (!fl)
        hgc__fatal("GC_new_free_list: out of memory");
    return fl;
}

void **GC_new_free_list(void) { return GC_new_free_list_inner(); }

/* World lock held. */
static unsigned new_kind(GC_word descr, int adjust)
{
    unsigned n = atomic_load_explicit(&nkinds, memory_order_relaxed);
    if (n == BOEHM_MAX_KINDS)
        hgc__fatal("GC_new_kind: no more kinds (hgc makes at most %d)", HGC_MAX_KINDS);
    boehm_kind *k = &kinds[n];
    *k = (boehm_kind){.kind = KIND_SCANNED};
    if ((descr & GC_DS_TAGS) == GC_DS_PROC) {
        unsigned index = (unsigned)(descr >> GC_DS_TAG_BITS) & (GC_MAX_MARK_PROCS - 1);
        if (index >= atomic_load_explicit(&nprocs, memory_order_acquire))
            hgc__fatal("GC_new_kind: descriptor %#lx names mark procedure %u, which "
                       "GC_new_proc did not make",
                       (unsigned long)descr, index);
        k->proc = procs[index];
        k->env = descr >> (GC_DS_TAG_BITS + GC_LOG_MAX_MARK_PROCS);
        int hk = alloc_kind_create(SCAN_PROC, run_boehm_proc, k);
        if (hk < 0)
            hgc__fatal("GC_new_kind: no more kinds (hgc makes at most %d)", HGC_MAX_KINDS);
        k->kind = (unsigned)hk;
    } else if (descr == 0 && !adjust) {
        k->kind = KIND_ATOMIC; /* a length of 0: nothing to scan */
    }
    atomic_store_explicit(&nkinds, n + 1, memory_order_release);
    return n;
}

unsigned GC_new_kind_inner(void **free_list, GC_word descr, int adjust, int clear)
{
    (void)free_list;
    (void)clear; /* hgc hands out every object zeroed */
    return new_kind(descr, adjust);
}

unsigned GC_new_kind(void **free_list, GC_word descr, int adjust, int clear)
{
    (void)free_list;
    (void)clear;
    hgc_init();
    threads_lock();
    unsigned n = new_kind(descr, adjust);
    threads_unlock();
    return n;
}

static const boehm_kind *kind_or_die(int k, const char *fn, size_t n)
{
    if ((unsigned)k >= atomic_load_explicit(&nkinds, memory_order_acquire))
        hgc__fatal("%s(%zu, %d): kind %d was not made by GC_new_kind", fn, n, k, k);
    return &kinds[k];
}

void *GC_generic_malloc(size_t n, int k)
{
    const boehm_kind *bk = kind_or_die(k, "GC_generic_malloc", n);
    if (bk->uncollectable)
        return bk->kind == KIND_ATOMIC ? hgc_malloc_atomic_uncollectable(n)
                                       : hgc_malloc_uncollectable(n);
    switch (bk->kind) {
    case KIND_SCANNED: return hgc_malloc(n);
    case KIND_ATOMIC: return hgc_malloc_atomic(n);
    default: return hgc_malloc_kind(n, (int)bk->kind);
    }
}

void *GC_malloc_kind(size_t n, int k) { return GC_generic_malloc(n, k); }
void *GC_malloc_kind_global(size_t n, int k) { return GC_generic_malloc(n, k); }
void *GC_generic_malloc_ignore_off_page(size_t n, int k) { return GC_generic_malloc(n, k); }

void *GC_generic_malloc_uncollectable(size_t n, int k)
{
    const boehm_kind *bk = kind_or_die(k, "GC_generic_malloc_uncollectable", n);
    if (bk->kind == KIND_ATOMIC)
        return hgc_malloc_atomic_uncollectable(n);
    if (bk->kind == KIND_SCANNED)
        return hgc_malloc_uncollectable(n);
    hgc__fatal("GC_generic_malloc_uncollectable(%zu, %d): uncollectable objects of a kind with "
               "a mark procedure are not supported",
               n, k);
}

/* About a page worth of objects (at most MANY_MAX), linked through their
 * first word, in *result (NULL when none could be had).  The program owns
 * them: a pointer-free kind's links do not keep them alive, so the list
 * is built only once all are allocated, the array on this stack holding
 * them meanwhile (each allocation may collect). */
#define MANY_BYTES 4096
#define MANY_MAX 256
void GC_generic_malloc_many(size_t n, int k, void **result)
{
    kind_or_die(k, "GC_generic_malloc_many", n);
    if (n < sizeof(void *))
        n = sizeof(void *);
    size_t count = n >= MANY_BYTES / 2 ? 1 : MANY_BYTES / n;
    if (count > MANY_MAX)
        count = MANY_MAX;
    void *objs[MANY_MAX];
    size_t got = 0;
    while (got < count && (objs[got] = GC_generic_malloc(n, k)) != NULL)
        got++;
    void *list = NULL;
    while (got > 0) {
        void **p = objs[--got];
        *p = list;
        list = p;
    }
    *result = list;
}

void *GC_malloc_many(size_t n)
{
    void *list;
    GC_generic_malloc_many(n, GC_I_NORMAL, &list);
    return list;
}

/* Boehm's Java-style objects (gc_gcj.h), which no program hgc is tested
 * with uses: present so that a program importing them loads, and fails
 * with a message naming the call, not a dynamic linker error. */
#define UNSUPPORTED(name)                                                                  \
    __attribute__((visibility("default"), noreturn)) void name(void);                      \
    void name(void)                                                                        \
    {                                                                                      \
        hgc__fatal(#name " is not supported (Java-style objects, gc_gcj.h; see "          \
                         "docs/COMPAT.md)");                                               \
    }

UNSUPPORTED(GC_init_gcj_malloc)
UNSUPPORTED(GC_gcj_malloc)
