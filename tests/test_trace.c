/*
 * test_trace: HGC_TRACE=file writes the collector's events in Chrome Trace
 * Event format.
 *   work  (child, HGC_TRACE set): 5 hgc_collect(), 1 hgc_verify() and some
 *         allocation; the file must be one valid JSON array (checked by a
 *         small parser here) holding, per collection, a "collection"
 *         complete event (ph X, ts, dur, reason, live and heap bytes, the
 *         mark stacks' size) in time order, a "stop the world" pause,
 *         "stop" and "mark" phases, a "heap" counter with both sizes, and
 *         one "verify" phase;
 *   bad   HGC_TRACE=/nonexistent/dir/trace.json: one warning, exit 0.
 */
#include "test.h"

/* --- a JSON syntax checker ------------------------------------------ */
typedef struct jp {
    const char *p, *end;
} jp;

static void ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static int value(jp *j, int depth);

static int string(jp *j)
{
    if (j->p >= j->end || *j->p != '"')
        return 0;
    for (j->p++; j->p < j->end; j->p++) {
        if (*j->p == '"') {
            j->p++;
            return 1;
        }
        if (*j->p == '\\')
            j->p++;
        else if ((unsigned char)*j->p < 0x20)
            return 0;
    }
    return 0;
}

static int number(jp *j)
{
    const char *s = j->p;
    char *e;
    (void)strtod(s, &e);
    if (e == s || e > j->end)
        return 0;
    j->p = e;
    return 1;
}

static int literal(jp *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return 0;
    j->p += n;
    return 1;
}

static int members(jp *j, int depth, char close, int object)
{
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 1;
    }
    for (;;) {
        ws(j);
        if (object) {
            if (!string(j))
                return 0;
            ws(j);
            if (j->p >= j->end || *j->p++ != ':')
                return 0;
        }
        if (!value(j, depth + 1))
            return 0;
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return 1;
        }
        return 0;
    }
}

static int value(jp *j, int depth)
{
    ws(j);
    if (depth > 64 || j->p >= j->end)
        return 0;
    switch (*j->p) {
    case '{': return members(j, depth, '}', 1);
    case '[': return members(j, depth, ']', 0);
    case '"': return string(j);
    case 't': return literal(j, "true");
    case 'f': return literal(j, "false");
    case 'n': return literal(j, "null");
    default: return number(j);
    }
}

static int json_valid(const char *s, size_t n)
{
    jp j = {s, s + n};
    if (!value(&j, 0))
        return 0;
    ws(&j);
    return j.p == j.end;
}

/* --- the cases ------------------------------------------------------- */
static int case_work(void)
{
    hgc_init();
    for (int i = 0; i < 5; i++) {
        test_churn(2 * MiB);
        hgc_collect();
    }
    hgc_verify();
    return 0;
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    CHECKF(f != NULL, "cannot open %s", path);
    buf = (char *)malloc(1 << 22);
    CHECK(buf != NULL);
    *n = fread(buf, 1, (1 << 22) - 1, f);
    buf[*n] = 0;
    fclose(f);
    return buf;
}

static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (memmem(l, len, needle, strlen(needle)))
            n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    char path[256], env_trace[300];
    const char *env[] = {env_trace, NULL};
    test_child c;
    size_t n;
    char *text;
    int colls;

    if (argc > 1)
        return case_work();

    snprintf(path, sizeof path, "/tmp/hgc-test-trace-%d.json", (int)getpid());
    snprintf(env_trace, sizeof env_trace, "HGC_TRACE=%s", path);
    test_run_case("work", env, &c);
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
        test_print_child("work", &c);
        return 1;
    }
    test_child_free(&c);
    text = read_file(path, &n);
    unlink(path);
    CHECKF(json_valid(text, n), "the trace is not valid JSON:\n%.2000s", text);
    CHECK(text[0] == '[');

    colls = count_lines(text, "\"name\":\"collection\"");
    printf("trace: %zu bytes, %d collections\n", n, colls);
    CHECKF(colls >= 6, "%d collection events, expected at least 6", colls);
    CHECK(count_lines(text, "\"name\":\"stop the world\",\"cat\":\"pause\",\"ph\":\"X\"") == colls);
    CHECK(count_lines(text, "\"name\":\"stop\",\"cat\":\"gc\",\"ph\":\"X\"") == colls);
    CHECK(count_lines(text, "\"name\":\"mark\",\"cat\":\"gc\",\"ph\":\"X\"") == colls);
    CHECK(count_lines(text, "\"name\":\"verify\"") == 1);
    CHECK(count_lines(text, "\"reason\":\"verify\"") == 1);
    CHECK(count_lines(text, "\"reason\":\"explicit\"") == 5);
    CHECK(count_lines(text, "\"name\":\"heap\",\"ph\":\"C\"") == colls);
    CHECK(count_lines(text, "\"args\":{\"heap_bytes\":") == colls);

    /* Collections in time order, each with a duration and sizes. */
    double last_ts = -1;
    for (const char *l = strstr(text, "\"name\":\"collection\""); l;
         l = strstr(l + 1, "\"name\":\"collection\"")) {
        double ts, dur;
        size_t live, heap, stack;
        const char *t = strstr(l, "\"ts\":"), *a = strstr(l, "\"live_bytes\":");
        CHECK(t && sscanf(t, "\"ts\":%lf,\"dur\":%lf", &ts, &dur) == 2);
        CHECK(a && sscanf(a, "\"live_bytes\":%zu,\"heap_bytes\":%zu,\"mark_stack_bytes\":%zu",
                          &live, &heap, &stack) == 3);
        CHECK(ts >= last_ts && dur >= 0 && heap > 0 && stack > 0);
        last_ts = ts;
    }
    free(text);

    {
        static const char *const bad[] = {"HGC_TRACE=/nonexistent-hgc-dir/trace.json", NULL};
        test_run_case("work", bad, &c);
        CHECKF(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0 &&
                   test_has_line_prefix(c.err, "hgc: warning: HGC_TRACE=\"/nonexistent-hgc-dir/"),
               "bad path: expected a warning and exit 0, got:\n%s", c.err);
        test_child_free(&c);
    }
    printf("test_trace: ok\n");
    return 0;
}
