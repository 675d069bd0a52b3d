/* schedsig.c: the signals of an execution's actors: a stack request
 * answered from a handler, a crash recorded before it kills, and the end
 * of the parent that tells an actor the supervisor is gone. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "schedsig.h"

#define STACK_SIGNAL (SIGRTMIN + 4)

/* Answers a stack request: unwinds itself into its record. */
static void on_stack_request(int sig)
{
    (void)sig;
    int saved = errno;
    rl__sched *s = rl__sched_cur();
    int me = rl__sched_self();
    if (s && me >= 0 &&
        rl__sys(SYS_gettid, 0, 0, 0, 0, 0, 0) == rl__sched_self_tid()) {
        /* No symbol lookup in a handler that may have interrupted the
         * loader: the names are found afterwards. */
        rl__stack_capture(s->actors[me].stack, sizeof s->actors[me].stack, 0);
        __atomic_add_fetch(&s->stack_replies, 1, __ATOMIC_RELEASE);
        rl__futex_wake(&s->stack_replies, 1 << 30);
    }
    errno = saved;
}

void rl__sched_collect_stacks(void)
{
    rl__sched *S = rl__sched_get();
    int me = rl__sched_self();
    if (!S)
        return;
    uint32_t base = __atomic_load_n(&S->stack_replies, __ATOMIC_ACQUIRE);
    uint32_t asked = 0;
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (i == me || a->pid <= 0 || a->state == RL__ACTOR_FINISHED)
            continue;
        a->stack[0] = '\0';
        if (rl__sys(SYS_tgkill, a->pid, a->thread ? a->tid : a->pid,
                    STACK_SIGNAL, 0, 0, 0) == 0)
            asked++;
    }
    double deadline = rl__now() + 1.0;
    for (;;) {
        uint32_t now = __atomic_load_n(&S->stack_replies, __ATOMIC_ACQUIRE);
        if (now - base >= asked || rl__expired(deadline))
            break;
        rl__futex_wait(&S->stack_replies, now, deadline);
    }
    if (me >= 0)
        return;
    /* The supervisor (an ancestor of every actor, so allowed to trace
     * them) unwinds those that did not answer: signals blocked, or stuck
     * where a handler cannot run. */
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (a->pid <= 0 || a->state == RL__ACTOR_FINISHED || a->stack[0] ||
            (a->thread && a->tid <= 0))
            continue;
        rl__stack_capture_remote(a->thread ? a->tid : a->pid, a->stack,
                                 sizeof a->stack);
    }
}

/* The process that installed the handlers this one has: a fork child
 * inherits them with this value. */
static pid_t handlers_of;

#define PARENT_DEATH_SIGNAL (SIGRTMIN + 5)

/* Kills the execution's processes, the caller's group and the caller. */
static void end_all(rl__sched *s)
{
    if (s->actors[0].pid > 0)
        rl__sys(SYS_kill, -s->actors[0].pid, SIGKILL, 0, 0, 0, 0);
    rl__sys(SYS_kill, 0, SIGKILL, 0, 0, 0, 0);
    rl__sys(SYS_kill, rl__sys(SYS_getpid, 0, 0, 0, 0, 0, 0), SIGKILL, 0, 0, 0,
            0);
}

static pid_t parent_then; /* the parent process when the actor began */

/* The kernel sends this when the actor's parent ends (PR_SET_PDEATHSIG).
 * A parent that ended while the supervisor lives made this actor the
 * supervisor's child (it is a subreaper): nothing to do. So does the end
 * of the thread that forked it while its process lives on (a thread of a
 * command). Otherwise the supervisor is gone, killed outright, and nobody
 * will end the execution: this actor ends its whole process group,
 * itself included, and each of its own children gets the same signal in
 * turn. */
static void on_parent_death(int sig)
{
    (void)sig;
    rl__sched *s = rl__sched_cur();
    pid_t pp = (pid_t)rl__sys(SYS_getppid, 0, 0, 0, 0, 0, 0);
    if (!s || pp == s->supervisor || pp == parent_then)
        return;
    end_all(s);
}

void rl__sched_signals_enter(rl__sched *s, int id, pid_t forked_from)
{
    parent_then = (pid_t)rl__sys(SYS_getppid, 0, 0, 0, 0, 0, 0);
    /* A fork of a process that installed them has them already: six
     * system calls fewer for every process an execution starts. */
    if (forked_from == 0 || handlers_of != forked_from) {
        rl__sched_crash_handlers();
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stack_request;
        sa.sa_flags = SA_RESTART;
        sigaction(STACK_SIGNAL, &sa, NULL);
        sa.sa_handler = on_parent_death;
        sigaction(PARENT_DEATH_SIGNAL, &sa, NULL);
        handlers_of = rl__pid();
    }
    /* Every actor, the root included, hears of its parent's death: a
     * chain the kernel runs down the tree, so that the actors of a
     * supervisor killed outright end within moments, whether they wait
     * for the token, block in the kernel or run freely (stress). The
     * root's SIGKILL for this becomes the signal that also kills the
     * group. A parent already gone before this point is handled alike.
     * A daemon keeps its SIGTERM: it ends with its parent anyway. */
    if (!s->actors[id].daemon) {
        rl__sys(SYS_prctl, PR_SET_PDEATHSIG, PARENT_DEATH_SIGNAL, 0, 0, 0, 0);
        pid_t pp = (pid_t)rl__sys(SYS_getppid, 0, 0, 0, 0, 0, 0);
        if (pp != s->supervisor && (forked_from == 0 || pp != forked_from) &&
            kill(s->supervisor, 0) < 0 && errno == ESRCH)
            end_all(s);
    }
}

static void on_crash(int sig)
{
    rl__sched *s = rl__sched_cur();
    int me = rl__sched_self();
    if (s && me >= 0) {
        int none = -1;
        if (__atomic_compare_exchange_n(&s->crash_actor, &none, me, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            s->crash_signal = sig;
            s->crash_pid = (pid_t)syscall(SYS_getpid);
            s->crash_step = s->nsteps - 1;
            rl__stack_capture(s->actors[me].stack, sizeof s->actors[me].stack,
                              0);
        }
        __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
        rl__futex_wake(&s->done, 1 << 30);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void rl__sched_crash_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_NODEFER | SA_RESETHAND;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

