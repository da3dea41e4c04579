/*
 * boehm_program: a program written and compiled against the Boehm
 * collector's own gc.h (Debian libgc-dev) and linked with its libgc.so.1.
 * test_boehm_abi.sh runs it as built and again with hgc's libgc.so.1 first
 * on LD_LIBRARY_PATH (and through LD_PRELOAD): the outputs must be
 * identical, so everything printed is a fact both collectors agree on.
 *
 * With HGC_EXPECTED=1 it also checks that it really runs on hgc.
 */
#define _GNU_SOURCE
#define GC_THREADS
#include <gc.h>
#include <gc/gc_typed.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "boehm_program:%d: check failed: %s\n", __LINE__, #c); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

typedef struct node {
    struct node *next;
    uint64_t value;
} node;

/* A list of n nodes built in collected memory: its sum says it is intact. */
static node *build(int n)
{
    node *head = NULL;
    for (int i = 0; i < n; i++) {
        node *x = GC_NEW(node);
        CHECK(x != NULL);
        x->value = (uint64_t)i;
        x->next = head;
        head = x;
    }
    return head;
}

static uint64_t sum(const node *x)
{
    uint64_t s = 0;
    for (; x; x = x->next)
        s += x->value;
    return s;
}

static __attribute__((noinline)) void garbage(int rounds)
{
    for (int r = 0; r < rounds; r++) {
        node *l = build(10000);
        CHECK(sum(l) == 10000ull * 9999 / 2);
        char *s = GC_MALLOC_ATOMIC(1000);
        memset(s, 'x', 999);
    }
}

static int finalized;
static void fin(void *obj, void *cd)
{
    (void)obj;
    __atomic_add_fetch(&finalized, 1, __ATOMIC_RELAXED);
    (void)cd;
}

static __attribute__((noinline)) void make_finalizable(void **links, int n)
{
    for (int i = 0; i < n; i++) {
        node *x = GC_NEW(node);
        GC_REGISTER_FINALIZER(x, fin, NULL, NULL, NULL);
        links[i] = x;
        CHECK(GC_general_register_disappearing_link(&links[i], x) == GC_SUCCESS);
    }
}

static __attribute__((noinline)) void clear_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

static void *worker(void *arg)
{
    node *mine = build(5000);
    garbage(20);
    CHECK(sum(mine) == 5000ull * 4999 / 2);
    CHECK(((uint64_t *)arg)[0] == 42);
    return arg;
}

int main(void)
{
    GC_INIT();
    if (getenv("HGC_EXPECTED"))
        CHECK(dlsym(RTLD_DEFAULT, "hgc_malloc") != NULL);

    node *kept = build(100000);
    garbage(50);
    GC_gcollect();
    printf("list sum after collections: %llu\n", (unsigned long long)sum(kept));
    printf("collections happened: %s\n", GC_get_gc_no() > 0 ? "yes" : "no");

    char *s = GC_STRDUP("drop-in");
    s = GC_REALLOC(s, 100);
    strcat(s, " replacement");
    printf("string: %s (base ok: %s, size ok: %s)\n", s, GC_base(s + 3) == s ? "yes" : "no",
           GC_size(s) >= 100 ? "yes" : "no");

    /* Typed: the first word of each object is a pointer, the second not. */
    GC_word bm[1] = {0};
    GC_set_bit(bm, 0);
    GC_descr d = GC_make_descriptor(bm, 2);
    node *t = GC_MALLOC_EXPLICITLY_TYPED(sizeof(node), d);
    t->next = build(10);
    t->value = 7;
    garbage(10);
    printf("typed object: next sum %llu, value %llu\n", (unsigned long long)sum(t->next),
           (unsigned long long)t->value);

    void **u = GC_MALLOC_UNCOLLECTABLE(2 * sizeof(void *));
    u[0] = build(100);
    uintptr_t hidden = ~(uintptr_t)u;
    u = NULL;
    garbage(20);
    GC_gcollect();
    printf("uncollectable keeps its list: %llu\n",
           (unsigned long long)sum(((node **)~hidden)[0]));
    GC_FREE((void *)~hidden);

    enum { NF = 200 };
    void **links = malloc(NF * sizeof *links);
    make_finalizable(links, NF);
    clear_stack();
    GC_gcollect();
    GC_gcollect();
    GC_invoke_finalizers();
    int cleared = 0;
    for (int i = 0; i < NF; i++)
        cleared += links[i] == NULL;
    printf("finalizers ran for most dropped objects: %s\n",
           finalized >= NF * 8 / 10 ? "yes" : "no");
    printf("links cleared for most dropped objects: %s\n", cleared >= NF * 8 / 10 ? "yes" : "no");
    free(links);

    pthread_t th[3];
    uint64_t *arg = GC_MALLOC_ATOMIC(sizeof *arg);
    *arg = 42;
    for (int i = 0; i < 3; i++)
        CHECK(pthread_create(&th[i], NULL, worker, arg) == 0);
    for (int i = 0; i < 3; i++) {
        void *r;
        CHECK(pthread_join(th[i], &r) == 0 && r == arg);
    }
    printf("threads: 3 joined\n");

    GC_disable();
    GC_word before = GC_get_gc_no();
    GC_gcollect();
    printf("disabled collections: %s\n", GC_get_gc_no() == before ? "none" : "some");
    GC_enable();
    printf("heap size reported: %s\n", GC_get_heap_size() > 0 ? "yes" : "no");
    printf("list still intact: %llu\n", (unsigned long long)sum(kept));
    return 0;
}
