/* pipe.c: the pipes and socket pairs of a command under the scheduler.
 * pipe, socketpair, read, readv, write, writev, send, sendmsg, recv,
 * recvmsg, close and dup on one the execution made are schedule points;
 * a read of an empty one or a write to a full one waits in the scheduler,
 * not in the kernel, until a write, a read or a close anywhere changes it.
 * Other descriptors go straight to the C library. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "intercept.h"

/* This process's descriptors of the execution's pipes and socket pairs:
 * 1 + the index of the entry in the table (0: not one), and what the
 * descriptor is: END_READ or END_WRITE of a pipe, END_SOCKET of a pair.
 * A fork copies them with the descriptors; an exec learns them again from
 * /proc/self/fd. */
enum {
    END_READ = RL__IC_END_READ,
    END_WRITE = RL__IC_END_WRITE,
    END_SOCKET = RL__IC_END_SOCKET
};
#define FDS 4096
static int fd_pipe[FDS];
static unsigned char fd_write[FDS];

/* The pipe of descriptor fd, NULL when it is none of the execution's. */
static rl__ic_pipe *pipe_of(int fd)
{
    if (fd < 0 || fd >= FDS || !fd_pipe[fd] || !rl__ic)
        return NULL;
    return &rl__ic->pipes[fd_pipe[fd] - 1];
}

rl__ic_pipe *rl__ic_pipe_fd(int fd, int *end)
{
    rl__ic_pipe *p = pipe_of(fd);
    if (end)
        *end = p ? fd_write[fd] : 0;
    return p;
}

void rl__ic_pipe_changed(rl__ic_pipe *p)
{
    rl__publish(&p->word);
    rl__publish(&rl__ic->pipes_word);
}

static void fd_set_pipe(int fd, const rl__ic_pipe *p, int end)
{
    if (fd < 0 || fd >= FDS)
        return;
    fd_pipe[fd] = p ? (int)(p - rl__ic->pipes) + 1 : 0;
    fd_write[fd] = p ? (unsigned char)end : 0;
}

/* fd takes over what descriptor from is (dup). */
static void fd_copy(int fd, int from)
{
    if (fd < 0 || fd >= FDS)
        return;
    rl__ic_pipe *p = pipe_of(from);
    fd_set_pipe(fd, p, p ? fd_write[from] : 0);
}

/* Learns what descriptor fd is, which this process got from elsewhere
 * (an exec, a message with SCM_RIGHTS): an end of one of the execution's
 * pipes or socket pairs, or none. */
static void fd_learn(int fd)
{
    if (fd < 0 || fd >= FDS)
        return;
    fd_set_pipe(fd, NULL, 0);
    char link[64], target[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return;
    target[n] = '\0';
    unsigned long ino;
    int fl = fcntl(fd, F_GETFL);
    rl__ic_pipe *p;
    if (sscanf(target, "socket:[%lu]", &ino) == 1) {
        if ((p = rl__ic_pipe_of(ino, 0, 0)) && p->ino2)
            fd_set_pipe(fd, p, END_SOCKET);
        return;
    }
    if (sscanf(target, "pipe:[%lu]", &ino) != 1)
        return;
    if ((p = rl__ic_pipe_of(ino, 0, 0)) && fl >= 0)
        fd_set_pipe(fd, p, (fl & O_ACCMODE) != O_RDONLY ? END_WRITE : END_READ);
}

void rl__ic_fds_scan(void)
{
    memset(fd_pipe, 0, sizeof fd_pipe);
    memset(fd_write, 0, sizeof fd_write);
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd < 0 || fd >= FDS || fd == dirfd(d))
            continue;
        fd_learn(fd);
    }
    closedir(d);
}

int rl__ic_pipes_cloexec(void)
{
    int n = 0;
    for (int fd = 0; fd < FDS; fd++) {
        if (!fd_pipe[fd])
            continue;
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && (fl & FD_CLOEXEC)) {
            rl__ic_pipe_changed(pipe_of(fd));
            n++;
        }
    }
    return n;
}

