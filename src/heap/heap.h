/*
 * heap.h -- arenas, spans, the page map and the page heap.
 *
 * Address space is reserved in arenas of ARENA_SIZE bytes, aligned to
 * ARENA_SIZE.  An arena is cut into pages of PAGE_SIZE bytes; a span is a run
 * of whole pages that is either free, holds small objects of one size class
 * and one kind, or holds one large object.
 *
 * Page map: arena_table[addr >> ARENA_SHIFT] -> arena, and
 * arena->pages[page index] -> the span covering that page.  Every page of a
 * span, free or in use, points at the span's descriptor, so address -> span
 * is two dependent loads with no lock.  Entries are written under the heap
 * lock and published with release stores; lock-free readers use acquire
 * loads and then re-check the span's state.
 *
 * Span descriptors live outside the heap and are type-stable: they are
 * recycled only as span descriptors and never unmapped, so a racing reader
 * holding a stale descriptor reads a span, never foreign memory.  Their
 * liveness is explicit state (SPAN_*), never root scanning.
 *
 * Mark bytes: each arena has a side table of one byte per GRANULE (16 bytes).
 * An object's mark is the byte of its first granule.  Bytes (not bits) let
 * future parallel markers mark with plain stores without read-modify-write
 * races on neighbours.
 *
 * Mark byte values: 0 (unmarked), MARK_OLD, or one of two survivor values.
 * Without generations every mark is MARK_OLD and lasts one cycle.  With
 * them (gen.h) MARK_OLD is sticky and the survivor values alternate from
 * one minor collection to the next: a young object that a minor collection
 * finds live gets that collection's value, and one found live again by the
 * next minor collection -- it carries the other value then -- becomes old.
 */

#ifndef HGC_HEAP_H
#define HGC_HEAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "heap/kind.h"

#define PAGE_SHIFT 13
#define PAGE_SIZE ((size_t)1 << PAGE_SHIFT)
#define ARENA_SHIFT 26
#define ARENA_SIZE ((size_t)1 << ARENA_SHIFT)
#define PAGES_PER_ARENA (ARENA_SIZE / PAGE_SIZE)
#define GRANULE_SHIFT 4
#define GRANULE ((size_t)1 << GRANULE_SHIFT)
#define ADDRESS_BITS 48
#define ARENA_TABLE_SIZE ((size_t)1 << (ADDRESS_BITS - ARENA_SHIFT))

/* Object kinds (kind.h).  A span holds objects of exactly one kind.  A
 * TYPED object carries its layout (layout.h) in its last word, so one span
 * holds objects of many types; the marker scans only the words the layout
 * names. */

/* Size classes: 16-byte steps to 128, then four classes per doubling up to
 * SMALL_MAX.  Anything larger is a large object with a span of its own. */
#define SMALL_MAX 32768
#define NCLASSES 41 /* class 0 unused */

/* Homes: every registered thread has one (round-robin), and every small
 * span remembers the home of the last cache that held it, so that after a
 * collection a thread sweeps and refills its own spans first (central.c). */
#define NHOMES 8

/* Span states.  Transitions happen under the heap lock (FREE <-> in use);
 * the state is stored with release so that page-map readers see a
 * consistent span. */
enum span_state { SPAN_FREE = 0, SPAN_SMALL = 1, SPAN_LARGE = 2 };

/* Which list of its central a small span was filed on; protected by that
 * central's lock.  A collection moves whole lists to the unswept list
 * without retagging, so the tag is read together with span.filed_cycle
 * (central.c: Tags).  A CACHED span belongs to exactly one thread cache
 * (`owner`) and is on no list; the sweeper never touches it. */
enum span_list_id { LIST_NONE = 0, LIST_PARTIAL, LIST_FULL, LIST_CACHED, LIST_OLD };

struct tcache;

