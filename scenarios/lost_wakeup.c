/* lost_wakeup.c: a condition variable has no memory. A notify sent while
 * nobody waits is lost, and a waiter that waits without checking a
 * predicate first then waits forever. The fix waits in a loop on a
 * predicate kept under the condition's lock. */
#include <stddef.h>

#include "racelab.h"

typedef struct {
    rl_lock *lock;
    rl_cond *cond;
    int ready; /* the predicate, under lock */
} signal_state;

/* Waits once, whatever happened before. */
static int wait_blind(void *arg)
{
    signal_state *s = arg;
    rl_lock_acquire(s->lock, -1);
    rl_cond_wait(s->cond, -1);
    rl_lock_release(s->lock);
    return 0;
}

/* Waits only while the predicate does not hold. */
static int wait_predicate(void *arg)
{
    signal_state *s = arg;
    rl_lock_acquire(s->lock, -1);
    while (!s->ready)
        rl_cond_wait(s->cond, -1);
    rl_lock_release(s->lock);
    return 0;
}

static void run(rl_entry waiter)
{
    signal_state *s = rl_shared_alloc(sizeof *s);
    s->lock = rl_lock_new();
    s->cond = rl_cond_new(s->lock);
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, waiter, s, NULL) == 0, "start");
    rl_lock_acquire(s->lock, -1);
    s->ready = 1;
    rl_cond_notify(s->cond, 1);
    rl_lock_release(s->lock);
    rl_process_join(p, -1);
    rl_process_free(p);
}

RL_SCENARIO(lost_wakeup_blind, "lost_wakeup.blind",
            .summary = "the notify comes before the wait and the waiter "
                       "checks no predicate",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_DEADLOCK)
{
    run(wait_blind);
}

RL_SCENARIO(lost_wakeup_predicate, "lost_wakeup.predicate",
            .summary = "the waiter loops on a predicate under the lock")
{
    run(wait_predicate);
}
