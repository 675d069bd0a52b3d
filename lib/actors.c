/* actors.c: the actor table of an execution's control block (sched.c
 * runs the actors; this keeps their records): new actors, their pids,
 * lookups by pid. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scheduler.h"
#include "strategy.h"

int rl__sched_waits_for_children(const rl__sched *S, int i)
{
    for (int j = 0; j < S->nactors; j++)
        if (S->actors[j].parent == i &&
            S->actors[j].method == RL_START_FORKSERVER &&
            S->actors[j].state != RL__ACTOR_FINISHED)
            return 1;
    return 0;
}

int rl__sched_actor_lingers(pid_t pid)
{
    int id = rl__sched_find_pid(pid);
    return id >= 0 && rl__sched_waits_for_children(rl__sched_cur(), id);
}

int rl__sched_actor_new(const char *name, int method, int *err)
{
    *err = 0;
    rl__sched *S = rl__sched_get();
    int me = rl__sched_self();
    if (!S || me < 0)
        return -1;
    if (S->nactors >= RL__MAX_ACTORS) {
        *err = rl__fail(-EAGAIN, "an execution holds at most %d processes",
                        RL__MAX_ACTORS);
        return -1;
    }
    int id = __atomic_fetch_add(&S->nactors, 1, __ATOMIC_ACQ_REL);
    if (id >= RL__MAX_ACTORS) {
        __atomic_fetch_sub(&S->nactors, 1, __ATOMIC_ACQ_REL);
        *err = rl__fail(-EAGAIN, "an execution holds at most %d processes",
                        RL__MAX_ACTORS);
        return -1;
    }
    rl__actor *a = &S->actors[id];
    memset(a, 0, sizeof *a);
    a->parent = me;
    a->method = method;
    a->state = RL__ACTOR_RUNNABLE;
    a->pending.op = RL_OP_START;
    a->pending.actor = id;
    rl__copy_str(a->pending.label, sizeof a->pending.label, "begin");
    if (name && *name)
        rl__copy_str(a->name, sizeof a->name, name);
    else
        snprintf(a->name, sizeof a->name, "actor-%d", id);
    rl__strategy_new_actor(S, a);
    return id;
}

void rl__sched_actor_pid(int id, pid_t pid)
{
    rl__sched *S = rl__sched_cur();
    if (S && id >= 0 && id < S->nactors)
        S->actors[id].pid = pid;
}

void rl__sched_actor_daemon(int id)
{
    rl__sched *S = rl__sched_cur();
    if (S && id >= 0 && id < S->nactors)
        S->actors[id].daemon = 1;
}

void rl__sched_actor_failed(int id)
{
    rl__sched *S = rl__sched_cur();
    if (S && id >= 0 && id < S->nactors) {
        S->actors[id].state = RL__ACTOR_FINISHED;
        S->actors[id].exit_code = 127;
    }
}

int rl__sched_find_pid(pid_t pid)
{
    rl__sched *S = rl__sched_get();
    if (!S)
        return -1;
    for (int i = 0; i < S->nactors; i++)
        if (S->actors[i].pid == pid && !S->actors[i].thread)
            return i;
    return -1;
}

int rl__sched_process_of(int id)
{
    rl__sched *S = rl__sched_get();
    if (!S || id < 0 || id >= S->nactors)
        return -1;
    return S->actors[id].thread ? rl__sched_find_pid(S->actors[id].pid) : id;
}

void rl__sched_actor_thread(int id)
{
    rl__sched *S = rl__sched_cur();
    if (S && id >= 0 && id < S->nactors) {
        S->actors[id].thread = 1;
        S->actors[id].pid = rl__pid();
    }
}

int rl__sched_actor_finished(pid_t pid)
{
    int id = rl__sched_find_pid(pid);
    return id >= 0 && rl__sched_get()->actors[id].state == RL__ACTOR_FINISHED;
}

void rl__sched_exit_observed(pid_t pid)
{
    int id = rl__sched_find_pid(pid);
    if (id >= 0)
        rl__sched_get()->actors[id].observed = 1;
}

