/* bench_sched.c: the scheduler's costs against raw process primitives
 * (hand-over against a futex ping-pong, one controlled execution against
 * bare fork/_exit/waitpid), the explorer's rate, and how fast explore and
 * stress first see the counter's lost update. */
#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "../scenarios/counter.c" /* counter.unlocked, counter.locked */
#include "bench.h"
#include "racelab.h"

#define MAX_REPS 32

/* ------------------------------------------------------------------ */
/* Hand-over                                                           */
/* ------------------------------------------------------------------ */

static long handoff_yields; /* per actor, set before each execution */

/* An actor that only passes schedule points. */
static int yielder(void *arg)
{
    (void)arg;
    for (long i = 0; i < handoff_yields; i++)
        rl_yield("bench.handoff");
    return 0;
}

RL_SCENARIO(bench_handoff, "bench.handoff",
            .summary = "two actors that only yield, for the hand-over cost",
            .max_steps = 100000, .timeout = 120)
{
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, yielder, NULL, NULL) == 0, "start a");
    rl_check(rl_process_start(&b, yielder, NULL, NULL) == 0, "start b");
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
}

/* Runs one controlled execution of sc with the given forced decisions.
 * Returns its wall time in seconds (taken around rl__execute) and fills
 * *nsteps, or -1 when it could not run or did not pass. */
static double run_controlled(const rl_scenario *sc, const uint8_t *prefix,
                             long nprefix, long *nsteps)
{
    rl__exec_params p = {.mode = RL__MODE_CONTROLLED,
                         .strategy = RL__STRAT_DFS,
                         .prefix = prefix,
                         .nprefix = nprefix,
                         .max_steps = sc->max_steps,
                         .timeout = sc->timeout,
                         /* the race detector runs, as in every controlled
                          * execution; its verdict is not the point here */
                         .races = RL__RACES_REPORT};
    rl__exec_result r;
    double t0 = bench_now();
    int err = rl__execute(sc, &p, &r);
    double t = bench_now() - t0;
    if (err < 0) {
        fprintf(stderr, "bench_sched: rl__execute(%s): %s\n", sc->name,
                rl_last_error());
        return -1;
    }
    if (nsteps)
        *nsteps = r.nsteps;
    int v = r.verdict;
    if (v != RL_PASS)
        fprintf(stderr, "bench_sched: %s: %s: %s\n", sc->name,
                rl_verdict_name(v), r.message);
    rl__exec_result_free(&r);
    return v == RL_PASS ? t : -1;
}

/* Builds the decisions that make the two yielders alternate: the root's
 * own steps as an execution without preemptions takes them, up to the
 * first step of a child, then 1,2,1,2,... for 2 * yields steps. Returns
 * the malloc'd prefix and its length in *n, or NULL. */
static uint8_t *alternating_prefix(const rl_scenario *sc, long yields, long *n)
{
    handoff_yields = yields;
    rl__exec_params p = {.mode = RL__MODE_CONTROLLED,
                         .strategy = RL__STRAT_DFS,
                         .max_steps = sc->max_steps,
                         .timeout = sc->timeout,
                         /* the race detector runs, as in every controlled
                          * execution; its verdict is not the point here */
                         .races = RL__RACES_REPORT};
    rl__exec_result r;
    if (rl__execute(sc, &p, &r) < 0 || r.verdict != RL_PASS) {
        fprintf(stderr, "bench_sched: bench.handoff did not pass\n");
        rl__exec_result_free(&r);
        return NULL;
    }
    long k0 = 0;
    while (k0 < r.nsteps && r.steps[k0].actor == 0)
        k0++;
    uint8_t *d = malloc((size_t)(k0 + 2 * yields));
    if (d) {
        for (long k = 0; k < k0; k++)
            d[k] = (uint8_t)r.steps[k].actor;
        for (long k = 0; k < 2 * yields; k++)
            d[k0 + k] = (uint8_t)(1 + k % 2);
        *n = k0 + 2 * yields;
    }
    rl__exec_result_free(&r);
    return d;
}

/* handoff_ratio: the slope of execution time over steps between a short
 * and a long alternating execution (the fixed cost of an execution drops
 * out), against the futex ping-pong, interleaved. one_cpu: reported as
 * handoff_ratio_1cpu, with no target (the caller pinned the processes). */
