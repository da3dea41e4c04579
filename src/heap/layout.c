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

#include "base/addrmap.h"
#include "heap/layout.h"

#define CHUNK_ENTRIES 1024
#define MAX_CHUNKS 1024 /* a million layouts: programs have a few per type */

static pthread_mutex_t layout_lock = PTHREAD_MUTEX_INITIALIZER;
/* Entry k is chunks[k / CHUNK_ENTRIES][k % CHUNK_ENTRIES]; entry 0 is
 * unused so that 0 stays "no pointers". */
static layout_entry *_Atomic chunks[MAX_CHUNKS];
static _Atomic uint32_t nentries = 1;
/* Dedup: content key -> entry index (one value).  The key of an entry is
 * the first of its content's key sequence (dedup_key, dedup_next) that was
 * free when it was added; entries are never removed, so the sequence of
 * any content meets the entry with that content before a free key. */
static addrmap dedup = {.nvals = 1};

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

/* Bit 63 keeps a key above addrmap's slot markers (0 and 1). */
_Static_assert(sizeof(uintptr_t) == 8, "dedup keys are 64-bit hashes");
#define DEDUP_KEY_BIT ((uintptr_t)1 << 63)

static uintptr_t dedup_key(const uint64_t *bits, uint32_t nwords, uint32_t stride)
{
    return (uintptr_t)hash_entry(bits, nwords, stride) | DEDUP_KEY_BIT;
}

/* The key after k in a content's sequence, for hashes that collide.
 * Adding an odd number modulo 2^63 reaches every key before it repeats
 * one, so a walk meets a free key after at most as many steps as there
 * are entries. */
static uintptr_t dedup_next(uintptr_t k)
{
    return ((k + 0x9E3779B97F4A7C15ull) & ~DEDUP_KEY_BIT) | DEDUP_KEY_BIT;
}

/* The entry for (bits, nwords, stride), added if new; UINTPTR_MAX when the
 * table is full.  Layout lock held. */
static uintptr_t intern(const uint64_t *bits, uint32_t nwords, uint32_t stride)
{
    uintptr_t key = dedup_key(bits, nwords, stride);
    for (size_t i; (i = addrmap_find(&dedup, key)) != ADDRMAP_NONE; key = dedup_next(key)) {
        uint32_t k = (uint32_t)addrmap_vals(&dedup, i)[0];
        if (same(entry_at(k), bits, nwords, stride))
            return (uintptr_t)k << 1;
    }
    uint32_t n = atomic_load_explicit(&nentries, memory_order_relaxed);
    if (n >= (uint32_t)CHUNK_ENTRIES * MAX_CHUNKS)
        return UINTPTR_MAX;
    bool existed;
    size_t slot = addrmap_insert(&dedup, key, &existed);
    if (slot == ADDRMAP_NONE)
        hgc__fatal("out of memory for the layout table's index (%u layouts)", n);
    addrmap_vals(&dedup, slot)[0] = n;
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
