/*
 * gc_compat.c -- the Boehm GC interface (include/gc.h, gc_typed.h) as a
 * thin mapping onto hgc's native API.  Built into libgc.so.1 together with
 * the whole collector, so it may also use internal hooks (collector.h,
 * finalize.h) for what programs do to Boehm's variables directly.
 *
 * Threads, stacks and blocking are in gc_threads.c; Boehm's low-level
 * marking interface (kinds, mark procedures, other roots) in gc_mark.c.
 * docs/COMPAT.md says what maps to what.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "gc_mark.h"
#include "gc_typed.h"
#include "hgc.h"

#include "alloc/alloc_fast.h"
#include "cycle/collector.h"
#include "cycle/finalize.h"
#include "heap/heap.h"
#include "mark/mark.h"
#include "roots/roots.h"
#include "mutator/threads.h"

/* ------------------------------------------------- Boehm's variables */
GC_word GC_gc_no;
int GC_dont_gc;
int GC_parallel = 1;
int GC_all_interior_pointers = 1;
int GC_finalize_on_demand;
int GC_java_finalization = 1;
int GC_dont_expand;
int GC_dont_precollect;
int GC_full_freq = 19;
int GC_no_dls;
int GC_find_leak;
GC_word GC_free_space_divisor = 3;
GC_word GC_max_retries;
GC_word GC_non_gc_bytes;
unsigned long GC_time_limit = 50;
char *GC_stackbottom;
int GC_use_entire_heap;
GC_oom_func GC_oom_fn;
GC_finalizer_notifier_proc GC_finalizer_notifier;
/* Read by runtimes' mark procedures (GC_MARK_AND_PUSH); kept to the
 * heap's bounds, which only grow, at every stop of the world. */
void *GC_least_plausible_heap_addr;
void *GC_greatest_plausible_heap_addr;

static int pages_executable;
static GC_on_collection_event_proc event_proc;
static GC_start_callback_proc start_proc;
static size_t allocated_at_gc; /* allocated bytes when the last cycle ended */

/* ------------------------------------------------------------- events */

static void update_bounds(void)
{
    /* A byte below the heap, not its first: this variable is in static
     * data, scanned as a root (heap.h, hgc__heap_below). */
    GC_least_plausible_heap_addr =
        (void *)atomic_load_explicit(&hgc__heap_below, memory_order_relaxed);
    GC_greatest_plausible_heap_addr =
        (void *)atomic_load_explicit(&hgc__heap_end, memory_order_relaxed);
}

/* GC_stackbottom: the cold end of the main thread's stack -- of the
 * thread that loads this library, which for a program linked with it is
 * the main thread.  hgc sets it at load, as Boehm does at GC_init, and
 * programs read it (Crystal keeps it as its main fiber's stack bottom)
 * and write it: Crystal stores the bottom of the fiber about to run at
 * every switch, so the main thread's stack is wherever its current
 * fiber's is.  Applied once the world is stopped, before the roots are
 * scanned: every collection scans the main thread from its stack pointer
 * to the value of that moment. */
static unsigned long main_tid;

static void apply_stackbottom(void)
{
    uintptr_t bottom = (uintptr_t)*(char *volatile *)&GC_stackbottom;
    if (!bottom)
        return;
    for (thread_rec *t = threads_first(); t; t = t->next)
        if (t->tid == main_tid && t->stack_hi != bottom) {
            t->stack_lo = 0; /* its stack pointer may lie in any fiber's stack */
            t->stack_hi = bottom;
        }
}

/* The collector's hook: world lock held, so the collector's and the
 * threads' counters can be read directly (hgc_get_stats would wait for the
 * lock). */
