/*
 * hgc.h -- public API of hgc, a garbage-collecting memory manager for C.
 *
 * Objects come from hgc_malloc() (scanned conservatively for pointers) or
 * hgc_malloc_atomic() (never scanned).  An object stays alive while a pointer
 * to it, or into it, is held in a root: a registered thread's stack or
 * registers, the writable data of the executable and its shared libraries
 * (less what the loader makes read-only after relocation, RELRO), a range
 * added with hgc_add_roots(), or another live scanned object.  Memory from
 * the system malloc() is not a root.
 *
 * Threads: every thread that holds hgc pointers must be registered.  A thread
 * registers itself on its first allocation; hgc_thread_register() does it
 * explicitly (idempotent).  A thread that exits without unregistering is
 * cleaned up by hgc.  Threads are stopped for a collection at their next
 * allocation that refills a thread cache, or by a signal (SIGPWR unless
 * HGC_SIG_SUSPEND names another).  A thread that blocks that signal is
 * still stopped at such an allocation or in a blocking region; one that
 * blocks it and does neither holds the collection up, and after
 * HGC_STOP_TIMEOUT seconds hgc aborts with a line naming it.
 *
 * Errors: hgc_free() or hgc_realloc() of a pointer hgc did not hand out,
 * of an interior pointer, or of an already freed object prints one line
 * naming the address to stderr and aborts (docs/ERRORS.md lists every
 * case).  Out of memory calls the handler set with
 * hgc_set_oom_handler(), or returns NULL.
 *
 * Environment (read once, at initialization; a bad value prints a warning
 * and keeps the default):
 *   HGC_GOGC=N          collect when the heap grew N percent over the live
 *                       bytes of the last collection (default 100; "off"
 *                       disables automatic collection).  The Boehm
 *                       interface's libgc.so.1 paces as Boehm does unless
 *                       this is set (docs/COMPAT.md)
 *   HGC_MIN_HEAP=BYTES  no automatic collection below this heap, per
 *                       thread that allocates, up to one per CPU (default
 *                       4M; suffixes K, M, G accepted)
 *   HGC_SIG_SUSPEND=N   signal number used to stop threads (default SIGPWR)
 *   HGC_STOP_TIMEOUT=S  a thread that has not stopped for a collection
 *                       after S seconds is a fatal error naming it
 *                       (default 10; 0 waits forever)
 *   HGC_VERIFY=1        check the marks of every collection (hgc_verify());
 *                       about doubles the pause.  2: self-test, which first
 *                       drops the mark of every object whose first word is
 *                       0x6867632d76657269, so the check must fail
 *   HGC_GC_STRESS=N     collect at every Nth allocation of each thread
 *   HGC_TRACE=FILE      write collector events (cycles, phases, pauses,
 *                       heap and live sizes) to FILE as a Chrome trace
 *   HGC_STATS=1         print a statistics summary to stderr at exit
 *   HGC_MARKERS=N       threads that mark (1..16; default one per CPU)
 *   HGC_GENERATIONAL=0  no minor collections (default 1: minor collections
 *                       where the kernel can report which pages were
 *                       written -- Linux 6.7 or later, userfaultfd allowed;
 *                       elsewhere every collection is major)
 *   HGC_CONCURRENT=1    major collections that allocation starts mark
 *                       mostly while the program runs: a short stop to
 *                       begin, marking by a collector thread (and at most
 *                       one marker fewer than the CPUs) while allocating
 *                       threads assist in proportion to what they
 *                       allocate, a short final stop that rescans the
 *                       roots and the marked objects on pages written
 *                       meanwhile.  Needs the same kernel support as
 *                       HGC_GENERATIONAL; elsewhere marking stops the
 *                       world.  Default 0
 */
#ifndef HGC_H
#define HGC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HGC_API __attribute__((visibility("default")))
/* Not __attribute__((malloc)): an out-of-memory handler may return memory
 * that already exists, which that attribute would let compilers assume
 * cannot happen. */
#define HGC_MALLOC_ATTR __attribute__((warn_unused_result))
#else
#define HGC_API
#define HGC_MALLOC_ATTR
#endif

