/* clock.c: virtual time for a command under the scheduler. A controlled
 * run never waits for time: a sleep and a timed wait that times out move
 * the execution's clock forward to their deadline instead, and the
 * program reads the clocks with that offset. A loop that waits until its
 * own deadline (Python's Connection.poll(t), a join with a timeout) then
 * sees the deadline pass, as it would in a real run. */
#include <sys/time.h>
#include <time.h>

#include "intercept.h"

/* 1 when the calling thread reads virtual time: a controlled execution's
 * program, not racelab's own code inside a wrapper, nor stress. */
static int virtual_now(void)
{
    rl__sched *s;
    return rl__ic && !rl__ic_inside() && (s = rl__sched_cur()) &&
           s->mode == RL__MODE_CONTROLLED;
}

static int64_t real_ns(clockid_t c)
{
    RL__IC_REAL(clock_gettime);
    struct timespec ts;
    if (real_clock_gettime(c, &ts) < 0)
        return 0;
    return rl__ic_ts_ns(&ts);
}

int64_t rl__ic_ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int64_t rl__ic_clock_now(clockid_t c)
{
    int64_t off = rl__ic ? __atomic_load_n(&rl__ic->clock_ns, __ATOMIC_ACQUIRE)
                         : 0;
    return real_ns(c) + off;
}

void rl__ic_clock_reach(clockid_t c, int64_t when)
{
    if (!rl__ic)
        return;
    int64_t need = when - real_ns(c);
    int64_t off = __atomic_load_n(&rl__ic->clock_ns, __ATOMIC_ACQUIRE);
    while (need > off &&
           !__atomic_compare_exchange_n(&rl__ic->clock_ns, &off, need, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
}

/* The offset applies to every clock that counts time passing; a CPU-time
 * clock or an unknown one is left as the kernel says. */
static int shifted(clockid_t c)
{
    return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC ||
           c == CLOCK_MONOTONIC_RAW || c == CLOCK_REALTIME_COARSE ||
           c == CLOCK_MONOTONIC_COARSE || c == CLOCK_BOOTTIME ||
           c == CLOCK_TAI;
}

int clock_gettime(clockid_t c, struct timespec *ts)
{
    RL__IC_REAL(clock_gettime);
    int r = real_clock_gettime(c, ts);
    if (r == 0 && shifted(c) && virtual_now()) {
        int64_t t = rl__ic_ts_ns(ts) +
                    __atomic_load_n(&rl__ic->clock_ns, __ATOMIC_ACQUIRE);
        ts->tv_sec = (time_t)(t / 1000000000);
        ts->tv_nsec = (long)(t % 1000000000);
    }
    return r;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    RL__IC_REAL(gettimeofday);
    int r = real_gettimeofday(tv, tz);
    if (r == 0 && virtual_now()) {
        int64_t us = (int64_t)tv->tv_sec * 1000000 + tv->tv_usec +
                     __atomic_load_n(&rl__ic->clock_ns, __ATOMIC_ACQUIRE) /
                         1000;
        tv->tv_sec = (time_t)(us / 1000000);
        tv->tv_usec = (suseconds_t)(us % 1000000);
    }
    return r;
}

time_t time(time_t *t)
{
    RL__IC_REAL(time);
    /* In virtual time from the clock clock_gettime reads, whose seconds
     * the kernel's coarse one behind time() may lag. */
    time_t now = virtual_now()
                     ? (time_t)(rl__ic_clock_now(CLOCK_REALTIME) / 1000000000)
                     : real_time(NULL);
    if (t)
        *t = now;
    return now;
}
