/* virtual_time.c: an hour of sleeps and timed waits that time out, which
 * a controlled run passes in no time: the clocks the program reads move
 * on to each deadline. Exits 1 when a clock did not reach a deadline. */
#include <poll.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
    double m0 = now(CLOCK_MONOTONIC), r0 = now(CLOCK_REALTIME);
    time_t t0 = time(NULL);
    sleep(1800);
    int ok = now(CLOCK_MONOTONIC) - m0 >= 1800;
    /* A timed wait on a semaphore nobody posts times out at its deadline. */
    sem_t s;
    sem_init(&s, 0, 0);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 1200;
    ok = ok && sem_timedwait(&s, &dl) == -1 && now(CLOCK_REALTIME) - r0 >= 3000;
    /* A poll on a pipe nobody writes, with a ten-minute timeout. */
    int fds[2];
    if (pipe(fds) < 0)
        return 2;
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    ok = ok && poll(&p, 1, 600 * 1000) == 0;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    ok = ok && now(CLOCK_MONOTONIC) - m0 >= 3600 && time(NULL) - t0 >= 3600 &&
         tv.tv_sec - t0 >= 3599;
    if (!ok)
        fprintf(stderr, "virtual_time: a clock did not reach its deadline\n");
    return ok ? 0 : 1;
}