/* Initialize hgc.  Optional and idempotent: the first allocation implies it.
 * Registers the calling thread. */
HGC_API void hgc_init(void);

/* Allocate n zeroed bytes that the collector scans conservatively for
 * pointers.  Returns NULL (or the out-of-memory handler's result) when no
 * memory is left.  hgc_malloc(0) returns a unique minimal object. */
HGC_API HGC_MALLOC_ATTR void *hgc_malloc(size_t n);

/* Allocate n zeroed bytes that are never scanned: store no hgc pointers in
 * them that must keep objects alive. */
HGC_API HGC_MALLOC_ATTR void *hgc_malloc_atomic(size_t n);

/* Resize p to n bytes, keeping min(old, n) bytes of content and p's kind
 * (scanned, atomic, typed with its layout, uncollectable).  Bytes past the
 * old size are zero.  p == NULL acts as hgc_malloc(n); n == 0 frees p and
 * returns NULL.  On failure returns NULL and leaves p untouched.  p must be
 * an object start, as for hgc_free(); a wrong p is the same fatal error,
 * reported as hgc_realloc(P).  When the object moves, the old one is freed
 * as by hgc_free(): its finalizer is cancelled, weak links to it do not
 * follow. */
HGC_API void *hgc_realloc(void *p, size_t n);

/* Free an object the program knows to be dead.  p == NULL is a no-op.  A
 * pointer hgc did not allocate, an interior pointer or a double free is a
 * fatal error (one line on stderr, then abort()). */
HGC_API void hgc_free(void *p);

/* Usable size of the object starting at p (at least what was asked for);
 * 0 if p is not the start of an hgc object. */
HGC_API size_t hgc_size(const void *p);

/* Start of the object that p points into, or NULL when p is not inside an
 * object of the hgc heap. */
HGC_API void *hgc_base(const void *p);

/* Run a full (major) collection now: everything unreachable goes.  Does
 * nothing while collection is disabled.  If a concurrent mark is in
 * flight, waits for its end first. */
HGC_API void hgc_collect(void);

/* Run a minor collection now: it traces from the roots and from the old
 * objects written since the last collection, and frees the unreachable
 * young objects.  Young objects are those allocated since the last
 * collection and those that only the last minor collection found live; an
 * object found live by two minor collections in a row (or by a major one)
 * is old.  Old objects that died wait for a major collection.  Where the kernel cannot track
 * writes (see HGC_GENERATIONAL) it runs a major collection instead.
 * Returns 1 if the collection was minor, else 0. */
HGC_API int hgc_collect_minor(void);

/* 1 while a concurrent mark (HGC_CONCURRENT) is in flight: from its first
 * stop to the end of its final stop; else 0. */
HGC_API int hgc_marking(void);

/* Run a full collection now and check its marks with an independent
 * re-trace from the roots, as HGC_VERIFY=1 does for every collection.  A
 * reachable object left unmarked -- a collector bug that would free a live
 * object -- prints one line naming the object, the word that refers to it
 * and the root its path starts from, then aborts.  Does nothing while
 * collection is disabled. */
HGC_API void hgc_verify(void);

/* Disable / re-enable collection.  Calls nest: collection runs again after as
 * many hgc_enable() as hgc_disable() calls.  While disabled the heap grows. */
HGC_API void hgc_disable(void);
HGC_API void hgc_enable(void);

/* Treat [lo, hi) as a root: every aligned word in it is scanned
 * conservatively.  hgc_remove_roots() removes ranges fully inside [lo, hi).
 * lo > hi is a fatal error. */
HGC_API void hgc_add_roots(void *lo, void *hi);
HGC_API void hgc_remove_roots(void *lo, void *hi);

/* Register / unregister the calling thread.  Both are idempotent.  A thread
 * registers itself on its first allocation and is unregistered when it
 * exits; explicit calls are needed only for threads that hold hgc pointers
 * without allocating.  Once a thread has exited, the value it returned (or
 * passed to pthread_exit) is held only by pthread until the join, where
 * the collector does not look: hand results over through memory it scans,
 * or start the thread with GC_pthread_create (gc.h), which keeps the value
 * until GC_pthread_join. */
