/*
 * os.h -- the platform layer.  Everything that names a system call, a signal
 * or a machine register lives behind these functions so that another
 * operating system needs a new os_<name>.c and nothing else.
 */
#ifndef HGC_OS_H
#define HGC_OS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Reserve size bytes of address space aligned to align (a power of two),
 * readable and writable, committed lazily by the kernel; NULL on failure. */
void *os_reserve(size_t size, size_t align);
/* Give the physical memory behind [p, p+size) back; the range stays
 * reserved and reads as zero afterwards. */
void os_release(void *p, size_t size);
void os_unmap(void *p, size_t size);

uint64_t os_now_ns(void);
void os_sleep_ns(uint64_t ns);
uint64_t os_random_u64(void);
/* Processors online, at least 1. */
unsigned os_ncpus(void);
/* Run the calling thread below the process's other threads (a background
 * collector); best effort. */
void os_thread_background(void);

/* Bounds of the calling thread's stack: hi is one past the highest byte. */
void os_stack_bounds(uintptr_t *lo, uintptr_t *hi);

/* The callee-saved registers of the calling function are written to regs;
 * any pointer held only in a register is then in memory that the caller
 * scans.  OS_NREGS words. */
#define OS_NREGS 6
void os_spill_registers(uintptr_t regs[OS_NREGS]);

/* The current stack pointer (not the frame pointer: callee-saved registers
 * spilled by the prologue sit below the frame pointer). */
static inline uintptr_t os_stack_pointer(void)
{
    uintptr_t sp;
#if defined(__x86_64__)
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
#elif defined(__aarch64__)
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#else
    volatile char here;
    sp = (uintptr_t)&here;
#endif
    return sp;
}

/* Give the CPU to another runnable thread, if there is one. */
void os_yield(void);

/* One step of a spin-wait loop: tells the CPU (and the other hardware
 * thread of its core) that this one only waits. */
static inline void os_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#else
    __asm__ volatile("" ::: "memory");
#endif
}

/* Futex-style wait: sleep while *addr == expected (may wake spuriously).
 * Both are async-signal-safe. */
void os_wait_on(const unsigned *addr, unsigned expected);
void os_wake_all(const unsigned *addr);

/* Semaphore used for stop acknowledgements (post is async-signal-safe). */
void os_sem_init(void);
void os_sem_post(void);
/* Wait for a post, or at most ns nanoseconds. */
void os_sem_wait_ns(uint64_t ns);
/* Take every post there is without waiting. */
void os_sem_drain(void);

/* Install fn as the handler of signal sig (restart system calls, all other
 * signals unblocked, the signal itself blocked while it runs). */
bool os_install_signal(int sig, void (*fn)(int));
/* Send sig to thread t (a pthread_t); false if the thread no longer exists. */
bool os_signal_thread(unsigned long t, int sig);
unsigned long os_thread_self(void);
/* Start fn(arg) on a detached thread of hgc's own (a marker, the collector
 * thread) with every signal blocked, so that no stop signal or program
 * signal is ever delivered to it; 0 or the error number. */
int os_start_internal_thread(void *(*fn)(void *), void *arg);
/* The CLOCK_REALTIME time ns nanoseconds from now, for
 * pthread_cond_timedwait (struct timespec, passed as void * so that this
 * header needs no <time.h>). */
void os_realtime_after(void *timespec_out, uint64_t ns);

/* Call fn(lo, hi, arg) for each writable data segment of the executable and
 * of every loaded shared object, less the part the loader makes read-only
 * once it has relocated the object (RELRO): nothing written after that can
 * be there, so it holds no heap address. */
void os_each_data_segment(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);

/* Write tracking, for generational collection (gen.c).  The kernel records
 * which pages of registered ranges were written since they were last
 * protected.  Protecting never makes a write fail or stop -- user code and
 * system calls write as before, the first write to a protected page only
 * costs a minor fault -- so protection may be applied to any page at any
 * time; what matters is that a page written since its last protection is
 * always reported.  Granularity: OS_WT_PAGE bytes. */
#define OS_WT_PAGE ((uintptr_t)4096)
/* Probe the kernel (Linux: userfaultfd with asynchronous write protection
 * and the PAGEMAP_SCAN ioctl, 6.7 and later); false when unavailable. */
bool os_wt_init(void);
/* Track [lo, hi), page aligned; pages count as written until protected. */
bool os_wt_register(uintptr_t lo, uintptr_t hi);
/* Protect [lo, hi): later writes are reported.  A failure only means the
 * pages stay reported as written. */
bool os_wt_protect(uintptr_t lo, uintptr_t hi);
/* Lift the protection of [lo, hi) (the pages count as written again): a
 * write to a protected page costs a fault, one call costs less than a
 * fault per page for memory about to be reused. */
bool os_wt_unprotect(uintptr_t lo, uintptr_t hi);
/* Call fn for each run of pages of registered [lo, hi) written since
 * protected (or never protected); with reprotect, protect each such page
 * again in the same step (a write after it is reported next time).  false
 * if the kernel could not say, in which case any page may have been
 * written. */
bool os_wt_each_written(uintptr_t lo, uintptr_t hi, bool reprotect,
                        void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);
/* Whether the descriptors tracking uses are still the ones it opened
 * (false from the first time they are not: tracking is then off). */
bool os_wt_still_valid(void);
/* In a forked child: tracking is off (what was set up speaks of the
 * parent's address space). */
void os_wt_after_fork_child(void);

/* Write a message straight to stderr (no stdio, no allocation). */
void os_write_stderr(const char *buf, size_t n);

/* fd moved to a high number (close-on-exec), or fd itself when the table
 * has no room up there.  hgc's own descriptors live high, out of the
 * program's way, so that the program's are numbered as they would be
 * without hgc.  That matters after fork(): the child closes ours (they
 * speak of the parent), and a low number freed there would be the one
 * the program's next descriptor gets -- where the parent's got another.
 * Programs count on a closed number coming back: Crystal's runtime closes
 * and recreates a pipe in a forked child, and libevent then re-adds the
 * old number to its new epoll instance -- which, one number lower, was
 * that instance itself (test_fork_fds). */
int os_fd_out_of_the_way(int fd);

#endif