/* The label of a step on descriptor fd: "what(fd N)". */
static const char *label_of(char *buf, size_t cap, const char *what, int fd)
{
    size_t at = rl__append(buf, cap, 0, what);
    at = rl__append(buf, cap, at, "(fd ");
    at = rl__append_long(buf, cap, at, fd);
    rl__append(buf, cap, at, ")");
    return buf;
}

/* The wait reason handed to rl__block: it stays valid while the actor
 * waits, which is as long as the scheduler needs it. */
static char reason[RL__REASON_LEN];

/* Waits in the scheduler until the pipe's descriptor fd has data or no
 * writer left (a read will not block): every write, read and close of the
 * pipe and every actor's end wakes the wait to look again. step: the
 * read's step in the trace; what: the call ("read", "recv"). */
static void wait_readable(int fd, rl__ic_pipe *p, long step, const char *what)
{
    rl__sched *s = rl__sched_get();
    /* Who keeps the reader from its end of file: the holders of the
     * pipe's write end, or of the pair's other socket. */
    unsigned long holder = p->ino;
    struct stat st;
    if (p->ino2 && fstat(fd, &st) == 0)
        holder = (unsigned long)st.st_ino == p->ino ? p->ino2 : p->ino;
    for (;;) {
        uint32_t seen = __atomic_load_n(&p->word, __ATOMIC_ACQUIRE);
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int n;
        do
            n = poll(&pf, 1, 0);
        while (n < 0 && errno == EINTR);
        if (n != 0)
            return; /* data, end of file, or an error read reports */
        if (p->ino2)
            snprintf(reason, sizeof reason,
                     "%s(fd %d) of socket %lu: empty, and its peer %lu is "
                     "open",
                     what, fd, holder == p->ino ? p->ino2 : p->ino, holder);
        else
            snprintf(reason, sizeof reason,
                     "%s(fd %d) of pipe %lu: empty, and a write end is open",
                     what, fd, p->ino);
        rl__sched_wait_holder(holder, !p->ino2);
        rl__block(p, &p->word, seen, -1, reason);
        /* The read counts as a read, not as an attempt without effect:
         * the reduction then orders it with the write that woke it, and
         * so sees the race of this actor's earlier reads with the
         * writes after them (two writers, one reader that assumes an
         * order), which the attempt would hide behind it. */
        if (step >= 0 && step < s->nsteps)
            s->steps[step].blocked = 0;
    }
}

int pipe2(int fds[2], int flags)
{
    RL__IC_REAL(pipe2);
    int r = real_pipe2(fds, flags);
    if (r < 0 || !rl__ic_on())
        return r;
    struct stat st;
    if (fstat(fds[0], &st) == 0) {
        rl__ic_pipe *p = rl__ic_pipe_of((unsigned long)st.st_ino, 0, 1);
        fd_set_pipe(fds[0], p, END_READ);
        fd_set_pipe(fds[1], p, END_WRITE);
    }
    return r;
}

int pipe(int fds[2])
{
    return pipe2(fds, 0);
}

/* The bytes the cnt buffers of iov hold. */
static size_t iov_total(const struct iovec *iov, int cnt)
{
    size_t n = 0;
    for (int i = 0; i < cnt; i++)
        n += iov[i].iov_len;
    return n;
}

/* Copies the cnt buffers of iov into rest without their first skip
 * bytes. Returns how many buffers rest holds. */
static int iov_rest(struct iovec *rest, const struct iovec *iov, int cnt,
                    size_t skip)
{
    int n = 0;
    for (int i = 0; i < cnt; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        rest[n].iov_base = (char *)iov[i].iov_base + skip;
        rest[n].iov_len = iov[i].iov_len - skip;
        skip = 0;
        n++;
    }
    return n;
}

