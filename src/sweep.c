/*
 * sweep.c -- sweeping one span.
 *
 * A span's marks say which slots were reachable at the last mark.  Frees
 * that arrived in xfree since then are applied first by clearing their
 * marks: a freed object is dead whether or not the mark saw it.  Every
 * unmarked slot is then rebuilt as a free slot -- whatever list it was on
 * before the collection is forgotten (those lists were dropped when the span
 * went to the unswept list), so no slot can be on two lists.
 */
#include <string.h>

#include "alloc.h"
#include "sweep.h"

enum sweep_result sweep_span(span *s)
{
    size_t size = s->elem_size;
    uint32_t n = s->nelems;

    for (void *x = atomic_exchange_explicit(&s->xfree, NULL, memory_order_acquire); x;) {
        void *next = link_decode(*(void **)x);
        *span_mark_of(s, (uintptr_t)x) = 0;
        x = next;
    }

    void *list = NULL;
    uint32_t live = 0;
    for (uint32_t i = n; i-- > 0;) {
        uintptr_t obj = s->base + (uintptr_t)i * size;
        if (*span_mark_of(s, obj)) {
            live++;
            continue;
        }
        slot_make_free((void *)obj, size, list, true);
        list = (void *)obj;
    }
    memset(s->marks, 0, (s->npages * PAGE_SIZE) >> GRANULE_SHIFT);

    if (live == 0) {
        pageheap_free(s);
        return SWEEP_FREED;
    }
    s->free = list;
    s->nfree = n - live;
    return live == n ? SWEEP_FULL : SWEEP_PARTIAL;
}

void sweep_init_fresh(span *s)
{
    size_t size = s->elem_size;
    bool zero = s->needzero;
    s->needzero = false;
    void *list = NULL;
    for (uint32_t i = s->nelems; i-- > 0;) {
        void *obj = (void *)(s->base + (uintptr_t)i * size);
        slot_make_free(obj, size, list, zero);
        list = obj;
    }
    s->free = list;
    s->nfree = s->nelems;
}
