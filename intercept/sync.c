/* sync.c: semaphores, mutexes, condition variables and sleeps of a
 * command under the scheduler. A wait tries the object without blocking
 * and, when it is taken, waits in the scheduler until a post, an unlock
 * or a signal changes it; a sleep passes no time, it lets the others run.
 * Process-shared objects are between processes; private ones between the
 * threads of one (while it has one thread, only what must wait is a
 * step). */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "intercept.h"

/* The wait reason handed to rl__block (see pipe.c). */
static char reason[RL__REASON_LEN];

/* glibc marks a process-shared mutex in its kind (PTHREAD_MUTEX_PSHARED_BIT
 * of its nptl/pthreadP.h), a process-shared semaphore by LLL_SHARED (128,
 * not 0) in the int after its 64-bit value (struct new_sem,
 * nptl/semaphoreP.h) and a
 * process-shared condition variable in bit 0 of __wrefs
 * (nptl/pthread_cond_common.c). */
#define PSHARED_BIT 128

static int shared_mutex(const pthread_mutex_t *m)
{
    return (m->__data.__kind & PSHARED_BIT) != 0;
}

static int shared_sem(const sem_t *s)
{
    return ((const int *)(const void *)s)[2] != 0;
}

static int shared_cond(const pthread_cond_t *c)
{
    return (c->__data.__wrefs & 1) != 0;
}

/* The clock of a condition's timed waits: bit 1 of __wrefs. */
static clockid_t cond_clock(const pthread_cond_t *c)
{
    return c->__data.__wrefs & 2 ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

/* 1 when an object private to the process (shared 0) is only this
 * thread's to change: the process has one live thread. */
static int alone(int shared)
{
    return !shared && rl__ic_threads() <= 1;
}

/* The entry of object obj when the calling actor's operations on it are
 * schedule points; then the caller is inside a wrapper. NULL otherwise:
 * not an actor, or one of racelab's own objects in the arena. */
static rl__ic_sync *controlled(const void *obj, int shared)
{
    if (!obj || rl__in_arena(obj) || !rl__ic_on())
        return NULL;
    rl__ic_enter();
    rl__ic_sync *e = rl__ic_sync_of(obj, shared ? 0 : rl__pid());
    if (!e)
        rl__ic_leave();
    return e;
}

/* Leaves the wrapper with errno err, returning r. */
static int leave(int r, int err)
{
    rl__ic_leave();
    errno = err;
    return r;
}

/* ---- semaphores ---- */

/* sem_wait and its timed forms (deadline abs on clock): timed waits may
 * time out, when nothing else can run, and move the clocks on to their
 * deadline (virtual time). Returns what sem_wait returns, or -2 when
 * the C library's call is to run instead. */
static int sem_take(sem_t *s, clockid_t clock, const struct timespec *abs,
                    const char *what)
{
    RL__IC_REAL(sem_trywait);
    int shared = s && shared_sem(s);
    /* A private semaphore of a process with one thread: only a wait that
     * cannot succeed at once is a step (no other thread posts it). */
    if (s && alone(shared) && rl__ic_on() && real_sem_trywait(s) == 0)
        return 0;
    rl__ic_sync *e = controlled(s, shared);
    if (!e)
        return -2;
    rl__point_key(RL_OP_ACQUIRE, s, e, 0, what);
    int r, err = 0;
    for (;;) {
        uint32_t seen = __atomic_load_n(&e->word, __ATOMIC_ACQUIRE);
        r = real_sem_trywait(s);
        if (r == 0 || errno != EAGAIN) {
            err = errno;
            break;
        }
        snprintf(reason, sizeof reason, "%s: the semaphore at %p is zero", what,
                 (void *)s);
        if (rl__block(s, &e->word, seen, abs ? 0 : -1, reason) < 0) {
            rl__ic_clock_reach(clock, rl__ic_ts_ns(abs));
            r = -1;
            err = ETIMEDOUT;
            break;
        }
    }
    return leave(r, err);
}

int sem_wait(sem_t *s)
{
    RL__IC_REAL(sem_wait);
    int r = sem_take(s, CLOCK_REALTIME, NULL, "sem_wait");
    return r == -2 ? real_sem_wait(s) : r;
}

int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
    RL__IC_REAL(sem_timedwait);
    int r = sem_take(s, CLOCK_REALTIME, abstime, "sem_timedwait");
    return r == -2 ? real_sem_timedwait(s, abstime) : r;
}

int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abstime)
{
    RL__IC_REAL(sem_clockwait);
    int r = sem_take(s, clock, abstime, "sem_clockwait");
    return r == -2 ? real_sem_clockwait(s, clock, abstime) : r;
}

