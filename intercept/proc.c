/* proc.c: the processes of a command under the scheduler: a fork makes
 * its child a new actor, and wait, waitpid, wait4 and waitid join a child
 * actor in the scheduler before they reap it for real. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/procfs.h"
#include "intercept.h"

pid_t fork(void)
{
    RL__IC_REAL(fork);
    if (!rl__ic_on())
        return real_fork();
    rl__ic_enter();
    rl__sched *s = rl__sched_get();
    int me = rl__sched_self();
    /* The parent's side of a start: it takes the next actor id. */
    rl__point_key(RL_OP_START, NULL, NULL, -1, "fork");
    int err;
    int id = rl__sched_actor_new(s->actors[me].name, RL_START_FORK, &err);
    if (id < 0) {
        rl__sched_verdict(RL_ERROR,
                          "an execution holds at most %d processes; the "
                          "fork of actor %d (%s) is one too many",
                          RL__MAX_ACTORS, me, s->actors[me].name);
        rl__sched_halt();
    }
    pid_t parent = rl__pid();
    pid_t pid = real_fork();
    if (pid < 0) {
        int e = errno;
        if (e == EAGAIN)
            rl__fork_limit_verdict(s->actors[me].name);
        rl__sched_actor_failed(id);
        rl__ic_leave();
        errno = e;
        return -1;
    }
    if (pid == 0) {
        /* Waits for the token: the parent holds it until its next
         * schedule point. */
        rl__ic_threads_forked();
        rl__sched_child_enter(id, parent);
        rl__ic_leave();
        return 0;
    }
    rl__sched_actor_pid(id, pid);
    rl__ic_leave();
    return pid;
}

/* A vfork is a fork here: the child of a correct program only execs or
 * ends, which a copy of the parent does the same way. */
pid_t vfork(void)
{
    return fork();
}

/* The wait reason handed to rl__block (see pipe.c). */
static char reason[RL__REASON_LEN];

/* Whether child actor j can be reaped now: finished in the interleaving. */
static int ended(const rl__sched *s, int j)
{
    return s->actors[j].state == RL__ACTOR_FINISHED && !rl__ic->reaped[j];
}

/* The join of a wait for pid (> 0: that child; otherwise any child) by
 * the calling actor: a schedule point, then a wait in the scheduler until
 * such a child actor has finished. Returns the id of the child actor to
 * reap, -1 when the wait is none of the scheduler's (no such child actor:
 * the C library answers), or -2 for nohang when none has finished. */
/* Whether actor j is a child process of the process of actor me (made by
 * any of its threads). */
static int child_of(const rl__sched *s, int j, int me)
{
    return !s->actors[j].thread && !rl__ic->reaped[j] &&
           rl__sched_process_of(s->actors[j].parent) == rl__sched_process_of(me);
}

static int join(pid_t pid, int nohang, const char *what)
{
    rl__sched *s = rl__sched_get();
    int me = rl__sched_self();
    int target = -1, children = 0;
    if (pid > 0) {
        target = rl__sched_find_pid(pid);
        if (target < 0 || !child_of(s, target, me))
            return -1;
        children = 1;
    } else {
        for (int j = 1; j < s->nactors; j++)
            children += child_of(s, j, me);
        if (children == 0)
            return -1;
    }
    rl__point_key(RL_OP_JOIN, NULL, NULL, target >= 0 ? target + 1 : 0, what);
    for (;;) {
        uint32_t seen = __atomic_load_n(&rl__ic->exits, __ATOMIC_ACQUIRE);
        if (target >= 0 && ended(s, target))
            return target;
        for (int j = 1; target < 0 && j < s->nactors; j++)
            if (child_of(s, j, me) && ended(s, j))
                return j;
        if (nohang) {
            /* A look at the others' state without a wait. */
            rl__sched_step_global();
            return -2;
        }
        if (target >= 0)
            snprintf(reason, sizeof reason,
                     "%s: waiting for actor %d (%s, pid %d) to exit", what,
                     target, s->actors[target].name, s->actors[target].pid);
        else
            snprintf(reason, sizeof reason,
                     "%s: waiting for any of its %d children to exit", what,
                     children);
        /* An actor's end wakes every waiting actor to look again. */
        rl__block(&rl__ic->exits, &rl__ic->exits, seen, -1, reason);
    }
}

/* After the real call reaped child actor j (or looked at it, nowait). */
static void reaped(int j, int nowait)
{
    rl__sched *s = rl__sched_get();
    rl__sched_exit_observed(s->actors[j].pid);
    if (!nowait)
        rl__ic->reaped[j] = 1;
}

/* The join of a wait, or -1 / -2 as join says, outside any wrapper. */
static int join_outside(pid_t pid, int options, const char *what)
{
    if (!rl__ic_on())
        return -1;
    rl__ic_enter();
    int j = join(pid, options & WNOHANG, what);
    rl__ic_leave();
    return j;
}

pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
    RL__IC_REAL(wait4);
    int j = join_outside(pid, options, "wait4");
    if (j == -1)
        return real_wait4(pid, status, options, ru);
    if (j == -2)
        return 0;
    rl__sched *s = rl__sched_get();
    pid_t r = real_wait4(s->actors[j].pid, status, options & ~WNOHANG, ru);
    if (r > 0)
        reaped(j, 0);
    return r;
}