typedef struct span {
    uintptr_t base;          /* first byte */
    size_t npages;
    uint8_t *marks;          /* mark byte of the first granule (side table) */
    _Atomic uint8_t state;   /* enum span_state */
    uint8_t kind;            /* kind.h: KIND_* or a program's kind */
    uint8_t sizeclass;       /* 0 for large and free spans */
    _Atomic uint8_t list;    /* enum span_list_id; relaxed, see central.c */
    bool needzero;           /* memory may hold old data (not fresh from the OS) */
    bool released;           /* free span whose pages were given back to the OS */
    bool protected;          /* protect.c protected its pages (some may be written since) */
    bool has_old;            /* may hold old objects: minors look at its written pages (protect.c) */
    /* small: home of the last cache that held it, < NHOMES (0 until one
     * does: descriptors are zeroed); its central lists are that home's
     * (central.c).  Changes only while no central list holds the span. */
    _Atomic uint8_t home;
    /* Has held, since it was last emptied, an object with a finalizer or an
     * uncollectable one: only then does hgc_free look the object up in
     * finalize.c's tables, under their lock (relaxed: a free that races
     * with registering the same object is the program's bug). */
    _Atomic bool registered;
    size_t elem_size;        /* small: class size; large: npages * PAGE_SIZE */
    uint32_t nelems;         /* small: slots in the span; large: 1 */
    uint64_t div_magic;      /* slot index = (offset * div_magic) >> DIV_SHIFT */
    /* Free slots, linked through their first word (encoded, see alloc.h).
     * Owned by the span's owner while CACHED, else by whoever holds the
     * central lock. */
    void *free;
    uint32_t nfree;
    uint64_t filed_cycle;    /* small: sweep cycle when last filed on a central list (central.c) */
    /* Frees from threads that are not the owner: a lock-free push-only
     * stack, emptied with one exchange by the owner or the sweeper.  The
     * word packs the top slot's address (below bit XFREE_SHIFT) with the
     * number of pushes since it was last emptied (above), so that one CAS
     * both pushes and counts (central.c: Batches).  See xfree_top/count. */
    _Atomic uintptr_t xfree;
    _Atomic(struct tcache *) owner; /* the cache holding it, or NULL */
    uint64_t free_cycle;     /* FREE spans: collection count when freed */
    size_t req_size;         /* large: requested bytes */
    uint64_t zero_cycle;     /* small: marks.c, every mark byte 0 since that marking */
    struct span *next, *prev;
} span;

#define DIV_SHIFT 40

/* span.xfree: heap addresses fit in ADDRESS_BITS bits; the 16 bits above
 * count pushes (modulo 2^16, far above any span's slot count). */
#define XFREE_SHIFT ADDRESS_BITS
#define XFREE_ONE ((uintptr_t)1 << XFREE_SHIFT)
static inline void *xfree_top(uintptr_t w) { return (void *)(w & (XFREE_ONE - 1)); }
static inline uint32_t xfree_count(uintptr_t w) { return (uint32_t)(w >> XFREE_SHIFT); }

/* Page info, the marker's shortcut past the span descriptor: for each page
 * of a small-object span, (page index within the span) << 8 | scan class
 * of its kind (kind.h) << 6 | size class; 0 for every page of free and
 * large spans.  Written by the thread
 * that holds the span exclusively, inside a critical section, so a marker
 * running with the world stopped always sees a complete span. */
#define PINFO_CLASS_MASK 0x3f
#define PINFO_KIND_SHIFT 6
#define PINFO_PAGE_SHIFT 8
_Static_assert(NCLASSES <= PINFO_CLASS_MASK + 1, "page info holds the class in 6 bits");
_Static_assert(SCAN_WORDS <= 3 && SCAN_TYPED <= 3 && SCAN_PROC <= 3 && SCAN_NONE <= 3,
               "page info holds the scan class in 2 bits");
/* The page index fits in 8 bits because hgc__class_pages is a uint8_t. */

