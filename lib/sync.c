/* sync.c: semaphores, events and barriers that live in the arena and
 * work across processes (locks and conditions are in lock.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "scheduler.h"

/* ------------------------------------------------------------------ */
/* Semaphores                                                          */
/* ------------------------------------------------------------------ */

struct rl_sem {
    pthread_mutex_t m;
    uint32_t word;
    uint32_t waiters;
    unsigned value;
    unsigned bound; /* the initial value of a bounded semaphore */
    int bounded;
};

/* Creates a semaphore with the given value; bounded ones refuse releases
 * above it. NULL when the arena is full. */
rl_sem *rl_sem_new(unsigned value, int bounded)
{
    rl_sem *s = rl_shared_alloc(sizeof *s);
    if (!s)
        return NULL;
    int r = rl__mutex_init(&s->m, 0);
    if (r < 0) {
        rl_shared_free(s);
        rl__fail(r, "rl_sem_new: initialising its mutex");
        return NULL;
    }
    s->value = value;
    s->bound = value;
    s->bounded = bounded != 0;
    return s;
}

/* Takes one unit of s, waiting while it is 0 (see racelab.h). */
int rl_sem_acquire(rl_sem *s, double timeout)
{
    if (!s)
        return rl__fail(-EINVAL, "rl_sem_acquire: semaphore is NULL");
    rl__point(RL_OP_ACQUIRE, s, NULL);
    double deadline = rl__deadline(timeout);
    int counted = 0, told = 0, r;
    rl__mutex_lock(&s->m);
    for (;;) {
        if (s->value > 0) {
            s->value--;
            r = 0;
            break;
        }
        if (timeout == 0) {
            r = rl__fail(-EAGAIN, "rl_sem_acquire: the value is 0");
            break;
        }
        if (rl__wait_over(deadline, told)) {
            r = rl__fail(-ETIMEDOUT, "rl_sem_acquire: still 0 after %.3f s",
                         timeout);
            break;
        }
        if (!counted) {
            s->waiters++;
            counted = 1;
        }
        uint32_t seen = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
        rl__mutex_unlock(&s->m);
        if (rl__block(s, &s->word, seen, deadline, "acquire semaphore") ==
            -ETIMEDOUT)
            told = 1;
        rl__mutex_lock(&s->m);
    }
    if (counted)
        s->waiters--;
    rl__mutex_unlock(&s->m);
    return r;
}

/* Gives one unit back to s: -EOVERFLOW above the bound of a bounded one
 * (or at UINT_MAX). */
int rl_sem_release(rl_sem *s)
{
    if (!s)
        return rl__fail(-EINVAL, "rl_sem_release: semaphore is NULL");
    rl__point(RL_OP_RELEASE, s, NULL);
    rl__mutex_lock(&s->m);
    if ((s->bounded && s->value >= s->bound) || s->value == UINT_MAX) {
        unsigned v = s->value;
        rl__mutex_unlock(&s->m);
        return rl__fail(-EOVERFLOW,
                        "rl_sem_release: released too many times (value "
                        "%u is the bound)",
                        v);
    }
    s->value++;
    uint32_t waiters = s->waiters;
    rl__mutex_unlock(&s->m);
    if (waiters)
        rl__publish(&s->word);
    return 0;
}

/* The current value (INT_MAX when larger), or -EINVAL for NULL. */
int rl_sem_value(rl_sem *s)
{
    if (!s)
        return rl__fail(-EINVAL, "rl_sem_value: semaphore is NULL");
    rl__sched_step_global(); /* a look without a schedule point */
    rl__mutex_lock(&s->m);
    unsigned v = s->value;
    rl__mutex_unlock(&s->m);
    return v > INT_MAX ? INT_MAX : (int)v;
}

/* Frees s. Only once no process uses it. NULL is ignored. */
void rl_sem_free(rl_sem *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->m);
    rl_shared_free(s);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

/* sets counts the clear-to-set transitions, so a waiter that slept
 * through a set followed by a clear still returns 1, like Python's
 * threading.Event. */
struct rl_event {
    pthread_mutex_t m;
    uint32_t word;
    int flag;
    uint32_t sets;
};