pid_t waitpid(pid_t pid, int *status, int options)
{
    RL__IC_REAL(waitpid);
    int j = join_outside(pid, options, "waitpid");
    if (j == -1)
        return real_waitpid(pid, status, options);
    if (j == -2)
        return 0;
    rl__sched *s = rl__sched_get();
    pid_t r = real_waitpid(s->actors[j].pid, status, options & ~WNOHANG);
    if (r > 0)
        reaped(j, 0);
    return r;
}

pid_t wait3(int *status, int options, struct rusage *ru)
{
    return wait4(-1, status, options, ru);
}

pid_t wait(int *status)
{
    return waitpid(-1, status, 0);
}

int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
    RL__IC_REAL(waitid);
    int j = -1;
    if ((options & WEXITED) && (type == P_PID || type == P_ALL))
        j = join_outside(type == P_PID ? (pid_t)id : -1, options, "waitid");
    if (j == -1)
        return real_waitid(type, id, info, options);
    if (j == -2) {
        /* WNOHANG with no child ready: si_pid 0, as the kernel says. */
        if (info)
            info->si_pid = 0;
        return 0;
    }
    rl__sched *s = rl__sched_get();
    int r =
        real_waitid(P_PID, (id_t)s->actors[j].pid, info, options & ~WNOHANG);
    if (r == 0)
        reaped(j, options & WNOWAIT);
    return r;
}

/* ---- exec ---- */

/* Before an exec: the pipe ends the exec will close (close-on-exec) wake
 * their waiters now. They run only after this actor's next schedule
 * point, in the new program, when the ends are closed. */
static void exec_prepare(void)
{
    if (!rl__ic_on())
        return;
    rl__ic_enter();
    if (rl__ic_pipes_cloexec() > 0)
        rl__sched_step_global(); /* the step before closes them too */
    rl__ic_leave();
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    RL__IC_REAL(execve);
    exec_prepare();
    return real_execve(path, argv, envp);
}

int execv(const char *path, char *const argv[])
{
    RL__IC_REAL(execv);
    exec_prepare();
    return real_execv(path, argv);
}

int execvp(const char *file, char *const argv[])
{
    RL__IC_REAL(execvp);
    exec_prepare();
    return real_execvp(file, argv);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
    RL__IC_REAL(execvpe);
    exec_prepare();
    return real_execvpe(file, argv, envp);
}

/* The arguments of execl, execlp and execle up to their NULL, into a
 * malloc'd array (NULL when out of memory); *envp gets the environment
 * that follows the NULL when with_env. */
static char **list_args(const char *arg0, va_list ap, int with_env,
                        char ***envp)
{
    va_list count;
    va_copy(count, ap);
    size_t n = 1;
    while (va_arg(count, char *))
        n++;
    va_end(count);
    char **argv = malloc((n + 1) * sizeof *argv);
    if (!argv)
        return NULL;
    argv[0] = (char *)arg0;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, char *);
    if (with_env)
        *envp = va_arg(ap, char **);
    return argv;
}

int execl(const char *path, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    char **argv = list_args(arg0, ap, 0, NULL);
    va_end(ap);
    if (!argv)
        return -1;
    int r = execv(path, argv);
    free(argv);
    return r;
}

int execlp(const char *file, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    char **argv = list_args(arg0, ap, 0, NULL);
    va_end(ap);
    if (!argv)
        return -1;
    int r = execvp(file, argv);
    free(argv);
    return r;
}

int execle(const char *path, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    char **envp = NULL;
    char **argv = list_args(arg0, ap, 1, &envp);
    va_end(ap);
    if (!argv)
        return -1;
    int r = execve(path, argv, envp);
    free(argv);
    return r;
}

/* ---- signals ---- */

/* Waits until process pid has ended (a zombie, not reaped): a process
 * that a signal ends does so at once, however long the kernel takes. */
static void wait_ended(pid_t pid)
{
    int fd = (int)rl__sys(SYS_pidfd_open, pid, 0, 0, 0, 0, 0);
    if (fd < 0)
        return;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        ;
    rl__sys(SYS_close, fd, 0, 0, 0, 0, 0);
}

int kill(pid_t pid, int sig)
{
    RL__IC_REAL(kill);
    if (pid <= 0 || !rl__ic_on())
        return real_kill(pid, sig);
    rl__sched *s = rl__sched_get();
    int id = rl__sched_find_pid(pid);
    if (id < 0 || id == rl__sched_self())
        return real_kill(pid, sig);
    rl__ic_enter();
    /* A yield step: the reduction takes it as touching everything. */
    char label[48];
    snprintf(label, sizeof label, "kill(%d, SIG%s)", (int)pid,
             sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
    rl__point(RL_OP_YIELD, NULL, label);
    rl__actor *a = &s->actors[id];
    int fatal =
        a->state != RL__ACTOR_FINISHED && rl__proc_signal_ends(pid, sig);
    /* Marked before the signal lands: the supervisor, which looks for
     * actors that died outside their exit path, must not find this one
     * dead first and call it a crash. */
    if (fatal)
        __atomic_store_n(&a->killed, 1, __ATOMIC_RELEASE);
    int r = real_kill(pid, sig);
    int e = errno;
    if (r < 0 && fatal)
        __atomic_store_n(&a->killed, 0, __ATOMIC_RELEASE);
    if (r == 0 && fatal) {
        /* Ended on purpose: its parent's wait sees the signal, and what
         * waited on it (its pipes' readers) may go on. */
        wait_ended(pid);
        rl__sched_actor_killed(pid, sig);
    }
    rl__ic_leave();
    errno = e;
    return r;
}