typedef struct arena {
    uintptr_t base;
    uint8_t *marks;                         /* ARENA_SIZE / GRANULE bytes */
    /* marks - (base >> GRANULE_SHIFT): the mark byte of address p in this
     * arena is at mark_bias + (p >> GRANULE_SHIFT), one add for the marker. */
    uintptr_t mark_bias;
    _Atomic(span *) pages[PAGES_PER_ARENA];
    uint16_t pinfo[PAGES_PER_ARENA];
    /* Generations (protect.c): nonzero for a page of a span that must be
     * write-protected at the end of this collection.  Set by markers
     * (relaxed byte stores: they only ever write 1) and cleared by
     * heap_wt_protect, all with the world stopped. */
    uint8_t protect[PAGES_PER_ARENA];
} arena;

extern INTERNAL _Atomic(arena *) *hgc__arena_table;
/* Bounds for a quick rejection: every arena lies strictly between
 * hgc__heap_below and hgc__heap_end (UINTPTR_MAX and 0 while there is
 * none).  The lower bound is one byte below the lowest arena, not its
 * base: this library's static data is scanned as a root like any other,
 * and that base is where an object starts (test_false_roots).  The upper
 * one, one past the highest arena, is no object's address. */
extern INTERNAL _Atomic uintptr_t hgc__heap_below, hgc__heap_end;

/* Lock-free address -> span.  NULL outside the heap. */
static inline span *pagemap_lookup(uintptr_t p)
{
    if (p <= atomic_load_explicit(&hgc__heap_below, memory_order_relaxed) ||
        p >= atomic_load_explicit(&hgc__heap_end, memory_order_relaxed))
        return NULL;
    arena *a = atomic_load_explicit(&hgc__arena_table[p >> ARENA_SHIFT], memory_order_acquire);
    if (!a)
        return NULL;
    return atomic_load_explicit(&a->pages[(p >> PAGE_SHIFT) & (PAGES_PER_ARENA - 1)],
                                memory_order_acquire);
}

/* Object start for an address inside span s, or 0 if it falls in the
 * span's tail waste. */
static inline uintptr_t span_object_start(const span *s, uintptr_t p, uint32_t *idx_out)
{
    uintptr_t off = p - s->base;
    uint32_t idx = (uint32_t)((off * s->div_magic) >> DIV_SHIFT);
    if (idx >= s->nelems)
        return 0;
    if (idx_out)
        *idx_out = idx;
    return s->base + (uintptr_t)idx * s->elem_size;
}

/* The span of the object p points into, its start in *obj; NULL when p is
 * not inside an object (outside the heap, on free pages, in tail waste).
 * Lock-free, as pagemap_lookup. */
static inline span *heap_object_of(uintptr_t p, uintptr_t *obj)
{
    span *s = pagemap_lookup(p);
    if (!s)
        return NULL;
    uint8_t state = atomic_load_explicit(&s->state, memory_order_acquire);
    if (state == SPAN_LARGE)
        *obj = s->base;
    else if (state != SPAN_SMALL || !(*obj = span_object_start(s, p, NULL)))
        return NULL;
    return s;
}

static inline uint8_t *span_mark_of(const span *s, uintptr_t obj)
{
    return s->marks + ((obj - s->base) >> GRANULE_SHIFT);
}

/* Mark byte values (see the top of this file). */
enum { MARK_OLD = 1, MARK_SURVIVOR_A = 2, MARK_SURVIVOR_B = 4 };
/* The mark values that mean "live" from the start of one collection's
 * marking to the start of the next: MARK_OLD, plus the survivor value of
 * that collection if it was minor.  A marked byte with another value is a
 * survivor of the collection before that died since: sweeping frees its
 * slot and clears it (gen.h).  Written with the world stopped. */
extern INTERNAL uint8_t hgc__live_marks;
static inline bool mark_byte_live(uint8_t b) { return (b & hgc__live_marks) != 0; }

static inline unsigned span_list_of(const span *s)
{
    return atomic_load_explicit(&s->list, memory_order_relaxed);
}
static inline void span_set_list(span *s, unsigned id)
{
    atomic_store_explicit(&s->list, (uint8_t)id, memory_order_relaxed);
}

