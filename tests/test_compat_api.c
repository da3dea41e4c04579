/*
 * test_compat_api: the Boehm GC interface (include/gc.h, gc_typed.h),
 * compiled against hgc's headers and linked with hgc's libgc.so.1.
 *   - allocation kinds, strdup/strndup, realloc, free, GC_base/GC_size,
 *     malloc_many, memalign;
 *   - GC_disable / GC_dont_gc written directly stop collections; GC_gc_no
 *     follows collections; heap statistics move the right way;
 *   - uncollectable objects survive, roots added and cleared, roots pushed
 *     from a GC_set_push_other_roots callback;
 *   - finalizers through GC_finalize_on_demand (the variable) and the
 *     notifier, replacing with ofn/ocd; disappearing links, general and
 *     on the holder, long links, move and unregister codes;
 *   - typed allocation: only described words keep objects alive;
 *   - kinds: a mark procedure's GC_MARK_AND_PUSH keeps objects alive, a
 *     length-0 descriptor makes a pointer-free kind, GC_generic_malloc_many
 *     lists;
 *   - the warning procedure and GC_oom_fn on a heap limit;
 *   - pacing as Boehm's free-space divisor sets it, unless HGC_GOGC is set;
 *   - collection events, and threads through the GC_THREADS redirects
 *     (an argument reachable only through pthread_create survives, and so
 *     does a return value or pthread_exit's value between the thread's exit
 *     and the join; unjoined threads keep nothing);
 *   - an unsupported call (GC_init_gcj_malloc) aborts with a message naming it, so
 *     does GC_register_disappearing_link of a link outside the heap;
 *   - GC_enable_incremental turns on concurrent marking, which keeps a list
 *     whole across automatic collections.
 */
#define _GNU_SOURCE
#define GC_THREADS
#include "gc.h"
#include "gc_mark.h"
#include "gc_typed.h"

#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#define MIN_DEAD(n) ((n) * 9 / 10)

static void test_alloc(void)
{
    char *p = GC_MALLOC(100), *a = GC_MALLOC_ATOMIC(100);
    CHECK(p && a && GC_base(p + 50) == p && GC_size(p) >= 100);
    CHECK(test_is_zero(p, 100) && test_is_zero(a, 100));
    char *s = GC_STRDUP("hello"), *t = GC_STRNDUP("hello world", 5);
    CHECK(s && t && strcmp(s, "hello") == 0 && strcmp(t, "hello") == 0);
    CHECK(GC_strdup(NULL) == NULL);
    memcpy(p, "abcdef", 7);
    p = GC_REALLOC(p, 5000);
    CHECK(p && strcmp(p, "abcdef") == 0 && GC_size(p) >= 5000);
    GC_FREE(p);
    GC_FREE(NULL);
    CHECK(GC_is_heap_ptr(a) && !GC_is_heap_ptr(&p));
    void *list = GC_malloc_many(32);
    int n = 0;
    for (void *q = list; q; q = GC_NEXT(q))
        n++;
    CHECK(n >= 1);
    void *m = NULL;
    CHECK(GC_posix_memalign(&m, 4096, 100) == 0 && ((uintptr_t)m & 4095) == 0);
    CHECK(GC_posix_memalign(&m, 3, 100) == EINVAL);
    CHECK(GC_generic_malloc(64, GC_I_PTRFREE) != NULL);
    CHECK(GC_get_version() == (8u << 16 | 2u << 8 | 2u));
}

static void test_control(void)
{
    GC_gcollect();
    GC_word before = GC_gc_no;
    CHECK(before >= 1 && GC_get_gc_no() == before);
    GC_disable();
    CHECK(GC_is_disabled());
    GC_gcollect();
    CHECK(GC_gc_no == before);
    GC_enable();
    GC_dont_gc = 1; /* as old programs do */
    GC_gcollect();
    CHECK(GC_gc_no == before);
    GC_dont_gc = 0;
    GC_gcollect();
    CHECK(GC_gc_no == before + 1);
    CHECK(GC_try_to_collect(NULL) == 1 && GC_gc_no == before + 2);
    size_t total = GC_get_total_bytes();
    test_churn(2 * MiB);
    CHECK(GC_get_total_bytes() >= total + 2 * MiB);
    CHECK(GC_get_heap_size() > 0);
    GC_word heap, freeb, unmapped, since, tot;
    GC_get_heap_usage_safe(&heap, &freeb, &unmapped, &since, &tot);
    CHECK(heap == GC_get_heap_size() && tot >= total);
    struct GC_prof_stats_s ps[2];
    CHECK(GC_get_prof_stats(ps, sizeof ps) == sizeof ps[0]);
    CHECK(ps[0].gc_no == GC_gc_no && ps[1].gc_no == (GC_word)-1);
    CHECK(GC_expand_hp(MiB) == 1);
}

