/* stopat.c: a replay stopped at a given step (racelab replay --stop-at):
 * every process of the execution held still where a debugger can attach,
 * until whoever asked for the stop lets it go on. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Whether process pid is held still as far as the kernel goes: stopped
 * by a signal, by a tracer, or no longer running at all. */
static int held(pid_t pid)
{
    char st = rl__proc_state(pid, NULL);
    return st == 'T' || st == 't' || st == 'Z' || st == 'X' || st == 0;
}

/* Sends sig to the execution's process group and to every actor that has
 * not ended and left the group: once to each, so that a debugger that
 * attaches sees one stop. */
static void signal_all(const rl__sched *S, pid_t root, int sig)
{
    kill(-root, sig);
    for (int i = 0; i < S->nactors; i++) {
        pid_t pid = __atomic_load_n(&S->actors[i].pid, __ATOMIC_ACQUIRE);
        if (pid > 0 && S->actors[i].state != RL__ACTOR_FINISHED &&
            getpgid(pid) != root)
            kill(pid, sig);
    }
}

int rl__stop_poll(rl__sched *S, const rl__exec_params *p, pid_t root)
{
    if (!p->stop_at || !p->on_stop ||
        !__atomic_load_n(&S->stop_reached, __ATOMIC_ACQUIRE) ||
        __atomic_load_n(&S->stop_go, __ATOMIC_ACQUIRE))
        return 0;
    if (!p->stop_parked)
        signal_all(S, root, SIGSTOP);
    rl__stop_info info;
    memset(&info, 0, sizeof info);
    info.step = p->stop_at - 1;
    info.holder = S->current;
    info.next = info.step < S->nprefix ? S->prefix[info.step] : -1;
    info.nactors = S->nactors;
    for (int i = 0; i < S->nactors; i++) {
        const rl__actor *a = &S->actors[i];
        memcpy(info.actors[i].name, a->name, sizeof info.actors[i].name);
        info.actors[i].name[sizeof info.actors[i].name - 1] = '\0';
        info.actors[i].pid = a->pid;
        info.actors[i].finished = a->state == RL__ACTOR_FINISHED;
        /* SIGSTOP cannot be caught or blocked: the kernel shows the stop
         * as soon as the process is next on a CPU. */
        while (!p->stop_parked && !info.actors[i].finished && a->pid > 0 &&
               !held(a->pid)) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    p->on_stop(&info, p->stop_ctx);
    __atomic_store_n(&S->stop_go, 1, __ATOMIC_RELEASE);
    rl__futex_wake(&S->stop_go, INT32_MAX);
    if (!p->stop_parked)
        signal_all(S, root, SIGCONT);
    return 1;
}
