/* catalogue.h: small helpers the catalogue scenarios share (temp files
 * named after the pid, a timed nap that is a schedule point). */
#ifndef RL_CATALOGUE_H
#define RL_CATALOGUE_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "racelab.h"

/* Writes /tmp/racelab-<tag>-<pid> into buf, and removes every
 * /tmp/racelab-<tag>-<pid> whose process is gone (left behind by an
 * execution the supervisor killed) as well as our own. */
static inline void cat_tmp_path(char *buf, size_t cap, const char *tag)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "racelab-%s-", tag);
    size_t plen = strlen(prefix);
    DIR *d = opendir("/tmp");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, prefix, plen) != 0)
                continue;
            long pid = strtol(e->d_name + plen, NULL, 10);
            if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
                char stale[300];
                snprintf(stale, sizeof stale, "/tmp/%s", e->d_name);
                unlink(stale);
            }
        }
        closedir(d);
    }
    snprintf(buf, cap, "/tmp/%s%d", prefix, (int)getpid());
    unlink(buf);
}

/* A short pause between two rounds of a polling loop: a wait with a
 * timeout on a semaphore nobody releases. Under the scheduler it is a
 * blocking point that times out only when no other actor can run, so a
 * polling loop lets the others make progress instead of spinning. */
static inline void cat_nap(rl_sem *never)
{
    rl_sem_acquire(never, 0.001);
}

#endif /* RL_CATALOGUE_H */
