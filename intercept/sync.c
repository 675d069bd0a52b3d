/* sync.c: semaphores, process-shared mutexes and sleeps of a command under
 * the scheduler. A wait tries the object without blocking and, when it is
 * taken, waits in the scheduler until a post or an unlock changes it; a
 * sleep passes no time, it lets the others run. */
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
 * of its nptl/pthreadP.h): only those are between processes. racelab's own
 * mutexes in the arena are left alone. */
#define PSHARED_BIT 128

static int shared_mutex(const pthread_mutex_t *m)
{
    return m && (m->__data.__kind & PSHARED_BIT) && !rl__in_arena(m);
}

/* The entry of object obj when the calling actor's operations on it are
 * schedule points; then the caller is inside a wrapper. NULL otherwise. */
static rl__ic_sync *controlled(const void *obj)
{
    if (!obj || rl__in_arena(obj) || !rl__ic_on())
        return NULL;
    rl__ic_enter();
    rl__ic_sync *e = rl__ic_sync_of(obj);
    if (!e)
        rl__ic_leave();
    return e;
}

/* ---- semaphores ---- */

/* sem_wait and its timed forms: timed waits may time out, when nothing
 * else can run (virtual time). Returns what sem_wait returns. */
static int sem_take(sem_t *s, int timed, const char *what)
{
    RL__IC_REAL(sem_trywait);
    rl__ic_sync *e = controlled(s);
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
        if (rl__block(s, &e->word, seen, timed ? 0 : -1, reason) < 0) {
            r = -1;
            err = ETIMEDOUT;
            break;
        }
    }
    rl__ic_leave();
    errno = err;
    return r;
}

int sem_wait(sem_t *s)
{
    RL__IC_REAL(sem_wait);
    int r = sem_take(s, 0, "sem_wait");
    return r == -2 ? real_sem_wait(s) : r;
}

int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
    RL__IC_REAL(sem_timedwait);
    int r = sem_take(s, 1, "sem_timedwait");
    return r == -2 ? real_sem_timedwait(s, abstime) : r;
}

int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abstime)
{
    RL__IC_REAL(sem_clockwait);
    int r = sem_take(s, 1, "sem_clockwait");
    return r == -2 ? real_sem_clockwait(s, clock, abstime) : r;
}

int sem_trywait(sem_t *s)
{
    RL__IC_REAL(sem_trywait);
    rl__ic_sync *e = controlled(s);
    if (!e)
        return real_sem_trywait(s);
    rl__point_key(RL_OP_ACQUIRE, s, e, 0, "sem_trywait");
    int r = real_sem_trywait(s);
    int err = errno;
    rl__ic_leave();
    errno = err;
    return r;
}

int sem_post(sem_t *s)
{
    RL__IC_REAL(sem_post);
    rl__ic_sync *e = controlled(s);
    if (!e)
        return real_sem_post(s);
    rl__point_key(RL_OP_RELEASE, s, e, 0, "sem_post");
    int r = real_sem_post(s);
    int err = errno;
    rl__publish(&e->word);
    rl__ic_leave();
    errno = err;
    return r;
}

/* ---- process-shared mutexes ---- */

int pthread_mutex_lock(pthread_mutex_t *m)
{
    RL__IC_REAL(pthread_mutex_lock);
    RL__IC_REAL(pthread_mutex_trylock);
    rl__ic_sync *e = shared_mutex(m) ? controlled(m) : NULL;
    if (!e)
        return real_pthread_mutex_lock(m);
    rl__point_key(RL_OP_ACQUIRE, m, e, RL__TARGET_EXCLUSIVE,
                  "pthread_mutex_lock");
    int r;
    for (;;) {
        uint32_t seen = __atomic_load_n(&e->word, __ATOMIC_ACQUIRE);
        r = real_pthread_mutex_trylock(m);
        if (r != EBUSY)
            break;
        snprintf(reason, sizeof reason,
                 "pthread_mutex_lock: the mutex at %p is held", (void *)m);
        rl__block(m, &e->word, seen, -1, reason);
    }
    rl__ic_leave();
    return r;
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    RL__IC_REAL(pthread_mutex_trylock);
    rl__ic_sync *e = shared_mutex(m) ? controlled(m) : NULL;
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
    rl__ic_sync *e = shared_mutex(m) ? controlled(m) : NULL;
    if (!e)
        return real_pthread_mutex_unlock(m);
    rl__point_key(RL_OP_RELEASE, m, e, RL__TARGET_EXCLUSIVE,
                  "pthread_mutex_unlock");
    int r = real_pthread_mutex_unlock(m);
    rl__publish(&e->word);
    rl__ic_leave();
    return r;
}

/* ---- sleeps, in virtual time ---- */

/* A sleep of the calling actor: a yield (the others run first), no time.
 * Returns 1 when it was one, 0 when the real sleep must run. */
static int virtual_sleep(const char *what)
{
    if (!rl__ic_on())
        return 0;
    rl__ic_enter();
    rl_yield(what);
    rl__ic_leave();
    return 1;
}

unsigned int sleep(unsigned int seconds)
{
    RL__IC_REAL(sleep);
    return virtual_sleep("sleep") ? 0 : real_sleep(seconds);
}

int usleep(useconds_t usec)
{
    RL__IC_REAL(usleep);
    return virtual_sleep("usleep") ? 0 : real_usleep(usec);
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    RL__IC_REAL(nanosleep);
    if (!virtual_sleep("nanosleep"))
        return real_nanosleep(req, rem);
    if (rem)
        *rem = (struct timespec){0, 0};
    return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                    struct timespec *rem)
{
    RL__IC_REAL(clock_nanosleep);
    if (!virtual_sleep("clock_nanosleep"))
        return real_clock_nanosleep(clock, flags, req, rem);
    if (rem)
        *rem = (struct timespec){0, 0};
    return 0;
}
