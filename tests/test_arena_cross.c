/*
 * test_arena_cross: a small-object span never straddles two arenas.
 *
 * The first allocation of the process is a 100 MiB large object: the heap
 * reserves two 64 MiB arenas for it, and once it is freed one free run
 * covers both.  Spans of the 20 KiB class (5 pages, 2 objects each) are then
 * carved from the end of that run: after 1638 of them the last arena has 2
 * pages left, and the next span would cross into the first arena, where its
 * mark bytes and page info would fall outside the tables of the arena it
 * starts in.  The test allocates past that point, collects, and checks
 * that every object survived with its contents and that hgc_base/hgc_size
 * see each one whole.
 */
#include "test.h"

#define BIG (100 * MiB)
#define OBJ 20000 /* the 20480-byte class */
#define NOBJ 3600 /* 1800 spans: past the 1638 that fit in the last arena */

static void *objs[NOBJ]; /* a global: the data segment is a root */

int main(void)
{
    hgc_init();
    void *big = hgc_malloc_atomic(BIG);
    CHECK(big != NULL);
    hgc_free(big);

    for (size_t i = 0; i < NOBJ; i++) {
        objs[i] = hgc_malloc_atomic(OBJ);
        CHECK(objs[i] != NULL);
        test_fill(objs[i], OBJ, i);
    }
    for (int round = 0; round < 2; round++) {
        test_clear_stack();
        hgc_collect();
        for (size_t i = 0; i < NOBJ; i++) {
            char *p = objs[i];
            size_t bad = test_find_bad(p, OBJ, i);
            CHECKF(bad == (size_t)-1, "object %zu at %p: byte %zu changed", i, (void *)p, bad);
            CHECKF(hgc_base(p + OBJ - 1) == p, "object %zu: hgc_base of its last byte is %p",
                   i, hgc_base(p + OBJ - 1));
            CHECK(hgc_size(p) >= OBJ);
        }
        /* Garbage of the same class in between, so a lost object would be
         * handed out again and overwritten. */
        for (size_t i = 0; i < NOBJ; i++)
            test_fill(hgc_malloc_atomic(OBJ), OBJ, ~(uint64_t)i);
    }
    printf("test_arena_cross: ok\n");
    return 0;
}