/* Creates a clear event; NULL when the arena is full. */
rl_event *rl_event_new(void)
{
    rl_event *e = rl_shared_alloc(sizeof *e);
    if (!e)
        return NULL;
    int r = rl__mutex_init(&e->m, 0);
    if (r < 0) {
        rl_shared_free(e);
        rl__fail(r, "rl_event_new: initialising its mutex");
        return NULL;
    }
    return e;
}

/* Sets the flag and wakes every waiter. */
int rl_event_set(rl_event *e)
{
    if (!e)
        return rl__fail(-EINVAL, "rl_event_set: event is NULL");
    rl__point(RL_OP_SET, e, NULL);
    rl__mutex_lock(&e->m);
    int was = e->flag;
    if (!was) {
        e->flag = 1;
        e->sets++;
    }
    rl__mutex_unlock(&e->m);
    if (!was)
        rl__publish(&e->word);
    return 0;
}

/* Clears the flag. Nobody waits for a clear, so nothing is woken. */
int rl_event_clear(rl_event *e)
{
    if (!e)
        return rl__fail(-EINVAL, "rl_event_clear: event is NULL");
    rl__point(RL_OP_CLEAR, e, NULL);
    rl__mutex_lock(&e->m);
    e->flag = 0;
    rl__mutex_unlock(&e->m);
    return 0;
}

/* 1 when the flag is set, 0 when clear, -EINVAL for NULL. */
int rl_event_is_set(rl_event *e)
{
    if (!e)
        return rl__fail(-EINVAL, "rl_event_is_set: event is NULL");
    rl__sched_step_global(); /* a look without a schedule point */
    rl__mutex_lock(&e->m);
    int v = e->flag;
    rl__mutex_unlock(&e->m);
    return v;
}

/* Waits for the flag: 1 once set (or set since the wait began), 0 when
 * the timeout passed first. */
int rl_event_wait(rl_event *e, double timeout)
{
    if (!e)
        return rl__fail(-EINVAL, "rl_event_wait: event is NULL");
    rl__point(RL_OP_WAIT, e, NULL);
    double deadline = rl__deadline(timeout);
    int r, told = 0;
    rl__mutex_lock(&e->m);
    uint32_t start = e->sets;
    for (;;) {
        if (e->flag || e->sets != start) {
            r = 1;
            break;
        }
        if (timeout == 0 || rl__wait_over(deadline, told)) {
            r = 0;
            break;
        }
        uint32_t seen = __atomic_load_n(&e->word, __ATOMIC_ACQUIRE);
        rl__mutex_unlock(&e->m);
        if (rl__block(e, &e->word, seen, deadline, "wait for event") ==
            -ETIMEDOUT)
            told = 1;
        rl__mutex_lock(&e->m);
    }
    rl__mutex_unlock(&e->m);
    return r;
}

/* Frees e. Only once no process uses it. NULL is ignored. */
void rl_event_free(rl_event *e)
{
    if (!e)
        return;
    pthread_mutex_destroy(&e->m);
    rl_shared_free(e);
}

/* ------------------------------------------------------------------ */
/* Barriers                                                            */
/* ------------------------------------------------------------------ */

/* gen numbers the rounds. A round ends normally (the last party arrives)
 * or by reset; round_broken keeps the outcome of the last 64 rounds, so a
 * waiter that wakes late still learns how its own round ended. broken
 * breaks the current round without ending it. */
struct rl_barrier {
    pthread_mutex_t m;
    uint32_t word;
    unsigned parties;
    unsigned count;
    uint32_t gen;
    int broken;
    uint64_t round_broken;
};

/* Creates a barrier for parties processes or threads; NULL for 0 parties
 * or when the arena is full. */
rl_barrier *rl_barrier_new(unsigned parties)
{
    if (parties == 0) {
        rl__fail(-EINVAL, "rl_barrier_new: a barrier needs at least one "
                          "party");
        return NULL;
    }
    rl_barrier *b = rl_shared_alloc(sizeof *b);
    if (!b)
        return NULL;
    int r = rl__mutex_init(&b->m, 0);
    if (r < 0) {
        rl_shared_free(b);
        rl__fail(r, "rl_barrier_new: initialising its mutex");
        return NULL;
    }
    b->parties = parties;
    return b;
}

