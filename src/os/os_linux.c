/* os_linux.c -- the platform layer for Linux (x86_64 first, aarch64 compiles). */
#define _GNU_SOURCE
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void *os_reserve(size_t size, size_t align)
{
    /* Over-reserve by align and trim both ends to get an aligned range. */
    size_t len = size + align;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = start - (uintptr_t)p;
    size_t tail = len - head - size;
    if (head)
        munmap(p, head);
    if (tail)
        munmap((char *)start + size, tail);
    return (void *)start;
}

void os_release(void *p, size_t size)
{
    madvise(p, size, MADV_DONTNEED);
}

void os_unmap(void *p, size_t size)
{
    munmap(p, size);
}

unsigned os_ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (unsigned)n;
}

int os_start_internal_thread(void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited by the new thread */
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&tid, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void os_realtime_after(void *timespec_out, uint64_t ns)
{
    struct timespec *ts = timespec_out;
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_nsec += (long)(ns % 1000000000u);
    ts->tv_sec += (time_t)(ns / 1000000000u) + ts->tv_nsec / 1000000000;
    ts->tv_nsec %= 1000000000;
}

void os_thread_background(void)
{
    /* Linux keeps a nice value per thread. */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
}

void os_sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

uint64_t os_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t os_random_u64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
        v = os_now_ns() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    return v | 1;
}

void os_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    if (addr == NULL) {
        /* Fall back to a conservative guess around the current frame. */
        uintptr_t sp = os_stack_pointer();
        *lo = sp - (1u << 20);
        *hi = sp + (1u << 16);
        return;
    }
    *lo = (uintptr_t)addr;
    *hi = (uintptr_t)addr + size;
}

/* Kept out of line so the spill happens in a frame of its own. */
__attribute__((noinline)) void os_spill_registers(uintptr_t regs[OS_NREGS])
{
#if defined(__x86_64__)
    __asm__ volatile("mov %%rbx, 0(%0)\n\t"
                     "mov %%rbp, 8(%0)\n\t"
                     "mov %%r12, 16(%0)\n\t"
                     "mov %%r13, 24(%0)\n\t"
                     "mov %%r14, 32(%0)\n\t"
                     "mov %%r15, 40(%0)\n\t"
                     :
                     : "r"(regs)
                     : "memory");
#else
    /* Make the compiler save every callee-saved register in this frame, then
     * copy this frame's top into regs. */
    __builtin_unwind_init();
    memset(regs, 0, OS_NREGS * sizeof regs[0]);
#endif
}

void os_yield(void)
{
    sched_yield();
}

void os_wait_on(const unsigned *addr, unsigned expected)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

void os_wake_all(const unsigned *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

static sem_t ack_sem;

void os_sem_init(void)
{
    sem_init(&ack_sem, 0, 0);
}

void os_sem_post(void)
{
    sem_post(&ack_sem);
}

void os_sem_drain(void)
{
    while (sem_trywait(&ack_sem) == 0) {
    }
}

void os_sem_wait_ns(uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec += (long)(ns % 1000000000u);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (sem_timedwait(&ack_sem, &ts) != 0 && errno == EINTR) {
    }
}

bool os_install_signal(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, sig);
    return sigaction(sig, &sa, NULL) == 0;
}

bool os_signal_thread(unsigned long t, int sig)
{
    return pthread_kill((pthread_t)t, sig) == 0;
}

unsigned long os_thread_self(void)
{
    return (unsigned long)pthread_self();
}

struct seg_walk {
    void (*fn)(uintptr_t, uintptr_t, void *);
    void *arg;
};

/* RELRO is typically the head of the writable segment (.init_array,
 * .data.rel.ro, .dynamic, .got): about a fifth of the bytes the collector
 * would scan in a small C program, most of them libc's. */
