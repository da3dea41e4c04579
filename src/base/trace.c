/*
 * trace.c -- HGC_TRACE=file.json: the collector's events in Chrome Trace
 * Event format (a JSON array; Perfetto and chrome://tracing open it).
 *
 * Per collection, written once the world runs again:
 *   "collection"      the whole cycle (complete event, ph "X"), with the
 *                     reason, live and heap bytes, and the bytes the mark
 *                     stacks hold;
 *   "stop the world"  the pause, from the stop request to the restart;
 *   "finish sweep", "stop", "mark", "verify" (when on), "prepare sweep":
 *                     its phases, nested under the cycle;
 *   "heap"            a counter event (ph "C") with heap and live bytes.
 * One event per line.  Everything is written by the collecting thread
 * under the world lock, so events never interleave.  The closing bracket
 * is written at exit; a trace cut short (a crash) still opens in the
 * viewers, which accept an unterminated array.  A forked child stops
 * tracing (the file is the parent's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/options.h"
#include "os/os.h"
#include "base/trace.h"
#include "base/util.h"

static int trace_fd = -1;
static uint64_t origin_ns;
static int pid;

static void put(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = write(trace_fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return; /* a full disk loses trace lines, nothing else */
        buf += k;
        n -= (size_t)k;
    }
}

static void finish(void)
{
    if (trace_fd < 0)
        return;
    put("{}]\n", 4); /* an empty object absorbs the last comma */
    close(trace_fd);
    trace_fd = -1;
}

void trace_init(void)
{
    const char *path = option_text(OPT_TRACE);
    if (!path)
        return;
    trace_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (trace_fd < 0) {
        hgc__warn("HGC_TRACE=\"%s\": cannot open it (%s); no trace", path, strerror(errno));
        return;
    }
    trace_fd = os_fd_out_of_the_way(trace_fd);
    origin_ns = os_now_ns();
    pid = (int)getpid();
    char buf[256];
    int n = snprintf(buf, sizeof buf,
                     "[\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,"
                     "\"args\":{\"name\":\"hgc\"}},\n",
                     pid);
    put(buf, (size_t)n);
    atexit(finish);
}

bool trace_on(void)
{
    return trace_fd >= 0;
}

void trace_after_fork_child(void)
{
    if (trace_fd >= 0)
        close(trace_fd);
    trace_fd = -1;
}

static double us(uint64_t t)
{
    return (double)(t - origin_ns) / 1000.0;
}

/* Append one complete event for [t0, t1) to buf at *len. */
static void complete(char *buf, size_t cap, size_t *len, const char *name, const char *cat,
                     uint64_t t0, uint64_t t1, int tid, const char *args)
{
    if (*len >= cap)
        return;
    int n = snprintf(buf + *len, cap - *len,
                     "{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,"
                     "\"pid\":%d,\"tid\":%d%s%s},\n",
                     name, cat, us(t0), (double)(t1 - t0) / 1000.0, pid, tid,
                     args ? ",\"args\":" : "", args ? args : "");
    if (n > 0)
        *len += (size_t)n;
}

void trace_cycle(const trace_times *t, const char *reason, bool major, size_t live_bytes,
                 size_t heap_bytes, size_t mark_stack_bytes)
{
    if (trace_fd < 0)
        return;
    char buf[4096], args[200];
    size_t len = 0;
    int tid = (int)gettid();
    snprintf(args, sizeof args,
             "{\"reason\":\"%s\",\"kind\":\"%s\",\"live_bytes\":%zu,\"heap_bytes\":%zu,"
             "\"mark_stack_bytes\":%zu}",
             reason, major ? "major" : "minor", live_bytes, heap_bytes, mark_stack_bytes);
    complete(buf, sizeof buf, &len, "collection", "gc", t->start, t->end, tid, args);
    complete(buf, sizeof buf, &len, "finish sweep", "gc", t->start, t->swept, tid, NULL);
    if (t->first_stop) {
        complete(buf, sizeof buf, &len, "stop the world (mark start)", "pause", t->first_stop,
                 t->first_restarted, tid, NULL);
        complete(buf, sizeof buf, &len, "concurrent mark", "gc", t->first_restarted, t->drained,
                 tid, NULL);
    }
    complete(buf, sizeof buf, &len, "stop the world", "pause", t->stop, t->restarted, tid, NULL);
    complete(buf, sizeof buf, &len, "stop", "gc", t->stop, t->stopped, tid, NULL);
    complete(buf, sizeof buf, &len, "mark", "gc", t->stopped, t->marked, tid, NULL);
    if (t->verified > t->marked)
        complete(buf, sizeof buf, &len, "verify", "gc", t->marked, t->verified, tid, NULL);
    complete(buf, sizeof buf, &len, "prepare sweep", "gc",
             t->verified > t->marked ? t->verified : t->marked, t->restarted, tid, NULL);
    if (len < sizeof buf) {
        int n = snprintf(buf + len, sizeof buf - len,
                         "{\"name\":\"heap\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":%d,\"tid\":%d,"
                         "\"args\":{\"heap_bytes\":%zu,\"live_bytes\":%zu}},\n",
                         us(t->end), pid, tid, heap_bytes, live_bytes);
        if (n > 0)
            len += (size_t)n;
    }
    put(buf, len < sizeof buf ? len : sizeof buf - 1);
}
