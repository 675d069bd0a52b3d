/* execute.c: the supervisor of one execution: root actor in its own
 * process group, subreaper, wall-clock timeout, verdict, and nothing left
 * behind. */
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "strategy.h"

static int status_code(int status)
{
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* 1 when the actor's record says its process ends by design: it passed
 * its exit point (the record is written before the process can end), or
 * another actor killed it on purpose. */
static int ended_by_design(rl__actor *a)
{
    return __atomic_load_n(&a->state, __ATOMIC_ACQUIRE) == RL__ACTOR_FINISHED ||
           __atomic_load_n(&a->killed, __ATOMIC_ACQUIRE);
}

/* An actor whose process is gone (or a zombie) although its record never
 * reached the exit path: it died outside the scenario's control. The
 * kernel is asked first and the record read afterwards; read the other
 * way round, an actor that ends between the two reads would look dead.
 * Returns its id (and its wait status in *status), or -1. */
static int find_dead_actor(rl__sched *S, int *status)
{
    int n = __atomic_load_n(&S->nactors, __ATOMIC_ACQUIRE);
    for (int i = 1; i < n && i < RL__MAX_ACTORS; i++) {
        rl__actor *a = &S->actors[i];
        pid_t pid = __atomic_load_n(&a->pid, __ATOMIC_ACQUIRE);
        if (pid <= 0 || ended_by_design(a))
            continue;
        int st = 0;
        char c = rl__proc_state(pid, &st);
        if ((c == 0 || c == 'Z' || c == 'X') && !ended_by_design(a)) {
            *status = st;
            return i;
        }
    }
    return -1;
}

/* The time a process spent runnable but waiting for a CPU, in seconds
 * (the second field of /proc/PID/schedstat); 0 when unknown. */
static double runqueue_wait(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    unsigned long long run = 0, wait = 0;
    int n = fscanf(f, "%llu %llu", &run, &wait);
    fclose(f);
    return n == 2 ? (double)wait / 1e9 : 0;
}

/* A controlled execution times out when the token holder stays between
 * two schedule points for longer than the timeout: only then does
 * something block outside the scheduler's control. Time the holder spent
 * waiting for a CPU does not count, so a loaded machine slows an
 * execution down but never turns it into a TIMEOUT, and a long execution
 * that keeps making steps is bounded by its step limit instead. */
typedef struct {
    long steps;    /* the step count last seen */
    int holder;    /* the token holder then */
    double since;  /* when the count last changed */
    pid_t pid;     /* the holder's pid, for its run-queue time */
    double waited; /* its run-queue time when the count last changed */
} stall;

static double stall_deadline(rl__sched *S, stall *st, double now,
                             double timeout)
{
    long steps = __atomic_load_n(&S->nsteps, __ATOMIC_ACQUIRE);
    int holder = __atomic_load_n(&S->current, __ATOMIC_ACQUIRE);
    if (steps != st->steps || holder != st->holder) {
        st->steps = steps;
        st->holder = holder;
        st->since = now;
        st->pid =
            holder >= 0 && holder < RL__MAX_ACTORS
                ? __atomic_load_n(&S->actors[holder].pid, __ATOMIC_ACQUIRE)
                : 0;
        st->waited = st->pid > 0 ? runqueue_wait(st->pid) : 0;
        return now + timeout;
    }
    if (now >= st->since + timeout && st->pid > 0) {
        /* Stalled for the whole timeout by the wall clock: take off what
         * the holder spent waiting for a CPU since it last moved. */
        double w = runqueue_wait(st->pid);
        if (w > st->waited) {
            st->since += w - st->waited;
            st->waited = w;
        }
    }
    return st->since + timeout;
}

/* Cheaper on the way to every execution's root than reading its
 * /proc/PID/stat, which makes the kernel build the new process's /proc
 * entries. */
unsigned long long rl__ticks_now(void)
{
    struct timespec ts;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
        return 0;
    /* The kernel takes the start time from the boot-time clock, in
     * ticks: so does this. */
    unsigned long long per_tick = 1000000000ULL / (unsigned long long)hz;
    return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
           (unsigned long long)ts.tv_nsec / per_tick;
}

void rl__reap_children(int (*spare)(pid_t pid, void *ctx), void *ctx)
{
    /* Without any child, alive or not, there is no stray: one wait call
     * instead of a /proc scan after every execution. */
    siginfo_t info;
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 &&
        errno == ECHILD)
        return;
    pid_t mine = getpgrp();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    for (int round = 0; round < 2000; round++) {
        FILE *f = fopen(path, "re");
        if (!f)
            return;
        int found = 0, pid;
        while (fscanf(f, "%d", &pid) == 1) {
            pid_t g = getpgid(pid);
            if (g < 0 || g == mine || (spare && spare(pid, ctx)))
                continue;
            found = 1;
            kill(pid, SIGKILL);
            waitpid(pid, NULL, WNOHANG);
        }
        fclose(f);
        if (!found)
            return;
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
}

/* Spares a child started before the execution (ctx: its root's start). */
static int started_before(pid_t pid, void *ctx)
{
    return rl__proc_start_ticks(pid) < *(unsigned long long *)ctx;
}

void rl__reap_strays(unsigned long long root_start)
{
    rl__reap_children(started_before, &root_start);
}

/* Reaps what it can of the group without waiting. Returns 1 once the group
 * is empty and reaped. */
static int reap_group(pid_t root)
{
    for (;;) {
        int st;
        pid_t w;
        while ((w = waitpid(-root, &st, WNOHANG)) > 0)
            ;
        if (w < 0 && errno == EINTR)
            continue;
        return w < 0 && errno == ECHILD && kill(-root, 0) < 0 && errno == ESRCH;
    }
}

int rl__cli_ignores_sigpipe;

/* Kills what is left of the execution and reaps it before the next one
 * starts (a scenario may bind a fixed port or lock a fixed file): the
 * root's process group, whose orphans come back to us (the supervisor is a
 * subreaper), then any stray that left the group. */
static void clean_up(pid_t root, unsigned long long root_start)
{
    for (;;) {
        kill(-root, SIGKILL);
        if (reap_group(root))
            break;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    rl__reap_strays(root_start);
}

void rl__execute_forget(void)
{
    rl__sched_detach();
    rl__arena_forget_exec();
}

/* Sets up the scheduler of one execution in the arena: the strategy and
 * its seed, the forced prefix, PCT's priorities and change points. Returns
 * 0 with *out set, or a negative errno (the arena back to the caller's
 * own, the detail in rl_last_error()). */
static int setup_scheduler(const rl__exec_params *p, rl__sched **out)
{
    int err = rl__arena_use_exec();
    if (err < 0)
        return err;
    /* The trace lives in the arena: a step bound it cannot hold is bad
     * input, not a crash. */
    long fits = (long)(rl__arena_size() / 4 / sizeof(rl__step));
    if (p->max_steps > fits) {
        rl__arena_use_own();
        return rl__fail(-EINVAL,
                        "max_steps %ld does not fit the arena: at most %ld "
                        "(RACELAB_ARENA_SIZE makes the arena larger)",
                        p->max_steps, fits);
    }
    rl__sched *S = rl__sched_setup(p->mode, p->max_steps);
    if (!S) {
        rl__arena_use_own();
        return rl__fail(-ENOMEM, "no room for the scheduler: %s",
                        rl_last_error());
    }
    rl__sched_config c = {
        .strategy = p->strategy,
        .seed = p->seed,
        .noise = p->noise,
        .prefix = p->prefix,
        .nprefix = p->nprefix,
        .pct_depth = p->pct_depth > 0 ? p->pct_depth : (int)rl__default.depth,
        .pct_length = p->pct_length,
        .stop_at = p->mode == RL__MODE_CONTROLLED && p->on_stop ? p->stop_at
                                                               : 0,
    };
    if (rl__strategy_configure(S, &c) < 0) {
        rl__sched_detach();
        rl__arena_use_own();
        return -ENOMEM;
    }
    *out = S;
    return 0;
}

/* Forks the root actor, which runs the scenario's body and never returns
 * here. In the supervisor, returns the root's pid with *root_start (its
 * start time) and *pidfd (-1 when pidfds are missing) set, or -1 with
 * errno set when the fork failed. */
static pid_t start_root(const rl_scenario *sc, const rl__exec_params *p,
                        int cpu, unsigned long long *root_start, int *pidfd)
{
    rl__process_prepare();
    rl__flush_stdio();
    pid_t supervisor = getpid();
    *root_start = rl__ticks_now();
    pid_t root = fork();
    if (root < 0)
        return root;
    if (root == 0) {
        /* Only one actor of a controlled execution runs at a time: on one
         * CPU, every hand-over is a local context switch instead of a
         * wake-up of another, possibly idle, CPU. Children inherit it. */
        /* Made in line: each C library wrapper would be one more page of
         * code for every root to fault in. */
        if (p->mode == RL__MODE_CONTROLLED && cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            rl__sys(SYS_sched_setaffinity, 0, (long)sizeof set, (long)&set, 0,
                    0, 0);
        }
        rl__sys(SYS_setpgid, 0, 0, 0, 0, 0, 0);
        rl__sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0);
        if (rl__sys(SYS_getppid, 0, 0, 0, 0, 0, 0) != supervisor)
            _exit(127);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        if (rl__cli_ignores_sigpipe)
            signal(SIGPIPE, SIG_DFL);
        /* The scenario runs in the caller's locale, not the C locale
         * rl_main formats in. */
        uselocale(LC_GLOBAL_LOCALE);
        rl__sched_root_enter(getpid());
        sc->body();
        rl__exit(0);
    }
    setpgid(root, root);
    *pidfd = (int)syscall(SYS_pidfd_open, root, 0);
    return root;
}

/* The outcome of a root actor that could not be forked (errno e): a
 * verdict of ERROR in r when the process limit is the cause, so that the
 * other scenarios go on, else a negative errno. The scheduler is already
 * detached. */
static int fork_failed(int e, rl__exec_result *r)
{
    if (e == EAGAIN) {
        /* The scenario cannot run here: its verdict, not an internal
         * error, so that the other scenarios go on and the reports
         * say which one. */
        struct rlimit lim;
        long n =
            getrlimit(RLIMIT_NPROC, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY
                ? (long)lim.rlim_cur
                : -1;
        r->verdict = RL_ERROR;
        snprintf(r->message, sizeof r->message,
                 "cannot fork the root actor: the process limit "
                 "(RLIMIT_NPROC %ld, ulimit -u; or the system's pid or "
                 "thread limit) is reached",
                 n);
        return 0;
    }
    return rl__fail(-e, "fork of the root actor: %s", strerror(e));
}

/* Waits for the execution to end: the scheduler says it is done, the stop
 * flag is raised, the timeout passes, or an actor dies outside its exit
 * path. Reaps the root and the orphans that come back on the way, and
 * records in f how the processes ended and in *hold who held the token
 * last. Kills nothing. */
static void supervise(rl__sched *S, const rl__exec_params *p, pid_t root,
                      int pidfd, double t0, double timeout, stall *hold,
                      rl__exec_facts *f)
{
    double deadline = t0 + timeout;
    int root_status = 0, root_reaped = 0, timed_out = 0;
    int dead_actor = -1, dead_status = 0, interrupted = 0;
    for (;;) {
        if (__atomic_load_n(&S->done, __ATOMIC_ACQUIRE))
            break;
        if (p->stop && *p->stop) {
            interrupted = 1;
            break;
        }
        /* Time spent stopped for a debugger is no stall. */
        if (rl__stop_poll(S, p, root))
            hold->steps = -1;
        double now = rl__now();
        if (p->mode == RL__MODE_CONTROLLED)
            deadline = stall_deadline(S, hold, now, timeout);
        if (now >= deadline) {
            timed_out = 1;
            break;
        }
        double slice = deadline - now < 0.02 ? deadline - now : 0.02;
        if (!root_reaped && pidfd >= 0) {
            struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
            poll(&pfd, 1, (int)(slice * 1000) + 1);
        } else {
            rl__futex_wait(&S->done, 0, now + slice);
        }
        /* Reap the root and any orphan that came back to us. */
        for (;;) {
            int st;
            pid_t w = waitpid(-root, &st, WNOHANG);
            if (w <= 0)
                break;
            if (w == root) {
                root_status = st;
                root_reaped = 1;
            }
            /* The kernel's word first, then the record: an actor marks
             * itself finished before its process can end. */
            int id = rl__sched_find_pid(w);
            if (id >= 0 && !ended_by_design(&S->actors[id]) && dead_actor < 0) {
                dead_actor = id;
                dead_status = st;
            }
        }
        if (root_reaped && p->mode == RL__MODE_STRESS) {
            /* Stress has no token: the run is over once the root and
             * every orphan are gone. */
            if (waitpid(-root, NULL, WNOHANG) < 0 && errno == ECHILD)
                break;
        }
        if (dead_actor >= 0)
            break;
        /* An actor that died without the exit path (SIGKILL from
         * outside the scenario) is a crash too. */
        if (p->mode == RL__MODE_CONTROLLED)
            dead_actor = find_dead_actor(S, &dead_status);
        if (dead_actor >= 0)
            break;
    }
    f->interrupted = interrupted;
    f->timed_out = timed_out;
    f->dead_actor = dead_actor;
    f->dead_status = dead_status;
    f->root_reaped = root_reaped;
    f->root_status = root_status;
}

/* Copies what the execution left in the arena into r: the actor table,
 * the trace of a controlled execution, the checked value. A copy that
 * cannot be allocated is left out (NULL, count 0). */
static void copy_out(const rl__sched *S, const rl__exec_params *p,
                     rl__exec_result *r)
{
    r->nactors = S->nactors;
    r->actors = malloc(sizeof(rl__actor) * (size_t)S->nactors);
    if (r->actors)
        memcpy(r->actors, S->actors, sizeof(rl__actor) * (size_t)S->nactors);
    if (p->mode == RL__MODE_CONTROLLED && S->nsteps > 0) {
        r->nsteps = S->nsteps;
        r->steps = malloc(sizeof(rl__step) * (size_t)S->nsteps);
        if (r->steps)
            memcpy(r->steps, S->steps, sizeof(rl__step) * (size_t)S->nsteps);
        else
            r->nsteps = 0;
    }
    r->preemptions = S->preemptions;
    r->has_value = S->has_checked_value;
    r->value = S->checked_value;
}

int rl__exec_verdict(const rl__exec_facts *f, char *msg, size_t size)
{
    msg[0] = '\0';
    int v = f->sched_verdict;
    if (f->crash_actor >= 0 && (v == RL_PASS || v == RL_FAIL)) {
        /* A crash in the middle of a check still is a crash. */
        if (v == RL_PASS) {
            int id = f->crash_actor;
            v = RL_CRASH;
            snprintf(msg, size, "actor %d (%s, pid %d) died by signal %s", id,
                     f->actors[id].name, f->crash_pid,
                     sigabbrev_np(f->crash_signal)
                         ? sigabbrev_np(f->crash_signal)
                         : "?");
        }
    }
    if (f->interrupted && v == RL_PASS) {
        v = RL_ERROR;
        snprintf(msg, size, "interrupted");
    } else if (v != RL_PASS && msg[0] == '\0') {
        snprintf(msg, size, "%s", f->sched_message);
    } else if (v == RL_PASS && f->timed_out) {
        v = RL_TIMEOUT;
        if (f->mode == RL__MODE_CONTROLLED) {
            int c = f->holder;
            snprintf(msg, size,
                     "actor %d (%s, pid %d) held the token for %.1f s "
                     "without reaching a schedule point (the %.1f s "
                     "timeout): it was blocked outside the scheduler's "
                     "control",
                     c, f->actors[c].name, f->actors[c].pid, f->held_for,
                     f->timeout);
        } else {
            snprintf(msg, size,
                     "the execution passed its %.1f s wall-clock timeout",
                     f->timeout);
        }
    } else if (v == RL_PASS && f->dead_actor >= 0) {
        v = RL_CRASH;
        int code = status_code(f->dead_status);
        const rl__actor *a = &f->actors[f->dead_actor];
        if (code < 0)
            snprintf(msg, size,
                     "actor %d (%s, pid %d) was killed by signal SIG%s",
                     f->dead_actor, a->name, a->pid,
                     sigabbrev_np(-code) ? sigabbrev_np(-code) : "?");
        else
            snprintf(msg, size,
                     "actor %d (%s, pid %d) died without reaching its exit "
                     "(status %d)",
                     f->dead_actor, a->name, a->pid, code);
    } else if (v == RL_PASS && f->root_reaped && status_code(f->root_status)) {
        int code = status_code(f->root_status);
        v = RL_CRASH;
        if (code < 0)
            snprintf(msg, size, "actor 0 (main) died by signal SIG%s",
                     sigabbrev_np(-code) ? sigabbrev_np(-code) : "?");
        else
            snprintf(msg, size, "actor 0 (main) exited with status %d", code);
    }
    if (v == RL_PASS) {
        for (int i = 1; i < f->nactors; i++) {
            const rl__actor *a = &f->actors[i];
            if (a->state == RL__ACTOR_FINISHED && a->exit_code != 0 &&
                !a->killed && !a->observed && a->exit_code != 127) {
                v = RL_CRASH;
                snprintf(msg, size,
                         "actor %d (%s, pid %d) exited with status %d and "
                         "nobody looked at it",
                         i, a->name, a->pid, a->exit_code);
                break;
            }
        }
    }
    return v;
}

/* The diagnosis of a RACE: the first race of r, both accesses. */
static void race_message(rl__exec_result *r)
{
    const rl__race *x = &r->races[0];
    char a[160], b[160];
    const rl__race_access *acc[2] = {&x->first, &x->second};
    char *out[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        int id = acc[i]->actor;
        const char *name =
            r->actors && id >= 0 && id < r->nactors ? r->actors[id].name : NULL;
        rl__race_access_describe(acc[i], name, out[i], sizeof a);
    }
    snprintf(r->message, sizeof r->message,
             "data race: %s and %s, unordered by happens-before (steps %ld "
             "and %ld)",
             a, b, x->first.step, x->second.step);
    if (r->nraces > 1) {
        size_t used = strlen(r->message);
        snprintf(r->message + used, sizeof r->message - used,
                 "; %ld races in all", r->nraces);
    }
}

/* Looks for the data races of a controlled execution's trace; with
 * RL__RACES_FAIL one makes a passing execution RACE. An analysis that
 * runs out of memory finds nothing. */
static void find_races(const rl__exec_params *p, rl__exec_result *r)
{
    if (p->mode != RL__MODE_CONTROLLED || p->races == RL__RACES_OFF ||
        r->nsteps <= 0 || !r->steps)
        return;
    rl__race *found;
    long n = rl__races_find(r->steps, r->nsteps, &found);
    if (n <= 0)
        return;
    r->races = found;
    r->nraces = n;
    if (r->verdict == RL_PASS && p->races == RL__RACES_FAIL) {
        r->verdict = RL_RACE;
        race_message(r);
    }
}

int rl__execute(const rl_scenario *sc, const rl__exec_params *p,
                rl__exec_result *r)
{
    memset(r, 0, sizeof *r);
    /* Orphans of the execution come back to the supervisor. Set on every
     * execution: a caller may have turned it off in between. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    rl__sched *S = NULL;
    int err = setup_scheduler(p, &S);
    if (err < 0)
        return err;
    double timeout = p->timeout > 0 ? p->timeout : rl__default.timeout;
    double t0 = rl__now();
    int cpu = p->cpu > 0 ? p->cpu - 1 : p->cpu == 0 ? sched_getcpu() : -1;
    unsigned long long root_start;
    int pidfd = -1;
    pid_t root = start_root(sc, p, cpu, &root_start, &pidfd);
    if (root < 0) {
        int e = errno;
        rl__sched_detach();
        rl__arena_use_own();
        return fork_failed(e, r);
    }
    /* A new process has waited for no CPU yet. */
    stall hold = {.steps = 0, .holder = 0, .since = t0, .pid = root};
    rl__exec_facts f;
    memset(&f, 0, sizeof f);
    supervise(S, p, root, pidfd, t0, timeout, &hold, &f);
    /* Snapshot before the processes die: a timed-out execution's actors
     * are asked for their stacks first. */
    if (f.timed_out)
        rl__sched_collect_stacks();
    r->duration = rl__now() - t0;
    clean_up(root, root_start);
    if (pidfd >= 0)
        close(pidfd);
    copy_out(S, p, r);
    f.mode = p->mode;
    f.sched_verdict = __atomic_load_n(&S->verdict, __ATOMIC_ACQUIRE);
    f.sched_message = S->message;
    f.crash_actor = S->crash_actor;
    f.crash_pid = S->crash_pid;
    f.crash_signal = S->crash_signal;
    f.actors = S->actors;
    f.nactors = S->nactors;
    f.holder = hold.holder;
    f.held_for = rl__now() - hold.since;
    f.timeout = timeout;
    r->verdict = rl__exec_verdict(&f, r->message, sizeof r->message);
    find_races(p, r);
    rl__sched_detach();
    rl__arena_use_own();
    return 0;
}

void rl__exec_format_stacks(rl__exec_result *r)
{
    int fold = !getenv("RACELAB_FULL_STACKS");
    /* The steps of instrumented code know their place by address only. */
    rl__tsan_symbolize(r->steps, r->nsteps);
    rl__races_refresh(r->races, r->nraces, r->steps, r->nsteps);
    if (r->verdict == RL_RACE && r->nraces > 0)
        race_message(r);
    for (int i = 0; i < r->nactors; i++) {
        rl__actor *a = &r->actors[i];
        if (!a->stack[0] || a->stack[0] == '#')
            continue;
        char out[sizeof a->stack];
        rl__stack_format(a->stack, out, sizeof out, fold);
        memcpy(a->stack, out, sizeof out);
    }
}

void rl__exec_result_free(rl__exec_result *r)
{
    free(r->steps);
    free(r->actors);
    free(r->races);
    r->steps = NULL;
    r->actors = NULL;
    r->races = NULL;
    r->nraces = 0;
    r->nsteps = 0;
    r->nactors = 0;
}