/* Uncollectable objects and roots. */
static uintptr_t hidden_unc;
static void *root_slot[4];

static TEST_NOINLINE void make_unc(void)
{
    uint64_t *u = GC_MALLOC_UNCOLLECTABLE(64);
    CHECK(u != NULL);
    u[0] = 0x1234;
    hidden_unc = test_hide(u);
    root_slot[0] = GC_MALLOC_ATOMIC(32);
    memset(root_slot[0], 7, 32);
}

static void test_roots_and_unc(void)
{
    GC_add_roots(root_slot, root_slot + 4);
    make_unc();
    test_collect_n(2);
    test_churn(2 * MiB);
    CHECK(((uint64_t *)test_unhide(hidden_unc))[0] == 0x1234);
    CHECK(((unsigned char *)root_slot[0])[31] == 7);
    GC_remove_roots(root_slot, root_slot + 4);
    GC_add_roots(root_slot, root_slot + 4);
    GC_clear_roots();
    GC_FREE(test_unhide(hidden_unc));
}

/* Other roots: objects referenced only from malloc memory (unscanned)
 * survive while a GC_set_push_other_roots callback pushes that memory. */
static void **other; /* malloc memory */
static void push_other(void) { GC_push_all(other, other + 8); }

static TEST_NOINLINE void make_other(void **wl)
{
    for (int i = 0; i < 8; i++) {
        other[i] = GC_MALLOC_ATOMIC(24);
        memset(other[i], 0x3c, 24);
        wl[i] = other[i];
        CHECK(GC_general_register_disappearing_link(&wl[i], other[i]) == GC_SUCCESS);
    }
}

/* Objects held only by malloc memory live while procedure `fn` keeps them
 * (pushing that memory, or marking them) and die once `after` replaces it;
 * what fn did is `how`, for the message. */
static void check_held_by(GC_push_other_roots_proc fn, GC_push_other_roots_proc after,
                          const char *how)
{
    other = calloc(8, sizeof *other);
    void **wl = calloc(8, sizeof *wl);
    CHECK(other && wl);
    GC_set_push_other_roots(fn);
    CHECK(GC_get_push_other_roots() == fn);
    make_other(wl);
    test_collect_n(2);
    test_churn(2 * MiB);
    for (int i = 0; i < 8; i++)
        CHECK(wl[i] == other[i] && ((unsigned char *)other[i])[23] == 0x3c);
    GC_set_push_other_roots(after);
    test_collect_n(2);
    int dead = 0;
    for (int i = 0; i < 8; i++)
        dead += wl[i] == NULL;
    CHECKF(dead >= 6, "only %d of 8 objects died once nothing %s them", dead, how);
    for (int i = 0; i < 8; i++)
        GC_unregister_disappearing_link(&wl[i]);
    free(wl);
    free(other);
}

static void test_other_roots(void)
{
    CHECK(GC_least_plausible_heap_addr != NULL &&
          GC_greatest_plausible_heap_addr > GC_least_plausible_heap_addr);
    check_held_by(push_other, NULL, "pushed");
}

/* Mark bits: objects referenced only from malloc memory survive while a
 * push-other-roots procedure marks them with GC_set_mark_bit (as ECL keeps
 * its stacks' blocks), and GC_is_marked says so there; they die once it
 * stops. */
static int marked_seen;
static void mark_other(void)
{
    for (int i = 0; i < 8; i++) {
        GC_set_mark_bit(other[i]);
        marked_seen += GC_is_marked(other[i]) != 0;
    }
    GC_clear_mark_bit(other[0]); /* accepted: it stays marked */
}

static void test_mark_bits(void)
{
    GC_push_other_roots_proc previous = GC_get_push_other_roots();
    check_held_by(mark_other, previous, "marked");
    CHECK(marked_seen >= 16);
}

/* Kinds with a mark procedure, Guile's way: GC_new_kind(GC_new_free_list(),
 * GC_MAKE_PROC(GC_new_proc(proc), env), 0, 1); objects from
 * GC_generic_malloc whose procedure marks, with GC_MARK_AND_PUSH, objects
 * held only in malloc memory (they survive, and die once it stops) and
 * gets its env back; a length-0 descriptor gives a pointer-free kind; and
 * GC_generic_malloc_many's lists of the predefined kinds, which the
 * program owns. */
