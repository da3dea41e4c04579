/*
 * addrmap.h -- open addressing from an address (any word above 1) to
 * `nvals` words, for the collector's own tables.
 *
 * Key 0 marks an empty slot, key 1 a deleted one; neither is ever an
 * object, a link or a key callers make.  Memory comes from the OS and goes
 * back to it on growth and on addrmap_free: never part of the collected
 * heap.  Slot indices and value pointers hold until the next insert (which
 * may rebuild the table); removal never moves other keys, so a walk over
 * the slots may remove the one it stands on.
 *
 *   addrmap m = {.nvals = 2};
 *   size_t i = addrmap_insert(&m, key, &existed);   values zero if new
 *   addrmap_vals(&m, i)[1] = ...;
 *   for (i = 0; i < m.cap; i++) if (addrmap_live_at(&m, i)) ... m.keys[i] ...
 */
#ifndef HGC_BASE_ADDRMAP_H
#define HGC_BASE_ADDRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/check.h"

#define ADDRMAP_EMPTY ((uintptr_t)0)
#define ADDRMAP_DELETED ((uintptr_t)1)
/* The slot returned when there is none. */
#define ADDRMAP_NONE SIZE_MAX

typedef struct addrmap {
    uintptr_t *keys;
    uintptr_t *vals;   /* nvals words per slot */
    size_t cap;        /* power of two, or 0 */
    size_t live, used; /* used counts deleted slots too */
    unsigned nvals;
} addrmap;

static inline bool addrmap_live_at(const addrmap *m, size_t i)
{
    hgc_assert(i < m->cap, "addrmap slot %zu past its capacity %zu", i, m->cap);
    return m->keys[i] > ADDRMAP_DELETED;
}

static inline uintptr_t *addrmap_vals(const addrmap *m, size_t i)
{
    hgc_assert(addrmap_live_at(m, i), "addrmap values of slot %zu, which holds no key", i);
    return m->vals + i * m->nvals;
}

/* The slot holding key, or ADDRMAP_NONE. */
size_t addrmap_find(const addrmap *m, uintptr_t key);
/* The slot for key, inserted (values zero) if new; ADDRMAP_NONE when out
 * of memory, the map then unchanged. */
size_t addrmap_insert(addrmap *m, uintptr_t key, bool *existed);
/* Delete the key of live slot i (its values read zero afterwards). */
void addrmap_remove_at(addrmap *m, size_t i);
/* Unmap the table; m is empty and usable again, nvals kept. */
void addrmap_free(addrmap *m);

#endif
