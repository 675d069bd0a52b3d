/* intercept.h: what the files of libracelab-intercept.so share: the real
 * functions behind the wrappers, the execution's table in the arena, and
 * this process's table of pipe descriptors. Not installed. */
#ifndef RL_INTERCEPT_H
#define RL_INTERCEPT_H

#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "../lib/scheduler.h"

/* The variable through which a process started by posix_spawn learns
 * its actor id (spawn.c, core.c). */
#define RL__IC_ACTOR_ENV "RACELAB_INTERCEPT_ACTOR"

/* Pipes and synchronisation objects one execution can hold at once (the
 * latter a power of two: a hash table, at most 7/8 full). */
#define RL__IC_PIPES 512
#define RL__IC_SYNCS 8192

/* A pipe the command made, by the inode both its ends share, or a socket
 * pair by the inodes of its two ends: the word whose changes wake the
 * actors waiting to read or write it. The word's address is the key of
 * every step on it. */
typedef struct {
    unsigned long ino;
    unsigned long ino2; /* a socket pair's second end; 0 for a pipe */
    uint32_t word;
} rl__ic_pipe;

/* A semaphore, mutex or condition variable, by its key (its address,
 * the same in every process that inherited its mapping) and owner (0 for
 * a process-shared object; the process's pid for a private one, which
 * another process may have at the same address): the word its waiters
 * block on. The entry's address is the key of its steps. */
typedef struct {
    const void *key;
    pid_t owner;
    uint32_t word;
} rl__ic_sync;

/* The execution's table, in the arena (root RL__ROOT_INTERCEPT). Only the
 * token holder of a controlled execution changes it, so it needs no lock.
 * reaped[i]: actor i's process was reaped by its parent (wait, waitpid).
 * exits: published by every actor that ends, for the waits of parents. */
typedef struct {
    int npipes;
    rl__ic_pipe pipes[RL__IC_PIPES];
    int nsyncs;
    rl__ic_sync syncs[RL__IC_SYNCS];
    uint8_t reaped[RL__MAX_ACTORS];
    uint32_t exits;
    uint32_t pipes_word; /* published with every pipe's word (poll.c) */
    /* virtual time (clock.c): how far the execution's clocks are ahead
     * of the kernel's, in ns */
    int64_t clock_ns;
} rl__ic_table;

/* The execution's table; NULL when this process is no actor of one. */
extern rl__ic_table *rl__ic;

/* 1 when the calling thread is an actor of a controlled execution and
 * not already inside a wrapper: the wrappers then make schedule points;
 * otherwise they only call the C library. */
int rl__ic_on(void);

/* 1 while the calling thread is inside a wrapper. */
int rl__ic_inside(void);

/* Marks the calling thread as inside a wrapper (depth 1) or out of it
 * (0): the C library and racelab's own code that a wrapper calls reach
 * the plain functions. */
void rl__ic_enter(void);
void rl__ic_leave(void);

/* The next definition of a symbol after this library's (dlsym
 * RTLD_NEXT). Exits with status 127 and a message when the C library
 * lacks it, which no working program would survive either. */
void *rl__ic_next(const char *name);

/* Declares `real_NAME`, a pointer to the C library's NAME (the type of
 * its declaration), resolved on first use. */
#define RL__IC_REAL(name)                                                      \
    static __typeof__(name) *real_##name;                                      \
    if (!real_##name)                                                          \
    real_##name = (__typeof__(name) *)rl__ic_next(#name)

/* The entry of the pipe or socket pair with this inode, made (with ino2
 * the other end's inode, 0 for a pipe) when create is set and there is
 * room; NULL otherwise. */
rl__ic_pipe *rl__ic_pipe_of(unsigned long ino, unsigned long ino2, int create);

/* The entry of the synchronisation object with this key and owner (see
 * rl__ic_sync), made on first use; NULL when the table is full. */
rl__ic_sync *rl__ic_sync_of(const void *key, pid_t owner);

/* The live actors among this process's threads (1 when the program made
 * none): while it is 1, an object private to the process changes only
 * under its one thread, and operations on it that need not wait are no
 * schedule points (thread.c). */
int rl__ic_threads(void);

/* In the child of a fork: the one thread that forked is its only one. */
void rl__ic_threads_forked(void);

/* Forgets this process's pipe descriptors and learns them again from
 * /proc/self/fd: after an exec, the descriptors the process inherited. */
void rl__ic_fds_scan(void);

/* Wakes the waiters of every pipe of which this process holds an end
 * with close-on-exec (an exec is about to close them). Returns how many
 * ends there are. */
int rl__ic_pipes_cloexec(void);

/* The actor that ends: the root's non-zero status becomes the FAIL
 * verdict, then the actor's exit step. Called once per process, by the
 * exit wrappers. */
void rl__ic_exit_step(int code);

/* ---- poll, select and epoll (poll.c) over the pipes (pipe.c) ---- */

/* The execution's pipe or socket pair of this process's descriptor fd,
 * NULL when it is none; *end (when end is not NULL) receives what fd is:
 * RL__IC_END_READ or RL__IC_END_WRITE of a pipe, RL__IC_END_SOCKET. */
enum { RL__IC_END_READ, RL__IC_END_WRITE, RL__IC_END_SOCKET };
rl__ic_pipe *rl__ic_pipe_fd(int fd, int *end);

/* Publishes a change of pipe p: wakes the actors waiting on it and those
 * waiting in poll, select or epoll on any pipe (rl__ic->pipes_word). */
void rl__ic_pipe_changed(rl__ic_pipe *p);

/* Virtual time (clock.c). rl__ic_clock_now: clock c as the program
 * reads it, in ns. rl__ic_clock_reach: moves the execution's clocks on
 * until c reads at least when (a sleep or a timed wait that timed out
 * reached its deadline). rl__ic_ts_ns: ts in ns. */
int64_t rl__ic_clock_now(clockid_t c);
void rl__ic_clock_reach(clockid_t c, int64_t when);
int64_t rl__ic_ts_ns(const struct timespec *ts);

#endif /* RL_INTERCEPT_H */
