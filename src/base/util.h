/* util.h -- small helpers shared by every layer: branch hints, fatal errors,
 * warnings, and the internal metadata allocator. */
#ifndef HGC_UTIL_H
#define HGC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))
/* On the entry points that hold an inline fast path (allocation, free):
 * where the linker happens to place them moved churn by 7% between builds
 * that differed only in unrelated code.  A cache-line start fixes it. */
#define HOT_ENTRY __attribute__((aligned(64)))
#define UNUSED __attribute__((unused))
/* On extern declarations of internal variables: -fvisibility=hidden covers
 * definitions only, and without this every use from another file of the
 * shared library would load the address from the GOT first. */
#define INTERNAL __attribute__((visibility("hidden")))

/* Conservative scanning reads whole stacks and objects word by word,
 * including bytes the sanitizers consider out of bounds (stack redzones,
 * other threads' frames).  Over-reading is the defined behaviour of a
 * conservative collector: it can only retain too much, never corrupt.
 * Functions that do it carry this attribute. */
#if defined(__clang__)
#define NO_SANITIZE_SCAN __attribute__((no_sanitize("address", "thread", "hwaddress")))
#elif defined(__GNUC__)
#define NO_SANITIZE_SCAN __attribute__((no_sanitize_address, no_sanitize_thread))
#else
#define NO_SANITIZE_SCAN
#endif

/* Built with ThreadSanitizer? */
#if defined(__SANITIZE_THREAD__)
#define HGC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HGC_TSAN 1
#endif
#endif
#ifndef HGC_TSAN
#define HGC_TSAN 0
#endif

/* Built with AddressSanitizer? */
#if defined(__SANITIZE_ADDRESS__)
#define HGC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HGC_ASAN 1
#endif
#endif
#ifndef HGC_ASAN
#define HGC_ASAN 0
#endif
#if defined(__clang__)
#define NO_SANITIZE_ADDRESS __attribute__((no_sanitize("address", "hwaddress")))
#elif defined(__GNUC__)
#define NO_SANITIZE_ADDRESS __attribute__((no_sanitize_address))
#else
#define NO_SANITIZE_ADDRESS
#endif

/* Print "hgc: <message>" on one line to stderr and abort(). */
__attribute__((noreturn, format(printf, 1, 2))) void hgc__fatal(const char *fmt, ...);
/* Print "hgc: warning: <message>" on one line to stderr, or hand the
 * message to the handler set with hgc_set_warn_handler(). */
__attribute__((format(printf, 1, 2))) void hgc__warn(const char *fmt, ...);

/* Metadata memory (span descriptors, thread records, tables): zeroed,
 * 64-byte aligned, never part of the collected heap and never scanned.
 * Aborts when the system has no memory left for bookkeeping. */
void *meta_alloc(size_t size);

#endif
