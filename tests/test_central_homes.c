/*
 * test_central_homes: the central span lists are kept per home (alloc.c),
 * and a collection moves them to unswept whole, without retagging a span.
 *
 * Steal: worker A fills spans of 48-byte objects and drops every other one;
 * after A exits and main collects, those spans (half free, of A's home)
 * wait unswept in A's home.  Worker B, of another home, then allocates as
 * many objects as A dropped, with collection disabled: it must take A's
 * spans rather than grow the heap.  Without taking other homes' spans the
 * heap grew by all of it (sweeping for memory finds A's spans half full
 * and gives no page back).
 *
 * Batch into an unswept span: main fills spans of 64-byte objects, keeps
 * them all, collects (those full spans are now unswept, still tagged
 * full), then frees them from outside any cache.  Each span's batch-
 * completing free must see that the span is not on the full list any more
 * and leave it where it is; hgc_verify() then checks every central list
 * against its counts and its spans' tags.  Moving it, as a tag read
 * without its cycle says, took an unswept span to the partial list.
 * After that, main allocates again and checks that the objects it kept
 * are intact.
 */
#include "test.h"

#include <pthread.h>

#define STEAL_OBJS 200000 /* 48-byte objects: about 150 spans */
#define BATCH_OBJS 8192   /* 64-byte objects: 8 spans of 1024 */

static void *steal_keep[STEAL_OBJS]; /* .bss: a root */
static void *batch_keep[BATCH_OBJS];
static void *refill[STEAL_OBJS / 2];

static void *fill_and_drop(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < STEAL_OBJS; i++) {
        uint64_t *p = hgc_malloc(48);
        CHECK(p != NULL);
        p[0] = i;
        steal_keep[i] = p;
    }
    for (size_t i = 1; i < STEAL_OBJS; i += 2)
        steal_keep[i] = NULL;
    return NULL; /* exits: its cached spans go back to its home's lists */
}

static void *take(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < STEAL_OBJS / 2; i++) {
        uint64_t *p = hgc_malloc(48);
        CHECK(p != NULL);
        CHECK(p[0] == 0 && p[5] == 0);
        p[0] = ~(uint64_t)i;
        refill[i] = p;
    }
    return NULL;
}

static TEST_NOINLINE void steal(void)
{
    pthread_t th;
    CHECK(pthread_create(&th, NULL, fill_and_drop, NULL) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    hgc_collect();
    hgc_disable();
    hgc_stats s0 = test_stats();
    CHECK(pthread_create(&th, NULL, take, NULL) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    hgc_stats s1 = test_stats();
    hgc_enable();
    size_t grew = s1.heap_bytes > s0.heap_bytes ? s1.heap_bytes - s0.heap_bytes : 0;
    fprintf(stderr, "steal: the heap grew by %zu bytes for %zu bytes of objects\n", grew,
            (size_t)STEAL_OBJS / 2 * 48);
    CHECKF(grew <= 1 * MiB, "another home's half-free spans were not reused: the heap grew by %zu",
           grew);
    for (size_t i = 0; i < STEAL_OBJS; i += 2)
        CHECK(((uint64_t *)steal_keep[i])[0] == i);
    for (size_t i = 0; i < STEAL_OBJS / 2; i++)
        CHECK(((uint64_t *)refill[i])[0] == ~(uint64_t)i);
}

static TEST_NOINLINE void batch_into_unswept(void)
{
    for (size_t i = 0; i < BATCH_OBJS; i++) {
        uint64_t *p = hgc_malloc(64);
        CHECK(p != NULL);
        p[0] = i;
        batch_keep[i] = p;
    }
    hgc_collect();
    /* All but the last quarter: every full span but the one main's cache
     * holds gets more than a batch (an eighth of it) of frees. */
    for (size_t i = 0; i < BATCH_OBJS * 3 / 4; i++) {
        hgc_free(batch_keep[i]);
        batch_keep[i] = NULL;
    }
    hgc_verify();
    for (size_t i = 0; i < BATCH_OBJS; i++) {
        uint64_t *p = hgc_malloc(64);
        CHECK(p != NULL);
        CHECK(p[0] == 0 && p[7] == 0);
        p[0] = 1;
    }
    for (size_t i = BATCH_OBJS * 3 / 4; i < BATCH_OBJS; i++)
        CHECK(((uint64_t *)batch_keep[i])[0] == i);
    hgc_verify();
}

int main(void)
{
    hgc_init();
    steal();
    batch_into_unswept();
    printf("test_central_homes: other homes' spans reused, batches into unswept spans: ok\n");
    return 0;
}
