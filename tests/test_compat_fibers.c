/*
 * test_compat_fibers: what Crystal's runtime does through the Boehm
 * interface, with ucontext fibers.
 *   GC_stackbottom is set (the main thread's stack bottom) and the main
 *   thread runs a fiber on a stack of its own (malloc memory), writing the
 *   fiber's stack bottom to GC_stackbottom before the switch and the main
 *   stack's back after it, as Crystal does at every switch.  The fiber keeps
 *   a list only in its locals and collects: the main thread is scanned from
 *   the fiber's stack pointer to the fiber's bottom (scanning up to the main
 *   stack's bottom instead crosses unmapped memory).  The main stack,
 *   inactive meanwhile, holds another list; a push-other-roots procedure
 *   pushes it and then calls the one it replaced, which scans the threads.
 *   Both lists survive.
 *   GC_pthread_create stores the new thread's id before the thread runs:
 *   the thread finds itself through the pointer it was created with.
 * Skipped under ThreadSanitizer, which does not follow swapcontext.
 */
#define _GNU_SOURCE
#define GC_THREADS
#include "gc.h"
#include "gc_mark.h"

#include "test.h"

#include <pthread.h>
#include <ucontext.h>

#define FIBER_STACK (256 * 1024)
#define NODES 20000

static ucontext_t main_ctx, fiber_ctx;
static char *fiber_stack;
static char *main_bottom;    /* GC_stackbottom as GC_INIT left it */
static char *main_sp;        /* the main stack's extent while it is inactive */
static GC_push_other_roots_proc previous;
static int pushes;
static long fiber_sum;

static void push_inactive_stacks(void)
{
    pushes++;
    if (main_sp) /* the main stack, while the fiber runs */
        GC_push_all_eager(main_sp, main_bottom);
    previous(); /* the threads' current stacks */
}

static TEST_NOINLINE void **make_list(int n)
{
    void **list = NULL;
    for (int i = 0; i < n; i++) {
        void **node = GC_MALLOC(4 * sizeof(void *));
        CHECK(node != NULL);
        node[0] = list;
        node[1] = (void *)(uintptr_t)i;
        list = node;
    }
    return list;
}

static long sum_list(void **list)
{
    long s = 0;
    for (void **n = list; n; n = n[0])
        s += (long)(uintptr_t)n[1];
    return s;
}

static void fiber(void)
{
    void **list = make_list(NODES); /* only in this fiber's frames */
    for (int i = 0; i < 3; i++) {
        test_churn(MiB);
        GC_gcollect();
    }
    fiber_sum = sum_list(list);
    GC_stackbottom = main_bottom; /* switching back */
    main_sp = NULL;
}

static TEST_NOINLINE void run_fiber(void)
{
    void **main_list = make_list(NODES); /* only on the inactive main stack */
    char here;
    main_sp = (char *)((uintptr_t)&here - 4096); /* below: the switch's own frames */
    CHECK(getcontext(&fiber_ctx) == 0);
    fiber_ctx.uc_stack.ss_sp = fiber_stack;
    fiber_ctx.uc_stack.ss_size = FIBER_STACK;
    fiber_ctx.uc_link = &main_ctx;
    makecontext(&fiber_ctx, fiber, 0);
    GC_stackbottom = fiber_stack + FIBER_STACK;
    CHECK(swapcontext(&main_ctx, &fiber_ctx) == 0);
    long expect = (long)NODES * (NODES - 1) / 2;
    CHECKF(fiber_sum == expect, "the fiber's list sums to %ld, not %ld", fiber_sum, expect);
    CHECKF(sum_list(main_list) == expect, "the main stack's list sums to %ld",
           sum_list(main_list));
}

static pthread_t created;
static void *find_self(void *arg)
{
    CHECKF(pthread_equal(*(pthread_t *)arg, pthread_self()),
           "a thread created by GC_pthread_create does not find its id where it was stored");
    return NULL;
}

int main(void)
{
    if (test_tsan()) {
        printf("test_compat_fibers: skipped under ThreadSanitizer\n");
        return 77;
    }
    GC_INIT();
    main_bottom = GC_stackbottom;
    char local;
    CHECKF(main_bottom != NULL && &local < main_bottom,
           "GC_stackbottom %p is not above the main thread's frames (%p)", (void *)main_bottom,
           (void *)&local);
    previous = GC_get_push_other_roots();
    CHECK(previous != NULL); /* Boehm's default: it scans the threads' stacks */
    GC_set_push_other_roots(push_inactive_stacks);
    fiber_stack = malloc(FIBER_STACK);
    CHECK(fiber_stack != NULL);
    run_fiber();
    CHECK(pushes >= 3);
    free(fiber_stack);

    for (int i = 0; i < 50; i++) {
        CHECK(GC_pthread_create(&created, NULL, find_self, &created) == 0);
        CHECK(GC_pthread_join(created, NULL) == 0);
    }
    printf("test_compat_fibers: ok (%d collections pushed the inactive stack)\n", pushes);
    return 0;
}
