/*
 * test_roots_register: a pointer held only in a callee-saved register keeps
 * its object alive (this file is always compiled with -O2).
 *
 *  (a) main thread: r15 and r12 hold the only copies of two 1 MiB objects
 *      across hgc_collect() calls and garbage allocation loops;
 *  (b) two other threads each hold their only pointer in a register (r14,
 *      r13) while spinning in a loop without calls; the main thread collects
 *      many times and churns garbage; then the threads verify the contents.
 *
 * Pointers are also kept in disguised form (test_hide) so that the test can
 * check them without making them reachable.  x86_64 only.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#if defined(__x86_64__)

#define OBJ_SIZE (1 * MiB)

static uintptr_t hid_a, hid_b, hid_t[2];
static atomic_int t_ready;
static atomic_int t_done;

static TEST_NOINLINE void *make_obj(uintptr_t *hid)
{
    void *p = hgc_malloc(OBJ_SIZE);
    CHECK(p != NULL);
    test_fill(p, OBJ_SIZE, (uintptr_t)p);
    *hid = test_hide(p);
    return p;
}

static TEST_NOINLINE void verify_obj(void *p, uintptr_t hid)
{
    CHECKF(p == test_unhide(hid), "register lost its value: %p", p);
    CHECK(hgc_base(p) == p);
    CHECK_PATTERN(p, OBJ_SIZE, (uintptr_t)p);
}

static TEST_NOINLINE void churn(uint64_t salt)
{
    test_churn(test_scale(8 * MiB, 4, 8));
    test_churn_sizes(test_scale(8 * MiB, 4, 8), OBJ_SIZE, OBJ_SIZE + 4096,
                     salt);
}

static TEST_NOINLINE void check_live(size_t at_least)
{
    hgc_stats s = test_stats();
    CHECKF(s.live_bytes >= at_least,
           "live_bytes %zu, but %zu bytes are held in registers",
           s.live_bytes, at_least);
}

/* (a) */
static TEST_NOINLINE void main_thread_case(int rounds)
{
    register void *ra __asm__("r15");
    register void *rb __asm__("r12");
    void *t;
    int i;

    t = make_obj(&hid_a);
    __asm__ volatile("mov %1, %0" : "=r"(ra) : "r"(t));
    t = make_obj(&hid_b);
    __asm__ volatile("mov %1, %0" : "=r"(rb) : "r"(t));
    t = NULL;
    test_clear_stack();
    __asm__ volatile("" : "+r"(ra), "+r"(rb));

    for (i = 0; i < rounds; i++) {
        hgc_collect();
        __asm__ volatile("" : "+r"(ra), "+r"(rb));
        check_live(2 * OBJ_SIZE);
        __asm__ volatile("" : "+r"(ra), "+r"(rb));
        churn((uint64_t)i);
        __asm__ volatile("" : "+r"(ra), "+r"(rb));
    }
    verify_obj(ra, hid_a);
    __asm__ volatile("" : "+r"(rb));
    verify_obj(rb, hid_b);
}

/* (b) */
static void *spinner_r14(void *arg)
{
    register void *r __asm__("r14");
    void *t = make_obj(&hid_t[0]);
    (void)arg;
    __asm__ volatile("mov %1, %0" : "=r"(r) : "r"(t));
    t = NULL;
    test_clear_stack();
    __asm__ volatile("" : "+r"(r));
    atomic_fetch_add(&t_ready, 1);
    while (!atomic_load_explicit(&t_done, memory_order_acquire))
        __asm__ volatile("pause" : "+r"(r));
    verify_obj(r, hid_t[0]);
    return NULL;
}

static void *spinner_r13(void *arg)
{
    register void *r __asm__("r13");
    void *t = make_obj(&hid_t[1]);
    (void)arg;
    __asm__ volatile("mov %1, %0" : "=r"(r) : "r"(t));
    t = NULL;
    test_clear_stack();
    __asm__ volatile("" : "+r"(r));
    atomic_fetch_add(&t_ready, 1);
    while (!atomic_load_explicit(&t_done, memory_order_acquire))
        __asm__ volatile("pause" : "+r"(r));
    verify_obj(r, hid_t[1]);
    return NULL;
}

static TEST_NOINLINE void other_thread_case(int rounds)
{
    pthread_t th[2];
    int i;

    CHECK(pthread_create(&th[0], NULL, spinner_r14, NULL) == 0);
    CHECK(pthread_create(&th[1], NULL, spinner_r13, NULL) == 0);
    while (atomic_load(&t_ready) < 2)
        test_sleep_ms(1);
    for (i = 0; i < rounds; i++) {
        test_clear_stack();
        hgc_collect();
        check_live(2 * OBJ_SIZE);
        churn((uint64_t)i + 1000);
    }
    atomic_store_explicit(&t_done, 1, memory_order_release);
    CHECK(pthread_join(th[0], NULL) == 0);
    CHECK(pthread_join(th[1], NULL) == 0);
}

int main(void)
{
    hgc_init();
    main_thread_case(8);
    other_thread_case((int)test_scale(20, 2, 4));
    printf("test_roots_register: ok\n");
    return 0;
}

#else /* !__x86_64__ */

int main(void)
{
    printf("test_roots_register: x86_64 only, skipped\n");
    return 77;
}

#endif
