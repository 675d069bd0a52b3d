/* instrumented.c: the counter scenarios of the catalogue written in plain C,
 * without RL_LOAD or RL_STORE, and a few accesses of other kinds; built
 * with the ThreadSanitizer instrumentation of each compiler installed (the
 * flags of racelab-instrument.pc), for check_instrument.c and
 * bench_instrument.c. INST names the compiler ("gcc"), INST_ID too (gcc),
 * so that both builds link into one program. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "racelab.h"

#define INCREMENTS 2
#define FN(f) RL__CAT(RL__CAT(f, _), INST_ID)
/* RL_SCENARIO pastes its first argument: FN must expand before. */
#define SCENARIO(ident, ...) RL_SCENARIO(ident, __VA_ARGS__)

typedef struct {
    long value;
    rl_lock *lock;
    char blob[48];
} counter;

/* One increment: a load and a store. Not inlined, or the compiler merges
 * the increments of a loop into one (racy code gives it the right). The
 * line is for the tests' look at the steps. */
const int FN(inst_increment_line) = __LINE__ + 3;
static __attribute__((noinline)) void increment(counter *c)
{
    c->value++;
}

static int add_unlocked(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < INCREMENTS; i++)
        increment(c);
    return 0;
}

static int add_locked(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < INCREMENTS; i++) {
        rl_lock_acquire(c->lock, -1);
        increment(c);
        rl_lock_release(c->lock);
    }
    return 0;
}

const int FN(inst_atomic_line) = __LINE__ + 5;
static int add_atomic(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < INCREMENTS; i++)
        __atomic_fetch_add(&c->value, 1, __ATOMIC_SEQ_CST);
    return 0;
}

/* Private memory (a local variable whose address escapes, a malloc'd
 * buffer) is used a lot, shared memory once: one store. */
static volatile long sink;

static int add_private(void *arg)
{
    counter *c = arg;
    long *heap = malloc(4 * sizeof *heap);
    volatile long local = 0;
    if (!heap)
        return 1;
    memset(heap, 0, 4 * sizeof *heap);
    for (int i = 0; i < 4; i++) {
        local++;
        heap[i] += local;
        sink = heap[i];
    }
    c->value = local + heap[3] - 7; /* one store of 1 */
    free(heap);
    return 0;
}

struct block {
    char b[48];
};

/* A struct copy into shared memory (gcc: __tsan_write_range) and the
 * copies of the C library as newer compilers emit them. */
void *__tsan_memset(void *d, int c, unsigned long n);
void *__tsan_memcpy(void *d, const void *s, unsigned long n);

static int copy_ranges(void *arg)
{
    counter *c = arg;
    struct block local;
    memset(&local, 7, sizeof local);
    *(struct block *)c->blob = local;
    __tsan_memset(c->blob, 1, 16);
    __tsan_memcpy(c->blob + 16, c->blob, 8);
    return 0;
}

/* A message copied into shared memory with the C library's memcpy, as
 * both compilers call it, under the lock or not. The size is not a
 * constant, or gcc copies inline (a range, like a struct copy). */
static volatile size_t message_size = sizeof(((counter *)0)->blob);

static void copy_message(counter *c)
{
    char msg[sizeof c->blob];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    memcpy(c->blob, msg, message_size);
}

static int copy_unlocked(void *arg)
{
    copy_message(arg);
    return 0;
}

static int copy_locked(void *arg)
{
    counter *c = arg;
    rl_lock_acquire(c->lock, -1);
    copy_message(c);
    rl_lock_release(c->lock);
    return 0;
}

static void run_on(counter *c, rl_entry fn, long expected)
{
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, fn, c, NULL) == 0, "start a");
    rl_check(rl_process_start(&b, fn, c, NULL) == 0, "start b");
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
    rl_check_eq(c->value, expected, "counter");
}

