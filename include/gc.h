/*
 * gc.h -- the Boehm-Demers-Weiser GC interface, implemented by hgc.
 *
 * Programs written for the Boehm collector compile unchanged against this
 * header and link with hgc's libgc.so.1 (build/compat/ in the build tree);
 * programs already compiled against the Boehm collector's own gc.h run
 * with hgc's libgc.so.1 placed first on LD_LIBRARY_PATH.  Every function
 * here is a thin mapping onto the native API in hgc.h; docs/COMPAT.md
 * lists what maps to what and where the semantics differ.  In short:
 *   - interior pointers are always recognized, GC_all_interior_pointers
 *     and GC_register_displacement change nothing;
 *   - incremental and generational modes do not exist: GC_enable_incremental
 *     is a no-op (collections are stop-the-world, marked in parallel);
 *   - custom object kinds and mark procedures (gc_mark.h: GC_new_kind,
 *     GC_new_proc, GC_mark_and_push...) are not supported: calling them
 *     aborts with a message naming the function;
 *   - GC_java_finalization, GC_no_dls, GC_time_limit, GC_full_freq and
 *     GC_max_retries are accepted and ignored.
 */
#ifndef GC_H
#define GC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the Boehm interface this header follows. */
#define GC_VERSION_MAJOR 8
#define GC_VERSION_MINOR 2
#define GC_VERSION_MICRO 2

#if defined(__GNUC__)
#define GC_API extern __attribute__((visibility("default")))
#else
#define GC_API extern
#endif
#define GC_CALL
#define GC_CALLBACK
#define GC_ATTR_MALLOC
#define GC_ATTR_ALLOC_SIZE(n)

typedef unsigned long GC_word;
typedef long GC_signed_word;
typedef void *GC_PTR; /* old name */

/* Result codes. */
#define GC_SUCCESS 0
#define GC_DUPLICATE 1
#define GC_NO_MEMORY 2
#define GC_UNIMPLEMENTED 3
#define GC_NOT_FOUND 4

/* ------------------------------------------------------------ allocation */
GC_API void *GC_malloc(size_t size);
GC_API void *GC_malloc_atomic(size_t size);
GC_API void *GC_malloc_uncollectable(size_t size);
GC_API void *GC_malloc_atomic_uncollectable(size_t size);
GC_API void *GC_malloc_ignore_off_page(size_t size);
GC_API void *GC_malloc_atomic_ignore_off_page(size_t size);
GC_API void *GC_malloc_stubborn(size_t size);
GC_API void *GC_realloc(void *p, size_t size);
GC_API void GC_free(void *p);
GC_API char *GC_strdup(const char *s);
GC_API char *GC_strndup(const char *s, size_t n);
GC_API void *GC_memalign(size_t align, size_t size);
GC_API int GC_posix_memalign(void **out, size_t align, size_t size);
/* Kinds for GC_generic_malloc. */
#define GC_I_PTRFREE 0
#define GC_I_NORMAL 1
GC_API void *GC_generic_malloc(size_t size, int kind);
/* A list of objects of size bytes linked through their first word. */
GC_API void *GC_malloc_many(size_t size);
#define GC_NEXT(p) (*(void **)(p))
/* Objects allocated with GC_malloc_stubborn need no change marks. */
GC_API void GC_change_stubborn(const void *p);
GC_API void GC_end_stubborn_change(const void *p);

GC_API void *GC_base(void *p);
GC_API int GC_is_heap_ptr(const void *p);
GC_API size_t GC_size(const void *p);

/* ----------------------------------------------------- collector control */
GC_API void GC_init(void);
GC_API int GC_is_init_called(void);
GC_API void GC_gcollect(void);
GC_API void GC_gcollect_and_unmap(void);
typedef int (*GC_stop_func)(void);
GC_API int GC_try_to_collect(GC_stop_func stop_func);
GC_API int GC_collect_a_little(void);
GC_API void GC_disable(void);
GC_API void GC_enable(void);
GC_API int GC_is_disabled(void);
GC_API void GC_enable_incremental(void);
GC_API int GC_is_incremental_mode(void);
GC_API void GC_start_mark_threads(void);
GC_API int GC_expand_hp(size_t bytes);
GC_API void GC_set_max_heap_size(GC_word bytes);
GC_API void GC_register_displacement(size_t offset);
GC_API void GC_exclude_static_roots(void *lo, void *hi);

