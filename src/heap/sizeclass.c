/* sizeclass.c -- the size-class table.
 *
 * Classes: 16..128 in steps of 16, then four classes per power of two up to
 * SMALL_MAX (160, 192, 224, 256, 320, ...).  Steps of at most 25% bound the
 * internal fragmentation; every size is a multiple of 16 so every object is
 * 16-byte aligned, as malloc() promises.  A class's span is the fewest pages
 * that waste at most 1/8 of the span in its tail. */
#include "heap/heap.h"

uint32_t hgc__class_size[NCLASSES];
uint8_t hgc__class_pages[NCLASSES];
class_geom hgc__class_geom[NCLASSES];
uint8_t hgc__class_small_index[SMALL_MAX / 128 + 1];
uint8_t hgc__class_tiny_index[1024 / 16 + 1];

void sizeclass_init(void)
{
    unsigned c = 1;
    for (uint32_t s = 16; s <= 128; s += 16)
        hgc__class_size[c++] = s;
    for (uint32_t p = 128; p < SMALL_MAX; p *= 2)
        for (uint32_t k = 1; k <= 4; k++)
            hgc__class_size[c++] = p + k * (p / 4);
    /* c == NCLASSES here: 8 + 4 * 8 classes after the unused class 0. */

    enum { SMALL_SPAN_PAGES = 8 };
    for (c = 1; c < NCLASSES; c++) {
        uint32_t size = hgc__class_size[c];
        /* The smallest classes, the most allocated, get spans of at least
         * SMALL_SPAN_PAGES: a thread then takes the central lock once per
         * 4096 16-byte objects instead of once per 512. */
        size_t pages = size <= 64 ? SMALL_SPAN_PAGES : 1;
        while (((pages * PAGE_SIZE) % size) * 8 > pages * PAGE_SIZE || pages * PAGE_SIZE < size)
            pages++;
        hgc__class_pages[c] = (uint8_t)pages;
        class_geom *g = &hgc__class_geom[c];
        g->size = size;
        g->nelems = (uint32_t)(pages * PAGE_SIZE / size);
        g->magic = (((uint64_t)1 << DIV_SHIFT) + size - 1) / size;
        /* Spans are page-aligned, so a power-of-two size up to a page
         * tiles them exactly. */
        bool pow2 = (size & (size - 1)) == 0 && size <= PAGE_SIZE;
        g->align_mask = pow2 ? ~(uintptr_t)(size - 1) : 0;
    }
    unsigned cls = 1;
    for (size_t i = 0; i <= 1024 / 16; i++) {
        size_t n = i * 16;
        while (hgc__class_size[cls] < n)
            cls++;
        hgc__class_tiny_index[i] = (uint8_t)cls;
    }
    cls = 1;
    for (size_t i = 0; i <= SMALL_MAX / 128; i++) {
        size_t n = i * 128;
        while (hgc__class_size[cls] < n)
            cls++;
        hgc__class_small_index[i] = (uint8_t)cls;
    }
}
