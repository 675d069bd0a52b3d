/* stress.c: racelab stress -- COMMAND...: any program run many times,
 * every run classified, the failure rate with its interval. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/extstress.h"
#include "cli.h"

/* What the progress of the runs is written with, and whether a note
 * told of an error. */
typedef struct {
    rl__term term;
    double t0;
    int errors;
} stress_progress;

/* The progress of the runs on stderr; total 0: the runs have no limit
 * (--until-failure, --duration), so one line every 100 runs. */
static void on_progress(long done, long total, long failures, void *ctx)
{
    stress_progress *pg = ctx;
    if (total == 0) {
        if (done % 100 == 0)
            fprintf(stderr, "%s: %ld runs done, %ld failing, %.1fs\n",
                    rl__cli_prog, done, failures, rl__now() - pg->t0);
        return;
    }
    /* Once every 5% is enough for a plain log. */
    long step = total / 20 > 0 ? total / 20 : 1;
    if (done == total || done % step == 0 || isatty(STDERR_FILENO))
        rl__cli_progress(&pg->term, done, total, failures, "failing", pg->t0);
}

/* What the runs tell while they go on: a hung run kept stopped, a
 * failure log that could not be written. */
static void on_note(int error, const char *msg, void *ctx)
{
    stress_progress *pg = ctx;
    pg->errors += error != 0;
    fprintf(stderr, "%s: %s\n", rl__cli_prog, rl__term_text(msg, 1));
}

/* The options of the external stress from those of the command line. */
static void stress_options(const rl__cli_args *a, rl__stress_opts *so)
{
    memset(so, 0, sizeof *so);
    so->runs = a->runs > 0                           ? a->runs
               : a->until_failure || a->duration > 0 ? 0
                                                     : rl__default.runs;
    so->until_failure = a->until_failure;
    so->duration = a->duration;
    so->failure_dir = a->failure_dir;
    so->keep_hung = a->keep_hung;
    so->jobs = (int)a->jobs;
    so->timeout = a->timeout;
    so->expect_exit = (int)a->expect_exit;
    so->expect_stdout = a->expect_stdout;
    so->noise = a->noise;
    so->seed = a->seed;
    so->shard_index = a->shard[0];
    so->shard_count = a->shard[1];
}

/* "reproduce with" on stderr when the seed came from the clock. */
static void reproduce_hint(const rl__cli_args *a, int argc, char **argv)
{
    if (a->seed_given)
        return;
    /* The seed goes before "--": after it, it would be the command's. */
    char *rest = rl__cli_join_args(argc - 1, argv + 1);
    fprintf(stderr, "%s: reproduce with: %s stress --seed %" PRIu64 " %s\n",
            rl__cli_prog, rl__cli_invoked, a->seed, rest ? rest : "");
    free(rest);
}

int rl__cli_stress(int argc, char **argv)
{
    rl__cli_args a;
    int err = rl__cli_parse(RL__CMD_STRESS, argc, argv, &a);
    if (err)
        return err == 1 ? EXIT_OK : err;
    int next = a.next;
    if (next < argc && strcmp(argv[next], "--") == 0)
        next++;
    if (next >= argc)
        return rl__cli_usage_error("stress needs a command: %s stress "
                                   "[OPTIONS] -- COMMAND [ARG...]",
                                   rl__cli_invoked);
    rl__stress_opts so;
    stress_options(&a, &so);
    stress_progress pg = {rl__term_open(RL__COLOR_AUTO, rl__cli_invoked),
                          rl__now(), 0};
    so.progress = on_progress;
    so.progress_ctx = &pg;
    so.note = on_note;
    so.note_ctx = &pg;
    struct sigaction old_int[3];
    rl__cli_catch_interrupts(old_int);
    so.stop = &rl__cli_interrupted;
    if (so.runs)
        fprintf(stderr, "%s: stress, seed %" PRIu64 ", %ld runs%s\n",
                rl__cli_prog, so.seed, so.runs,
                so.until_failure ? " at most, until the first failure" : "");
    else
        fprintf(stderr, "%s: stress, seed %" PRIu64 ", runs until %s\n",
                rl__cli_prog, so.seed,
                so.until_failure && so.duration > 0
                    ? "the first failure or the end of --duration"
                : so.until_failure ? "the first failure"
                                   : "the end of --duration");
    char started[32];
    rl__cli_started_at(started);
    rl__result r;
    err = rl__stress_command(argv + next, &so, &r);
    rl__cli_release_interrupts(old_int);
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", rl__cli_prog, rl_last_error());
        rl__result_free(&r);
        return err == -ENOENT || err == -EACCES || err == -EINVAL ||
                       err == -ENOTDIR
                   ? EXIT_USAGE
                   : EXIT_INTERNAL;
    }
    if (!a.out.tap)
        rl__term_stress(&pg.term, &r);
    r.interrupted = rl__cli_interrupted != 0;
    rl__report rep = {&r, 1, so.seed, started, rl__cli_argv_line, 0};
    int bad = rl__cli_write_outputs(&a.out, &rep);
    reproduce_hint(&a, argc, argv);
    int failed = !rl__result_as_expected(&r);
    rl__result_free(&r);
    if (rl__cli_interrupted)
        return 128 + rl__cli_interrupted;
    if (bad || pg.errors)
        return EXIT_INTERNAL;
    return failed ? EXIT_UNEXPECTED : EXIT_OK;
}