static void run_two(rl_entry fn, int with_lock, long expected)
{
    counter *c = rl_shared_alloc(sizeof *c);
    if (with_lock)
        c->lock = rl_lock_new();
    run_on(c, fn, expected);
}

/* The same in a MAP_SHARED mapping the scenario makes itself, not the
 * arena (the lock, an object of racelab's, still is in it). */
static void run_two_mapped(rl_entry fn, int with_lock, long expected)
{
    counter *c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!rl_check(c != MAP_FAILED, "mmap"))
        return;
    if (with_lock)
        c->lock = rl_lock_new();
    run_on(c, fn, expected);
    munmap(c, sizeof *c);
}

SCENARIO(FN(unlocked), "inst." INST ".counter.unlocked",
         .summary = "counter.unlocked in plain C, instrumented",
         .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run_two(add_unlocked, 0, 2 * INCREMENTS);
}

SCENARIO(FN(locked), "inst." INST ".counter.locked",
         .summary = "counter.locked in plain C, instrumented")
{
    run_two(add_locked, 1, 2 * INCREMENTS);
}

SCENARIO(FN(atomic), "inst." INST ".counter.atomic",
         .summary = "counter.atomic in plain C, instrumented")
{
    run_two(add_atomic, 0, 2 * INCREMENTS);
}

SCENARIO(FN(private), "inst." INST ".private",
         .summary = "private accesses make no step")
{
    run_two(add_private, 0, 1);
}

SCENARIO(FN(ranges), "inst." INST ".ranges",
         .summary = "copies into shared memory are one step each")
{
    counter *c = rl_shared_alloc(sizeof *c);
    rl_process *a = NULL;
    rl_check(rl_process_start(&a, copy_ranges, c, NULL) == 0, "start");
    rl_process_join(a, -1);
    rl_process_free(a);
}

SCENARIO(FN(memcpy_unlocked), "inst." INST ".memcpy.unlocked",
         .summary = "two processes memcpy into one block unordered")
{
    run_two(copy_unlocked, 0, 0);
}

SCENARIO(FN(memcpy_locked), "inst." INST ".memcpy.locked",
         .summary = "two processes memcpy into one block under a lock")
{
    run_two(copy_locked, 1, 0);
}

SCENARIO(FN(mmap_unlocked), "inst." INST ".mmap.unlocked",
         .summary = "counter.unlocked in a MAP_SHARED mapping of its own",
         .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run_two_mapped(add_unlocked, 0, 2 * INCREMENTS);
}

SCENARIO(FN(mmap_locked), "inst." INST ".mmap.locked",
         .summary = "counter.locked in a MAP_SHARED mapping of its own")
{
    run_two_mapped(add_locked, 1, 2 * INCREMENTS);
}

/* Outside any execution: the same kinds of access on p, which the caller
 * may put in shared memory. Returns what the increments made of *p. */
long FN(inst_outside)(long *p);
long FN(inst_outside)(long *p)
{
    counter *c = (counter *)p;
    increment(c);
    __atomic_fetch_add(&c->value, 2, __ATOMIC_SEQ_CST);
    long expect = 3;
    __atomic_compare_exchange_n(&c->value, &expect, 10, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    memset(c->blob, 1, sizeof c->blob);
    return c->value;
}

/* rounds copies of n bytes from src to dst with the C library's memcpy,
 * as instrumented code calls it: for the benchmark of private copies. */
long FN(inst_copy)(char *dst, const char *src, long n, long rounds);
long FN(inst_copy)(char *dst, const char *src, long n, long rounds)
{
    for (long i = 0; i < rounds; i++)
        memcpy(dst, src + (i & 7), (size_t)n);
    return dst[0];
}

/* n loads of a chain of indices, each depending on the one before (no
 * compiler merges or vectorizes them): for the benchmark. */
long FN(inst_chase)(const long *a, long n);
long FN(inst_chase)(const long *a, long n)
{
    long j = 0;
    for (long i = 0; i < n; i++)
        j = a[j];
    return j;
}