static void on_collect_event(enum collect_event ev)
{
    static const GC_EventType map[] = {
        [COLLECT_START] = GC_EVENT_START,
        [COLLECT_PRE_STOP_WORLD] = GC_EVENT_PRE_STOP_WORLD,
        [COLLECT_POST_STOP_WORLD] = GC_EVENT_POST_STOP_WORLD,
        [COLLECT_MARK_START] = GC_EVENT_MARK_START,
        [COLLECT_MARK_END] = GC_EVENT_MARK_END,
        [COLLECT_PRE_START_WORLD] = GC_EVENT_PRE_START_WORLD,
        [COLLECT_POST_START_WORLD] = GC_EVENT_POST_START_WORLD,
        [COLLECT_END] = GC_EVENT_END,
    };
    if (ev == COLLECT_START && start_proc)
        start_proc();
    if (ev == COLLECT_POST_STOP_WORLD) {
        apply_stackbottom();
        update_bounds(); /* the heap may have grown: mark procedures test these */
    }
    if (ev == COLLECT_END) {
        collector_stats cs;
        collector_get_stats(&cs);
        GC_gc_no = (GC_word)cs.collections;
        size_t freed;
        threads_counters(&allocated_at_gc, &freed);
        update_bounds();
    }
    GC_on_collection_event_proc fn = event_proc;
    if (fn)
        fn(map[ev]);
}

static void *call_oom_fn(size_t n)
{
    GC_oom_func fn = GC_oom_fn;
    return fn ? fn(n) : NULL;
}

static void call_notifier(void)
{
    GC_finalizer_notifier_proc fn = GC_finalizer_notifier;
    if (fn)
        fn();
}

/* Boehm's default warning procedure: the message is a printf format with
 * one argument. */
static void default_warn_proc(char *msg, GC_word arg)
{
    fprintf(stderr, msg, arg);
}

static GC_warn_proc warn_proc = default_warn_proc;

/* hgc's warnings, passed on as Boehm passes its own: "GC Warning: ..." as
 * a format (percent signs doubled) with an unused argument. */
static void forward_warning(const char *text)
{
    char msg[600];
    size_t n = 0;
    const char *prefix = "GC Warning: ";
    for (const char *p = prefix; *p && n < sizeof msg - 3; p++)
        msg[n++] = *p;
    for (const char *p = text; *p && n < sizeof msg - 4; p++) {
        if (*p == '%')
            msg[n++] = '%';
        msg[n++] = *p;
    }
    msg[n++] = '\n';
    msg[n] = '\0';
    warn_proc(msg, 0);
}

__attribute__((constructor)) static void compat_load(void)
{
    hgc__dont_gc = &GC_dont_gc;
    hgc__fin_on_demand = &GC_finalize_on_demand;
    hgc__collect_event = on_collect_event;
    hgc_init();
    thread_rec *self = threads_register();
    main_tid = self->tid;
    GC_stackbottom = (char *)self->stack_hi;
    hgc_set_oom_handler(call_oom_fn);
    hgc_set_finalize_on_demand(0, call_notifier);
    update_bounds();
    /* A program switched from Boehm's library keeps Boehm's trade of
     * memory for time (GC_set_free_space_divisor); HGC_GOGC chooses hgc's. */
    if (!getenv("HGC_GOGC"))
        collector_set_boehm_divisor((unsigned)GC_free_space_divisor);
}

/* ------------------------------------------------------------ allocation */

/* The fast path inline, as in hgc_malloc itself: no extra call. */
HOT_ENTRY void *GC_malloc(size_t n) { return alloc_fast(n, KIND_SCANNED); }
HOT_ENTRY void *GC_malloc_atomic(size_t n) { return alloc_fast(n, KIND_ATOMIC); }
void *GC_malloc_uncollectable(size_t n) { return hgc_malloc_uncollectable(n); }
void *GC_malloc_atomic_uncollectable(size_t n) { return hgc_malloc_atomic_uncollectable(n); }
/* Every interior pointer counts anyway. */
void *GC_malloc_ignore_off_page(size_t n) { return alloc_fast(n, KIND_SCANNED); }
void *GC_malloc_atomic_ignore_off_page(size_t n) { return alloc_fast(n, KIND_ATOMIC); }
void *GC_malloc_stubborn(size_t n) { return hgc_malloc(n); }
void GC_change_stubborn(const void *p) { (void)p; }
void GC_end_stubborn_change(const void *p) { (void)p; }
void *GC_realloc(void *p, size_t n) { return hgc_realloc(p, n); }
void GC_free(void *p) { hgc_free(p); }

