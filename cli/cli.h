/* cli.h: the racelab command line (rl_main): its commands, its one option
 * table and what the commands share; internal to racelab. */
#ifndef RL_CLI_H
#define RL_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "../harness/harness.h"
#include "../reports/report.h"
#include "../reports/terminal.h"

/* Exit status, as DESIGN.md says. */
#define EXIT_OK 0
#define EXIT_UNEXPECTED 1
#define EXIT_USAGE 2
#define EXIT_INTERNAL 3

/* The commands, as bits: an option lists the commands that take it. */
enum {
    RL__CMD_LIST = 1 << 0,
    RL__CMD_RUN = 1 << 1,
    RL__CMD_REPLAY = 1 << 2,
    RL__CMD_MINIMIZE = 1 << 3,
    RL__CMD_STRESS = 1 << 4,
    RL__CMD_REPORT = 1 << 5,
};

/* One command: its name, what follows its options, a line for the list
 * of commands, a paragraph for its own help, and the function that runs
 * it on argv[0] = the command's name. */
typedef struct {
    int id; /* RL__CMD_* */
    const char *name;
    const char *operands;
    const char *summary;
    const char *description;
    int (*run)(int argc, char **argv);
} rl__cli_command;

/* The commands in the order of the help; the last has a NULL name. */
extern const rl__cli_command rl__cli_commands[];

/* What an option takes: nothing (a flag), a number in [lo, hi], text, one
 * of the words of its arg ("auto|always|never", stored as the index), a
 * seed (decimal or 0x hex) or a shard I/N. */
enum {
    RL__ARG_NONE,
    RL__ARG_LONG,
    RL__ARG_DOUBLE,
    RL__ARG_TEXT,
    RL__ARG_CHOICE,
    RL__ARG_SEED,
    RL__ARG_SHARD,
    RL__ARG_VERSION, /* an optional number: the flag alone stores lo */
    RL__ARG_DURATION /* seconds, or a number with s, m or h: a double */
};

/* One option of the option table: the parser, the usage lines and every
 * command's help are made from it. Its value goes to the field at offset
 * field of rl__cli_args: an int for a flag or a choice, a long, a double,
 * a const char *, the seed or the shard. def, when not NULL, points at
 * the default the help shows (a long or a double as the type says,
 * usually in rl__default); def_text is a default in words. */
typedef struct {
    const char *name; /* without the dashes */
    const char *arg;  /* its argument as the help names it; NULL: none */
    int type;         /* RL__ARG_* */
    double lo, hi;    /* the range of a number */
    size_t field;
    int commands; /* RL__CMD_* bits: the commands that take it */
    const char *help;
    const void *def;
    const char *def_text;
} rl__cli_option;

/* The option table; the last entry has a NULL name. */
extern const rl__cli_option rl__cli_options[];

/* Where run, stress and report write their results. */
typedef struct {
    const char *json, *junit, *html;
    int tap;
} rl__cli_outputs;

/* The options given on a command line, parsed and checked, with the
 * defaults of the command line for those not given. */
typedef struct {
    int mode; /* rl__run_mode */
    uint64_t seed;
    int seed_given;
    long runs; /* 0: not given */
    long preemptions;
    int bound_kind; /* RL__BOUND_* */
    int reduction;  /* RL__REDUCTION_* */
    int races;      /* RL__RACES_* */
    long depth;     /* 0: not given */
    long max_steps; /* 0: not given */
    double timeout; /* 0: not given */
    double noise;
    long shard[2]; /* index and count; count 0: no shard */
    long jobs;     /* 0: not given */
    int color;     /* RL__COLOR_* */
    long expect_exit;
    const char *expect_stdout;
    int until_failure;       /* stress */
    double duration;         /* stress: seconds; 0: not given */
    const char *failure_dir; /* stress */
    int keep_hung;           /* stress */
    int expect_verdict; /* run -- COMMAND: an rl_verdict, RL_PASS default */
    int trace;
    double replay_timeout; /* replay, minimize: negative: not given, 0: none */
    long stop_at;          /* replay: negative: not given */
    int json_list;         /* list --json */
    int help;
    rl__cli_outputs out;
    int next; /* argv index of the first operand */
} rl__cli_args;

