/* tsan_mem.c: memcpy, memmove and memset of instrumented code. gcc 12 and
 * clang 14 built with -fsanitize=thread call the C library's own names for
 * them (explicit calls, and clang's struct copies too), expecting the
 * sanitizer's runtime to intercept them; racelab's runtime defines them in
 * the program, and a call made by instrumented code that touches the
 * watched range becomes steps like __tsan_memcpy's. Every other call (from
 * uninstrumented code, racelab's own included, or on private memory) costs
 * a range check and goes to the C library's function.
 *
 * Which code is instrumented: every instrumented function calls
 * __tsan_func_entry first and __tsan_func_exit last, so a stack of the
 * return addresses of those calls says which instrumented function runs
 * now; a copy's caller is instrumented when it is that function (libunwind
 * gives a function's bounds from its unwind information). Limits: a
 * function of uninstrumented code that an instrumented one calls and that
 * ends in a tail call of memcpy looks like its caller; a longjmp out of
 * instrumented code leaves its entries on the stack. Like tsan.c, this file
 * must not be built with -fsanitize=thread. */
#include <libunwind.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "racelab.h"
#include "tsan.h"

#define RA() ((uintptr_t)__builtin_return_address(0))

/* ---- which instrumented function runs ---- */

/* Deeper calls are counted, not kept: their copies make no steps. */
#define SHADOW_MAX 64

static _Thread_local uintptr_t shadow[SHADOW_MAX];
static _Thread_local unsigned shadow_depth;

RL_API void __tsan_func_entry(void *caller);
RL_API void __tsan_func_exit(void);

RL_API void __tsan_func_entry(void *caller)
{
    (void)caller;
    unsigned d = shadow_depth++;
    if (d < SHADOW_MAX)
        shadow[d] = RA();
}

RL_API void __tsan_func_exit(void)
{
    if (shadow_depth > 0)
        shadow_depth--;
}

/* The answers for the last call sites asked about: a copy in a loop asks
 * libunwind once. */
#define CACHE_SIZE 16

typedef struct {
    uintptr_t ra, top;
    int yes;
} answer;

static _Thread_local answer cache[CACHE_SIZE];

/* Whether the return addresses a and b are in the same function. */
static int same_function(uintptr_t a, uintptr_t b)
{
    unw_proc_info_t pi;
    memset(&pi, 0, sizeof pi);
    /* A return address may be just past its function's end (a call
     * of a function that does not return): the call is the byte before. */
    if (unw_get_proc_info_by_ip(unw_local_addr_space, a - 1, &pi, NULL) != 0)
        return 0;
    return b - 1 >= pi.start_ip && b - 1 < pi.end_ip;
}

/* Whether the code at return address ra is the instrumented function
 * that runs now. */
static int from_instrumented(uintptr_t ra)
{
    unsigned d = shadow_depth;
    if (d == 0 || d > SHADOW_MAX)
        return 0;
    uintptr_t top = shadow[d - 1];
    answer *c = &cache[(ra >> 2) % CACHE_SIZE];
    if (c->ra != ra || c->top != top) {
        c->ra = ra;
        c->top = top;
        c->yes = same_function(ra, top);
    }
    return c->yes;
}

/* ---- the C library's functions, or the processor's ---- */

/* The shared C library's __memcpy_chk, __memmove_chk and __memset_chk go
 * to its own implementations; the static one's call memcpy, memmove and
 * memset, which in a wholly static program (cc -static) are these, and
 * would come back here for ever. So the first call of each finds out
 * with an empty call (does it come back?), and where it would, the copies
 * are the processor's string instructions. The flags are racy between
 * threads only during that first call, and either way the copy is
 * right. */
enum { LIBC_UNKNOWN, LIBC_DIRECT, LIBC_LOOPS };

typedef struct {
    int state, probing;
} libc_way;

static libc_way way_memcpy, way_memmove, way_memset;

/* Whether the C library's function of w may be called; probe makes
 * the empty call that tells. */
