/* addrmap.c -- lookup, insertion and growth of addrmap.h's tables. */
#include <string.h>

#include "base/addrmap.h"
#include "os/os.h"

/* Multiplicative hashing: the top bits of the product depend on every bit
 * of the key, so keys that differ only in high bits spread as well as
 * sequential addresses do.  The three low bits are dropped (they are 0 in
 * aligned addresses): keys differing only there share a slot.  cap is at
 * least 64 (make_room), so the shift stays below 64. */
static size_t slot_of(uintptr_t k, size_t cap)
{
    return (size_t)(((uint64_t)(k >> 3) * 0x9E3779B97F4A7C15ull) >> (64 - __builtin_ctzll(cap)));
}

static size_t next_slot(const addrmap *m, size_t i) { return (i + 1) & (m->cap - 1); }

static size_t vals_bytes(size_t cap, unsigned nvals) { return cap * nvals * sizeof(uintptr_t); }

size_t addrmap_find(const addrmap *m, uintptr_t key)
{
    hgc_assert(key > ADDRMAP_DELETED, "addrmap key %#lx is a slot marker", (unsigned long)key);
    if (m->cap == 0)
        return ADDRMAP_NONE;
    /* Terminates: growth keeps at least half the slots empty. */
    for (size_t i = slot_of(key, m->cap);; i = next_slot(m, i)) {
        if (m->keys[i] == key)
            return i;
        if (m->keys[i] == ADDRMAP_EMPTY)
            return ADDRMAP_NONE;
    }
}

void addrmap_remove_at(addrmap *m, size_t i)
{
    hgc_assert(addrmap_live_at(m, i), "addrmap removal of slot %zu, which holds no key", i);
    m->keys[i] = ADDRMAP_DELETED;
    if (m->nvals)
        memset(m->vals + i * m->nvals, 0, m->nvals * sizeof(uintptr_t));
    m->live--;
}

/* Rebuild with room for at least one more key (deleted slots dropped);
 * false when out of memory.  Used slots, deleted ones included, stay at
 * most half the table, so every probe meets an empty slot. */
static bool make_room(addrmap *m)
{
    if (2 * (m->used + 1) <= m->cap)
        return true;
    size_t ncap = m->cap ? m->cap : 64;
    while (4 * (m->live + 1) > ncap)
        ncap *= 2;
    uintptr_t *keys = os_reserve(ncap * sizeof *keys, 4096);
    uintptr_t *vals = m->nvals ? os_reserve(vals_bytes(ncap, m->nvals), 4096) : NULL;
    if (!keys || (m->nvals && !vals)) {
        if (keys)
            os_unmap(keys, ncap * sizeof *keys);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!addrmap_live_at(m, i))
            continue;
        size_t j = slot_of(m->keys[i], ncap);
        while (keys[j] != ADDRMAP_EMPTY)
            j = (j + 1) & (ncap - 1);
        keys[j] = m->keys[i];
        if (m->nvals)
            memcpy(vals + j * m->nvals, m->vals + i * m->nvals, m->nvals * sizeof *vals);
    }
    size_t live = m->live;
    addrmap_free(m);
    m->keys = keys;
    m->vals = vals;
    m->cap = ncap;
    m->live = m->used = live;
    return true;
}

size_t addrmap_insert(addrmap *m, uintptr_t key, bool *existed)
{
    size_t i = addrmap_find(m, key);
    *existed = i != ADDRMAP_NONE;
    if (*existed)
        return i;
    if (!make_room(m))
        return ADDRMAP_NONE;
    /* The key is absent: the first deleted or empty slot of its probe
     * sequence takes it. */
    for (i = slot_of(key, m->cap); addrmap_live_at(m, i); i = next_slot(m, i)) {
    }
    if (m->keys[i] == ADDRMAP_EMPTY)
        m->used++;
    m->keys[i] = key;
    m->live++;
    return i;
}

void addrmap_free(addrmap *m)
{
    if (m->cap) {
        os_unmap(m->keys, m->cap * sizeof *m->keys);
        if (m->nvals)
            os_unmap(m->vals, vals_bytes(m->cap, m->nvals));
    }
    m->keys = m->vals = NULL;
    m->cap = m->live = m->used = 0;
}
