/*
 * roots_dso.c -- a shared library whose own writable data holds the only
 * pointer to an hgc object (used by test_roots_globals).  Built twice: once
 * linked to the test, once opened with dlopen() at run time.
 */
#include <stddef.h>

#define DSO_EXPORT __attribute__((visibility("default")))

static int dso_dummy;
static void *volatile dso_bss_slot;               /* .bss */
static void *volatile dso_data_slot = &dso_dummy; /* .data */

/* which: 0 = the .bss slot, 1 = the .data slot */
DSO_EXPORT void roots_dso_set(int which, void *p)
{
    if (which == 0)
        dso_bss_slot = p;
    else
        dso_data_slot = p;
}

DSO_EXPORT void *roots_dso_get(int which)
{
    return which == 0 ? dso_bss_slot : dso_data_slot;
}

/* The initial value of the .data slot points at the DSO's own dummy. */
DSO_EXPORT int roots_dso_data_is_initial(void)
{
    return dso_data_slot == (void *)&dso_dummy;
}
