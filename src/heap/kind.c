/* kind.c -- the kind table (kind.h). */
#include "heap/kind.h"

kind_info hgc__kinds[NKINDS] = {
    [KIND_SCANNED] = {.scan = SCAN_WORDS},
    [KIND_ATOMIC] = {.scan = SCAN_NONE},
    [KIND_TYPED] = {.scan = SCAN_TYPED},
};
_Atomic unsigned hgc__nkinds = KIND_FIRST_CUSTOM;
_Atomic unsigned hgc__proc_kinds;

int kind_add(unsigned scan, kind_mark_fn mark, void *env)
{
    unsigned k = atomic_load_explicit(&hgc__nkinds, memory_order_relaxed);
    if (k >= NKINDS)
        return -1;
    hgc__kinds[k] = (kind_info){.scan = (uint8_t)scan, .mark = mark, .env = env};
    return (int)k;
}

void kind_publish(unsigned k)
{
    if (hgc__kinds[k].scan == SCAN_PROC)
        atomic_fetch_add_explicit(&hgc__proc_kinds, 1, memory_order_relaxed);
    atomic_store_explicit(&hgc__nkinds, k + 1, memory_order_release);
}
