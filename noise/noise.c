/* noise.c: an LD_PRELOAD library that widens race windows of an unmodified
 * program by adding random yields and short sleeps before fork, read,
 * write, futex waits and pthread mutex / semaphore operations. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT; also when built on its own */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "../lib/mix.h"

/* Built by: cc -shared -fPIC -O2 noise/noise.c -o libracelab-noise.so
 *           -ldl -lpthread
 * Environment: RACELAB_NOISE=P (probability in [0, 1] of a perturbation per
 * intercepted call; absent or 0: none), RACELAB_NOISE_SEED=N. */

#define TLS __attribute__((tls_model("initial-exec")))

/* The probability scaled to 2^32; 0 turns every wrapper into a plain
 * forwarding call. Written once, by the constructor. */
static uint64_t threshold;
static uint64_t base_seed;

static TLS __thread uint64_t rng;      /* 0: not seeded yet */
static TLS __thread int resolving;     /* inside dlsym: do not recurse */
static TLS __thread int in_noise;      /* inside our own perturbation */

static pid_t (*real_fork)(void);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_mutex_lock)(pthread_mutex_t *);
static int (*real_mutex_unlock)(pthread_mutex_t *);
static int (*real_sem_wait)(sem_t *);
static int (*real_sem_post)(sem_t *);
static long (*real_syscall)(long, ...);

/* The C library's own entry points, used while dlsym is running. */
extern ssize_t __read(int, void *, size_t);
extern ssize_t __write(int, const void *, size_t);

/* Looks a symbol up in the libraries after this one. dlsym may allocate
 * or lock; a wrapper reached from inside it sees `resolving` and takes the
 * plain path. Returns NULL when the symbol is missing. */
static void *resolve(const char *name)
{
    resolving = 1;
    void *p = dlsym(RTLD_NEXT, name);
    resolving = 0;
    return p;
}

/* Parses a non-negative decimal number like "0.25" or "1" without the C
 * library's locale-dependent strtod. Returns 0 for anything else. */
static double parse_prob(const char *s)
{
    double v = 0, scale = 1;
    int frac = 0, digits = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            digits++;
            if (frac) {
                scale /= 10;
                v += (*s - '0') * scale;
            } else {
                v = v * 10 + (*s - '0');
            }
        } else if (*s == '.' && !frac) {
            frac = 1;
        } else {
            return 0;
        }
    }
    return digits ? v : 0;
}

/* Reads the environment and resolves the real functions once, at load
 * time, while the program is still single-threaded. */
__attribute__((constructor)) static void noise_init(void)
{
    real_fork = resolve("fork");
    real_read = resolve("read");
    real_write = resolve("write");
    real_mutex_lock = resolve("pthread_mutex_lock");
    real_mutex_unlock = resolve("pthread_mutex_unlock");
    real_sem_wait = resolve("sem_wait");
    real_sem_post = resolve("sem_post");
    real_syscall = resolve("syscall");
    const char *p = getenv("RACELAB_NOISE");
    double prob = p ? parse_prob(p) : 0;
    if (prob > 1)
        prob = 1;
    threshold = (uint64_t)(prob * 4294967296.0);
    const char *s = getenv("RACELAB_NOISE_SEED");
    uint64_t seed = 0;
    for (; s && *s >= '0' && *s <= '9'; s++)
        seed = seed * 10 + (uint64_t)(*s - '0');
    base_seed = seed;
}

/* Turns the per-thread seed into a well-mixed, non-zero xorshift state. */
static uint64_t mix(uint64_t x)
{
    uint64_t z = rl__splitmix64(&x);
    return z ? z : 0x2545f4914f6cdd1dULL;
}

/* The next number of this thread's xorshift64 generator, seeded from
 * RACELAB_NOISE_SEED ^ tid on first use. Async-signal-safe. */
static uint64_t next_random(void)
{
    if (!rng)
        rng = mix(base_seed ^ (uint64_t)gettid());
    uint64_t x = rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng = x;
    return x;
}

/* With the configured probability, yields the CPU or sleeps 1-50 us.
 * Uses only async-signal-safe calls and keeps errno. */
static void perturb(void)
{
    if (in_noise || resolving)
        return;
    uint64_t r = next_random();
    if ((r & 0xffffffffULL) >= threshold)
        return;
    in_noise = 1;
    int saved = errno;
    if ((r >> 32) & 1) {
        sched_yield();
    } else {
        struct timespec ts = {0, (long)(1000 + ((r >> 33) % 50000))};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    }
    errno = saved;
    in_noise = 0;
}

#define NOISE()                                                               \
    do {                                                                      \
        if (threshold)                                                        \
            perturb();                                                        \
    } while (0)

/* fork: noise before, and after in both processes; the child reseeds its
 * generator so it does not repeat its parent's choices. */
pid_t fork(void)
{
    if (!real_fork)
        real_fork = resolve("fork");
    NOISE();
    pid_t pid = real_fork();
    if (pid == 0)
        rng = 0;
    NOISE();
    return pid;
}

ssize_t read(int fd, void *buf, size_t n)
{
    if (!real_read) {
        if (resolving)
            return __read(fd, buf, n);
        real_read = resolve("read");
    }
    NOISE();
    return real_read(fd, buf, n);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    if (!real_write) {
        if (resolving)
            return __write(fd, buf, n);
        real_write = resolve("write");
    }
    NOISE();
    return real_write(fd, buf, n);
}

/* Only reachable before the constructor resolved the lock functions, i.e.
 * from inside dlsym while the program is single-threaded: pretending the
 * lock succeeded is then harmless. */
int pthread_mutex_lock(pthread_mutex_t *m)
{
    if (!real_mutex_lock) {
        if (resolving)
            return 0;
        real_mutex_lock = resolve("pthread_mutex_lock");
    }
    NOISE();
    return real_mutex_lock(m);
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
    if (!real_mutex_unlock) {
        if (resolving)
            return 0;
        real_mutex_unlock = resolve("pthread_mutex_unlock");
    }
    NOISE();
    return real_mutex_unlock(m);
}

int sem_wait(sem_t *s)
{
    if (!real_sem_wait)
        real_sem_wait = resolve("sem_wait");
    NOISE();
    return real_sem_wait(s);
}

int sem_post(sem_t *s)
{
    if (!real_sem_post)
        real_sem_post = resolve("sem_post");
    NOISE();
    return real_sem_post(s);
}

/* syscall(): noise before futex waits made through the generic wrapper;
 * every call is forwarded with six arguments, which is how the C library
 * itself passes them (unused ones are ignored by the kernel). */
long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long);
    long a3 = va_arg(ap, long), a4 = va_arg(ap, long);
    long a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (!real_syscall) {
        if (resolving) {
            errno = ENOSYS;
            return -1;
        }
        real_syscall = resolve("syscall");
    }
    if (threshold && number == SYS_futex) {
        int op = (int)a2 & FUTEX_CMD_MASK;
        if (op == FUTEX_WAIT || op == FUTEX_WAIT_BITSET)
            perturb();
    }
    return real_syscall(number, a1, a2, a3, a4, a5, a6);
}