static int bench_handoff_ratio(int smoke, int one_cpu)
{
    const rl_scenario *sc = rl__scenario_find("bench.handoff");
    long y1 = smoke ? 20 : 200, y2 = smoke ? 220 : 2200;
    int reps = smoke ? 1 : 9;
    long n1 = 0, n2 = 0;
    uint8_t *d1 = alternating_prefix(sc, y1, &n1);
    uint8_t *d2 = alternating_prefix(sc, y2, &n2);
    if (!d1 || !d2)
        return -1;
    double ours[MAX_REPS], raw[MAX_REPS];
    int n = 0;
    long s1 = 0, s2 = 0;
    for (int i = 0; i < reps; i++) {
        raw[i] = bench_futex_pingpong(y2 - y1);
        handoff_yields = y1;
        double t1 = run_controlled(sc, d1, n1, &s1);
        handoff_yields = y2;
        double t2 = run_controlled(sc, d2, n2, &s2);
        if (raw[i] < 0 || t1 < 0 || t2 < 0 || s2 <= s1)
            return -1;
        ours[i] = (t2 - t1) / (double)(s2 - s1);
        n++;
    }
    free(d1);
    free(d2);
    double mo = bench_median(ours, n), mr = bench_median(raw, n);
    char note[300];
    snprintf(note, sizeof note,
             "slope between alternating executions of %ld and %ld steps; "
             "ping-pong of %ld round trips; medians of %d interleaved runs",
             s1, s2, y2 - y1, n);
    if (one_cpu)
        strncat(note, "; every process on one CPU",
                sizeof note - strlen(note) - 1);
    bench_metric(one_cpu ? "handoff_ratio_1cpu" : "handoff_ratio", mo * 1e9,
                 "ns/hand-over", "futex ping-pong between two processes",
                 mr * 1e9, mo / mr, one_cpu ? NULL : "<= 1.5", note);
    return 0;
}

/* The hand-over again with this process and all it forks on the CPU it
 * runs on (affinity is inherited): without cross-CPU wake-ups. Restores
 * the affinity. Returns 0 or -1. */
static int bench_handoff_one_cpu(int smoke)
{
    cpu_set_t all, one;
    if (sched_getaffinity(0, sizeof all, &all) < 0)
        return -1;
    int cpu = sched_getcpu();
    CPU_ZERO(&one);
    CPU_SET(cpu >= 0 ? cpu : 0, &one);
    if (sched_setaffinity(0, sizeof one, &one) < 0)
        return -1;
    int r = bench_handoff_ratio(smoke, 1);
    sched_setaffinity(0, sizeof all, &all);
    return r;
}

/* ------------------------------------------------------------------ */
/* One execution                                                       */
/* ------------------------------------------------------------------ */

static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* The baseline of one execution: a root that forks two children which
 * _exit at once, and waits for them; the caller forks the root and waits.
 * Returns seconds, or -1. */
static double bare_tree(void)
{
    double t0 = bench_now();
    fflush(NULL);
    pid_t root = fork();
    if (root < 0)
        return -1;
    if (root == 0) {
        pid_t a = fork();
        if (a == 0)
            _exit(0);
        pid_t b = fork();
        if (b == 0)
            _exit(0);
        if (a > 0)
            reap(a);
        if (b > 0)
            reap(b);
        _exit(a > 0 && b > 0 ? 0 : 1);
    }
    reap(root);
    return bench_now() - t0;
}

/* execution_ratio: one controlled execution of counter.unlocked (no
 * preemption, so it passes) against the bare process tree, in batches,
 * interleaved. */
