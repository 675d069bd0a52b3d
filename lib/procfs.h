/* procfs.h: what /proc tells about another process; not installed. */
#ifndef RL_PROCFS_H
#define RL_PROCFS_H

#include <sys/types.h>

/* Whether process pid runs, for a process this one cannot wait for: a
 * zombie (or one being reaped) counts as ended, which kill(pid, 0) cannot
 * tell. Falls back to kill when /proc cannot say. */
int rl__proc_alive(pid_t pid);

/* 1 when process pid has ended as far as the kernel goes: a zombie, being
 * reaped, or gone (its /proc entry cannot be opened); 0 while it runs. */
int rl__proc_ended(pid_t pid);

/* True when process pid is gone, a zombie, or inside exit (PF_EXITING):
 * a lock it holds will be handed over by the kernel without a release. */
int rl__proc_exiting(pid_t pid);

/* 1 when sig will end pid: SIGKILL always, another signal when pid
 * neither catches nor ignores it (from /proc/PID/status). */
int rl__proc_signal_ends(pid_t pid, int sig);

#endif /* RL_PROCFS_H */