#define PROC_ENV 5
static void **proc_held;      /* malloc memory */
static int proc_marks;        /* procedure calls that marked */
static int proc_bad;          /* calls with a wrong env or stack */
static struct GC_ms_entry *hold_proc(GC_word *addr, struct GC_ms_entry *msp,
                                     struct GC_ms_entry *lim, GC_word env)
{
    if (env != PROC_ENV || !msp || msp >= lim) {
        proc_bad++;
        return msp;
    }
    if (addr[0] != 0x686f6c64) /* "hold": set once initialized */
        return msp;
    for (int i = 0; i < 8; i++)
        msp = GC_MARK_AND_PUSH(proc_held[i], msp, lim, NULL);
    proc_marks++;
    return msp;
}

static TEST_NOINLINE void make_held(void **wl)
{
    for (int i = 0; i < 8; i++) {
        proc_held[i] = GC_MALLOC_ATOMIC(24);
        CHECK(proc_held[i] != NULL);
        ((unsigned char *)proc_held[i])[23] = 0x5a;
        wl[i] = proc_held[i];
        GC_GENERAL_REGISTER_DISAPPEARING_LINK(&wl[i], proc_held[i]);
    }
}

static GC_word *volatile holder;

/* Pushes an entry itself, as Boehm's own procedures may and hgc's must not. */
static struct GC_ms_entry *self_push(GC_word *addr, struct GC_ms_entry *msp,
                                     struct GC_ms_entry *lim, GC_word env)
{
    (void)addr, (void)lim, (void)env;
    return msp + 1;
}

static TEST_NOINLINE void fill_unscanned(void **a, void **wl)
{
    for (int i = 0; i < 8; i++) {
        a[i] = GC_MALLOC(32);
        CHECK(a[i] != NULL);
        wl[i] = a[i];
        GC_GENERAL_REGISTER_DISAPPEARING_LINK(&wl[i], a[i]);
    }
}
static void test_kinds(void)
{
    unsigned proc = GC_new_proc(hold_proc);
    int kind = (int)GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(proc, PROC_ENV), 0, 1);
    int atomic_kind = (int)GC_new_kind(GC_new_free_list(), 0 | GC_DS_LENGTH, 0, 0);
    CHECK(kind > GC_I_NORMAL && atomic_kind > kind);
    proc_held = calloc(8, sizeof *proc_held);
    void **wl = calloc(8, sizeof *wl);
    CHECK(proc_held && wl);
    holder = GC_generic_malloc(4 * sizeof(GC_word), kind);
    CHECK(holder != NULL && holder[0] == 0 && holder[3] == 0);
    holder[0] = 0x686f6c64;
    make_held(wl);
    test_collect_n(2);
    test_churn(2 * MiB);
    for (int i = 0; i < 8; i++)
        CHECKF(wl[i] == proc_held[i] && ((unsigned char *)proc_held[i])[23] == 0x5a,
               "object %d, marked by a mark procedure, was freed", i);
    CHECK(proc_marks >= 2 && proc_bad == 0);
    holder[0] = 0; /* the procedure marks nothing now */
    test_collect_n(2);
    int dead = 0;
    for (int i = 0; i < 8; i++)
        dead += wl[i] == NULL;
    CHECKF(dead >= 6, "only %d of 8 objects died once the procedure stopped marking", dead);
    for (int i = 0; i < 8; i++)
        GC_unregister_disappearing_link(&wl[i]);
    free(wl);
    free(proc_held);

    /* A pointer-free kind: pointers stored in it keep nothing alive. */
    void **a = GC_generic_malloc(8 * sizeof(void *), atomic_kind);
    CHECK(a != NULL && GC_size(a) >= 8 * sizeof(void *));
    wl = calloc(8, sizeof *wl);
    CHECK(wl != NULL);
    fill_unscanned(a, wl);
    test_collect_n(2);
    dead = 0;
    for (int i = 0; i < 8; i++)
        dead += wl[i] == NULL;
    CHECKF(dead >= 6, "%d of 8 objects held only by a pointer-free kind's object survived",
           8 - dead);
    for (int i = 0; i < 8; i++)
        GC_unregister_disappearing_link(&wl[i]);
    free(wl);

    /* GC_generic_malloc_many: linked through word 0, rest zeroed (normal
     * kind), and the caller's from then on. */
    for (int k = GC_I_PTRFREE; k <= GC_I_NORMAL; k++) {
        void *list;
        GC_generic_malloc_many(48, k, &list);
        int n = 0;
        for (void **p = list; p; p = *p, n++) {
            CHECK(GC_base(p) == p && GC_size(p) >= 48);
            if (k == GC_I_NORMAL)
                CHECK(p[1] == NULL && p[5] == NULL);
        }
        CHECKF(n >= 16, "GC_generic_malloc_many(48, %d) gave %d objects", k, n);
    }
    void *list;
    GC_generic_malloc_many(16, kind, &list);
    CHECK(list != NULL && GC_base(list) == list);
}

