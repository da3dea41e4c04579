/*
 * test_fork_fds: hgc's own descriptors never disturb the program's.
 *   high  hgc's descriptors (the trace file of HGC_TRACE, and with write
 *         tracking the userfaultfd and /proc/self/pagemap) are numbered
 *         100 or above, out of the program's way, after initialization and
 *         collections, and the trace file's is among them;
 *   fork  what Crystal's runtime does with libevent, while two threads
 *         allocate: the parent watches a pipe with epoll; a forked child
 *         closes the pipe, makes a new one, which must get the same
 *         numbers, and a new epoll instance, to which the new pipe's read
 *         end must add (with hgc's descriptors among the low numbers, the
 *         child's closing them handed those to the new pipe, the old read
 *         end's number to the epoll instance, and the add failed with
 *         EINVAL); the child then reads through epoll, allocates and
 *         collects.
 */
#define _GNU_SOURCE
#include "test.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/wait.h>

static atomic_int stop;

static void *churner(void *arg)
{
    (void)arg;
    void *keep[64] = {0};
    for (unsigned i = 0; !atomic_load(&stop); i++)
        keep[i % 64] = hgc_malloc(16 + i % 200);
    return keep[0] == (void *)1 ? arg : NULL;
}

/* In the child: the pipe and the epoll instance made again, as libevent's
 * reinitialization after fork does. */
static int child(int rd, int wr)
{
    close(rd);
    close(wr);
    int p[2];
    CHECK(pipe(p) == 0);
    CHECKF(p[0] == rd && p[1] == wr, "the child's new pipe is %d/%d, the parent's was %d/%d",
           p[0], p[1], rd, wr);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
    CHECKF(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "epoll_ctl ADD of fd %d to %d: %s",
           p[0], ep, strerror(errno));
    CHECK(write(p[1], "x", 1) == 1);
    struct epoll_event got;
    CHECK(epoll_wait(ep, &got, 1, 1000) == 1 && got.data.fd == p[0]);
    void *list = NULL;
    for (int i = 0; i < 100000; i++) {
        void **n = hgc_malloc(64);
        CHECK(n != NULL);
        n[0] = list;
        list = n;
    }
    hgc_collect();
    int count = 0;
    for (void **n = list; n; n = n[0])
        count++;
    CHECK(count == 100000);
    return 0;
}

static int case_fork(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, churner, NULL) == 0);
    hgc_collect(); /* write tracking and markers set up */
    int p[2];
    CHECK(pipe(p) == 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
    CHECK(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    for (int round = 0; round < 3; round++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
            _exit(child(p[0], p[1]));
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %#x", round,
               status);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    return 0;
}

/* Every open descriptor that is hgc's -- the trace file (its path in
 * HGC_TRACE), a userfaultfd, /proc/self/pagemap -- is numbered 100 or
 * above; returns how many there are. */
static int hgc_descriptors_high(void)
{
    const char *trace = getenv("HGC_TRACE");
    int found = 0;
    for (int fd = 0; fd < 4096; fd++) {
        char link[64], target[512];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n < 0)
            continue;
        target[n] = 0;
        bool ours = strstr(target, "userfaultfd") || strstr(target, "/pagemap") ||
                    (trace && !strcmp(target, trace));
        if (!ours)
            continue;
        CHECKF(fd >= 100, "hgc's descriptor %d (%s) is among the program's low numbers", fd,
               target);
        found++;
    }
    return found;
}

static int case_high(void)
{
    void *list = NULL;
    for (int i = 0; i < 200000; i++) {
        void **n = hgc_malloc(48);
        n[0] = list;
        list = n;
    }
    hgc_collect();
    hgc_collect_minor();
    CHECK(hgc_descriptors_high() >= 1); /* the trace file at least */
    return list ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return !strcmp(argv[1], "high") ? case_high() : case_fork();
    char trace[] = "/tmp/hgc-test-fork-fds-XXXXXX";
    int tfd = mkstemp(trace);
    CHECK(tfd >= 0);
    close(tfd);
    char env_trace[64];
    snprintf(env_trace, sizeof env_trace, "HGC_TRACE=%s", trace);
    const char *const traced[] = {env_trace, NULL};
    int failures = 0;
    if (test_case_passes("high", traced, "high"))
        printf("ok   high\n");
    else
        failures++;
    if (test_case_passes("fork", NULL, "fork"))
        printf("ok   fork\n");
    else
        failures++;
    unlink(trace);
    if (failures)
        return 1;
    printf("test_fork_fds: ok\n");
    return 0;
}