/* Ends the current round; called with b->m held. */
static void barrier_end_round(rl_barrier *b, int broken)
{
    uint64_t bit = (uint64_t)1 << (b->gen & 63);
    if (broken)
        b->round_broken |= bit;
    else
        b->round_broken &= ~bit;
    b->gen++;
    b->count = 0;
    b->broken = 0;
}

/* Waits for every party: returns the arrival index, -EPIPE when the
 * barrier is or becomes broken, and for the caller whose own timeout
 * passed -ETIMEDOUT (-EAGAIN for a try-once) after breaking it. */
int rl_barrier_wait(rl_barrier *b, double timeout)
{
    if (!b)
        return rl__fail(-EINVAL, "rl_barrier_wait: barrier is NULL");
    rl__point_key(RL_OP_WAIT, b, b, RL__TARGET_BARRIER, NULL);
    double deadline = rl__deadline(timeout);
    rl__mutex_lock(&b->m);
    if (b->broken) {
        rl__mutex_unlock(&b->m);
        return rl__fail(-EPIPE, "rl_barrier_wait: the barrier is broken");
    }
    int idx = (int)b->count++;
    uint32_t gen = b->gen;
    if (b->count == b->parties) {
        barrier_end_round(b, 0);
        rl__mutex_unlock(&b->m);
        rl__publish(&b->word);
        return idx;
    }
    int r, told = 0;
    for (;;) {
        if (b->gen != gen) {
            if (b->round_broken & ((uint64_t)1 << (gen & 63)))
                r = rl__fail(-EPIPE, "rl_barrier_wait: the barrier was "
                                     "reset while waiting");
            else
                r = idx;
            break;
        }
        if (b->broken) {
            r = rl__fail(-EPIPE, "rl_barrier_wait: the barrier broke while "
                                 "waiting");
            break;
        }
        if (timeout == 0 || rl__wait_over(deadline, told)) {
            b->broken = 1;
            rl__mutex_unlock(&b->m);
            rl__publish(&b->word);
            if (timeout == 0)
                return rl__fail(-EAGAIN, "rl_barrier_wait: not every party "
                                         "was there; the barrier is broken");
            return rl__fail(-ETIMEDOUT,
                            "rl_barrier_wait: timed out after "
                            "%.3f s; the barrier is broken",
                            timeout);
        }
        uint32_t seen = __atomic_load_n(&b->word, __ATOMIC_ACQUIRE);
        rl__mutex_unlock(&b->m);
        if (rl__block(b, &b->word, seen, deadline, "wait at barrier") ==
            -ETIMEDOUT)
            told = 1;
        rl__mutex_lock(&b->m);
    }
    rl__mutex_unlock(&b->m);
    return r;
}

/* Breaks the barrier: current and later waiters get -EPIPE until reset. */
int rl_barrier_abort(rl_barrier *b)
{
    if (!b)
        return rl__fail(-EINVAL, "rl_barrier_abort: barrier is NULL");
    rl__point(RL_OP_SET, b, "barrier abort");
    rl__mutex_lock(&b->m);
    b->broken = 1;
    rl__mutex_unlock(&b->m);
    rl__publish(&b->word);
    return 0;
}

/* Ends the current round as broken (its waiters get -EPIPE) and starts a
 * clean one. */
int rl_barrier_reset(rl_barrier *b)
{
    if (!b)
        return rl__fail(-EINVAL, "rl_barrier_reset: barrier is NULL");
    rl__point(RL_OP_CLEAR, b, "barrier reset");
    rl__mutex_lock(&b->m);
    int change = b->count > 0 || b->broken;
    if (change)
        barrier_end_round(b, 1);
    rl__mutex_unlock(&b->m);
    if (change)
        rl__publish(&b->word);
    return 0;
}

/* 1 when the barrier is broken, 0 when not, -EINVAL for NULL. */
int rl_barrier_broken(rl_barrier *b)
{
    if (!b)
        return rl__fail(-EINVAL, "rl_barrier_broken: barrier is NULL");
    rl__sched_step_global(); /* a look without a schedule point */
    rl__mutex_lock(&b->m);
    int v = b->broken;
    rl__mutex_unlock(&b->m);
    return v;
}

/* Frees b. Only once no process uses it. NULL is ignored. */
void rl_barrier_free(rl_barrier *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->m);
    rl_shared_free(b);
}
