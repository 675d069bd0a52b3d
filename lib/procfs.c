/* procfs.c: what /proc tells about another process: whether it runs,
 * has ended, is exiting, or would die of a signal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

/* Reads /proc/PID/stat into buf and points *after at the state letter,
 * the first field after the command (which may hold spaces and
 * parentheses, hence the last ')'). Returns 1; 0 when the file was read
 * but holds no such field (the process ended meanwhile); or -errno when
 * it cannot be opened (-ENOENT: no such process). */
static int read_stat(pid_t pid, char *buf, size_t size, const char **after)
{
    char path[64];
    *after = NULL;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ESRCH ? -ENOENT : -errno;
    ssize_t n;
    do
        n = read(fd, buf, size - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *rp = strrchr(buf, ')');
    if (!rp || rp[1] != ' ' || rp[2] == '\0')
        return 0;
    *after = rp + 2;
    return 1;
}

/* The field-th field of /proc/PID/stat (1-based) in a text that starts
 * at field 3, the state; NULL when there are fewer. */
static const char *stat_field(const char *after, int field)
{
    const char *p = after;
    for (int f = 3; f < field; f++) {
        p = strchr(p, ' ');
        if (!p)
            return NULL;
        p++;
    }
    return p;
}

int rl__proc_alive(pid_t pid)
{
    char buf[1024];
    const char *st;
    int r = read_stat(pid, buf, sizeof buf, &st);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return kill(pid, 0) == 0;
    if (!st)
        return buf[0] ? kill(pid, 0) == 0 : 0;
    return *st != 'Z' && *st != 'X' && *st != 'x';
}

int rl__proc_ended(pid_t pid)
{
    char buf[1024];
    const char *st;
    if (read_stat(pid, buf, sizeof buf, &st) <= 0)
        return 1;
    return *st == 'Z' || *st == 'X';
}

int rl__proc_exiting(pid_t pid)
{
    char buf[1024];
    const char *st;
    int r = read_stat(pid, buf, sizeof buf, &st);
    if (r < 0)
        return r == -ENOENT;
    if (!st)
        return 0;
    /* Fields after the state: ppid pgrp session tty tpgid flags. */
    const char *fl = stat_field(st, 9);
    if (*st == 'Z' || *st == 'X')
        return 1;
    return fl && (strtoul(fl, NULL, 10) & 0x4) != 0; /* PF_EXITING */
}

char rl__proc_state(pid_t pid, int *status)
{
    char buf[1024];
    const char *st;
    if (status)
        *status = 0;
    if (read_stat(pid, buf, sizeof buf, &st) <= 0)
        return 0;
    if (status) {
        const char *code = stat_field(st, 52); /* exit_code */
        if (code)
            *status = atoi(code);
    }
    return *st;
}

unsigned long long rl__proc_start_ticks(pid_t pid)
{
    char buf[1024];
    const char *st;
    if (read_stat(pid, buf, sizeof buf, &st) <= 0)
        return 0;
    const char *t = stat_field(st, 22); /* starttime */
    return t ? strtoull(t, NULL, 10) : 0;
}

int rl__proc_signal_ends(pid_t pid, int sig)
{
    if (sig == SIGKILL)
        return 1;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *ign = strstr(buf, "SigIgn:"), *cgt = strstr(buf, "SigCgt:");
    if (!ign || !cgt)
        return 0;
    unsigned long long mask =
        strtoull(ign + 7, NULL, 16) | strtoull(cgt + 7, NULL, 16);
    return !(mask >> (sig - 1) & 1);
}
