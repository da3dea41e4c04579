/*
 * kvserver.c -- a small HTTP/1.1 key-value server whose every request
 * allocates through hgc: the multi-threaded test bed of the reliability
 * suite (tests/test_kvserver.c, scripts/kv_soak.sh).
 *
 *   kvserver [-p PORT] [-t THREADS] [-k KEYS]
 *
 * PORT 0 (the default) picks a free one; the first line on stdout is
 * "kvserver: listening on port N".  THREADS workers (default 4), each with
 * its own epoll instance and its own listening socket on the port
 * (SO_REUSEPORT: the kernel spreads connections).  KEYS keys key0..keyK-1
 * are stored at start with version-0 values (default 10000).
 *
 *   GET /k/KEY      200 with the value and an X-Key header, or 404
 *   PUT /k/KEY      store the body (at most 64 KiB) as KEY's value; 200 "ok"
 *   GET /stats      200, one JSON line: requests, collections, heap, RSS
 * Keep-alive by default; "Connection: close" closes after the answer.
 * SIGTERM or SIGINT: the workers stop and the server exits 0.
 *
 * Values are self-checking (kv_value.h): "KEY:VERSION:FILLER:SUM".  Every
 * stored entry also carries a checksum of its key and value that each GET
 * verifies before answering; a damaged entry aborts the server, so a lost
 * or reused object cannot go unnoticed.
 *
 * Memory: connections, their buffers, entries, keys, values and responses
 * are hgc objects.  What the kernel holds (epoll data) is not scanned, so
 * connections are also kept in a table indexed by fd, itself an hgc object
 * reachable from a global.
 */
#define _GNU_SOURCE
#include <hgc.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kv_value.h"

#define NBUCKETS 16384
#define NLOCKS 64
#define MAX_THREADS 64
#define MAX_BODY (64 * 1024)
#define MAX_HEADER 8192

typedef struct entry {
    struct entry *next;
    char *key;           /* NUL-terminated */
    char *val;
    size_t vlen;
    uint64_t sum;        /* kv_sum of key and value, set when stored */
} entry;

typedef struct conn {
    int fd;
    char *in;            /* pointer-free buffer */
    size_t in_len, in_cap;
    char *out;           /* pending response bytes */
    size_t out_len, out_off;
    int close_after;
} conn;

static entry **buckets;            /* hgc object, reachable from here */
static pthread_mutex_t locks[NLOCKS];
static conn **conns;               /* by fd; hgc object */
static size_t nconns;
static _Atomic int stopping;
static _Atomic uint64_t requests;
static int port;