/* Settings (the variables below can also be written directly). */
GC_API void GC_set_all_interior_pointers(int);
GC_API int GC_get_all_interior_pointers(void);
GC_API void GC_set_free_space_divisor(GC_word);
GC_API GC_word GC_get_free_space_divisor(void);
GC_API void GC_set_dont_expand(int);
GC_API int GC_get_dont_expand(void);
GC_API void GC_set_full_freq(int);
GC_API int GC_get_full_freq(void);
GC_API void GC_set_time_limit(unsigned long);
GC_API unsigned long GC_get_time_limit(void);
GC_API void GC_set_max_retries(GC_word);
GC_API GC_word GC_get_max_retries(void);
GC_API void GC_set_java_finalization(int);
GC_API int GC_get_java_finalization(void);
GC_API void GC_set_no_dls(int);
GC_API int GC_get_no_dls(void);
GC_API void GC_set_dont_precollect(int);
GC_API int GC_get_dont_precollect(void);
GC_API void GC_set_find_leak(int);
GC_API int GC_get_find_leak(void);
GC_API void GC_set_pages_executable(int);
GC_API int GC_get_pages_executable(void);
GC_API void GC_set_handle_fork(int);
GC_API int GC_get_parallel(void);

GC_API GC_word GC_gc_no;            /* completed collections */
GC_API int GC_dont_gc;              /* nonzero: no collection (GC_disable) */
GC_API int GC_parallel;
GC_API int GC_all_interior_pointers;
GC_API int GC_finalize_on_demand;
GC_API int GC_java_finalization;
GC_API int GC_dont_expand;
GC_API int GC_dont_precollect;
GC_API int GC_full_freq;
GC_API int GC_no_dls;
GC_API int GC_find_leak;
GC_API GC_word GC_free_space_divisor;
GC_API GC_word GC_max_retries;
GC_API GC_word GC_non_gc_bytes;
GC_API unsigned long GC_time_limit;
GC_API char *GC_stackbottom;
GC_API int GC_use_entire_heap;

/* ------------------------------------------------------------ statistics */
GC_API size_t GC_get_heap_size(void);
GC_API size_t GC_get_free_bytes(void);
GC_API size_t GC_get_unmapped_bytes(void);
GC_API size_t GC_get_bytes_since_gc(void);
GC_API size_t GC_get_total_bytes(void);
GC_API size_t GC_get_memory_use(void);
GC_API GC_word GC_get_gc_no(void);
GC_API void GC_get_heap_usage_safe(GC_word *heap_size, GC_word *free_bytes,
                                   GC_word *unmapped_bytes, GC_word *bytes_since_gc,
                                   GC_word *total_bytes);
struct GC_prof_stats_s {
    GC_word heapsize_full;
    GC_word free_bytes_full;
    GC_word unmapped_bytes;
    GC_word bytes_allocd_since_gc;
    GC_word allocd_bytes_before_gc;
    GC_word non_gc_bytes;
    GC_word gc_no;
    GC_word markers_m1;
    GC_word bytes_reclaimed_since_gc;
    GC_word reclaimed_bytes_before_gc;
    GC_word expl_freed_bytes_since_gc;
    GC_word obtained_from_os_bytes;
};
GC_API size_t GC_get_prof_stats(struct GC_prof_stats_s *stats, size_t stats_size);
GC_API unsigned GC_get_version(void);
GC_API void GC_dump(void);

/* Collection events, reported to GC_set_on_collection_event's callback on
 * the collecting thread (no allocation in the callback). */
typedef enum {
    GC_EVENT_START,
    GC_EVENT_MARK_START,
    GC_EVENT_MARK_END,
    GC_EVENT_RECLAIM_START,
    GC_EVENT_RECLAIM_END,
    GC_EVENT_END,
    GC_EVENT_PRE_STOP_WORLD,
    GC_EVENT_POST_STOP_WORLD,
    GC_EVENT_PRE_START_WORLD,
    GC_EVENT_POST_START_WORLD,
    GC_EVENT_THREAD_SUSPENDED,
    GC_EVENT_THREAD_UNSUSPENDED
} GC_EventType;
typedef void (*GC_on_collection_event_proc)(GC_EventType);
GC_API void GC_set_on_collection_event(GC_on_collection_event_proc fn);
GC_API GC_on_collection_event_proc GC_get_on_collection_event(void);
typedef void (*GC_start_callback_proc)(void);
GC_API void GC_set_start_callback(GC_start_callback_proc fn);
GC_API GC_start_callback_proc GC_get_start_callback(void);

/* ------------------------------------------------------- warnings, OOM */
typedef void (*GC_warn_proc)(char *msg, GC_word arg);
GC_API void GC_set_warn_proc(GC_warn_proc fn);
GC_API GC_warn_proc GC_get_warn_proc(void);
GC_API void GC_ignore_warn_proc(char *msg, GC_word arg);
typedef void *(*GC_oom_func)(size_t bytes_requested);
GC_API GC_oom_func GC_oom_fn;
GC_API void GC_set_oom_fn(GC_oom_func fn);
GC_API GC_oom_func GC_get_oom_fn(void);
GC_API void *GC_abort_on_oom(size_t bytes_requested);

