/* forkserver.h: the fork server, a fresh copy of the program spawned once
 * per client process that forks children on request; not installed. */
#ifndef RL_FORKSERVER_H
#define RL_FORKSERVER_H

#include <sys/types.h>

#include "boot.h"

/* Has this process's fork server (started on first use, restarted once if
 * it died) fork a child that boots from rec, which is filled already;
 * fds[0] is the arena's descriptor and fds[1..rec->nfds] the connection
 * ends the child receives. daemon: the child ends with the server's
 * client. Returns 0 with the child's pid and the generation of the server
 * that forked it, or a negative errno (with rl_last_error). Thread-safe. */
int rl__fs_launch(rl__boot_rec *rec, const int *fds, int daemon, pid_t *pid,
                  unsigned *gen);

/* The exit of child pid started by the server of generation gen, without
 * blocking: 1 and its wait status in *status when it ended, 0 while it
 * runs, -ECHILD (without rl_last_error) when that server died and the
 * status is lost. Thread-safe. */
int rl__fs_poll_exit(pid_t pid, unsigned gen, int *status);

/* Waits up to ms milliseconds (-1: forever) for news from the server: a
 * child's exit or the server's death; a signal ends the wait early.
 * Returns 0, or a negative errno (with rl_last_error) when polling fails. */
int rl__fs_wait(int ms);

/* Drops this process's connection to its server without waiting: for a
 * forked child, which must not use its parent's server. */
void rl__fs_forget(void);

#endif /* RL_FORKSERVER_H */
