/* results.h: the results model: what a run of racelab found, scenario by
 * scenario, in records of its own. The engine fills it, the writers in
 * reports/ and the results file read it; it knows nothing of the engine or
 * the scheduler. Internal to racelab. */
#ifndef RL_RESULTS_H
#define RL_RESULTS_H

#include <stdint.h>

#include "racelab.h"

/* How a scenario was searched. */
typedef enum {
    RL_MODE_EXPLORE = 0,
    RL_MODE_PCT,
    RL_MODE_RANDOM,
    RL_MODE_STRESS,
    RL_MODE_REPLAY,
    RL_MODE_COUNT
} rl__run_mode;

/* The kinds of bound explore applies (--bound). */
enum { RL__BOUND_PREEMPTIONS = 0, RL__BOUND_DELAYS = 1, RL__BOUND_COUNT };
/* The reductions explore applies (--reduction). */
enum { RL__REDUCTION_DPOR = 0, RL__REDUCTION_NONE = 1, RL__REDUCTION_COUNT };

/* How one run of an external command ended (racelab stress -- CMD). */
typedef enum {
    RL__RUN_OK = 0, /* as expected */
    RL__RUN_WRONG_EXIT,
    RL__RUN_WRONG_OUTPUT,
    RL__RUN_SIGNAL,
    RL__RUN_TIMEOUT,
    RL__RUN_CLASSES
} rl__run_class;

/* Where an actor was when its execution ended. */
typedef enum {
    RL__STATE_UNUSED = 0,
    RL__STATE_RUNNABLE,
    RL__STATE_BLOCKED,
    RL__STATE_FINISHED,
    RL__STATE_COUNT
} rl__result_state;

/* How an actor was started; actor 0, the scenario's own process, is the
 * root. */
typedef enum {
    RL__STARTED_FORK = 0,
    RL__STARTED_SPAWN,
    RL__STARTED_FORKSERVER,
    RL__STARTED_ROOT,
    RL__STARTED_COUNT
} rl__started_by;

#define RL__HIST_MAX 64           /* distinct values of a histogram */
#define RL__KEPT_OUTPUTS 3        /* outputs of failing command runs */
#define RL__RESULT_MAX_ACTORS 256 /* actors of one execution */
#define RL__RESULT_MSG_LEN 1024   /* a diagnosis, with its NUL */

/* One step of a failing execution. */
typedef struct {
    int actor;
    int pid;
    char op[16];  /* "load", "send", ... (rl__result_step_op) */
    int access;   /* a load, store or fetch-add: at is the address */
    int write;    /* a store or fetch-add */
    uintptr_t at; /* the object or address the step works on; 0: none */
    int shared;   /* an access to memory shared between the processes */
    int has_value;
    long value;
    char label[48];
    char file[40]; /* "" when not known */
    int line;
    /* the scheduler switched to this step's actor away from the actor of
     * the step before, which could have gone on */
    int preemption;
} rl__result_step;

/* One of the two accesses of a data race. */
typedef struct {
    int actor;
    int pid;
    int write;    /* a store or read-modify-write; else a load */
    int atomic;   /* an atomic access (a race has at most one) */
    uintptr_t at; /* the address */
    int size;     /* the bytes accessed at it */
    char label[48];
    char file[40]; /* "" when not known */
    int line;
    long step; /* its index in the trace of the execution that raced */
    char stack[1024]; /* the process's stack at the access, one frame a
                         line, no newline at the end; "" when none */
} rl__result_access;

/* A data race: two accesses to overlapping shared bytes by different
 * processes, one a write, not both atomic, that no synchronisation
 * orders; first is the earlier in the trace. */
typedef struct {
    rl__result_access first, second;
    int in_failure; /* the step indexes are into failure.steps; else into
                       a passing execution that is not kept */
} rl__result_race;

/* One actor of a failing execution, as the execution left it. */
typedef struct {
    char name[32];
    int pid;
    int started_by;        /* rl__started_by */
    int state;             /* rl__result_state */
    int exit_code;         /* finished: the status, or minus the signal */
    char wait_reason[200]; /* blocked: what it waits for */
    char stack[2048];      /* one frame a line, no empty line, no newline at the
                              end; "" when none was captured */
} rl__result_actor;

/* The first failing execution of a search. */
typedef struct {
    char message[RL__RESULT_MSG_LEN];
    char *token;           /* malloc'd; NULL when it has no replay token */
    char *minimized_token; /* malloc'd; NULL when not minimized */
    long nsteps;
    rl__result_step *steps; /* malloc'd */
    int nactors;
    rl__result_actor *actors; /* malloc'd, indexed by actor id */
} rl__result_failure;

/* What the search of one scenario found: the scenario's description is
 * copied in, so a result stands on its own. */
