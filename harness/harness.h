/* harness.h: the engine that runs executions of scenarios (supervisor,
 * explore, pct, random, stress, replay, minimize); internal to racelab. */
#ifndef RL_HARNESS_H
#define RL_HARNESS_H

#include <signal.h>
#include <stdint.h>

#include "defaults.h"
#include "procfs.h"
#include "races.h"
#include "results.h"
#include "scheduler.h"

/* Where a replay stopped (--stop-at), for the one who continues it: the
 * step about to be taken, the actor holding the token and the one the
 * token chooses for the step (-1: not known), and every actor of the
 * execution so far. */
typedef struct {
    long step;
    int holder;
    int next;
    int nactors;
    struct {
        char name[32];
        pid_t pid;
        int finished; /* it ended before the step: no process to attach */
    } actors[RL__MAX_ACTORS];
} rl__stop_info;

/* Called in the supervisor once every process of the execution is
 * stopped; returns when the execution may go on. */
typedef void (*rl__stop_fn)(const rl__stop_info *info, void *ctx);

/* How to run one execution. */
typedef struct {
    int mode;     /* RL__MODE_CONTROLLED or RL__MODE_STRESS */
    int strategy; /* RL__STRAT_* */
    uint64_t seed;
    int pct_depth;
    long pct_length; /* expected number of steps, for change points */
    const uint8_t *prefix;
    long nprefix;
    long max_steps;
    double timeout;
    double noise;
    volatile sig_atomic_t *stop; /* set: end the execution now */
    int cpu;                     /* controlled: 1 + the CPU its processes share;
                                    0: the CPU the supervisor is on; -1: any */
    /* controlled: 1 + the step before which every process of the
     * execution stops and on_stop is called (0: none; see stopat.c) */
    long stop_at;
    rl__stop_fn on_stop;
    void *stop_ctx;
    /* 1: the stop leaves the processes as they are, parked in the
     * scheduler (no SIGSTOP), for a look by racelab itself: a stopped
     * process would outlive a racelab killed outright, which its parked
     * actors do not */
    int stop_parked;
    int races; /* controlled: RL__RACES_FAIL (0), _REPORT or _OFF */
} rl__exec_params;

/* What one execution did. */
typedef struct {
    int verdict;
    char message[RL__MSG_LEN];
    long nsteps;
    rl__step *steps; /* malloc'd copy of the trace */
    int nactors;
    rl__actor *actors; /* malloc'd copy of the actor table */
    long preemptions;
    int has_value;
    long value;
    double duration;
    /* controlled, races not off: the data races of the trace (malloc'd;
     * NULL when none) */
    long nraces;
    rl__race *races;
} rl__exec_result;

/* Runs one execution of the scenario under a supervisor: the root actor in
 * its own process group, the wall-clock timeout, every process of the
 * execution killed and reaped before it returns. A controlled execution's
 * trace is searched for data races unless p->races is off; with
 * RL__RACES_FAIL one turns a PASS into RACE. The caller must not be
 * an actor. Returns 0 (the outcome is in r, also for ERROR) or a negative
 * errno when the execution could not be started at all. */
int rl__execute(const rl_scenario *sc, const rl__exec_params *p,
                rl__exec_result *r);
void rl__exec_result_free(rl__exec_result *r);

/* replay --stop-at (stopat.c), for rl__execute, once the scheduler's
 * configuration armed the stop (rl__sched_config.stop_at: the prefix is
 * cut short at the step, where the strategy then stops). rl__stop_poll,
 * called by the supervisor while it
 * waits, does nothing until the token holder has stopped at the step;
 * then it stops every process of the execution (group root and every
 * actor, SIGSTOP), waits until the kernel shows them stopped, calls
 * p->on_stop, and lets them go on (SIGCONT). Returns 1 when it did, so
 * that the caller restarts its stall clock, else 0. */
int rl__stop_poll(rl__sched *S, const rl__exec_params *p, pid_t root);

