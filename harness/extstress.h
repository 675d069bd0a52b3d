/* extstress.h: stress of an external command (racelab stress -- CMD...):
 * many runs of an unmodified program, each classified. */
#ifndef RL_EXTSTRESS_H
#define RL_EXTSTRESS_H

#include <signal.h>
#include <stdint.h>

#include "results.h"

/* Options of an external-command stress. Zero fields mean defaults. */
typedef struct {
    long runs;                     /* total runs over all shards; 0: default */
    int jobs;                      /* runs in flight; 0: online CPUs */
    double timeout;                /* per run, seconds; 0: default; negative:
                                      none */
    int expect_exit;               /* the exit status of a good run */
    const char *expect_stdout;     /* NULL: not checked; compared with trailing
                                      newlines of both sides ignored */
    double noise;                  /* 0: none; else the probability per call */
    const char *noise_lib;         /* libracelab-noise.so; NULL: next to
                                      /proc/self/exe, then in ../lib of it */
    long shard_index, shard_count; /* run k belongs to shard k % count */
    uint64_t seed;
    volatile sig_atomic_t *stop; /* set (e.g. by SIGINT): stop early */
    void (*progress)(long done, long total, long failures, void *ctx);
    void *progress_ctx;
    /* No run starts after the first failure (until_failure) or once
     * duration seconds have passed (> 0); the runs in flight then end as
     * usual and count. With either and runs 0, runs has no limit. */
    int until_failure;
    double duration;
    /* a directory (made if missing) where each failing run leaves
     * run-K.log: run number, command, seed, how it ended, its output */
    const char *failure_dir;
    /* a run that times out has its process group stopped (SIGSTOP) and
     * left so, for a debugger, instead of killed */
    int keep_hung;
    /* told what the user must know while the runs go on: a hung run kept
     * stopped and its pids (error 0), a failure log that could not be
     * written (error 1) */
    void (*note)(int error, const char *msg, void *ctx);
    void *note_ctx;
} rl__stress_opts;

/* Runs argv (argv[0] looked up in PATH when it has no slash) o->runs times,
 * up to o->jobs at once, each in a process group of its own with stdin
 * /dev/null, and classifies every run (rl__run_class). A run that outlives
 * the timeout has its whole group killed; whatever a run left in its group
 * when it ended is killed too. Every child gets RACELAB_RUN=K (the 1-based
 * run number over all shards) and, with noise, LD_PRELOAD (appended),
 * RACELAB_NOISE=P and RACELAB_NOISE_SEED=seed+K. While it runs, the
 * calling process is a child subreaper, so the members of a run's group
 * that outlive their parents are killed and reaped with the group.
 *
 * With a stop flag that becomes non-zero, no run is started any more, the
 * running groups are killed and reaped, and the finished runs are
 * reported (killed runs are not counted).
 *
 * Fills the result r (free with rl__result_free; also after an error):
 * external = 1, mode stress, a clean scenario named "stress:CMD ARG...",
 * executions, failures, first_failure_run (the lowest failing run
 * number), classes, up to RL__KEPT_OUTPUTS outputs of the first failing
 * runs, verdict and message of the first failure, the histogram of exit
 * codes (-signal for deaths by a signal; timeouts are not in it),
 * duration and seed.
 *
 * With keep_hung, a run that times out is classified as a timeout, its
 * group is stopped and left stopped when the call returns (its processes
 * are then nobody's to reap but their new parent's); its output pipes
 * are closed, so a write after SIGCONT gets SIGPIPE.
 *
 * Returns 0, or a negative errno with rl_last_error set when the command
 * cannot be started (-ENOENT, -EACCES, ...), the noise library is missing,
 * the failure directory cannot be made or the options are invalid. Runs
 * in the calling thread; not thread-safe. */
int rl__stress_command(char *const argv[], const rl__stress_opts *o,
                       rl__result *r);

#endif /* RL_EXTSTRESS_H */
