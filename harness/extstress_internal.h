/* extstress_internal.h: what the modules of racelab stress -- CMD share:
 * the state of one call and of each run in flight; how a run starts
 * (extspawn.c) and what is left when it ends (extguard.c). Internal to
 * extstress.c and its modules. */
#ifndef RL_EXTSTRESS_INTERNAL_H
#define RL_EXTSTRESS_INTERNAL_H

#include <limits.h>
#include <spawn.h>
#include <sys/types.h>

#include "extstress.h"
#include "harness.h"

#define KEEP_BYTES 65536 /* output kept per stream of a run */
#define READ_CHUNK 16384

/* The tail of one output stream of a run. */
typedef struct {
    char *buf;
    size_t len, cap;
    int dropped; /* the head was dropped to keep the tail */
} rl__ext_tail;

/* One run in flight. pid 0: the slot is free. */
typedef struct {
    pid_t pid;
    int pidfd;        /* -1: no pidfd, polled with WNOHANG */
    int out, err;     /* read ends, -1 when closed or unused */
    int captured;     /* its output goes to the tails */
    int separate_err; /* stderr has a pipe of its own */
    long run;         /* 1-based run number over all shards */
    double start, deadline;
    unsigned long long start_ticks; /* boot-time clock ticks at its start */
    int timed_out;
    int hung_kept; /* timed out and left stopped (keep_hung) */
    rl__ext_tail tout, terr;
} rl__ext_slot;

/* A kept output with the run it belongs to. */
typedef struct {
    long run;
    char *text;
} rl__ext_kept;

/* Everything one call works with. */
typedef struct {
    const rl__stress_opts *o;
    rl__result *r;
    char *const *argv;
    char path[PATH_MAX];
    int devnull;
    posix_spawnattr_t attr;
    char **envp;
    char *run_var;  /* RACELAB_RUN=..., rewritten per run */
    char *seed_var; /* RACELAB_NOISE_SEED=..., or NULL */
    rl__ext_slot *slots;
    int nslots, inflight;
    double timeout;
    size_t cap;
    rl__ext_kept keep[RL__KEPT_OUTPUTS];
    int nkept;
    long total;    /* runs of this shard */
    int unbounded; /* no limit on the runs: total is only a bound */
    pid_t *groups; /* shared with the guard: the runs' process groups */
    pid_t guard;   /* the guard process, 0 without one */
    unsigned long long began; /* boot-time ticks when the first run began */
    double end;               /* --duration: no run starts after it; 0: none */
    int no_more; /* no run starts any more (until_failure, duration) */
    pid_t *hung; /* the groups of hung runs left stopped (keep_hung) */
    int nhung;
} rl__ext_ctx;

/* ---- how a run starts (extspawn.c) ---- */

/* In the environment of every run: "RACELAB_STRESS_OWNER=PID", PID the
 * racelab process that started it. */
#define RL__EXT_OWNER_VAR "RACELAB_STRESS_OWNER="

/* Builds the child environment of c: the caller's, with RACELAB_RUN and,
 * with noise, LD_PRELOAD, RACELAB_NOISE and RACELAB_NOISE_SEED. Returns 0
 * or -errno. rl__ext_free_env frees it (also after a failure). */
int rl__ext_build_env(rl__ext_ctx *c);
void rl__ext_free_env(rl__ext_ctx *c);

/* The spawn attributes of every run: its own process group, no blocked
 * signal, and the default action for the signals this process may handle
 * or ignore, so that the program starts as it would from a shell. With
 * own_session, the group is a session of its own (setsid): a stopped run
 * left behind then gets no SIGHUP when racelab, its parent, exits (the
 * kernel hangs up a process group with stopped members that loses its
 * last parent in the same session). */
void rl__ext_spawn_attr(posix_spawnattr_t *attr, int own_session);

/* Starts run number `run` in slot s. Returns 0 or the spawn's -errno. */
int rl__ext_start_run(rl__ext_ctx *c, rl__ext_slot *s, long run);

/* ---- what outlives a run (extguard.c) ---- */

/* Starts the guard of c's runs: a small child that kills the process
 * groups of the runs in flight if this process is killed outright.
 * Without one (no memory, no process left) the runs go on unguarded.
 * rl__ext_guard_stop ends and reaps it once no run is in flight. */
void rl__ext_guard_start(rl__ext_ctx *c);
void rl__ext_guard_stop(rl__ext_ctx *c);

/* Kills and reaps the processes that left a finished run's process group
 * and came back to this process, their subreaper, as orphans. */
void rl__ext_reap_orphans(rl__ext_ctx *c);

/* Reaps the members of a killed run's group that became this process's
 * children. */
void rl__ext_reap_group(pid_t pgid);

/* Kills and reaps every run in flight without counting them. */
void rl__ext_abandon_all(rl__ext_ctx *c);

/* Whether process pid is in the group of a hung run kept stopped. */
int rl__ext_is_hung(const rl__ext_ctx *c, pid_t pid);

/* Frees slot s of a run that has ended and been reaped: closes its
 * descriptors, takes its group off the guard's list, counts it out. */
void rl__ext_release_slot(rl__ext_ctx *c, rl__ext_slot *s);

/* keep_hung: stops the whole process group of the timed-out run in s
 * (SIGSTOP), notes it among c's hung groups, and says so with its pids
 * through the note callback. Returns 0, or -ENOMEM (the group is then
 * killed as without keep_hung). */
int rl__ext_keep_hung(rl__ext_ctx *c, rl__ext_slot *s);

/* What came back to this process as an orphan and is not in a hung
 * group kept stopped is killed and reaped; the end of a call. */
void rl__ext_reap_strays(rl__ext_ctx *c);

/* ---- failure logs (extlog.c) ---- */

/* Makes the failure directory dir if it is missing. Returns 0, or -errno
 * with rl_last_error set. */
int rl__ext_log_dir(const char *dir);

/* Writes DIR/run-K.log for the failing run in s: its number, the
 * command, the seed, how it ended (msg) and its output. Returns 0, or
 * -errno after telling the note callback. */
int rl__ext_log_failure(rl__ext_ctx *c, const rl__ext_slot *s, const char *msg);

#endif /* RL_EXTSTRESS_INTERNAL_H */