static int bench_execution_ratio(int smoke)
{
    const rl_scenario *sc = rl__scenario_find("counter.unlocked");
    int reps = smoke ? 1 : 9, batch = smoke ? 2 : 30;
    double ours[MAX_REPS], raw[MAX_REPS];
    long steps = 0;
    run_controlled(sc, NULL, 0, &steps); /* warm up */
    for (int i = 0; i < reps; i++) {
        double so = 0, sr = 0;
        for (int j = 0; j < batch; j++) {
            double tr = bare_tree();
            /* counter.unlocked without preemptions passes */
            double to = run_controlled(sc, NULL, 0, &steps);
            if (tr < 0 || to < 0)
                return -1;
            sr += tr;
            so += to;
        }
        ours[i] = so / batch;
        raw[i] = sr / batch;
    }
    double mo = bench_median(ours, reps), mr = bench_median(raw, reps);
    char note[300];
    snprintf(note, sizeof note,
             "rl__execute of counter.unlocked (%ld steps, root + 2 actors) "
             "vs fork+_exit+waitpid of 3 processes; medians of %d "
             "interleaved batches of %d",
             steps, reps, batch);
    bench_metric("execution_ratio", mo * 1e6, "us/execution",
                 "bare fork/_exit/waitpid of the same 3 processes", mr * 1e6,
                 mo / mr, "<= 1.5", note);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Search                                                              */
/* ------------------------------------------------------------------ */

/* explore_rate: executions per second of explore exhausting
 * counter.locked with a preemption bound of 2, without reduction: the
 * same 604 executions whatever the reduction finds, so the rate measures
 * the engine's cost per execution and compares across versions. */
static int bench_explore_rate(int smoke)
{
    int reps = smoke ? 1 : 5;
    double rate[MAX_REPS];
    long execs = 0;
    int exhausted = 0;
    for (int i = 0; i < reps; i++) {
        rl_search_opts o = {.mode = RL_EXPLORE,
                            .preemptions = 2,
                            .reduction = RL_REDUCTION_NONE,
                            .runs = smoke ? 20 : 0};
        rl_outcome out;
        double t0 = bench_now();
        int err = rl_search("counter.locked", &o, &out);
        double t = bench_now() - t0;
        if (err < 0) {
            fprintf(stderr, "bench_sched: rl_search: %s\n", rl_last_error());
            return -1;
        }
        execs = out.executions;
        exhausted = out.exhausted;
        rate[i] = (double)out.executions / t;
        rl_outcome_free(&out);
    }
    double m = bench_median(rate, reps);
    char note[200];
    snprintf(note, sizeof note,
             "%ld executions%s, bound 2, no reduction, median of %d "
             "searches",
             execs,
             exhausted ? " (exhausted)" : " (limited, --smoke)", reps);
    bench_metric("explore_rate", m, "executions/s", NULL, NAN, NAN, NULL, note);
    return 0;
}

/* time_to_detect: wall time until the lost update of counter.unlocked is
 * first seen, explore against stress. Stress runs executions one by one
 * until the first failure, at most max_runs of them. */
static int bench_time_to_detect(int smoke)
{
    int reps = smoke ? 1 : 5;
    long max_runs = smoke ? 20 : 2000;
    double tex[MAX_REPS];
    long ex_execs = 0;
    for (int i = 0; i < reps; i++) {
        /* The lost update itself, not the race that shows before it
         * (with races on, explore reports it on the first execution). */
        rl_search_opts o = {
            .mode = RL_EXPLORE, .preemptions = 2, .races = RL_RACES_OFF};
        rl_outcome out;
        double t0 = bench_now();
        int err = rl_search("counter.unlocked", &o, &out);
        tex[i] = bench_now() - t0;
        if (err < 0 || out.verdict != RL_FAIL) {
            fprintf(stderr, "bench_sched: explore missed the lost update\n");
            if (err == 0)
                rl_outcome_free(&out);
            return -1;
        }
        ex_execs = out.executions;
        rl_outcome_free(&out);
    }
    double mex = bench_median(tex, reps);

    const rl_scenario *sc = rl__scenario_find("counter.unlocked");
    double tst[MAX_REPS], runs[MAX_REPS];
    int nfound = 0;
    for (int i = 0; i < reps; i++) {
        long run;
        int found = 0;
        double t0 = bench_now();
        for (run = 1; run <= max_runs && !found; run++) {
            rl__exec_params p = {.mode = RL__MODE_STRESS,
                                 .seed = (uint64_t)(i * max_runs + run),
                                 .max_steps = sc->max_steps,
                                 .timeout = 10};
            rl__exec_result r;
            if (rl__execute(sc, &p, &r) < 0) {
                fprintf(stderr, "bench_sched: stress: %s\n", rl_last_error());
                return -1;
            }
            found = r.verdict == RL_FAIL;
            rl__exec_result_free(&r);
        }
        tst[i] = bench_now() - t0;
        runs[i] = (double)(run - 1);
        nfound += found;
    }
    double mst = bench_median(tst, reps), mruns = bench_median(runs, reps);
    int found = nfound == reps;
    char note[300];
    if (found)
        snprintf(note, sizeof note,
                 "explore: %ld executions; stress: first failure after "
                 "%.0f runs, %.3f s; medians of %d searches each",
                 ex_execs, mruns, mst, reps);
    else
        snprintf(note, sizeof note,
                 "explore: %ld executions (median of %d); stress: %d of %d "
                 "searches saw no failure in %ld runs (median %.3f s)",
                 ex_execs, reps, reps - nfound, reps, max_runs, mst);
    /* With no failure the stress time is a lower bound: the ratio too. */
    bench_metric("time_to_detect", mex, "s (explore)",
                 found ? "stress, time to the first failure"
                       : "stress, time to the first failure or the end",
                 mst, mst / mex, NULL, note);
    return 0;
}

/* Prints handoff_ratio (and handoff_ratio_1cpu), execution_ratio, explore_rate
 * and time_to_detect as JSON lines (only those named, when some are).
 * --smoke: one tiny iteration of each.
 * Returns 0, or 1 when a measurement could not be taken. */
int main(int argc, char **argv)
{
    int smoke = bench_smoke(argc, argv);
    int bad = 0;
    if (bench_wanted(argc, argv, "handoff_ratio"))
        bad |= bench_handoff_ratio(smoke, 0) < 0;
    if (bench_wanted(argc, argv, "handoff_ratio_1cpu"))
        bad |= bench_handoff_one_cpu(smoke) < 0;
    if (bench_wanted(argc, argv, "execution_ratio"))
        bad |= bench_execution_ratio(smoke) < 0;
    if (bench_wanted(argc, argv, "explore_rate"))
        bad |= bench_explore_rate(smoke) < 0;
    if (bench_wanted(argc, argv, "time_to_detect"))
        bad |= bench_time_to_detect(smoke) < 0;
    return bad;
}