/* Finalizers and disappearing links. */
#define N 100
static int finalized[N];
static int notified;
static void notifier(void) { notified++; }

static void fin(void *obj, void *cd)
{
    (void)obj;
    finalized[(uintptr_t)cd]++;
}

static void fin_other(void *obj, void *cd) { (void)obj, (void)cd; }

static void **links;      /* malloc memory: N general + N long */
static void **holders[N]; /* objects holding a link to themselves */

static TEST_NOINLINE void make_finalizable(void)
{
    for (uintptr_t i = 0; i < N; i++) {
        void **o = GC_MALLOC(4 * sizeof(void *));
        CHECK(o != NULL);
        GC_finalization_proc ofn;
        void *ocd;
        GC_REGISTER_FINALIZER(o, fin_other, NULL, &ofn, &ocd);
        CHECK(ofn == NULL);
        GC_REGISTER_FINALIZER(o, fin, (void *)i, &ofn, &ocd);
        CHECK(ofn == fin_other && ocd == NULL);
        links[i] = o;
        CHECK(GC_general_register_disappearing_link(&links[i], o) == GC_SUCCESS);
        CHECK(GC_general_register_disappearing_link(&links[i], o) == GC_DUPLICATE);
        links[N + i] = o;
        CHECK(GC_register_long_link(&links[N + i], o) == GC_SUCCESS);
        /* A link inside the object: cleared when the object dies. */
        o[1] = (void *)GC_HIDE_POINTER(o);
        CHECK(GC_register_disappearing_link(&o[1]) == GC_SUCCESS);
        holders[i] = o;
    }
}

static TEST_NOINLINE void drop_holders(void)
{
    for (int i = 0; i < N; i++)
        holders[i] = NULL;
}

static void test_finalization(void)
{
    links = calloc(2 * N, sizeof *links);
    CHECK(links != NULL);
    GC_finalize_on_demand = 1; /* the variable, as old programs set it */
    GC_set_finalizer_notifier(notifier);
    CHECK(GC_get_finalizer_notifier() == notifier);
    make_finalizable();
    drop_holders();
    test_collect_n(2);
    int cleared = 0;
    for (int i = 0; i < N; i++) {
        CHECK(finalized[i] == 0); /* on demand: not yet */
        if (links[i] == NULL) {
            cleared++;
            CHECK(links[N + i] != NULL); /* long links wait for the finalizer */
        }
    }
    CHECKF(cleared >= MIN_DEAD(N), "only %d of %d disappearing links cleared", cleared, N);
    CHECK(notified >= 1 && GC_should_invoke_finalizers());
    int ran = GC_invoke_finalizers();
    CHECK(ran >= cleared && !GC_should_invoke_finalizers());
    GC_finalize_on_demand = 0;
    test_collect_n(2);
    int gone = 0;
    for (int i = 0; i < N; i++)
        gone += finalized[i] == 1 && links[N + i] == NULL;
    CHECKF(gone >= MIN_DEAD(N), "only %d of %d long links cleared", gone, N);
    for (int i = 0; i < 2 * N; i++) {
        GC_unregister_disappearing_link(&links[i]);
        GC_unregister_long_link(&links[i]);
    }
    void *o = GC_MALLOC(16);
    links[0] = o;
    CHECK(GC_general_register_disappearing_link(&links[0], o) == GC_SUCCESS);
    CHECK(GC_move_disappearing_link(&links[0], &links[1]) == GC_SUCCESS);
    CHECK(GC_move_disappearing_link(&links[0], &links[1]) == GC_NOT_FOUND);
    CHECK(GC_unregister_disappearing_link(&links[1]) == 1);
    CHECK(GC_unregister_disappearing_link(&links[1]) == 0);
    free(links);
}

/* Typed: word 0 described, word 1 not; both hold a target. */
static TEST_NOINLINE void *make_typed(GC_descr d, void **wl)
{
    void **o = GC_MALLOC_EXPLICITLY_TYPED(2 * sizeof(void *), d);
    CHECK(o != NULL);
    for (int w = 0; w < 2; w++) {
        o[w] = GC_MALLOC_ATOMIC(16);
        wl[w] = o[w];
        CHECK(GC_general_register_disappearing_link(&wl[w], o[w]) == GC_SUCCESS);
    }
    return o;
}

