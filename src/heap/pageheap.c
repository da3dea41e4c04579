/*
 * pageheap.c -- arenas, the page map and free page runs.
 *
 * Free runs are kept in buckets by length (exact lengths below NBUCKETS
 * pages, one list for longer runs) and coalesced with free neighbours on
 * free.  Allocation carves the requested pages from the END of a run so the
 * remainder keeps its descriptor and its page-map entries: carving costs the
 * carved pages, not the run.
 *
 * Invariants (all under heap_lock):
 *  - every page of every arena is covered by exactly one span, and its
 *    page-map entry points at that span's descriptor;
 *  - a FREE span is on exactly one bucket list; in-use spans are on none
 *    here (their owners keep them on their own lists);
 *  - no two FREE spans are adjacent (coalescing is complete);
 *  - released == true implies the pages read as zero.
 *
 * Callers must be inside a critical section (threads.h): the heap lock is
 * never held by a thread that the world stop has suspended.
 */
#include <pthread.h>
#include <string.h>

#include "base/vec.h"
#include "base/check.h"
#include "heap/heap.h"
#include "heap/protect.h"
#include "os/os.h"

_Atomic(arena *) *hgc__arena_table;
_Atomic uintptr_t hgc__heap_below = UINTPTR_MAX, hgc__heap_end = 0;

#define NBUCKETS 128

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
/* List heads (sentinels), NBUCKETS of them, in metadata memory: static
 * data is scanned as roots (see centrals in central.c). */
static span *free_runs;
static span *spare_descs;        /* recycled descriptors, linked by next */
/* Every arena, for walks.  The walks read it without the heap lock, with
 * the world stopped; it grows under the heap lock, inside a critical
 * section (the rule above), which a stopped world excludes: no walk sees
 * the array move. */
static vec all_arenas = VEC_INIT(arena *);
static size_t in_use_bytes, free_unreleased_bytes;
/* Cap on in_use_bytes (pageheap_set_limit).  Atomic, so that setting it
 * needs no lock: a mutator may set it from anywhere. */
static _Atomic size_t heap_limit = SIZE_MAX;

void pageheap_init(void)
{
    free_runs = meta_alloc(NBUCKETS * sizeof *free_runs);
    for (int i = 0; i < NBUCKETS; i++)
        span_list_init(&free_runs[i]);
    hgc__arena_table = os_reserve(ARENA_TABLE_SIZE * sizeof(arena *), 4096);
    if (!hgc__arena_table)
        hgc__fatal("cannot reserve the page map");
}

static span *desc_new(void)
{
    span *s = spare_descs;
    if (s) {
        spare_descs = s->next;
        /* Keep state (readers may still look at it) until set below. */
        uint8_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
        memset(s, 0, sizeof *s);
        atomic_store_explicit(&s->state, st, memory_order_relaxed);
        return s;
    }
    return meta_alloc(sizeof(span));
}

static void desc_recycle(span *s)
{
    atomic_store_explicit(&s->state, SPAN_FREE, memory_order_release);
    s->next = spare_descs;
    spare_descs = s;
}

static arena *arena_of(uintptr_t p)
{
    return atomic_load_explicit(&hgc__arena_table[p >> ARENA_SHIFT], memory_order_relaxed);
}

/* Point the page-map entries of pages [first, first+n) at s. */
static void map_pages(uintptr_t first, size_t n, span *s)
{
    for (size_t i = 0; i < n; i++) {
        uintptr_t p = first + i * PAGE_SIZE;
        arena *a = arena_of(p);
        atomic_store_explicit(&a->pages[(p >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)], s,
                              memory_order_release);
    }
}

