/*
 * test_signal_env: HGC_SIG_SUSPEND selects the signal that stops threads.
 * A child runs a threads + collections scenario (4 threads holding objects
 * on their stacks, spinning or blocked, while main collects and churns):
 *   - with HGC_SIG_SUSPEND=<SIGUSR2>: SIGPWR is blocked in every thread, so
 *     the collection can only work if SIGUSR2 is used; afterwards SIGUSR2
 *     has a handler and SIGPWR has none;
 *   - with no setting: SIGUSR2 is blocked in every thread and SIGPWR (the
 *     default) has the handler;
 *   - with HGC_SIG_SUSPEND=abc: a warning, and the default (SIGPWR) is used.
 * A child that hangs (threads never stopped) is killed after 90 s and
 * reported.
 */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>

#ifndef SIGPWR
#define SIGPWR 30
#endif

#define NTH 4
#define OBJ MiB

static atomic_int ready, go;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *holder(void *arg)
{
    int id = (int)(intptr_t)arg;
    void *volatile p = hgc_malloc(OBJ);
    CHECK(p != NULL);
    test_fill(p, OBJ, (uintptr_t)p);
    test_clear_stack();
    if (id % 2 == 0) {
        atomic_fetch_add(&ready, 1);
        while (!atomic_load(&go)) {
        }
    } else {
        pthread_mutex_lock(&mu);
        atomic_fetch_add(&ready, 1);
        while (!atomic_load(&go))
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
    }
    CHECK_PATTERN(p, OBJ, (uintptr_t)p);
    return NULL;
}

static int has_handler(int sig)
{
    struct sigaction sa;
    CHECK(sigaction(sig, NULL, &sa) == 0);
    if (sa.sa_flags & SA_SIGINFO)
        return 1;
    return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
}

static int run_child(const char *mode)
{
    int expect = strcmp(mode, "usr2") == 0 ? SIGUSR2 : SIGPWR;
    int other = expect == SIGUSR2 ? SIGPWR : SIGUSR2;
    pthread_t th[NTH];
    sigset_t set;
    int i;

    /* the signal hgc must not use is blocked everywhere */
    sigemptyset(&set);
    sigaddset(&set, other);
    CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);

    hgc_init();
    for (i = 0; i < NTH; i++)
        CHECK(pthread_create(&th[i], NULL, holder, (void *)(intptr_t)i) == 0);
    while (atomic_load(&ready) < NTH)
        test_sleep_ms(1);
    for (i = 0; i < 5; i++) {
        test_clear_stack();
        hgc_collect();
        CHECKF(test_stats().live_bytes >= NTH * OBJ, "live_bytes %zu",
               test_stats().live_bytes);
        test_churn_sizes(test_scale(16 * MiB, 4, 8), OBJ, OBJ, (uint64_t)i);
    }
    pthread_mutex_lock(&mu);
    atomic_store(&go, 1);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (i = 0; i < NTH; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    CHECKF(has_handler(expect), "no handler installed for signal %d",
           expect);
    CHECKF(!has_handler(other), "a handler is installed for signal %d",
           other);
    return 0;
}

static int failures;

static void run(const char *mode, const char *envvar, int want_warning)
{
    const char *env[] = {envvar, NULL};
    test_child c;
    int ok;
    test_run_case(mode, env, &c);
    ok = WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0 &&
         test_has_line_prefix(c.err, "hgc: warning: HGC_SIG_SUSPEND") ==
             want_warning;
    if (!ok) {
        fprintf(stderr, "FAIL: mode %s with %s (warning expected: %s)\n", mode,
                envvar ? envvar : "no HGC_SIG_SUSPEND",
                want_warning ? "yes" : "no");
        if (strstr(c.err, "TEST-TIMEOUT"))
            fprintf(stderr, "  the child hung (threads never stopped?)\n");
        test_print_child(mode, &c);
        failures++;
    } else {
        printf("ok   %s %s\n", mode, envvar ? envvar : "(default)");
    }
    test_child_free(&c);
}

int main(int argc, char **argv)
{
    char usr2[32];
    if (argc > 1)
        return run_child(argv[1]);
    snprintf(usr2, sizeof usr2, "HGC_SIG_SUSPEND=%d", SIGUSR2);
    run("usr2", usr2, 0);
    run("pwr", NULL, 0);
    run("pwr", "HGC_SIG_SUSPEND=abc", 1);
    if (failures)
        return 1;
    printf("test_signal_env: ok\n");
    return 0;
}
