/*
 * test_relro: the part of a writable data segment that the loader makes
 * read-only after relocation (PT_GNU_RELRO) is not scanned as a root --
 * nothing written after start-up can be there -- while the rest of the
 * segment is.
 *
 * The test plants the address of a big object in a word of the
 * executable's RELRO (made writable for the moment) and checks that a
 * collection frees the object.  As a control, the same address planted in
 * ordinary writable data must keep the object.  This file must be built
 * as a position-independent executable: then `relro_word`, a constant
 * that needs a relocation, lands in .data.rel.ro, inside RELRO; the test
 * checks that it does.
 */
#define _GNU_SOURCE
#include "test.h"

#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#define BIG (8 * MiB)

static int anchor;
static void *const relro_word = &anchor; /* .data.rel.ro */
static void *volatile data_word;         /* .bss: a root */
static uintptr_t hidden;                 /* test_hide()s: no root */

static uintptr_t relro_lo, relro_hi;

static int find_relro(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    if (info->dlpi_name[0] != '\0')
        return 0; /* the executable comes first, with an empty name */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = info->dlpi_addr + ph->p_vaddr;
            relro_hi = relro_lo + ph->p_memsz;
        }
    }
    return 1;
}

/* Store v into the read-only word at w, leaving it read-only again. */
static void poke_readonly(void *const *w, void *v)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    void *lo = (void *)((uintptr_t)w & ~(page - 1));
    CHECK(mprotect(lo, page, PROT_READ | PROT_WRITE) == 0);
    *(void *volatile *)w = v;
    CHECK(mprotect(lo, page, PROT_READ) == 0);
}

/* The planting happens in frames below main's, which test_clear_stack
 * clears: main itself never holds the object's address (at -O0 it would
 * keep temporaries in its frame). */
static TEST_NOINLINE void plant_in_data(void)
{
    void *p = hgc_malloc_atomic(BIG);
    CHECK(p != NULL);
    hidden = test_hide(p);
    data_word = p;
}

static TEST_NOINLINE void plant_in_relro(void)
{
    poke_readonly(&relro_word, test_unhide(hidden));
}

/* Called from main right after a plant_in_*: test_clear_stack clears the
 * frames below the caller's, where the planting ran; called any deeper, it
 * would leave their stale slots in the frames of its callers. */
#define LIVE_AFTER_COLLECTION() (test_clear_stack(), test_collect_n(1), test_stats().live_bytes)

int main(void)
{
    hgc_init();
    dl_iterate_phdr(find_relro, NULL);
    uintptr_t w = (uintptr_t)&relro_word;
    CHECKF(relro_lo <= w && w < relro_hi,
           "relro_word %p is not in the executable's RELRO [%p, %p): not built as PIE?",
           (void *)w, (void *)relro_lo, (void *)relro_hi);

    /* Control: ordinary writable data is a root. */
    plant_in_data();
    size_t live = LIVE_AFTER_COLLECTION();
    printf("data: %zu bytes live with the object's address in .bss\n", live);
    CHECKF(live >= BIG, "an address in .bss did not keep the object (%zu bytes live)", live);
    data_word = NULL;

    /* The same address in RELRO is not. */
    plant_in_relro();
    live = LIVE_AFTER_COLLECTION();
    void *obj = test_unhide(hidden);
    printf("relro: %zu bytes live with the object's address in RELRO; object %s the heap\n",
           live, hgc_base(obj) ? "still in" : "gone from");
    CHECKF(live < BIG, "an address in RELRO kept the object (%zu bytes live)", live);
    poke_readonly(&relro_word, &anchor);
    CHECK(*(void *const volatile *)&relro_word == &anchor);
    printf("test_relro: ok\n");
    return 0;
}
