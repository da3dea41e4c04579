/*
 * test_long_list: a 10,000,000-node singly linked list (1,000,000 under
 * sanitizers), node = next pointer + index, allocated with hgc_malloc and
 * reachable only from one local variable, survives hgc_collect() (and the
 * automatic collections while it is built); every index is verified.  This
 * exercises deep marking: the list is one long chain.
 */
#include "test.h"

struct node {
    struct node *next;
    size_t idx;
};

static TEST_NOINLINE struct node *build(size_t n)
{
    struct node *head = NULL;
    size_t i;
    for (i = 0; i < n; i++) {
        struct node *x = (struct node *)hgc_malloc(sizeof *x);
        CHECKF(x != NULL, "allocation of node %zu failed", i);
        x->next = head;
        x->idx = i;
        head = x;
    }
    return head;
}

static TEST_NOINLINE void verify(struct node *head, size_t n)
{
    size_t expect = n;
    struct node *x;
    for (x = head; x; x = x->next) {
        CHECKF(expect > 0, "list longer than %zu nodes", n);
        expect--;
        CHECKF(x->idx == expect, "node with index %zu where %zu was expected",
               x->idx, expect);
    }
    CHECKF(expect == 0, "list ends %zu nodes early", expect);
}

int main(void)
{
    size_t n = test_slow() ? 1000000 : 10000000;
    struct node *volatile head;
    uint64_t t0 = test_now_ns(), t1, t2;
    hgc_stats s;
    int i;

    hgc_init();
    head = build(n);
    t1 = test_now_ns();
    for (i = 0; i < 2; i++) {
        test_clear_stack();
        hgc_collect();
        s = test_stats();
        CHECKF(s.live_bytes >= n * sizeof(struct node),
               "live_bytes %zu < %zu held by the list", s.live_bytes,
               n * sizeof(struct node));
        test_churn_sizes(test_scale(64 * MiB, 4, 8), sizeof(struct node),
                         sizeof(struct node), (uint64_t)i);
    }
    t2 = test_now_ns();
    verify(head, n);
    s = test_stats();
    printf("%zu nodes: build %.2f s, 2 collections + churn %.2f s, verify "
           "%.2f s, %" PRIu64 " collections, pause max %.1f ms\n",
           n, (double)(t1 - t0) / 1e9, (double)(t2 - t1) / 1e9,
           (double)(test_now_ns() - t2) / 1e9, s.collections,
           (double)s.pause_max_ns / 1e6);
    printf("test_long_list: ok\n");
    return 0;
}
