/* bench.h: helpers shared by the benchmark programs: clock, medians and the
 * one-JSON-object-per-line metric output that bench/run.sh collects. */
#ifndef RL_BENCH_H
#define RL_BENCH_H

#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../reports/text.h"
#include "racelab.h"

/* The monotonic clock in seconds. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n values (sorts v in place); NAN when n is 0. */
static inline double bench_median(double *v, int n)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Whether argv holds --smoke (one tiny iteration of every measurement). */
static inline int bench_smoke(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--smoke") == 0)
            return 1;
    return 0;
}

/* Whether the measurement called name was asked for: every one when argv
 * names none (arguments other than --smoke are metric names). */
static inline int bench_wanted(int argc, char **argv, const char *name)
{
    int named = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0)
            continue;
        named = 1;
        if (strcmp(argv[i], name) == 0)
            return 1;
    }
    return !named;
}

/* Prints s as a JSON string (NULL as null). */
static inline void bench_json_str(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    rl__json_string(stdout, s);
}

/* Prints a number as JSON: NAN and infinities (not measured) as null. */
static inline void bench_json_num(double v)
{
    if (isfinite(v))
        printf("%.6g", v);
    else
        fputs("null", stdout);
}

/* One metric as one line of JSON on stdout (the "C" locale's decimal
 * point). value and baseline_value are what was measured, ratio is the
 * figure the target applies to (NAN: none), target a comparison such as
 * "<= 1.5" or NULL, note NULL or a short remark. */
static inline void bench_metric(const char *name, double value,
                                const char *unit, const char *baseline,
                                double baseline_value, double ratio,
                                const char *target, const char *note)
{
    fputs("{\"name\": ", stdout);
    bench_json_str(name);
    fputs(", \"value\": ", stdout);
    bench_json_num(value);
    fputs(", \"unit\": ", stdout);
    bench_json_str(unit);
    fputs(", \"baseline\": ", stdout);
    bench_json_str(baseline);
    fputs(", \"baseline_value\": ", stdout);
    bench_json_num(baseline_value);
    fputs(", \"ratio\": ", stdout);
    bench_json_num(ratio);
    fputs(", \"target\": ", stdout);
    bench_json_str(target);
    fputs(", \"note\": ", stdout);
    bench_json_str(note);
    fputs("}\n", stdout);
    fflush(stdout);
}

/* The raw futex hand-over the schedulers are measured against. */
static inline long bench_futex_op(uint32_t *w, int op, uint32_t val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* The baseline: two processes hand a futex word in MAP_SHARED memory back
 * and forth, rounds times each way after a first untimed round. Returns the
 * seconds per hand-over, or -1. */
static inline double bench_futex_pingpong(long rounds)
{
    uint32_t *turn = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (turn == MAP_FAILED)
        return -1;
    *turn = 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        munmap(turn, 4096);
        return -1;
    }
    if (pid == 0) {
        for (long i = 0; i <= rounds; i++) {
            while (__atomic_load_n(turn, __ATOMIC_ACQUIRE) != 1)
                bench_futex_op(turn, FUTEX_WAIT, 0);
            __atomic_store_n(turn, 0, __ATOMIC_RELEASE);
            bench_futex_op(turn, FUTEX_WAKE, 1);
        }
        _exit(0);
    }
    /* Round 0 waits for the child to run at all: not timed. */
    double t0 = 0;
    for (long i = 0; i <= rounds; i++) {
        if (i == 1)
            t0 = bench_now();
        __atomic_store_n(turn, 1, __ATOMIC_RELEASE);
        bench_futex_op(turn, FUTEX_WAKE, 1);
        while (__atomic_load_n(turn, __ATOMIC_ACQUIRE) != 0)
            bench_futex_op(turn, FUTEX_WAIT, 1);
    }
    double t = bench_now() - t0;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    munmap(turn, 4096);
    return t / (double)(2 * rounds);
}

/* Runs argv to its end (who names the benchmark in messages). Returns its
 * wall time in seconds and, when out is not NULL, its stdout (malloc'd,
 * the caller frees it); -1 when it could not run or did not exit with
 * status 0 (its stderr is shown). */
static inline double bench_timed_run(const char *who, const char *const argv[],
                                     char **out)
{
    rl_run_opts o = {.timeout = 600};
    rl_run_result res;
    double t0 = bench_now();
    int r = rl_run(argv, &o, &res);
    double t = bench_now() - t0;
    if (r < 0) {
        fprintf(stderr, "%s: %s: %s\n", who, argv[0], rl_last_error());
        rl_run_result_free(&res);
        return -1;
    }
    if (res.exit_code != 0) {
        fprintf(stderr, "%s: %s %s: exit status %d\n%s%s", who, argv[0],
                argv[1], res.exit_code, res.out ? res.out : "",
                res.err ? res.err : "");
        rl_run_result_free(&res);
        return -1;
    }
    if (out) {
        *out = res.out;
        res.out = NULL;
    }
    rl_run_result_free(&res);
    return t;
}

#endif /* RL_BENCH_H */