char *GC_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = hgc_malloc_atomic(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *GC_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *d = hgc_malloc_atomic(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* Objects are 16-byte aligned (power-of-two sizes up to a page: aligned to
 * their size).  A bigger alignment returns an interior pointer, which
 * keeps the object alive but cannot be passed to GC_free. */
void *GC_memalign(size_t align, size_t n)
{
    if (align <= 16)
        return hgc_malloc(n);
    if (n > SIZE_MAX - align)
        return NULL;
    char *p = hgc_malloc(n + align);
    if (!p)
        return NULL;
    return (void *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

int GC_posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    void *p = GC_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *GC_base(void *p) { return hgc_base(p); }
int GC_is_heap_ptr(const void *p) { return hgc_base(p) != NULL; }
size_t GC_size(const void *p) { return hgc_size(p); }

/* ------------------------------------------------------ collector control */

void GC_init(void) { hgc_init(); }
int GC_is_init_called(void) { return 1; } /* hgc starts when it is loaded */
void GC_gcollect(void) { hgc_collect(); }
void GC_gcollect_and_unmap(void) { hgc_collect(); }

int GC_try_to_collect(GC_stop_func stop_func)
{
    (void)stop_func; /* a stop-the-world collection is not interruptible */
    if (GC_dont_gc)
        return 0;
    hgc_collect();
    return 1;
}

int GC_collect_a_little(void) { return 0; } /* no incremental work is pending */
void GC_disable(void) { __atomic_add_fetch(&GC_dont_gc, 1, __ATOMIC_SEQ_CST); }

void GC_enable(void)
{
    int old = __atomic_load_n(&GC_dont_gc, __ATOMIC_SEQ_CST);
    while (old > 0 && !__atomic_compare_exchange_n(&GC_dont_gc, &old, old - 1, true,
                                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
}

int GC_is_disabled(void) { return __atomic_load_n(&GC_dont_gc, __ATOMIC_SEQ_CST) != 0; }
/* Boehm's incremental mode is hgc's mostly-concurrent marking: callbacks
 * and mark procedures still run with the world stopped (its final stop). */
void GC_enable_incremental(void)
{
    GC_init();
    collector_enable_concurrent();
}
int GC_is_incremental_mode(void) { return collector_concurrent_on(); }
void GC_start_mark_threads(void) {}

int GC_expand_hp(size_t bytes)
{
    collector_add_min_heap(bytes);
    return 1;
}

void GC_set_max_heap_size(GC_word bytes) { pageheap_set_limit((size_t)bytes); }
void GC_register_displacement(size_t offset) { (void)offset; }
/* Excluding a range would only make the root set smaller: ignored. */
void GC_exclude_static_roots(void *lo, void *hi) { (void)lo, (void)hi; }

void GC_set_all_interior_pointers(int v) { GC_all_interior_pointers = v; }
int GC_get_all_interior_pointers(void) { return GC_all_interior_pointers; }

/* Boehm lets the heap grow between collections by about (2 x its live
 * bytes with pointers + its roots) / divisor; pacing does the same,
 * counting every live byte (pacing.h).  Its default divisor, 3, is what this
 * library paces by from the start, unless HGC_GOGC is set (compat_load). */
void GC_set_free_space_divisor(GC_word d)
{
    GC_free_space_divisor = d ? d : 1;
    collector_set_boehm_divisor((unsigned)GC_free_space_divisor);
}

GC_word GC_get_free_space_divisor(void) { return GC_free_space_divisor; }
void GC_set_dont_expand(int v) { GC_dont_expand = v; }
int GC_get_dont_expand(void) { return GC_dont_expand; }
void GC_set_full_freq(int v) { GC_full_freq = v; }
int GC_get_full_freq(void) { return GC_full_freq; }
void GC_set_time_limit(unsigned long v) { GC_time_limit = v; }
unsigned long GC_get_time_limit(void) { return GC_time_limit; }
void GC_set_max_retries(GC_word v) { GC_max_retries = v; }
GC_word GC_get_max_retries(void) { return GC_max_retries; }
void GC_set_java_finalization(int v) { GC_java_finalization = v; }
int GC_get_java_finalization(void) { return GC_java_finalization; }
void GC_set_no_dls(int v) { GC_no_dls = v; }
int GC_get_no_dls(void) { return GC_no_dls; }
void GC_set_dont_precollect(int v) { GC_dont_precollect = v; }
int GC_get_dont_precollect(void) { return GC_dont_precollect; }
void GC_set_find_leak(int v) { GC_find_leak = v; }
int GC_get_find_leak(void) { return GC_find_leak; }
void GC_set_pages_executable(int v) { pages_executable = v; }
int GC_get_pages_executable(void) { return pages_executable; }
void GC_set_handle_fork(int v) { (void)v; } /* hgc always handles fork */
int GC_get_parallel(void) { return GC_parallel; }

/* ------------------------------------------------------------ statistics */

static hgc_stats stats_now(void)
{
    hgc_stats s;
    hgc_get_stats(&s);
    return s;
}

size_t GC_get_heap_size(void) { return stats_now().mapped_bytes; }

size_t GC_get_free_bytes(void)
{
    hgc_stats s = stats_now();
    size_t used = s.live_bytes + GC_get_bytes_since_gc();
    return s.mapped_bytes > used ? s.mapped_bytes - used : 0;
}

size_t GC_get_unmapped_bytes(void) { return 0; } /* released pages are not counted */

size_t GC_get_bytes_since_gc(void)
{
    size_t total = stats_now().allocated_bytes;
    return total > allocated_at_gc ? total - allocated_at_gc : 0;
}

size_t GC_get_total_bytes(void) { return stats_now().allocated_bytes; }
size_t GC_get_memory_use(void) { return stats_now().heap_bytes; }
GC_word GC_get_gc_no(void) { return (GC_word)stats_now().collections; }

void GC_get_heap_usage_safe(GC_word *heap_size, GC_word *free_bytes, GC_word *unmapped_bytes,
                            GC_word *bytes_since_gc, GC_word *total_bytes)
{
    if (heap_size)
        *heap_size = GC_get_heap_size();
    if (free_bytes)
        *free_bytes = GC_get_free_bytes();
    if (unmapped_bytes)
        *unmapped_bytes = 0;
    if (bytes_since_gc)
        *bytes_since_gc = GC_get_bytes_since_gc();
    if (total_bytes)
        *total_bytes = GC_get_total_bytes();
}

size_t GC_get_prof_stats(struct GC_prof_stats_s *out, size_t size)
{
    struct GC_prof_stats_s st;
    hgc_stats s = stats_now();
    memset(&st, 0, sizeof st);
    st.heapsize_full = s.mapped_bytes;
    st.free_bytes_full = GC_get_free_bytes();
    st.bytes_allocd_since_gc = GC_get_bytes_since_gc();
    st.allocd_bytes_before_gc = allocated_at_gc;
    st.non_gc_bytes = GC_non_gc_bytes;
    st.gc_no = s.collections;
    st.markers_m1 = 0;
    st.expl_freed_bytes_since_gc = s.freed_bytes;
    st.obtained_from_os_bytes = s.mapped_bytes;
    /* As Boehm does: a caller's larger structure gets all-ones beyond. */
    if (size > sizeof st) {
        memset((char *)out + sizeof st, 0xff, size - sizeof st);
        size = sizeof st;
    }
    memcpy(out, &st, size);
    return size;
}

unsigned GC_get_version(void)
{
    return (GC_VERSION_MAJOR << 16) | (GC_VERSION_MINOR << 8) | GC_VERSION_MICRO;
}

void GC_dump(void)
{
    hgc_stats s = stats_now();
    printf("hgc (Boehm GC interface): heap %zu bytes, live %zu bytes after collection %llu, "
           "%zu bytes allocated in total, %zu threads\n",
           s.mapped_bytes, s.live_bytes, (unsigned long long)s.collections, s.allocated_bytes,
           s.threads);
}

void GC_set_on_collection_event(GC_on_collection_event_proc fn) { event_proc = fn; }
GC_on_collection_event_proc GC_get_on_collection_event(void) { return event_proc; }
void GC_set_start_callback(GC_start_callback_proc fn) { start_proc = fn; }
GC_start_callback_proc GC_get_start_callback(void) { return start_proc; }

/* ------------------------------------------------------- warnings, OOM */

void GC_set_warn_proc(GC_warn_proc fn)
{
    warn_proc = fn ? fn : default_warn_proc;
    hgc_set_warn_handler(forward_warning);
}

GC_warn_proc GC_get_warn_proc(void) { return warn_proc; }
void GC_ignore_warn_proc(char *msg, GC_word arg) { (void)msg, (void)arg; }
void GC_set_oom_fn(GC_oom_func fn) { GC_oom_fn = fn; }
GC_oom_func GC_get_oom_fn(void) { return GC_oom_fn; }

void *GC_abort_on_oom(size_t n)
{
    hgc__fatal("out of memory: an allocation of %zu bytes failed", n);
}

/* ----------------------------------------------------------------- roots */

void GC_add_roots(void *lo, void *hi) { hgc_add_roots(lo, hi); }
void GC_remove_roots(void *lo, void *hi) { hgc_remove_roots(lo, hi); }

void GC_clear_roots(void)
{
    hgc_init();
    threads_lock();
    roots_clear();
    threads_unlock();
}

void *GC_dlopen(const char *path, int mode) { return dlopen(path, mode); }

void *GC_is_visible(void *p) { return p; }

/* ------------------------------------------------------------ finalizers */

static void register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                               GC_finalization_proc *ofn, void **ocd, int mode)
{
    hgc_finalizer_fn old_fn;
    void *old_cd;
    /* Boehm ignores objects outside its heap: so does hgc (HGC_NOT_OBJECT). */
    hgc_register_finalizer(obj, (hgc_finalizer_fn)fn, cd, mode, &old_fn, &old_cd);
    if (ofn)
        *ofn = (GC_finalization_proc)old_fn;
    if (ocd)
        *ocd = old_cd;
}

void GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                           GC_finalization_proc *ofn, void **ocd)
{
    register_finalizer(obj, fn, cd, ofn, ocd, HGC_FINALIZE_ORDERED);
}

void GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                       GC_finalization_proc *ofn, void **ocd)
{
    register_finalizer(obj, fn, cd, ofn, ocd, HGC_FINALIZE_IGNORE_SELF);
}

void GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                    GC_finalization_proc *ofn, void **ocd)
{
    register_finalizer(obj, fn, cd, ofn, ocd, HGC_FINALIZE_UNORDERED);
}

/* Boehm's "unreachable" order (finalize when unreachable from roots and
 * other finalizable objects alike) is closest to no order at all. */
void GC_register_finalizer_unreachable(void *obj, GC_finalization_proc fn, void *cd,
                                       GC_finalization_proc *ofn, void **ocd)
{
    register_finalizer(obj, fn, cd, ofn, ocd, HGC_FINALIZE_UNORDERED);
}

int GC_invoke_finalizers(void) { return (int)hgc_run_finalizers(); }
int GC_should_invoke_finalizers(void) { return hgc_finalizers_pending() != 0; }
void GC_set_finalize_on_demand(int v) { GC_finalize_on_demand = v; }
int GC_get_finalize_on_demand(void) { return GC_finalize_on_demand; }
void GC_set_finalizer_notifier(GC_finalizer_notifier_proc fn) { GC_finalizer_notifier = fn; }
GC_finalizer_notifier_proc GC_get_finalizer_notifier(void) { return GC_finalizer_notifier; }

/* ------------------------------------------------ disappearing links */

static int link_code(int rc)
{
    /* An object outside the heap never dies: as in Boehm, the link then
     * simply never clears. */
    return rc == HGC_NOT_OBJECT ? GC_SUCCESS : rc;
}

static void check_link(void **link, const char *fn)
{
    if (!link || ((uintptr_t)link & (sizeof(void *) - 1)) != 0)
        hgc__fatal("%s(%p): bad link address", fn, (void *)link);
}

int GC_general_register_disappearing_link(void **link, const void *obj)
{
    check_link(link, "GC_general_register_disappearing_link");
    const void *base = hgc_base(obj);
    return link_code(hgc_weak_register(link, base ? base : obj));
}

/* The link is cleared when the object holding it dies; a link outside
 * every object is a wrong argument (Boehm aborts too). */
int GC_register_disappearing_link(void **link)
{
    check_link(link, "GC_register_disappearing_link");
    void *base = hgc_base(link);
    if (!base)
        hgc__fatal("GC_register_disappearing_link(%p): the link is not inside an object of "
                   "the heap",
                   (void *)link);
    return link_code(hgc_weak_register(link, base));
}

int GC_unregister_disappearing_link(void **link)
{
    return hgc_weak_unregister(link) == HGC_OK;
}

int GC_move_disappearing_link(void **link, void **new_link)
{
    check_link(new_link, "GC_move_disappearing_link");
    return hgc_weak_move(link, new_link);
}

int GC_register_long_link(void **link, const void *obj)
{
    check_link(link, "GC_register_long_link");
    const void *base = hgc_base(obj);
    return link_code(hgc_weak_register_long(link, base ? base : obj));
}

int GC_unregister_long_link(void **link) { return hgc_weak_unregister(link) == HGC_OK; }

int GC_move_long_link(void **link, void **new_link)
{
    check_link(new_link, "GC_move_long_link");
    return hgc_weak_move(link, new_link);
}

/* No collection starts while the world lock is held. */
void *GC_call_with_alloc_lock(GC_fn_type fn, void *cd)
{
    hgc_init();
    threads_lock();
    void *r = fn(cd);
    threads_unlock();
    return r;
}

/* ----------------------------------------------------------- typed */

GC_descr GC_make_descriptor(const GC_word *bm, size_t len)
{
    _Static_assert(sizeof(GC_word) == sizeof(uint64_t), "a bitmap word is 64 bits");
    return (GC_descr)hgc_make_layout((const uint64_t *)bm, len);
}

void *GC_malloc_explicitly_typed(size_t n, GC_descr d)
{
    if (d == HGC_LAYOUT_ERROR) /* no exact map could be made */
        return hgc_malloc(n);
    return hgc_malloc_typed(n, d);
}

void *GC_malloc_explicitly_typed_ignore_off_page(size_t n, GC_descr d)
{
    return GC_malloc_explicitly_typed(n, d);
}

void *GC_calloc_explicitly_typed(size_t count, size_t n, GC_descr d)
{
    if (d == HGC_LAYOUT_ERROR)
        return n && count > SIZE_MAX / n ? NULL : hgc_malloc(count * n);
    return hgc_calloc_typed(count, n, d);
}

/* ----------------------------------------------------------- debugging */

void *GC_debug_malloc(size_t n, const char *f, int l) { (void)f, (void)l; return GC_malloc(n); }
void *GC_debug_malloc_atomic(size_t n, const char *f, int l)
{
    (void)f, (void)l;
    return GC_malloc_atomic(n);
}
void *GC_debug_malloc_uncollectable(size_t n, const char *f, int l)
{
    (void)f, (void)l;
    return GC_malloc_uncollectable(n);
}
void *GC_debug_malloc_atomic_uncollectable(size_t n, const char *f, int l)
{
    (void)f, (void)l;
    return GC_malloc_atomic_uncollectable(n);
}
void *GC_debug_malloc_ignore_off_page(size_t n, const char *f, int l)
{
    (void)f, (void)l;
    return GC_malloc(n);
}
void *GC_debug_malloc_atomic_ignore_off_page(size_t n, const char *f, int l)
{
    (void)f, (void)l;
    return GC_malloc_atomic(n);
}
void *GC_debug_realloc(void *p, size_t n, const char *f, int l)
{
    (void)f, (void)l;
    return GC_realloc(p, n);
}
void GC_debug_free(void *p) { GC_free(p); }
char *GC_debug_strdup(const char *s, const char *f, int l)
{
    (void)f, (void)l;
    return GC_strdup(s);
}
char *GC_debug_strndup(const char *s, size_t n, const char *f, int l)
{
    (void)f, (void)l;
    return GC_strndup(s, n);
}
void GC_debug_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                 GC_finalization_proc *ofn, void **ocd)
{
    GC_register_finalizer(obj, fn, cd, ofn, ocd);
}
void GC_debug_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                             GC_finalization_proc *ofn, void **ocd)
{
    GC_register_finalizer_ignore_self(obj, fn, cd, ofn, ocd);
}
void GC_debug_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                          GC_finalization_proc *ofn, void **ocd)
{
    GC_register_finalizer_no_order(obj, fn, cd, ofn, ocd);
}
