/* tools_clean: a correct program that makes hgc do all it does to its
 * heap -- threads allocating while collections run (parallel marking of
 * stacks that hold uninitialised words, lazy sweeping), explicit frees,
 * realloc, typed and large objects, a finalizer, a weak link -- for
 * test_valgrind to run under memcheck: no error may be reported.  Under
 * Valgrind, hgc_size is the size asked for. */
#include "../test.h"

#include <pthread.h>

struct node { struct node *next; long value; char pad[13]; };

static long churn(int rounds)
{
    long kept = 0;
    for (int r = 0; r < rounds; r++) {
        struct node *list = NULL;
        for (long i = 0; i < 2000; i++) {
            struct node *n = hgc_malloc(sizeof *n);
            n->value = i;
            n->next = list;
            list = n;
            if (i % 7 == 0) /* and one to free at once */
                hgc_free(hgc_malloc_atomic(24));
        }
        for (struct node *n = list; n; n = n->next)
            kept += n->value;
    }
    return kept;
}

static void *worker(void *arg)
{
    hgc_thread_register();
    long *out = arg;
    *out = churn(20);
    hgc_thread_unregister();
    return NULL;
}

static int finalized;
static void on_finalize(void *obj, void *data) { (void)obj, (void)data; finalized++; }

int main(void)
{
    hgc_init();
    pthread_t th[2];
    long sums[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&th[i], NULL, worker, &sums[i]) == 0);
    long mine = churn(20);
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        CHECK(sums[i] == mine);
    }
    CHECK(mine == 20L * 1999 * 2000 / 2);

    char *s = hgc_malloc_atomic(10);
    memcpy(s, "123456789", 10);
    CHECK(hgc_size(s) >= 10);
    s = hgc_realloc(s, 100);
    CHECK(strcmp(s, "123456789") == 0);
    s = hgc_realloc(s, 5);
    CHECK(memcmp(s, "12345", 5) == 0);

    uint64_t bits = 1; /* word 0 is a pointer */
    hgc_layout layout = hgc_make_layout(&bits, 3);
    void **t = hgc_malloc_typed(3 * sizeof(void *), layout);
    t[0] = hgc_malloc(32);
    t[2] = (void *)(uintptr_t)12345;

    char *big = hgc_malloc(1 << 20);
    memset(big, 1, 1 << 20);

    void *dying = hgc_malloc(64);
    hgc_register_finalizer(dying, on_finalize, NULL, HGC_FINALIZE_UNORDERED, NULL, NULL);
    void *weak_target = hgc_malloc(48);
    void **link = hgc_malloc_atomic_uncollectable(sizeof(void *));
    *link = weak_target;
    hgc_weak_register(link, weak_target);
    dying = weak_target = NULL;
    for (int i = 0; i < 3; i++)
        hgc_collect();
    CHECK(((void **)t)[0] != NULL && big[12345] == 1);
    printf("tools_clean: ok (finalizers run: %s)\n", finalized ? "yes" : "not yet");
    return 0;
}
