/*
 * fuzz_api.c -- libFuzzer harness: random call sequences on the public API.
 *
 * Each input is a program of byte-coded operations on a table of SLOTS
 * object slots (in .bss, so a root): allocate (small or large, scanned,
 * pointer-free, typed with word 0 a pointer, or uncollectable), free,
 * realloc, link one object under another (the child is then reachable only
 * through its parent), collect, verify, add and remove a root range,
 * disable and enable collection, run a short thread that allocates, frees
 * and exits, register a finalizer (any mode) or a weak link.  Every object
 * carries a pattern derived from its slot's key; every check compares it.
 * A finalizer checks that its object is intact and is not reachable from
 * the slots; a weak link to an object a slot still holds must still point
 * to it.  A mismatch (or any hgc fatal error) is a crash that libFuzzer
 * reports with the input.
 *
 * Built by tests/CMakeLists.txt in clang sanitizer builds; `make test` runs
 * it briefly, `make fuzz` for FUZZ_SECONDS.
 */
#include <hgc.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64

typedef struct slot {
    unsigned char *p;   /* the object, or NULL */
    size_t n;           /* bytes asked for */
    uint64_t key;       /* pattern key */
    int scanned;        /* word 0 holds a pointer (scanned or typed) */
    int uncollectable;  /* freed explicitly when the slot lets it go */
} slot;

static slot slots[SLOTS];
/* A child object linked under slot i's object (its first word) is reachable
 * only through it; its size and key are kept here to check it. */
static size_t child_n[SLOTS];
static uint64_t child_key[SLOTS];
/* A user root range: objects referenced only from here must survive. */
static void *root_area[8];
static size_t root_n[8];
static uint64_t root_key[8];
static int roots_added;
/* Weak links, in malloc memory (not scanned): weak[i] was registered for
 * weak_obj[i], the object slot i held then (NULL once the slot let it go:
 * the link may clear from then on). */
static void **weak;
static void *weak_obj[SLOTS];
static int weak_reg[SLOTS];
static hgc_layout word0_layout; /* typed objects: word 0 is a pointer */

static unsigned char pat(uint64_t key, size_t i)
{
    uint64_t x = (key + i) * 0x9E3779B97F4A7C15ull;
    return (unsigned char)(x >> 56);
}

/* The pattern starts after the first word, which may hold a child link. */
static void fill(unsigned char *p, size_t n, uint64_t key)
{
    for (size_t i = 8; i < n; i++)
        p[i] = pat(key, i);
}

static void check(const unsigned char *p, size_t n, uint64_t key, const char *what)
{
    if (hgc_base(p) != p || hgc_size(p) < n) {
        fprintf(stderr, "fuzz_api: %s %p is no longer an object of %zu bytes\n", what,
                (const void *)p, n);
        abort();
    }
    for (size_t i = 8; i < n; i++)
        if (p[i] != pat(key, i)) {
            fprintf(stderr, "fuzz_api: %s %p (%zu bytes): byte %zu damaged\n", what,
                    (const void *)p, n, i);
            abort();
        }
}

/* Is p the object of a slot, a child under one, or in the root area? */
static int reachable(const void *p)
{
    for (int k = 0; k < SLOTS; k++) {
        if (slots[k].p == p)
            return 1;
        if (slots[k].p && child_n[k]) {
            void *c;
            memcpy(&c, slots[k].p, sizeof c);
            if (c == p)
                return 1;
        }
    }
    for (int k = 0; k < 8; k++)
        if (root_area[k] == p)
            return 1;
    return 0;
}

/* data: {key, n} of the object, kept alive by the registration. */
static void finalizer_check(void *obj, void *data)
{
    const uint64_t *d = data;
    check(obj, (size_t)d[1], d[0], "finalized object");
    if (reachable(obj)) {
        fprintf(stderr, "fuzz_api: finalizer ran on %p, which a slot still reaches\n", obj);
        abort();
    }
}

/* Slot i lets its object go: an uncollectable one is freed (with its weak
 * link, whose word would be written after the memory is reused), a weak
 * link to it may clear from now on. */
