/*
 * test.h -- tiny test framework for the hgc test suite.
 *
 *   CHECK(cond)             on failure prints "file:line: CHECK failed: cond"
 *                           to stderr and exits with status 1.
 *   CHECKF(cond, fmt, ...)  same, followed by a formatted detail line.
 *   test_slow()             1 when HGC_TEST_SLOW is set (sanitizer builds).
 *   test_scale(n, a, t)     n, or n/a under ASan, or n/t under TSan.
 *   test_seed()             seed of a randomized test: HGC_TEST_SEED or a
 *                           fresh one; printed either way.
 *   test_run_case()         runs this same binary as a child with argv[1] set
 *                           to a case name and extra environment variables,
 *                           capturing its stderr ("death cases").
 *
 * Everything is static so that each test is one self-contained C file.
 */
#ifndef HGC_TEST_H
#define HGC_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hgc.h"

#define TEST_UNUSED __attribute__((unused))
#if defined(__clang__)
#define TEST_NOINLINE __attribute__((noinline))
#else
#define TEST_NOINLINE __attribute__((noinline, noclone))
#endif

/* ------------------------------------------------------------------ */
/* Assertions                                                           */

/* _exit rather than exit: a failing check in one thread must not run
 * atexit handlers while other threads still use the collector. */
#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                 \
            fflush(stderr);                                                 \
            _exit(1);                                                       \
        }                                                                   \
    } while (0)

#define CHECKF(cond, ...)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                 \
            fprintf(stderr, "  ");                                          \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
            fflush(stderr);                                                 \
            _exit(1);                                                       \
        }                                                                   \
    } while (0)

#define MiB ((size_t)1 << 20)
#define KiB ((size_t)1 << 10)

/* ------------------------------------------------------------------ */
/* Sanitizer-aware scaling                                              */

/* 0: normal build, 1: ASan/UBSan, 2: TSan or the GC stress pass
 * (HGC_TEST_SLOW=stress with HGC_GC_STRESS set: a collection every few
 * allocations makes work quadratic in the live set) or any other slow
 * mode. */
static TEST_UNUSED int test_slow_kind(void)
{
    const char *s = getenv("HGC_TEST_SLOW");
    if (!s || !*s || strcmp(s, "0") == 0)
        return 0;
    if (strcmp(s, "tsan") == 0 || strcmp(s, "thread") == 0 || strcmp(s, "stress") == 0)
        return 2;
    return 1;
}

static TEST_UNUSED int test_slow(void) { return test_slow_kind() != 0; }

/* Built with ThreadSanitizer (whose runtime adds a thread of its own). */
static TEST_UNUSED int test_tsan(void)
{
    const char *s = getenv("HGC_TEST_SLOW");
    return s && (strcmp(s, "tsan") == 0 || strcmp(s, "thread") == 0);
}

static TEST_UNUSED size_t test_scale(size_t n, size_t asan_div, size_t tsan_div)
{
    switch (test_slow_kind()) {
    case 1: n /= asan_div; break;
    case 2: n /= tsan_div; break;
    default: break;
    }
    return n ? n : 1;
}

static TEST_UNUSED uint64_t test_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static TEST_UNUSED void test_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------ */
/* Random numbers                                                       */

typedef struct { uint64_t s; } test_rng;

