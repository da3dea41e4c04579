/*
 * options.h -- every tunable, defined once in options.c's table and read
 * from the environment at initialization.  A bad value prints one warning
 * and keeps the default.
 */
#ifndef HGC_OPTIONS_H
#define HGC_OPTIONS_H

enum option_id {
    OPT_GOGC,             /* percent; -1 = off */
    OPT_MIN_HEAP,         /* bytes */
    OPT_SIG_SUSPEND,      /* signal number */
    OPT_STATS,            /* 0/1 */
    OPT_MARK_STACK_LIMIT, /* entries; 0 = unlimited */
    OPT_MARKERS,          /* marking threads; 0 = one per CPU */
    OPT_VERIFY,           /* 0 off, 1 verify every collection, 2 self-test */
    OPT_GC_STRESS,        /* collect every Nth allocation of a thread; 0 off */
    OPT_TRACE,            /* path of the Chrome trace file (option_text) */
    OPT_GENERATIONAL,     /* 0/1: minor collections where the kernel allows */
    OPT_STOP_TIMEOUT,     /* seconds a stop may wait for a thread; 0 = forever */
    OPT_TEST_STOP_DELAY,  /* tests: microseconds the stop handler dawdles */
    OPT_TEST_MARKER_DELAY, /* tests: microseconds a woken marker helper dawdles */
    OPT_TEST_STOP_NESTED, /* tests: a stop signal sent to self inside every stop */
    OPT_TEST_LOSE_SIGNAL, /* tests: the first stop signal of each round to a thread is not sent */
    OPT_CONCURRENT,       /* 0/1: major collections mark while the program runs */
    OPT_TEST_CONCURRENT_HOLD, /* tests: milliseconds a concurrent mark waits before and after its drain */
    OPT_COUNT
};

void options_init(void);
long long option_get(enum option_id id);
/* The text of a path option, or NULL when unset. */
const char *option_text(enum option_id id);

#endif