HGC_API void hgc_thread_register(void);
HGC_API void hgc_thread_unregister(void);

/* Bracket code that may block for long (a system call, a wait) and touches
 * no hgc object meanwhile: a collection then proceeds without stopping this
 * thread, scanning its stack as it was at hgc_blocking_enter().  Calls nest;
 * hgc_blocking_leave() waits if a collection is in progress. */
HGC_API void hgc_blocking_enter(void);
HGC_API void hgc_blocking_leave(void);

/* Out-of-memory handler: called with the requested size when an allocation
 * cannot be satisfied; its result is returned to the caller.  NULL restores
 * the default (return NULL).  Returns the previous handler. */
typedef void *(*hgc_oom_fn)(size_t requested);
HGC_API hgc_oom_fn hgc_set_oom_handler(hgc_oom_fn fn);

typedef struct hgc_stats {
    size_t heap_bytes;       /* bytes of heap in use by spans, including free slots */
    size_t mapped_bytes;     /* bytes of heap backed by memory (excludes released pages) */
    size_t live_bytes;       /* bytes found live by the last collection */
    size_t allocated_bytes;  /* total bytes handed out since start (monotonic; counted as
                                thread caches take slots, so it may run ahead of the program
                                by up to a span per size class and thread) */
    size_t freed_bytes;      /* total bytes released by hgc_free (monotonic) */
    uint64_t collections;    /* completed collections */
    uint64_t pause_total_ns; /* total stop-the-world time */
    uint64_t pause_max_ns;   /* longest stop-the-world pause */
    size_t threads;          /* currently registered threads */
    uint64_t minor_collections; /* of collections, those that were minor */
} hgc_stats;

/* Fill *out with a consistent snapshot of the counters. */
HGC_API void hgc_get_stats(hgc_stats *out);

/* Counters of concurrent marking (HGC_CONCURRENT), since start. */
typedef struct hgc_concurrent_stats {
    uint64_t marks;      /* concurrent marks completed */
    uint64_t mark_ns;    /* time their collector thread spent marking with the world running */
    uint64_t assists;    /* times an allocating thread marked instead of allocating */
    uint64_t assist_ns;  /* time allocating threads spent in those assists */
    uint64_t waits;      /* times an allocating thread passed the heap goal: it then marks,
                            or waits when there is nothing to mark, until the mark's end */
    uint64_t wait_ns;    /* time spent so */
} hgc_concurrent_stats;
HGC_API void hgc_get_concurrent_stats(hgc_concurrent_stats *out);

/* Warnings (a bad environment value, a failed marker thread...) go to
 * stderr as one line "hgc: warning: ...", or to fn with the text after
 * "hgc: warning: " if set.  NULL restores stderr.  Returns the previous
 * handler. */
typedef void (*hgc_warn_fn)(const char *message);
HGC_API hgc_warn_fn hgc_set_warn_handler(hgc_warn_fn fn);

/* Result codes of the registration functions below. */
enum {
    HGC_OK = 0,
    HGC_DUPLICATE = 1,  /* already registered (nothing changed) */
    HGC_NO_MEMORY = 2,
    HGC_NOT_FOUND = 4,  /* not registered */
    HGC_NOT_OBJECT = 5  /* not the start of an hgc object: nothing done */
};

/* ------------------------------------------------------------ typed objects
 * A typed object is scanned exactly: only the words its layout marks as
 * pointers can keep objects alive (the other words may hold anything,
 * integers that look like addresses included).  Every object carries its
 * own layout, so objects of any number of types share the same memory.
 *
 * hgc_make_layout(bitmap, nwords): bit i of bitmap[i / 64] set means word
 * i (of 8 bytes) may hold a pointer; words from nwords on hold none.
 * Layouts are values: equal maps give equal layouts, making one is cheap
 * for up to 63 words and takes a lock beyond.  0 is the layout without
 * pointers.  HGC_LAYOUT_ERROR when the layout table (a million entries)
 * is full.
 *
 * hgc_malloc_typed(n, layout): n zeroed bytes laid out as layout says.
 * The object takes one word more than n (the layout, at its end);
 * hgc_size() reports the bytes before that word.
 * hgc_calloc_typed(count, size, layout): an array of count elements of
 * size bytes, each laid out as layout says.  size must be a multiple of
 * 8 for the map to apply; other arrays are scanned conservatively.
 * Both return NULL (or the out-of-memory handler's result) when memory is
 * exhausted.  hgc_realloc() keeps an object's layout. */