/* Finds the program name the way execvp would (PATH, default
 * "/bin:/usr/bin"), once, so that runs do not search: the file in out
 * (size bytes). Returns 0, or -ENOENT / -EACCES (rl_last_error says). */
int rl__find_program(const char *name, char *out, size_t size);

/* Finds racelab's runtime library file (libracelab-noise.so, ...): given
 * when set (a user's choice), else next to this program (the build tree),
 * where LIBDIR is relative to BINDIR or in ../lib of it (a relocated or
 * DESTDIR installation), else in the configured LIBDIR (a copy of the
 * program elsewhere, a user's program built with libracelab). Returns 0
 * with the absolute path in out (PATH_MAX bytes), or -ENOENT. */
int rl__find_runtime_lib(const char *file, const char *given, char *out);

/* The raw facts an execution leaves behind: what the scheduler in the
 * arena concluded and what the supervisor saw from outside. */
typedef struct {
    int mode;                  /* rl__exec_params.mode */
    int sched_verdict;         /* the scheduler's verdict */
    const char *sched_message; /* and its message */
    int crash_actor;           /* an actor the scheduler saw crash, or -1 */
    pid_t crash_pid;
    int crash_signal;
    const rl__actor *actors; /* the actor table, nactors long */
    int nactors;
    int interrupted; /* the search's stop flag ended it */
    int timed_out;   /* the timeout ended it */
    int holder;      /* the token holder when it timed out */
    double held_for; /* how long it had held the token, in seconds */
    double timeout;  /* the timeout, in seconds */
    int dead_actor;  /* an actor that died outside the exit path, or -1 */
    int dead_status; /* its wait status */
    int root_reaped; /* the root process was reaped */
    int root_status; /* its wait status then */
} rl__exec_facts;

/* Turns the raw facts of an execution into its verdict and message. Pure:
 * it reads only f and writes only msg (size bytes, always terminated), so
 * a test can call it with hand-made facts. Returns the verdict. */
int rl__exec_verdict(const rl__exec_facts *f, char *msg, size_t size);

/* Kills and reaps this process's children that are in another process
 * group than its own and started at or after root_start (clock ticks since
 * boot; 0: any): processes that left an execution's or a run's group and
 * came back to the subreaper as orphans. */
void rl__reap_strays(unsigned long long root_start);

/* Kills and reaps this process's children in another process group than
 * its own, but those spare(pid, ctx) says to leave (NULL: none), until
 * none is left (rl__reap_strays is this with a start time). */
void rl__reap_children(int (*spare)(pid_t pid, void *ctx), void *ctx);

/* rl__proc_state and rl__proc_start_ticks: lib/procfs.h. */

/* Now in the unit of rl__reap_strays' root_start (clock ticks since boot):
 * a process started from here on has a start time of at least this. */
unsigned long long rl__ticks_now(void);

/* Set by the command line when it ignores SIGPIPE for itself: the root of
 * every execution puts the default back for the scenario. */
extern int rl__cli_ignores_sigpipe;

/* Turns the raw stacks of the actors into readable ones (file:line from
 * addr2line, racelab's frames folded unless RACELAB_FULL_STACKS is set),
 * and gives the steps of instrumented code their file:line. Called for the
 * failures that are reported, not for every execution. */
void rl__exec_format_stacks(rl__exec_result *r);

/* In a process forked from one that ran executions: start afresh (own
 * arena of executions, own subreaper setting). */
void rl__execute_forget(void);

/* Whether choosing actor c at step i preempts the actor that just ran, and
 * how many preemptions the first n steps of a trace hold. */
int rl__is_preemption(const rl__step *steps, long i, int c);
long rl__count_preemptions(const rl__step *steps, long n);

/* What choosing actor c at step i costs against a bound of that kind:
 * a preemption is 1 when c preempts the actor that just ran; delays
 * (Emmi, Qadeer and Rakamaric, POPL 2011) count the actors that could
 * run and are passed over, from the default choice on in the order of
 * their ids. */