static void release_slot(int i, int freeing)
{
    slot *s = &slots[i];
    if (s->p && weak_reg[i] && (freeing || s->uncollectable)) {
        hgc_weak_unregister(&weak[i]);
        weak_reg[i] = 0;
    }
    weak_obj[i] = NULL;
    if (s->p && s->uncollectable && !freeing) {
        hgc_free(s->p);
        s->p = NULL;
    }
    s->uncollectable = 0;
}

static void check_weak(void)
{
    for (int i = 0; i < SLOTS; i++)
        if (weak_reg[i] && weak_obj[i] && slots[i].p == weak_obj[i] && weak[i] != weak_obj[i]) {
            fprintf(stderr, "fuzz_api: weak link %d to %p, still held, reads %p\n", i,
                    weak_obj[i], weak[i]);
            abort();
        }
}

typedef struct reader {
    const uint8_t *d;
    size_t n, i;
} reader;

static unsigned next(reader *r)
{
    return r->i < r->n ? r->d[r->i++] : 0;
}

static size_t next_size(reader *r)
{
    unsigned a = next(r), b = next(r);
    size_t n = 16 + ((size_t)a << 8 | b) % 4096;
    if ((a & 0xf0) == 0xf0) /* now and then a large object */
        n = 40000 + (size_t)b * 1000;
    return n;
}

static void *thread_body(void *arg)
{
    uint64_t key = (uint64_t)(uintptr_t)arg;
    unsigned char *keep[8];
    for (int i = 0; i < 8; i++) {
        size_t n = 16 + (size_t)((key + (uint64_t)i) % 500);
        keep[i] = (unsigned char *)hgc_malloc(n);
        if (!keep[i])
            abort();
        fill(keep[i], n, key + (uint64_t)i);
    }
    for (int i = 0; i < 8; i++) {
        size_t n = 16 + (size_t)((key + (uint64_t)i) % 500);
        check(keep[i], n, key + (uint64_t)i, "thread object");
        if (i & 1)
            hgc_free(keep[i]);
    }
    return NULL; /* exits without unregistering */
}