/* hgc_assert_slow that every page of s maps to s (heap.h: the page map). */
static void check_span_pages(const span *s)
{
    for (size_t i = 0; hgc_check_level >= 2 && i < s->npages; i++) {
        uintptr_t p = s->base + i * PAGE_SIZE;
        const span *m = atomic_load_explicit(
            &arena_of(p)->pages[(p >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)], memory_order_relaxed);
        hgc_assert_slow(m == s, "page map: page %zu of span %p (%zu pages) maps to span %p", i,
                        (void *)s->base, s->npages, m ? (void *)m->base : NULL);
    }
}

static span *page_owner(uintptr_t p)
{
    if (p <= atomic_load_explicit(&hgc__heap_below, memory_order_relaxed) ||
        p >= atomic_load_explicit(&hgc__heap_end, memory_order_relaxed))
        return NULL;
    arena *a = arena_of(p);
    if (!a)
        return NULL;
    return atomic_load_explicit(&a->pages[(p >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)],
                                memory_order_relaxed);
}

static void free_insert(span *s)
{
    size_t b = s->npages < NBUCKETS ? s->npages : 0;
    span_list_push(&free_runs[b], s);
    if (!s->released)
        free_unreleased_bytes += s->npages * PAGE_SIZE;
}

static void free_remove(span *s)
{
    span_list_remove(s);
    if (!s->released)
        free_unreleased_bytes -= s->npages * PAGE_SIZE;
}

/* Heap memory never holds an address whose low 32 bits are all zero.  Such
 * a word is a common false pointer: the high half of an address, its low
 * half cleared.  glibc's start-up frame, above main's, holds one for the
 * life of the process, made from an address in the area where libraries
 * -- and arenas -- are mapped.  Arenas are aligned, so such an address can
 * only be an arena's base, where a span and its first object start; a
 * conservative root there kept that object and all it reaches
 * (test_false_roots). */
#define FALSE_ROOT_ALIGN ((uintptr_t)1 << 32)

static bool holds_false_root_target(uintptr_t lo, size_t bytes)
{
    uintptr_t first = (lo + FALSE_ROOT_ALIGN - 1) & ~(FALSE_ROOT_ALIGN - 1);
    return first - lo < bytes;
}

/* Reserve `bytes` (a multiple of ARENA_SIZE), aligned to ARENA_SIZE and
 * clear of the addresses above if a few tries can: a rejected range stays
 * mapped while the next is asked for, so the next lies elsewhere.  A range
 * of 4 GiB or more always holds one. */
#define RESERVE_TRIES 4
static char *reserve_arenas(size_t bytes)
{
    if (bytes >= FALSE_ROOT_ALIGN)
        return os_reserve(bytes, ARENA_SIZE);
    char *rejected[RESERVE_TRIES];
    int nrejected = 0;
    char *mem;
    for (;;) {
        mem = os_reserve(bytes, ARENA_SIZE);
        if (!mem || !holds_false_root_target((uintptr_t)mem, bytes) ||
            nrejected == RESERVE_TRIES)
            break;
        rejected[nrejected++] = mem;
    }
    while (nrejected > 0)
        os_unmap(rejected[--nrejected], bytes);
    return mem;
}

