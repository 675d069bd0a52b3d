/* check_extstress.c: stress of external commands (racelab stress -- CMD):
 * run counts, classes, first failures, kept outputs, timeouts that kill a
 * whole process group, shards, the stop flag, missing commands, the
 * noise interposer, and runs until a failure or for a time, failure logs
 * and hung runs kept stopped. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/extstress.h"
#include "racelab.h"
#include "testutil.h"

/* The path of a program in tests/data (make test runs from the root). */
static const char *data(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 256, "tests/data/%s", name);
    return p;
}

/* Runs a script with options and checks the invariants every result has:
 * classes add up, failures match, no fd or zombie is left. */
static int stress(const char *script, const char *arg, const rl__stress_opts *o,
                  rl__result *r)
{
    int fds = rl_test_fd_count();
    char *argv[] = {(char *)data(script), (char *)arg, NULL};
    int rc = rl__stress_command(argv, o, r);
    if (rc == 0) {
        long sum = 0;
        for (int i = 0; i < RL__RUN_CLASSES; i++)
            sum += r->classes[i];
        ck_assert_int_eq(sum, r->executions);
        ck_assert_int_eq(r->failures, r->executions - r->classes[0]);
        ck_assert_int_eq(r->external, 1);
        ck_assert_int_eq(r->mode, RL_MODE_STRESS);
        ck_assert_ptr_nonnull(r->name);
        ck_assert_str_eq(r->summary, "external command");
        ck_assert_int_eq(rl__result_as_expected(r), r->verdict == RL_PASS);
    }
    ck_assert_int_eq(rl_test_fd_count(), fds);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
    return rc;
}

/* The count of a value in the exit-code histogram. */
static long hist(const rl__result *r, long v)
{
    for (int i = 0; i < r->nvalues; i++)
        if (r->values[i] == v)
            return r->counts[i];
    return 0;
}