/* Circular doubly linked span lists with a sentinel head. */
static inline void span_list_init(span *head) { head->next = head->prev = head; }
static inline bool span_list_empty(const span *head) { return head->next == head; }
static inline void span_list_push(span *head, span *s)
{
    s->next = head->next;
    s->prev = head;
    head->next->prev = s;
    head->next = s;
}
static inline void span_list_remove(span *s)
{
    s->prev->next = s->next;
    s->next->prev = s->prev;
    s->next = s->prev = NULL;
}
static inline span *span_list_pop(span *head)
{
    if (span_list_empty(head))
        return NULL;
    span *s = head->next;
    span_list_remove(s);
    return s;
}
/* Append all of `from` to `to`, leaving `from` empty. */
static inline void span_list_splice(span *to, span *from)
{
    if (span_list_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    span_list_init(from);
}

/* Size classes (sizeclass.c). */
extern INTERNAL uint32_t hgc__class_size[NCLASSES];
extern INTERNAL uint8_t hgc__class_pages[NCLASSES];
/* What the marker needs to find an object from an address, in one cache
 * line per two classes: slot index = (offset in span * magic) >> DIV_SHIFT,
 * valid below nelems.  For power-of-two sizes up to a page, spans have no
 * tail waste and an object starts at the address & align_mask (0 for the
 * other classes). */
typedef struct class_geom {
    uint64_t magic;      /* span.div_magic of the class */
    uint32_t size;
    uint32_t nelems;     /* slots in a span of the class */
    uintptr_t align_mask;
    uintptr_t pad;       /* to 32 bytes: an entry never straddles a line */
} class_geom;
_Static_assert(sizeof(class_geom) == 32, "class_geom: two per cache line");
extern INTERNAL class_geom hgc__class_geom[NCLASSES];
extern INTERNAL uint8_t hgc__class_small_index[SMALL_MAX / 128 + 1];
extern INTERNAL uint8_t hgc__class_tiny_index[1024 / 16 + 1];
void sizeclass_init(void);

static inline unsigned size_to_class(size_t n)
{
    if (n <= 1024)
        return hgc__class_tiny_index[(n + 15) >> 4];
    return hgc__class_small_index[(n + 127) >> 7];
}

/* Page heap (pageheap.c).  All of these take the heap lock themselves. */
void pageheap_init(void);
/* A span of npages pages with state and pagemap set for every page; NULL
 * when the address space is exhausted.  span.needzero says whether the
 * memory may hold old data. */
span *pageheap_alloc(size_t npages, enum span_state state);
/* Cap the bytes of spans in use (0: no cap); allocations past it fail.  A
 * cap below the current use only stops growth.  Takes no lock. */
void pageheap_set_limit(size_t bytes);
/* Try without growing the heap. */
span *pageheap_alloc_nogrow(size_t npages, enum span_state state);
void pageheap_free(span *s);
/* Make a fresh SPAN_SMALL span hold class cls of the given kind (kind.h):
 * descriptor fields and page info.  The caller holds s exclusively. */
void pageheap_set_small(span *s, unsigned kind, unsigned cls);
/* Give back to the OS the pages of free spans that stayed free for at least
 * `age` collections, as long as the heap maps more than `keep` bytes. */
void pageheap_scavenge(uint64_t cycle, uint64_t age, size_t keep);
/* Bytes of spans in use, and those plus free pages not yet released, read
 * together.  Takes the heap lock: a registered thread calls it only inside
 * a critical section or holding the world lock (threads.h). */
void pageheap_bytes(size_t *in_use, size_t *mapped);
/* Call fn for every in-use span (world stopped or heap lock not needed by
 * the caller). */
void pageheap_each_span(void (*fn)(span *s, void *arg), void *arg);
/* Call fn for every arena, in address order of creation, while it returns
 * true; false if some call returned false.  World stopped. */
bool pageheap_each_arena(bool (*fn)(arena *a, void *arg), void *arg);
/* The same with the world running: the list of arenas is read under the
 * heap lock, fn runs without it (arenas are never unmapped). */
bool pageheap_each_arena_running(bool (*fn)(arena *a, void *arg), void *arg);

#endif