static void die(const char *what)
{
    fprintf(stderr, "kvserver: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *xalloc(size_t n, int atomic)
{
    void *p = atomic ? hgc_malloc_atomic(n) : hgc_malloc(n);
    if (!p) {
        fprintf(stderr, "kvserver: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

static size_t bucket_of(const char *key, size_t klen)
{
    return (size_t)(kv_hash(key, klen) % NBUCKETS);
}

static uint64_t entry_sum(const entry *e)
{
    return kv_hash(e->key, strlen(e->key)) * 31 + kv_hash(e->val, e->vlen);
}

/* A bucket's lock, waited for in a blocking region: the holder may be
 * stopped for a collection (it allocates while it holds the lock), and a
 * thread asleep in pthread_mutex_lock must not be needed for the stop.
 * Without ThreadSanitizer the stop signal reaches it in the wait anyway;
 * under it, which delivers signals only at some intercepted calls, the
 * collection would wait for it forever (HGC_STOP_TIMEOUT). */
static void lock_bucket(pthread_mutex_t *l)
{
    if (pthread_mutex_trylock(l) == 0)
        return;
    hgc_blocking_enter();
    pthread_mutex_lock(l);
    hgc_blocking_leave();
}

static void store(const char *key, size_t klen, const char *val, size_t vlen)
{
    entry *e = (entry *)xalloc(sizeof *e, 0);
    e->key = (char *)xalloc(klen + 1, 1);
    memcpy(e->key, key, klen);
    e->val = (char *)xalloc(vlen ? vlen : 1, 1);
    memcpy(e->val, val, vlen);
    e->vlen = vlen;
    e->sum = entry_sum(e);
    size_t b = bucket_of(key, klen);
    pthread_mutex_t *l = &locks[b % NLOCKS];
    lock_bucket(l);
    /* Replace: the old entry becomes garbage. */
    entry **pp = &buckets[b];
    while (*pp && !(strlen((*pp)->key) == klen && memcmp((*pp)->key, key, klen) == 0))
        pp = &(*pp)->next;
    e->next = *pp ? (*pp)->next : NULL;
    *pp = e;
    pthread_mutex_unlock(l);
}

/* A copy of KEY's value (an hgc object) in *out, or 0 if absent. */
static int lookup(const char *key, size_t klen, char **out, size_t *out_len)
{
    size_t b = bucket_of(key, klen);
    pthread_mutex_t *l = &locks[b % NLOCKS];
    int found = 0;
    lock_bucket(l);
    for (entry *e = buckets[b]; e; e = e->next) {
        if (strlen(e->key) != klen || memcmp(e->key, key, klen) != 0)
            continue;
        if (entry_sum(e) != e->sum) {
            fprintf(stderr, "kvserver: entry %p for key %.*s damaged\n", (void *)e, (int)klen,
                    key);
            abort();
        }
        *out = (char *)xalloc(e->vlen ? e->vlen : 1, 1);
        memcpy(*out, e->val, e->vlen);
        *out_len = e->vlen;
        found = 1;
        break;
    }
    pthread_mutex_unlock(l);
    return found;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* Queue a response: status line, headers, body. */
static void respond(conn *c, int status, const char *xkey, size_t xkey_len, const char *body,
                    size_t blen)
{
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
    char head[512];
    int hn;
    if (xkey)
        hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nX-Key: %.*s\r\n%s\r\n", status,
                      reason, blen, (int)xkey_len, xkey,
                      c->close_after ? "Connection: close\r\n" : "");
    else
        hn = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s\r\n",
                      status, reason, blen, c->close_after ? "Connection: close\r\n" : "");
    size_t n = (size_t)hn + blen;
    char *out = (char *)xalloc(n, 1);
    memcpy(out, head, (size_t)hn);
    memcpy(out + hn, body, blen);
    c->out = out;
    c->out_len = n;
    c->out_off = 0;
}

static const char *find(const char *p, size_t n, const char *needle)
{
    return (const char *)memmem(p, n, needle, strlen(needle));
}

/* The value of header NAME (case-insensitive name) in [h, end), or NULL. */
static const char *header(const char *h, const char *end, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    while (h < end) {
        const char *eol = find(h, (size_t)(end - h), "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - h) > nl && strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
            const char *v = h + nl + 1;
            while (v < eol && *v == ' ')
                v++;
            *len = (size_t)(eol - v);
            return v;
        }
        h = eol + 2;
    }
    return NULL;
}

/* Handle one complete request at the start of c->in, if there is one;
 * returns the bytes it used, 0 if incomplete, -1 on a malformed request. */
static long handle(conn *c)
{
    const char *in = c->in, *hend = find(in, c->in_len, "\r\n\r\n");
    if (!hend)
        return c->in_len > MAX_HEADER ? -1 : 0;
    const char *line_end = find(in, c->in_len, "\r\n");
    const char *sp1 = memchr(in, ' ', (size_t)(line_end - in));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2)
        return -1;
    size_t vlen = 0, clen = 0;
    const char *v = header(line_end + 2, hend + 2, "Content-Length", &vlen);
    if (v) {
        clen = (size_t)strtoul(v, NULL, 10);
        if (clen > MAX_BODY)
            return -1;
    }
    size_t total = (size_t)(hend + 4 - in) + clen;
    if (c->in_len < total)
        return 0;
    const char *conn_hdr = header(line_end + 2, hend + 2, "Connection", &vlen);
    c->close_after = conn_hdr && vlen == 5 && strncasecmp(conn_hdr, "close", 5) == 0;
    const char *method = in, *path = sp1 + 1, *body = hend + 4;
    size_t mlen = (size_t)(sp1 - in), plen = (size_t)(sp2 - path);
    atomic_fetch_add_explicit(&requests, 1, memory_order_relaxed);

    if (plen > 3 && memcmp(path, "/k/", 3) == 0) {
        const char *key = path + 3;
        size_t klen = plen - 3;
        if (mlen == 3 && memcmp(method, "GET", 3) == 0) {
            char *val;
            size_t len;
            if (lookup(key, klen, &val, &len))
                respond(c, 200, key, klen, val, len);
            else
                respond(c, 404, NULL, 0, "no such key\n", 12);
        } else if (mlen == 3 && memcmp(method, "PUT", 3) == 0) {
            store(key, klen, body, clen);
            respond(c, 200, NULL, 0, "ok", 2);
        } else {
            respond(c, 400, NULL, 0, "bad method\n", 11);
        }
    } else if (plen == 6 && memcmp(path, "/stats", 6) == 0) {
        hgc_stats s;
        char json[512];
        hgc_get_stats(&s);
        int n = snprintf(json, sizeof json,
                         "{\"requests\":%llu,\"collections\":%llu,\"heap_bytes\":%zu,"
                         "\"live_bytes\":%zu,\"rss_kb\":%ld,\"pause_max_ms\":%.3f}\n",
                         (unsigned long long)atomic_load(&requests),
                         (unsigned long long)s.collections, s.heap_bytes, s.live_bytes,
                         rss_kb(), s.pause_max_ns / 1e6);
        respond(c, 200, NULL, 0, json, (size_t)n);
    } else {
        respond(c, 404, NULL, 0, "not found\n", 10);
    }
    return (long)total;
}

static void close_conn(int ep, conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    /* Before close(): the fd number may be reused at once, by another
     * worker's accept.  Atomic, as the kernel's ordering of close and
     * accept is invisible to ThreadSanitizer. */
    __atomic_store_n(&conns[c->fd], NULL, __ATOMIC_RELEASE);
    close(c->fd);
}

/* Write what is pending; 1 when all of it went out. */
static int flush(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t k = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return 0;
        c->out_off += (size_t)k;
    }
    c->out = NULL;
    c->out_len = c->out_off = 0;
    return 1;
}

/* Read and answer until the socket has nothing more; 0 to close. */
static int serve(int ep, conn *c)
{
    if (c->out) {
        if (!flush(c))
            return errno == EAGAIN || errno == EWOULDBLOCK;
        struct epoll_event ev = {EPOLLIN | EPOLLRDHUP, {.fd = c->fd}};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev); /* written out: stop asking */
        if (c->close_after)
            return 0;
    }
    for (;;) {
        if (c->in_len == c->in_cap) {
            if (c->in_cap >= MAX_HEADER + MAX_BODY)
                return 0;
            c->in_cap *= 2;
            c->in = (char *)hgc_realloc(c->in, c->in_cap);
            if (!c->in)
                abort();
        }
        ssize_t k = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK;
        if (k == 0)
            return 0;
        c->in_len += (size_t)k;
        long used;
        while ((used = handle(c)) > 0) {
            memmove(c->in, c->in + used, c->in_len - (size_t)used);
            c->in_len -= (size_t)used;
            if (!flush(c)) {
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                    return 0;
                struct epoll_event ev = {EPOLLIN | EPOLLOUT | EPOLLRDHUP, {.fd = c->fd}};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                return 1;
            }
            if (c->close_after)
                return 0;
        }
        if (used < 0) {
            c->close_after = 1;
            respond(c, 400, NULL, 0, "bad request\n", 12);
            flush(c);
            return 0;
        }
    }
}

static int listen_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a;
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("bind");
    if (listen(fd, 1024) < 0)
        die("listen");
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    return fd;
}

