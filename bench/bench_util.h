/*
 * bench_util.h -- small helpers shared by the benchmark programs: a
 * monotonic clock, peak RSS, argument parsing, fatal errors.  Include after
 * gcapi.h.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Print "PROG: message" to stderr and abort (so that a failed check can't be
 * mistaken for a result, and leaves a core for a debugger). */
__attribute__((noreturn, format(printf, 1, 2)))
static inline void bench_fatal(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bench (%s): ", BENCH_BACKEND);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

/* Zero the 64 KiB of stack below the caller.  A conservative collector
 * scans whole stack frames, and a slot that a new frame leaves unwritten
 * still holds whatever an earlier, deeper call stored there; a benchmark
 * calls this after dropping a big structure so that such a stale slot does
 * not keep it alive (which would change the live set the workload is
 * defined to have, for every back end alike). */
static __attribute__((noinline, unused)) void bench_scrub_stack(void)
{
    unsigned long buf[64 * 1024 / sizeof(unsigned long)];
    memset(buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory"); /* keep the stores */
}

/* CPU time of the calling thread, seconds. */
static inline double bench_thread_cpu(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        bench_fatal("clock_gettime: %s", strerror(errno));
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
        bench_fatal("clock_gettime: %s", strerror(errno));
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Worker threads that start their measured work together.  Each worker
 * calls bench_worker_ready() once set up; bench_start_workers() starts n
 * of them, fn(args + i * stride), and waits until all are ready;
 * bench_join_workers() joins them.  The program measures from
 * bench_start_workers()'s result: the moment of the release, or with
 * with_setup the moment before the first thread started (the workers'
 * set-up then counts too). */
static pthread_barrier_t bench_start_barrier;
static pthread_t *bench_tids;
static int bench_nworkers;

static inline void bench_worker_ready(void)
{
    pthread_barrier_wait(&bench_start_barrier);
}

static inline double bench_start_workers(int n, void *(*fn)(void *), void *args, size_t stride,
                                         int with_setup)
{
    bench_tids = calloc((size_t)n, sizeof *bench_tids);
    if (bench_tids == NULL)
        bench_fatal("out of memory for %d workers", n);
    int rc = pthread_barrier_init(&bench_start_barrier, NULL, (unsigned)n + 1);
    if (rc != 0)
        bench_fatal("pthread_barrier_init: %s", strerror(rc));
    bench_nworkers = n;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        rc = pthread_create(&bench_tids[i], NULL, fn, (char *)args + (size_t)i * stride);
        if (rc != 0)
            bench_fatal("pthread_create: %s", strerror(rc));
    }
    bench_worker_ready();
    return with_setup ? t0 : bench_now();
}

static inline void bench_join_workers(void)
{
    bench_wait_begin(); /* gcapi.h */
    for (int i = 0; i < bench_nworkers; i++) {
        int rc = pthread_join(bench_tids[i], NULL);
        if (rc != 0)
            bench_fatal("pthread_join: %s", strerror(rc));
    }
    bench_wait_end();
    pthread_barrier_destroy(&bench_start_barrier);
    free(bench_tids);
    bench_tids = NULL;
}

/* Peak resident set size of this process, in KiB (Linux: ru_maxrss). */
static inline long bench_peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

/* Current resident set size in KiB (Linux: /proc/self/statm), -1 if
 * unknown.  A system call and a little parsing: for sampling, not for a
 * hot loop. */
static inline long bench_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size, resident;
    if (f == NULL)
        return -1;
    int n = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    return n == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

/* A small deterministic PRNG (xorshift64*): the same seed gives the same
 * sequence for every back end, so all of them do the same work. */
typedef struct bench_rng {
    unsigned long long s;
} bench_rng;

static inline bench_rng bench_rng_seed(unsigned long long seed)
{
    bench_rng r = {seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL};
    if (r.s == 0)
        r.s = 1;
    return r;
}

static inline unsigned long long bench_rng_next(bench_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n) for n >= 1 (the modulo bias is irrelevant here). */
static inline unsigned long long bench_rng_below(bench_rng *r, unsigned long long n)
{
    return (bench_rng_next(r) >> 11) % n;
}

/* Print the fields every RESULT line ends with, and the newline:
 *   time_s=.. peak_rss_kb=.. collections=.. max_pause_ms=.. backend=..
 * collections and max_pause_ms are -1 where the back end has none. */
static inline void bench_result_tail(double time_s)
{
    long long collections;
    double max_pause_ms;
    bench_gc_stats(&collections, &max_pause_ms);
    printf(" time_s=%.4f peak_rss_kb=%ld collections=%lld", time_s, bench_peak_rss_kb(),
           collections);
    if (max_pause_ms < 0)
        printf(" max_pause_ms=-1");
    else
        printf(" max_pause_ms=%.3f", max_pause_ms);
    printf(" backend=%s\n", BENCH_BACKEND);
    fflush(stdout);
}

/* Parse a decimal integer in [lo, hi]; on error print usage hint, exit 2. */
static inline long bench_parse_long(const char *prog, const char *what,
                                    const char *s, long lo, long hi)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "%s: bad %s '%s' (expected an integer in [%ld, %ld])\n",
                prog, what, s, lo, hi);
        exit(2);
    }
    return v;
}

/* A positional integer argument: its name in messages, its range, and
 * where it goes (holding the default until given). */
typedef struct bench_arg {
    const char *what;
    long lo, hi;
    long *val;
} bench_arg;

/* Parses argv[1..] as up to nargs positional integers into args.  "--help"
 * or "-h" first prints the usage and exits 0; more arguments than nargs
 * print it and exit 2, and so does a bad value (bench_parse_long). */
static inline void bench_parse_positional(int argc, char **argv, void (*usage)(const char *prog),
                                          const bench_arg *args, int nargs)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(argv[0]);
        exit(0);
    }
    if (argc - 1 > nargs) {
        usage(argv[0]);
        exit(2);
    }
    for (int i = 1; i < argc; i++)
        *args[i - 1].val = bench_parse_long(argv[0], args[i - 1].what, argv[i], args[i - 1].lo,
                                            args[i - 1].hi);
}

#endif /* BENCH_UTIL_H */