static int each_phdr(struct dl_phdr_info *info, size_t size, void *data)
{
    struct seg_walk *w = data;
    uintptr_t relro_lo = 0, relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = info->dlpi_addr + ph->p_vaddr;
            relro_hi = relro_lo + ph->p_memsz;
        }
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        uintptr_t hi = lo + ph->p_memsz;
        if (relro_lo >= hi || relro_hi <= lo) {
            w->fn(lo, hi, w->arg);
            continue;
        }
        /* What lies before and after the read-only part. */
        if (lo < relro_lo)
            w->fn(lo, relro_lo, w->arg);
        if (relro_hi < hi)
            w->fn(relro_hi, hi, w->arg);
    }
    return 0;
}

void os_each_data_segment(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    struct seg_walk w = {fn, arg};
    dl_iterate_phdr(each_phdr, &w);
}

void os_write_stderr(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = write(2, buf, n);
        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            return;
        }
        buf += k;
        n -= (size_t)k;
    }
}

/* ------------------------------------------------------------ write tracking
 * userfaultfd in asynchronous write-protect mode: the kernel resolves the
 * fault of a write to a protected page itself (no handler thread, kernel
 * writes from system calls included) and clears the page's protection;
 * PAGEMAP_SCAN then lists the pages without protection.  UFFD_USER_MODE_ONLY
 * makes the descriptor available without privileges.  The constants are
 * those of the kernel's ABI, spelled here because older headers lack them. */
#define WT_FEATURE_WP_ASYNC ((uint64_t)1 << 15)
#define WT_PAGE_IS_WRITTEN ((uint64_t)1 << 1)
#define WT_SCAN_CHECK_WPASYNC ((uint64_t)1 << 1)
#define WT_SCAN_WP_MATCHING ((uint64_t)1 << 0)
struct wt_region {
    uint64_t start, end, categories;
};
struct wt_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define WT_PAGEMAP_SCAN _IOWR('f', 16, struct wt_scan_arg)
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static int wt_uffd = -1, wt_pagemap = -1;
/* What the two descriptors were opened on: a program that closes
 * descriptors it did not open (a daemon's loop over all of them) may get
 * the numbers back for files of its own. */
static struct stat wt_uffd_st, wt_pagemap_st;

static bool same_file(int fd, const struct stat *was)
{
    struct stat now;
    return fstat(fd, &now) == 0 && now.st_dev == was->st_dev && now.st_ino == was->st_ino;
}

bool os_wt_still_valid(void)
{
    if (wt_uffd < 0)
        return false;
    if (same_file(wt_uffd, &wt_uffd_st) && same_file(wt_pagemap, &wt_pagemap_st))
        return true;
    wt_uffd = wt_pagemap = -1; /* not ours any more: never touch them again */
    return false;
}

bool os_wt_register(uintptr_t lo, uintptr_t hi)
{
    struct uffdio_register reg = {.range = {lo, hi - lo}, .mode = UFFDIO_REGISTER_MODE_WP};
    return wt_uffd >= 0 && ioctl(wt_uffd, UFFDIO_REGISTER, &reg) == 0;
}

bool os_wt_protect(uintptr_t lo, uintptr_t hi)
{
    struct uffdio_writeprotect wp = {.range = {lo, hi - lo}, .mode = UFFDIO_WRITEPROTECT_MODE_WP};
    return wt_uffd >= 0 && ioctl(wt_uffd, UFFDIO_WRITEPROTECT, &wp) == 0;
}

bool os_wt_unprotect(uintptr_t lo, uintptr_t hi)
{
    struct uffdio_writeprotect wp = {.range = {lo, hi - lo}, .mode = 0};
    return wt_uffd >= 0 && ioctl(wt_uffd, UFFDIO_WRITEPROTECT, &wp) == 0;
}