int sem_trywait(sem_t *s)
{
    RL__IC_REAL(sem_trywait);
    rl__ic_sync *e =
        !alone(shared_sem(s)) ? controlled(s, shared_sem(s)) : NULL;
    if (!e)
        return real_sem_trywait(s);
    rl__point_key(RL_OP_ACQUIRE, s, e, 0, "sem_trywait");
    int r = real_sem_trywait(s);
    return leave(r, errno);
}

int sem_post(sem_t *s)
{
    RL__IC_REAL(sem_post);
    rl__ic_sync *e =
        !alone(shared_sem(s)) ? controlled(s, shared_sem(s)) : NULL;
    if (!e)
        return real_sem_post(s);
    rl__point_key(RL_OP_RELEASE, s, e, 0, "sem_post");
    int r = real_sem_post(s);
    int err = errno;
    rl__publish(&e->word);
    return leave(r, err);
}

/* ---- mutexes ---- */

/* A mutex private to the process is a step only where a thread must wait
 * for it: its threads interleave at their other calls (a mutex that
 * guards memory the scheduler does not see adds nothing but steps), and
 * an unlock wakes the threads waiting for it. A process-shared one is a
 * step at every lock and unlock. */

/* Takes mutex m (entry e) for the calling actor, waiting in the scheduler
 * while another holds it. Returns what pthread_mutex_lock returns. */
static int mutex_take(pthread_mutex_t *m, rl__ic_sync *e, const char *what)
{
    RL__IC_REAL(pthread_mutex_trylock);
    rl__point_key(RL_OP_ACQUIRE, m, e, RL__TARGET_EXCLUSIVE, what);
    for (;;) {
        uint32_t seen = __atomic_load_n(&e->word, __ATOMIC_ACQUIRE);
        int r = real_pthread_mutex_trylock(m);
        if (r != EBUSY)
            return r;
        snprintf(reason, sizeof reason, "%s: the mutex at %p is held", what,
                 (void *)m);
        rl__block(m, &e->word, seen, -1, reason);
    }
}

/* Releases mutex m (entry e) and wakes its waiters. */
static int mutex_give(pthread_mutex_t *m, rl__ic_sync *e, const char *what)
{
    RL__IC_REAL(pthread_mutex_unlock);
    if (shared_mutex(m))
        rl__point_key(RL_OP_RELEASE, m, e, RL__TARGET_EXCLUSIVE, what);
    int r = real_pthread_mutex_unlock(m);
    rl__publish(&e->word);
    return r;
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    RL__IC_REAL(pthread_mutex_lock);
    RL__IC_REAL(pthread_mutex_trylock);
    int shared = shared_mutex(m);
    if (!shared && rl__ic_on()) {
        int r = real_pthread_mutex_trylock(m);
        if (r != EBUSY)
            return r;
    }
    rl__ic_sync *e = controlled(m, shared);
    if (!e)
        return real_pthread_mutex_lock(m);
    int r = mutex_take(m, e, "pthread_mutex_lock");
    rl__ic_leave();
    return r;
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    RL__IC_REAL(pthread_mutex_trylock);
    rl__ic_sync *e = shared_mutex(m) ? controlled(m, 1) : NULL;
    if (!e)
        return real_pthread_mutex_trylock(m);
    rl__point_key(RL_OP_ACQUIRE, m, e, RL__TARGET_EXCLUSIVE,
                  "pthread_mutex_trylock");
    int r = real_pthread_mutex_trylock(m);
    rl__ic_leave();
    return r;
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
    RL__IC_REAL(pthread_mutex_unlock);
    rl__ic_sync *e =
        !alone(shared_mutex(m)) ? controlled(m, shared_mutex(m)) : NULL;
    if (!e)
        return real_pthread_mutex_unlock(m);
    int r = mutex_give(m, e, "pthread_mutex_unlock");
    rl__ic_leave();
    return r;
}

/* ---- condition variables ---- */

/* A wait of the calling actor on condition c with mutex m: releases m,
 * waits in the scheduler for a signal or broadcast (a timed one times
 * out when nothing else can run), takes m again. Returns what
 * pthread_cond_wait returns, or -2 when the C library is to wait. */
