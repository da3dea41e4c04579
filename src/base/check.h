/*
 * check.h -- executable invariants.
 *
 *   hgc_assert(cond, fmt, ...)      an invariant that is cheap to test: on
 *                                   in debug and sanitizer builds
 *                                   (HGC_CHECK_LEVEL >= 1);
 *   hgc_assert_slow(cond, fmt, ...) one that walks a whole span, list or
 *                                   heap: on at HGC_CHECK_LEVEL >= 2;
 *   hgc_check_level                 for code that only gathers what an
 *                                   assertion then tests.
 *
 * A failed assertion names what broke -- the message is required -- and
 * where, then aborts: "hgc: invariant broken at mark/scan.c:LINE: marker 0:
 * push at 4096 past its stack of 4096 (m->top < m->cap)".  Off, the
 * condition is not evaluated but still compiled, so it cannot rot.
 *
 * The build sets HGC_CHECK_LEVEL (CMakeLists.txt): 0 in release builds, 1
 * in sanitizer builds, 2 in debug builds.
 */
#ifndef HGC_BASE_CHECK_H
#define HGC_BASE_CHECK_H

#include "base/util.h"

#ifndef HGC_CHECK_LEVEL
#define HGC_CHECK_LEVEL 0
#endif

enum { hgc_check_level = HGC_CHECK_LEVEL };

__attribute__((noreturn, cold, format(printf, 4, 5))) void
hgc__invariant_broken(const char *file, int line, const char *cond, const char *fmt, ...);

#define hgc__check_at(level, cond, ...)                                                   \
    do {                                                                                  \
        if (HGC_CHECK_LEVEL >= (level) && unlikely(!(cond)))                              \
            hgc__invariant_broken(__FILE__, __LINE__, #cond, __VA_ARGS__);               \
    } while (0)

#define hgc_assert(cond, ...) hgc__check_at(1, cond, __VA_ARGS__)
#define hgc_assert_slow(cond, ...) hgc__check_at(2, cond, __VA_ARGS__)

#endif