typedef uintptr_t hgc_layout;
#define HGC_LAYOUT_ERROR ((hgc_layout)-1)
HGC_API hgc_layout hgc_make_layout(const uint64_t *bitmap, size_t nwords);
HGC_API HGC_MALLOC_ATTR void *hgc_malloc_typed(size_t n, hgc_layout layout);
HGC_API HGC_MALLOC_ATTR void *hgc_calloc_typed(size_t count, size_t size, hgc_layout layout);

/* ------------------------------------------------- kinds with a mark function
 * For objects whose references the program knows better than a scan of
 * their words: a language runtime's thread object whose interpreter stack
 * lives in memory hgc does not manage, a table whose entries are weak, a
 * tagged representation.
 *
 * hgc_kind_create(mark, env): a new kind; its number, or -1 when
 * HGC_MAX_KINDS kinds exist.  hgc_malloc_kind(n, kind): n zeroed bytes of
 * that kind (NULL, or the out-of-memory handler's result, when memory is
 * exhausted); any other kind number is a fatal error.  hgc_realloc()
 * keeps the kind.
 *
 * mark(obj, size, st, env) says what obj refers to, by calling
 * hgc_mark_word(st, p) -- marks the object p points into, as a
 * conservative root word would (interior pointers count, a word that is no
 * heap address is ignored) -- and hgc_mark_range(st, lo, hi), which does
 * so for every aligned word of [lo, hi).  Nothing else keeps obj's
 * referents alive: its own words are not scanned.  size is obj's usable
 * size (hgc_size()).  The contract, as for Boehm's mark procedures:
 *   - mark runs while every registered thread is stopped, for each object
 *     of the kind that a collection finds reachable, and in every minor
 *     collection for every old object of the kind as well (so it may mark
 *     from memory hgc does not watch for writes: malloc'd memory, a
 *     runtime's own stacks);
 *   - it may run on several collector threads at once, for different
 *     objects, and more than once for one object in one collection;
 *   - it must not allocate, lock what a stopped thread may hold, or call
 *     any other hgc function; hgc_mark_word and hgc_mark_range only push
 *     work, so its stack depth never depends on the heap's shape;
 *   - it sees only objects hgc_malloc_kind handed out, never a freed slot
 *     (a stale pointer may reach one); an object may be seen all zeros,
 *     before the program initialized it. */
#define HGC_MAX_KINDS 13
typedef struct hgc_mark_state hgc_mark_state;
typedef void (*hgc_mark_fn)(void *obj, size_t size, hgc_mark_state *st, void *env);
HGC_API int hgc_kind_create(hgc_mark_fn mark, void *env);
HGC_API HGC_MALLOC_ATTR void *hgc_malloc_kind(size_t n, int kind);
HGC_API void hgc_mark_word(hgc_mark_state *st, const void *p);
HGC_API void hgc_mark_range(hgc_mark_state *st, const void *lo, const void *hi);

/* ----------------------------------------------------- uncollectable objects
 * Never reclaimed by the collector, scanned like hgc_malloc() memory (the
 * atomic form: never scanned); a root for what they point to.  Released
 * only by hgc_free().  hgc_realloc() keeps the property. */
HGC_API HGC_MALLOC_ATTR void *hgc_malloc_uncollectable(size_t n);
HGC_API HGC_MALLOC_ATTR void *hgc_malloc_atomic_uncollectable(size_t n);

