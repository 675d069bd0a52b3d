/* bench_cli.c: the racelab command as a user runs it: explore with --jobs 2
 * against --jobs 1, and external-command stress against xargs -P 2. */
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

static char racelab[PATH_MAX];

/* Finds the racelab binary: $RACELAB, else BUILD/racelab next to this
 * program's BUILD/bench/. Returns 0, or -1 when there is none. */
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

/* Runs argv to the end; returns its wall time in seconds and its exit code
 * in *code, or -1 when it could not run. Its stderr, when wanted, is
 * copied to err (cap bytes). */
static double timed_run(const char *const argv[], int *code, char *err,
                        size_t cap)
{
    rl_run_opts o = {.timeout = 600};
    rl_run_result res;
    double t0 = bench_now();
    int r = rl_run(argv, &o, &res);
    double t = bench_now() - t0;
    if (r < 0) {
        fprintf(stderr, "bench_cli: %s: %s\n", argv[0], rl_last_error());
        return -1;
    }
    *code = res.exit_code;
    if (err && cap)
        snprintf(err, cap, "%s", res.err ? res.err : "");
    rl_run_result_free(&res);
    return t;
}

/* explore_jobs_speedup: wall time of `racelab run counter.locked --jobs 1`
 * over that of `--jobs 2`, interleaved, medians. */
static int bench_jobs(int smoke)
{
    int reps = smoke ? 1 : 5;
    /* Options come before the pattern; --smoke stops after 20
     * executions, otherwise explore exhausts the bounded space. */
    const char *a1[] = {racelab,          "run", "--jobs", "1",
                        "counter.locked", NULL,  NULL,     NULL};
    const char *a2[] = {racelab,          "run", "--jobs", "2",
                        "counter.locked", NULL,  NULL,     NULL};
    if (smoke) {
        a1[4] = a2[4] = "--runs";
        a1[5] = a2[5] = "20";
        a1[6] = a2[6] = "counter.locked";
    }
    double t1[MAX_REPS], t2[MAX_REPS];
    char err[512];
    for (int i = 0; i < reps; i++) {
        int c1 = 0, c2 = 0;
        t1[i] = timed_run(a1, &c1, err, sizeof err);
        if (t1[i] >= 0 && c1 != 0)
            fprintf(stderr, "bench_cli: --jobs 1 exited %d: %s\n", c1, err);
        t2[i] = timed_run(a2, &c2, err, sizeof err);
        if (t2[i] >= 0 && c2 != 0)
            fprintf(stderr, "bench_cli: --jobs 2 exited %d: %s\n", c2, err);
        if (t1[i] < 0 || t2[i] < 0 || c1 != 0 || c2 != 0)
            return -1;
    }
    double m1 = bench_median(t1, reps), m2 = bench_median(t2, reps);
    double s = m1 / m2;
    char note[300];
    snprintf(note, sizeof note,
             "racelab run counter.locked (explore, bound 2%s): --jobs 1 "
             "%.3f s, --jobs 2 %.3f s, medians of %d interleaved runs, "
             "%ld cores%s",
             smoke ? ", 20 executions" : "", m1, m2, reps,
             sysconf(_SC_NPROCESSORS_ONLN),
             s < 1.1 ? "; --jobs 2 gives no measurable speedup here" : "");
    bench_metric("explore_jobs_speedup", s, "x", "--jobs 1", 1.0, s, ">= 1.6",
                 note);
    return 0;
}

/* stress_vs_xargs: runs per second of `racelab stress --runs N --jobs 2 --
 * /bin/true` over those of `seq N | xargs -P 2 -n 1 /bin/true`. When the
 * stress command does not exist yet, the metric is null with a note. */
static int bench_stress(int smoke)
{
    int reps = smoke ? 1 : 5;
    long n = smoke ? 20 : 2000;
    char nstr[32], shell[128];
    snprintf(nstr, sizeof nstr, "%ld", n);
    snprintf(shell, sizeof shell, "seq %ld | xargs -P 2 -n 1 /bin/true", n);
    const char *probe[] = {racelab, "stress",    "--runs", "1",
                           "--",    "/bin/true", NULL};
    const char *ours[] = {racelab, "stress", "--runs",    nstr, "--jobs",
                          "2",     "--",     "/bin/true", NULL};
    const char *base[] = {"/bin/sh", "-c", shell, NULL};
    const char *unit = "runs/s";
    const char *bname = "seq N | xargs -P 2 -n 1 /bin/true";
    const char *target = ">= 0.9";
    char err[512];
    int code = 0;
    if (timed_run(probe, &code, err, sizeof err) < 0)
        return -1;
    if (code != 0) {
        char note[700];
        snprintf(
            note, sizeof note,
            "not measured: `racelab stress -- /bin/true` exited %d%s%.400s",
            code, *err ? ": " : "", err);
        char *nl;
        while ((nl = strchr(note, '\n')))
            *nl = ' ';
        for (size_t k = strlen(note); k > 0 && note[k - 1] == ' '; k--)
            note[k - 1] = '\0';
        bench_metric("stress_vs_xargs", NAN, unit, bname, NAN, NAN, target,
                     note);
        return 0;
    }
    double to[MAX_REPS], tb[MAX_REPS];
    for (int i = 0; i < reps; i++) {
        int co = 0, cb = 0;
        tb[i] = timed_run(base, &cb, NULL, 0);
        to[i] = timed_run(ours, &co, err, sizeof err);
        if (to[i] >= 0 && co != 0)
            fprintf(stderr, "bench_cli: racelab stress exited %d: %s\n", co,
                    err);
        if (to[i] < 0 || tb[i] < 0 || co != 0 || cb != 0)
            return -1;
    }
    double mo = bench_median(to, reps), mb = bench_median(tb, reps);
    char note[300];
    snprintf(note, sizeof note,
             "%ld runs of /bin/true, 2 at a time: racelab stress %.3f s, "
             "xargs %.3f s, medians of %d interleaved runs",
             n, mo, mb, reps);
    bench_metric("stress_vs_xargs", (double)n / mo, unit, bname, (double)n / mb,
                 mb / mo, target, note);
    return 0;
}

/* Prints explore_jobs_speedup and stress_vs_xargs as JSON lines. --smoke:
 * tiny runs. Returns 0, or 1 when racelab is missing or a measurement
 * failed. */
int main(int argc, char **argv)
{
    int smoke = bench_smoke(argc, argv);
    if (find_racelab() < 0) {
        fprintf(stderr,
                "bench_cli: no racelab binary at '%s' (set "
                "RACELAB)\n",
                racelab);
        return 1;
    }
    int bad = 0;
    bad |= bench_jobs(smoke) < 0;
    bad |= bench_stress(smoke) < 0;
    return bad;
}
