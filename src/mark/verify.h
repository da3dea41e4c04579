/*
 * verify.h -- the heap verifier (HGC_VERIFY, hgc_verify()): an independent
 * re-trace after marking that aborts on a reachable object left unmarked.
 * See verify.c.
 */
#ifndef HGC_VERIFY_H
#define HGC_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "mutator/threads.h"

/* First word that HGC_VERIFY=2 (self-test) treats as "lose this mark". */
#define VERIFY_SELFTEST_WORD 0x6867632d76657269ull /* "hgc-veri" */

/* World stopped, marks complete and untouched: check them; abort on a
 * miss.  self is the collecting thread; minor: the collection was minor
 * (stale words in old objects on unwritten pages are skipped: gen.h). */
void verify_marks(thread_rec *self, bool minor);
/* World stopped: the self-test's fault, cleared marks of tagged objects. */
void verify_selftest_unmark(void);
/* Collections verified and objects traced so far. */
void verify_totals(uint64_t *cycles, uint64_t *objects);

#endif