START_TEST(never_fails_counts_exactly)
{
    rl__stress_opts o = {.runs = 57, .jobs = 3};
    rl__result r;
    ck_assert_int_eq(stress("never.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.executions, 57);
    ck_assert_int_eq(r.classes[RL__RUN_OK], 57);
    ck_assert_int_eq(r.failures, 0);
    ck_assert_int_eq(r.first_failure_run, 0);
    ck_assert_int_eq(r.verdict, RL_PASS);
    ck_assert_int_eq(r.nvalues, 1);
    ck_assert_int_eq(hist(&r, 0), 57);
    ck_assert_ptr_null(r.kept_output[0]);
    ck_assert_str_eq(r.name, "stress:tests/data/never.sh");
    ck_assert(r.duration > 0);
    rl__result_free(&r);
}
END_TEST

START_TEST(sometimes_fails_first_failure_and_rate)
{
    rl__stress_opts o = {.runs = 30, .jobs = 4, .seed = 9};
    rl__result r;
    ck_assert_int_eq(stress("sometimes.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.executions, 30);
    ck_assert_int_eq(r.failures, 10);
    ck_assert_int_eq(r.classes[RL__RUN_WRONG_EXIT], 10);
    ck_assert_int_eq(r.first_failure_run, 3);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    ck_assert_int_eq(rl__result_as_expected(&r), 0);
    ck_assert_int_eq(r.seed, 9);
    ck_assert_int_eq(hist(&r, 0), 20);
    ck_assert_int_eq(hist(&r, 1), 10);
    ck_assert_ptr_nonnull(strstr(r.failure.message, "run 3"));
    ck_assert_ptr_nonnull(strstr(r.failure.message, "exit status 1"));
    /* The outputs of the three lowest-numbered failures, in run order. */
    const char *want[] = {"run 3: exit 1\n", "run 6: exit 1\n",
                          "run 9: exit 1\n"};
    for (int i = 0; i < RL__KEPT_OUTPUTS; i++) {
        ck_assert_ptr_nonnull(r.kept_output[i]);
        ck_assert_msg(!strncmp(r.kept_output[i], want[i], strlen(want[i])),
                      "kept %d: %s", i, r.kept_output[i]);
    }
    ck_assert_ptr_nonnull(strstr(r.kept_output[0], "oops in run 3"));
    double lo, hi;
    rl__wilson(r.failures, r.executions, &lo, &hi);
    ck_assert(lo > 0.15 && lo < 1.0 / 3);
    ck_assert(hi > 1.0 / 3 && hi < 0.55);
    rl__result_free(&r);
}
END_TEST

START_TEST(always_fails_unless_exit_expected)
{
    rl__stress_opts o = {.runs = 5, .jobs = 2};
    rl__result r;
    ck_assert_int_eq(stress("always.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.failures, 5);
    ck_assert_int_eq(r.first_failure_run, 1);
    ck_assert_int_eq(hist(&r, 3), 5);
    ck_assert_ptr_nonnull(strstr(r.kept_output[0], "always failing"));
    ck_assert_ptr_nonnull(r.kept_output[2]);
    rl__result_free(&r);

    o.expect_exit = 3;
    ck_assert_int_eq(stress("always.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.failures, 0);
    ck_assert_int_eq(r.verdict, RL_PASS);
    rl__result_free(&r);

    o.expect_exit = 0;
    ck_assert_int_eq(stress("never.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.failures, 0);
    rl__result_free(&r);
}
END_TEST

START_TEST(expect_stdout)
{
    rl__stress_opts o = {.runs = 12, .jobs = 3, .expect_stdout = "hello"};
    rl__result r;
    ck_assert_int_eq(stress("wrongout.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.classes[RL__RUN_WRONG_OUTPUT], 3);
    ck_assert_int_eq(r.classes[RL__RUN_OK], 9);
    ck_assert_int_eq(r.first_failure_run, 4);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    ck_assert_ptr_nonnull(strstr(r.failure.message, "goodbye"));
    ck_assert(!strncmp(r.kept_output[0], "run 4: wrong output",
                       strlen("run 4: wrong output")));
    ck_assert_ptr_nonnull(strstr(r.kept_output[0], "goodbye"));
    ck_assert_ptr_nonnull(strstr(r.kept_output[0], "a note on stderr"));
    ck_assert_ptr_nonnull(strstr(r.kept_output[2], "run 12:"));
    rl__result_free(&r);

    /* A trailing newline on either side does not matter. */
    o.expect_stdout = "hello\n";
    ck_assert_int_eq(stress("never.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.failures, 0);
    rl__result_free(&r);
    o.expect_stdout = "hell";
    ck_assert_int_eq(stress("never.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.failures, 12);
    rl__result_free(&r);
}
END_TEST

START_TEST(kept_output_is_a_bounded_tail)
{
    rl__stress_opts o = {.runs = 2, .jobs = 2};
    rl__result r;
    ck_assert_int_eq(stress("big.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.classes[RL__RUN_WRONG_EXIT], 2);
    for (int i = 0; i < 2; i++) {
        size_t len = strlen(r.kept_output[i]);
        ck_assert_uint_le(len, 65536 + 200);
        ck_assert_uint_ge(len, 16384);
        ck_assert_ptr_nonnull(strstr(r.kept_output[i], "[...]\n"));
        ck_assert_str_eq(r.kept_output[i] + len - 12, "39999\n40000\n");
    }
    ck_assert_ptr_null(r.kept_output[2]);
    rl__result_free(&r);

    /* The whole output is compared, not only what is kept. */
    o.expect_exit = 1;
    o.expect_stdout = "1";
    ck_assert_int_eq(stress("big.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.classes[RL__RUN_WRONG_OUTPUT], 2);
    rl__result_free(&r);
}
END_TEST

START_TEST(signal_is_a_crash)
{
    rl__stress_opts o = {.runs = 4, .jobs = 2};
    rl__result r;
    ck_assert_int_eq(stress("signal.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.classes[RL__RUN_SIGNAL], 4);
    ck_assert_int_eq(r.verdict, RL_CRASH);
    ck_assert_int_eq(hist(&r, -SIGSEGV), 4);
    ck_assert_ptr_nonnull(strstr(r.failure.message, "SIGSEGV"));
    ck_assert(!strncmp(r.kept_output[0], "run 1: signal SIGSEGV\n",
                       strlen("run 1: signal SIGSEGV\n")));
    ck_assert_ptr_nonnull(strstr(r.kept_output[0], "about to crash"));
    rl__result_free(&r);
}
END_TEST

static int in_group(const rl_test_proc *p, void *ctx)
{
    pid_t pgid = *(pid_t *)ctx;
    return p->state != 'Z' && (p->pgrp == pgid || p->pid == pgid);
}

/* Waits up to 10 s until no live process is left in the group pgid (or
 * with that pid). Returns the number still alive. */
static int alive_in_group(pid_t pgid)
{
    int n = 0;
    for (int tries = 0; tries < 200; tries++) {
        n = rl_test_procs(in_group, &pgid, NULL);
        if (n == 0)
            break;
        rl_test_sleep(0.05);
    }
    return n;
}

/* Reads the "SHELLPID SLEEPPID" lines hang.sh wrote and checks that none
 * of those processes, nor anything in their groups, is alive. Returns the
 * number of lines. */
static int check_hang_file(const char *file)
{
    FILE *f = fopen(file, "re");
    ck_assert_ptr_nonnull(f);
    int sh, bg, lines = 0;
    while (fscanf(f, "%d %d", &sh, &bg) == 2) {
        lines++;
        ck_assert_int_eq(alive_in_group(sh), 0);
        ck_assert_int_eq(alive_in_group(bg), 0);
    }
    fclose(f);
    return lines;
}

START_TEST(timeout_kills_the_whole_group)
{
    char file[] = "/tmp/racelab-hang-XXXXXX";
    int fd = mkstemp(file);
    ck_assert_int_ge(fd, 0);
    close(fd);
    rl__stress_opts o = {.runs = 2, .jobs = 2, .timeout = 0.3};
    rl__result r;
    ck_assert_int_eq(stress("hang.sh", file, &o, &r), 0);
    ck_assert_int_eq(r.executions, 2);
    ck_assert_int_eq(r.classes[RL__RUN_TIMEOUT], 2);
    ck_assert_int_eq(r.verdict, RL_TIMEOUT);
    ck_assert_int_eq(r.first_failure_run, 1);
    ck_assert(r.duration >= 0.3 && r.duration < 20);
    ck_assert_int_eq(r.nvalues, 0);
    ck_assert_ptr_nonnull(strstr(r.failure.message, "timed out"));
    ck_assert(!strncmp(r.kept_output[0], "run 1: timeout after 0.3 s",
                       strlen("run 1: timeout after 0.3 s")));
    ck_assert_int_eq(check_hang_file(file), 2);
    unlink(file);
    rl__result_free(&r);
}
END_TEST

START_TEST(shards_add_up_to_the_whole)
{
    rl__stress_opts o = {.runs = 20, .jobs = 2};
    rl__result whole, part;
    ck_assert_int_eq(stress("sometimes.sh", NULL, &o, &whole), 0);
    ck_assert_int_eq(whole.failures, 6);
    long execs = 0, fails = 0, first = 0;
    for (long i = 0; i < 3; i++) {
        o.shard_index = i;
        o.shard_count = 3;
        ck_assert_int_eq(stress("sometimes.sh", NULL, &o, &part), 0);
        ck_assert_int_eq(part.executions, i < 2 ? 7 : 6);
        execs += part.executions;
        fails += part.failures;
        if (part.first_failure_run &&
            (!first || part.first_failure_run < first))
            first = part.first_failure_run;
        /* Runs k with k % 3 == 2 (run numbers 3, 6, ...) all fail. */
        ck_assert_int_eq(part.failures, i == 2 ? 6 : 0);
        rl__result_free(&part);
    }
    ck_assert_int_eq(execs, whole.executions);
    ck_assert_int_eq(fails, whole.failures);
    ck_assert_int_eq(first, whole.first_failure_run);
    rl__result_free(&whole);

    o.shard_index = 3;
    ck_assert_int_eq(stress("never.sh", NULL, &o, &part), -EINVAL);
    rl__result_free(&part);
}
END_TEST

static volatile sig_atomic_t stop_flag;

static void stop_after_three(long done, long total, long failures, void *ctx)
{
    (void)total;
    (void)failures;
    long *calls = ctx;
    ++*calls;
    if (done >= 3)
        stop_flag = 1;
}

START_TEST(stop_flag_ends_early)
{
    long calls = 0;
    stop_flag = 0;
    rl__stress_opts o = {.runs = 1000,
                         .jobs = 2,
                         .stop = &stop_flag,
                         .progress = stop_after_three,
                         .progress_ctx = &calls};
    rl__result r;
    ck_assert_int_eq(stress("never.sh", NULL, &o, &r), 0);
    ck_assert_int_ge(r.executions, 3);
    ck_assert_int_lt(r.executions, 10);
    ck_assert_int_eq(calls, r.executions);
    rl__result_free(&r);
}
END_TEST

static void on_alarm(int sig)
{
    (void)sig;
    stop_flag = 1;
}

START_TEST(stop_flag_kills_running_groups)
{
    char file[] = "/tmp/racelab-hang-XXXXXX";
    int fd = mkstemp(file);
    ck_assert_int_ge(fd, 0);
    close(fd);
    stop_flag = 0;
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {0, 300000}};
    setitimer(ITIMER_REAL, &it, NULL);
    rl__stress_opts o = {
        .runs = 6, .jobs = 2, .timeout = 60, .stop = &stop_flag};
    rl__result r;
    ck_assert_int_eq(stress("hang.sh", file, &o, &r), 0);
    ck_assert_int_eq(r.executions, 0);
    ck_assert(r.duration < 20);
    ck_assert_int_eq(check_hang_file(file), 2);
    unlink(file);
    rl__result_free(&r);
}
END_TEST

START_TEST(missing_command)
{
    rl__stress_opts o = {.runs = 3};
    rl__result r;
    char *a1[] = {"racelab-no-such-command", "x", NULL};
    int fds = rl_test_fd_count();
    ck_assert_int_eq(rl__stress_command(a1, &o, &r), -ENOENT);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "racelab-no-such-command"));
    ck_assert_int_eq(r.executions, 0);
    rl__result_free(&r);
    char *a2[] = {"/nonexistent/racelab/cmd", NULL};
    ck_assert_int_eq(rl__stress_command(a2, &o, &r), -ENOENT);
    rl__result_free(&r);
    char *a3[] = {"tests/data/not-executable.sh", NULL};
    ck_assert_int_eq(rl__stress_command(a3, &o, &r), -EACCES);
    rl__result_free(&r);
    char *a4[] = {NULL};
    ck_assert_int_eq(rl__stress_command(a4, &o, &r), -EINVAL);
    ck_assert_int_eq(rl_test_fd_count(), fds);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

START_TEST(command_from_path)
{
    rl__stress_opts o = {.runs = 5, .jobs = 2, .expect_exit = 1};
    rl__result r;
    char *argv[] = {"false", NULL};
    ck_assert_int_eq(rl__stress_command(argv, &o, &r), 0);
    ck_assert_int_eq(r.executions, 5);
    ck_assert_int_eq(r.failures, 0);
    ck_assert_str_eq(r.name, "stress:false");
    rl__result_free(&r);
}
END_TEST

static char noise_tmpdir[64];

/* The noise library: $BUILD/libracelab-noise.so, or built here from
 * noise/noise.c into noise_tmpdir. NULL when neither works. */
static const char *noise_lib(void)
{
    static char path[512];
    const char *build = getenv("BUILD");
    snprintf(path, sizeof path, "%s/libracelab-noise.so",
             build ? build : "build");
    if (access(path, R_OK) == 0)
        return path;
    char *dir = strcpy(noise_tmpdir, "/tmp/racelab-noise-XXXXXX");
    if (!mkdtemp(dir))
        return NULL;
    snprintf(path, sizeof path, "%s/libracelab-noise.so", dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "${CC:-cc} -shared -fPIC -O2 noise/noise.c -o %s -ldl "
             "-lpthread 2>/dev/null",
             path);
    fflush(NULL);
    if (system(cmd) != 0 || access(path, R_OK) != 0)
        return NULL;
    return path;
}

START_TEST(noise_is_preloaded)
{
    const char *lib = noise_lib();
    if (!lib) {
        fprintf(stderr, "noise_is_preloaded: skipped, cannot build "
                        "libracelab-noise.so\n");
        return;
    }
    rl__stress_opts o = {
        .runs = 6, .jobs = 2, .noise = 0.5, .noise_lib = lib, .seed = 42};
    rl__result r;
    ck_assert_int_eq(stress("noise.sh", NULL, &o, &r), 0);
    ck_assert_msg(r.failures == 0, "%s", r.failure.message);
    rl__result_free(&r);

    /* Make every run fail to see what it printed; an LD_PRELOAD of the
     * caller's is kept in front. */
    char real[4096];
    ck_assert_ptr_nonnull(realpath(lib, real));
    setenv("LD_PRELOAD", real, 1);
    o.expect_exit = 7;
    ck_assert_int_eq(stress("noise.sh", NULL, &o, &r), 0);
    unsetenv("LD_PRELOAD");
    ck_assert_int_eq(r.classes[RL__RUN_WRONG_EXIT], 6);
    char want[9000];
    snprintf(want, sizeof want, "preload=%s:%s noise=0.500000 seed=43\n1\n",
             real, real);
    ck_assert_ptr_nonnull(r.kept_output[0]);
    ck_assert_msg(strstr(r.kept_output[0], want), "%s", r.kept_output[0]);
    ck_assert_ptr_nonnull(strstr(r.kept_output[1], "seed=44"));
    rl__result_free(&r);

    /* Without noise the library is not loaded. */
    o.noise = 0;
    o.expect_exit = 0;
    ck_assert_int_eq(stress("noise.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.failures, 6);
    ck_assert_ptr_nonnull(strstr(r.kept_output[0], "not preloaded"));
    rl__result_free(&r);

    o.noise = 0.5;
    o.noise_lib = "/nonexistent/libracelab-noise.so";
    ck_assert_int_eq(stress("noise.sh", NULL, &o, &r), -ENOENT);
    rl__result_free(&r);
    if (noise_tmpdir[0]) {
        unlink(lib);
        rmdir(noise_tmpdir);
    }
}
END_TEST

START_TEST(until_failure_stops_at_the_first)
{
    /* One at a time: runs 1 and 2 pass, run 3 fails, and none follows. */
    rl__stress_opts o = {.jobs = 1, .until_failure = 1};
    rl__result r;
    ck_assert_int_eq(stress("sometimes.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.executions, 3);
    ck_assert_int_eq(r.failures, 1);
    ck_assert_int_eq(r.first_failure_run, 3);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    rl__result_free(&r);
    /* Several at once: the runs under way end and count, the first
     * failure is still run 3. */
    rl__stress_opts o4 = {.jobs = 4, .until_failure = 1};
    ck_assert_int_eq(stress("sometimes.sh", NULL, &o4, &r), 0);
    ck_assert_int_ge(r.executions, 3);
    ck_assert_int_ge(r.failures, 1);
    ck_assert_int_eq(r.first_failure_run, 3);
    rl__result_free(&r);
    /* --runs bounds it: a command that never fails stops there. */
    rl__stress_opts ob = {.runs = 7, .jobs = 2, .until_failure = 1};
    ck_assert_int_eq(stress("never.sh", NULL, &ob, &r), 0);
    ck_assert_int_eq(r.executions, 7);
    rl__result_free(&r);
}
END_TEST

START_TEST(duration_runs_until_the_time_is_up)
{
    rl__stress_opts o = {.jobs = 2, .duration = 0.5};
    rl__result r;
    ck_assert_int_eq(stress("never.sh", NULL, &o, &r), 0);
    /* No limit on the runs but the time: more than the default count of
     * a bounded stress is not asked for, only that it ran and waited. */
    ck_assert_int_ge(r.executions, 1);
    ck_assert_int_eq(r.failures, 0);
    ck_assert(r.duration >= 0.5);
    rl__result_free(&r);
}
END_TEST

/* The contents of a file, malloc'd, or NULL when it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    if (buf)
        fread(buf, 1, 65535, f);
    fclose(f);
    return buf;
}

START_TEST(failure_dir_has_a_log_per_failing_run)
{
    char dir[] = "/tmp/racelab-fdir-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof sub, "%s/logs", dir); /* made by the stress */
    rl__stress_opts o = {.runs = 9, .jobs = 2, .seed = 9, .failure_dir = sub};
    rl__result r;
    ck_assert_int_eq(stress("sometimes.sh", NULL, &o, &r), 0);
    ck_assert_int_eq(r.failures, 3);
    char path[128];
    for (int run = 1; run <= 9; run++) {
        snprintf(path, sizeof path, "%s/run-%d.log", sub, run);
        char *log = slurp(path);
        if (run % 3) {
            ck_assert_msg(log == NULL, "a log for passing run %d", run);
            continue;
        }
        ck_assert_msg(log != NULL, "no log for failing run %d", run);
        char want[64];
        snprintf(want, sizeof want, "run: %d\n", run);
        ck_assert_ptr_nonnull(strstr(log, want));
        ck_assert_ptr_nonnull(
            strstr(log, "command: tests/data/sometimes.sh\n"));
        ck_assert_ptr_nonnull(strstr(log, "seed: 9\n"));
        snprintf(want, sizeof want, "outcome: run %d: exit status 1", run);
        ck_assert_ptr_nonnull(strstr(log, want));
        snprintf(want, sizeof want, "oops in run %d", run);
        ck_assert_ptr_nonnull(strstr(log, want));
        free(log);
        unlink(path);
    }
    rl__result_free(&r);
    ck_assert_int_eq(rmdir(sub), 0);
    /* A directory that cannot be made is refused before any run. */
    snprintf(sub, sizeof sub, "%s/no/such", dir);
    ck_assert_int_eq(stress("never.sh", NULL, &o, &r), -ENOENT);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "--failure-dir"));
    rl__result_free(&r);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* What the note callback was told. */
static char noted[2048];
static void note(int error, const char *msg, void *ctx)
{
    (void)ctx;
    ck_assert_int_eq(error, 0);
    snprintf(noted, sizeof noted, "%s", msg);
}

/* The state letter of process pid, 0 when it is gone. */
static char state_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] ? p[2] : 0;
}

START_TEST(keep_hung_leaves_the_run_stopped)
{
    char file[] = "/tmp/racelab-hang-XXXXXX";
    int fd = mkstemp(file);
    ck_assert_int_ge(fd, 0);
    close(fd);
    noted[0] = '\0';
    rl__stress_opts o = {
        .runs = 1, .timeout = 0.3, .keep_hung = 1, .note = note};
    rl__result r;
    ck_assert_int_eq(stress("hang.sh", file, &o, &r), 0);
    ck_assert_int_eq(r.classes[RL__RUN_TIMEOUT], 1);
    ck_assert_ptr_nonnull(strstr(r.failure.message, "left stopped"));
    FILE *f = fopen(file, "re");
    ck_assert_ptr_nonnull(f);
    int sh = 0, bg = 0;
    ck_assert_int_eq(fscanf(f, "%d %d", &sh, &bg), 2);
    fclose(f);
    unlink(file);
    /* Both processes are there, stopped, and their pids were told. */
    ck_assert_int_eq(state_of(sh), 'T');
    ck_assert_int_eq(state_of(bg), 'T');
    char want[64];
    snprintf(want, sizeof want, "run 1 hung: its process group %d", sh);
    ck_assert_msg(strstr(noted, want) != NULL, "told: %s", noted);
    snprintf(want, sizeof want, " %d", bg);
    ck_assert_msg(strstr(noted, want) != NULL, "told: %s", noted);
    rl__result_free(&r);
    kill(-sh, SIGKILL);
    ck_assert_int_eq(waitpid(sh, NULL, 0), sh);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("extstress");
    TCase *tc = rl_test_tcase("runs", 60);
    tcase_add_test(tc, never_fails_counts_exactly);
    tcase_add_test(tc, sometimes_fails_first_failure_and_rate);
    tcase_add_test(tc, always_fails_unless_exit_expected);
    tcase_add_test(tc, command_from_path);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("classes", 60);
    tcase_add_test(tc, expect_stdout);
    tcase_add_test(tc, kept_output_is_a_bounded_tail);
    tcase_add_test(tc, signal_is_a_crash);
    tcase_add_test(tc, timeout_kills_the_whole_group);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("shards", 60);
    tcase_add_test(tc, shards_add_up_to_the_whole);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("stop", 60);
    tcase_add_test(tc, stop_flag_ends_early);
    tcase_add_test(tc, stop_flag_kills_running_groups);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("until", 60);
    tcase_add_test(tc, until_failure_stops_at_the_first);
    tcase_add_test(tc, duration_runs_until_the_time_is_up);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("debug", 60);
    tcase_add_test(tc, failure_dir_has_a_log_per_failing_run);
    tcase_add_test(tc, keep_hung_leaves_the_run_stopped);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("errors", 30);
    tcase_add_test(tc, missing_command);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("noise", 60);
    tcase_add_test(tc, noise_is_preloaded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(suite());
}
