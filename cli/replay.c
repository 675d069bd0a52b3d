/* replay.c: racelab replay TOKEN and racelab minimize TOKEN: one
 * interleaving run again, or shrunk to the fewest context switches. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* --stop-at: whether the execution stopped there. */
typedef struct {
    int stopped;
} stop_state;

/* SIGCONT to this program while a replay is stopped: go on. */
static volatile sig_atomic_t continued;

static void on_continue(int sig)
{
    (void)sig;
    continued = 1;
}

/* Whether someone let every actor go on already (kill -CONT on each):
 * none of those that live is stopped by a signal or a tracer. */
static int all_going(const rl__stop_info *in)
{
    for (int i = 0; i < in->nactors; i++) {
        if (in->actors[i].finished || in->actors[i].pid <= 0)
            continue;
        char st = rl__proc_state(in->actors[i].pid, NULL);
        if (st == 'T' || st == 't')
            return 0;
    }
    return 1;
}

/* The replay stopped before a step with every process stopped: says
 * which processes they are and how to go on, then waits until the user
 * presses Enter (stdin a terminal), sends SIGCONT to this program or to
 * every actor, or stops the replay (Ctrl-C). Called in the supervisor. */
static void on_stop(const rl__stop_info *in, void *ctx)
{
    stop_state *st = ctx;
    st->stopped = 1;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_continue;
    continued = 0;
    sigaction(SIGCONT, &sa, &old);
    int tty = isatty(STDIN_FILENO);
    fprintf(stderr, "%s: stopped before step %ld", rl__cli_prog, in->step);
    if (in->next >= 0 && in->next < in->nactors)
        fprintf(stderr, ", which actor %d (%s) takes", in->next,
                in->actors[in->next].name);
    fprintf(stderr, "; every process of the execution is stopped:\n");
    for (int i = 0; i < in->nactors; i++) {
        fprintf(stderr, "%s:   actor %d %-12s ", rl__cli_prog, i,
                in->actors[i].name);
        if (in->actors[i].finished)
            fprintf(stderr, "finished\n");
        else
            fprintf(stderr, "pid %d%s\n", (int)in->actors[i].pid,
                    i == in->holder ? " (holds the token)" : "");
    }
    fprintf(stderr,
            "%s: attach a debugger with: gdb -p PID (then 'continue')\n",
            rl__cli_prog);
    fprintf(stderr, "%s: continue with: kill -CONT %d%s\n", rl__cli_prog,
            (int)getpid(), tty ? " (or press Enter here)" : "");
    while (!continued && !rl__cli_interrupted && !all_going(in)) {
        /* The wait ends by a signal (EINTR) or a line on the terminal;
         * the time out only looks again at the actors. */
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        if (poll(&pfd, tty ? 1 : 0, 200) > 0) {
            char buf[256];
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0 || memchr(buf, '\n', (size_t)n))
                break;
        }
    }
    sigaction(SIGCONT, &old, NULL);
    fprintf(stderr, "%s: continuing from step %ld\n", rl__cli_prog, in->step);
}

/* Writes the reports asked for in out (files, TAP on stdout) over the
 * results model of r: one scenario, with the replayed or minimized
 * execution as its failure. Returns 0, or 1 when a report could not be
 * written or the model not made (said on stderr). */
static int write_reports(const rl__cli_outputs *out, const rl__search_result *r,
                         const char *started)
{
    if (!out->json && !out->junit && !out->html && !out->tap)
        return 0;
    rl__result m;
    if (rl__result_from_search(r, &m) < 0) {
        fprintf(stderr, "%s: out of memory for the reports\n", rl__cli_prog);
        return 1;
    }
    rl__report rep = {&m, 1, 0, started, rl__cli_argv_line, 0};
    int bad = rl__cli_write_outputs(out, &rep);
    rl__result_free(&m);
    return bad;
}

/* replay (minimize 0) or minimize (1) on argv[0] = the command's name. */
static int replay_or_minimize(int argc, char **argv, int minimize)
{
    const char *cmd = minimize ? "minimize" : "replay";
    rl__cli_args a;
    char **command = rl__cli_split_command(&argc, argv);
    int err = rl__cli_parse(minimize ? RL__CMD_MINIMIZE : RL__CMD_REPLAY, argc,
                            argv, &a);
    if (err)
        return err == 1 ? EXIT_OK : err;
    rl_scenario *cmd_sc;
    err = rl__cli_command_scenario(command, &a, &cmd_sc);
    if (err)
        return err;
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
    char started[32];
    rl__cli_started_at(started);
    rl__cli_catch_interrupts(old_int);
    o.stop = &rl__cli_interrupted;
    /* A wall clock stops a debugger's session: --stop-at has none unless
     * one is given, and --timeout 0 means none. */
    if (a.replay_timeout > 0)
        o.timeout = a.replay_timeout;
    else if (a.replay_timeout == 0 || a.stop_at >= 0)
        o.timeout = INFINITY;
    stop_state stop = {0};
    if (a.stop_at >= 0) {
        o.stop_at = a.stop_at + 1;
        o.on_stop = on_stop;
        o.stop_ctx = &stop;
    }
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
    rl__term t = rl__term_open(RL__COLOR_AUTO, rl__cli_invoked);
    if (a.out.tap) {
        /* TAP owns stdout: the verdict is in the stream. */
    } else if (minimize) {
        rl__term_minimized(&t, &r);
    } else {
        rl__term_replay(&t, &r);
        if (a.trace)
            rl__term_trace(&t, &r.first);
    }
    if (a.stop_at >= 0 && !stop.stopped)
        fprintf(stderr,
                "%s: the execution ended after %ld steps, before step %ld: it "
                "never stopped\n",
                rl__cli_prog, r.first.nsteps, a.stop_at);
    int code = replay_status(&r, minimize);
    int bad = write_reports(&a.out, &r, started);
    rl__search_result_free(&r);
    return bad && code == EXIT_OK ? EXIT_INTERNAL : code;
}

int rl__cli_replay(int argc, char **argv)
{
    return replay_or_minimize(argc, argv, 0);
}

int rl__cli_minimize(int argc, char **argv)
{
    return replay_or_minimize(argc, argv, 1);
}
