/* bench_python.c: one controlled execution of a small Python
 * multiprocessing program under `racelab replay -- python3 ...` (the
 * interpreter unmodified, libracelab-intercept.so preloaded) against one
 * native run of the same program, side by side. */
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "racelab.h"

#define MAX_REPS 32

/* The program measured: a parent and one forked child hand a counter
 * back and forth over two multiprocessing Pipes, argv[1] round trips;
 * exit status 0 when every one was made. */
static const char pingpong[] =
    "import multiprocessing as mp, sys\n"
    "def child(down, up, n):\n"
    "    for _ in range(n):\n"
    "        up.send(down.recv() + 1)\n"
    "def main(n):\n"
    "    ctx = mp.get_context('fork')\n"
    "    dr, dw = ctx.Pipe(duplex=False)\n"
    "    ur, uw = ctx.Pipe(duplex=False)\n"
    "    p = ctx.Process(target=child, args=(dr, uw, n))\n"
    "    p.start()\n"
    "    x = 0\n"
    "    for _ in range(n):\n"
    "        dw.send(x)\n"
    "        x = ur.recv()\n"
    "    p.join()\n"
    "    return 0 if x == n and p.exitcode == 0 else 1\n"
    "sys.exit(main(int(sys.argv[1])))\n";

static char racelab[PATH_MAX];
static char python[PATH_MAX];

/* Finds the racelab binary ($RACELAB, else BUILD/racelab beside this
 * program's BUILD/bench/). Returns 0, or -1 when there is none. */
static int find_racelab(void)
{
    const char *env = getenv("RACELAB");
    if (env && *env) {
        snprintf(racelab, sizeof racelab, "%s", env);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return -1;
        self[n] = '\0';
        char *bench_dir = dirname(self);      /* BUILD/bench */
        char *build_dir = dirname(bench_dir); /* BUILD */
        snprintf(racelab, sizeof racelab, "%s/racelab", build_dir);
    }
    return access(racelab, X_OK) == 0 ? 0 : -1;
}

/* Finds the Python interpreter itself: /usr/bin/python3 when there is
 * one, else the sys.executable of the python3 in PATH (a version
 * manager's shim in PATH would start processes of its own in every run,
 * none of them the program's). Returns 0, or -1 when there is none. */
static int find_python(void)
{
    if (access("/usr/bin/python3", X_OK) == 0) {
        snprintf(python, sizeof python, "/usr/bin/python3");
        return 0;
    }
    const char *argv[] = {"python3", "-c", "import sys; print(sys.executable)",
                          NULL};
    rl_run_opts o = {.timeout = 60};
    rl_run_result res;
    int found = 0;
    if (rl_run(argv, &o, &res) == 0 && res.exit_code == 0 && res.out) {
        res.out[strcspn(res.out, "\n")] = '\0';
        snprintf(python, sizeof python, "%s", res.out);
        found = python[0] && access(python, X_OK) == 0;
    }
    rl_run_result_free(&res);
    return found ? 0 : -1;
}

/* The token of the execution that takes the default decision at every
 * step, for the command python. */
static void default_token(char *token, size_t cap)
{
    snprintf(token, cap, "cmd:%s@-", python);
}

/* The schedule points of the controlled execution controlled_run times:
 * the lines of its `racelab replay --trace`. Returns the count, or -1. */
static long steps_of(const char *rounds)
{
    char token[PATH_MAX + 16];
    default_token(token, sizeof token);
    const char *argv[] = {racelab, "replay", token,    "--trace", "--",
                          python,  "-c",     pingpong, rounds,    NULL};
    char *out = NULL;
    if (bench_timed_run("bench_python", argv, &out) < 0)
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

/* One controlled execution of the program: `racelab replay 'cmd:PY@-'
 * -- PY -c PROGRAM rounds`, the default decision at every step, from
 * racelab's start to its end. Returns its wall time in seconds, or -1. */
static double controlled_run(const char *rounds)
{
    char token[PATH_MAX + 16];
    default_token(token, sizeof token);
    const char *argv[] = {racelab, "replay", token,  "--", python,
                          "-c",    pingpong, rounds, NULL};
    return bench_timed_run("bench_python", argv, NULL);
}

/* One native run of the same program. Returns its wall time in seconds,
 * or -1. */
static double native_run(const char *rounds)
{
    const char *argv[] = {python, "-c", pingpong, rounds, NULL};
    return bench_timed_run("bench_python", argv, NULL);
}

/* python_execution_ratio: the wall time of one controlled execution of
 * the ping-pong over that of one native run, interleaved repetitions,
 * medians. The whole program is timed on both sides, the interpreter's
 * start included: that is what a user waits for. Returns 0 or -1. */
static int bench_execution_ratio(int smoke)
{
    long rounds = smoke ? 10 : 300;
    int reps = smoke ? 1 : 9;
    char arg[32];
    snprintf(arg, sizeof arg, "%ld", rounds);
    long steps = steps_of(arg);
    if (steps < 0)
        return -1;
    double ours[MAX_REPS], native[MAX_REPS];
    for (int i = 0; i < reps; i++) {
        native[i] = native_run(arg);
        ours[i] = controlled_run(arg);
        if (native[i] < 0 || ours[i] < 0)
            return -1;
    }
    double mo = bench_median(ours, reps), mn = bench_median(native, reps);
    char note[600];
    snprintf(note, sizeof note,
             "%.200s -c PROGRAM %ld: a parent and its forked child, %ld round "
             "trips over two multiprocessing Pipes; one controlled "
             "execution (racelab replay 'cmd:PY@-', %ld schedule points) "
             "against one native run, interpreter start included; medians "
             "of %d interleaved runs",
             python, rounds, rounds, steps, reps);
    bench_metric("python_execution_ratio", mo, "s/execution",
                 "the same program run natively", mn, mo / mn, "<= 2", note);
    return 0;
}

/* Measures python_execution_ratio (with --smoke, once on a tiny input).
 * Without a Python interpreter the metric is reported as not measured.
 * Exits 0 when the measurement was made or Python is missing, 1 when a
 * run failed. */
int main(int argc, char **argv)
{
    int smoke = bench_smoke(argc, argv);
    if (!bench_wanted(argc, argv, "python_execution_ratio"))
        return 0;
    if (find_racelab() < 0) {
        fprintf(stderr, "bench_python: no racelab at %s (set RACELAB)\n",
                racelab);
        return 1;
    }
    if (find_python() < 0) {
        bench_metric("python_execution_ratio", NAN, "s/execution",
                     "the same program run natively", NAN, NAN, "<= 2",
                     "not measured: no python3");
        return 0;
    }
    if (bench_execution_ratio(smoke) < 0) {
        bench_metric("python_execution_ratio", NAN, "s/execution",
                     "the same program run natively", NAN, NAN, "<= 2",
                     "not measured: a run failed (see stderr)");
        return 1;
    }
    return 0;
}
