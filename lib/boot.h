/* boot.h: how a child of racelab boots: its record in the arena, the spawn
 * of /proc/self/exe, and the one exit path of a child; not installed. */
#ifndef RL_BOOT_H
#define RL_BOOT_H

#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

/* The environment variables that make a fresh copy of the program a
 * spawned child or a fork server instead of running main. */
#define RL__BOOT_ENV "RACELAB_BOOT"
#define RL__SERVER_ENV "RACELAB_FORKSERVER"

#define RL__REC_PATH 1024
#define RL__REC_FDS 252 /* SCM_RIGHTS carries at most 253 with the arena's */
#define RL__REC_MSG 256
#define RL__BUILD_ID_MAX 64

enum { RL__BOOT_WAIT, RL__BOOT_OK, RL__BOOT_FAILED };

/* Per-child record in the arena: how a spawned or forkserver child finds
 * its entry, and the words its parent waits on (boot, exit). */
typedef struct {
    uint32_t word;    /* published when status or exiting changes */
    uint32_t status;  /* RL__BOOT_* */
    uint32_t exiting; /* set by rl__exit just before _exit */
    int err;          /* negative errno of a failed boot */
    int actor;        /* its actor id in a controlled execution, or -1 */
    pid_t parent;     /* the expected parent, for the daemon race check */
    int daemon;
    void *arg;
    uintptr_t offset; /* of the entry from its object's load address */
    uint32_t build_id_len;
    unsigned char build_id[RL__BUILD_ID_MAX];
    char comm[16];
    char object[RL__REC_PATH]; /* "" = the main program */
    int nfds;
    int fds[RL__REC_FDS];
    char msg[RL__REC_MSG];
} rl__boot_rec;

/* Returns a pidfd for pid (close-on-exec by nature), or -1 with errno. */
int rl__pidfd_open(pid_t pid);

/* Sets the comm of the calling process (NULL or "" leave it).
 * Async-signal-safe. */
void rl__set_comm(const char *name);

/* Reads a decimal or hexadecimal field of an environment value, ending at
 * sep, into *out. Returns the position after sep, or NULL when the field
 * is malformed. */
const char *rl__parse_field(const char *s, int base, char sep,
                            unsigned long long *out);

/* Makes the record of a child in the arena. Returns NULL when the arena
 * is full. */
rl__boot_rec *rl__boot_new_rec(void);

/* Fills the fields of a child's record that every start method shares:
 * arg, actor (-1 outside an execution), daemon, the caller as the parent
 * and the child's comm (the caller's own when comm is NULL). With spawned
 * (spawn and forkserver), also records which loaded object holds fn, at
 * which offset and with which build id, so that a fresh copy of the
 * program finds it, and the connection ends the caller holds, which the
 * child receives. Returns 0, -EINVAL when fn lies in no loaded object or
 * -EMFILE when there are too many connection ends (with rl_last_error). */
int rl__boot_fill(rl__boot_rec *rec, rl_entry fn, void *arg, int actor,
                  int daemon, const char *comm, int spawned);

/* In a child just made by fork: makes it a daemon child when daemon is
 * set (it ends with parent, the process that forked it), makes rec (may be
 * NULL) its own record and reports through it that it booted. */
void rl__boot_become(rl__boot_rec *rec, int daemon, pid_t parent);

/* Whether the calling process is a daemon child, which may not start
 * children of its own. */
int rl__boot_is_daemon(void);

/* In the child of any fork: it is not the racelab child its parent was,
 * so it forgets its parent's record. */
void rl__boot_forget_self(void);

/* Reports a failed boot through rec (err, and the reason already written
 * into rec->msg) and ends the child with 127. */
_Noreturn void rl__boot_fail(rl__boot_rec *rec, int err);

/* Maps the arena behind fd anywhere, to report through the record at
 * rec_addr (an address in the arena expected at addr) why it could not be
 * mapped at its own address, and ends the child with 127. */
_Noreturn void rl__boot_unmapped(int fd, void *addr, size_t size,
                                 uintptr_t rec_addr, int err);

/* Makes the calling process the child described by rec (mapped already):
 * adopts its connections, resolves its entry, runs it and exits. parent
 * is the process whose death must end a daemon. */
_Noreturn void rl__boot_run(rl__boot_rec *rec, pid_t parent);

/* Registers the function rl__exit calls once the actor has ended and
 * before the process does (one at a time: the fork server's client uses
 * it to wait for its server). */
void rl__boot_on_exit(void (*fn)(void));

/* posix_spawn of /proc/self/exe with the environment of this process, less
 * racelab's own variables, plus extra ("NAME=value"), and the descriptors
 * in keep[] open under the same numbers. With clean, the child starts with
 * no blocked signals and the default action for the usual ones. Returns 0
 * and *pid, or a negative errno (with rl_last_error). */
int rl__spawn_self(pid_t *pid, char *extra, const int *keep, int nkeep,
                   int clean);

#endif /* RL_BOOT_H */