static TEST_UNUSED uint64_t test_rand(test_rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static TEST_UNUSED size_t test_rand_range(test_rng *r, size_t lo, size_t hi)
{
    return lo + (size_t)(test_rand(r) % (uint64_t)(hi - lo + 1));
}

static TEST_UNUSED uint64_t test_seed(void)
{
    const char *s = getenv("HGC_TEST_SEED");
    uint64_t seed;
    if (s && *s)
        seed = strtoull(s, NULL, 0);
    else
        seed = test_now_ns() ^ ((uint64_t)getpid() << 32);
    printf("seed = %" PRIu64 " (rerun with HGC_TEST_SEED=%" PRIu64 ")\n", seed,
           seed);
    fflush(stdout);
    return seed;
}

/* ------------------------------------------------------------------ */
/* Content patterns                                                     */

static TEST_UNUSED uint64_t test_pat_word(uint64_t key, size_t i)
{
    uint64_t z = (key + (uint64_t)i + 1) * 0x9E3779B97F4A7C15ull;
    z ^= z >> 29;
    /* never a plausible heap address and never zero */
    return z | 0x8000000000000001ull;
}

static TEST_UNUSED unsigned char test_pat_byte(uint64_t key, size_t i)
{
    return (unsigned char)(test_pat_word(key, i / 8) >> ((i % 8) * 8));
}

/* Fill n bytes at p with a pattern determined by key (use the object's
 * address or index as key).  Written word-wise for speed; a trailing partial
 * word byte-wise. */
static TEST_UNUSED void test_fill(void *p, size_t n, uint64_t key)
{
    uint64_t *w = (uint64_t *)p;
    size_t nw = n / 8, i;
    for (i = 0; i < nw; i++)
        w[i] = test_pat_word(key, i);
    for (i = nw * 8; i < n; i++)
        ((unsigned char *)p)[i] = test_pat_byte(key, i);
}

/* Returns the index of the first wrong byte, or (size_t)-1 when intact. */
static TEST_UNUSED size_t test_find_bad(const void *p, size_t n, uint64_t key)
{
    const uint64_t *w = (const uint64_t *)p;
    size_t nw = n / 8, i;
    for (i = 0; i < nw; i++)
        if (w[i] != test_pat_word(key, i))
            return i * 8;
    for (i = nw * 8; i < n; i++)
        if (((const unsigned char *)p)[i] != test_pat_byte(key, i))
            return i;
    return (size_t)-1;
}

#define CHECK_PATTERN(p, n, key)                                            \
    do {                                                                    \
        size_t bad_ = test_find_bad((p), (n), (key));                       \
        CHECKF(bad_ == (size_t)-1,                                          \
               "object %p (%zu bytes): pattern broken at byte %zu",         \
               (void *)(p), (size_t)(n), bad_);                             \
    } while (0)

static TEST_UNUSED int test_is_zero(const void *p, size_t n)
{
    const unsigned char *c = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++)
        if (c[i])
            return 0;
    return 1;
}

/* Pointer disguise: a hidden pointer is not a pointer for a conservative
 * scanner, so a test can find an object again without keeping it alive. */
static TEST_UNUSED uintptr_t test_hide(const void *p) { return ~(uintptr_t)p; }
static TEST_UNUSED void *test_unhide(uintptr_t h) { return (void *)~h; }

/* ------------------------------------------------------------------ */
/* A self-checking binary tree (marking tests)                          */

typedef struct test_tnode {
    struct test_tnode *l, *r;
    uint64_t check; /* depends on the node's address and its id */
} test_tnode;

static TEST_UNUSED uint64_t test_tnode_key(const test_tnode *t, uint64_t id)
{
    return (uintptr_t)t * 31 + id;
}

/* A complete tree of `depth` levels; node ids are heap-numbered from id. */
static TEST_UNUSED test_tnode *test_tree_build(int depth, uint64_t id)
{
    test_tnode *t = (test_tnode *)hgc_malloc(sizeof *t);
    CHECK(t != NULL);
    t->check = test_tnode_key(t, id);
    if (depth > 1) {
        t->l = test_tree_build(depth - 1, id * 2);
        t->r = test_tree_build(depth - 1, id * 2 + 1);
    }
    return t;
}

/* Checks every node; returns how many there are. */
static TEST_UNUSED size_t test_tree_verify(const test_tnode *t, int depth, uint64_t id)
{
    CHECKF(t != NULL && t->check == test_tnode_key(t, id), "tree node %" PRIu64 " broken", id);
    if (depth == 1)
        return 1;
    return 1 + test_tree_verify(t->l, depth - 1, id * 2) +
           test_tree_verify(t->r, depth - 1, id * 2 + 1);
}