long rl__decision_cost(const rl__step *steps, long i, int c, int kind);
/* The cost of the first n decisions of a trace. */
long rl__trace_cost(const rl__step *steps, long n, int kind);

/* The scenarios linked into this program, in name order. */
rl_scenario *rl__scenarios(void);
rl_scenario *rl__scenario_find(const char *name);

/* Makes the unmodified program argv (argv[0] its name, found on PATH as
 * exec would) the scenario "cmd:ARGV0", registered so that its tokens
 * replay: its root actor execs it with libracelab-intercept.so preloaded.
 * expect_verdict RL_PASS expects no failure, any other verdict that one.
 * Keeps argv. Returns 0 with *out set, or -ENOENT (no such command, no
 * library) or -EINVAL (a static binary, no command) with the reason in
 * rl_last_error(). */
int rl__command_scenario(char **argv, int expect_verdict, rl_scenario **out);

/* Replay tokens: "NAME@0x3.1x4.0x2". Encode returns a malloc'd string.
 * Decode returns 0 and a malloc'd decision array, or -EINVAL with the
 * reason in rl_last_error. */
char *rl__token_encode(const char *name, const uint8_t *d, long n);
int rl__token_decode(const char *token, char **name, uint8_t **d, long *n);

/* The decisions of a trace, shortened to the prefix that a replay (which
 * runs on without preempting after it) needs. Returns the length. */
long rl__trace_decisions(const rl__step *steps, long nsteps, uint8_t *out);

/* Options of a search. */
typedef struct {
    int mode; /* rl__run_mode */
    uint64_t seed;
    long runs;        /* pct/random/stress executions; explore: limit */
    int preemptions;  /* explore bound; negative: unbounded */
    int bound_kind;   /* RL__BOUND_PREEMPTIONS (0) or RL__BOUND_DELAYS */
    int reduction;    /* RL__REDUCTION_DPOR (0) or RL__REDUCTION_NONE */
    int all_outcomes; /* explore: go on past failures (tests compare the
                         outcomes reached with and without reduction) */
    int depth;        /* pct */
    long max_steps;
    double timeout;
    double noise;
    long shard_index; /* this slice of the runs, 0-based */
    long shard_count; /* 0 or 1: everything */
    /* explore: only the subtree under this prefix of decisions */
    const uint8_t *root;
    long nroot;
    /* pct/random/stress: only runs k with k % stride == offset, on top of
     * the shard (0: every run of the shard) */
    long stride, offset;
    /* controlled executions: 1 + the CPU to run on, 0: the supervisor's,
     * -1: any (see rl__exec_params.cpu) */
    int cpu;
    /* controlled executions: what races do (RL__RACES_FAIL, the zero
     * default; RL__RACES_REPORT; RL__RACES_OFF) */
    int races;
    /* minimize: executions it may try (0: the default) */
    long minimize_budget;
    /* set asynchronously (SIGINT): stop as soon as possible */
    volatile sig_atomic_t *stop;
    /* explore: when not NULL, the executions it may run, lowered by other
     * processes while it runs (--jobs: see jobs.c); it stops once it ran
     * that many (the result is then neither exhausted nor failing) */
    volatile long *budget;
    /* explore with --jobs: executions per round of a subtree, which
     * decide which failure comes first (0: 100; see jobs.c) */
    long round;
    /* called with every execution of explore, pct and random */
    void (*observe)(const rl__exec_result *e, void *ctx);
    void *observe_ctx;
    /* replay: 1 + the step to stop at, and who is told (see
     * rl__exec_params.stop_at) */
    long stop_at;
    rl__stop_fn on_stop;
    void *stop_ctx;
} rl__search_opts;

/* The outcome of a search over one scenario, as the engine keeps it:
 * rl__result_from_search turns it into the results model. */
