/*
 * vec.h -- a growable array of fixed-size elements for the collector's own
 * tables.
 *
 * Its memory comes straight from the OS and goes back to it when the array
 * grows and on vec_free: it is never part of the collected heap and never
 * scanned, so a table that churns does not grow the metadata.  Growth moves
 * the elements: a pointer into the array (vec_push's, VEC_AT's address)
 * holds only until the next push or reserve, and whoever reads the array
 * without the writer's lock must be excluded from growth by other means.
 *
 *   vec v = VEC_INIT(type);
 *   type *e = vec_push(&v);             zeroed slot, NULL when out of memory
 *   VEC_AT(&v, type, i)                 element i < v.n, an lvalue
 */
#ifndef HGC_BASE_VEC_H
#define HGC_BASE_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "base/check.h"

typedef struct vec {
    void *data;
    size_t n, cap; /* elements in use, elements mapped */
    size_t elem;   /* bytes per element */
} vec;

#define VEC_INIT(type) {.elem = sizeof(type)}

/* Room for at least min_cap elements; false when out of memory, v then
 * unchanged.  Capacity doubles, and starts at a page's worth or more. */
bool vec_reserve(vec *v, size_t min_cap);
/* Unmap the elements; v is empty and usable again. */
void vec_free(vec *v);

static inline void *vec__slot(const vec *v, size_t i) { return (char *)v->data + i * v->elem; }

static inline void *vec_push(vec *v)
{
    if (unlikely(v->n == v->cap) && !vec_reserve(v, v->n + 1))
        return NULL;
    void *p = vec__slot(v, v->n++);
    memset(p, 0, v->elem);
    return p;
}

/* Remove the last element; the pointer to it holds until the next push. */
static inline void *vec_pop(vec *v)
{
    hgc_assert(v->n > 0, "pop from an empty vec of %zu-byte elements", v->elem);
    return vec__slot(v, --v->n);
}

/* Keep the first n elements (n <= v->n); the memory stays. */
static inline void vec_truncate(vec *v, size_t n)
{
    hgc_assert(n <= v->n, "vec truncated to %zu, past its length %zu", n, v->n);
    v->n = n;
}

static inline void *vec__at(const vec *v, size_t elem, size_t i)
{
    hgc_assert(elem == v->elem, "vec of %zu-byte elements read as %zu-byte ones", v->elem, elem);
    hgc_assert(i < v->n, "vec index %zu past its length %zu", i, v->n);
    return vec__slot(v, i);
}

#define VEC_AT(v, type, i) (*(type *)vec__at((v), sizeof(type), (i)))

#endif