/* ------------------------------------------------------------------ */
/* Garbage and stack hygiene                                            */

/* Overwrite a chunk of dead stack below the caller so that stale copies of
 * pointers left there by earlier calls do not act as roots. */
static TEST_NOINLINE TEST_UNUSED void test_clear_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* Allocate about `bytes` of garbage in sizes between lo and hi, writing a
 * marker into every object so that memory wrongly handed out again is
 * overwritten.  Nothing is kept. */
static TEST_NOINLINE TEST_UNUSED void test_churn_sizes(size_t bytes, size_t lo,
                                                     size_t hi, uint64_t seed)
{
    test_rng r = {seed};
    size_t done = 0;
    while (done < bytes) {
        size_t n = test_rand_range(&r, lo, hi);
        unsigned char *p = (unsigned char *)((n & 1) ? hgc_malloc_atomic(n)
                                                     : hgc_malloc(n));
        CHECKF(p != NULL, "garbage allocation of %zu bytes failed", n);
        if (n <= 4096) {
            memset(p, 0xA5, n);
        } else {
            size_t i;
            for (i = 0; i < n; i += 4096)
                p[i] = 0xA5;
            p[n - 1] = 0xA5;
        }
        done += n;
    }
}

/* Default garbage: mostly small objects of every common size, some medium. */
static TEST_UNUSED void test_churn(size_t bytes)
{
    static uint64_t salt_counter = 1;
    uint64_t salt = __atomic_add_fetch(&salt_counter, 1, __ATOMIC_RELAXED);
    test_churn_sizes(bytes * 3 / 4, 8, 512, salt * 7919);
    test_churn_sizes(bytes / 4, 512, 65536, salt * 104729);
}

static TEST_UNUSED hgc_stats test_stats(void)
{
    hgc_stats s;
    memset(&s, 0, sizeof s);
    hgc_get_stats(&s);
    return s;
}

/* Collect after clearing the stack, n times. */
static TEST_NOINLINE TEST_UNUSED void test_collect_n(int n)
{
    int i;
    for (i = 0; i < n; i++) {
        test_clear_stack();
        hgc_collect();
    }
}

/* ------------------------------------------------------------------ */
/* Child processes ("death cases")                                      */

typedef struct {
    int status;   /* wait status */
    char *err;    /* captured stderr, NUL-terminated (malloc'ed) */
    size_t len;
} test_child;

/* Run /proc/self/exe <case_name> in a child.  env is a NULL-terminated list
 * of "NAME=value" strings added to a copy of the current environment from
 * which every HGC_* variable except HGC_TEST_* was removed (so that cases
 * see exactly the configuration they ask for).  Returns the wait status;
 * the child's stderr is in out->err.
 *
 * The child is started with posix_spawn (no fork handlers run in this
 * process, so the runner does not depend on hgc's fork support; test_fork
 * covers that).  A child still running after 90 s is killed with SIGKILL and
 * "TEST-TIMEOUT" is appended to its captured output. */
