/*
 * tools.h -- what Valgrind's memcheck is told about hgc's heap.
 *
 * Run under Valgrind's memcheck (seen at start-up; other Valgrind tools
 * such as callgrind see hgc as it runs), hgc is in tool mode: each object
 * is a block to memcheck (a client request as it is handed out, another
 * when it is freed, explicitly or by a sweep) of the size the program
 * asked for, which a table here records; the rest of its slot and every
 * free slot are unaddressable.  A program's read past the end of an
 * object or after hgc_free is then reported like one past a malloc block.
 *
 * hgc itself reads and writes such memory all the time (free-list links,
 * sweeping, conservative marking of stacks that hold uninitialised
 * words), so memcheck's error reporting is off for a thread while it is
 * inside the collector, a marker thread's round, or an allocation's or
 * free's slow path (tools_quiet_begin/end, counted: they nest).  Callers
 * keep user code -- finalizers, out-of-memory handlers -- outside those
 * regions; mark functions of custom kinds run inside.
 *
 * In tool mode every allocation and free takes the slow paths
 * (hgc__alloc_watched, alloc.h), where the calls below are made.  Without
 * memcheck, hgc__tools is false and each call here is one test of it.
 *
 * In AddressSanitizer builds of hgc, free slots are poisoned, whatever the
 * mode: a program's access to an object after hgc_free, or after a sweep
 * freed it, is reported (use-after-poison).  hgc's own accesses open the
 * slot first (tools_unpoison), or read its two words of free-list state
 * with slot_word (alloc.h), which ASan does not check.
 */
#ifndef HGC_BASE_TOOLS_H
#define HGC_BASE_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

extern INTERNAL bool hgc__tools;

/* Decide tool mode; before the first allocation. */
void tools_init(void);

void tools_quiet_set(bool quiet);
static inline void tools_quiet_begin(void)
{
    if (unlikely(hgc__tools))
        tools_quiet_set(true);
}
static inline void tools_quiet_end(void)
{
    if (unlikely(hgc__tools))
        tools_quiet_set(false);
}

/* The out-of-line halves of the three below, for tool mode only. */
void tools_block_made(void *p, size_t asked, size_t slot);
void tools_block_freed(void *p, size_t slot);
size_t tools_block_asked(const void *p);

/* Object p was handed out for a request of `asked` bytes in a slot of
 * `slot` bytes: a block of `asked` bytes, zeroed; the rest unaddressable.
 * The caller holds off stops (crit_enter): the table's lock must never be
 * held by a stopped thread, as the collector frees blocks. */
static inline void tools_object_made(void *p, size_t asked, size_t slot)
{
    if (unlikely(hgc__tools))
        tools_block_made(p, asked, slot);
}
/* Slot p (of `slot` bytes) is free now: if it held a block, the block is
 * freed; the slot is unaddressable.  Same rule for the caller.  Sweeps
 * call it for every dead slot: the test stays inline. */
static inline void tools_object_freed(void *p, size_t slot)
{
    if (unlikely(hgc__tools))
        tools_block_freed(p, slot);
}
/* The bytes asked for object p, or 0 when hgc made no block at p. */
static inline size_t tools_asked(const void *p)
{
    return unlikely(hgc__tools) ? tools_block_asked(p) : 0;
}

/* ASan builds: [p, p + n) unaddressable, or addressable again. */
#if HGC_ASAN
#include <sanitizer/asan_interface.h>
static inline void tools_poison(const void *p, size_t n) { __asan_poison_memory_region(p, n); }
static inline void tools_unpoison(const void *p, size_t n) { __asan_unpoison_memory_region(p, n); }
#else
static inline void tools_poison(const void *p, size_t n) { (void)p, (void)n; }
static inline void tools_unpoison(const void *p, size_t n) { (void)p, (void)n; }
#endif

#endif
