/*
 * strings.c -- text buffers and strings the way a renderer or an
 * interpreter makes them, built for one allocation back end (see gcapi.h).
 *
 *   strings_<backend> [DOCS]
 *
 *   DOCS  documents to process, default 20000
 *
 * Per document (a deterministic PRNG picks its words, so every back end
 * does the same work):
 *   1. text: 200 to 599 words from a small vocabulary, some wrapped in
 *      <b>...</b>, some followed by punctuation or a newline, appended one
 *      character at a time to a buffer that starts at 16 bytes and doubles
 *      with GC_REALLOC when full;
 *   2. tokens: the text is split at white space; each token is copied into
 *      a new string (a substring) and appended to a linked token list;
 *   3. strings: for each pair of neighbouring tokens a new string
 *      "left=right" is made (concatenation) and hashed; the first 24
 *      tokens are also joined by repeated s = s + " " + token, every step
 *      a new string (as immutable strings in an interpreter); a tag's inner
 *      word is cut out (substring);
 *   4. symbols: every token is looked up in a 1024-entry direct-mapped
 *      table of strings kept for the whole run; a miss replaces the entry
 *      with a strdup() of the token;
 *   5. the document's text and token list join a ring of the last 8
 *      documents; the one they displace is dropped.
 * The collectors drop whatever is no longer needed; the malloc back ends
 * free it (old buffers are handed to realloc in both cases).  Strings and
 * text are GC_ALLOC_ATOMIC, list nodes and tables GC_ALLOC.
 *
 * Checks: the generator hashes the tokens it emits; the token list must
 * give the same count and hash, and every derived string its expected
 * length.  A mismatch aborts.  The checksum over all documents does not
 * depend on the back end: the harness compares it across back ends.
 *
 * Output, one line:
 *   RESULT name=strings docs=.. text_mb=.. allocs=.. checksum=..
 *          time_s=.. peak_rss_kb=.. collections=.. max_pause_ms=.. backend=..
 * where allocs counts the allocations and reallocations made.
 */
#include "gcapi.h" /* first: Boehm's gc.h must redirect pthread_create */
#include "bench_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_DOCS 8
#define SYMBOLS 1024
#define JOIN_TOKENS 24

static const char *const VOCAB[] = {
    "the",      "quick",   "brown",    "fox",       "jumps",     "over",     "lazy",
    "dog",      "garbage", "collector", "marks",    "sweeps",    "heap",     "object",
    "pointer",  "root",    "stack",    "thread",    "pause",     "world",    "alloc",
    "free",     "span",    "page",     "size",      "class",     "bitmap",   "mutator",
    "barrier",  "epoch",   "cycle",    "render",    "layout",    "paragraph", "table",
    "cell",     "row",     "column",   "style",     "inline",    "block",    "margin",
    "padding",  "font",    "glyph",    "text",      "string",    "buffer",   "token",
    "parse",    "eval",    "closure",  "frame",     "scope",     "value",    "number",
    "a",        "of",      "to",       "in",        "is",        "it",       "and",
    "interpretation", "internationalization", "conservative", "incremental",
};
#define NVOCAB (sizeof VOCAB / sizeof VOCAB[0])

static long long allocs; /* allocations and reallocations */

static inline void *str_alloc(size_t n)
{
    allocs++;
    return GC_ALLOC_ATOMIC(n);
}

static inline void drop(void *p)
{
    if (!BENCH_GC_DROPS)
        GC_FREE(p);
}

static inline uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}

#define FNV_START 0xcbf29ce484222325ULL

/* ---------------------------------------------------- a growable buffer */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_init(sbuf *b)
{
    b->cap = 16;
    b->len = 0;
    b->p = str_alloc(b->cap);
}

static inline void sb_putc(sbuf *b, char c)
{
    if (b->len + 1 >= b->cap) { /* keep room for the final NUL */
        b->cap *= 2;
        b->p = GC_REALLOC(b->p, b->cap);
        allocs++;
    }
    b->p[b->len++] = c;
}

