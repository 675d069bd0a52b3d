/* bench_intercept.c: the cost of one schedule point in an unmodified
 * program run with `racelab run -- COMMAND` (libracelab-intercept.so
 * preloaded) against a raw futex hand-over between two processes. The
 * program is this one, run as `bench_intercept --pipe-rounds N`: two
 * processes that hand a byte back and forth over two pipes. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "racelab.h"

#define MAX_REPS 32

/* ------------------------------------------------------------------ */
/* The interposed program                                              */
/* ------------------------------------------------------------------ */

/* Reads or writes exactly one byte on fd, retrying on EINTR. Returns 0,
 * or -1 on an error or end of file. */
static int one_byte(int fd, int out)
{
    char c = 'x';
    ssize_t n;
    do
        n = out ? write(fd, &c, 1) : read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

/* The program under the scheduler: a parent and its child make rounds
 * round trips of one byte over two pipes (parent to child, child back),
 * with nothing but plain C library calls. Returns the exit status: 0
 * when every round trip was made, 1 otherwise. */
static int pipe_rounds(long rounds)
{
    int down[2], up[2];
    if (pipe(down) < 0 || pipe(up) < 0) {
        perror("bench_intercept: pipe");
        return 1;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        perror("bench_intercept: fork");
        return 1;
    }
    if (child == 0) {
        close(down[1]);
        close(up[0]);
        for (long i = 0; i < rounds; i++)
            if (one_byte(down[0], 0) < 0 || one_byte(up[1], 1) < 0)
                _exit(1);
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    int ok = 1;
    for (long i = 0; ok && i < rounds; i++)
        ok = one_byte(down[1], 1) == 0 && one_byte(up[0], 0) == 0;
    close(down[1]);
    close(up[0]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* The measurement                                                     */
/* ------------------------------------------------------------------ */

static char racelab[PATH_MAX];
static char self[PATH_MAX];

/* Finds the racelab binary ($RACELAB, else BUILD/racelab beside this
 * program's BUILD/bench/) and this program's own path. Returns 0, or -1
 * when either is missing. */
static int find_programs(void)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    const char *env = getenv("RACELAB");
    if (env && *env) {
        snprintf(racelab, sizeof racelab, "%s", env);
    } else {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", self);
        char *bench_dir = dirname(dir);       /* BUILD/bench */
        char *build_dir = dirname(bench_dir); /* BUILD */
        snprintf(racelab, sizeof racelab, "%s/racelab", build_dir);
    }
    return access(racelab, X_OK) == 0 ? 0 : -1;
}

/* The schedule points of one controlled execution of `pipe_rounds`
 * rounds: the lines of the trace `racelab replay --trace` prints for the
 * execution that takes the default decision at every step. Blocking adds
 * no step, so every schedule of the program has as many. Returns the
 * count, or -1. */
static long steps_of(const char *rounds)
{
    char token[PATH_MAX + 16];
    snprintf(token, sizeof token, "cmd:%s@-", self);
    const char *argv[] = {racelab, "replay",        token,  "--trace", "--",
                          self,    "--pipe-rounds", rounds, NULL};
    char *out = NULL;
    if (bench_timed_run("bench_intercept", argv, &out) < 0)
        return -1;
    long n = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        long step, actor;
        if (sscanf(line, " %ld %ld ", &step, &actor) == 2)
            n++;
    }
    free(out);
    return n;
}

/* One controlled execution of the program with rounds round trips, the
 * one steps_of counts: `racelab replay 'cmd:PROG@-' -- PROG`, which takes
 * the default decision at every step. (A `run --mode random` execution
 * costs the same per point, but its count of points depends on its
 * schedule: a read that finds its byte already there takes one step, one
 * that waits for it two, and a passing execution's trace is not kept.)
 * Returns its wall time in seconds, or -1. */
static double controlled_run(const char *rounds)
{
    char token[PATH_MAX + 16];
    snprintf(token, sizeof token, "cmd:%s@-", self);
    const char *argv[] = {racelab, "replay",        token,  "--",
                          self,    "--pipe-rounds", rounds, NULL};
    return bench_timed_run("bench_intercept", argv, NULL);
}

/* intercept_point_ratio: the slope of the wall time of one controlled
 * execution of `bench_intercept --pipe-rounds N` over its
 * schedule points, between a short and a long program (the fixed cost of
 * racelab, the exec and the execution drops out), against the futex
 * ping-pong, interleaved. Returns 0 or -1. */
static int bench_point_ratio(int smoke)
{
    long r1 = smoke ? 10 : 100, r2 = smoke ? 60 : 1100;
    int reps = smoke ? 1 : 7;
    char a1[32], a2[32];
    snprintf(a1, sizeof a1, "%ld", r1);
    snprintf(a2, sizeof a2, "%ld", r2);
    long s1 = steps_of(a1);
    long s2 = s1 < 0 ? -1 : steps_of(a2);
    if (s1 < 0 || s2 <= s1)
        return -1;
    double ours[MAX_REPS], raw[MAX_REPS];
    int n = 0;
    for (int i = 0; i < reps; i++) {
        raw[i] = bench_futex_pingpong(2 * (r2 - r1));
        double t1 = controlled_run(a1);
        double t2 = controlled_run(a2);
        if (raw[i] < 0 || t1 < 0 || t2 < 0)
            return -1;
        ours[i] = (t2 - t1) / (double)(s2 - s1);
        n++;
    }
    double mo = bench_median(ours, n), mr = bench_median(raw, n);
    char note[300];
    snprintf(note, sizeof note,
             "slope between controlled executions (racelab replay "
             "'cmd:PROG@-') of %ld and %ld pipe round trips (%ld and %ld "
             "schedule points, 2 hand-overs per 6); ping-pong of %ld "
             "round trips; medians of %d interleaved runs",
             r1, r2, s1, s2, 2 * (r2 - r1), n);
    bench_metric("intercept_point_ratio", mo * 1e9, "ns/schedule point",
                 "futex ping-pong between two processes", mr * 1e9, mo / mr,
                 "<= 3", note);
    return 0;
}

/* Without arguments (or with --smoke, or the metric's name) measures;
 * with --pipe-rounds N it is the program measured. Exits 0 when the
 * measurement was made, 1 when it could not be. */
int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--pipe-rounds") == 0) {
        char *end;
        long rounds = strtol(argv[2], &end, 10);
        if (*end || rounds < 0) {
            fprintf(stderr,
                    "bench_intercept: --pipe-rounds %s: not a "
                    "count\n",
                    argv[2]);
            return 2;
        }
        return pipe_rounds(rounds);
    }
    int smoke = bench_smoke(argc, argv);
    if (!bench_wanted(argc, argv, "intercept_point_ratio"))
        return 0;
    if (find_programs() < 0) {
        fprintf(stderr, "bench_intercept: no racelab at %s (set RACELAB)\n",
                racelab);
        return 1;
    }
    if (bench_point_ratio(smoke) < 0) {
        bench_metric("intercept_point_ratio", NAN, "ns/schedule point",
                     "futex ping-pong between two processes", NAN, NAN, "<= 3",
                     "not measured: a run failed (see stderr)");
        return 1;
    }
    return 0;
}
