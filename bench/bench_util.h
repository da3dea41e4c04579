/*
 * bench_util.h -- small helpers shared by the benchmark programs: a
 * monotonic clock, peak RSS, argument parsing, fatal errors.  Include after
 * gcapi.h.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

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

/* Seconds on the monotonic clock. */
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

static inline double bench_now(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
        bench_fatal("clock_gettime: %s", strerror(errno));
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Peak resident set size of this process, in KiB (Linux: ru_maxrss). */
static inline long bench_peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
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

#endif /* BENCH_UTIL_H */