/* read and readv on a pipe or socket pair: the schedule point, then the
 * read; a blocking one that would find the pipe empty with a writer left
 * waits in the scheduler first. n: the bytes asked for. */
static ssize_t read_pipe(int fd, rl__ic_pipe *p, const struct iovec *iov,
                         int cnt, size_t n, const char *what)
{
    RL__IC_REAL(readv);
    rl__ic_enter();
    char label[48];
    rl__point_key(RL_OP_RECV, p, &p->word, 0, label_of(label, 48, what, fd));
    long step = rl__sched_get()->nsteps - 1;
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK) && n > 0)
        wait_readable(fd, p, step, what);
    ssize_t r = real_readv(fd, iov, cnt);
    int e = errno;
    if (r > 0)
        rl__ic_pipe_changed(p); /* room for a waiting writer */
    rl__ic_leave();
    errno = e;
    return r;
}

ssize_t read(int fd, void *buf, size_t n)
{
    RL__IC_REAL(read);
    rl__ic_pipe *p = pipe_of(fd);
    if (!p || !rl__ic_on())
        return real_read(fd, buf, n);
    struct iovec one = {.iov_base = buf, .iov_len = n};
    return read_pipe(fd, p, &one, 1, n, "read");
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    RL__IC_REAL(readv);
    rl__ic_pipe *p = pipe_of(fd);
    if (!p || !rl__ic_on())
        return real_readv(fd, iov, cnt);
    size_t n = cnt > 0 && cnt <= IOV_MAX ? iov_total(iov, cnt) : 0;
    return read_pipe(fd, p, iov, cnt, n, "readv");
}

/* A write or writev of the n bytes of iov (cnt buffers, at most IOV_MAX)
 * to a blocking pipe or socket pair: written without blocking in the
 * kernel (the descriptor made non-blocking for each attempt; only one
 * actor runs), as much as fits, then waiting in the scheduler for room.
 * what: the call, for the wait's reason. Returns what write(2) would. */
static ssize_t write_blocking(int fd, rl__ic_pipe *p, const struct iovec *iov,
                              int cnt, size_t n, int fl, const char *what)
{
    RL__IC_REAL(writev);
    struct iovec rest[IOV_MAX];
    size_t done = 0;
    for (;;) {
        uint32_t seen = __atomic_load_n(&p->word, __ATOMIC_ACQUIRE);
        int left = iov_rest(rest, iov, cnt, done);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        ssize_t w = real_writev(fd, rest, left);
        int e = errno;
        fcntl(fd, F_SETFL, fl);
        if (w > 0) {
            done += (size_t)w;
            rl__ic_pipe_changed(p);
            if (done == n)
                return (ssize_t)done;
            continue;
        }
        if (w < 0 && e == EAGAIN) {
            snprintf(reason, sizeof reason,
                     "%s(fd %d) to %s %lu: full, %zu of %zu bytes "
                     "written",
                     what, fd, p->ino2 ? "socket pair" : "pipe", p->ino, done,
                     n);
            rl__block(p, &p->word, seen, -1, reason);
            continue;
        }
        if (w < 0 && e == EINTR && done == 0)
            continue;
        errno = e;
        return done > 0 ? (ssize_t)done : w;
    }
}

/* write and writev on a pipe or socket pair: the schedule point, then the
 * write; a blocking one waits in the scheduler while it is full. */