static void drop_all(void)
{
    for (int i = 0; i < SLOTS; i++) {
        release_slot(i, 0);
        if (weak_reg[i])
            hgc_weak_unregister(&weak[i]);
        weak_reg[i] = 0;
        slots[i].p = NULL;
        child_n[i] = 0;
    }
    if (roots_added) {
        hgc_remove_roots(root_area, root_area + 8);
        roots_added = 0;
    }
    memset(root_area, 0, sizeof root_area);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    int disabled = 0;
    uint64_t serial = 1;
    if (!weak) {
        weak = calloc(SLOTS, sizeof *weak);
        uint64_t bit0 = 1;
        word0_layout = hgc_make_layout(&bit0, 1);
        if (!weak)
            abort();
    }
    while (r.i < r.n) {
        unsigned op = next(&r) % 16, i = next(&r) % SLOTS, j = next(&r) % SLOTS;
        slot *s = &slots[i];
        switch (op) {
        case 0: /* allocate into slot i (the old object becomes garbage) */
        case 1:
        case 12: /* typed: word 0 a pointer, the rest not */
        case 13: { /* uncollectable, scanned */
            size_t n = next_size(&r);
            release_slot((int)i, 0);
            s->scanned = op != 1;
            s->uncollectable = op == 13;
            s->p = (unsigned char *)(op == 0    ? hgc_malloc(n)
                                     : op == 1  ? hgc_malloc_atomic(n)
                                     : op == 12 ? hgc_malloc_typed(n, word0_layout)
                                                : hgc_malloc_uncollectable(n));
            if (!s->p)
                abort();
            for (size_t k = 0; k < n; k++)
                if (s->p[k])
                    abort(); /* not zeroed */
            s->n = n;
            s->key = serial++ * 1000003u + i;
            fill(s->p, n, s->key);
            child_n[i] = 0;
            break;
        }
        case 2: /* free */
            if (s->p) {
                check(s->p, s->n, s->key, "object");
                release_slot((int)i, 1);
                hgc_free(s->p);
                s->p = NULL;
                child_n[i] = 0;
            }
            break;
        case 3: /* realloc, keeping the prefix */
            if (s->p) {
                size_t n = next_size(&r), keep = n < s->n ? n : s->n;
                check(s->p, s->n, s->key, "object");
                if (weak_reg[i]) { /* realloc may free the old object */
                    hgc_weak_unregister(&weak[i]);
                    weak_reg[i] = 0;
                }
                weak_obj[i] = NULL;
                unsigned char *q = (unsigned char *)hgc_realloc(s->p, n);
                if (!q)
                    abort();
                check(q, keep, s->key, "reallocated object");
                s->p = q;
                s->n = n;
                fill(q, n, s->key);
                if (keep < 8)
                    child_n[i] = 0; /* the link word was not kept */
            }
            break;
        case 4: /* link slot j's object under slot i's (scanned, >= 8 bytes) */
            if (s->p && s->scanned && slots[j].p && i != j && !child_n[i] &&
                !child_n[j] && !slots[j].uncollectable) {
                memcpy(s->p, &slots[j].p, sizeof(void *));
                weak_obj[j] = NULL;
                child_n[i] = slots[j].n;
                child_key[i] = slots[j].key;
                slots[j].p = NULL; /* now reachable only through slot i */
            }
            break;
        case 5:
            hgc_collect();
            break;
        case 6: /* check slot i and its child, and the weak links */
            check_weak();
            if (s->p) {
                check(s->p, s->n, s->key, "object");
                if (child_n[i]) {
                    unsigned char *c;
                    memcpy(&c, s->p, sizeof c);
                    check(c, child_n[i], child_key[i], "child object");
                }
            }
            break;
        case 7: /* an object held only by a user root range */
            if (!roots_added) {
                hgc_add_roots(root_area, root_area + 8);
                roots_added = 1;
            }
            root_n[i % 8] = next_size(&r);
            root_key[i % 8] = serial++ * 7919u;
            root_area[i % 8] = hgc_malloc(root_n[i % 8]);
            if (!root_area[i % 8])
                abort();
            fill((unsigned char *)root_area[i % 8], root_n[i % 8], root_key[i % 8]);
            break;
        case 8:
            for (int k = 0; k < 8; k++)
                if (root_area[k])
                    check((unsigned char *)root_area[k], root_n[k], root_key[k], "rooted object");
            break;
        case 9:
            if (disabled)
                hgc_enable();
            else
                hgc_disable();
            disabled = !disabled;
            break;
        case 10: {
            pthread_t t;
            if (pthread_create(&t, NULL, thread_body, (void *)(uintptr_t)(serial++)) != 0)
                abort();
            pthread_join(t, NULL);
            break;
        }
        case 14: /* a finalizer on slot i's object, mode j % 3 */
            if (s->p) {
                uint64_t *d = (uint64_t *)hgc_malloc_atomic(2 * sizeof *d);
                if (!d)
                    abort();
                d[0] = s->key;
                d[1] = s->n;
                if (hgc_register_finalizer(s->p, finalizer_check, d, (int)(j % 3), NULL, NULL) !=
                    HGC_OK)
                    abort();
            }
            break;
        case 15: /* a weak link to slot i's object */
            if (s->p) {
                if (weak_reg[i])
                    hgc_weak_unregister(&weak[i]);
                weak[i] = s->p;
                if (hgc_weak_register(&weak[i], s->p) != HGC_OK)
                    abort();
                weak_reg[i] = 1;
                weak_obj[i] = s->p;
            }
            break;
        default:
            hgc_verify();
            break;
        }
    }
    if (disabled)
        hgc_enable();
    /* Everything still held must check out after a final collection. */
    hgc_collect();
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p) {
            check(slots[i].p, slots[i].n, slots[i].key, "object");
            if (child_n[i]) {
                unsigned char *c;
                memcpy(&c, slots[i].p, sizeof c);
                check(c, child_n[i], child_key[i], "child object");
            }
        }
    for (int k = 0; k < 8; k++)
        if (root_area[k])
            check((unsigned char *)root_area[k], root_n[k], root_key[k], "rooted object");
    check_weak();
    drop_all();
    return 0;
}
