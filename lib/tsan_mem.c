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

/* ---- the copies ---- */

/* The slow paths, out of line so that the fast one saves no register:
 * a copy or fill that meets the watched range, made at return address
 * ra. */
static __attribute__((noinline, cold)) void
watched_copy(void *d, const void *s, size_t n, uintptr_t ra, const char *label)
{
    if (from_instrumented(ra))
        rl__tsan_copy(d, s, n, ra, label);
}

static __attribute__((noinline, cold)) void watched_fill(void *d, size_t n,
                                                         uintptr_t ra)
{
    if (from_instrumented(ra))
        rl__tsan_fill(d, n, ra);
}

#define MEETS(p, n) __builtin_expect(rl__tsan_meets(p, n), 0)

RL_API void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    if (MEETS(d, n) || MEETS(s, n))
        watched_copy(d, s, n, RA(), "memcpy");
    return rl__libc_memcpy(d, s, n, SIZE_MAX);
}

RL_API void *memmove(void *d, const void *s, size_t n)
{
    if (MEETS(d, n) || MEETS(s, n))
        watched_copy(d, s, n, RA(), "memmove");
    return rl__libc_memmove(d, s, n, SIZE_MAX);
}

RL_API void *memset(void *d, int c, size_t n)
{
    if (MEETS(d, n))
        watched_fill(d, n, RA());
    return rl__libc_memset(d, c, n, SIZE_MAX);
}