static ssize_t write_pipe(int fd, rl__ic_pipe *p, const struct iovec *iov,
                          int cnt, const char *what)
{
    RL__IC_REAL(writev);
    rl__ic_enter();
    char label[48];
    rl__point_key(RL_OP_SEND, p, &p->word, 0, label_of(label, 48, what, fd));
    int fl = fcntl(fd, F_GETFL);
    size_t n = cnt >= 0 && cnt <= IOV_MAX ? iov_total(iov, cnt) : 0;
    ssize_t r;
    int e;
    if (fl < 0 || (fl & O_NONBLOCK) || n == 0) {
        r = real_writev(fd, iov, cnt);
        e = errno;
        if (r > 0)
            rl__ic_pipe_changed(p);
    } else {
        r = write_blocking(fd, p, iov, cnt, n, fl, what);
        e = errno;
    }
    rl__ic_leave();
    errno = e;
    return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    RL__IC_REAL(write);
    rl__ic_pipe *p = pipe_of(fd);
    if (!p || !rl__ic_on())
        return real_write(fd, buf, n);
    struct iovec one = {.iov_base = (void *)buf, .iov_len = n};
    return write_pipe(fd, p, &one, 1, "write");
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    RL__IC_REAL(writev);
    rl__ic_pipe *p = pipe_of(fd);
    if (!p || !rl__ic_on())
        return real_writev(fd, iov, cnt);
    return write_pipe(fd, p, iov, cnt, "writev");
}

/* The close of fd, a pipe end: a schedule point, and a wake-up for the
 * actors waiting on the pipe (a reader may see its end of file now). */
static int close_pipe_end(int fd, rl__ic_pipe *p, int (*real)(int))
{
    rl__ic_enter();
    char label[48];
    rl__point_key(RL_OP_CLOSE, p, &p->word, 0,
                  label_of(label, 48, "close", fd));
    fd_set_pipe(fd, NULL, 0);
    int r = real(fd);
    int e = errno;
    rl__ic_pipe_changed(p);
    rl__ic_leave();
    errno = e;
    return r;
}

int close(int fd)
{
    RL__IC_REAL(close);
    rl__ic_pipe *p = pipe_of(fd);
    if (p && rl__ic_on())
        return close_pipe_end(fd, p, real_close);
    fd_set_pipe(fd, NULL, 0);
    return real_close(fd);
}

int dup(int fd)
{
    RL__IC_REAL(dup);
    int r = real_dup(fd);
    if (r >= 0)
        fd_copy(r, fd);
    return r;
}

/* dup2 and dup3: newfd, when it is a pipe end, is closed first, with the
 * schedule point of a close. */
static int dup_onto(int oldfd, int newfd, int flags, int three)
{
    RL__IC_REAL(dup2);
    RL__IC_REAL(dup3);
    rl__ic_pipe *closing = oldfd != newfd ? pipe_of(newfd) : NULL;
    int on = closing && rl__ic_on();
    if (on) {
        rl__ic_enter();
        char label[48];
        rl__point_key(RL_OP_CLOSE, closing, &closing->word, 0,
                      label_of(label, 48, "dup2 closes", newfd));
    }
    int r = three ? real_dup3(oldfd, newfd, flags) : real_dup2(oldfd, newfd);
    int e = errno;
    if (r >= 0 && oldfd != newfd)
        fd_copy(newfd, oldfd);
    if (on) {
        rl__ic_pipe_changed(closing);
        rl__ic_leave();
    }
    errno = e;
    return r;
}

int dup2(int oldfd, int newfd)
{
    return dup_onto(oldfd, newfd, 0, 0);
}

int dup3(int oldfd, int newfd, int flags)
{
    return dup_onto(oldfd, newfd, flags, 1);
}

/* ---- streams on pipes ---- */

/* The C library writes and closes a stream's descriptor with its own
 * internal calls, which no wrapper sees: fflush and fclose of a stream on
 * a pipe are the schedule points, and wake the pipe's waiters. */

