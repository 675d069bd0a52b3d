/* dispatch.c: rl_main, the racelab command line over the scenarios linked
 * into the program: the table of commands and the dispatch to them. */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const rl__cli_command rl__cli_commands[] = {
    {RL__CMD_LIST, "list", "", "the scenarios and what they expect",
     "List the scenarios linked into the program: each one's name, what it "
     "expects (a bug, with the verdict that shows it, or clean) and what it "
     "shows.",
     rl__cli_list},
    {RL__CMD_RUN, "run", "[PATTERN...] | -- COMMAND [ARG...]",
     "run scenarios (glob patterns; none = all) or a program",
     "Search the scenarios whose names match one of the glob patterns (all "
     "of them when none is given) and say for each whether it behaved as it "
     "expects: its bug found, or no failure in a clean one. A failure comes "
     "with its replay token. Every run prints its seed, and how to run it "
     "again, on stderr. After --, an unmodified, dynamically linked program "
     "is the one scenario, cmd:COMMAND: libracelab-intercept.so makes its "
     "fork, wait, pipe, semaphore, process-shared mutex and sleep calls "
     "schedule points; it is expected to pass unless --expect-verdict says "
     "otherwise.",
     rl__cli_run},
    {RL__CMD_REPLAY, "replay", "TOKEN [-- COMMAND [ARG...]]",
     "run exactly one interleaving again",
     "Run the interleaving a replay token names (SCENARIO@DECISIONS, as run "
     "and minimize print it) again, exactly, and print its verdict. A token "
     "that does not fit the scenario gives ERROR naming the step. The token "
     "of a program (cmd:COMMAND@...) takes the same command after --.",
     rl__cli_replay},
    {RL__CMD_MINIMIZE, "minimize", "TOKEN [-- COMMAND [ARG...]]",
     "shrink a failing token",
     "Shrink a failing replay token to the fewest context switches, then "
     "the fewest steps, keeping its verdict, and print the token found.",
     rl__cli_minimize},
    {RL__CMD_STRESS, "stress", "-- COMMAND [ARG...]",
     "run any program many times, classify the runs",
     "Run an unmodified program many times, several at once, each run in a "
     "process group of its own, and classify every run: as expected, wrong "
     "exit status, wrong output, killed by a signal, or timed out. Prints "
     "the failure rate with its 95% confidence interval and what the first "
     "failing runs printed.",
     rl__cli_stress},
    {RL__CMD_REPORT, "report", "RESULTS.json...", "merge results (shards)",
     "Read results files written by run --json or stress --json (one per "
     "shard, for instance), merge them, print their result lines and write "
     "the reports asked for.",
     rl__cli_report},
    {0, NULL, NULL, NULL, NULL, NULL}};

static int dispatch(int argc, char **argv);

/* The last part of a path ("./bank" gives "bank"). */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

int rl_main(int argc, char **argv)
{
    /* The program names itself: a user's program built with racelab is
     * not racelab. Messages, usage and help say its name; the commands
     * it hints at run it as it was run. */
    if (argc > 0 && argv[0] && argv[0][0]) {
        rl__cli_prog = base_name(argv[0]);
        rl__cli_invoked = argv[0];
    }
    /* Numbers in the C locale (machine output reads 0.5, never 0,5), in
     * this thread while rl_main runs: the process's locale, which its
     * other threads and the caller after rl_main see, stays the
     * caller's. */
    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
    int code = dispatch(argc, argv);
    /* Results that never reached stdout are no success. */
    if (rl__cli_stdout_failed() && (code == EXIT_OK || code == EXIT_UNEXPECTED))
        code = EXIT_INTERNAL;
    if (c_locale) {
        uselocale(old);
        freelocale(c_locale);
    }
    return code;
}

static int dispatch(int argc, char **argv)
{
    /* A closed stdout (racelab list | head -1) ends the output, not the
     * program: executions and reports still finish. The scenarios get the
     * default back (see rl__execute). */
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);
    rl__cli_ignores_sigpipe = old_pipe.sa_handler == SIG_DFL;
    free(rl__cli_argv_line);
    rl__cli_argv_line = rl__cli_join_args(argc, argv);
    if (argc < 2) {
        rl__cli_help(0);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        rl__cli_help(0);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        if (strcmp(rl__cli_prog, "racelab") == 0)
            printf("racelab %s\n", RL_VERSION);
        else
            printf("%s (built with racelab %s)\n", rl__cli_prog, RL_VERSION);
        return EXIT_OK;
    }
    /* help COMMAND: the command's help, as COMMAND --help. */
    int help = strcmp(cmd, "help") == 0;
    if (help && argc < 3) {
        rl__cli_help(0);
        return EXIT_OK;
    }
    const char *name = help ? argv[2] : cmd;
    for (const rl__cli_command *c = rl__cli_commands; c->name; c++) {
        if (strcmp(name, c->name) != 0)
            continue;
        if (help) {
            rl__cli_help(c->id);
            return EXIT_OK;
        }
        return c->run(argc - 1, argv + 1);
    }
    return rl__cli_usage_error("unknown command '%s' (see %s --help)", name,
                               rl__cli_prog);
}