static void test_typed(void)
{
    GC_word bm[GC_BITMAP_SIZE(void *[2])] = {0};
    GC_set_bit(bm, 0);
    CHECK(GC_get_bit(bm, 0) && !GC_get_bit(bm, 1));
    GC_descr d = GC_make_descriptor(bm, 2);
    enum { M = 50 };
    void **wl = calloc(2 * M, sizeof *wl);
    void *volatile *objs = calloc(M, sizeof *objs);
    CHECK(wl && objs);
    void *keep = GC_MALLOC(M * sizeof(void *)); /* holds the objects */
    for (int i = 0; i < M; i++)
        ((void **)keep)[i] = make_typed(d, wl + 2 * i);
    test_collect_n(2);
    int dead = 0;
    for (int i = 0; i < M; i++) {
        CHECK(wl[2 * i] != NULL);
        dead += wl[2 * i + 1] == NULL;
    }
    CHECKF(dead >= MIN_DEAD(M), "only %d of %d undescribed targets died", dead, M);
    for (int i = 0; i < 2 * M; i++)
        GC_unregister_disappearing_link(&wl[i]);
    void *arr = GC_CALLOC_EXPLICITLY_TYPED(100, 2 * sizeof(void *), d);
    CHECK(arr && GC_size(arr) >= 1600);
    free(wl);
    free((void *)objs);
    GC_FREE(keep);
}

/* Warnings and out of memory under a heap limit. */
static int warned, oom_called;
static void warn(char *msg, GC_word arg)
{
    (void)arg;
    if (strstr(msg, "GC Warning: ") == msg && strstr(msg, "out of memory"))
        warned++;
}
static void *oom(size_t n)
{
    (void)n;
    oom_called++;
    return NULL;
}

static void test_limits(void)
{
    GC_warn_proc old = GC_get_warn_proc();
    CHECK(old != NULL);
    GC_set_warn_proc(warn);
    CHECK(GC_get_warn_proc() == warn);
    GC_set_oom_fn(oom);
    CHECK(GC_get_oom_fn() == oom);
    GC_set_max_heap_size(GC_get_heap_size() + 8 * MiB);
    CHECK(GC_MALLOC(64 * MiB) == NULL);
    CHECK(warned == 1 && oom_called == 1);
    CHECK(GC_MALLOC(MiB) != NULL); /* below the limit: fine */
    GC_set_max_heap_size(4096);    /* below what is in use: no growth at all */
    CHECK(GC_MALLOC(64 * MiB) == NULL);
    CHECK(warned == 2 && oom_called == 2);
    GC_set_max_heap_size(0);
    CHECK(GC_MALLOC(64 * MiB) != NULL);
    GC_set_warn_proc(old);
    GC_oom_fn = NULL;
}

/* Pacing: the library paces as Boehm does for a heap of objects with
 * pointers, the heap growing between collections by (2 x live bytes +
 * roots) / GC_free_space_divisor, unless HGC_GOGC is set, and a heap that
 * grew keeps its size: collections come when it is full.  A child keeps
 * 8 MiB live, then allocates 64 MiB of garbage and reports the collections
 * that took (HGC_MIN_HEAP=1M keeps the floor out of the way); in the
 * "shrunk" case it first had 24 MiB live for one collection. */
#define PACE_OBJECTS 65536
static void **pace_live;
static TEST_NOINLINE void pace_fill(void)
{
    pace_live = GC_MALLOC(PACE_OBJECTS * sizeof(void *));
    CHECK(pace_live != NULL);
    for (int i = 0; i < PACE_OBJECTS; i++) {
        pace_live[i] = GC_MALLOC(112);
        CHECK(pace_live[i] != NULL);
    }
}

static void **pace_big;
static TEST_NOINLINE void pace_fill_big(void)
{
    pace_big = GC_MALLOC(2 * PACE_OBJECTS * sizeof(void *));
    CHECK(pace_big != NULL);
    for (int i = 0; i < 2 * PACE_OBJECTS; i++) {
        pace_big[i] = GC_MALLOC(112);
        CHECK(pace_big[i] != NULL);
    }
}

static int pace_child(const char *how)
{
    if (strcmp(how, "shrunk") == 0) { /* 16 MiB more live, for one collection */
        pace_fill_big();
        GC_gcollect();
        pace_big = NULL;
    }
    if (strcmp(how, "divisor1") == 0)
        GC_set_free_space_divisor(1);
    if (strcmp(how, "roots") == 0) { /* 16 MiB more of roots to scan */
        char *r = calloc(16, MiB);
        CHECK(r != NULL);
        GC_add_roots(r, r + 16 * MiB);
    }
    pace_fill();
    GC_gcollect();
    GC_word n0 = GC_get_gc_no();
    test_churn(64 * MiB);
    fprintf(stderr, "PACE %lu\n", (unsigned long)(GC_get_gc_no() - n0));
    CHECK(pace_live[PACE_OBJECTS - 1] != NULL);
    return 0;
}