int fflush(FILE *f)
{
    RL__IC_REAL(fflush);
    if (!rl__ic_on())
        return real_fflush(f);
    rl__ic_pipe *p = f ? pipe_of(fileno(f)) : NULL;
    int writes = 0;
    for (int fd = 0; !f && fd < FDS; fd++)
        writes += fd_pipe[fd] && fd_write[fd] != END_READ;
    if (f ? !p : !writes)
        return real_fflush(f);
    rl__ic_enter();
    char label[48];
    if (p)
        rl__point_key(RL_OP_SEND, p, &p->word, 0,
                      label_of(label, 48, "fflush", fileno(f)));
    int r = real_fflush(f);
    int e = errno;
    if (p) {
        rl__ic_pipe_changed(p);
    } else {
        /* Every stream: whatever pipe this process writes may have
         * changed, which the step before says no more about. */
        rl__sched_step_global();
        for (int fd = 0; fd < FDS; fd++)
            if (fd_pipe[fd] && fd_write[fd] != END_READ)
                rl__ic_pipe_changed(pipe_of(fd));
    }
    rl__ic_leave();
    errno = e;
    return r;
}

int fclose(FILE *f)
{
    RL__IC_REAL(fclose);
    int fd = f ? fileno(f) : -1;
    rl__ic_pipe *p = pipe_of(fd);
    if (!p || !rl__ic_on()) {
        fd_set_pipe(fd, NULL, 0);
        return real_fclose(f);
    }
    rl__ic_enter();
    char label[48];
    rl__point_key(RL_OP_CLOSE, p, &p->word, 0,
                  label_of(label, 48, "fclose", fd));
    fd_set_pipe(fd, NULL, 0);
    int r = real_fclose(f);
    int e = errno;
    rl__ic_pipe_changed(p);
    rl__ic_leave();
    errno = e;
    return r;
}

/* ---- socket pairs ---- */

int socketpair(int domain, int type, int protocol, int fds[2])
{
    RL__IC_REAL(socketpair);
    int r = real_socketpair(domain, type, protocol, fds);
    if (r < 0 || !rl__ic_on())
        return r;
    struct stat a, b;
    if (fstat(fds[0], &a) == 0 && fstat(fds[1], &b) == 0) {
        rl__ic_pipe *p =
            rl__ic_pipe_of((unsigned long)a.st_ino, (unsigned long)b.st_ino, 1);
        fd_set_pipe(fds[0], p, END_SOCKET);
        fd_set_pipe(fds[1], p, END_SOCKET);
    }
    return r;
}

/* send, sendto and sendmsg on a socket pair: the schedule point, then
 * msg sent without blocking in the kernel, and, unless the call may not
 * block, the rest after waiting in the scheduler for room. Ancillary data
 * goes with the first bytes only, as the kernel sends it. what: the call,
 * for the label and the wait's reason. Returns what sendmsg(2) would. */
