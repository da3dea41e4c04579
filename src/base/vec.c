/* vec.c -- growth of vec.h's arrays. */
#include <stdint.h>

#include "base/vec.h"
#include "os/os.h"

#define VEC_PAGE ((size_t)4096)

bool vec_reserve(vec *v, size_t min_cap)
{
    hgc_assert(v->elem > 0, "vec without an element size (not made with VEC_INIT)");
    if (min_cap <= v->cap)
        return true;
    size_t cap = v->cap ? v->cap : (VEC_PAGE + v->elem - 1) / v->elem;
    while (cap < min_cap) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    if (cap > SIZE_MAX / v->elem)
        return false;
    void *data = os_reserve(cap * v->elem, VEC_PAGE);
    if (!data)
        return false;
    if (v->data) {
        memcpy(data, v->data, v->n * v->elem);
        os_unmap(v->data, v->cap * v->elem);
    }
    v->data = data;
    v->cap = cap;
    return true;
}

void vec_free(vec *v)
{
    if (v->data)
        os_unmap(v->data, v->cap * v->elem);
    v->data = NULL;
    v->n = v->cap = 0;
}
