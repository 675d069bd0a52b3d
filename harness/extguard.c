/* extguard.c: what outlives a run of racelab stress -- CMD: the guard
 * that kills the runs' groups if racelab is killed outright, the orphans
 * that left a run's group, and the runs abandoned at a stop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "extstress_internal.h"

/* The guard: a small child that waits for this process to end and, if it
 * ends while runs are in flight (killed outright: SIGKILL leaves no
 * chance to clean up), kills their process groups, whose members would
 * otherwise run on under init. groups is shared memory holding the
 * leaders of the runs in flight (0: a free slot). Never returns. */
static _Noreturn void guard_main(pid_t *groups, int n, pid_t owner)
{
    rl__sys(SYS_setpgid, 0, 0, 0, 0, 0, 0);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_NAME, (unsigned long)"racelab-guard", 0, 0, 0);
    int fd = (int)syscall(SYS_pidfd_open, owner, 0);
    /* Nothing of the owner's is held open (a pipe's reader would wait
     * for this process too). */
    for (int i = 0; i < 1024; i++)
        if (i != fd)
            close(i);
    while (getppid() == owner) {
        if (fd >= 0) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, -1) > 0)
                break;
        } else {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < n; i++) {
            pid_t g = __atomic_load_n(&groups[i], __ATOMIC_ACQUIRE);
            if (g > 0)
                kill(-g, SIGKILL);
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    _exit(0);
}

/* Starts the guard of this call's runs. Without one (no memory, no
 * process left) the runs go on unguarded. */
void rl__ext_guard_start(rl__ext_ctx *c)
{
    size_t size = sizeof *c->groups * (size_t)c->nslots;
    pid_t *g = mmap(NULL, size, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g == MAP_FAILED)
        return;
    pid_t owner = getpid();
    rl__flush_stdio();
    pid_t pid = fork();
    if (pid == 0)
        guard_main(g, c->nslots, owner);
    if (pid < 0) {
        munmap(g, size);
        return;
    }
    c->groups = g;
    c->guard = pid;
}

/* Ends the guard once no run is in flight, and reaps it. */
void rl__ext_guard_stop(rl__ext_ctx *c)
{
    if (c->guard > 0) {
        kill(c->guard, SIGKILL);
        while (waitpid(c->guard, NULL, 0) < 0 && errno == EINTR)
            ;
        c->guard = 0;
    }
    if (c->groups)
        munmap(c->groups, sizeof *c->groups * (size_t)c->nslots);
    c->groups = NULL;
}

/* Kills and reaps the processes that left a finished run's process group
 * (setsid, setpgid) and came back to this process, their subreaper, as
 * orphans, so that they do not pile up until the end. An orphan is a
 * child that is neither a run's leader, nor in our own group, nor the
 * guard. It belongs to a finished run when it started before every run
 * still in flight began (and after the first run began); one that might
 * belong to a run in flight is left for the end of that run. */
void rl__ext_reap_orphans(rl__ext_ctx *c)
{
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    unsigned long long oldest = ~0ULL;
    for (int i = 0; i < c->nslots; i++)
        if (c->slots[i].pid && c->slots[i].start_ticks < oldest)
            oldest = c->slots[i].start_ticks;
    pid_t mine = getpgrp();
    char *p = buf, *end;
    for (long v; (v = strtol(p, &end, 10)), end != p; p = end) {
        pid_t pid = (pid_t)v;
        int known = pid == c->guard;
        for (int i = 0; i < c->nslots && !known; i++)
            known = c->slots[i].pid == pid;
        if (known || getpgid(pid) == mine)
            continue;
        unsigned long long t = rl__proc_start_ticks(pid);
        if (t == 0 || t < c->began || t >= oldest)
            continue;
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
            ;
    }
}

/* Reaps the members of a killed run's group that became this process's
 * children (it is a subreaper while it runs commands), so that no zombie
 * is left behind. The group's SIGKILL makes this wait short. */
void rl__ext_reap_group(pid_t pgid)
{
    for (;;) {
        pid_t w = waitpid(-pgid, NULL, __WALL);
        if (w < 0 && errno != EINTR)
            return;
    }
}

/* Kills and reaps every run in flight without counting them. */
void rl__ext_abandon_all(rl__ext_ctx *c)
{
    for (int i = 0; i < c->nslots; i++) {
        rl__ext_slot *s = &c->slots[i];
        if (!s->pid)
            continue;
        kill(-s->pid, SIGKILL);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        rl__ext_reap_group(s->pid);
        if (s->out >= 0)
            close(s->out);
        if (s->err >= 0)
            close(s->err);
        if (s->pidfd >= 0)
            close(s->pidfd);
        s->out = s->err = s->pidfd = -1;
        if (c->groups)
            __atomic_store_n(&c->groups[i], 0, __ATOMIC_RELEASE);
        s->pid = 0;
        c->inflight--;
    }
}
