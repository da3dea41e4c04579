/* error.c -- fatal errors, warnings and broken invariants: one line on
 * stderr each, built without allocating. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "hgc.h"
#include "base/check.h"
#include "base/util.h"
#include "os/os.h"

static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s", prefix);
    if (n < 0)
        n = 0;
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof buf - 2)
        len = sizeof buf - 2;
    buf[len++] = '\n';
    os_write_stderr(buf, len);
}

void hgc__fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("hgc: ", fmt, ap);
    va_end(ap);
    abort();
}

/* hgc_set_warn_handler (api.c) */
_Atomic(hgc_warn_fn) hgc__warn_handler;

void hgc__warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hgc_warn_fn fn = atomic_load_explicit(&hgc__warn_handler, memory_order_acquire);
    if (fn) {
        char buf[512];
        vsnprintf(buf, sizeof buf, fmt, ap);
        fn(buf);
    } else {
        vmessage("hgc: warning: ", fmt, ap);
    }
    va_end(ap);
}

void hgc__invariant_broken(const char *file, int line, const char *cond, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* Sources are named from src/, as the layers are. */
    const char *src = file;
    for (const char *p = file; (p = __builtin_strstr(p, "src/")) != NULL; p += 4)
        src = p + 4;
    hgc__fatal("invariant broken at %s:%d: %s (%s)", src, line, what, cond);
}