static unsigned long pace_run(const char *how, const char *gogc)
{
    const char *env[] = {"HGC_MIN_HEAP=1M", gogc, NULL};
    char name[32];
    snprintf(name, sizeof name, "pace_%s", how);
    test_child c;
    test_run_case(name, env, &c);
    unsigned long n = 0;
    const char *line = strstr(c.err, "PACE ");
    CHECKF(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0 && line &&
               sscanf(line, "PACE %lu", &n) == 1,
           "%s: status %d, stderr: %s", name, c.status, c.err);
    test_child_free(&c);
    return n;
}

static void test_pacing(void)
{
    if (getenv("HGC_GC_STRESS")) {
        printf("test_compat_api: pacing not checked under HGC_GC_STRESS (it collects by count)\n");
        return;
    }
    if (test_slow()) {
        /* The budget counts the roots, and a sanitizer's runtime brings
         * tens of MiB of data segments: the 8 MiB live set no longer
         * decides it. */
        printf("test_compat_api: pacing not checked under a sanitizer (its data are roots)\n");
        return;
    }
    unsigned long boehm = pace_run("scanned", NULL), gogc = pace_run("scanned", "HGC_GOGC=100");
    unsigned long div1 = pace_run("divisor1", NULL), roots = pace_run("roots", NULL);
    unsigned long shrunk = pace_run("shrunk", NULL);
    printf("test_compat_api: collections per 64 MiB: Boehm pacing %lu (divisor 1 %lu, 16 MiB "
           "more roots %lu, after 24 MiB live %lu), GOGC=100 %lu\n", boehm, div1, roots, shrunk,
           gogc);
    /* Budgets for 8 MiB live: 2/3 of it, twice it, (16 + 16) / 3 MiB, and
     * all of it. */
    CHECKF(boehm * 4 >= gogc * 5, "Boehm pacing collected %lu times, GOGC=100 %lu", boehm, gogc);
    CHECKF(div1 * 5 <= boehm * 3, "divisor 1 collected %lu times, divisor 3 %lu", div1, boehm);
    CHECKF(roots * 4 <= boehm * 3, "with 16 MiB more roots %lu collections, without %lu", roots,
           boehm);
    /* A heap of 24 + 16 MiB holds 32 MiB of garbage beside 8 MiB live. */
    CHECKF(shrunk * 3 <= boehm, "after 24 MiB live %lu collections, without %lu", shrunk, boehm);
}

/* Events and thread redirects. */
static int events[16];
static void on_event(GC_EventType e)
{
    if ((unsigned)e < 16)
        events[e]++;
}

static void *thread_body(void *arg)
{
    uint64_t *p = arg;
    CHECK(GC_thread_is_registered());
    test_churn(4 * MiB); /* collections while arg lives only in here */
    GC_gcollect();
    for (int i = 0; i < 64; i++)
        CHECK(p[i] == (uint64_t)i * 3);
    struct GC_stack_base sb;
    CHECK(GC_get_stack_base(&sb) == GC_SUCCESS && (char *)sb.mem_base > (char *)&sb);
    return p;
}

static TEST_NOINLINE void start_threads(pthread_t *t, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t *arg = GC_MALLOC_ATOMIC(64 * sizeof *arg);
        for (int j = 0; j < 64; j++)
            arg[j] = (uint64_t)j * 3;
        CHECK(pthread_create(&t[i], NULL, thread_body, arg) == 0);
    }
}

static void *blocked(void *cd) { return cd; }

/* A thread's return value: between the thread's exit (which unregisters
 * it) and the join it lives only in pthread's memory, which is not
 * scanned.  Through GC_pthread_create it survives collections there. */
static void **result_link; /* malloc memory: not a root */
static _Atomic int result_made;

/* arg: whether to leave by pthread_exit (GC_pthread_exit) */
static void *make_result(void *arg)
{
    uint64_t *r = GC_MALLOC_ATOMIC(64 * sizeof *r);
    for (int i = 0; i < 64; i++)
        r[i] = (uint64_t)i * 7 + 1;
    *result_link = r;
    CHECK(GC_general_register_disappearing_link(result_link, r) == GC_SUCCESS);
    atomic_store(&result_made, 1);
    if (arg)
        pthread_exit(r);
    return r;
}

