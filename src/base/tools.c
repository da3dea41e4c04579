/* tools.c -- Valgrind's memcheck and hgc's heap.  See tools.h. */
#include "base/tools.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/addrmap.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_VALGRIND 1
#endif
#endif

bool hgc__tools;

/* Block start -> bytes asked.  Taken only where stops are held off
 * (tools.h), so a collection never waits for it. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static addrmap table = {.nvals = 1};

/* Memcheck, not another Valgrind tool: callgrind's instruction counts
 * must be those of the fast paths.  Valgrind preloads each tool's own
 * library into the program; memcheck's name says which tool runs. */
void tools_init(void)
{
#ifdef HAVE_VALGRIND
    const char *preload = getenv("LD_PRELOAD");
    hgc__tools = RUNNING_ON_VALGRIND != 0 && preload && strstr(preload, "vgpreload_memcheck");
#endif
}

void tools_quiet_set(bool quiet)
{
#ifdef HAVE_VALGRIND
    if (quiet)
        VALGRIND_DISABLE_ERROR_REPORTING;
    else
        VALGRIND_ENABLE_ERROR_REPORTING;
#else
    (void)quiet;
#endif
}

/* Forget the block at p, telling memcheck it was freed, if there is one.
 * table_lock held. */
static void forget_block(void *p)
{
    size_t i = addrmap_find(&table, (uintptr_t)p);
    if (i == ADDRMAP_NONE)
        return;
    addrmap_remove_at(&table, i);
#ifdef HAVE_VALGRIND
    VALGRIND_FREELIKE_BLOCK(p, 0);
#endif
}

void tools_block_made(void *p, size_t asked, size_t slot)
{
    pthread_mutex_lock(&table_lock);
    forget_block(p); /* a slot reused before its sweep said it was free */
    bool existed;
    size_t i = addrmap_insert(&table, (uintptr_t)p, &existed);
    if (i == ADDRMAP_NONE)
        hgc__fatal("out of memory for the table of objects kept for Valgrind");
    addrmap_vals(&table, i)[0] = asked;
    pthread_mutex_unlock(&table_lock);
#ifdef HAVE_VALGRIND
    VALGRIND_MALLOCLIKE_BLOCK(p, asked, 0, 1);
    if (slot > asked)
        VALGRIND_MAKE_MEM_NOACCESS((char *)p + asked, slot - asked);
#else
    (void)slot;
#endif
}

void tools_block_freed(void *p, size_t slot)
{
    pthread_mutex_lock(&table_lock);
    forget_block(p);
    pthread_mutex_unlock(&table_lock);
#ifdef HAVE_VALGRIND
    VALGRIND_MAKE_MEM_NOACCESS(p, slot);
#else
    (void)slot;
#endif
}

size_t tools_block_asked(const void *p)
{
    pthread_mutex_lock(&table_lock);
    size_t i = addrmap_find(&table, (uintptr_t)p);
    size_t n = i == ADDRMAP_NONE ? 0 : addrmap_vals(&table, i)[0];
    pthread_mutex_unlock(&table_lock);
    return n;
}
