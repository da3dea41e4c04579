/*
 * test_span_home: after a collection, a thread refills its cache from the
 * spans it filled itself before taking another thread's -- their memory
 * is likelier to be in its own CPU's cache (ARCHITECTURE.md, homes).
 *
 * Worker A allocates SPANS_A spans' worth of 32-byte objects, then worker
 * B (another home) as much again, all of it garbage; main collects.  A
 * then allocates half as much as it had: every object must land on a page
 * A used before, none on B's -- without homes, the newest spans (B's) came
 * first.  B then does the same.  Runs in a child with HGC_GOGC=off so that
 * no other collection moves spans between the steps.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define OBJ 32
#define OBJS_A (40 * 2048) /* about 40 spans of 32-byte slots */
#define PAGE_BITS 12        /* the test's own page unit: 4 KiB */

typedef struct worker {
    int id;
    uintptr_t *pages; /* page numbers of the first round (not pointers) */
    size_t npages;
    size_t own, other; /* second round: objects on own / other's pages */
} worker;

static worker workers[2];
/* 0: A fills, 1: B fills, 2: main collects, 3: A refills, 4: B refills,
 * 5: both exit */
static atomic_int step;

static int cmp_page(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static bool has_page(const worker *w, uintptr_t page)
{
    return bsearch(&page, w->pages, w->npages, sizeof page, cmp_page) != NULL;
}

static TEST_NOINLINE void fill(worker *w)
{
    w->pages = malloc(OBJS_A * sizeof *w->pages);
    CHECK(w->pages != NULL);
    size_t n = 0;
    for (size_t i = 0; i < OBJS_A; i++) {
        uint64_t *p = hgc_malloc(OBJ);
        CHECK(p != NULL);
        p[0] = i;
        uintptr_t page = (uintptr_t)p >> PAGE_BITS;
        if (n == 0 || w->pages[n - 1] != page)
            w->pages[n++] = page;
    }
    qsort(w->pages, n, sizeof *w->pages, cmp_page);
    w->npages = n;
}

static TEST_NOINLINE void refill(worker *w, const worker *other)
{
    for (size_t i = 0; i < OBJS_A / 2; i++) {
        uint64_t *p = hgc_malloc(OBJ);
        CHECK(p != NULL);
        p[0] = i;
        uintptr_t page = (uintptr_t)p >> PAGE_BITS;
        if (has_page(w, page))
            w->own++;
        else if (has_page(other, page))
            w->other++;
    }
}

static void wait_step(int s)
{
    while (atomic_load(&step) != s)
        sched_yield();
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    hgc_thread_register();
    wait_step(w->id);
    fill(w);
    atomic_store(&step, w->id + 1);
    wait_step(3 + w->id);
    refill(w, &workers[1 - w->id]);
    atomic_store(&step, 4 + w->id);
    /* Stay registered until both are done: an exiting thread's cached span
     * goes back to the central lists, where the other could take it. */
    wait_step(5);
    return NULL;
}

static int run(void)
{
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        workers[i].id = i;
        CHECK(pthread_create(&th[i], NULL, worker_main, &workers[i]) == 0);
    }
    wait_step(2);
    test_collect_n(1);
    atomic_store(&step, 3);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    for (int i = 0; i < 2; i++) {
        const worker *w = &workers[i];
        fprintf(stderr, "worker %c: %zu objects on its own pages, %zu on the other's\n", 'A' + i,
                w->own, w->other);
        CHECKF(w->other == 0, "worker %c refilled from the other worker's spans", 'A' + i);
        CHECK(w->own == OBJS_A / 2);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return run();
    const char *const env[] = {"HGC_GOGC=off", NULL};
    CHECK(test_case_passes("run", env, "run"));
    printf("test_span_home: each thread refilled from its own spans: ok\n");
    return 0;
}