typedef struct {
    const rl_scenario *sc;
    int mode;
    int verdict;   /* of the first failure, or PASS */
    int exhausted; /* explore: the bounded space is done */
    /* the run was stopped (Ctrl-C, SIGTERM, SIGHUP) before this search
     * ended: the counts are those so far */
    int interrupted;
    int bound;       /* explore: the preemption bound (-1: none) */
    int bound_kind;  /* explore: RL__BOUND_PREEMPTIONS or RL__BOUND_DELAYS */
    int reduction;   /* explore: RL__REDUCTION_DPOR or RL__REDUCTION_NONE */
    long found_cost; /* explore: the preemptions (or delays) of the
                        failing schedule */
    /* pct: what a run guarantees (Burckhardt et al., ASPLOS 2010): a bug
     * of depth d is found with probability at least 1/(n k^(d-1)), n the
     * actors and k the steps of a run without preemptions */
    int pct_depth;
    int pct_actors;
    long pct_steps;
    long executions;
    long failures;
    long first_failure_run; /* runs to first failure (1-based), 0: none */
    double duration;
    rl__exec_result first; /* the first failing execution (if any) */
    char *token;
    char *minimized_token;
    /* stress histogram of rl_check_eq values */
    int nvalues;
    long values[RL__HIST_MAX];
    long counts[RL__HIST_MAX];
    /* the scenario's seed, for reports (the run's seed) */
    uint64_t seed;
    /* interleaving coverage */
    double space_explored; /* explore: share of the bounded tree done;
                              negative: not known (other modes) */
    long schedule_points;
    long labels_reached;
    long pairs_interleaved;
    /* the data races found, each pair of places once (malloc'd; NULL:
     * none): those of the first failure, whose step indexes are into
     * first.steps (failing set), then, with --races report, those of
     * passing executions, indexed into the execution that found them */
    long nraces;
    rl__race *races;
} rl__search_result;

/* Adds the races of execution e to the search's, each pair of places
 * once (at most RL__RACES_MAX): failing says e is the failure the search
 * keeps (its races then take the place of those a passing execution had
 * at the same places). Instrumented accesses of a passing execution get
 * their file:line here. Out of memory, races are left out. */
void rl__merge_races(rl__search_result *r, const rl__exec_result *e,
                     int failing);

/* Runs the search the options ask for over one scenario. Returns 0, or a
 * negative errno when it could not run. */
int rl__search(const rl_scenario *sc, const rl__search_opts *o,
               rl__search_result *r);
void rl__search_result_free(rl__search_result *r);

/* Replays a token. */
int rl__replay(const char *token, const rl__search_opts *o,
               rl__search_result *r);

/* Shrinks a failing token to fewer preemptions, then fewer steps, keeping
 * its verdict. */
int rl__minimize(const char *token, const rl__search_opts *o,
                 rl__search_result *r);

/* Fills r->minimized_token for a found failure (a bounded minimize, at
 * most 100 executions). Nothing for stress or when nothing failed. */
void rl__search_minimize(rl__search_result *r, const rl__search_opts *o);

/* The results model of a search's outcome (convert.c, the one place
 * where the engine's records become the model's): the scenario's
 * description copied in, the first failure's steps and actors as result
 * records, stacks as the results file keeps them, the duration to the
 * millisecond and space_explored to 4 decimals, as the results file
 * writes them, so that a report of the file shows what the run showed.
 * Returns 0, or -ENOMEM with out emptied. */
int rl__result_from_search(const rl__search_result *s, rl__result *out);

/* Runs searches of several scenarios over up to jobs worker processes:
 * explore split into subtrees, the other modes into slices of their runs.
 * With a shard, explore keeps the subtrees k with k mod N = I of a
 * frontier every shard computes alike.
 * results[i] receives scenario i's outcome, as rl__search would give it
 * (the first failure is replayed in the calling process for its details).
 * done, when not NULL, is called in scenario order as soon as a scenario's
 * result is complete. Returns 0, or a negative errno. */
int rl__search_many(rl_scenario *const *scs, int n, const rl__search_opts *o,
                    int jobs, rl__search_result *results,
                    void (*done)(rl__search_result *r, void *ctx), void *ctx);

#endif /* RL_HARNESS_H */
