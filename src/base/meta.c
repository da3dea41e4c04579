/* meta.c -- bump allocator for collector metadata, outside the collected heap.
 *
 * Metadata is never freed to the system: users recycle their own objects
 * (span descriptors, thread records) through free lists, which also keeps
 * those objects type-stable for lock-free readers. */
#include <pthread.h>
#include <stdatomic.h>

#include "os/os.h"
#include "base/util.h"

#define META_CHUNK ((size_t)4 << 20)

static pthread_mutex_t meta_lock = PTHREAD_MUTEX_INITIALIZER;
static char *meta_cur, *meta_end;

void *meta_alloc(size_t size)
{
    size = (size + 63) & ~(size_t)63;
    if (size >= META_CHUNK / 4) {
        void *p = os_reserve(size, 4096);
        if (!p)
            hgc__fatal("out of memory for collector metadata (%zu bytes)", size);
        return p;
    }
    pthread_mutex_lock(&meta_lock);
    if ((size_t)(meta_end - meta_cur) < size) {
        char *c = os_reserve(META_CHUNK, 4096);
        if (!c) {
            pthread_mutex_unlock(&meta_lock);
            hgc__fatal("out of memory for collector metadata (%zu bytes)", size);
        }
        meta_cur = c;
        meta_end = c + META_CHUNK;
    }
    void *p = meta_cur;
    meta_cur += size;
    pthread_mutex_unlock(&meta_lock);
    return p;
}
