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

/* The state letter of process pid from /proc/PID/stat ('Z' a zombie,
 * 'T' stopped; 0 when it does not exist) and, for a zombie, its wait
 * status in *status (when not NULL). */
char rl__proc_state(pid_t pid, int *status);

/* The start time of process pid in clock ticks since boot (field 22 of
 * /proc/PID/stat), 0 when it cannot be read. */
unsigned long long rl__proc_start_ticks(pid_t pid);

/* 1 when sig will end pid: SIGKILL always, another signal when pid
 * neither catches nor ignores it (from /proc/PID/status). */
int rl__proc_signal_ends(pid_t pid, int sig);

#endif /* RL_PROCFS_H */
