/* extguard.c: what outlives a run of racelab stress -- CMD: the guard
 * that kills the runs' groups if racelab is killed outright, the orphans
 * that left a run's group, and the runs abandoned at a stop. */
#include <ctype.h>
#include <dirent.h>
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

/* Whether process pid's environment holds the entry mark. */
static int has_mark(pid_t pid, const char *mark)
{
    char path[64], buf[65536];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    size_t len = strlen(mark);
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
        if (!strncmp(buf + i, mark, len + 1))
            return 1;
    return 0;
}

/* Kills the process group of every process whose environment says owner
 * started its run (RL__EXT_OWNER_VAR), and the process itself. */
static void kill_marked(pid_t owner)
{
    char mark[64];
    snprintf(mark, sizeof mark, RL__EXT_OWNER_VAR "%d", (int)owner);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    pid_t self = getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == self || !has_mark((pid_t)pid, mark))
            continue;
        pid_t g = getpgid((pid_t)pid);
        if (g > 1 && g != getpgrp())
            kill(-g, SIGKILL);
        kill((pid_t)pid, SIGKILL);
    }
    closedir(d);
}

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
        /* A run spawned in the instant the owner died was never written
         * down: it is found by the mark in its environment. */
        kill_marked(owner);
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
        if (known || getpgid(pid) == mine || rl__ext_is_hung(c, pid))
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
        rl__ext_release_slot(c, s);
    }
}

void rl__ext_release_slot(rl__ext_ctx *c, rl__ext_slot *s)
{
    if (s->out >= 0)
        close(s->out);
    if (s->err >= 0)
        close(s->err);
    if (s->pidfd >= 0)
        close(s->pidfd);
    s->out = s->err = s->pidfd = -1;
    if (c->groups)
        __atomic_store_n(&c->groups[s - c->slots], 0, __ATOMIC_RELEASE);
    s->pid = 0;
    c->inflight--;
}

int rl__ext_is_hung(const rl__ext_ctx *c, pid_t pid)
{
    if (!c->nhung)
        return 0;
    pid_t g = getpgid(pid);
    for (int i = 0; i < c->nhung; i++)
        if (c->hung[i] == pid || c->hung[i] == g)
            return 1;
    return 0;
}

/* The processes of group pgid, from /proc, into out (at most cap);
 * returns their number. */
static int group_members(pid_t pgid, pid_t *out, int cap)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
        if (getpgid(pid) == pgid)
            out[n++] = pid;
    }
    closedir(d);
    /* The leader first, then by pid. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && (out[j] == pgid ||
                                  (out[j - 1] != pgid && out[j] < out[j - 1]));
             j--) {
            pid_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

int rl__ext_keep_hung(rl__ext_ctx *c, rl__ext_slot *s)
{
    pid_t *g = realloc(c->hung, sizeof *g * (size_t)(c->nhung + 1));
    if (!g)
        return -ENOMEM;
    c->hung = g;
    kill(-s->pid, SIGSTOP);
    c->hung[c->nhung++] = s->pid;
    enum { SHOWN = 32 };
    pid_t m[SHOWN];
    int n = group_members(s->pid, m, SHOWN);
    /* SIGSTOP cannot be caught or blocked: each shows stopped as soon as
     * it is next on a CPU, before its pid is given out. */
    for (int i = 0; i < n; i++) {
        char st;
        while ((st = rl__proc_state(m[i], NULL)) && st != 'T' && st != 't' &&
               st != 'Z' && st != 'X') {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    if (!c->o->note)
        return 0;
    char msg[1024];
    size_t len = (size_t)snprintf(msg, sizeof msg,
                                  "run %ld hung: its process group %d is "
                                  "stopped for a debugger (gdb -p PID), pids",
                                  s->run, (int)s->pid);
    for (int i = 0; i < n && len < sizeof msg; i++)
        len += (size_t)snprintf(msg + len, sizeof msg - len, " %d", (int)m[i]);
    if (len < sizeof msg)
        snprintf(msg + len, sizeof msg - len,
                 "; kill -CONT -%d lets it go on, kill -KILL -%d ends it",
                 (int)s->pid, (int)s->pid);
    c->o->note(0, msg, c->o->note_ctx);
    return 0;
}

/* Spares a run left stopped on purpose (--keep-hung). */
static int is_hung(pid_t pid, void *ctx)
{
    return rl__ext_is_hung(ctx, pid);
}

void rl__ext_reap_strays(rl__ext_ctx *c)
{
    rl__reap_children(c->nhung ? is_hung : NULL, c);
}
