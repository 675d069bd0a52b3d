/* tsan.h: what the two halves of racelab's runtime for the compilers'
 * ThreadSanitizer instrumentation share: the watched range and the steps
 * of copies (tsan.c), and which code is instrumented (tsan_mem.c, with the
 * C library's copies it interposes). Internal to lib/. */
#ifndef RL_TSAN_H
#define RL_TSAN_H

#include <stddef.h>
#include <stdint.h>

/* The C library's copies under names the compiler does not know as
 * builtins, so that neither a call folded into memcpy nor a tail call
 * reaches the interposed memcpy of tsan_mem.c (its caller would look like
 * the instrumented code that called us). The checks pass: the size given
 * is the largest there is. */
extern void *rl__libc_memcpy(void *d, const void *s, size_t n,
                             size_t cap) __asm__("__memcpy_chk");
extern void *rl__libc_memmove(void *d, const void *s, size_t n,
                              size_t cap) __asm__("__memmove_chk");
extern void *rl__libc_memset(void *d, int c, size_t n,
                             size_t cap) __asm__("__memset_chk");

/* The watched range, [lo, lo + span): the arena while the calling process
 * is an actor of a controlled execution, empty (span 0) otherwise. */
extern __attribute__((visibility("hidden"))) uintptr_t rl__tsan_lo,
    rl__tsan_span;

/* The MAP_SHARED mappings the process made itself, other than the arena,
 * watched with it (tsan_map.c): how many while the arena is watched, 0
 * otherwise. */
extern __attribute__((visibility("hidden"))) int rl__tsan_nmaps;

/* Switches the watch of those mappings on (after the arena's range was
 * set) or off. */
void rl__tsan_maps_watch(int on);

/* Whether address a is in one of the watched mappings. */
int rl__tsan_in_maps(uintptr_t a);

/* Whether [a, a + n) meets one of the watched mappings: 1 with its
 * bounds in *lo and *hi (when not NULL), else 0. */
int rl__tsan_maps_meet(const void *a, unsigned long n, uintptr_t *lo,
                       uintptr_t *hi);

/* Whether address a is watched: in the arena, or in a watched mapping. */
#define RL__TSAN_WATCHED(a)                                                    \
    ((uintptr_t)(a)-rl__tsan_lo < rl__tsan_span ||                             \
     (__builtin_expect(rl__tsan_nmaps > 0, 0) &&                               \
      rl__tsan_in_maps((uintptr_t)(a))))

/* Whether [a, a + n) meets the arena's range. */
static inline int rl__tsan_meets_arena(const void *a, unsigned long n)
{
    uintptr_t lo = (uintptr_t)a;
    return n > 0 && lo < rl__tsan_lo + rl__tsan_span && lo + n > rl__tsan_lo &&
           rl__tsan_span > 0;
}

/* Whether [a, a + n) meets watched memory: the arena or a mapping. */
static inline int rl__tsan_meets(const void *a, unsigned long n)
{
    return rl__tsan_meets_arena(a, n) ||
           (__builtin_expect(rl__tsan_nmaps > 0, 0) &&
            rl__tsan_maps_meet(a, n, NULL, NULL));
}

/* The steps of a copy of n bytes from s to d made at return address ra:
 * a load of the part of s that is watched, then a store of the part of d
 * that is, each a schedule point labelled label. Nothing when neither is
 * watched. */
void rl__tsan_copy(void *d, const void *s, unsigned long n, uintptr_t ra,
                   const char *label);

/* The step of a fill of n bytes at d made at return address ra: a store
 * labelled "memset" of the watched part of d, if any. */
void rl__tsan_fill(void *d, unsigned long n, uintptr_t ra);

#endif /* RL_TSAN_H */
