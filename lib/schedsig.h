/* schedsig.h: the signals of an execution's actors (schedsig.c): stack
 * requests, crashes, and the end of the parent; not installed. */
#ifndef RL_SCHEDSIG_H
#define RL_SCHEDSIG_H

#include "scheduler.h"

/* The thread id of the calling thread's actor (0: none). */
pid_t rl__sched_self_tid(void);

/* In a process that becomes actor id of s: installs the actor's signal
 * handlers (kept by a fork of the process that installed them:
 * forked_from is the parent's pid then, else 0) and asks the kernel for
 * a signal when the parent ends; ends the execution's processes at once
 * when the supervisor is already gone. */
void rl__sched_signals_enter(rl__sched *s, int id, pid_t forked_from);

#endif /* RL_SCHEDSIG_H */
