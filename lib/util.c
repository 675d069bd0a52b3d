/* util.c: monotonic deadlines, robust process-shared mutexes, futexes. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <sys/single_threaded.h>
#endif

#include "internal.h"

double rl__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double rl__deadline(double timeout)
{
    if (timeout < 0 || isnan(timeout))
        return -1;
    return rl__now() + timeout;
}

int rl__remaining_ms(double deadline)
{
    if (deadline < 0)
        return -1;
    double left = deadline - rl__now();
    if (left <= 0)
        return 0;
    double ms = ceil(left * 1000.0);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int rl__expired(double deadline)
{
    return deadline >= 0 && rl__now() >= deadline;
}

int rl__mutex_init(pthread_mutex_t *m, int recursive)
{
    pthread_mutexattr_t a;
    int r = pthread_mutexattr_init(&a);
    if (r)
        return -r;
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&a, recursive ? PTHREAD_MUTEX_RECURSIVE
                                            : PTHREAD_MUTEX_ERRORCHECK);
    r = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return -r;
}

void rl__mutex_lock(pthread_mutex_t *m)
{
    int r = pthread_mutex_lock(m);
    if (r == EOWNERDEAD)
        pthread_mutex_consistent(m);
}

void rl__mutex_unlock(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
}

int rl__futex_wait(uint32_t *word, uint32_t seen, double deadline)
{
    for (;;) {
        struct timespec ts, *tp = NULL;
        if (deadline >= 0) {
            double whole = floor(deadline);
            ts.tv_sec = (time_t)whole;
            ts.tv_nsec = (long)((deadline - whole) * 1e9);
            if (ts.tv_nsec >= 1000000000L)
                ts.tv_nsec = 999999999L;
            tp = &ts;
        }
        /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so
         * retrying after EINTR does not stretch the timeout. */
        long r = rl__sys(SYS_futex, (long)word, FUTEX_WAIT_BITSET, seen,
                         (long)tp, 0, (long)FUTEX_BITSET_MATCH_ANY);
        if (r == 0 || r == -EAGAIN)
            return 0;
        if (r == -ETIMEDOUT)
            return -ETIMEDOUT;
        if (r == -EINTR) {
            if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != seen)
                return 0;
            continue;
        }
        return (int)r;
    }
}

int rl__futex_wait_for(uint32_t *word, uint32_t seen, long seconds)
{
    /* FUTEX_WAIT takes a relative time. */
    struct timespec ts = {.tv_sec = seconds, .tv_nsec = 0};
    long r = rl__sys(SYS_futex, (long)word, FUTEX_WAIT, seen, (long)&ts, 0, 0);
    if (r == 0 || r == -EAGAIN || r == -EINTR)
        return 0;
    return (int)r;
}

void rl__futex_wake(uint32_t *word, int n)
{
    rl__sys(SYS_futex, (long)word, FUTEX_WAKE, n, 0, 0, 0);
}

static pid_t cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;
static int pid_registered;

static void forget_pid(void)
{
    cached_pid = 0;
}

static void pid_register(void)
{
    pthread_atfork(NULL, NULL, forget_pid);
    __atomic_store_n(&pid_registered, 1, __ATOMIC_RELEASE);
}

pid_t rl__pid(void)
{
    pid_t p = cached_pid;
    if (p == 0) {
        /* Registered before the first value is kept: no fork can come in
         * between and leave a child with its parent's pid. A forked
         * child finds it done and skips pthread_once's code. */
        if (!__atomic_load_n(&pid_registered, __ATOMIC_ACQUIRE))
            pthread_once(&pid_once, pid_register);
        p = (pid_t)rl__sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
        cached_pid = p;
    }
    return p;
}

/* Copies by hand, not with strnlen and memcpy: short strings, on paths
 * every process of an execution takes, where each C library function is
 * one more page of code to fault in. */
size_t rl__append(char *dst, size_t cap, size_t at, const char *src)
{
    if (cap == 0)
        return 0;
    if (at >= cap)
        at = cap - 1;
    while (src && *src && at < cap - 1)
        dst[at++] = *src++;
    dst[at] = '\0';
    return at;
}

size_t rl__append_long(char *dst, size_t cap, size_t at, long v)
{
    char digits[24];
    int k = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do
        digits[k++] = (char)('0' + u % 10);
    while ((u /= 10) && k < 22);
    if (v < 0)
        digits[k++] = '-';
    char text[24];
    int n = 0;
    while (k > 0)
        text[n++] = digits[--k];
    text[n] = '\0';
    return rl__append(dst, cap, at, text);
}

void rl__copy_str(char *dst, size_t cap, const char *src)
{
    rl__append(dst, cap, 0, src);
}

#ifdef __GLIBC__
/* glibc's list of open streams, exported since 2.2.5. */
extern FILE *_IO_list_all;
#endif

void rl__flush_stdio(void)
{
#ifdef __GLIBC__
    /* fflush(NULL) takes the stream list's lock: a write, which after a
     * fork costs a copy-on-write page fault, in every root before each
     * child it starts and in every child at its exit. Look first, without
     * writing, when no other thread could change the list meanwhile: the
     * test is fflush(NULL)'s own (output waiting in the buffer; a wide
     * stream is flushed whatever it holds). */
    if (__libc_single_threaded) {
        int pending = 0;
        for (FILE *f = _IO_list_all; f && !pending; f = f->_chain)
            pending = f->_mode > 0 || f->_IO_write_ptr > f->_IO_write_base;
        if (!pending)
            return;
    }
#endif
    fflush(NULL);
}
