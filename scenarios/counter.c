/* counter.c: two processes increment one shared counter: the lost update,
 * and its two fixes (a lock, an atomic fetch-add). */
#include <stddef.h>

#include "racelab.h"

#define INCREMENTS 2

typedef struct {
    long value;
    rl_lock *lock;
} counter;

/* Read, then write back one more: another process can write in between,
 * and one of the two updates is lost. */
static int add_unlocked(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < INCREMENTS; i++) {
        long v = RL_LOAD(c->value);
        RL_STORE(c->value, v + 1);
    }
    return 0;
}

static int add_locked(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < INCREMENTS; i++) {
        rl_lock_acquire(c->lock, -1);
        long v = RL_LOAD(c->value);
        RL_STORE(c->value, v + 1);
        rl_lock_release(c->lock);
    }
    return 0;
}

static int add_atomic(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < INCREMENTS; i++)
        RL_FETCH_ADD(c->value, 1);
    return 0;
}

static void run_two(rl_entry fn, int with_lock)
{
    counter *c = rl_shared_alloc(sizeof *c);
    if (with_lock)
        c->lock = rl_lock_new();
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, fn, c, NULL) == 0, "start a");
    rl_check(rl_process_start(&b, fn, c, NULL) == 0, "start b");
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
    rl_check_eq(c->value, 2 * INCREMENTS, "counter");
}

RL_SCENARIO(counter_unlocked, "counter.unlocked",
            .summary = "two processes increment a shared counter without a "
                       "lock: an update is lost",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run_two(add_unlocked, 0);
}

RL_SCENARIO(counter_locked, "counter.locked",
            .summary = "the same increments under a process-shared lock")
{
    run_two(add_locked, 1);
}

RL_SCENARIO(counter_atomic, "counter.atomic",
            .summary = "the same increments with an atomic fetch-add")
{
    run_two(add_atomic, 0);
}