/* Reserve address space for at least npages and add it as one free run. */
static bool grow(size_t npages)
{
    size_t bytes = npages * PAGE_SIZE;
    bytes = (bytes + ARENA_SIZE - 1) & ~(ARENA_SIZE - 1);
    if (bytes < npages * PAGE_SIZE) /* overflow */
        return false;
    char *mem = reserve_arenas(bytes);
    if (!mem)
        return false;
    if ((uintptr_t)mem + bytes > ((uintptr_t)1 << ADDRESS_BITS)) {
        os_unmap(mem, bytes);
        return false;
    }
    size_t n = bytes / ARENA_SIZE;
    if (!vec_reserve(&all_arenas, all_arenas.n + n))
        hgc__fatal("out of memory for the list of arenas (%zu arenas)", all_arenas.n + n);
    for (size_t i = 0; i < n; i++) {
        arena *a = meta_alloc(sizeof(arena));
        a->base = (uintptr_t)mem + i * ARENA_SIZE;
        a->marks = os_reserve(ARENA_SIZE >> GRANULE_SHIFT, 4096);
        if (!a->marks)
            hgc__fatal("out of memory for mark tables");
        a->mark_bias = (uintptr_t)a->marks - (a->base >> GRANULE_SHIFT);
        *(arena **)vec_push(&all_arenas) = a; /* reserved above */
        atomic_store_explicit(&hgc__arena_table[a->base >> ARENA_SHIFT], a, memory_order_release);
    }
    uintptr_t lo = (uintptr_t)mem, hi = lo + bytes;
    heap_wt_arena_added(lo, hi);
    if (lo - 1 < atomic_load_explicit(&hgc__heap_below, memory_order_relaxed))
        atomic_store_explicit(&hgc__heap_below, lo - 1, memory_order_release);
    if (hi > atomic_load_explicit(&hgc__heap_end, memory_order_relaxed))
        atomic_store_explicit(&hgc__heap_end, hi, memory_order_release);

    span *s = desc_new();
    s->base = lo;
    s->npages = bytes / PAGE_SIZE;
    s->released = true; /* fresh mappings read as zero */
    map_pages(lo, s->npages, s);
    atomic_store_explicit(&s->state, SPAN_FREE, memory_order_release);
    free_insert(s);
    return true;
}

/* Whether a span of npages for `state` can be carved from the end of run.
 * A small span must lie inside one arena: its marks are a slice of that
 * arena's table and its page info is per arena.  Only a run left by a
 * large object of more than one arena crosses an arena boundary. */
static bool run_fits(const span *run, size_t npages, enum span_state state)
{
    if (run->npages < npages)
        return false;
    if (state != SPAN_SMALL)
        return true;
    uintptr_t end = run->base + run->npages * PAGE_SIZE;
    uintptr_t last_arena = (end - 1) & ~(ARENA_SIZE - 1);
    uintptr_t lo = run->base > last_arena ? run->base : last_arena;
    return end - lo >= npages * PAGE_SIZE;
}

static span *find_run(size_t npages, enum span_state state)
{
    for (size_t b = npages; b < NBUCKETS; b++)
        for (span *s = free_runs[b].next; s != &free_runs[b]; s = s->next)
            if (run_fits(s, npages, state))
                return s;
    span *best = NULL;
    for (span *s = free_runs[0].next; s != &free_runs[0]; s = s->next)
        if (run_fits(s, npages, state) && (!best || s->npages < best->npages))
            best = s;
    return best;
}

static span *carve(span *run, size_t npages, enum span_state state)
{
    free_remove(run);
    span *s;
    if (run->npages == npages) {
        s = run;
    } else {
        run->npages -= npages;
        free_insert(run);
        s = desc_new();
        s->base = run->base + run->npages * PAGE_SIZE;
        s->npages = npages;
        s->released = run->released;
        s->needzero = run->needzero;
        map_pages(s->base, npages, s);
    }
    s->needzero = s->needzero || !s->released;
    s->released = false;
    s->marks = arena_of(s->base)->marks + ((s->base & (ARENA_SIZE - 1)) >> GRANULE_SHIFT);
    s->next = s->prev = NULL;
    in_use_bytes += npages * PAGE_SIZE;
    hgc_assert(s->npages == npages, "carved span %p has %zu pages, %zu asked for",
               (void *)s->base, s->npages, npages);
    check_span_pages(s);
    atomic_store_explicit(&s->state, (uint8_t)state, memory_order_release);
    return s;
}

/* Would npages more pages pass the limit?  Heap lock held. */
static bool over_limit(size_t npages)
{
    size_t limit = atomic_load_explicit(&heap_limit, memory_order_relaxed);
    return in_use_bytes >= limit || npages * PAGE_SIZE > limit - in_use_bytes;
}

