/* meta.c -- bump allocator for collector metadata, outside the collected heap.
 *
 * Metadata is never freed to the system: users recycle their own objects
 * (span descriptors, thread records) through free lists, which also keeps
 * those objects type-stable for lock-free readers. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hgc.h"
#include "os/os.h"
#include "base/util.h"

#define META_CHUNK ((size_t)4 << 20)

static pthread_mutex_t meta_lock = PTHREAD_MUTEX_INITIALIZER;
static char *meta_cur, *meta_end;

void *meta_alloc(size_t size)
{
    size = (size + 63) & ~(size_t)63;
    if (size >= META_CHUNK / 4) {
        void *p = os_reserve(size, 4096);
        if (!p)
            hgc__fatal("out of memory for collector metadata (%zu bytes)", size);
        return p;
    }
    pthread_mutex_lock(&meta_lock);
    if ((size_t)(meta_end - meta_cur) < size) {
        char *c = os_reserve(META_CHUNK, 4096);
        if (!c) {
            pthread_mutex_unlock(&meta_lock);
            hgc__fatal("out of memory for collector metadata (%zu bytes)", size);
        }
        meta_cur = c;
        meta_end = c + META_CHUNK;
    }
    void *p = meta_cur;
    meta_cur += size;
    pthread_mutex_unlock(&meta_lock);
    return p;
}

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
