/* file.c: atomic report files (temporary file, then rename). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h" /* rl__fail */
#include "report.h"

/* The temporary file being written, for the signal handler: a stop signal
 * that would end the process removes it first. */
static char tmp_path[PATH_MAX + 32];
static volatile sig_atomic_t tmp_live;

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSTOP (sizeof stop_signals / sizeof stop_signals[0])

static void on_stop(int sig)
{
    int e = errno;
    if (tmp_live) {
        tmp_live = 0;
        unlink(tmp_path);
    }
    /* Then die of the signal as the default action would. */
    signal(sig, SIG_DFL);
    raise(sig);
    errno = e;
}

/* While the temporary exists, a stop signal whose action is the default
 * (the process would die of it) removes it before dying. A signal the
 * program handles or ignores keeps its action: the write then ends
 * normally and renames the file. */
static void guard(struct sigaction old[NSTOP], int on)
{
    for (size_t i = 0; i < NSTOP; i++) {
        if (on) {
            struct sigaction sa;
            sigaction(stop_signals[i], NULL, &old[i]);
            if (old[i].sa_handler != SIG_DFL ||
                (old[i].sa_flags & SA_SIGINFO))
                continue;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_stop;
            sigfillset(&sa.sa_mask);
            sigaction(stop_signals[i], &sa, NULL);
        } else if (old[i].sa_handler == SIG_DFL &&
                   !(old[i].sa_flags & SA_SIGINFO)) {
            sigaction(stop_signals[i], &old[i], NULL);
        }
    }
}

/* Creates "PATH.tmp.XXXXXX" next to path, exclusively and without
 * following a symbolic link, mode 0600. Returns the fd (name in tmp_path)
 * or -errno. */
static int make_tmp(const char *path)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t len = strlen(path);
    if (len + 16 > sizeof tmp_path)
        return -ENAMETOOLONG;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char rnd[6];
        if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd) {
            /* Unpredictable enough without it: O_EXCL is what makes
             * the name safe, the randomness only avoids collisions. */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32 ^
                         (uint64_t)attempt * 0x9e3779b97f4a7c15ULL;
            memcpy(rnd, &x, sizeof rnd);
        }
        char suffix[7];
        for (int i = 0; i < 6; i++)
            suffix[i] = digits[rnd[i] % (sizeof digits - 1)];
        suffix[6] = '\0';
        snprintf(tmp_path, sizeof tmp_path, "%s.tmp.%s", path, suffix);
        int fd = open(tmp_path,
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

/* A device, a FIFO or a symbolic link (/dev/null, /dev/stdout, a pipe)
 * is written in place: renaming over it would replace it with a plain
 * file. It must exist already: nothing is created through a link. */
static int write_in_place(const char *path, const rl__report *rep,
                          int (*writer)(FILE *, const rl__report *))
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return rl__fail(-errno, "cannot write %s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        return rl__fail(-e, "cannot write %s: %s", path, strerror(e));
    }
    errno = 0;
    int bad = writer(f, rep) < 0;
    bad |= fflush(f) != 0;
    int e = errno;
    bad |= fclose(f) != 0;
    if (bad)
        return rl__fail(-(e ? e : EIO), "writing %s failed: %s", path,
                        strerror(e ? e : EIO));
    return 0;
}

int rl__report_to_file(const char *path, const rl__report *rep,
                       int (*writer)(FILE *, const rl__report *))
{
    struct stat st;
    int exists = lstat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return rl__fail(-EISDIR, "cannot write %s: it is a directory", path);
    if (exists && !S_ISREG(st.st_mode))
        return write_in_place(path, rep, writer);
    struct sigaction old[NSTOP];
    guard(old, 1);
    /* Between its creation and tmp_live, the temporary would escape the
     * handler: no stop signal in that window. */
    sigset_t stops, saved;
    sigemptyset(&stops);
    for (size_t i = 0; i < NSTOP; i++)
        sigaddset(&stops, stop_signals[i]);
    sigprocmask(SIG_BLOCK, &stops, &saved);
    int fd = make_tmp(path);
    tmp_live = fd >= 0;
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (fd < 0) {
        guard(old, 0);
        return rl__fail(fd, "cannot write %s: %s", path, strerror(-fd));
    }
    int e = 0;
    if (exists) {
        /* The new file takes the place of the old one: same owner and
         * mode. Changing the owner needs privilege; without it the file
         * is the writer's, as with any editor. */
        if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
            fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
            e = errno;
        if (!e && fchmod(fd, st.st_mode & 0777) < 0)
            e = errno;
    } else {
        /* A new file gets what open(O_CREAT, 0666) would give it. */
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0666 & ~mask) < 0)
            e = errno;
    }
    FILE *f = e ? NULL : fdopen(fd, "w");
    if (!f) {
        e = e ? e : errno;
        close(fd);
    } else {
        errno = 0;
        int bad = writer(f, rep) < 0;
        bad |= fflush(f) != 0;
        if (bad)
            e = errno ? errno : EIO;
        if (!bad && fsync(fileno(f)) != 0 && errno != EINVAL)
            e = errno;
        if (fclose(f) != 0 && !e)
            e = errno ? errno : EIO;
    }
    int renamed = !e && rename(tmp_path, path) == 0;
    int re = renamed || e ? 0 : errno;
    tmp_live = 0;
    if (!renamed)
        unlink(tmp_path);
    guard(old, 0);
    if (re)
        return rl__fail(-re, "cannot rename the report to %s: %s", path,
                        strerror(re));
    if (e)
        return rl__fail(-e, "writing %s failed: %s", path, strerror(e));
    return 0;
}