static TEST_NOINLINE void start_result_thread(pthread_t *t, bool by_exit, size_t threads_before)
{
    atomic_store(&result_made, 0);
    CHECK(pthread_create(t, NULL, make_result, by_exit ? &result_made : NULL) == 0);
    while (!atomic_load(&result_made) || test_stats().threads > threads_before)
        sched_yield(); /* until it has exited and unregistered */
}

static void check_thread_result(bool by_exit)
{
    result_link = calloc(1, sizeof *result_link);
    CHECK(result_link != NULL);
    pthread_t t;
    start_result_thread(&t, by_exit, test_stats().threads);
    test_clear_stack();
    for (int i = 0; i < 3; i++) {
        test_churn(MiB);
        GC_gcollect();
    }
    CHECKF(*result_link != NULL,
           "a finished thread's return value (%s) was collected before the join",
           by_exit ? "pthread_exit" : "returned");
    uint64_t *r = NULL;
    CHECK(pthread_join(t, (void **)&r) == 0 && r == *result_link);
    for (int i = 0; i < 64; i++)
        CHECK(r[i] == (uint64_t)i * 7 + 1);
    GC_unregister_disappearing_link(result_link);
    free(result_link);
}

static void *big_result(void *arg)
{
    (void)arg;
    return GC_MALLOC(4096);
}

/* Threads nobody joins -- detached when created, or after they ended --
 * keep nothing: 512 of them returning 4 KiB each would keep 2 MiB. */
static void check_detached_results(void)
{
    GC_gcollect();
    size_t live_before = test_stats().live_bytes;
    pthread_attr_t attr;
    CHECK(pthread_attr_init(&attr) == 0);
    CHECK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0);
    size_t threads_before = test_stats().threads;
    for (int round = 0; round < 16; round++) {
        pthread_t t[32];
        for (int i = 0; i < 32; i++)
            CHECK(pthread_create(&t[i], i % 2 ? &attr : NULL, big_result, NULL) == 0);
        while (test_stats().threads > threads_before)
            sched_yield(); /* every one has exited */
        for (int i = 0; i < 32; i += 2)
            CHECK(pthread_detach(t[i]) == 0);
    }
    pthread_attr_destroy(&attr);
    test_clear_stack();
    GC_gcollect();
    size_t live_after = test_stats().live_bytes;
    CHECKF(live_after < live_before + 512 * 1024,
           "live bytes grew from %zu to %zu over 512 unjoined threads", live_before, live_after);
}

static void test_thread_results(void)
{
    check_thread_result(false);
    check_thread_result(true);
    check_detached_results();
}

static void test_threads_and_events(void)
{
    GC_set_on_collection_event(on_event);
    CHECK(GC_get_on_collection_event() == on_event);
    GC_gcollect();
    CHECK(events[GC_EVENT_START] == 1 && events[GC_EVENT_END] == 1 &&
          events[GC_EVENT_PRE_STOP_WORLD] == 1 && events[GC_EVENT_POST_START_WORLD] == 1);
    GC_set_on_collection_event(NULL);
    pthread_t t[4];
    start_threads(t, 4);
    test_clear_stack();
    for (int i = 0; i < 4; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0 && r != NULL);
    }
    CHECK(GC_do_blocking(blocked, &notified) == &notified);
    CHECK(GC_register_my_thread(NULL) == GC_DUPLICATE);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, GC_get_suspend_signal());
    CHECK(pthread_sigmask(SIG_BLOCK, &set, &old) == 0);
    CHECK(pthread_sigmask(SIG_SETMASK, &old, &set) == 0);
    CHECK(!sigismember(&set, GC_get_suspend_signal())); /* never blocked */
}

/* A call of Boehm's interface that hgc does not support: a child that
 * must die naming it. */
void GC_init_gcj_malloc(void); /* gc_gcj.h's has arguments; none are read */

/* The child prints "TEST-ADDR p" (its own address of static_link) first;
 * %p in line stands for it. */
static void death_case(const char *name, const char *fmt)
{
    test_child c;
    char line[200];
    void *addr = NULL;
    test_run_case(name, NULL, &c);
    const char *a = strstr(c.err, "TEST-ADDR ");
    if (a)
        sscanf(a, "TEST-ADDR %p", &addr);
    snprintf(line, sizeof line, fmt, addr);
    CHECKF(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGABRT && test_has_line(c.err, line),
           "%s: expected an abort with the line '%s', got status %d and: %s", name, line,
           c.status, c.err);
    test_child_free(&c);
}

static char static_link[16] __attribute__((aligned(8)));

