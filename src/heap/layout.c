/*
 * layout.c -- the layout table (see layout.h).
 *
 * Callers hold the thread inside a critical section (api.c): the layout
 * lock is an internal lock, and a thread stopped while holding it would
 * block every other allocating thread that wants a layout.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "heap/layout.h"

#define CHUNK_ENTRIES 1024
#define MAX_CHUNKS 1024 /* a million layouts: programs have a few per type */

static pthread_mutex_t layout_lock = PTHREAD_MUTEX_INITIALIZER;
/* Entry k is chunks[k / CHUNK_ENTRIES][k % CHUNK_ENTRIES]; entry 0 is
 * unused so that 0 stays "no pointers". */
static layout_entry *_Atomic chunks[MAX_CHUNKS];
static _Atomic uint32_t nentries = 1;
/* Dedup: open addressing over entry indices, keyed by content. */
static uint32_t *dedup;
static size_t dedup_cap;

static size_t words_of(size_t nbits) { return (nbits + 63) / 64; }

static uint64_t hash_entry(const uint64_t *bits, uint32_t nwords, uint32_t stride)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)nwords << 32 | stride);
    for (size_t i = 0; i < words_of(nwords); i++)
        h = (h ^ bits[i]) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

static layout_entry *entry_at(uint32_t k)
{
    layout_entry *c = atomic_load_explicit(&chunks[k / CHUNK_ENTRIES], memory_order_acquire);
    return &c[k % CHUNK_ENTRIES];
}

static bool same(const layout_entry *e, const uint64_t *bits, uint32_t nwords, uint32_t stride)
{
    return e->nwords == nwords && e->stride == stride &&
           memcmp(e->bits, bits, words_of(nwords) * sizeof *bits) == 0;
}

static void dedup_insert(uint32_t k)
{
    const layout_entry *e = entry_at(k);
    size_t i = hash_entry(e->bits, e->nwords, e->stride) & (dedup_cap - 1);
    while (dedup[i])
        i = (i + 1) & (dedup_cap - 1);
    dedup[i] = k;
}

/* The entry for (bits, nwords, stride), added if new; UINTPTR_MAX when the
 * table is full.  Layout lock held. */
static uintptr_t intern(const uint64_t *bits, uint32_t nwords, uint32_t stride)
{
    uint32_t n = atomic_load_explicit(&nentries, memory_order_relaxed);
    if (2 * (size_t)n >= dedup_cap) {
        /* Metadata is never freed: the old index is abandoned (it doubles,
         * so all of them together are smaller than the last one). */
        dedup_cap = dedup_cap ? 2 * dedup_cap : 256;
        dedup = meta_alloc(dedup_cap * sizeof *dedup);
        for (uint32_t k = 1; k < n; k++)
            dedup_insert(k);
    }
    size_t i = hash_entry(bits, nwords, stride) & (dedup_cap - 1);
    for (; dedup[i]; i = (i + 1) & (dedup_cap - 1))
        if (same(entry_at(dedup[i]), bits, nwords, stride))
            return (uintptr_t)dedup[i] << 1;
    if (n >= (uint32_t)CHUNK_ENTRIES * MAX_CHUNKS)
        return UINTPTR_MAX;
    if (n % CHUNK_ENTRIES == 0 || n == 1) {
        if (!atomic_load_explicit(&chunks[n / CHUNK_ENTRIES], memory_order_relaxed))
            atomic_store_explicit(&chunks[n / CHUNK_ENTRIES],
                                  meta_alloc(CHUNK_ENTRIES * sizeof(layout_entry)),
                                  memory_order_release);
    }
    uint64_t *copy = meta_alloc(words_of(nwords) * sizeof *copy);
    memcpy(copy, bits, words_of(nwords) * sizeof *copy);
    layout_entry *e = entry_at(n);
    e->nwords = nwords;
    e->stride = stride;
    e->bits = copy;
    atomic_store_explicit(&nentries, n + 1, memory_order_release);
    dedup[i] = n;
    return (uintptr_t)n << 1;
}

uintptr_t layout_make(const uint64_t *bitmap, size_t nwords)
{
    /* Trailing words without pointers describe nothing: drop them, so
     * equal maps compare equal whatever length they were given with. */
    while (nwords > 0 && !(bitmap[(nwords - 1) / 64] >> ((nwords - 1) % 64) & 1))
        nwords--;
    if (nwords == 0)
        return 0;
    if (nwords <= LAYOUT_INLINE_WORDS)
        return (uintptr_t)(bitmap[0] & ((1ull << nwords) - 1)) << 1 | 1;
    if (nwords > UINT32_MAX)
        return UINTPTR_MAX;
    pthread_mutex_lock(&layout_lock);
    uintptr_t v = intern(bitmap, (uint32_t)nwords, 0);
    pthread_mutex_unlock(&layout_lock);
    return v;
}

uintptr_t layout_make_array(uintptr_t l, size_t elem_bytes)
{
    if (l == 0)
        return 0;
    size_t stride = elem_bytes / sizeof(uintptr_t);
    uint64_t inline_bits;
    const uint64_t *bits;
    size_t nwords;
    if (l & 1) {
        inline_bits = l >> 1;
        bits = &inline_bits;
        nwords = LAYOUT_INLINE_WORDS;
    } else {
        const layout_entry *e = layout_entry_of(l);
        if (!e)
            return UINTPTR_MAX;
        bits = e->bits;
        nwords = e->nwords;
        if (e->stride) /* an array of arrays: the element is one stride */
            return stride == e->stride ? l : UINTPTR_MAX;
    }
    /* Elements that are not a whole number of words would put the map
     * out of step with the words: the caller scans such arrays
     * conservatively. */
    if (elem_bytes % sizeof(uintptr_t) != 0 || stride == 0 || stride > UINT32_MAX)
        return UINTPTR_MAX;
    if (nwords > stride)
        nwords = stride; /* the element is shorter than the map: cut it */
    while (nwords > 0 && !(bits[(nwords - 1) / 64] >> ((nwords - 1) % 64) & 1))
        nwords--;
    if (nwords == 0)
        return 0;
    pthread_mutex_lock(&layout_lock);
    uintptr_t v = intern(bits, (uint32_t)nwords, (uint32_t)stride);
    pthread_mutex_unlock(&layout_lock);
    return v;
}

const layout_entry *layout_entry_of(uintptr_t v)
{
    uintptr_t k = v >> 1;
    if ((v & 1) || k == 0 || k >= atomic_load_explicit(&nentries, memory_order_acquire))
        return NULL;
    return entry_at((uint32_t)k);
}

bool layout_word_is_pointer(uintptr_t v, size_t i)
{
    if (v == 0)
        return false;
    if (v & 1)
        return i < LAYOUT_INLINE_WORDS && (v >> (i + 1) & 1);
    const layout_entry *e = layout_entry_of(v);
    if (!e)
        return true;
    if (e->stride)
        i %= e->stride;
    return i < e->nwords && (e->bits[i / 64] >> (i % 64) & 1);
}