static int libc_ok(libc_way *w, void (*probe)(void))
{
    int st = __atomic_load_n(&w->state, __ATOMIC_RELAXED);
    if (st != LIBC_UNKNOWN)
        return st == LIBC_DIRECT;
    if (__atomic_load_n(&w->probing, __ATOMIC_RELAXED)) {
        /* The C library came back: it calls us. */
        __atomic_store_n(&w->state, LIBC_LOOPS, __ATOMIC_RELAXED);
        return 0;
    }
    __atomic_store_n(&w->probing, 1, __ATOMIC_RELAXED);
    probe();
    __atomic_store_n(&w->probing, 0, __ATOMIC_RELAXED);
    if (__atomic_load_n(&w->state, __ATOMIC_RELAXED) == LIBC_UNKNOWN)
        __atomic_store_n(&w->state, LIBC_DIRECT, __ATOMIC_RELAXED);
    return __atomic_load_n(&w->state, __ATOMIC_RELAXED) == LIBC_DIRECT;
}

static char probe_byte;

static void probe_memcpy(void)
{
    rl__libc_memcpy(&probe_byte, &probe_byte + 1, 0, SIZE_MAX);
}

static void probe_memmove(void)
{
    rl__libc_memmove(&probe_byte, &probe_byte, 0, SIZE_MAX);
}

static void probe_memset(void)
{
    rl__libc_memset(&probe_byte, 0, 0, SIZE_MAX);
}

static void *cpu_copy(void *d, const void *s, size_t n)
{
    void *ret = d;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return ret;
}

static void *cpu_move(void *d, const void *s, size_t n)
{
    if ((uintptr_t)d - (uintptr_t)s >= n)
        return cpu_copy(d, s, n);
    /* The destination overlaps the source's end: backwards. */
    void *ret = d;
    char *dl = (char *)d + n - 1;
    const char *sl = (const char *)s + n - 1;
    __asm__ volatile("std\n\trep movsb\n\tcld"
                     : "+D"(dl), "+S"(sl), "+c"(n)
                     :
                     : "memory");
    return ret;
}

static void *cpu_fill(void *d, int c, size_t n)
{
    void *ret = d;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return ret;
}

/* ---- the interposed names ---- */

/* The fast path's test: the range meets neither the arena nor (there are
 * none) a watched mapping, and the C library's function of w is known to
 * be callable. No call, so the fast path saves no register. */
#define FAST(p, n, w)                                                          \
    __builtin_expect(!rl__tsan_meets_arena(p, n) && rl__tsan_nmaps == 0 &&     \
                         __atomic_load_n(&(w).state, __ATOMIC_RELAXED) ==      \
                             LIBC_DIRECT,                                      \
                     1)

/* The slow paths, out of line: the steps of a copy or fill of watched
 * memory made by instrumented code at return address ra, then the copy
 * itself (the C library's, or the processor's when that one would come
 * back here). */
static __attribute__((noinline)) void *
slow_copy(void *d, const void *s, size_t n, uintptr_t ra, int move)
{
    if ((rl__tsan_meets(d, n) || rl__tsan_meets(s, n)) && from_instrumented(ra))
        rl__tsan_copy(d, s, n, ra, move ? "memmove" : "memcpy");
    if (move)
        return libc_ok(&way_memmove, probe_memmove)
                   ? rl__libc_memmove(d, s, n, SIZE_MAX)
                   : cpu_move(d, s, n);
    return libc_ok(&way_memcpy, probe_memcpy)
               ? rl__libc_memcpy(d, s, n, SIZE_MAX)
               : cpu_copy(d, s, n);
}

static __attribute__((noinline)) void *slow_fill(void *d, int c, size_t n,
                                                 uintptr_t ra)
{
    if (rl__tsan_meets(d, n) && from_instrumented(ra))
        rl__tsan_fill(d, n, ra);
    return libc_ok(&way_memset, probe_memset)
               ? rl__libc_memset(d, c, n, SIZE_MAX)
               : cpu_fill(d, c, n);
}

RL_API void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    if (FAST(d, n, way_memcpy) && FAST(s, n, way_memcpy))
        return rl__libc_memcpy(d, s, n, SIZE_MAX);
    return slow_copy(d, s, n, RA(), 0);
}

RL_API void *memmove(void *d, const void *s, size_t n)
{
    if (FAST(d, n, way_memmove) && FAST(s, n, way_memmove))
        return rl__libc_memmove(d, s, n, SIZE_MAX);
    return slow_copy(d, s, n, RA(), 1);
}

RL_API void *memset(void *d, int c, size_t n)
{
    if (FAST(d, n, way_memset))
        return rl__libc_memset(d, c, n, SIZE_MAX);
    return slow_fill(d, c, n, RA());
}
