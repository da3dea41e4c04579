/*
 * kv_value.h -- the self-checking values of kvserver and its clients.
 *
 * A value is "KEY:VERSION:FILLER:SUM": FILLER is 0..399 letters derived
 * from KEY and VERSION, SUM the decimal kv_sum of everything before the
 * last colon.  A client that receives a value for a key can check it
 * without knowing which version it should be (scripts/kv_check.lua does
 * the same in Lua).
 */
#ifndef KV_VALUE_H
#define KV_VALUE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define KV_MAX_VALUE 600

/* FNV-1a, 64-bit. */
static inline uint64_t kv_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* sum = (sum * 31 + byte) mod 1000000007: exact in Lua's doubles too. */
static inline uint64_t kv_sum(const char *p, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (s * 31 + (unsigned char)p[i]) % 1000000007u;
    return s;
}

/* Write KEY's value of VERSION into out (KV_MAX_VALUE bytes); its length. */
static inline size_t kv_value(char *out, const char *key, size_t klen, unsigned long version)
{
    if (klen > 64)
        klen = 64;
    int n = snprintf(out, KV_MAX_VALUE, "%.*s:%lu:", (int)klen, key, version);
    size_t fill = (size_t)((kv_hash(key, klen) + version * 7) % 400);
    for (size_t i = 0; i < fill; i++)
        out[n + (int)i] = (char)('a' + (i + version) % 26);
    n += (int)fill;
    n += snprintf(out + n, (size_t)(KV_MAX_VALUE - n), ":%llu",
                  (unsigned long long)kv_sum(out, (size_t)n));
    return (size_t)n;
}

/* 1 when v[0..n) is a well-formed value of KEY. */
static inline int kv_value_ok(const char *v, size_t n, const char *key, size_t klen)
{
    if (n <= klen + 1 || memcmp(v, key, klen) != 0 || v[klen] != ':')
        return 0;
    const char *last = NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i] == ':')
            last = v + i;
    if (!last || last == v + klen)
        return 0;
    char want[24];
    int wl = snprintf(want, sizeof want, "%llu",
                      (unsigned long long)kv_sum(v, (size_t)(last - v)));
    return (size_t)(v + n - last - 1) == (size_t)wl && memcmp(last + 1, want, (size_t)wl) == 0;
}

#endif
