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
#include <stdbool.h>

/* Declare the GC_pthread_* wrappers, without renaming pthread_create here. */
#define GC_THREADS
#define GC_NO_THREAD_REDIRECTS
#include "gc.h"
#include "hgc.h"

#include "mutator/stw.h"
#include "mutator/threads.h"

/* A thread started by GC_pthread_create, in an uncollectable object (so
 * scanned, and a root) from before the thread starts until it is joined
 * or detached.  It keeps two things alive that nothing else would: the
 * argument, until the new thread is registered (neither the creating
 * thread's stack nor pthread's memory is sure to hold it meanwhile), and
 * the return value, from the thread's exit -- which unregisters it, so its
 * stack is no longer scanned -- until the join, which would otherwise find
 * it only in pthread's memory.  Records are linked on `started`; the links
 * and the flags are under started_lock. */
typedef struct start_info {
    void *(*start)(void *);
    void *arg;
    void *result;
    pthread_t id;
    bool finished;        /* its thread has exited */
    bool detached;        /* nobody will join it: it goes when the thread does */
    bool created;         /* GC_pthread_create is done with it (and set id) */
    struct start_info *next, *prev;
} start_info;

static pthread_mutex_t started_lock = PTHREAD_MUTEX_INITIALIZER;
static start_info *started;
static __thread start_info *my_start; /* the calling thread's record, for GC_pthread_exit */

static void started_unlink(start_info *si)
{
    if (si->prev)
        si->prev->next = si->next;
    else
        started = si->next;
    if (si->next)
        si->next->prev = si->prev;
}

/* The listed record of thread id that is not detached and whose thread
 * has (finished) or has not exited, if any (lock held). */
static start_info *started_find(pthread_t id, bool finished)
{
    for (start_info *si = started; si; si = si->next)
        if (pthread_equal(si->id, id) && si->finished == finished && !si->detached)
            return si;
    return NULL;
}

/* The thread's end, by return, pthread_exit or cancellation: a detached
 * thread's record goes now, a joinable one's waits for the join. */
static void thread_finish(void *p)
{
    start_info *si = p;
    pthread_mutex_lock(&started_lock);
    si->finished = true;
    bool drop = si->detached && si->created; /* else the creator drops it */
    if (drop)
        started_unlink(si);
    pthread_mutex_unlock(&started_lock);
    my_start = NULL;
    if (drop)
        hgc_free(si);
}

static void *thread_start(void *p)
{
    hgc_thread_register();
    start_info *si = p;
    my_start = si;
    void *arg = si->arg; /* now on this registered thread's stack */
    si->arg = NULL;
    void *r;
    pthread_cleanup_push(thread_finish, si);
    r = si->start(arg);
    si->result = r;
    pthread_cleanup_pop(1);
    return r; /* hgc unregisters the thread when it exits */
}

int GC_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                      void *arg)
{
    start_info *si = hgc_malloc_uncollectable(sizeof *si);
    if (!si)
        return EAGAIN;
    si->start = start;
    si->arg = arg;
    int state = PTHREAD_CREATE_JOINABLE;
    if (attr)
        pthread_attr_getdetachstate(attr, &state);
    si->detached = state == PTHREAD_CREATE_DETACHED;
    pthread_mutex_lock(&started_lock);
    si->next = started;
    if (started)
        started->prev = si;
    started = si;
    pthread_mutex_unlock(&started_lock);
    /* Straight into *thread, as Boehm's wrapper does: pthread_create
     * stores the id before the new thread runs, and programs read it there
     * from the new thread (Crystal's Thread#start asks for its own stack
     * through it). */
    int rc = pthread_create(thread, attr, thread_start, si);
    pthread_t id = rc == 0 ? *thread : (pthread_t)0;
    pthread_mutex_lock(&started_lock);
    start_info *stale = NULL;
    bool drop = rc != 0;
    if (rc == 0) {
        /* A record left with this id was joined without the wrapper (an
         * id is reused only after its thread was joined or detached). */
        stale = started_find(id, true);
        if (stale)
            started_unlink(stale);
        si->id = id;
        si->created = true;
        drop = si->finished && si->detached; /* it ended already */
    }
    if (drop)
        started_unlink(si);
    pthread_mutex_unlock(&started_lock);
    if (drop)
        hgc_free(si);
    if (stale)
        hgc_free(stale);
    return rc;
}

/* Waits as in a blocking region: a thread parked here touches no heap
 * object, so collections need not stop it.  The value goes through a local
 * and reaches *retval only after the region -- retval may point into the
 * heap -- while the record keeps it alive. */
int GC_pthread_join(pthread_t thread, void **retval)
{
    void *r = NULL;
    hgc_blocking_enter();
    int rc = pthread_join(thread, &r);
    hgc_blocking_leave();
    if (rc != 0)
        return rc;
    if (retval)
        *retval = r;
    pthread_mutex_lock(&started_lock);
    start_info *si = started_find(thread, true);
    if (si)
        started_unlink(si);
    pthread_mutex_unlock(&started_lock);
    if (si)
        hgc_free(si);
    return 0;
}

int GC_pthread_detach(pthread_t thread)
{
    /* Find the record first: once detached, the thread may exit and its
     * id be reused at any moment. */
    pthread_mutex_lock(&started_lock);
    start_info *si = started_find(thread, false);
    if (!si)
        si = started_find(thread, true);
    int rc = pthread_detach(thread);
    bool drop = false;
    if (rc == 0 && si) {
        si->detached = true;
        drop = si->finished; /* else thread_finish drops it */
        if (drop)
            started_unlink(si);
    }
    pthread_mutex_unlock(&started_lock);
    if (drop)
        hgc_free(si);
    return rc;
}

int GC_pthread_cancel(pthread_t thread) { return pthread_cancel(thread); }

void GC_pthread_exit(void *retval)
{
    if (my_start)
        my_start->result = retval;
    pthread_exit(retval);
}

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
