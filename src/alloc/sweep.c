/*
 * sweep.c -- sweeping one span.
 *
 * A span's marks say which slots were reachable at the last mark.  Frees
 * that arrived in xfree since then are applied first by clearing their
 * marks: a freed object is dead whether or not the mark saw it.  Every
 * unmarked slot is then rebuilt as a free slot -- whatever list it was on
 * before the collection is forgotten (those lists were dropped when the span
 * went to the unswept list), so no slot can be on two lists.
 *
 * With generations (gen.h) the live marks stay: they say which objects are
 * old and which survived one minor collection; the marks of survivors that
 * died since are cleared with their slots.
 *
 * The marks are counted before any slot is touched: a span with no live
 * object goes back to the page heap and one with no dead object to the full
 * list without a write to its memory.  Many programs drop whole structures
 * at once, so most swept spans are one of the two.
 */
#include <string.h>

#include "alloc/alloc.h"
#include "heap/marks.h"
#include "heap/protect.h"
#include "alloc/sweep.h"

/* Number of live slots (mark_byte_live); *any says whether any mark byte
 * is set at all.  Only the first granule of a slot ever carries a mark
 * (heap.h: marking goes by object start, and free pages carry no marks),
 * so every other mark byte of the span is 0: for slots of up to four
 * granules the slots' mark bytes are counted as one run, eight per load,
 * instead of one load and test per slot. */
#define COUNT_RUN_MAX_STEP 4
static uint32_t count_live(const span *s, bool *any)
{
    const uint8_t *m = s->marks;
    const uint8_t live_marks = hgc__live_marks;
    uint32_t n = s->nelems, live = 0;
    uint8_t seen = 0;
    size_t step = s->elem_size >> GRANULE_SHIFT;
    if (step <= COUNT_RUN_MAX_STEP) {
        const uint64_t ones = 0x0101010101010101ull;
        const uint64_t live_mask = live_marks * ones;
        uint64_t seen8 = 0;
        size_t i = 0, nbytes = (size_t)n * step;
        for (; i + 8 <= nbytes; i += 8) {
            uint64_t w;
            memcpy(&w, m + i, sizeof w);
            seen8 |= w;
            /* Mark values use bits 0-2 of their byte: fold a live value
             * into bit 0, then the byte sum (at most 8) is the count; the
             * multiply gathers it in the top byte. */
            uint64_t l = w & live_mask;
            l = (l | l >> 1 | l >> 2) & ones;
            live += (uint32_t)((l * ones) >> 56);
        }
        seen = seen8 != 0;
        for (; i < nbytes; i++) {
            seen |= m[i];
            live += (m[i] & live_marks) != 0;
        }
        for (i = 0; hgc_check_level >= 2 && i < nbytes; i++)
            hgc_assert_slow(i % step == 0 || m[i] == 0, "mark byte %#x inside the object at %p",
                            m[i], (void *)(s->base + (i - i % step) * GRANULE));
    } else {
        for (uint32_t i = 0; i < n; i++) {
            seen |= m[i * step];
            live += (m[i * step] & live_marks) != 0;
        }
    }
    *any = seen != 0;
    return live;
}

/* Whether every slot of s is old. */
static bool all_old(const span *s)
{
    size_t step = s->elem_size >> GRANULE_SHIFT;
    for (uint32_t i = 0; i < s->nelems; i++)
        if (s->marks[i * step] != MARK_OLD)
            return false;
    return true;
}

enum sweep_result sweep_span(span *s)
{
    size_t size = s->elem_size;
    uint32_t n = s->nelems;
    size_t mark_bytes = (s->npages * PAGE_SIZE) >> GRANULE_SHIFT;

    for (void *x = xfree_top(atomic_exchange_explicit(&s->xfree, 0, memory_order_acquire)); x;) {
        void *next = link_decode((void *)slot_word(x, 0));
        *span_mark_of(s, (uintptr_t)x) = 0;
        x = next;
    }

