/*
 * verify.c -- HGC_VERIFY: after marking, an independent re-trace from the
 * roots checks that every reachable object is marked.
 *
 * Independent means it shares the roots and the conservative rules with
 * the marker, not its code: objects are found through the page map and the
 * span descriptor (the marker uses page info and class geometry), visited
 * objects are kept in a hash set of its own (the marker uses mark bytes),
 * and the trace is one plain depth-first walk.  A reachable object whose
 * mark byte is clear is a collector bug that would free a live object: the
 * verifier names the object, the word that points to it (and the object or
 * root holding that word) and the root the path starts from, then aborts.
 *
 * Runs with the world stopped, after the marker drained and before anything
 * reads or clears the marks (sweeping of large objects, cached spans).  The
 * stack of a thread in a blocking region is skipped: that thread runs on,
 * below the frame that entered the region, so the words there need not be
 * the ones the marker saw.
 */
#include "mark/gen.h"
#include "heap/heap.h"
#include "heap/layout.h"
#include "roots/roots.h"
#include "mark/verify.h"
#include "base/addrmap.h"
#include "base/util.h"
#include "base/vec.h"

/* A traced object still to scan, and where its path comes from. */
typedef struct vitem {
    uintptr_t lo, hi;   /* words to scan */
    uintptr_t layout;   /* typed objects: their layout value, else 0 */
    bool typed;
    uint32_t root;      /* index into the root list */
} vitem;

/* The verifier's own tables come straight from the OS and go back after
 * each run. */
typedef struct vstate {
    addrmap set;        /* objects traced (keys only) */
    vec stack;          /* of vitem */
    vec roots;          /* of root_desc: every root range, in visit order */
    size_t objects;     /* objects traced */
    bool minor;         /* the collection was minor: see gen_was_written */
} vstate;

static uint64_t verified_cycles, verified_objects;

static __attribute__((noreturn)) void out_of_memory(const char *what)
{
    hgc__fatal("verify: out of memory for %s", what);
}

/* Insert obj; false if it was there already. */
static bool set_add(vstate *v, uintptr_t obj)
{
    bool existed;
    if (addrmap_insert(&v->set, obj, &existed) == ADDRMAP_NONE)
        out_of_memory("the set of traced objects");
    return !existed;
}

static void push(vstate *v, uintptr_t lo, uintptr_t hi, bool typed, uintptr_t layout,
                 uint32_t root)
{
    vitem *it = vec_push(&v->stack);
    if (!it)
        out_of_memory("its stack");
    *it = (vitem){lo, hi, layout, typed, root};
}

/* The object w points into, the marker's way but through the span
 * descriptor: start, bytes to scan (0 for pointer-free kinds), size, mark
 * and, for typed objects, the layout value in the word after scan_bytes.
 * Objects of kinds with a mark function count as pointer-free here: what
 * the function marks may lie outside the object, and what it leaves
 * unmarked inside (a weak reference) is its choice, so the check covers
 * only what is reachable otherwise. */
static bool words_scanned(const span *s)
{
    unsigned scan = kind_scan(s->kind);
    return scan == SCAN_WORDS || scan == SCAN_TYPED;
}

static bool object_at(uintptr_t w, uintptr_t *start, size_t *scan_bytes, size_t *size,
                      const uint8_t **mark, bool *typed)
{
    span *s = pagemap_lookup(w);
    if (!s)
        return false;
    uint8_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
    if (state == SPAN_SMALL) {
        uintptr_t obj = span_object_start(s, w, NULL);
        if (!obj)
            return false; /* tail waste */
        *start = obj;
        *size = s->elem_size;
        *scan_bytes = words_scanned(s) ? s->elem_size : 0;
    } else if (state == SPAN_LARGE) {
        *start = s->base;
        *size = s->elem_size;
        *scan_bytes = words_scanned(s) ? (s->req_size + 7) & ~(size_t)7 : 0;
    } else {
        return false;
    }
    *typed = kind_scan(s->kind) == SCAN_TYPED;
    if (*typed)
        *scan_bytes -= sizeof(uintptr_t); /* the layout word */
    *mark = span_mark_of(s, *start);
    return true;
}

