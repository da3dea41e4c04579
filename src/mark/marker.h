/*
 * marker.h -- the mark layer's own interface between the scanning kernel
 * (scan.c: mark stacks, modes, scanning, draining one marker) and the work
 * distribution (work.c: the shared pool, rounds, helper threads, overflow
 * recovery).  A concurrent marker reuses the kernel as it is: it drains
 * markers and shares their work the same way.  Not for other layers.
 */
#ifndef HGC_MARK_MARKER_H
#define HGC_MARK_MARKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap/heap.h"

/* Words [lo, hi) to scan.  Objects are 16-byte aligned, so the low bits
 * of lo are free for a tag: ENTRY_TYPED for a typed object (or a piece of a
 * large one), whose words are scanned only where its layout says
 * (scan_typed); ENTRY_PROC for an object whose kind's mark function says
 * what it refers to (run_mark_fn), never cut into pieces. */
typedef struct mark_entry {
    uintptr_t lo, hi;
} mark_entry;
#define ENTRY_TYPED ((uintptr_t)1)
#define ENTRY_PROC ((uintptr_t)2)
#define ENTRY_TAGS (ENTRY_TYPED | ENTRY_PROC)

/* The tag of an object of scan class `scan` (kind.h), not SCAN_NONE. */
static inline uintptr_t entry_tag(unsigned scan) { return scan; }
_Static_assert(SCAN_WORDS == 0 && SCAN_TYPED == ENTRY_TYPED && SCAN_PROC == ENTRY_PROC,
               "scan classes are entry tags");

#define MAX_MARKERS 16
#define MAX_ASSISTS 8 /* mutators marking at once (work.c: assists) */
#define PACKET_ENTRIES 512

/* One marker's private stack: live entries are stack[bot, top).  Only its
 * own thread touches it while a round runs.  Entries leave from the top
 * when scanned and from the bottom when shared. */
typedef struct marker {
    mark_entry *stack;
    size_t bot, top, cap;
    size_t live_bytes;
    /* Minor collections: objects found carrying the previous survivor
     * value, to be made old by mark_promote_phase (mark.h). */
    mark_entry *promo;
    size_t npromo, promo_cap;
    uint64_t round_seen; /* helpers: the last round taken part in */
} __attribute__((aligned(64))) marker;

/* The markers: marker 0 is the collecting thread, 1 .. hgc__nmarkers - 1
 * the helpers started so far, MAX_MARKERS .. those of mark assists
 * (work.c). */
extern INTERNAL marker hgc__markers[MAX_MARKERS + MAX_ASSISTS];
extern INTERNAL unsigned hgc__nmarkers;

/* The kernel (scan.c). */
/* Stack entries per marker (HGC_MARK_STACK_LIMIT; SIZE_MAX = no limit). */
void marker_set_limit(size_t entries);
/* Make room for one more entry on m's stack; false when it cannot grow. */
bool marker_grow(marker *m);
/* Scan until m's stack is empty (true), or until `budget` ranges were
 * scanned (false, the rest back on the stack).  With `shared`, hand work
 * to idle markers (work_share) while hgc__mark_hungry says there are some. */
bool marker_drain(marker *m, bool shared, size_t budget);
/* A stack could not grow: some marked objects were not scanned. */
extern INTERNAL _Atomic bool hgc__mark_overflowed;
/* Overflow recovery, world stopped, for each span: push and drain on marker
 * 0 every object that carries the mark of the current mode. */
void mark_rescan_span(span *s, void *arg);

/* Work distribution (work.c). */
/* Idle markers short of work, for busy markers' lock-free peeks. */
extern INTERNAL _Atomic unsigned hgc__mark_hungry;
/* Move the oldest half of m's entries (at most a packet) to the pool, if
 * idle markers still lack work.  m holds at least 2. */
void work_share(marker *m);
/* Bytes the assists marked since the last call (scan.c: count_phase). */
size_t mark_take_assist_bytes(void);

#endif