static void test_unsupported(void)
{
    death_case("gcj", "hgc: GC_init_gcj_malloc is not supported (Java-style objects, "
                      "gc_gcj.h; see docs/COMPAT.md)");
    death_case("bad_kind", "hgc: GC_generic_malloc(16, 40): kind 40 was not made by GC_new_kind");
    death_case("bad_proc", "hgc: GC_new_kind: descriptor 0xfe names mark procedure 63, which "
                           "GC_new_proc did not make");
    death_case("push_outside", "hgc: GC_mark_and_push(%p) called outside marking");
    death_case("many_kinds", "hgc: GC_new_kind: no more kinds (hgc makes at most 13)");
    death_case("self_push", "hgc: mark procedure %p pushed 1 entries on the mark stack "
                            "itself: hgc's procedures must push with GC_mark_and_push (see "
                            "docs/COMPAT.md)");
    death_case("unc_kind", "hgc: GC_generic_malloc_uncollectable(16, 4): uncollectable "
                           "objects of a kind with a mark procedure are not supported");
    death_case("link_outside", "hgc: GC_register_disappearing_link(%p): the link is not "
                               "inside an object of the heap");
}

/* GC_enable_incremental turns on hgc's mostly-concurrent marking where
 * the kernel reports written pages: automatic collections then mark
 * concurrently, and a list kept across them survives whole.  Last, so
 * that everything above runs with marking that stops the world. */
static void test_incremental(void)
{
    CHECK(!GC_is_incremental_mode());
    GC_enable_incremental();
    if (!GC_is_incremental_mode()) {
        printf("test_compat_api: incremental mode unavailable (no write tracking)\n");
        return;
    }
    void **list = NULL;
    for (int i = 0; i < 20000; i++) {
        void **n = GC_MALLOC(32);
        n[0] = list;
        n[1] = (void *)(uintptr_t)i;
        list = n;
    }
    hgc_concurrent_stats cs; /* hgc's own counters, which libgc.so.1 exports too */
    for (int round = 0; round < 40000; round++) {
        for (int i = 0; i < 256; i++) {
            void *volatile p = GC_MALLOC(64);
            (void)p;
        }
        hgc_get_concurrent_stats(&cs);
        if (cs.marks >= 1)
            break;
    }
    CHECKF(cs.marks >= 1, "no concurrent mark in incremental mode");
    int i = 19999;
    for (void **n = list; n; n = n[0], i--)
        CHECKF(n[1] == (void *)(uintptr_t)i, "node %d of the list is damaged", i);
    CHECK(i == -1);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "bad_kind") == 0)
        return GC_generic_malloc(16, 40) != NULL;
    if (argc > 1 && strcmp(argv[1], "bad_proc") == 0)
        return (int)GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(63, 0), 0, 1);
    if (argc > 1 && strcmp(argv[1], "push_outside") == 0) {
        fprintf(stderr, "TEST-ADDR %p\n", (void *)static_link);
        struct GC_ms_entry e[1];
        return GC_mark_and_push(static_link, e, e + 1, NULL) != e;
    }
    if (argc > 1 && strcmp(argv[1], "many_kinds") == 0) {
        unsigned p = GC_new_proc(self_push);
        for (int i = 0; i < 20; i++)
            GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(p, 0), 0, 1);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "self_push") == 0) {
        fprintf(stderr, "TEST-ADDR %p\n", (void *)(uintptr_t)self_push);
        int k = (int)GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(GC_new_proc(self_push), 0), 0, 1);
        holder = GC_generic_malloc(32, k);
        GC_gcollect();
        return holder == NULL;
    }
    if (argc > 1 && strcmp(argv[1], "unc_kind") == 0) {
        int k = (int)GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(GC_new_proc(self_push), 0), 0, 1);
        return GC_generic_malloc_uncollectable(16, k) != NULL;
    }
    if (argc > 1 && strncmp(argv[1], "pace_", 5) == 0) {
        GC_INIT();
        return pace_child(argv[1] + 5);
    }
    if (argc > 1 && strcmp(argv[1], "gcj") == 0) {
        GC_init_gcj_malloc();
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "link_outside") == 0) {
        fprintf(stderr, "TEST-ADDR %p\n", (void *)static_link);
        GC_register_disappearing_link((void **)static_link);
        return 0;
    }
    GC_INIT();
    test_alloc();
    test_control();
    test_roots_and_unc();
    test_other_roots();
    test_mark_bits();
    test_kinds();
    test_finalization();
    test_typed();
    test_limits();
    test_pacing();
    test_threads_and_events();
    test_thread_results();
    test_unsupported();
    test_incremental();
    printf("test_compat_api: ok\n");
    return 0;
}