void pageheap_set_limit(size_t bytes)
{
    atomic_store_explicit(&heap_limit, bytes ? bytes : SIZE_MAX, memory_order_relaxed);
}

span *pageheap_alloc_nogrow(size_t npages, enum span_state state)
{
    pthread_mutex_lock(&heap_lock);
    span *run = over_limit(npages) ? NULL : find_run(npages, state);
    span *s = run ? carve(run, npages, state) : NULL;
    pthread_mutex_unlock(&heap_lock);
    return s;
}

span *pageheap_alloc(size_t npages, enum span_state state)
{
    if (npages == 0 || npages > ((size_t)1 << (ADDRESS_BITS - PAGE_SHIFT)))
        return NULL;
    pthread_mutex_lock(&heap_lock);
    if (over_limit(npages)) {
        pthread_mutex_unlock(&heap_lock);
        return NULL;
    }
    span *run = find_run(npages, state);
    if (!run && grow(npages))
        run = find_run(npages, state);
    span *s = run ? carve(run, npages, state) : NULL;
    pthread_mutex_unlock(&heap_lock);
    return s;
}

/* Merge free run b into free run a (adjacent, a below b or above it); the
 * longer run's descriptor survives so the shorter one's pages are remapped. */
static span *merge(span *a, span *b)
{
    if (a->base + a->npages * PAGE_SIZE != b->base && b->base + b->npages * PAGE_SIZE != a->base)
        hgc__fatal("pageheap: merging non-adjacent runs %p+%zu and %p+%zu", (void *)a->base,
                   a->npages, (void *)b->base, b->npages);
    free_remove(a);
    free_remove(b);
    span *keep = a->npages >= b->npages ? a : b;
    span *gone = keep == a ? b : a;
    keep->base = a->base < b->base ? a->base : b->base;
    keep->npages = a->npages + b->npages;
    keep->needzero = a->needzero || b->needzero || a->released != b->released;
    keep->released = a->released && b->released;
    /* 0 means "freed since the last scavenge": the merged run is as young
     * as its youngest part. */
    keep->free_cycle = (a->free_cycle && b->free_cycle)
                           ? (a->free_cycle > b->free_cycle ? a->free_cycle : b->free_cycle)
                           : 0;
    map_pages(gone->base, gone->npages, keep);
    desc_recycle(gone);
    check_span_pages(keep);
    free_insert(keep);
    return keep;
}

/* Set the page info of every page of s to v (page index added). */
static void set_pinfo(span *s, uint16_t v, bool add_index)
{
    arena *a = arena_of(s->base);
    size_t first = (s->base - a->base) >> PAGE_SHIFT;
    for (size_t i = 0; i < s->npages; i++)
        a->pinfo[first + i] = (uint16_t)(v + (add_index ? i << PINFO_PAGE_SHIFT : 0));
}

void pageheap_set_small(span *s, unsigned kind, unsigned cls)
{
    s->kind = (uint8_t)kind;
    s->sizeclass = (uint8_t)cls;
    s->elem_size = hgc__class_size[cls];
    s->nelems = hgc__class_geom[cls].nelems;
    s->div_magic = hgc__class_geom[cls].magic;
    s->zero_cycle = 0; /* its marks are not known to be 0 (heap/marks.c) */
    hgc_assert(s->npages == hgc__class_pages[cls] &&
                   (size_t)s->nelems * s->elem_size <= s->npages * PAGE_SIZE,
               "span %p of class %u: %u slots of %zu bytes in %zu pages", (void *)s->base, cls,
               s->nelems, s->elem_size, s->npages);
    set_pinfo(s, (uint16_t)(kind_scan(kind) << PINFO_KIND_SHIFT | cls), true);
}

