/*
 * gc_threads.c -- the thread part of the Boehm GC interface: the
 * pthread_create redirects of GC_THREADS, thread registration, stack
 * bases and blocking regions, mapped onto hgc's (which registers every
 * thread at its first allocation anyway).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>

/* Declare the GC_pthread_* wrappers, without renaming pthread_create here. */
#define GC_THREADS
#define GC_NO_THREAD_REDIRECTS
#include "gc.h"
#include "hgc.h"

#include "../stw.h"
#include "../threads.h"

/* What a new thread runs, held in an uncollectable object until the thread
 * is registered: arg may be the only reference to a heap object, and
 * neither the creating thread's stack nor pthread's memory is sure to hold
 * it meanwhile. */
typedef struct start_info {
    void *(*start)(void *);
    void *arg;
} start_info;

static void *thread_start(void *p)
{
    hgc_thread_register();
    start_info *si = p;
    void *(*start)(void *) = si->start;
    void *arg = si->arg; /* now on this registered thread's stack */
    hgc_free(si);
    return start(arg); /* hgc unregisters the thread when it exits */
}

int GC_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                      void *arg)
{
    start_info *si = hgc_malloc_uncollectable(sizeof *si);
    if (!si)
        return EAGAIN;
    si->start = start;
    si->arg = arg;
    int rc = pthread_create(thread, attr, thread_start, si);
    if (rc != 0)
        hgc_free(si);
    return rc;
}

int GC_pthread_join(pthread_t thread, void **retval) { return pthread_join(thread, retval); }
int GC_pthread_detach(pthread_t thread) { return pthread_detach(thread); }
int GC_pthread_cancel(pthread_t thread) { return pthread_cancel(thread); }
void GC_pthread_exit(void *retval) { pthread_exit(retval); }

/* A thread that blocked the stop signal could never stop: keep it open. */
int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *oset)
{
    sigset_t copy;
    if (set && (how == SIG_BLOCK || how == SIG_SETMASK)) {
        copy = *set;
        sigdelset(&copy, stw_signal());
        set = &copy;
    }
    return pthread_sigmask(how, set, oset);
}

int GC_get_stack_base(struct GC_stack_base *sb)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return GC_UNIMPLEMENTED;
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return GC_UNIMPLEMENTED;
    sb->mem_base = (char *)addr + size;
    return GC_SUCCESS;
}

void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg)
{
    struct GC_stack_base sb;
    if (GC_get_stack_base(&sb) != GC_SUCCESS)
        sb.mem_base = __builtin_frame_address(0);
    return fn(&sb, arg);
}

void GC_allow_register_threads(void) { hgc_init(); }

/* hgc finds the stack itself; the base passed is not needed. */
int GC_register_my_thread(const struct GC_stack_base *sb)
{
    (void)sb;
    if (hgc__self)
        return GC_DUPLICATE;
    hgc_thread_register();
    return GC_SUCCESS;
}

int GC_unregister_my_thread(void)
{
    hgc_thread_unregister();
    return GC_SUCCESS;
}

int GC_thread_is_registered(void) { return hgc__self != NULL; }

void *GC_do_blocking(GC_fn_type fn, void *cd)
{
    hgc_blocking_enter();
    void *r = fn(cd);
    hgc_blocking_leave();
    return r;
}

/* Inside GC_do_blocking: leave the blocking region for the call, whatever
 * its nesting depth, and enter it again afterwards. */
void *GC_call_with_gc_active(GC_fn_type fn, void *cd)
{
    thread_rec *t = hgc__self;
    if (!t || t->blocking_depth == 0)
        return fn(cd);
    int depth = t->blocking_depth;
    t->blocking_depth = 0;
    stw_blocking_leave(t);
    void *r = fn(cd);
    stw_blocking_enter(t);
    t->blocking_depth = depth;
    return r;
}

/* Runtimes that switch stacks (fibers, coroutines) say where the current
 * one ends; the collector then scans from the stack pointer up to there.
 * The low bound of such a stack is unknown. */
void *GC_get_my_stackbottom(struct GC_stack_base *sb)
{
    thread_rec *t = threads_register();
    sb->mem_base = (void *)t->stack_hi;
    return t;
}

void GC_set_stackbottom(void *handle, const struct GC_stack_base *sb)
{
    thread_rec *t = handle ? handle : threads_register();
    t->stack_lo = 0;
    t->stack_hi = (uintptr_t)sb->mem_base;
}

int GC_get_suspend_signal(void) { return stw_signal(); }
/* hgc restarts threads with a futex, not a signal: the suspend signal is
 * the only one it uses. */
int GC_get_thr_restart_signal(void) { return stw_signal(); }