static void sb_puts(sbuf *b, const char *s)
{
    while (*s != '\0')
        sb_putc(b, *s++);
}

/* ------------------------------------------------------------- strings */

static char *str_sub(const char *s, size_t n)
{
    char *r = str_alloc(n + 1);
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

static char *str_concat3(const char *a, size_t na, const char *b, size_t nb, const char *c,
                         size_t nc)
{
    char *r = str_alloc(na + nb + nc + 1);
    memcpy(r, a, na);
    memcpy(r + na, b, nb);
    memcpy(r + na + nb, c, nc);
    r[na + nb + nc] = '\0';
    return r;
}

typedef struct tok {
    struct tok *next;
    char *s;
    size_t len;
} tok;

typedef struct doc {
    char *text; /* the whole buffer */
    tok *tokens;
} doc;

static void doc_free(doc *d)
{
    if (BENCH_GC_DROPS)
        return;
    for (tok *t = d->tokens, *next; t != NULL; t = next) {
        next = t->next;
        GC_FREE(t->s);
        GC_FREE(t);
    }
    GC_FREE(d->text);
    GC_FREE(d);
}

/* Steps 1 and 2: a document's text, its tokens, the generator's count and
 * hash of them. */
static doc *doc_make(bench_rng *r, long *ntok_out, uint64_t *hash_out, size_t *text_len)
{
    sbuf b;
    sb_init(&b);
    long nwords = 200 + (long)bench_rng_below(r, 400), ntok = 0;
    uint64_t h = FNV_START;
    for (long w = 0; w < nwords; w++) {
        const char *word = VOCAB[bench_rng_below(r, NVOCAB)];
        unsigned kind = (unsigned)bench_rng_below(r, 16);
        size_t start = b.len;
        if (kind == 0) {
            sb_puts(&b, "<b>");
            sb_puts(&b, word);
            sb_puts(&b, "</b>");
        } else {
            sb_puts(&b, word);
            if (kind == 1)
                sb_putc(&b, ',');
            else if (kind == 2)
                sb_putc(&b, '.');
        }
        h = fnv(h, b.p + start, b.len - start);
        h = fnv(h, "", 1); /* a NUL after every token */
        ntok++;
        sb_putc(&b, kind == 3 ? '\n' : ' ');
    }
    b.p[b.len] = '\0';

    doc *d = GC_ALLOC(sizeof *d);
    allocs++;
    d->text = b.p;
    tok **tail = &d->tokens;
    for (size_t i = 0; i < b.len;) {
        while (i < b.len && (b.p[i] == ' ' || b.p[i] == '\n'))
            i++;
        size_t j = i;
        while (j < b.len && b.p[j] != ' ' && b.p[j] != '\n')
            j++;
        if (j > i) {
            tok *t = GC_ALLOC(sizeof *t);
            allocs++;
            t->s = str_sub(b.p + i, j - i);
            t->len = j - i;
            *tail = t;
            tail = &t->next;
        }
        i = j;
    }
    *ntok_out = ntok;
    *hash_out = h;
    *text_len = b.len;
    return d;
}

/* Step 3: derived strings, dropped at once.  Returns their hash. */
static uint64_t derive(const doc *d)
{
    uint64_t h = FNV_START;
    for (const tok *t = d->tokens; t != NULL && t->next != NULL; t = t->next) {
        const tok *u = t->next;
        char *s = str_concat3(t->s, t->len, "=", 1, u->s, u->len);
        if (strlen(s) != t->len + 1 + u->len)
            bench_fatal("strings: concatenation of '%s' and '%s' is '%s'", t->s, u->s, s);
        h = fnv(h, s, t->len + 1 + u->len);
        drop(s);
        if (t->s[0] == '<') { /* "<b>word</b>": cut out the word */
            char *w = str_sub(t->s + 3, t->len - 7);
            h = fnv(h, w, t->len - 7);
            drop(w);
        }
    }

    char *line = str_sub("", 0);
    size_t len = 0;
    int n = 0;
    for (const tok *t = d->tokens; t != NULL && n < JOIN_TOKENS; t = t->next, n++) {
        char *next = str_concat3(line, len, " ", 1, t->s, t->len);
        drop(line);
        line = next;
        len += 1 + t->len;
    }
    if (strlen(line) != len)
        bench_fatal("strings: joined line has length %zu, expected %zu", strlen(line), len);
    h = fnv(h, line, len);
    drop(line);
    return h;
}

/* Step 4: the symbol table.  Returns the number of misses. */
static long intern_all(char **symbols, const doc *d)
{
    long misses = 0;
    for (const tok *t = d->tokens; t != NULL; t = t->next) {
        unsigned slot = (unsigned)(fnv(FNV_START, t->s, t->len) % SYMBOLS);
        if (symbols[slot] == NULL || strcmp(symbols[slot], t->s) != 0) {
            drop(symbols[slot]);
            symbols[slot] = str_sub(t->s, t->len); /* strdup */
            misses++;
        }
    }
    return misses;
}

typedef struct outcome {
    uint64_t checksum;
    double text_bytes;
} outcome;

static __attribute__((noinline)) void run(long ndocs, outcome *out)
{
    bench_rng rng = bench_rng_seed(42);
    char **symbols = GC_ALLOC(SYMBOLS * sizeof *symbols);
    doc **ring = GC_ALLOC(KEEP_DOCS * sizeof *ring);
    uint64_t sum = 0;
    double text_bytes = 0;

    for (long i = 0; i < ndocs; i++) {
        long want_n;
        uint64_t want_h;
        size_t text_len;
        doc *d = doc_make(&rng, &want_n, &want_h, &text_len);

        long n = 0;
        uint64_t h = FNV_START;
        for (const tok *t = d->tokens; t != NULL; t = t->next, n++) {
            if (strlen(t->s) != t->len)
                bench_fatal("strings: token '%s' should have length %zu", t->s, t->len);
            h = fnv(fnv(h, t->s, t->len), "", 1);
        }
        if (n != want_n || h != want_h)
            bench_fatal("strings: document %ld: %ld tokens hashing to %016llx, expected "
                        "%ld hashing to %016llx",
                        i, n, (unsigned long long)h, want_n, (unsigned long long)want_h);

        sum = sum * 31 + h;
        sum = sum * 31 + derive(d);
        sum = sum * 31 + (uint64_t)intern_all(symbols, d);
        text_bytes += (double)text_len;

        doc **slot = &ring[i % KEEP_DOCS];
        if (*slot != NULL)
            doc_free(*slot);
        *slot = d;
    }
    for (int k = 0; k < KEEP_DOCS; k++)
        if (ring[k] != NULL)
            doc_free(ring[k]);
    for (int k = 0; k < SYMBOLS; k++)
        drop(symbols[k]);
    drop(symbols);
    drop(ring);
    out->checksum = sum;
    out->text_bytes = text_bytes;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [DOCS]\n  DOCS default 20000\n", prog);
}

int main(int argc, char **argv)
{
    long ndocs = 20000;
    const bench_arg args[] = {{"document count", 1, 1L << 32, &ndocs}};
    bench_parse_positional(argc, argv, usage, args, 1);

    GC_INIT();
    double t0 = bench_now();
    outcome out;
    run(ndocs, &out);
    double elapsed = bench_now() - t0;

    printf("RESULT name=strings docs=%ld text_mb=%.1f allocs=%lld checksum=%016llx", ndocs,
           out.text_bytes / 1e6, allocs, (unsigned long long)out.checksum);
    bench_result_tail(elapsed);
    return 0;
}
