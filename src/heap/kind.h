/*
 * kind.h -- object kinds: how the marker finds the pointers in an object.
 *
 * A span holds objects of one kind (span.kind).  Kinds 0..2 are built in;
 * a program adds more (hgc_kind_create), up to NKINDS in all, each with a
 * mark function.  What the marker must know on its hot path is only how to
 * scan: the scan class, two bits, kept in the page info of every page of a
 * small span (heap.h) and found through kind_scan() for a large one.  The
 * rest of a kind (its function) is read only when an object of it is
 * scanned, from the table below, by the kind number in the span.
 *
 * The table only grows; an entry is written before kind_count() includes
 * it (release), and never changes after, so readers take no lock.
 */
#ifndef HGC_KIND_H
#define HGC_KIND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* The built-in kinds. */
enum { KIND_SCANNED = 0, KIND_ATOMIC = 1, KIND_TYPED = 2, KIND_FIRST_CUSTOM = 3 };
/* Kinds in all: thread caches and central lists have a slot for each.
 * HGC_MAX_KINDS (hgc.h) is what programs may add. */
#define NKINDS 16

/* Scan classes.  SCAN_PROC: the kind's mark function says what the object
 * refers to (mark/scan.c runs it).  The values of the scanned classes are
 * the marker's entry tags (mark/marker.h), so that pushing an object costs
 * no translation. */
enum scan_class { SCAN_WORDS = 0, SCAN_TYPED = 1, SCAN_PROC = 2, SCAN_NONE = 3 };

struct hgc_mark_state; /* the marker running a mark function (hgc.h) */
typedef void (*kind_mark_fn)(void *obj, size_t size, struct hgc_mark_state *st, void *env);

typedef struct kind_info {
    uint8_t scan;      /* enum scan_class */
    kind_mark_fn mark; /* SCAN_PROC */
    void *env;
} kind_info;

extern INTERNAL kind_info hgc__kinds[NKINDS];
extern INTERNAL _Atomic unsigned hgc__nkinds;
/* Kinds with a mark function exist: minor collections run them all. */
extern INTERNAL _Atomic unsigned hgc__proc_kinds;

static inline unsigned kind_count(void)
{
    return atomic_load_explicit(&hgc__nkinds, memory_order_acquire);
}
static inline unsigned kind_scan(unsigned k) { return hgc__kinds[k].scan; }

/* Add a kind; its number, or -1 when NKINDS exist.  The caller serializes
 * (alloc_kind_create's caller holds the world lock) and makes the kind usable
 * (central lists) before publishing it with kind_publish. */
int kind_add(unsigned scan, kind_mark_fn mark, void *env);
void kind_publish(unsigned k);

#endif
