/*
 * roots.h -- where marking starts: thread stacks and registers, data
 * segments of the executable and shared libraries, user ranges.
 * The root table is protected by the world lock.
 */
#ifndef HGC_ROOTS_H
#define HGC_ROOTS_H

#include <stdint.h>

#include "threads.h"

void roots_add(uintptr_t lo, uintptr_t hi);
void roots_remove(uintptr_t lo, uintptr_t hi);
/* World running: record the writable data segments to scan. */
void roots_snapshot_segments(void);
/* World stopped: mark from every root.  self is the collecting thread. */
void roots_mark_all(thread_rec *self);

#endif