static void *worker(void *arg)
{
    int lfd = (int)(intptr_t)arg, ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {EPOLLIN, {.fd = lfd}}, evs[64];
    if (ep < 0)
        die("epoll_create1");
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    while (!atomic_load(&stopping)) {
        /* Waiting in the kernel is a blocking region: collections need not
         * wait for this thread. */
        hgc_blocking_enter();
        int n = epoll_wait(ep, evs, 64, 200);
        hgc_blocking_leave();
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int cfd;
                while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    if ((size_t)cfd >= nconns) {
                        close(cfd);
                        continue;
                    }
                    int one = 1;
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *c = (conn *)xalloc(sizeof *c, 0);
                    c->fd = cfd;
                    c->in_cap = 1024;
                    c->in = (char *)xalloc(c->in_cap, 1);
                    __atomic_store_n(&conns[cfd], c, __ATOMIC_RELEASE);
                    struct epoll_event cev = {EPOLLIN | EPOLLRDHUP, {.fd = cfd}};
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
                }
                continue;
            }
            conn *c = __atomic_load_n(&conns[fd], __ATOMIC_ACQUIRE);
            if (c && !serve(ep, c))
                close_conn(ep, c);
        }
    }
    close(ep);
    return NULL;
}

static void on_stop(int sig)
{
    (void)sig;
    atomic_store(&stopping, 1);
}

int main(int argc, char **argv)
{
    int nthreads = 4, nkeys = 10000, opt;
    pthread_t th[MAX_THREADS];
    while ((opt = getopt(argc, argv, "p:t:k:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 't': nthreads = atoi(optarg); break;
        case 'k': nkeys = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-p PORT] [-t THREADS] [-k KEYS]\n", argv[0]);
            return 2;
        }
    }
    if (nthreads < 1 || nthreads > MAX_THREADS || nkeys < 0) {
        fprintf(stderr, "kvserver: THREADS must be 1..%d and KEYS >= 0\n", MAX_THREADS);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    hgc_init();
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_init(&locks[i], NULL);
    buckets = (entry **)xalloc(NBUCKETS * sizeof *buckets, 0);
    struct rlimit rl;
    nconns = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1000000 ? rl.rlim_cur : 65536;
    conns = (conn **)xalloc(nconns * sizeof *conns, 0);
    for (int i = 0; i < nkeys; i++) {
        char key[32], val[KV_MAX_VALUE];
        int kl = snprintf(key, sizeof key, "key%d", i);
        size_t vl = kv_value(val, key, (size_t)kl, 0);
        store(key, (size_t)kl, val, vl);
    }

    int lfd[MAX_THREADS];
    for (int i = 0; i < nthreads; i++)
        lfd[i] = listen_socket(); /* the first picks the port, the rest share it */
    printf("kvserver: listening on port %d\n", port);
    fflush(stdout);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)lfd[i]) != 0)
            die("pthread_create");
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    hgc_stats s;
    hgc_get_stats(&s);
    printf("kvserver: stopped after %llu requests, %llu collections, max pause %.3f ms\n",
           (unsigned long long)atomic_load(&requests), (unsigned long long)s.collections,
           s.pause_max_ns / 1e6);
    return 0;
}