static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                     const struct timespec *abs, const char *what)
{
    if (!c || !m)
        return -2;
    rl__ic_sync *e = controlled(c, shared_cond(c));
    if (!e)
        return -2;
    rl__ic_sync *me = rl__ic_sync_of(m, shared_mutex(m) ? 0 : rl__pid());
    if (!me || rl__in_arena(m)) {
        rl__ic_leave();
        return -2;
    }
    rl__point_key(RL_OP_WAIT, c, e, 0, what);
    uint32_t seen = __atomic_load_n(&e->word, __ATOMIC_ACQUIRE);
    int r = mutex_give(m, me, what);
    if (r != 0)
        return leave(r, 0);
    snprintf(reason, sizeof reason,
             "%s: waiting for a signal of the condition at %p", what,
             (void *)c);
    int timed_out = rl__block(c, &e->word, seen, abs ? 0 : -1, reason) < 0;
    if (timed_out)
        rl__ic_clock_reach(clock, rl__ic_ts_ns(abs));
    r = mutex_take(m, me, what);
    return leave(r == 0 && timed_out ? ETIMEDOUT : r, 0);
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    RL__IC_REAL(pthread_cond_wait);
    int r = cond_wait(c, m, CLOCK_REALTIME, NULL, "pthread_cond_wait");
    return r == -2 ? real_pthread_cond_wait(c, m) : r;
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                           const struct timespec *abstime)
{
    RL__IC_REAL(pthread_cond_timedwait);
    int r = cond_wait(c, m, cond_clock(c), abstime,
                      "pthread_cond_timedwait");
    return r == -2 ? real_pthread_cond_timedwait(c, m, abstime) : r;
}

int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
                           clockid_t clock, const struct timespec *abstime)
{
    RL__IC_REAL(pthread_cond_clockwait);
    int r = cond_wait(c, m, clock, abstime, "pthread_cond_clockwait");
    return r == -2 ? real_pthread_cond_clockwait(c, m, clock, abstime) : r;
}

/* signal and broadcast: every waiter in the scheduler looks again (a
 * woken wait that finds nothing is a spurious wake-up, which POSIX
 * allows); a step for a process-shared condition. The C library's call
 * runs too, for waiters that are no actors. */
static int cond_notify(pthread_cond_t *c, int (*real)(pthread_cond_t *),
                       const char *what)
{
    rl__ic_sync *e =
        c && !alone(shared_cond(c)) ? controlled(c, shared_cond(c)) : NULL;
    if (!e)
        return real(c);
    if (shared_cond(c))
        rl__point_key(RL_OP_NOTIFY, c, e, 0, what);
    int r = real(c);
    rl__publish(&e->word);
    rl__ic_leave();
    return r;
}

int pthread_cond_signal(pthread_cond_t *c)
{
    RL__IC_REAL(pthread_cond_signal);
    return cond_notify(c, real_pthread_cond_signal, "pthread_cond_signal");
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
    RL__IC_REAL(pthread_cond_broadcast);
    return cond_notify(c, real_pthread_cond_broadcast,
                       "pthread_cond_broadcast");
}

/* ---- sleeps, in virtual time ---- */

/* A sleep of the calling actor until when on clock: a yield (the others
 * run first), then the clocks move on to when. Returns 1 when it was
 * one, 0 when the real sleep must run. */
static int virtual_sleep(const char *what, clockid_t clock, int64_t when)
{
    if (!rl__ic_on())
        return 0;
    rl__ic_enter();
    rl_yield(what);
    rl__ic_clock_reach(clock, when);
    rl__ic_leave();
    return 1;
}

/* The deadline of a sleep of rel ns from now on clock. */
static int64_t after(clockid_t clock, int64_t rel)
{
    return rl__ic_clock_now(clock) + rel;
}

unsigned int sleep(unsigned int seconds)
{
    RL__IC_REAL(sleep);
    return virtual_sleep("sleep", CLOCK_MONOTONIC,
                         after(CLOCK_MONOTONIC, (int64_t)seconds * 1000000000))
               ? 0
               : real_sleep(seconds);
}

int usleep(useconds_t usec)
{
    RL__IC_REAL(usleep);
    return virtual_sleep("usleep", CLOCK_MONOTONIC,
                         after(CLOCK_MONOTONIC, (int64_t)usec * 1000))
               ? 0
               : real_usleep(usec);
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    RL__IC_REAL(nanosleep);
    if (!virtual_sleep("nanosleep", CLOCK_MONOTONIC,
                       after(CLOCK_MONOTONIC, rl__ic_ts_ns(req))))
        return real_nanosleep(req, rem);
    if (rem)
        *rem = (struct timespec){0, 0};
    return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                    struct timespec *rem)
{
    RL__IC_REAL(clock_nanosleep);
    int64_t when = flags & TIMER_ABSTIME ? rl__ic_ts_ns(req)
                                         : after(clock, rl__ic_ts_ns(req));
    if (!virtual_sleep("clock_nanosleep", clock, when))
        return real_clock_nanosleep(clock, flags, req, rem);
    if (rem)
        *rem = (struct timespec){0, 0};
    return 0;
}