void pageheap_free(span *s)
{
    hgc_assert(atomic_load_explicit(&s->state, memory_order_relaxed) != SPAN_FREE,
               "span %p (%zu pages) freed to the page heap twice", (void *)s->base, s->npages);
    hgc_assert(atomic_load_explicit(&s->owner, memory_order_relaxed) == NULL,
               "span %p freed to the page heap while a thread cache holds it", (void *)s->base);
    check_span_pages(s);
    heap_span_emptied(s);
    atomic_store_explicit(&s->registered, false, memory_order_relaxed);
    if (s->sizeclass)
        set_pinfo(s, 0, false);
    pthread_mutex_lock(&heap_lock);
    in_use_bytes -= s->npages * PAGE_SIZE;
    s->kind = 0;
    s->sizeclass = 0;
    span_set_list(s, LIST_NONE);
    s->needzero = true;
    s->released = false;
    s->free_cycle = 0;
    s->free = NULL;
    atomic_store_explicit(&s->xfree, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
    atomic_store_explicit(&s->state, SPAN_FREE, memory_order_release);
    free_insert(s);
    span *before = page_owner(s->base - PAGE_SIZE);
    if (before && atomic_load_explicit(&before->state, memory_order_relaxed) == SPAN_FREE)
        s = merge(before, s);
    span *after = page_owner(s->base + s->npages * PAGE_SIZE);
    if (after && atomic_load_explicit(&after->state, memory_order_relaxed) == SPAN_FREE)
        merge(s, after);
    pthread_mutex_unlock(&heap_lock);
}

/* Stamp newly freed runs (runs already stamped keep their older stamp),
 * and release runs at least `age` collections old while the heap maps more
 * than `keep` bytes. */
void pageheap_scavenge(uint64_t cycle, uint64_t age, size_t keep)
{
    pthread_mutex_lock(&heap_lock);
    for (int b = 0; b < NBUCKETS; b++) {
        for (span *s = free_runs[b].next; s != &free_runs[b]; s = s->next) {
            if (s->released)
                continue;
            if (s->free_cycle == 0) {
                s->free_cycle = cycle;
                continue;
            }
            if (cycle - s->free_cycle < age || in_use_bytes + free_unreleased_bytes <= keep)
                continue;
            os_release((void *)s->base, s->npages * PAGE_SIZE);
            free_unreleased_bytes -= s->npages * PAGE_SIZE;
            s->released = true;
            s->needzero = false;
        }
    }
    pthread_mutex_unlock(&heap_lock);
}

void pageheap_bytes(size_t *in_use, size_t *mapped)
{
    pthread_mutex_lock(&heap_lock);
    *in_use = in_use_bytes;
    *mapped = in_use_bytes + free_unreleased_bytes;
    pthread_mutex_unlock(&heap_lock);
}

bool pageheap_each_arena(bool (*fn)(arena *a, void *arg), void *arg)
{
    for (size_t i = 0; i < all_arenas.n; i++)
        if (!fn(VEC_AT(&all_arenas, arena *, i), arg))
            return false;
    return true;
}

bool pageheap_each_arena_running(bool (*fn)(arena *a, void *arg), void *arg)
{
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&heap_lock);
        arena *a = i < all_arenas.n ? VEC_AT(&all_arenas, arena *, i) : NULL;
        pthread_mutex_unlock(&heap_lock);
        if (!a)
            return true;
        if (!fn(a, arg))
            return false;
    }
}

void pageheap_each_span(void (*fn)(span *s, void *arg), void *arg)
{
    for (size_t i = 0; i < all_arenas.n; i++) {
        arena *a = VEC_AT(&all_arenas, arena *, i);
        for (size_t pg = 0; pg < PAGES_PER_ARENA;) {
            span *s = atomic_load_explicit(&a->pages[pg], memory_order_relaxed);
            uintptr_t addr = a->base + pg * PAGE_SIZE;
            if (s->base != addr) {
                pg++;
                continue;
            }
            if (atomic_load_explicit(&s->state, memory_order_relaxed) != SPAN_FREE)
                fn(s, arg);
            pg += s->npages;
        }
    }
}
