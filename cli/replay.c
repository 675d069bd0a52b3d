/* replay.c: racelab replay TOKEN and racelab minimize TOKEN: one
 * interleaving run again, or shrunk to the fewest context switches. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The exit status of a replay or minimize that ran: as with run, 1 when
 * a replay's verdict is not what the scenario expects (a clean scenario
 * that fails, a bug's token that passes); 2 for ERROR (a token that does
 * not fit). */
static int replay_status(const rl__search_result *r, int minimize)
{
    if (r->verdict == RL_ERROR)
        return EXIT_USAGE;
    if (!minimize &&
        !rl__expectation_met(r->sc->expect, r->sc->expect_verdict, r->verdict,
                             RL_MODE_REPLAY)) {
        fprintf(stderr, "%s: unexpected: %s expects %s\n", rl__cli_prog,
                r->sc->name,
                r->sc->expect == RL_EXPECT_BUG ? "a bug" : "no failure");
        return EXIT_UNEXPECTED;
    }
    return EXIT_OK;
}

/* replay (minimize 0) or minimize (1) on argv[0] = the command's name. */
static int replay_or_minimize(int argc, char **argv, int minimize)
{
    const char *cmd = minimize ? "minimize" : "replay";
    rl__cli_args a;
    int err = rl__cli_parse(minimize ? RL__CMD_MINIMIZE : RL__CMD_REPLAY, argc,
                            argv, &a);
    if (err)
        return err == 1 ? EXIT_OK : err;
    if (a.next >= argc)
        return rl__cli_usage_error(
            "%s needs a TOKEN such as counter.unlocked@0x3.1x2", cmd);
    if (a.next + 1 < argc)
        return rl__cli_usage_error("one token at a time");
    const char *token = argv[a.next];
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.races = a.races;
    rl__search_result r;
    struct sigaction old_int[3];
    rl__cli_catch_interrupts(old_int);
    o.stop = &rl__cli_interrupted;
    err = minimize ? rl__minimize(token, &o, &r) : rl__replay(token, &o, &r);
    rl__cli_release_interrupts(old_int);
    if (rl__cli_interrupted) {
        rl__search_result_free(&r);
        fprintf(stderr, "%s: interrupted\n", rl__cli_prog);
        return 128 + rl__cli_interrupted;
    }
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", rl__cli_prog, rl_last_error());
        rl__search_result_free(&r);
        return err == -EINVAL || err == -ENOENT ? EXIT_USAGE : EXIT_INTERNAL;
    }
    rl__term t = rl__term_open(RL__COLOR_AUTO, rl__cli_prog);
    if (minimize) {
        rl__term_minimized(&t, &r);
    } else {
        rl__term_replay(&t, &r);
        if (a.trace)
            rl__term_trace(&t, &r.first);
    }
    int code = replay_status(&r, minimize);
    rl__search_result_free(&r);
    return code;
}

int rl__cli_replay(int argc, char **argv)
{
    return replay_or_minimize(argc, argv, 0);
}

int rl__cli_minimize(int argc, char **argv)
{
    return replay_or_minimize(argc, argv, 1);
}