/* The command after the first "--" of argv (run, replay and minimize of
 * an unmodified program): returns it (NULL-terminated, as argv is) and
 * cuts *argc to the words before "--"; NULL when there is none. */
char **rl__cli_split_command(int *argc, char **argv);

/* Makes cmd (from rl__cli_split_command) the one scenario of the run.
 * Returns 0 with *sc NULL when cmd is NULL, 0 with *sc set, or EXIT_USAGE
 * after saying why the command cannot run (no such command, a static
 * binary, no libracelab-intercept.so). */
int rl__cli_command_scenario(char **cmd, const rl__cli_args *a,
                             rl_scenario **sc);

/* Parses the options of command cmd (a RL__CMD_* bit) in argv (argv[0]
 * the command's name) from the option table. Returns 0 with the options
 * in *a; 1 when --help was given and the command's help printed; or
 * EXIT_USAGE after printing why the command line is wrong. */
int rl__cli_parse(int cmd, int argc, char **argv, rl__cli_args *a);

/* Prints the help of command cmd, or with 0 the help of the program, on
 * stdout, made from the command and option tables. */
void rl__cli_help(int cmd);

/* What the help and the man page (tools/mkman) share: the line that says
 * what the program does, the meaning of its exit statuses, whether a
 * command's operands follow its options ("-- COMMAND"), and an option's
 * default as the help shows it ("" when none), into buf. */
extern const char rl__cli_tagline[];
extern const char rl__cli_exit_status[];
int rl__cli_operands_last(const rl__cli_command *c);
void rl__cli_option_default(const rl__cli_option *o, char *buf, size_t size);

/* The program's name (the last part of argv[0]), for messages, usage,
 * help and version; and argv[0] as it was run, for the commands the
 * hints give ("replay: ./bank replay 'TOKEN'"). */
extern const char *rl__cli_prog;
extern const char *rl__cli_invoked;

/* The whole command line, quoted where a shell needs it, for "reproduce
 * with" and the reports; NULL when out of memory. */
extern char *rl__cli_argv_line;

/* The stop signal received (SIGINT, SIGTERM, SIGHUP), or 0. */
extern volatile sig_atomic_t rl__cli_interrupted;

/* Prints "PROG: " and the message on stderr and returns EXIT_USAGE. */
int rl__cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The arguments joined by spaces, those with blanks or glob characters
 * in single quotes; malloc'd, NULL when out of memory. */
char *rl__cli_join_args(int argc, char **argv);

/* Flushes stdout so that each result shows as soon as it is known; the
 * first failure is kept for rl__cli_stdout_failed. */
void rl__cli_flush_stdout(void);

/* Whether the results written to stdout were lost: a write or the final
 * flush failed (a full disk, /dev/full, an I/O error). A pipe or socket
 * whose reader has gone (racelab list | head -1) only ends the output.
 * Prints the reason on stderr. */
int rl__cli_stdout_failed(void);

/* Ctrl-C (and SIGTERM, as a CI timeout sends, or SIGHUP) stop a search
 * cleanly: catch sets rl__cli_interrupted instead of ending the program,
 * release puts the previous actions back. */
void rl__cli_catch_interrupts(struct sigaction old[3]);
void rl__cli_release_interrupts(struct sigaction old[3]);

/* Writes the report files asked for (atomically) and TAP on stdout.
 * Returns 0, or 1 when a file could not be written (said on stderr). */
int rl__cli_write_outputs(const rl__cli_outputs *out, const rl__report *rep);

/* rl__term_progress with the program's name (rl__cli_prog) before the
 * line, where t's hints carry the command as it was run. */
void rl__cli_progress(const rl__term *t, long done, long total, long bad,
                      const char *what, double t0);

/* Now in ISO 8601 UTC, for the reports' started_at. */
void rl__cli_started_at(char buf[32]);

/* The commands, on argv[0] = the command's name; each returns the exit
 * status. */
int rl__cli_list(int argc, char **argv);
int rl__cli_run(int argc, char **argv);
int rl__cli_replay(int argc, char **argv);
int rl__cli_minimize(int argc, char **argv);
int rl__cli_stress(int argc, char **argv);
int rl__cli_report(int argc, char **argv);

#endif /* RL_CLI_H */
