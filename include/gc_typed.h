/*
 * gc_typed.h -- typed allocation of the Boehm GC interface, implemented by
 * hgc's exact layouts (hgc.h: hgc_make_layout, hgc_malloc_typed).  A
 * descriptor describes which words of an object may hold pointers; only
 * those are scanned, and every object carries its own descriptor.
 */
#ifndef GC_TYPED_H
#define GC_TYPED_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef GC_word *GC_bitmap;
#define GC_WORDSZ (8 * sizeof(GC_word))
#define GC_get_bit(bm, i) (((bm)[(i) / GC_WORDSZ] >> ((i) % GC_WORDSZ)) & 1)
#define GC_set_bit(bm, i) ((bm)[(i) / GC_WORDSZ] |= (GC_word)1 << ((i) % GC_WORDSZ))
#define GC_WORD_OFFSET(t, f) (offsetof(t, f) / sizeof(GC_word))
#define GC_WORD_LEN(t) (sizeof(t) / sizeof(GC_word))
#define GC_BITMAP_SIZE(t) ((GC_WORD_LEN(t) + GC_WORDSZ - 1) / GC_WORDSZ)

typedef GC_word GC_descr;

/* Words i < len with bit i of bm set may hold pointers; later words hold
 * none.  The result is a value: no need to keep bm. */
GC_API GC_descr GC_make_descriptor(const GC_word *bm, size_t len);
GC_API void *GC_malloc_explicitly_typed(size_t size, GC_descr d);
GC_API void *GC_malloc_explicitly_typed_ignore_off_page(size_t size, GC_descr d);
/* n elements of size bytes, each described by d. */
GC_API void *GC_calloc_explicitly_typed(size_t n, size_t size, GC_descr d);

#define GC_MALLOC_EXPLICITLY_TYPED(bytes, d) GC_malloc_explicitly_typed(bytes, d)
#define GC_CALLOC_EXPLICITLY_TYPED(n, bytes, d) GC_calloc_explicitly_typed(n, bytes, d)

#ifdef __cplusplus
}
#endif
#endif /* GC_TYPED_H */