    bool any;
    uint32_t live = count_live(s, &any);
    hgc_assert(live <= n, "span %p: %u live slots of %u", (void *)s->base, live, n);
    if (live == 0) {
        if (unlikely(hgc__tools))
            for (uint32_t i = 0; i < n; i++)
                tools_block_freed((void *)(s->base + (uintptr_t)i * size), size);
        tools_poison((void *)s->base, (size_t)n * size);
        s->needzero = true;
        /* Free pages carry no marks; the only ones left here are of
         * survivors that died (heap.h). */
        if (any)
            memset(s->marks, 0, mark_bytes);
        heap_marks_zeroed(s);
        heap_span_emptied(s);
        atomic_store_explicit(&s->registered, false, memory_order_relaxed);
        return SWEEP_EMPTY;
    }
    if (live == n) {
        if (!hgc__sticky_marks)
            memset(s->marks, 0, mark_bytes);
        s->free = NULL;
        s->nfree = 0;
        return hgc__sticky_marks && all_old(s) ? SWEEP_OLD : SWEEP_FULL;
    }

    void *list = NULL;
    for (uint32_t i = n; i-- > 0;) {
        uintptr_t obj = s->base + (uintptr_t)i * size;
        uint8_t *mb = span_mark_of(s, obj);
        if (!mark_byte_live(*mb)) {
            *mb = 0; /* a dead survivor's mark, if any: free slots are unmarked */
            tools_object_freed((void *)obj, size);
            slot_make_free((void *)obj, size, list, true);
            list = (void *)obj;
        }
    }
    if (!hgc__sticky_marks)
        memset(s->marks, 0, mark_bytes);
    s->free = list;
    s->nfree = n - live;
    if (hgc_check_level >= 2)
        sweep_check_free_list(s, list, s->nfree);
    return SWEEP_PARTIAL;
}

void sweep_init_fresh(span *s)
{
    size_t size = s->elem_size;
    /* The pages may hold freed slots of another class (ASan: poisoned). */
    tools_unpoison((void *)s->base, (size_t)s->nelems * size);
    /* Slots of up to 4 words are zeroed by the linking pass itself, one
     * pass over the span; bigger ones get one memset of the whole span. */
#ifdef HGC_DEBUG
    /* Free slots carry poison, fresh ones included (alloc.h). */
    memset((void *)s->base, POISON, (size_t)s->nelems * size);
    bool zero_inline = false;
#else
    bool zero_inline = s->needzero && size <= 4 * sizeof(uintptr_t);
    if (s->needzero && !zero_inline)
        memset((void *)s->base, 0, (size_t)s->nelems * size);
#endif
    s->needzero = false;
    /* The keys go in locals: the slot stores could alias the globals and
     * force a reload per slot. */
    const uintptr_t link_key = hgc__link_key, tag_key = hgc__tag_key;
    uintptr_t next = 0;
    for (uint32_t i = s->nelems; i-- > 0;) {
        uintptr_t *w = (uintptr_t *)(s->base + (uintptr_t)i * size);
        w[0] = next ^ link_key;
        w[1] = (uintptr_t)w ^ tag_key;
        if (zero_inline && size > 2 * sizeof(uintptr_t)) {
            w[2] = 0;
            if (size > 3 * sizeof(uintptr_t))
                w[3] = 0;
        }
        next = (uintptr_t)w;
    }
    s->free = (void *)next;
    s->nfree = s->nelems;
    tools_poison((void *)s->base, (size_t)s->nelems * size);
    if (hgc_check_level >= 2)
        sweep_check_free_list(s, s->free, s->nfree);
}

void sweep_check_free_list(const span *s, void *list, uint32_t n)
{
    uint32_t count = 0;
    for (void *x = list; x; x = link_decode((void *)slot_word(x, 0)), count++) {
        uintptr_t off = (uintptr_t)x - s->base;
        hgc_assert_slow(off < (uintptr_t)s->nelems * s->elem_size && off % s->elem_size == 0,
                        "free list of span %p (class %u): %p is not a slot of the span",
                        (void *)s->base, s->sizeclass, x);
        hgc_assert_slow(slot_word(x, 1) == free_tag(x),
                        "free list of span %p: slot %p does not carry the free tag",
                        (void *)s->base, x);
        hgc_assert_slow(count < s->nelems, "free list of span %p loops: more than %u slots",
                        (void *)s->base, s->nelems);
    }
    hgc_assert_slow(count == n, "free list of span %p holds %u slots, counted as %u",
                    (void *)s->base, count, n);
}
