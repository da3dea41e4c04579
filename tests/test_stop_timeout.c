/*
 * test_stop_timeout: a stop that a thread never acknowledges ends, after
 * HGC_STOP_TIMEOUT seconds, in one line naming the thread, not in a hang.
 *   stuck  a registered thread blocks every signal and spins without
 *          allocating; the main thread collects.  With HGC_STOP_TIMEOUT=1
 *          the collection aborts after about a second with
 *          "hgc: thread T did not stop for a collection in N ms (signal S
 *          sent): ... HGC_STOP_TIMEOUT";
 *   late   the same thread allocates after 300 ms, reaching a safe point:
 *          the collection completes (the timeout is for stops that cannot
 *          end, not slow ones);
 *   bad    HGC_STOP_TIMEOUT=soon warns and keeps the default (10 s), and
 *          the late case still completes.
 */
#define _GNU_SOURCE
#include "test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

static atomic_int ready;

/* A thread that holds the collection up: every signal blocked, no
 * allocation for `ms` milliseconds (forever if 0), then one allocation. */
static void *holder(void *arg)
{
    long ms = (long)(intptr_t)arg;
    hgc_thread_register();
    sigset_t all;
    sigfillset(&all);
    CHECK(pthread_sigmask(SIG_BLOCK, &all, NULL) == 0);
    fprintf(stderr, "TEST-ADDR %#lx\n", (unsigned long)pthread_self());
    atomic_store(&ready, 1);
    uint64_t until = test_now_ns() + (uint64_t)ms * 1000000;
    while (ms == 0 || test_now_ns() < until) {
    }
    CHECK(hgc_malloc(4096) != NULL); /* a cache refill: a safe point */
    return NULL;
}

static int run_holder(long ms)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, holder, (void *)(intptr_t)ms) == 0);
    while (!atomic_load(&ready)) {
    }
    hgc_collect();
    fprintf(stderr, "TEST-COLLECTED\n");
    CHECK(pthread_join(t, NULL) == 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return run_holder(!strcmp(argv[1], "stuck") ? 0 : 300);

    int failures = 0;
    test_child c;
    char tid[64], expect[160];
    static const char *const one_second[] = {"HGC_STOP_TIMEOUT=1", NULL};
    uint64_t t0 = test_now_ns();
    test_run_case("stuck", one_second, &c);
    double waited = (double)(test_now_ns() - t0) / 1e9;
    tid[0] = 0;
    const char *l = strstr(c.err, "TEST-ADDR ");
    if (l)
        sscanf(l, "TEST-ADDR %63s", tid);
    snprintf(expect, sizeof expect, "hgc: thread %s did not stop for a collection in ", tid);
    l = strstr(c.err, expect);
    if (!WIFSIGNALED(c.status) || WTERMSIG(c.status) != SIGABRT || !l ||
        !strstr(l, "HGC_STOP_TIMEOUT") || strstr(c.err, "TEST-COLLECTED") || waited < 0.9 ||
        waited > 30) {
        fprintf(stderr, "FAIL stuck: expected an abort after about 1 s (took %.1f s) with\n"
                        "  %s... HGC_STOP_TIMEOUT\n", waited, expect);
        test_print_child("stuck", &c);
        failures++;
    } else {
        printf("ok   stuck (aborted after %.1f s)\n", waited);
    }
    test_child_free(&c);

    if (test_case_passes("late", one_second, "late"))
        printf("ok   late\n");
    else
        failures++;

    static const char *const bad[] = {"HGC_STOP_TIMEOUT=soon", NULL};
    test_run_case("late", bad, &c);
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 ||
        !test_has_line(c.err, "hgc: warning: HGC_STOP_TIMEOUT=\"soon\" is not valid (expected "
                              "seconds from 0 (wait forever) to 86400); using the default")) {
        test_print_child("bad", &c);
        failures++;
    } else {
        printf("ok   bad\n");
    }
    test_child_free(&c);
    if (failures)
        return 1;
    printf("test_stop_timeout: ok\n");
    return 0;
}
