/*
 * layout.h -- exact pointer maps of typed objects (hgc_malloc_typed).
 *
 * A layout value (hgc_layout in hgc.h, one word) is one of
 *   0            no word holds a pointer;
 *   bit 0 set    inline map: bit i+1 set means word i may hold a pointer,
 *                for words 0..62; later words hold none;
 *   2 * k, k>=1  entry k of the layout table: a bitmap of any length,
 *                optionally repeated every `stride` words (arrays).
 *
 * A typed object stores its layout value in its last word (the word past
 * what the caller asked for), so one span holds objects of any number of
 * types and the marker finds the map from the object itself.  The marker
 * never trusts that word blindly: a value that names no table entry (a
 * program that overwrote it) makes the object scanned conservatively, which
 * can only retain more.
 *
 * The table only grows and an entry never changes once published.  Entries
 * live in fixed chunks that never move, so a reader holding an index reads
 * it without a lock; writers append under the layout lock (inside a
 * critical section).  Markers read it with the world stopped, after the
 * stop handshake has ordered every append before them.
 */
#ifndef HGC_LAYOUT_H
#define HGC_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define LAYOUT_INLINE_WORDS 63

typedef struct layout_entry {
    uint32_t nwords;       /* words described by bits */
    uint32_t stride;       /* 0: words from nwords on hold no pointer;
                              else the map repeats every stride words */
    const uint64_t *bits;  /* bit i of bits[i / 64]: word i may be a pointer */
} layout_entry;

/* A layout value for the first nwords words described by bitmap (bit i of
 * bitmap[i / 64]); 0 when no bit is set.  Equal maps give equal values.
 * Returns UINTPTR_MAX when the table is full (see layout.c). */
uintptr_t layout_make(const uint64_t *bitmap, size_t nwords);
/* The layout of an array of elements of elem_bytes, each laid out as l. */
uintptr_t layout_make_array(uintptr_t l, size_t elem_bytes);

/* The table entry of a non-inline layout value, or NULL if v names none. */
const layout_entry *layout_entry_of(uintptr_t v);

/* Does word i of an object with layout v hold a pointer?  For a value that
 * names no entry: yes (scan conservatively). */
bool layout_word_is_pointer(uintptr_t v, size_t i);

#endif
