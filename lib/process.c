/* process.c: the process API: handles of child processes started by fork,
 * by spawn (boot.c) or by a fork server (forkserver.c), and their start,
 * join, signals and exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot.h"
#include "forkserver.h"
#include "procfs.h"
#include "scheduler.h"

/* How long a launch waits for a spawned or forkserver child to report
 * that it booted: loading a large program on a loaded machine can take a
 * while, and a child that dies is noticed at once anyway. */
#define BOOT_TIMEOUT 120.0
/* Slice for waits that must also notice a child's death. */
#define SLICE 0.05

enum { ST_NEW, ST_RUNNING, ST_DONE, ST_LOST };

struct rl_process {
    rl_entry fn;
    void *arg;
    rl_start_method method;
    int daemon;
    int state;
    pid_t pid;
    pid_t owner;       /* the process that started it */
    int pidfd;         /* fork and spawn children, -1 otherwise */
    int code;          /* exit status or -signum once ST_DONE */
    unsigned gen;      /* forkserver generation that started it */
    int named;         /* the name came from the options */
    rl__boot_rec *rec; /* in the arena, NULL when there was no room (fork) */
    int actor;         /* actor id under the harness, -1 otherwise */
    char *name;
};

static unsigned long name_counter;

/* Turns a wait status into an exit code or -signum. */
static int status_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return -WTERMSIG(st);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Handles                                                             */
/* ------------------------------------------------------------------ */

int rl_process_new(rl_process **p, rl_entry fn, void *arg,
                   const rl_process_opts *opts)
{
    static const rl_process_opts defaults;
    if (!opts)
        opts = &defaults;
    if (!p)
        return rl__fail(-EINVAL, "rl_process_new: the handle pointer is "
                                 "NULL");
    if (!fn)
        return rl__fail(-EINVAL, "rl_process_new: the entry function is "
                                 "NULL");
    if ((unsigned)opts->method > RL_START_FORKSERVER)
        return rl__fail(-EINVAL, "rl_process_new: unknown start method %d",
                        (int)opts->method);
    if (opts->method != RL_START_FORK && arg && !rl__in_arena(arg))
        return rl__fail(-EINVAL,
                        "rl_process_new: with the %s start method, arg %p "
                        "must be NULL or memory from rl_shared_alloc: the "
                        "child is a fresh program that sees only the shared "
                        "arena; copy the data into rl_shared_alloc memory "
                        "and pass that",
                        opts->method == RL_START_SPAWN ? "spawn" : "forkserver",
                        arg);
    /* malloc and an assignment rather than calloc, whose call into
     * memset is two more pages of the C library for every root to fault
     * in. */
    static const rl_process zero;
    rl_process *h = malloc(sizeof *h);
    if (!h)
        return rl__fail(-ENOMEM, "rl_process_new: out of memory");
    *h = zero;
    if (opts->name) {
        size_t len = 0;
        while (opts->name[len])
            len++;
        h->name = malloc(len + 1);
        if (h->name)
            rl__append(h->name, len + 1, 0, opts->name);
        h->named = 1;
    } else {
        unsigned long n =
            __atomic_add_fetch(&name_counter, 1, __ATOMIC_RELAXED);
        /* Formatted by hand: every execution starts processes, and
         * printf's machinery is a measurable share of a start. */
        char buf[32];
        size_t at = rl__append(buf, sizeof buf, 0, "process-");
        at = rl__append_long(buf, sizeof buf, at, (long)n);
        h->name = malloc(at + 1);
        if (h->name)
            rl__append(h->name, at + 1, 0, buf);
    }
    if (!h->name) {
        free(h);
        return rl__fail(-ENOMEM, "rl_process_new: out of memory");
    }
    h->fn = fn;
    h->arg = arg;
    h->method = opts->method;
    h->daemon = opts->daemon != 0;
    h->state = ST_NEW;
    h->pidfd = -1;
    h->actor = -1;
    *p = h;
    return 0;
}

/* Fills the fields of a child's record that every start method shares,
 * and for spawn and forkserver where its entry lies and which connection
 * ends it receives. Returns 0 or a negative errno. */
static int fill_rec(rl_process *p, rl__boot_rec *rec, int explicit_name)
{
    return rl__boot_fill(rec, p->fn, p->arg, p->actor, p->daemon,
                         explicit_name ? p->name : NULL,
                         p->method != RL_START_FORK);
}

