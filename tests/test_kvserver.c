/*
 * test_kvserver: the short version of the server soak.  Starts
 * examples/kvserver (4 workers, 2000 keys) on a free loopback port and
 * drives it from 4 client threads: GETs of random keys (each answer must be
 * 200, carry the key in X-Key and a well-formed value of that key), PUTs of
 * new versions, and /stats, half over keep-alive connections and half with
 * "Connection: close" (one connection per request).  Then /stats must show
 * collections and an RSS under RSS_BOUND, and SIGTERM must stop the server
 * with exit status 0.
 */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "../examples/kv_value.h"

#define NCLIENTS 4
#define RSS_BOUND_KB (256 * 1024)

static int port;
static size_t per_client;
static atomic_size_t gets_ok, puts_ok, stats_ok;

static int connect_server(void)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECKF(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s", strerror(errno));
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        CHECKF(k > 0, "write: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

typedef struct reply {
    int status;
    char xkey[80];
    char body[1024];
    size_t blen;
} reply;

/* Read one response from fd (buffered in buf/len across calls). */
static void read_reply(int fd, char *buf, size_t *len, reply *r)
{
    char *hend;
    while (!(hend = (char *)memmem(buf, *len, "\r\n\r\n", 4))) {
        ssize_t k = read(fd, buf + *len, 4096 - *len);
        CHECKF(k > 0, "read: %s (got %zu bytes)", k < 0 ? strerror(errno) : "EOF", *len);
        *len += (size_t)k;
    }
    CHECK(sscanf(buf, "HTTP/1.1 %d", &r->status) == 1);
    size_t clen = 0;
    const char *cl = (const char *)memmem(buf, (size_t)(hend - buf), "Content-Length: ", 16);
    CHECK(cl != NULL);
    clen = strtoul(cl + 16, NULL, 10);
    CHECK(clen < sizeof r->body);
    r->xkey[0] = 0;
    const char *xk = (const char *)memmem(buf, (size_t)(hend - buf), "X-Key: ", 7);
    if (xk)
        sscanf(xk + 7, "%79[^\r]", r->xkey);
    size_t head = (size_t)(hend + 4 - buf);
    while (*len < head + clen) {
        ssize_t k = read(fd, buf + *len, 4096 - *len);
        CHECKF(k > 0, "read body: %s", k < 0 ? strerror(errno) : "EOF");
        *len += (size_t)k;
    }
    memcpy(r->body, buf + head, clen);
    r->body[clen] = 0;
    r->blen = clen;
    memmove(buf, buf + head + clen, *len - head - clen);
    *len -= head + clen;
}

static void *client(void *arg)
{
    test_rng rng = {(uint64_t)(intptr_t)arg * 7919 + 1};
    int keepalive = (int)(intptr_t)arg % 2 == 0;
    int fd = -1;
    char buf[4096];
    size_t len = 0;
    for (size_t i = 0; i < per_client; i++) {
        char key[32], req[1024], val[KV_MAX_VALUE];
        int kl = snprintf(key, sizeof key, "key%u", (unsigned)test_rand_range(&rng, 0, 1999));
        unsigned op = (unsigned)test_rand(&rng) % 100;
        const char *conn_hdr = keepalive ? "" : "Connection: close\r\n";
        int n;
        if (op < 80)
            n = snprintf(req, sizeof req, "GET /k/%s HTTP/1.1\r\nHost: t\r\n%s\r\n", key, conn_hdr);
        else if (op < 95) {
            size_t vl = kv_value(val, key, (size_t)kl, (unsigned long)test_rand_range(&rng, 1, 1000000));
            n = snprintf(req, sizeof req, "PUT /k/%s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n%s\r\n%.*s",
                         key, vl, conn_hdr, (int)vl, val);
        } else
            n = snprintf(req, sizeof req, "GET /stats HTTP/1.1\r\nHost: t\r\n%s\r\n", conn_hdr);
        if (fd < 0) {
            fd = connect_server();
            len = 0;
        }
        send_all(fd, req, (size_t)n);
        reply r;
        read_reply(fd, buf, &len, &r);
        CHECKF(r.status == 200, "request \"%.40s\": status %d", req, r.status);
        if (op < 80) {
            CHECKF(strcmp(r.xkey, key) == 0, "GET %s answered for key %s", key, r.xkey);
            CHECKF(kv_value_ok(r.body, r.blen, key, (size_t)kl), "GET %s: bad value \"%.80s\"",
                   key, r.body);
            atomic_fetch_add(&gets_ok, 1);
        } else if (op < 95) {
            CHECK(r.blen == 2 && memcmp(r.body, "ok", 2) == 0);
            atomic_fetch_add(&puts_ok, 1);
        } else {
            CHECK(strstr(r.body, "\"collections\":") != NULL);
            atomic_fetch_add(&stats_ok, 1);
        }
        if (!keepalive || i % 50 == 49) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static long stat_field(const char *json, const char *name)
{
    const char *p = strstr(json, name);
    return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

int main(void)
{
    extern char **environ;
    int out[2], status, i;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)KVSERVER_PATH, (char *)"-p", (char *)"0", (char *)"-t", (char *)"4",
                    (char *)"-k", (char *)"2000", NULL};
    char line[256] = "";
    pthread_t th[NCLIENTS];
    FILE *f;

    per_client = test_scale(6000, 4, 6);
    CHECK(pipe(out) == 0);
    CHECK(posix_spawn_file_actions_init(&fa) == 0);
    CHECK(posix_spawn_file_actions_adddup2(&fa, out[1], 1) == 0);
    CHECK(posix_spawn_file_actions_addclose(&fa, out[0]) == 0);
    CHECKF(posix_spawn(&pid, KVSERVER_PATH, &fa, NULL, argv, environ) == 0, "spawn %s",
           KVSERVER_PATH);
    close(out[1]);
    f = fdopen(out[0], "r");
    CHECK(f != NULL && fgets(line, sizeof line, f) != NULL);
    CHECKF(sscanf(line, "kvserver: listening on port %d", &port) == 1, "server said: %s", line);

    for (i = 0; i < NCLIENTS; i++)
        CHECK(pthread_create(&th[i], NULL, client, (void *)(intptr_t)i) == 0);
    for (i = 0; i < NCLIENTS; i++)
        CHECK(pthread_join(th[i], NULL) == 0);

    {
        int fd = connect_server();
        char buf[4096];
        size_t len = 0;
        reply r;
        const char *req = "GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        send_all(fd, req, strlen(req));
        read_reply(fd, buf, &len, &r);
        close(fd);
        long colls = stat_field(r.body, "\"collections\":"), rss = stat_field(r.body, "\"rss_kb\":");
        printf("server stats: %s", r.body);
        CHECKF(colls > 0, "no collection in the server: %s", r.body);
        CHECKF(rss > 0 && rss < RSS_BOUND_KB, "server RSS %ld kB (bound %d kB)", rss, RSS_BOUND_KB);
    }
    CHECK(kill(pid, SIGTERM) == 0);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server ended with status %#x", status);
    while (fgets(line, sizeof line, f))
        printf("%s", line);
    fclose(f);
    printf("test_kvserver: %zu GETs, %zu PUTs, %zu stats checked over %d clients\n",
           atomic_load(&gets_ok), atomic_load(&puts_ok), atomic_load(&stats_ok), NCLIENTS);
    CHECK(atomic_load(&gets_ok) > 0 && atomic_load(&puts_ok) > 0);
    printf("test_kvserver: ok\n");
    return 0;
}