/* ---------------------------------------------------------------- finalizers
 * hgc_register_finalizer(obj, fn, data, mode, &old_fn, &old_data) arranges
 * for fn(obj, data) to be called once obj is unreachable.  obj must be the
 * start of an hgc object (else HGC_NOT_OBJECT and nothing happens).  An
 * earlier registration for obj is replaced; fn == NULL removes it; the
 * earlier function and data are returned through old_fn and old_data when
 * these are not NULL.  data is kept alive while the registration lasts.
 *
 * Order (mode):
 *   HGC_FINALIZE_ORDERED      if obj refers (directly or not) to another
 *                             object with a finalizer, obj's runs first
 *                             and the other's in a later cycle.  An
 *                             object on a cycle back to itself is never
 *                             finalized: it stays alive (break cycles, or
 *                             use one of the other modes).
 *   HGC_FINALIZE_IGNORE_SELF  as ordered, but pointers from obj to itself
 *                             do not count as a cycle.
 *   HGC_FINALIZE_UNORDERED    run as soon as obj is unreachable, whatever
 *                             refers to it or it refers to.
 *
 * Resurrection: when obj is found unreachable it is queued and kept alive,
 * with everything it refers to, until fn has run; fn may store obj
 * somewhere reachable, and obj then lives on (without a finalizer, unless
 * fn registers one again).  The registration is consumed: fn runs once.
 *
 * Who runs finalizers: queued finalizers run in the next thread that takes
 * an allocation's slow path or calls hgc_collect(), never inside the
 * collector and never while hgc holds a lock, one at a time per thread (a
 * finalizer that allocates does not start the others).  With
 * hgc_set_finalize_on_demand(1, notify) they wait for the program to call
 * hgc_run_finalizers(); notify (if not NULL) is called in the same places
 * once after each collection that queued some.  Finalizers still queued
 * at exit do not run.  hgc_free(obj) cancels obj's finalizer. */
typedef void (*hgc_finalizer_fn)(void *obj, void *data);
enum { HGC_FINALIZE_ORDERED = 0, HGC_FINALIZE_IGNORE_SELF = 1, HGC_FINALIZE_UNORDERED = 2 };
HGC_API int hgc_register_finalizer(void *obj, hgc_finalizer_fn fn, void *data, int mode,
                                   hgc_finalizer_fn *old_fn, void **old_data);
/* Run the queued finalizers; returns how many ran. */
HGC_API size_t hgc_run_finalizers(void);
/* Finalizers queued and not yet started. */
HGC_API size_t hgc_finalizers_pending(void);
HGC_API void hgc_set_finalize_on_demand(int on, void (*notify)(void));

/* -------------------------------------------------------------- weak links
 * hgc_weak_register(link, obj): when obj becomes unreachable, the collector
 * sets *link to NULL (in the same stop-the-world pause that finds it
 * unreachable, before obj's memory is reused).  Short links are cleared
 * before finalizers are considered: an object kept alive only to run its
 * finalizer counts as dead.  Long links (hgc_weak_register_long) are
 * cleared only when obj is gone for good, after its finalizer.
 *
 * The word at link must not keep obj alive itself: keep it in memory hgc
 * does not scan (hgc_malloc_atomic(), malloc()) or store obj there hidden
 * (HGC_HIDE_POINTER), revealing it to use it.  A plain load of the link
 * is safe: it yields either NULL or a pointer that is a root again.  link
 * must be pointer-aligned.  If link lies inside an hgc object that dies,
 * the registration is dropped with it; before freeing that object (or
 * unmapping the memory) explicitly, unregister the link.  Returns HGC_OK,
 * HGC_DUPLICATE (link already registered: unchanged), HGC_NO_MEMORY or
 * HGC_NOT_OBJECT (obj is not an object start).  hgc_weak_unregister()
 * returns HGC_OK or HGC_NOT_FOUND; hgc_weak_move() moves a registration to
 * new_link (HGC_NOT_FOUND, HGC_DUPLICATE if new_link has one). */
#define HGC_HIDE_POINTER(p) (~(uintptr_t)(p))
#define HGC_REVEAL_POINTER(h) ((void *)~(uintptr_t)(h))
HGC_API int hgc_weak_register(void **link, const void *obj);
HGC_API int hgc_weak_register_long(void **link, const void *obj);
HGC_API int hgc_weak_unregister(void **link);
HGC_API int hgc_weak_move(void **link, void **new_link);

#ifdef __cplusplus
}
#endif
#endif /* HGC_H */
