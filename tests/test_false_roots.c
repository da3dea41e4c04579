/*
 * test_false_roots: hgc puts no object where a common false pointer points.
 *
 *   boundary  A word whose low 32 bits are all zero (the high half of an
 *             address whose low half was cleared -- glibc's start-up frame
 *             holds one for the life of the process) must not keep anything
 *             alive: no object may hold such an address (pageheap.c,
 *             reserve_arenas).  The test lays the address space out so that
 *             the next 128 MiB mapping the kernel hands out starts at one,
 *             x -- where hgc would cut its next arena from -- and allocates
 *             an object of a whole arena: it must not hold x, and once
 *             dropped, with x planted in a root, it must be freed.
 *   bounds    hgc's own static data is scanned as a root, and the heap's
 *             lower bound kept there must not be the lowest arena's base,
 *             where an object starts: that object, the lowest in the heap
 *             here, must be freed too (heap.h, hgc__heap_below).
 */
#include "test.h"

#include <sys/mman.h>

#define ARENA (64 * MiB)
#define SPAN_4G ((uintptr_t)1 << 32)

static volatile uintptr_t false_root;
static uintptr_t object_hidden; /* test_hide()s: no root */

static uintptr_t round_down_4g(uintptr_t a) { return a & ~(SPAN_4G - 1); }

/* Where the kernel would map `len` bytes next. */
static uintptr_t probe_next_mapping(size_t len)
{
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK(munmap(p, len) == 0);
    return (uintptr_t)p;
}

/* Map an inaccessible filler so that the next mapping of 2 * ARENA bytes
 * (what hgc asks for to cut one aligned arena out) starts at a multiple of
 * 4 GiB, x: the kernel hands out the highest free range that fits, found
 * here with a probe, and everything from x + 2 * ARENA up to that range's
 * top gets filled.  Returns x, or 0 if a second probe does not land there;
 * *filler and *filler_len say what to unmap. */
static uintptr_t steer_next_mapping(void **filler, size_t *filler_len)
{
    const size_t want = 2 * ARENA;
    uintptr_t probe = probe_next_mapping(want);
    uintptr_t top = probe + want;
    uintptr_t x = round_down_4g(probe);
    *filler = NULL;
    *filler_len = top - (x + want);
    if (*filler_len > 0) {
        *filler = mmap((void *)(x + want), *filler_len, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
        CHECKF(*filler == (void *)(x + want), "cannot map a filler at %p (%zu MiB): %s",
               (void *)(x + want), *filler_len / MiB, strerror(errno));
    }
    return probe_next_mapping(want) == x ? x : 0;
}

/* The arena-sized object, allocated where hgc would cut it from x unless
 * it steers clear. */
static TEST_NOINLINE uintptr_t allocate_at_boundary(void)
{
    void *filler;
    size_t filler_len;
    hgc_collect(); /* marker threads started, pacing satisfied */
    hgc_disable(); /* nothing else maps memory in between */
    uintptr_t x = steer_next_mapping(&filler, &filler_len);
    char *p = (char *)hgc_malloc_atomic(ARENA);
    hgc_enable();
    if (filler)
        CHECK(munmap(filler, filler_len) == 0);
    CHECKF(p != NULL, "%d MiB object", (int)(ARENA / MiB));
    object_hidden = test_hide(p);
    if (!x) {
        /* Mappings do not go top-down here (a bottom-up layout, as with
         * an unlimited stack): the case cannot be set up. */
        printf("boundary: not checked, the kernel's mappings could not be steered\n");
        return 0;
    }
    uintptr_t a = (uintptr_t)p;
    printf("boundary: x %p, object [%p, %p)\n", (void *)x, (void *)p, (void *)(p + ARENA));
    CHECKF(!(a <= x && x < a + ARENA), "object [%p, %p) holds %p", (void *)p,
           (void *)(p + ARENA), (void *)x);
    CHECKF(hgc_base((void *)x) == NULL, "hgc_base(%p) is %p", (void *)x, hgc_base((void *)x));
    return x;
}

/* allocate_at_boundary, run a few KiB further down the stack than the
 * collection below will reach: the object's address lingers in its dead
 * frame (and in those of what it called), and a sanitizer's frames are too
 * big for test_clear_stack to reach all of it. */
static TEST_NOINLINE uintptr_t allocate_deep(void)
{
    volatile char pad[8192];
    pad[0] = 0;
    uintptr_t x = allocate_at_boundary();
    __asm__ volatile("" : : "r"(pad) : "memory");
    return x;
}

int main(void)
{
    hgc_init();
    false_root = allocate_deep();
    /* The object is now referred to by nothing but the planted word, if
     * that held it, and by the heap's lower bound, if that were its
     * address: it is the lowest object (the kernel maps top-down, and it
     * went at or below x). */
    test_collect_n(1);
    hgc_stats st = test_stats();
    void *obj = test_unhide(object_hidden);
    printf("bounds: %zu bytes live after the drop; object %s the heap\n", st.live_bytes,
           hgc_base(obj) ? "still in" : "gone from");
    CHECKF(st.live_bytes < ARENA, "%zu bytes live after the drop: a false root kept the object",
           st.live_bytes);
    printf("test_false_roots: ok\n");
    return 0;
}