/* ------------------------------------------------------------------ */
/* Fork                                                                */
/* ------------------------------------------------------------------ */

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* In a child made by any fork: it is not the racelab child its parent was
 * (if any) and must not use its parent's fork server. */
static void atfork_child(void)
{
    rl__boot_forget_self();
    rl__fs_forget();
}

static int atfork_registered;

static void atfork_register(void)
{
    pthread_atfork(NULL, NULL, atfork_child);
    __atomic_store_n(&atfork_registered, 1, __ATOMIC_RELEASE);
}

void rl__process_prepare(void)
{
    if (!__atomic_load_n(&atfork_registered, __ATOMIC_ACQUIRE))
        pthread_once(&atfork_once, atfork_register);
    rl__pid();
}

static int launch_fork(rl_process *p, int explicit_name)
{
    /* The record only serves the controlled join: without room in the
     * arena the child runs all the same, except under the scheduler,
     * where a join without it would wait in the kernel holding the
     * token. */
    rl__boot_rec *rec = rl__arena_ensure() == 0 ? rl__boot_new_rec() : NULL;
    if (!rec && rl__sched_self() >= 0)
        return rl__fail(-ENOMEM,
                        "starting process %s: no room in the "
                        "shared arena for its record (%s)",
                        p->name, rl_last_error());
    if (rec)
        fill_rec(p, rec, explicit_name);
    pid_t parent = rl__pid();
    rl__flush_stdio();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        rl_shared_free(rec);
        return rl__fail(-e, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        if (explicit_name)
            rl__set_comm(p->name);
        rl__boot_become(rec, p->daemon, parent);
        rl__sched_child_enter(p->actor, parent);
        rl__exit(p->fn(p->arg));
    }
    p->pid = pid;
    p->rec = rec;
    p->pidfd = rl__pidfd_open(pid);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Waiting for a child to boot                                         */
/* ------------------------------------------------------------------ */

/* Whether a forkserver child already ended, without blocking: 1 (and
 * *code) when it did, 0 when it runs, -ECHILD when its server died (the
 * handle is then lost). */
static int server_child_ended(rl_process *p, int *code)
{
    int st;
    int r = rl__fs_poll_exit(p->pid, p->gen, &st);
    if (r == 1)
        *code = status_code(st);
    if (r == -ECHILD) {
        p->state = ST_LOST;
        return rl__fail(-ECHILD,
                        "the fork server that started process %s "
                        "(pid %d) died, so its exit status is lost",
                        p->name, (int)p->pid);
    }
    return r;
}

/* Whether a spawn or forkserver child already ended, without blocking:
 * 1 (and *code) when it did, 0 when it runs, negative on error. */
static int child_ended(rl_process *p, int *code)
{
    if (p->method == RL_START_FORKSERVER)
        return server_child_ended(p, code);
    int st = 0;
    long w;
    do
        w = rl__sys(SYS_wait4, p->pid, (long)&st, WNOHANG, 0, 0, 0);
    while (w == -EINTR);
    if (w < 0)
        return rl__fail((int)w, "waitpid(%d): %s", (int)p->pid,
                        strerror((int)-w));
    if (w == 0)
        return 0;
    *code = status_code(st);
    return 1;
}

/* Waits until a spawned or forkserver child reports that it booted.
 * Returns 0, or a negative errno once the child is gone (reaped). */
static int wait_boot(rl_process *p)
{
    rl__boot_rec *rec = p->rec;
    double deadline = rl__deadline(BOOT_TIMEOUT);
    for (;;) {
        uint32_t seen = __atomic_load_n(&rec->word, __ATOMIC_ACQUIRE);
        uint32_t st = __atomic_load_n(&rec->status, __ATOMIC_ACQUIRE);
        if (st == RL__BOOT_OK)
            return 0;
        if (st == RL__BOOT_FAILED)
            break;
        int code;
        int r = child_ended(p, &code);
        if (r < 0)
            return r;
        if (r > 0) {
            p->state = ST_DONE;
            p->code = code;
            return rl__fail(-ECHILD,
                            "process %s died before it booted "
                            "(exit code %d)",
                            p->name, code);
        }
        if (rl__expired(deadline)) {
            kill(p->pid, SIGKILL);
            break;
        }
        /* Booting is not an operation of the scenario: under a scheduler
         * the parent keeps the token while its child boots, so this is a
         * plain futex wait, not a schedule point. */
        double slice = rl__deadline(SLICE);
        rl__futex_wait(&rec->word, seen,
                       deadline >= 0 && deadline < slice ? deadline : slice);
    }
    /* It failed (and exits 127) or hung: reap it before reporting. */
    int code = 0;
    for (;;) {
        int r = child_ended(p, &code);
        if (r != 0)
            break;
        struct pollfd pf = {p->pidfd, POLLIN, 0};
        if (p->pidfd >= 0)
            poll(&pf, 1, 50);
        else
            usleep(10000);
    }
    p->state = ST_DONE;
    p->code = code;
    if (__atomic_load_n(&rec->status, __ATOMIC_ACQUIRE) == RL__BOOT_FAILED)
        return rl__fail(rec->err < 0 ? rec->err : -ENOEXEC,
                        "process %s could not boot: %s", p->name, rec->msg);
    return rl__fail(-ETIMEDOUT, "process %s did not boot within %.0f s",
                    p->name, BOOT_TIMEOUT);
}

/* ------------------------------------------------------------------ */
/* Spawn and fork server                                               */
/* ------------------------------------------------------------------ */

/* The record of a spawn or forkserver child, filled, and the descriptors
 * it must receive: the arena's first, then its connection ends. Returns 0
 * or a negative errno (nothing left allocated). */
static int prepare_rec(rl_process *p, int explicit_name, rl__boot_rec **out,
                       int fds[RL__REC_FDS + 1])
{
    int r = rl__arena_ensure();
    if (r < 0)
        return r;
    rl__boot_rec *rec = rl__boot_new_rec();
    if (!rec)
        return -ENOMEM;
    r = fill_rec(p, rec, explicit_name);
    if (r < 0) {
        rl_shared_free(rec);
        return r;
    }
    fds[0] = rl__arena_fd();
    memcpy(fds + 1, rec->fds, (size_t)rec->nfds * sizeof *fds);
    *out = rec;
    return 0;
}

static int launch_spawn(rl_process *p, int explicit_name)
{
    rl__boot_rec *rec;
    int keep[RL__REC_FDS + 1];
    int r = prepare_rec(p, explicit_name, &rec, keep);
    if (r < 0)
        return r;
    char extra[160];
    snprintf(extra, sizeof extra, RL__BOOT_ENV "=%d:%lx:%zx:%lx:%d", keep[0],
             (unsigned long)(uintptr_t)rl__arena_base(), rl__arena_size(),
             (unsigned long)(uintptr_t)rec, (int)rl__pid());
    pid_t pid;
    r = rl__spawn_self(&pid, extra, keep, rec->nfds + 1, 0);
    if (r < 0) {
        rl_shared_free(rec);
        return r;
    }
    p->pid = pid;
    p->rec = rec;
    p->pidfd = rl__pidfd_open(pid);
    r = wait_boot(p);
    if (r < 0) {
        if (p->pidfd >= 0)
            close(p->pidfd);
        p->pidfd = -1;
        p->rec = NULL;
        p->pid = 0;
        p->state = ST_NEW;
        rl_shared_free(rec);
    }
    return r;
}

static int launch_forkserver(rl_process *p, int explicit_name)
{
    rl__boot_rec *rec;
    int fds[RL__REC_FDS + 1];
    int r = prepare_rec(p, explicit_name, &rec, fds);
    if (r < 0)
        return r;
    pid_t pid;
    unsigned gen;
    r = rl__fs_launch(rec, fds, p->daemon, &pid, &gen);
    if (r < 0) {
        rl_shared_free(rec);
        return r;
    }
    p->pid = pid;
    p->rec = rec;
    p->gen = gen;
    r = wait_boot(p);
    if (r < 0) {
        /* A child lost with its server may still write to its record. */
        if (p->state == ST_DONE)
            rl_shared_free(rec);
        p->rec = NULL;
        p->pid = 0;
        p->state = ST_NEW;
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* The public calls                                                    */
/* ------------------------------------------------------------------ */

int rl_process_launch(rl_process *p)
{
    if (!p)
        return rl__fail(-EINVAL, "rl_process_launch: NULL handle");
    if (p->state != ST_NEW)
        return rl__fail(-EINVAL,
                        "rl_process_launch: process %s was "
                        "started already",
                        p->name);
    if (rl__boot_is_daemon())
        return rl__fail(-EPERM, "rl_process_launch: a daemon process may "
                                "not start children");
    /* Handles are private memory, whose addresses differ from run to run:
     * traces name the process instead. */
    /* target -1: the parent's side of a start, which takes the next
     * actor id (the child's own first step is also a START). */
    rl__point_key(RL_OP_START, NULL, NULL, -1, p->name);
    int serr;
    p->actor = rl__sched_actor_new(p->name, p->method, &serr);
    if (p->actor < 0 && serr < 0) {
        /* A limit of racelab's, not a bug of the scenario's. */
        if (serr == -EAGAIN)
            rl__sched_verdict(RL_ERROR,
                              "an execution holds at most %d processes; "
                              "process %s is one too many",
                              RL__MAX_ACTORS, p->name);
        return serr;
    }
    if (p->daemon)
        rl__sched_actor_daemon(p->actor);
    /* A default name is only a handle name: the child keeps its parent's
     * program name, so `ps` shows the program, not "exe". */
    int explicit_name = p->named;
    int r;
    if (!__atomic_load_n(&atfork_registered, __ATOMIC_ACQUIRE))
        pthread_once(&atfork_once, atfork_register);
    p->state = ST_RUNNING;
    p->owner = rl__pid();
    switch (p->method) {
    case RL_START_FORK:
        r = launch_fork(p, explicit_name);
        break;
    case RL_START_SPAWN:
        r = launch_spawn(p, explicit_name);
        break;
    default:
        r = launch_forkserver(p, explicit_name);
        break;
    }
    if (r < 0) {
        if (r == -EAGAIN)
            rl__fork_limit_verdict(p->name);
        rl__sched_actor_failed(p->actor);
        p->state = ST_NEW;
        p->pid = 0;
    } else {
        rl__sched_actor_pid(p->actor, p->pid);
    }
    return r;
}

int rl_process_start(rl_process **p, rl_entry fn, void *arg,
                     const rl_process_opts *opts)
{
    if (!p)
        return rl__fail(-EINVAL, "rl_process_start: the handle pointer is "
                                 "NULL");
    rl_process *h;
    int r = rl_process_new(&h, fn, arg, opts);
    if (r < 0)
        return r;
    r = rl_process_launch(h);
    if (r < 0) {
        free(h->name);
        free(h);
        return r;
    }
    *p = h;
    return 0;
}

/* Records the end of a child and releases what watched it. */
static void mark_done(rl_process *p, int code)
{
    p->state = ST_DONE;
    p->code = code;
    if (p->pidfd >= 0)
        rl__sys(SYS_close, p->pidfd, 0, 0, 0, 0, 0);
    p->pidfd = -1;
    rl_shared_free(p->rec);
    p->rec = NULL;
}

void rl__fork_limit_verdict(const char *what)
{
    struct rlimit rl;
    char limit[48] = "unlimited";
    if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snprintf(limit, sizeof limit, "%llu",
                 (unsigned long long)rl.rlim_cur);
    rl__sched_verdict(RL_ERROR,
                      "cannot fork %s: the process limit (RLIMIT_NPROC %s, "
                      "ulimit -u; or the system's pid or thread limit) is "
                      "reached",
                      what, limit);
}

/* Common checks of join, kill and friends. */
static int check_started(const rl_process *p, const char *what)
{
    if (!p)
        return rl__fail(-EINVAL, "%s: NULL handle", what);
    if (p->state == ST_NEW)
        return rl__fail(-EINVAL, "%s: process %s was never started", what,
                        p->name);
    return 0;
}

/* One non-blocking look at the child: 1 when it ended (and is recorded),
 * 0 while it runs, negative on error. */
static int poll_once(rl_process *p)
{
    int code;
    int r = child_ended(p, &code);
    if (r > 0)
        mark_done(p, code);
    return r;
}

/* Join of a fork or spawn child outside the scheduler's control. */
static int join_pidfd(rl_process *p, double deadline)
{
    for (;;) {
        int r = poll_once(p);
        if (r != 0)
            return r < 0 ? r : 0;
        if (rl__expired(deadline))
            return -ETIMEDOUT;
        if (p->pidfd >= 0) {
            struct pollfd pf = {p->pidfd, POLLIN, 0};
            r = poll(&pf, 1, rl__remaining_ms(deadline));
            if (r < 0 && errno != EINTR)
                return rl__fail(-errno, "poll on a pidfd: %s", strerror(errno));
            if (r == 0)
                return -ETIMEDOUT;
        } else {
            int ms = rl__remaining_ms(deadline);
            usleep(ms < 0 || ms > 10 ? 10000 : (useconds_t)ms * 1000);
        }
    }
}

/* Join of a forkserver child: statuses come over the server socket. */
static int join_server(rl_process *p, double deadline)
{
    for (;;) {
        int r = poll_once(p);
        if (r != 0)
            return r < 0 ? r : 0;
        if (rl__expired(deadline))
            return -ETIMEDOUT;
        /* Another thread may read our status into the kept list, so
         * look again at least every slice. */
        int ms = rl__remaining_ms(deadline);
        if (ms < 0 || ms > 100)
            ms = 100;
        r = rl__fs_wait(ms);
        if (r < 0)
            return r;
    }
}

/* Join under a scheduler: never blocks in the kernel except for the last
 * instant of a child that announced its exit. */
static int join_controlled(rl_process *p, double deadline)
{
    /* A try-once join (timeout 0) looks and returns: it is not a wait the
     * scheduler could make last. */
    int try_once = deadline >= 0 && rl__expired(deadline);
    for (;;) {
        rl__boot_rec *rec = p->rec;
        uint32_t seen = __atomic_load_n(&rec->word, __ATOMIC_ACQUIRE);
        int r;
        /* Only the scheduler's view counts here, never the kernel's: a
         * child may already be gone in the kernel while, in the
         * interleaving being run, it has not finished yet. The scheduler
         * marks the actor finished before it hands the token on; what is
         * left of it then is its last instant in the kernel. */
        /* A finished child that still waits for its fork server's
         * children (actors that need the token) is waited for through the
         * scheduler: their exits will wake this join. */
        if (rl__sched_actor_finished(p->pid) &&
            !rl__sched_actor_lingers(p->pid)) {
            /* Finished in the interleaving: the join succeeds, whatever
             * its timeout, so it waits for that last instant whatever the
             * timeout says (a process past its exit point ends at once). */
            if (p->method != RL_START_FORKSERVER) {
                /* Most often it has ended already. */
                int ended = poll_once(p);
                if (ended != 0)
                    return ended < 0 ? ended : 0;
            }
            /* No deadline: a process past its exit point always ends,
             * and on a loaded machine that may take a while. */
            double last = -1.0;
            return p->method == RL_START_FORKSERVER ? join_server(p, last)
                                                    : join_pidfd(p, last);
        }
        if (try_once)
            return -ETIMEDOUT;
        /* Put together by hand: a join that waits is in every execution,
         * and printf's code would be faulted into each root. */
        char reason[96];
        size_t at = rl__append(reason, sizeof reason, 0, "join: waiting for ");
        at = rl__append(reason, sizeof reason, at, p->name);
        at = rl__append(reason, sizeof reason, at, " (pid ");
        at = rl__append_long(reason, sizeof reason, at, p->pid);
        rl__append(reason, sizeof reason, at, ") to exit");
        r = rl__block(rec, &rec->word, seen, deadline, reason);
        if (r == -ETIMEDOUT)
            return r;
    }
}

int rl_process_join(rl_process *p, double timeout)
{
    int r = check_started(p, "rl_process_join");
    if (r < 0)
        return r;
    if (p->state == ST_DONE)
        return 0;
    if (p->state == ST_LOST)
        return rl__fail(-ECHILD,
                        "the fork server that started process %s "
                        "died, so its exit status is lost",
                        p->name);
    if (p->owner != rl__pid())
        return rl__fail(-ECHILD,
                        "rl_process_join: only the process that "
                        "started %s (pid %d) may join it",
                        p->name, (int)p->owner);
    rl__point_key(RL_OP_JOIN, NULL, NULL,
                  p->rec && p->actor >= 0 ? p->actor + 1 : 0, p->name);
    double deadline = rl__deadline(timeout);
    if (rl__controlled() && p->rec && p->actor >= 0)
        r = join_controlled(p, deadline);
    else if (p->method == RL_START_FORKSERVER)
        r = join_server(p, deadline);
    else
        r = join_pidfd(p, deadline);
    if (r == -ETIMEDOUT)
        return rl__fail(-ETIMEDOUT, "process %s (pid %d) is still running",
                        p->name, (int)p->pid);
    return r;
}

/* Under a scheduler the victim is parked waiting for the token: wait until
 * the kernel has really ended it (its robust locks released, its
 * descriptors closed), so that what follows does not depend on timing,
 * then tell the scheduler. A SIGTERM that a handler caught leaves it
 * alive after a second. */
static void wait_killed(rl_process *p, int sig)
{
    /* A signal that ends it ends it, however long the kernel takes on a
     * loaded machine: no deadline then. */
    int ends = rl__proc_signal_ends(p->pid, sig);
    double deadline = rl__deadline(ends ? -1.0 : 1.0);
    while (!rl__expired(deadline) && !rl__proc_ended(p->pid))
        usleep(500);
    if (!rl__expired(deadline))
        rl__sched_actor_killed(p->pid, sig);
}

/* Under a scheduler, records that the victim dies on purpose before the
 * signal lands: the supervisor looks for actors that died outside their
 * exit path and must not find this one dead first and call it a crash. */
static void mark_killed(rl_process *p, int sig)
{
    rl__sched *S = rl__sched_get();
    int id = rl__sched_find_pid(p->pid);
    if (S && id >= 0 && rl__proc_signal_ends(p->pid, sig))
        __atomic_store_n(&S->actors[id].killed, 1, __ATOMIC_RELEASE);
}

/* Sends sig unless the process already ended. */
static int send_signal(rl_process *p, int sig, const char *what)
{
    int r = check_started(p, what);
    if (r < 0)
        return r;
    if (p->state != ST_RUNNING)
        return 0;
    if (p->method == RL_START_FORKSERVER && p->owner == rl__pid() &&
        poll_once(p) == 1)
        return 0;
    /* The signal ends or disturbs another actor in the middle of this
     * step, whatever its op. */
    rl__sched_step_global();
    if (p->actor >= 0 && rl__controlled())
        mark_killed(p, sig);
    if (kill(p->pid, sig) < 0 && errno != ESRCH)
        return rl__fail(-errno, "%s: kill(%d): %s", what, (int)p->pid,
                        strerror(errno));
    if (p->actor >= 0 && rl__controlled())
        wait_killed(p, sig);
    else if (p->actor >= 0)
        rl__sched_actor_killed(p->pid, 0);
    return 0;
}

int rl_process_terminate(rl_process *p)
{
    return send_signal(p, SIGTERM, "rl_process_terminate");
}

int rl_process_kill(rl_process *p)
{
    return send_signal(p, SIGKILL, "rl_process_kill");
}

int rl_process_is_alive(rl_process *p)
{
    if (!p || p->state == ST_NEW || p->state == ST_DONE)
        return 0;
    rl__sched_step_global(); /* a look without a schedule point */
    if (p->actor >= 0 && rl__controlled())
        return !rl__sched_actor_finished(p->pid);
    /* A child lost with its server, or one this process did not start,
     * can only be probed. */
    if (p->state == ST_LOST || p->owner != rl__pid())
        return rl__proc_alive(p->pid);
    return poll_once(p) == 0;
}

int rl_process_exitcode(const rl_process *p, int *code)
{
    int r = check_started(p, "rl_process_exitcode");
    if (r < 0)
        return r;
    if (!code)
        return rl__fail(-EINVAL, "rl_process_exitcode: code is NULL");
    if (p->state == ST_LOST)
        return rl__fail(-ECHILD,
                        "the exit status of process %s is lost "
                        "with its fork server",
                        p->name);
    if (p->state != ST_DONE)
        return rl__fail(-EAGAIN, "process %s has not been joined", p->name);
    *code = p->code;
    rl__sched_exit_observed(p->pid);
    return 0;
}

pid_t rl_process_pid(const rl_process *p)
{
    return p ? p->pid : 0;
}

const char *rl_process_name(const rl_process *p)
{
    return p && p->name ? p->name : "";
}

int rl_process_free(rl_process *p)
{
    if (!p)
        return 0;
    if (p->state == ST_RUNNING && p->owner == rl__pid())
        return rl__fail(-EBUSY,
                        "rl_process_free: process %s (pid %d) runs "
                        "or has not been joined",
                        p->name, (int)p->pid);
    /* A copy inherited through fork leaves the record to its owner, and a
     * child lost with its server may still write to its record. */
    if (p->owner == rl__pid() && p->state != ST_LOST)
        rl_shared_free(p->rec);
    if (p->pidfd >= 0)
        close(p->pidfd);
    free(p->name);
    free(p);
    return 0;
}

