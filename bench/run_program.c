/*
 * run_program -- run a real program once and report it like a benchmark:
 *
 *   run_program NAME BACKEND INPUT COMMAND [ARGS...]
 *
 * runs COMMAND with INPUT on its standard input, reads its standard
 * output (a checksum of it is reported, so that runs on different back
 * ends can be compared), waits for it and prints
 *
 *   RESULT name=NAME time_s=... peak_rss_kb=... output_bytes=...
 *          checksum=... collections=-1 max_pause_ms=-1 backend=BACKEND
 *
 * The back end is whatever the environment selects (LD_LIBRARY_PATH); the
 * child's peak RSS comes from wait4().  Exit status 1 if the child fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: run_program NAME BACKEND INPUT COMMAND [ARGS...]\n");
        return 2;
    }
    int in = open(argv[3], O_RDONLY);
    int out[2];
    if (in < 0 || pipe(out) != 0) {
        fprintf(stderr, "run_program: %s: %s\n", argv[3], strerror(errno));
        return 1;
    }
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("run_program: fork");
        return 1;
    }
    if (pid == 0) {
        dup2(in, 0);
        dup2(out[1], 1);
        close(in);
        close(out[0]);
        close(out[1]);
        execvp(argv[4], argv + 4);
        fprintf(stderr, "run_program: %s: %s\n", argv[4], strerror(errno));
        _exit(127);
    }
    close(in);
    close(out[1]);
    uint64_t hash = 0xcbf29ce484222325ull; /* FNV-1a over the output */
    size_t bytes = 0;
    unsigned char buf[65536];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        for (ssize_t i = 0; i < n; i++)
            hash = (hash ^ buf[i]) * 0x100000001b3ull;
        if (n > 0)
            bytes += (size_t)n;
    }
    close(out[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) {
        perror("run_program: wait4");
        return 1;
    }
    double t = now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "run_program: %s failed (status %d)\n", argv[4], status);
        return 1;
    }
    printf("RESULT name=%s time_s=%.4f peak_rss_kb=%ld output_bytes=%zu checksum=%016" PRIx64
           " collections=-1 max_pause_ms=-1 backend=%s\n",
           argv[1], t, ru.ru_maxrss, bytes, hash, argv[2]);
    return 0;
}