typedef struct {
    char *name;         /* malloc'd */
    char *summary;      /* malloc'd; NULL: none */
    int expect;         /* RL_EXPECT_CLEAN or RL_EXPECT_BUG */
    int expect_verdict; /* with RL_EXPECT_BUG: the verdict it must have, 0:
                           any failure */
    int external;       /* stress of an external command (stress -- CMD) */
    int mode;           /* rl__run_mode */
    uint64_t seed;
    int verdict;   /* of the first failure, or RL_PASS */
    int exhausted; /* explore: the bounded space is done */
    /* the run was stopped (Ctrl-C, SIGTERM, SIGHUP) before this search
     * ended: the counts are those so far, and it is not as expected */
    int interrupted;
    long executions;
    long failures;
    long first_failure_run; /* runs to the first failure (1-based); 0:
                               none or not known */
    double duration;        /* seconds */
    /* explore */
    int bound;       /* the bound; negative: none */
    int bound_kind;  /* RL__BOUND_* */
    int reduction;   /* RL__REDUCTION_* */
    long found_cost; /* the preemptions (or delays) of the failure found */
    /* pct: what a run guarantees (see rl__result_pct_probability) */
    int pct_depth;
    int pct_actors;
    long pct_steps;
    /* valid when verdict is not RL_PASS */
    rl__result_failure failure;
    /* stress: the histogram of the values the checks recorded (external
     * commands: of the exit codes) */
    int nvalues;
    long values[RL__HIST_MAX];
    long counts[RL__HIST_MAX];
    /* external commands: runs per rl__run_class, and what the first
     * failing runs printed (malloc'd; NULL when fewer failed) */
    long classes[RL__RUN_CLASSES];
    char *kept_output[RL__KEPT_OUTPUTS];
    /* interleaving coverage */
    double space_explored; /* explore: share of the bounded tree done;
                              negative: not known */
    long schedule_points;
    long labels_reached;
    long pairs_interleaved;
    /* the data races found, each pair of source places once: those of
     * the failure first (in_failure), then, with --races report, those of
     * passing executions */
    long nraces;
    rl__result_race *races; /* malloc'd; NULL when none */
} rl__result;

/* ---- the rules, each in this one place ---- */

/* Whether a verdict meets an expectation: a clean scenario must pass; a
 * bug must be found (with the verdict asked for, if any), where stress,
 * running for real, shows an expected DEADLOCK or LIVELOCK as a
 * TIMEOUT, and RACE meets every expected bug (the race shows before the
 * failure it leads to). */
int rl__expectation_met(int expect, int expect_verdict, int verdict, int mode);

/* Whether the scenario behaved as expected: its expectation met and the
 * search not interrupted. */
int rl__result_as_expected(const rl__result *r);

/* A duration as the model keeps it: to the millisecond, as the results
 * file writes it, so that a report of the file shows what the run
 * showed. */
double rl__result_duration(double seconds);

/* Wilson score interval for k failures in n runs, 95%. [0, 1] when n is
 * 0. */
void rl__wilson(long k, long n, double *lo, double *hi);

/* The probability PCT's guarantee gives one run (Burckhardt et al.,
 * ASPLOS 2010: a bug of depth d is found with probability at least
 * 1/(n k^(d-1)), n the actors and k the steps of a run without
 * preemptions), 0 when not known; and the runs that find such a bug with
 * 95% confidence. */
double rl__pct_probability(int depth, int actors, long steps);
long rl__pct_runs_for_95(int depth, int actors, long steps);

/* ---- names, as the results file and the reports spell them ---- */

/* Each returns "?" for a value out of range. */
const char *rl__mode_name(int mode);           /* "explore", ... */
const char *rl__state_name(int state);         /* "runnable", ... */
const char *rl__started_name(int started_by);  /* "fork", ..., "root" */
const char *rl__bound_kind_name(int kind);     /* "preemptions", "delays" */
const char *rl__reduction_name(int reduction); /* "dpor", "none" */
const char *rl__expect_name(int expect);       /* "clean", "bug" */
const char *rl__run_class_key(int run_class);  /* "ok", "wrong_exit", ... */

/* One access of a race in words, for the reports: "actor 1 (pid 42)
 * write 8 bytes at 0x7f00 (c->value, counter.c:21), step 7" into buf
 * (size bytes, always terminated). */
void rl__result_access_text(const rl__result_access *x, char *buf,
                            size_t size);

/* Sets a step's op by its name, and whether it is an access and a write.
 * Returns 0, or -1 when name is not an operation racelab records. */
int rl__result_step_op(rl__result_step *s, const char *name);

/* ---- memory ---- */

/* Frees what the result owns and empties it (all zero, space_explored
 * -1). Harmless on an emptied result. */
void rl__result_free(rl__result *r);

/* Copies src's races into dst, whose races are taken to own nothing.
 * Returns 0, or -ENOMEM (dst then has none). */
int rl__result_races_copy(rl__result *dst, const rl__result *src);

/* Copies src's failure into dst, whose pointers are taken to own nothing.
 * Returns 0, or -ENOMEM (dst then owns what was copied so far). */
int rl__result_failure_copy(rl__result_failure *dst,
                            const rl__result_failure *src);

#endif /* RL_RESULTS_H */
