/* options.c: the command line's one option table and its parser; the
 * usage lines and every command's help are made from the same table
 * (help.c). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define F(field) offsetof(rl__cli_args, field)
#define RUN RL__CMD_RUN
#define STRESS RL__CMD_STRESS
#define REPORT RL__CMD_REPORT
/* The commands that write the reports. */
#define OUT                                                                    \
    (RL__CMD_RUN | RL__CMD_REPLAY | RL__CMD_MINIMIZE | RL__CMD_STRESS |        \
     RL__CMD_REPORT)
#define ALL                                                                    \
    (RL__CMD_LIST | RL__CMD_RUN | RL__CMD_REPLAY | RL__CMD_MINIMIZE |          \
     RL__CMD_STRESS | RL__CMD_REPORT)

/* In the order the help shows them. An option that means something else
 * to another command has an entry for each: both store into the same
 * field, and a command takes only one of them. */
const rl__cli_option rl__cli_options[] = {
    {"mode", "explore|pct|random|stress", RL__ARG_CHOICE, 0, 0, F(mode), RUN,
     "how to search: every interleaving up to the bound, PCT, uniformly "
     "random choices, or real parallel runs",
     NULL, "explore"},
    {"seed", "N", RL__ARG_SEED, 0, 0, F(seed), RUN,
     "seed of pct, random and stress, decimal or 0x hex", NULL,
     "from the clock"},
    {"runs", "N", RL__ARG_LONG, 1, 100000000, F(runs), RUN,
     "executions of pct, random and stress; explore: a limit",
     &rl__default.runs, NULL},
    {"runs", "N", RL__ARG_LONG, 1, 100000000, F(runs), STRESS,
     "runs of the command", &rl__default.runs, NULL},
    {"jobs", "N", RL__ARG_LONG, 1, 1024, F(jobs), STRESS, "runs at once", NULL,
     "the online CPUs"},
    {"timeout", "S", RL__ARG_DOUBLE, 0.001, 86400, F(timeout), STRESS,
     "wall clock per run in seconds; a run that outlives it is killed",
     &rl__default.timeout, NULL},
    {"expect-exit", "C", RL__ARG_LONG, 0, 255, F(expect_exit), STRESS,
     "the exit status of a good run", NULL, "0"},
    {"expect-stdout", "TEXT", RL__ARG_TEXT, 0, 0, F(expect_stdout), STRESS,
     "what a good run prints on stdout (trailing newlines ignored)", NULL,
     NULL},
    {"until-failure", NULL, RL__ARG_NONE, 0, 0, F(until_failure), STRESS,
     "start no run after the first failure (the runs under way end and "
     "count); without --runs, no limit on the runs",
     NULL, NULL},
    {"duration", "T", RL__ARG_DURATION, 0.001, 31622400, F(duration), STRESS,
     "start no run once T has passed: seconds, or with s, m or h (10m); "
     "without --runs, no limit on the runs",
     NULL, NULL},
    {"failure-dir", "DIR", RL__ARG_TEXT, 0, 0, F(failure_dir), STRESS,
     "write DIR/run-K.log for each failing run: its number, the command, "
     "the seed, how it ended and its output (DIR is made if missing)",
     NULL, NULL},
    {"keep-hung", NULL, RL__ARG_NONE, 0, 0, F(keep_hung), STRESS,
     "leave the processes of a run that times out stopped (SIGSTOP) for a "
     "debugger instead of killing them, and print their pids",
     NULL, NULL},
    {"noise", "P", RL__ARG_DOUBLE, 0, 1, F(noise), STRESS,
     "preload libracelab-noise.so: a delay with probability P at each call "
     "it intercepts",
     NULL, "0"},
    {"seed", "N", RL__ARG_SEED, 0, 0, F(seed), STRESS,
     "seed of the noise, decimal or 0x hex", NULL, "from the clock"},
    {"preemptions", "K", RL__ARG_LONG, -1, 1000, F(preemptions), RUN,
     "explore's bound, -1 for none", &rl__default.preemptions, NULL},
    {"bound", "preemptions|delays", RL__ARG_CHOICE, 0, 0, F(bound_kind), RUN,
     "what explore's bound counts", NULL, "preemptions"},
    {"reduction", "dpor|none", RL__ARG_CHOICE, 0, 0, F(reduction), RUN,
     "explore: skip reorderings of independent steps (dpor) or not", NULL,
     "dpor"},
    {"races", "fail|report|off", RL__ARG_CHOICE, 0, 0, F(races),
     RUN | RL__CMD_REPLAY | RL__CMD_MINIMIZE,
     "data races between processes (unordered accesses to shared memory, "
     "one a write) in controlled executions: fail a passing execution as "
     "RACE, only list them, or do not look",
     NULL, "fail"},
    {"depth", "D", RL__ARG_LONG, 1, 8, F(depth), RUN, "pct's depth",
     &rl__default.depth, NULL},
    {"max-steps", "N", RL__ARG_LONG, 1, 10000000, F(max_steps), RUN,
     "schedule points per execution", &rl__default.max_steps, NULL},
    {"timeout", "S", RL__ARG_DOUBLE, 0.001, 86400, F(timeout), RUN,
     "wall clock per execution in seconds", &rl__default.timeout, NULL},
    {"noise", "P", RL__ARG_DOUBLE, 0, 1, F(noise), RUN,
     "stress: noise probability at each schedule point", NULL, "0"},
    {"shard", "I/N", RL__ARG_SHARD, 0, 0, F(shard), RUN | STRESS,
     "run the I-th of N slices of the runs (0 <= I < N)", NULL, NULL},
    {"jobs", "N", RL__ARG_LONG, 1, 1024, F(jobs), RUN, "parallel executions",
     NULL, "the online CPUs"},
    /* The words in the order of rl_verdict: the index is the verdict. */
    {"expect-verdict", "PASS|FAIL|DEADLOCK|LIVELOCK|CRASH|TIMEOUT",
     RL__ARG_CHOICE, 0, 0, F(expect_verdict),
     RUN | RL__CMD_REPLAY | RL__CMD_MINIMIZE,
     "with -- COMMAND: the verdict the command is expected to give", NULL,
     "PASS"},
    {"trace", NULL, RL__ARG_NONE, 0, 0, F(trace), RL__CMD_REPLAY,
     "print the execution step by step", NULL, NULL},
    {"timeout", "S", RL__ARG_DOUBLE, 0, 86400, F(replay_timeout),
     RL__CMD_REPLAY | RL__CMD_MINIMIZE,
     "wall clock per execution in seconds; 0: none, for a debugger",
     &rl__default.timeout, NULL},
    {"stop-at", "STEP", RL__ARG_LONG, 0, 100000000, F(stop_at), RL__CMD_REPLAY,
     "before step STEP (numbered as --trace shows them), stop every process "
     "of the execution, print their pids for a debugger and wait; Enter, "
     "or SIGCONT to this program, goes on to the same verdict (no wall "
     "clock unless --timeout is given)",
     NULL, NULL},
    {"json", NULL, RL__ARG_NONE, 0, 0, F(json_list), RL__CMD_LIST,
     "the list as JSON", NULL, NULL},
    {"json", "FILE", RL__ARG_TEXT, 0, 0, F(out.json), OUT,
     "write the results as JSON (schema racelab-results/1)", NULL, NULL},
    {"junit", "FILE", RL__ARG_TEXT, 0, 0, F(out.junit), OUT,
     "write the results as JUnit XML", NULL, NULL},
    {"html", "FILE", RL__ARG_TEXT, 0, 0, F(out.html), OUT,
     "write the results as a self-contained HTML page", NULL, NULL},
    {"tap", "14", RL__ARG_VERSION, 13, 14, F(out.tap), OUT,
     "TAP on stdout instead of the result lines: version 13, which every "
     "TAP consumer reads; --tap=14 for version 14",
     NULL, NULL},
    {"color", "auto|always|never", RL__ARG_CHOICE, 0, 0, F(color), RUN,
     "colour the result lines; auto: on a terminal, unless NO_COLOR is set",
     NULL, "auto"},
    {"help", NULL, RL__ARG_NONE, 0, 0, F(help), ALL, "print this help", NULL,
     NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

/* strtol, strtoull and strtod skip leading white space and take a sign
 * (strtoull negates "-1" into 2^64-1): a number given on the command line
 * starts with a digit, or a '-' and a digit where negatives are allowed. */
static int starts_numeric(const char *s, int negative)
{
    if (negative && s[0] == '-')
        s++;
    return isdigit((unsigned char)s[0]) ||
           (s[0] == '.' && isdigit((unsigned char)s[1]));
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    if (!starts_numeric(s, lo < 0))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    if (!starts_numeric(s, lo < 0))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* A duration: a number of seconds, or a number followed by s, m or h
 * ("10m", "1.5h"). Returns 0 with the seconds in *out when they are in
 * [lo, hi], else -1. */
static int parse_duration(const char *s, double lo, double hi, double *out)
{
    if (!starts_numeric(s, 0))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s)
        return -1;
    double unit = 1;
    if (*end == 'm')
        unit = 60;
    else if (*end == 'h')
        unit = 3600;
    else if (*end != 's' && *end)
        return -1;
    if (*end && end[1])
        return -1;
    v *= unit;
    if (!(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* --shard I/N: 0 and fills shard[0] = I, shard[1] = N; or prints the
 * error and returns EXIT_USAGE. */
static int parse_shard(const char *arg, long shard[2])
{
    long i, n;
    char buf[64];
    const char *slash = strchr(arg, '/');
    if (!slash || (size_t)(slash - arg) >= sizeof buf)
        return rl__cli_usage_error("--shard takes I/N, e.g. 0/4, not '%s'",
                                   arg);
    memcpy(buf, arg, (size_t)(slash - arg));
    buf[slash - arg] = '\0';
    if (parse_long(buf, 0, 1000000, &i) < 0 ||
        parse_long(slash + 1, 1, 1000000, &n) < 0 || i >= n)
        return rl__cli_usage_error("--shard takes I/N with 0 <= I < N");
    shard[0] = i;
    shard[1] = n;
    return 0;
}

/* --seed N (decimal or 0x hex): 0, or prints the error and returns
 * EXIT_USAGE. */
static int parse_seed(const char *arg, uint64_t *seed)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 0);
    if (!starts_numeric(arg, 0) || errno || end == arg || *end)
        return rl__cli_usage_error("--seed takes a number from 0 to 2^64-1 "
                                   "(decimal or 0x hex), not '%s'",
                                   arg);
    *seed = v;
    return 0;
}

/* One of the words of opt->arg ("a|b|c"): 0 and its index in *out, or
 * prints the words and returns EXIT_USAGE. */
static int parse_choice(const rl__cli_option *opt, const char *arg, int *out)
{
    const char *w = opt->arg;
    size_t len = strlen(arg);
    for (int i = 0; w; i++) {
        const char *bar = strchr(w, '|');
        size_t wlen = bar ? (size_t)(bar - w) : strlen(w);
        if (wlen == len && strncmp(w, arg, len) == 0) {
            *out = i;
            return 0;
        }
        w = bar ? bar + 1 : NULL;
    }
    /* "a|b|c" said as "a, b or c". */
    char words[128];
    size_t n = 0;
    for (const char *p = opt->arg; *p && n + 4 < sizeof words; p++) {
        if (*p != '|') {
            words[n++] = *p;
            continue;
        }
        const char *sep = strchr(p + 1, '|') ? ", " : " or ";
        memcpy(words + n, sep, strlen(sep));
        n += strlen(sep);
    }
    words[n] = '\0';
    return rl__cli_usage_error("--%s must be %s, not '%s'", opt->name, words,
                               arg);
}

/* Stores the argument of opt (NULL for a flag) into a, checked as its
 * type says. Returns 0, or EXIT_USAGE after saying what is wrong. */
static int store(const rl__cli_option *opt, const char *arg, rl__cli_args *a)
{
    void *field = (char *)a + opt->field;
    switch (opt->type) {
    case RL__ARG_NONE:
        *(int *)field = 1;
        return 0;
    case RL__ARG_LONG:
        if (parse_long(arg, (long)opt->lo, (long)opt->hi, field) < 0)
            return rl__cli_usage_error("--%s takes %ld..%ld, not '%s'",
                                       opt->name, (long)opt->lo, (long)opt->hi,
                                       arg);
        return 0;
    case RL__ARG_DOUBLE:
        if (parse_double(arg, opt->lo, opt->hi, field) < 0)
            return rl__cli_usage_error("--%s takes %g..%g, not '%s'", opt->name,
                                       opt->lo, opt->hi, arg);
        return 0;
    case RL__ARG_TEXT:
        *(const char **)field = arg;
        return 0;
    case RL__ARG_DURATION:
        if (parse_duration(arg, opt->lo, opt->hi, field) < 0)
            return rl__cli_usage_error("--%s takes seconds or a number with "
                                       "s, m or h (90s, 10m, 2h), not '%s'",
                                       opt->name, arg);
        return 0;
    case RL__ARG_CHOICE:
        return parse_choice(opt, arg, field);
    case RL__ARG_SEED:
        a->seed_given = 1;
        return parse_seed(arg, field);
    case RL__ARG_VERSION: {
        long v = (long)opt->lo;
        if (arg && parse_long(arg, (long)opt->lo, (long)opt->hi, &v) < 0)
            return rl__cli_usage_error("--%s takes %ld..%ld, not '%s'",
                                       opt->name, (long)opt->lo, (long)opt->hi,
                                       arg);
        *(int *)field = (int)v;
        return 0;
    }
    default:
        return parse_shard(arg, field);
    }
}

/* The defaults of the command line: those of the engine where zero would
 * mean something else (a bound of 0), and a seed from the clock. */
static void defaults(rl__cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->mode = RL_MODE_EXPLORE;
    a->preemptions = rl__default.preemptions;
    a->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    a->color = RL__COLOR_AUTO;
    a->replay_timeout = -1;
    a->stop_at = -1;
}

static const char *command_name(int cmd)
{
    for (const rl__cli_command *c = rl__cli_commands; c->name; c++)
        if (c->id == cmd)
            return c->name;
    return "?";
}

int rl__cli_parse(int cmd, int argc, char **argv, rl__cli_args *a)
{
    enum { MAX_OPTIONS = 64 };
    struct option longs[MAX_OPTIONS + 1];
    const rl__cli_option *which[MAX_OPTIONS];
    int n = 0;
    for (const rl__cli_option *o = rl__cli_options; o->name; o++) {
        if (!(o->commands & cmd) || n == MAX_OPTIONS)
            continue;
        longs[n] =
            (struct option){o->name,
                            o->type == RL__ARG_VERSION ? optional_argument
                            : o->arg                   ? required_argument
                                                       : no_argument,
                            NULL, n};
        which[n++] = o;
    }
    longs[n] = (struct option){NULL, 0, NULL, 0};
    defaults(a);
    /* stress: the options end at the command, which keeps its own. */
    const char *shorts = cmd == RL__CMD_STRESS ? "+" : "";
    /* 0, not 1: glibc then starts afresh, with this command's "+", also
     * when rl_main runs more than once in a process. */
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (c < 0 || c >= n)
            return rl__cli_usage_error(
                "%s: unknown or incomplete option '%s' (see %s %s --help)",
                command_name(cmd), argv[optind - 1], rl__cli_prog,
                command_name(cmd));
        if (store(which[c], optarg, a))
            return EXIT_USAGE;
        if (a->help) {
            rl__cli_help(cmd);
            return 1;
        }
    }
    a->next = optind;
    return 0;
}