bool os_wt_each_written(uintptr_t lo, uintptr_t hi, bool reprotect,
                        void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    enum { NREGIONS = 256 };
    struct wt_region vec[NREGIONS];
    if (wt_pagemap < 0)
        return false;
    while (lo < hi) {
        struct wt_scan_arg a = {
            .size = sizeof a,
            /* Fail rather than skip a range that is not tracked. */
            .flags = WT_SCAN_CHECK_WPASYNC | (reprotect ? WT_SCAN_WP_MATCHING : 0),
            .start = lo,
            .end = hi,
            .vec = (uintptr_t)vec,
            .vec_len = NREGIONS,
            .category_mask = WT_PAGE_IS_WRITTEN,
            .return_mask = WT_PAGE_IS_WRITTEN,
        };
        long n = ioctl(wt_pagemap, WT_PAGEMAP_SCAN, &a);
        if (n < 0)
            return false;
        for (long i = 0; i < n; i++)
            fn((uintptr_t)vec[i].start, (uintptr_t)vec[i].end, arg);
        if (a.walk_end <= lo)
            return false; /* no progress: never loop forever */
        lo = (uintptr_t)a.walk_end;
    }
    return true;
}

/* Collects what os_wt_each_written reports, for the probe. */
static void wt_probe_note(uintptr_t lo, uintptr_t hi, void *arg)
{
    uintptr_t *seen = arg;
    if (seen[0] == 0)
        seen[0] = lo;
    seen[1] += (hi - lo) / OS_WT_PAGE;
}

/* See os.h.  The floor: high above what programs use, below FD_SETSIZE
 * (so it is under the default limit of 1024 too), or half the limit when
 * that is lower. */
#define OS_FD_FLOOR 1000
int os_fd_out_of_the_way(int fd)
{
    int floor = OS_FD_FLOOR;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)OS_FD_FLOOR * 2)
        floor = (int)(rl.rlim_cur / 2);
    int high = fcntl(fd, F_DUPFD_CLOEXEC, floor);
    if (high < 0)
        return fd; /* a full table: keep the number we have */
    close(fd);
    return high;
}

bool os_wt_init(void)
{
    if ((size_t)sysconf(_SC_PAGESIZE) != OS_WT_PAGE)
        return false;
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0)
        return false;
    fd = os_fd_out_of_the_way(fd);
    struct uffdio_api api = {.api = UFFD_API, .features = WT_FEATURE_WP_ASYNC};
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pm >= 0)
        pm = os_fd_out_of_the_way(pm);
    if (ioctl(fd, UFFDIO_API, &api) != 0 || !(api.features & WT_FEATURE_WP_ASYNC) || pm < 0) {
        close(fd);
        if (pm >= 0)
            close(pm);
        return false;
    }
    if (fstat(fd, &wt_uffd_st) != 0 || fstat(pm, &wt_pagemap_st) != 0) {
        close(fd);
        close(pm);
        return false;
    }
    wt_uffd = fd;
    wt_pagemap = pm;
    /* Check the whole cycle on two scratch pages: register, touch both,
     * protect, write the second; exactly it must be reported. */
    bool ok = false;
    char *p = mmap(NULL, 2 * OS_WT_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        uintptr_t lo = (uintptr_t)p, hi = lo + 2 * OS_WT_PAGE, seen[2] = {0, 0};
        if (os_wt_register(lo, hi)) {
            p[0] = p[OS_WT_PAGE] = 1;
            if (os_wt_protect(lo, hi)) {
                ((volatile char *)p)[OS_WT_PAGE] = 2;
                ok = os_wt_each_written(lo, hi, false, wt_probe_note, seen) &&
                     seen[0] == lo + OS_WT_PAGE && seen[1] == 1;
            }
        }
        munmap(p, 2 * OS_WT_PAGE);
    }
    if (!ok) {
        close(wt_uffd);
        close(wt_pagemap);
        wt_uffd = wt_pagemap = -1;
    }
    return ok;
}

void os_wt_after_fork_child(void)
{
    /* Both descriptors still speak of the parent's address space. */
    if (wt_uffd >= 0)
        close(wt_uffd);
    if (wt_pagemap >= 0)
        close(wt_pagemap);
    wt_uffd = wt_pagemap = -1;
}
