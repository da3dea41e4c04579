/* options.c -- the one table of tunables.  See options.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/options.h"
#include "base/util.h"

enum option_kind { OK_INT, OK_SIZE, OK_BOOL, OK_SIGNAL, OK_PERCENT_OR_OFF, OK_PATH };

typedef struct option {
    const char *name;
    enum option_kind kind;
    long long def, min, max;
    const char *expect; /* for the warning */
    long long value;
    const char *text;   /* OK_PATH: the value; NULL when unset */
} option;

static option options[OPT_COUNT] = {
    [OPT_GOGC] = {"HGC_GOGC", OK_PERCENT_OR_OFF, 100, 1, 100000,
                  "an integer percentage 1..100000 or \"off\"", 0, NULL},
    [OPT_MIN_HEAP] = {"HGC_MIN_HEAP", OK_SIZE, 4ll << 20, 64ll << 10, 1ll << 46,
                      "a byte count from 64K to 64T, optionally suffixed K, M or G", 0, NULL},
    [OPT_SIG_SUSPEND] = {"HGC_SIG_SUSPEND", OK_SIGNAL, SIGPWR, 1, 64,
                         "a signal number that is not SIGKILL, SIGSTOP or a fault signal", 0, NULL},
    [OPT_STATS] = {"HGC_STATS", OK_BOOL, 0, 0, 1, "0 or 1", 0, NULL},
    [OPT_MARK_STACK_LIMIT] = {"HGC_MARK_STACK_LIMIT", OK_SIZE, 0, 16, 1ll << 40,
                              "a number of entries, at least 16", 0, NULL},
    [OPT_MARKERS] = {"HGC_MARKERS", OK_INT, 0, 0, 16,
                     "a number of marking threads from 1 to 16, or 0 for one per CPU", 0, NULL},
    [OPT_VERIFY] = {"HGC_VERIFY", OK_INT, 0, 0, 2,
                    "0, 1 (verify the marks of every collection) or 2 (verifier self-test)", 0, NULL},
    [OPT_GC_STRESS] = {"HGC_GC_STRESS", OK_INT, 0, 0, 1000000000,
                       "0 (off) or N from 1 to 1000000000: collect every Nth allocation", 0, NULL},
    [OPT_TRACE] = {"HGC_TRACE", OK_PATH, 0, 0, 0, "a file name", 0, NULL},
    [OPT_GENERATIONAL] = {"HGC_GENERATIONAL", OK_BOOL, 1, 0, 1, "0 or 1", 0, NULL},
    [OPT_STOP_TIMEOUT] = {"HGC_STOP_TIMEOUT", OK_INT, 10, 0, 86400,
                          "seconds from 0 (wait forever) to 86400", 0, NULL},
    [OPT_TEST_STOP_DELAY] = {"HGC_TEST_STOP_DELAY", OK_INT, 0, 0, 1000000,
                             "microseconds from 0 to 1000000", 0, NULL},
    [OPT_TEST_MARKER_DELAY] = {"HGC_TEST_MARKER_DELAY", OK_INT, 0, 0, 1000000,
                               "microseconds from 0 to 1000000", 0, NULL},
    [OPT_TEST_STOP_NESTED] = {"HGC_TEST_STOP_NESTED", OK_BOOL, 0, 0, 1, "0 or 1", 0, NULL},
    [OPT_TEST_LOSE_SIGNAL] = {"HGC_TEST_LOSE_SIGNAL", OK_BOOL, 0, 0, 1, "0 or 1", 0, NULL},
    [OPT_CONCURRENT] = {"HGC_CONCURRENT", OK_BOOL, 0, 0, 1, "0 or 1", 0, NULL},
    [OPT_TEST_CONCURRENT_HOLD] = {"HGC_TEST_CONCURRENT_HOLD", OK_INT, 0, 0, 10000,
                                  "milliseconds from 0 to 10000", 0, NULL},
};

static bool parse_int(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_size(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return false;
    int shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    default: break;
    }
    if (*end || (shift && v > (LLONG_MAX >> shift)))
        return false;
    *out = v << shift;
    return true;
}

static bool valid_signal(long long v)
{
    if (v < 1 || v > SIGRTMAX)
        return false;
    switch (v) {
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS:
    case SIGILL: case SIGFPE: case SIGABRT: case SIGTRAP:
        return false;
    default:
        return true;
    }
}

static bool parse(option *o, const char *s, long long *v)
{
    switch (o->kind) {
    case OK_PERCENT_OR_OFF:
        if (strcmp(s, "off") == 0) {
            *v = -1;
            return true;
        }
        return parse_int(s, v) && *v >= o->min && *v <= o->max;
    case OK_INT:
    case OK_BOOL:
        return parse_int(s, v) && *v >= o->min && *v <= o->max;
    case OK_SIZE:
        return parse_size(s, v) && (*v == o->def || (*v >= o->min && *v <= o->max));
    case OK_SIGNAL:
        return parse_int(s, v) && valid_signal(*v);
    case OK_PATH:
        *v = 1;
        return *s != 0;
    }
    return false;
}

void options_init(void)
{
    for (int i = 0; i < OPT_COUNT; i++) {
        option *o = &options[i];
        o->value = o->def;
        const char *s = getenv(o->name);
        if (!s)
            continue;
        long long v;
        if (parse(o, s, &v)) {
            o->value = v;
            if (o->kind == OK_PATH)
                o->text = s; /* the environment outlives initialization */
        }
        else
            hgc__warn("%s=\"%s\" is not valid (expected %s); using the default", o->name, s,
                      o->expect);
    }
}

long long option_get(enum option_id id)
{
    return options[id].value;
}

const char *option_text(enum option_id id)
{
    return options[id].text;
}