/* ----------------------------------------------------------------- roots */
GC_API void GC_add_roots(void *lo, void *hi);
GC_API void GC_remove_roots(void *lo, void *hi);
GC_API void GC_clear_roots(void);
/* Data of libraries loaded later are roots anyway: this is dlopen(). */
GC_API void *GC_dlopen(const char *path, int mode);
/* A debugging check of Boehm's (is p where the collector looks?); hgc
 * cannot tell and returns p. */
GC_API void *GC_is_visible(void *p);

/* ------------------------------------------------------------ finalizers */
typedef void (*GC_finalization_proc)(void *obj, void *client_data);
GC_API void GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                  GC_finalization_proc *ofn, void **ocd);
GC_API void GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                              GC_finalization_proc *ofn, void **ocd);
GC_API void GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                           GC_finalization_proc *ofn, void **ocd);
GC_API void GC_register_finalizer_unreachable(void *obj, GC_finalization_proc fn, void *cd,
                                              GC_finalization_proc *ofn, void **ocd);
GC_API int GC_invoke_finalizers(void);
GC_API int GC_should_invoke_finalizers(void);
GC_API void GC_set_finalize_on_demand(int);
GC_API int GC_get_finalize_on_demand(void);
typedef void (*GC_finalizer_notifier_proc)(void);
GC_API GC_finalizer_notifier_proc GC_finalizer_notifier;
GC_API void GC_set_finalizer_notifier(GC_finalizer_notifier_proc fn);
GC_API GC_finalizer_notifier_proc GC_get_finalizer_notifier(void);

/* ------------------------------------------------ disappearing links */
#define GC_HIDE_POINTER(p) (~(GC_word)(p))
#define GC_REVEAL_POINTER(p) ((void *)GC_HIDE_POINTER(p))
#define HIDE_POINTER(p) GC_HIDE_POINTER(p)
#define REVEAL_POINTER(p) GC_REVEAL_POINTER(p)
GC_API int GC_register_disappearing_link(void **link);
GC_API int GC_general_register_disappearing_link(void **link, const void *obj);
GC_API int GC_unregister_disappearing_link(void **link);
GC_API int GC_move_disappearing_link(void **link, void **new_link);
GC_API int GC_register_long_link(void **link, const void *obj);
GC_API int GC_unregister_long_link(void **link);
GC_API int GC_move_long_link(void **link, void **new_link);
typedef void *(*GC_fn_type)(void *client_data);
/* Runs fn while no collection can start (fn must not allocate). */
GC_API void *GC_call_with_alloc_lock(GC_fn_type fn, void *client_data);

/* --------------------------------------------------------------- threads */
struct GC_stack_base {
    void *mem_base; /* the hot end of the stack (its highest address) */
};
typedef void *(*GC_stack_base_func)(struct GC_stack_base *sb, void *arg);
GC_API int GC_get_stack_base(struct GC_stack_base *sb);
GC_API void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg);
GC_API void GC_allow_register_threads(void);
GC_API int GC_register_my_thread(const struct GC_stack_base *sb);
GC_API int GC_unregister_my_thread(void);
GC_API int GC_thread_is_registered(void);
GC_API void *GC_do_blocking(GC_fn_type fn, void *client_data);
GC_API void *GC_call_with_gc_active(GC_fn_type fn, void *client_data);
/* For runtimes that switch stacks: the current stack's hot end, and the
 * thread handle to pass to GC_set_stackbottom (NULL: the calling thread). */
GC_API void *GC_get_my_stackbottom(struct GC_stack_base *sb);
GC_API void GC_set_stackbottom(void *thread_handle, const struct GC_stack_base *sb);
GC_API int GC_get_suspend_signal(void);
GC_API int GC_get_thr_restart_signal(void);

/* ----------------------------------------------------------- debugging */
GC_API void *GC_debug_malloc(size_t size, const char *file, int line);
GC_API void *GC_debug_malloc_atomic(size_t size, const char *file, int line);
GC_API void *GC_debug_malloc_uncollectable(size_t size, const char *file, int line);
GC_API void *GC_debug_malloc_atomic_uncollectable(size_t size, const char *file, int line);
GC_API void *GC_debug_malloc_ignore_off_page(size_t size, const char *file, int line);
GC_API void *GC_debug_malloc_atomic_ignore_off_page(size_t size, const char *file, int line);
GC_API void *GC_debug_realloc(void *p, size_t size, const char *file, int line);
GC_API void GC_debug_free(void *p);
GC_API char *GC_debug_strdup(const char *s, const char *file, int line);
GC_API char *GC_debug_strndup(const char *s, size_t n, const char *file, int line);
GC_API void GC_debug_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                        GC_finalization_proc *ofn, void **ocd);
GC_API void GC_debug_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn,
                                                    void *cd, GC_finalization_proc *ofn,
                                                    void **ocd);
