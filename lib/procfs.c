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

int rl__proc_alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ESRCH)
            return 0;
        return kill(pid, 0) == 0;
    }
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return 0; /* it ended between the open and the read */
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    if (!rp || rp[1] == '\0' || rp[2] == '\0')
        return kill(pid, 0) == 0;
    return rp[2] != 'Z' && rp[2] != 'X' && rp[2] != 'x';
}

int rl__proc_ended(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *rp = strrchr(buf, ')');
    return !rp || rp[2] == 'Z' || rp[2] == 'X';
}

int rl__proc_exiting(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* Fields after the command: state ppid pgrp session tty tpgid flags. */
    const char *rp = strrchr(buf, ')');
    char state;
    unsigned long flags;
    if (!rp ||
        sscanf(rp + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
        return 0;
    return state == 'Z' || state == 'X' || (flags & 0x4) != 0;
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