static NOINLINE void report(vstate *v, uintptr_t obj, size_t size, uintptr_t where,
                            uintptr_t holder, uint32_t root)
{
    char rd[160];
    roots_describe(&VEC_AT(&v->roots, root_desc, root), rd, sizeof rd);
    if (holder)
        hgc__fatal("verify: object %p (%zu bytes) is reachable but not marked: referenced "
                   "from %p inside object %p, on a path from root %s",
                   (void *)obj, size, (void *)where, (void *)holder, rd);
    hgc__fatal("verify: object %p (%zu bytes) is reachable but not marked: referenced from "
               "%p in root %s",
               (void *)obj, size, (void *)where, rd);
}

/* Visit every word of [lo, hi) -- of a typed object, those its layout
 * names; holder is the object holding them (0 for a root). */
static NO_SANITIZE_SCAN void visit(vstate *v, const vitem *it, uintptr_t holder)
{
    uintptr_t lo = (it->lo + sizeof(uintptr_t) - 1) & ~(sizeof(uintptr_t) - 1);
    for (uintptr_t p = lo; p + sizeof(uintptr_t) <= it->hi; p += sizeof(uintptr_t)) {
        if (it->typed && !layout_word_is_pointer(it->layout, (p - it->lo) / sizeof(uintptr_t)))
            continue;
        uintptr_t w = *(const uintptr_t *)p;
        uintptr_t obj;
        size_t scan_bytes, size;
        const uint8_t *mark;
        bool typed;
        if (!object_at(w, &obj, &scan_bytes, &size, &mark, &typed))
            continue;
        bool live = mark_byte_live(*mark);
        if (!live && holder && v->minor && !gen_was_written(p))
            continue; /* a stale word in an old object (gen.h) */
        if (!set_add(v, obj))
            continue;
        v->objects++;
        if (!live)
            report(v, obj, size, p, holder, it->root);
        if (scan_bytes)
            push(v, obj, obj + scan_bytes, typed,
                 typed ? *(const uintptr_t *)(obj + scan_bytes) : 0, it->root);
    }
}

/* Trace everything reachable from one root.  Runs inside roots_each, as
 * the marker does: the register spill in its frame is still there, and the
 * trace's own frames lie below the collecting thread's scanned range. */
static void trace_root(const root_desc *d, void *arg)
{
    vstate *v = arg;
    if (d->moving)
        return; /* not the words the marker saw: nothing to compare */
    root_desc *copy = vec_push(&v->roots);
    if (!copy)
        out_of_memory("its list of roots");
    *copy = *d;
    vitem root = {.lo = d->lo, .hi = d->hi, .root = (uint32_t)(v->roots.n - 1)};
    visit(v, &root, 0);
    while (v->stack.n) {
        vitem it = *(const vitem *)vec_pop(&v->stack);
        visit(v, &it, it.lo);
    }
}

void verify_marks(thread_rec *self, bool minor)
{
    vstate v = {.set = {.nvals = 0}, .stack = VEC_INIT(vitem), .roots = VEC_INIT(root_desc),
                .minor = minor};
    roots_each(self, trace_root, &v);
    verified_cycles++;
    verified_objects += v.objects;
    addrmap_free(&v.set);
    vec_free(&v.stack);
    vec_free(&v.roots);
}

/* Self-test: forget the mark of every small object whose first word is
 * VERIFY_SELFTEST_WORD, as a marker bug would. */
static void unmark_tagged(span *s, void *arg)
{
    (void)arg;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != SPAN_SMALL)
        return;
    for (uint32_t i = 0; i < s->nelems; i++) {
        uintptr_t obj = s->base + (uintptr_t)i * s->elem_size;
        uint8_t *m = span_mark_of(s, obj);
        if (*m && *(const uint64_t *)obj == VERIFY_SELFTEST_WORD)
            *m = 0;
    }
}

void verify_selftest_unmark(void)
{
    pageheap_each_span(unmark_tagged, NULL);
}

void verify_totals(uint64_t *cycles, uint64_t *objects)
{
    *cycles = verified_cycles;
    *objects = verified_objects;
}