GC_API void GC_debug_register_finalizer_no_order(void *obj, GC_finalization_proc fn,
                                                 void *cd, GC_finalization_proc *ofn,
                                                 void **ocd);

/* ---------------------------------------------------------------- macros */
#ifdef GC_DEBUG
#define GC_MALLOC(n) GC_debug_malloc(n, __FILE__, __LINE__)
#define GC_MALLOC_ATOMIC(n) GC_debug_malloc_atomic(n, __FILE__, __LINE__)
#define GC_MALLOC_UNCOLLECTABLE(n) GC_debug_malloc_uncollectable(n, __FILE__, __LINE__)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(n) \
    GC_debug_malloc_atomic_uncollectable(n, __FILE__, __LINE__)
#define GC_MALLOC_IGNORE_OFF_PAGE(n) GC_debug_malloc_ignore_off_page(n, __FILE__, __LINE__)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(n) \
    GC_debug_malloc_atomic_ignore_off_page(n, __FILE__, __LINE__)
#define GC_REALLOC(p, n) GC_debug_realloc(p, n, __FILE__, __LINE__)
#define GC_FREE(p) GC_debug_free(p)
#define GC_STRDUP(s) GC_debug_strdup(s, __FILE__, __LINE__)
#define GC_STRNDUP(s, n) GC_debug_strndup(s, n, __FILE__, __LINE__)
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_debug_register_finalizer(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
    GC_debug_register_finalizer_ignore_self(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
    GC_debug_register_finalizer_no_order(p, f, d, of, od)
#else
#define GC_MALLOC(n) GC_malloc(n)
#define GC_MALLOC_ATOMIC(n) GC_malloc_atomic(n)
#define GC_MALLOC_UNCOLLECTABLE(n) GC_malloc_uncollectable(n)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(n) GC_malloc_atomic_uncollectable(n)
#define GC_MALLOC_IGNORE_OFF_PAGE(n) GC_malloc_ignore_off_page(n)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(n) GC_malloc_atomic_ignore_off_page(n)
#define GC_REALLOC(p, n) GC_realloc(p, n)
#define GC_FREE(p) GC_free(p)
#define GC_STRDUP(s) GC_strdup(s)
#define GC_STRNDUP(s, n) GC_strndup(s, n)
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_register_finalizer(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
    GC_register_finalizer_ignore_self(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
    GC_register_finalizer_no_order(p, f, d, of, od)
#endif
#define GC_MALLOC_STUBBORN(n) GC_MALLOC(n)
#define GC_NEW(t) ((t *)GC_MALLOC(sizeof(t)))
#define GC_NEW_ATOMIC(t) ((t *)GC_MALLOC_ATOMIC(sizeof(t)))
#define GC_NEW_UNCOLLECTABLE(t) ((t *)GC_MALLOC_UNCOLLECTABLE(sizeof(t)))
#define GC_REGISTER_DISPLACEMENT(n) GC_register_displacement(n)
#define GC_GENERAL_REGISTER_DISAPPEARING_LINK(l, o) GC_general_register_disappearing_link(l, o)
#define GC_REGISTER_LONG_LINK(l, o) GC_register_long_link(l, o)
#define GC_INIT() GC_init()

/* With GC_THREADS, threads started with pthread_create are registered
 * (hgc registers any thread at its first allocation anyway; the wrappers
 * also keep the argument alive until the thread has started). */
#if defined(GC_THREADS) || defined(GC_PTHREADS) || defined(GC_LINUX_THREADS)
#include <pthread.h>
#include <signal.h>
GC_API int GC_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                             void *(*start)(void *), void *arg);
GC_API int GC_pthread_join(pthread_t thread, void **retval);
GC_API int GC_pthread_detach(pthread_t thread);
GC_API int GC_pthread_cancel(pthread_t thread);
GC_API void GC_pthread_exit(void *retval) __attribute__((noreturn));
GC_API int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *oset);
#ifndef GC_NO_THREAD_REDIRECTS
#undef pthread_create
#undef pthread_join
#undef pthread_detach
#undef pthread_cancel
#undef pthread_exit
#undef pthread_sigmask
#define pthread_create GC_pthread_create
#define pthread_join GC_pthread_join
#define pthread_detach GC_pthread_detach
#define pthread_cancel GC_pthread_cancel
#define pthread_exit GC_pthread_exit
#define pthread_sigmask GC_pthread_sigmask
#endif
#endif

#ifdef __cplusplus
}
#endif
#endif /* GC_H */