static ssize_t send_pipe(int fd, rl__ic_pipe *p, const struct msghdr *msg,
                         int flags, const char *what)
{
    RL__IC_REAL(sendmsg);
    rl__ic_enter();
    char label[48];
    rl__point_key(RL_OP_SEND, p, &p->word, 0, label_of(label, 48, what, fd));
    int fl = fcntl(fd, F_GETFL);
    int nowait = (flags & MSG_DONTWAIT) || fl < 0 || (fl & O_NONBLOCK);
    int cnt = (int)msg->msg_iovlen;
    int ok = msg->msg_iovlen <= IOV_MAX;
    size_t n = ok ? iov_total(msg->msg_iov, cnt) : 0;
    struct iovec rest[IOV_MAX];
    struct msghdr m = *msg;
    size_t done = 0;
    ssize_t r;
    int e;
    for (;;) {
        uint32_t seen = __atomic_load_n(&p->word, __ATOMIC_ACQUIRE);
        if (ok) {
            m.msg_iov = rest;
            m.msg_iovlen = (size_t)iov_rest(rest, msg->msg_iov, cnt, done);
        }
        r = real_sendmsg(fd, &m, flags | MSG_DONTWAIT);
        e = errno;
        if (r > 0) {
            done += (size_t)r;
            rl__ic_pipe_changed(p);
            m.msg_control = NULL;
            m.msg_controllen = 0;
            if (ok && done < n && !nowait)
                continue;
            r = (ssize_t)done;
            break;
        }
        if (r < 0 && e == EAGAIN && !nowait) {
            snprintf(reason, sizeof reason,
                     "%s(fd %d) to socket pair %lu: full, %zu of %zu "
                     "bytes sent",
                     what, fd, p->ino, done, n);
            rl__block(p, &p->word, seen, -1, reason);
            continue;
        }
        if (done > 0)
            r = (ssize_t)done;
        break;
    }
    rl__ic_leave();
    errno = e;
    return r;
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
               const struct sockaddr *to, socklen_t tolen)
{
    RL__IC_REAL(sendto);
    rl__ic_pipe *p = pipe_of(fd);
    if (!p || !rl__ic_on())
        return real_sendto(fd, buf, n, flags, to, tolen);
    struct iovec one = {.iov_base = (void *)buf, .iov_len = n};
    struct msghdr m = {.msg_name = (void *)to,
                       .msg_namelen = to ? tolen : 0,
                       .msg_iov = &one,
                       .msg_iovlen = 1};
    return send_pipe(fd, p, &m, flags, "send");
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    RL__IC_REAL(sendmsg);
    rl__ic_pipe *p = pipe_of(fd);
    if (!p || !msg || !rl__ic_on())
        return real_sendmsg(fd, msg, flags);
    return send_pipe(fd, p, msg, flags, "sendmsg");
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    return sendto(fd, buf, n, flags, NULL, 0);
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                 socklen_t *fromlen)
{
    RL__IC_REAL(recvfrom);
    rl__ic_pipe *p = pipe_of(fd);
    if (!p || !rl__ic_on())
        return real_recvfrom(fd, buf, n, flags, from, fromlen);
    rl__ic_enter();
    char label[48];
    rl__point_key(RL_OP_RECV, p, &p->word, 0, label_of(label, 48, "recv", fd));
    long step = rl__sched_get()->nsteps - 1;
    int fl = fcntl(fd, F_GETFL);
    if (!(flags & MSG_DONTWAIT) && fl >= 0 && !(fl & O_NONBLOCK))
        wait_readable(fd, p, step, "recv");
    ssize_t r = real_recvfrom(fd, buf, n, flags, from, fromlen);
    int e = errno;
    if (r > 0 && !(flags & MSG_PEEK))
        rl__ic_pipe_changed(p);
    rl__ic_leave();
    errno = e;
    return r;
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    return recvfrom(fd, buf, n, flags, NULL, NULL);
}

/* The descriptors a message passed with SCM_RIGHTS: ends of the
 * execution's pipes and pairs are learnt, so that their reads and writes
 * are schedule points in the receiver too. */
static void learn_passed_fds(const struct msghdr *msg)
{
    if (!msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
         c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
            fd_learn(fd);
        }
    }
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    RL__IC_REAL(recvmsg);
    rl__ic_pipe *p = pipe_of(fd);
    if (!p || !msg || !rl__ic_on()) {
        ssize_t r = real_recvmsg(fd, msg, flags);
        if (r >= 0 && rl__ic)
            learn_passed_fds(msg);
        return r;
    }
    rl__ic_enter();
    char label[48];
    rl__point_key(RL_OP_RECV, p, &p->word, 0,
                  label_of(label, 48, "recvmsg", fd));
    long step = rl__sched_get()->nsteps - 1;
    int fl = fcntl(fd, F_GETFL);
    size_t n = msg->msg_iovlen <= IOV_MAX
                   ? iov_total(msg->msg_iov, (int)msg->msg_iovlen)
                   : 0;
    if (!(flags & MSG_DONTWAIT) && fl >= 0 && !(fl & O_NONBLOCK) && n > 0)
        wait_readable(fd, p, step, "recvmsg");
    ssize_t r = real_recvmsg(fd, msg, flags);
    int e = errno;
    if (r > 0 && !(flags & MSG_PEEK))
        rl__ic_pipe_changed(p);
    if (r >= 0)
        learn_passed_fds(msg);
    rl__ic_leave();
    errno = e;
    return r;
}