static TEST_UNUSED int test_run_case(const char *case_name,
                                     const char *const *env, test_child *out)
{
    extern char **environ;
    size_t nenv = 0, nextra = 0, i, k = 0;
    char **envp;
    int fds[2], rc;
    pid_t pid;
    size_t cap = 65536;
    char *argv[3];
    posix_spawn_file_actions_t fa;
    uint64_t deadline = test_now_ns() + (uint64_t)90 * 1000000000u;
    int killed = 0;

    while (environ[nenv])
        nenv++;
    while (env && env[nextra])
        nextra++;
    envp = (char **)calloc(nenv + nextra + 1, sizeof *envp);
    CHECK(envp != NULL);
    for (i = 0; i < nenv; i++) {
        if (strncmp(environ[i], "HGC_", 4) == 0 &&
            strncmp(environ[i], "HGC_TEST_", 9) != 0)
            continue;
        envp[k++] = environ[i];
    }
    for (i = 0; i < nextra; i++)
        envp[k++] = (char *)env[i];
    envp[k] = NULL;

    {
        /* no core files from the cases that abort (inherited by the child) */
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_CORE, &rl);
    }
    CHECK(pipe2(fds, O_CLOEXEC) == 0);
    CHECK(posix_spawn_file_actions_init(&fa) == 0);
    CHECK(posix_spawn_file_actions_adddup2(&fa, fds[1], 2) == 0);
    argv[0] = (char *)"/proc/self/exe";
    argv[1] = (char *)case_name;
    argv[2] = NULL;
    fflush(stdout);
    fflush(stderr);
    rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, envp);
    CHECKF(rc == 0, "posix_spawn: %s", strerror(rc));
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    close(fds[1]);

    out->err = (char *)malloc(cap);
    CHECK(out->err != NULL);
    out->len = 0;
    for (;;) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        uint64_t now = test_now_ns();
        ssize_t r;
        if (out->len + 64 >= cap) {
            cap *= 2;
            out->err = (char *)realloc(out->err, cap);
            CHECK(out->err != NULL);
        }
        if (now >= deadline) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        rc = poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1);
        if (rc < 0 && errno == EINTR)
            continue;
        CHECK(rc >= 0);
        if (rc == 0)
            continue;
        r = read(fds[0], out->err + out->len, cap - 64 - out->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        out->len += (size_t)r;
    }
    close(fds[0]);
    if (killed) {
        const char *m = "TEST-TIMEOUT: killed after 90 s\n";
        memcpy(out->err + out->len, m, strlen(m));
        out->len += strlen(m);
    }
    out->err[out->len] = 0;
    while (waitpid(pid, &out->status, 0) < 0)
        CHECK(errno == EINTR);
    return out->status;
}

static TEST_UNUSED void test_child_free(test_child *c)
{
    free(c->err);
    c->err = NULL;
}

static TEST_UNUSED void test_print_child(const char *name, const test_child *c)
{
    if (WIFEXITED(c->status))
        fprintf(stderr, "case %s: exit status %d\n", name,
                WEXITSTATUS(c->status));
    else if (WIFSIGNALED(c->status))
        fprintf(stderr, "case %s: killed by signal %d (%s)\n", name,
                WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
    fprintf(stderr, "---- stderr of case %s ----\n%s---- end ----\n", name,
            c->err ? c->err : "");
}

/* Runs case case_name as test_run_case does and wants it to exit with 0:
 * then passes its stderr on and returns 1; else prints the child (labelled
 * label) and returns 0. */
static TEST_UNUSED int test_case_passes(const char *case_name, const char *const *env,
                                        const char *label)
{
    test_child c;
    test_run_case(case_name, env, &c);
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
        test_print_child(label, &c);
        test_child_free(&c);
        return 0;
    }
    fputs(c.err, stderr);
    test_child_free(&c);
    return 1;
}

/* Runs case case_name as test_run_case does; addr gets the first address
 * of the child's "TEST-ADDR" line ("" if it printed none). */
static TEST_UNUSED void test_run_case_addr(const char *case_name, test_child *c, char addr[64])
{
    test_run_case(case_name, NULL, c);
    addr[0] = 0;
    const char *l = c->err ? strstr(c->err, "TEST-ADDR ") : NULL;
    if (l)
        sscanf(l, "TEST-ADDR %63s", addr);
}

/* 1 when some whole line of text equals line exactly. */
static TEST_UNUSED int test_has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    const char *p = text;
    while (p && *p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, line, n) == 0)
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

/* 1 when some line of text starts with prefix. */
static TEST_UNUSED int test_has_line_prefix(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    const char *p = text;
    while (p && *p) {
        if (strncmp(p, prefix, n) == 0)
            return 1;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

#endif /* HGC_TEST_H */
