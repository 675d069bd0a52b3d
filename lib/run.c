/* run.c: rl_run, running a program in a child process and capturing its
 * output, with optional input, working directory and timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

/* One growing capture buffer, always NUL-terminated once allocated. */
typedef struct {
    char *buf;
    size_t len;
    size_t cap;
} capture;

/* Makes room for at least want more bytes plus the NUL. Returns 0 or
 * -ENOMEM. */
static int capture_reserve(capture *c, size_t want)
{
    if (c->len + want + 1 <= c->cap)
        return 0;
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + want + 1)
        cap *= 2;
    char *p = realloc(c->buf, cap);
    if (!p)
        return -ENOMEM;
    c->buf = p;
    c->cap = cap;
    c->buf[c->len] = '\0';
    return 0;
}

/* Reads what the non-blocking fd holds now into c. Returns 1 at EOF, 0
 * when it would block, -ENOMEM or another -errno on failure. */
static int capture_read(capture *c, int fd)
{
    for (;;) {
        if (capture_reserve(c, 65536) < 0)
            return -ENOMEM;
        ssize_t n = read(fd, c->buf + c->len, c->cap - c->len - 1);
        if (n > 0) {
            c->len += (size_t)n;
            c->buf[c->len] = '\0';
            continue;
        }
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            return 0;
        return -errno;
    }
}

/* Moves a descriptor that landed on 0, 1 or 2 (the caller had closed its
 * standard streams) above them, so that the child's dup2 onto a standard
 * number always clears close-on-exec. Returns the descriptor or -errno. */
static int above_std(int fd)
{
    if (fd > 2)
        return fd;
    int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    close(fd);
    return nfd < 0 ? -e : nfd;
}

/* Makes a close-on-exec pipe whose ends are both above the standard
 * descriptors. Returns 0 or -errno (nothing left open). */
static int make_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    p[0] = above_std(p[0]);
    p[1] = above_std(p[1]);
    if (p[0] < 0 || p[1] < 0) {
        int e = p[0] < 0 ? p[0] : p[1];
        if (p[0] >= 0)
            close(p[0]);
        if (p[1] >= 0)
            close(p[1]);
        return e;
    }
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

/* Waits for pid without blocking past the deadline. Returns 0 and sets
 * *status once reaped, -ETIMEDOUT when the deadline passed first. pidfd
 * is a pidfd for the child, or -1 to fall back to short sleeps. */
static int reap(pid_t pid, int pidfd, double deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r < 0)
            continue;
        if (rl__expired(deadline))
            return -ETIMEDOUT;
        if (pidfd >= 0) {
            struct pollfd p = {.fd = pidfd, .events = POLLIN};
            if (poll(&p, 1, rl__remaining_ms(deadline)) < 0 && errno != EINTR)
                return -errno;
        } else {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    }
}

/* The descriptors and state of one run, so that every exit path cleans up
 * in one place. */
typedef struct {
    int out[2], err[2], in[2];
    int devnull;
    int pidfd;
} run_fds;

static void run_fds_close(run_fds *f)
{
    close_fd(&f->out[0]);
    close_fd(&f->out[1]);
    close_fd(&f->err[0]);
    close_fd(&f->err[1]);
    close_fd(&f->in[0]);
    close_fd(&f->in[1]);
    close_fd(&f->devnull);
    close_fd(&f->pidfd);
}

/* Moves fd to number to in the child (clearing close-on-exec). Raw
 * system calls only: this runs between fork and exec. */
static int child_dup(int fd, int to)
{
    if (fd == to)
        return (int)rl__sys(SYS_fcntl, fd, F_SETFD, 0, 0, 0, 0);
    return (int)rl__sys(SYS_dup2, fd, to, 0, 0, 0, 0);
}

/* Starts the child. Returns its pid, or a negative errno when it could not
 * start (missing program, not executable, bad directory...).
 *
 * A fork, not posix_spawn: the child asks for SIGKILL when the thread
 * that started it ends (PR_SET_PDEATHSIG, which posix_spawn cannot set),
 * so a program whose caller is killed outright ends with it instead of
 * running on under init. The caller waits for the program before it
 * returns, so the signal only comes when the caller died. A failure
 * before or at exec comes back through a close-on-exec pipe. */
static pid_t spawn_child(const char *const argv[], const rl_run_opts *o,
                         run_fds *f, const sigset_t *child_mask)
{
    int ep[2];
    int r = make_pipe(ep);
    if (r < 0)
        return r;
    int in_fd = f->in[0] >= 0 ? f->in[0] : f->devnull;
    pid_t parent = getpid();
    rl__flush_stdio();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(ep[0]);
        close(ep[1]);
        return -e;
    }
    if (pid == 0) {
        long e = rl__sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0);
        if (e == 0 && rl__sys(SYS_getppid, 0, 0, 0, 0, 0, 0) != parent)
            e = -ESRCH;
        /* With a timeout the child leads its own process group, so that
         * the whole group (its own children too) can be killed at once.
         * Without one it stays in ours, where a supervisor's group kill
         * reaches it. */
        if (e == 0 && o->timeout > 0)
            e = rl__sys(SYS_setpgid, 0, 0, 0, 0, 0, 0);
        /* dup2 onto 0, 1 and 2 clears close-on-exec on the child's
         * copies; every other descriptor of ours is close-on-exec and
         * goes away. */
        if (e == 0)
            e = child_dup(in_fd, 0);
        if (e >= 0)
            e = child_dup(f->out[1], 1);
        if (e >= 0)
            e = child_dup(f->err[1], 2);
        if (e >= 0 && o->cwd)
            e = rl__sys(SYS_chdir, (long)o->cwd, 0, 0, 0, 0, 0);
        if (e >= 0) {
            struct sigaction dfl;
            memset(&dfl, 0, sizeof dfl);
            dfl.sa_handler = SIG_DFL;
            sigaction(SIGPIPE, &dfl, NULL);
            sigaction(SIGXFSZ, &dfl, NULL);
            sigprocmask(SIG_SETMASK, child_mask, NULL);
            execvpe(argv[0], (char *const *)argv, environ);
            e = -errno;
        }
        int code = (int)-e;
        while (rl__sys(SYS_write, ep[1], (long)&code, sizeof code, 0, 0, 0) ==
               -EINTR)
            ;
        _exit(127);
    }
    close(ep[1]);
    int code = 0;
    ssize_t n;
    do
        n = read(ep[0], &code, sizeof code);
    while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n == (ssize_t)sizeof code) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return code > 0 ? -code : -ECHILD;
    }
    return pid;
}

void rl_run_result_free(rl_run_result *result)
{
    if (!result)
        return;
    free(result->out);
    free(result->err);
    memset(result, 0, sizeof *result);
}

/* Sets *out to a heap copy of the capture (an empty string when nothing
 * was captured) and takes ownership of its buffer. */
static void capture_give(capture *c, char **out, size_t *len)
{
    if (!c->buf) {
        c->buf = calloc(1, 1);
        c->cap = c->buf ? 1 : 0;
    }
    *out = c->buf;
    *len = c->buf ? c->len : 0;
    c->buf = NULL;
}

/* Makes the pipes of the child's output and error and its stdin: a pipe
 * with input, /dev/null without. Returns 0, or a negative errno (with
 * rl_last_error) after closing what it made. */
static int open_stdio(run_fds *f, int with_input)
{
    int ret;
    if ((ret = make_pipe(f->out)) < 0 || (ret = make_pipe(f->err)) < 0) {
        run_fds_close(f);
        return rl__fail(ret, "rl_run: pipe: %s", strerror(-ret));
    }
    if (with_input) {
        ret = make_pipe(f->in);
    } else {
        f->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ret = f->devnull < 0 ? -errno : 0;
        if (ret == 0)
            ret = f->devnull = above_std(f->devnull);
        ret = ret < 0 ? ret : 0;
    }
    if (ret < 0) {
        run_fds_close(f);
        return rl__fail(ret, "rl_run: stdin: %s", strerror(-ret));
    }
    return 0;
}

/* The error of a child that could not start (ret, a negative errno), with
 * the message naming the program or the directory it could not enter. */
static int start_failed(const char *const argv[], const rl_run_opts *o, int ret)
{
    if (ret == -EAGAIN)
        rl__fork_limit_verdict(argv[0]);
    if (o->cwd && (ret == -ENOENT || ret == -ENOTDIR || ret == -EACCES) &&
        access(o->cwd, X_OK) != 0)
        return rl__fail(ret, "rl_run: cannot enter directory %s: %s", o->cwd,
                        strerror(-ret));
    return rl__fail(ret, "rl_run: cannot start %s: %s", argv[0],
                    strerror(-ret));
}

/* The parent's ends once the child runs: its own ends of the child's
 * descriptors closed, a pidfd for the child, the rest non-blocking, and
 * stdin closed at once when there is no input to write. */
static void parent_ends(run_fds *f, pid_t pid, size_t input_len)
{
    close_fd(&f->out[1]);
    close_fd(&f->err[1]);
    close_fd(&f->in[0]);
    close_fd(&f->devnull);
    f->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (f->pidfd >= 0)
        fcntl(f->pidfd, F_SETFD, FD_CLOEXEC);
    else
        f->pidfd = -1;
    set_nonblock(f->out[0]);
    set_nonblock(f->err[0]);
    if (f->in[1] >= 0) {
        set_nonblock(f->in[1]);
        if (input_len == 0)
            close_fd(&f->in[1]);
    }
}

/* What one rl_run moves between the child and the caller. */
typedef struct {
    const rl_run_opts *o;
    size_t written; /* bytes of the input written */
    int got_epipe;  /* the program did not read all its input */
    int timed_out;
    capture out, err;
} run_io;

/* Writes what the child's stdin takes of the rest of the input, closing
 * stdin once all is written or the child stopped reading. */
static void feed_input(run_fds *f, run_io *io)
{
    ssize_t w = write(f->in[1], io->o->input + io->written,
                      io->o->input_len - io->written);
    if (w > 0)
        io->written += (size_t)w;
    else if (w < 0 && errno != EINTR && errno != EAGAIN) {
        /* EPIPE: the program does not read its input. */
        io->got_epipe |= errno == EPIPE;
        close_fd(&f->in[1]);
    }
    if (io->written == io->o->input_len)
        close_fd(&f->in[1]);
}

/* Feeds the input and captures the output until the child has closed its
 * ends or the deadline passes (io->timed_out). Returns 0, or a negative
 * errno (with rl_last_error) when polling or memory failed. */
static int pump(run_fds *f, run_io *io, double deadline)
{
    int ret = 0;
    while (f->out[0] >= 0 || f->err[0] >= 0 || f->in[1] >= 0) {
        struct pollfd p[3];
        int *which[3];
        int n = 0;
        if (f->out[0] >= 0) {
            p[n] = (struct pollfd){.fd = f->out[0], .events = POLLIN};
            which[n++] = &f->out[0];
        }
        if (f->err[0] >= 0) {
            p[n] = (struct pollfd){.fd = f->err[0], .events = POLLIN};
            which[n++] = &f->err[0];
        }
        if (f->in[1] >= 0) {
            p[n] = (struct pollfd){.fd = f->in[1], .events = POLLOUT};
            which[n++] = &f->in[1];
        }
        int r = poll(p, (nfds_t)n, rl__remaining_ms(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return rl__fail(-errno, "rl_run: poll: %s", strerror(errno));
        if (r == 0 && rl__expired(deadline)) {
            io->timed_out = 1;
            return 0;
        }
        for (int i = 0; i < n; i++) {
            if (!p[i].revents)
                continue;
            if (which[i] == &f->in[1]) {
                feed_input(f, io);
                continue;
            }
            capture *c = which[i] == &f->out[0] ? &io->out : &io->err;
            int cr = capture_read(c, *which[i]);
            if (cr == 1 || (cr < 0 && cr != -ENOMEM))
                close_fd(which[i]);
            else if (cr == -ENOMEM) {
                ret = rl__fail(-ENOMEM,
                               "rl_run: out of memory after %zu "
                               "bytes of output",
                               io->out.len + io->err.len);
                break;
            }
        }
        if (ret < 0)
            break;
    }
    return ret;
}

/* Reaps the child and returns its wait status: killed with its process
 * group first after a timeout or a failure (ret), keeping what it wrote
 * before it died; waited for until the deadline otherwise, and killed
 * then (io->timed_out). */
static int end_child(pid_t pid, run_fds *f, run_io *io, int ret,
                     double deadline)
{
    int status = 0;
    if (io->timed_out || ret < 0) {
        kill(io->o->timeout > 0 ? -pid : pid, SIGKILL);
        reap(pid, -1, -1, &status);
        /* What the group wrote before it died is still in the pipes. */
        if (ret == 0) {
            if (f->out[0] >= 0)
                capture_read(&io->out, f->out[0]);
            if (f->err[0] >= 0)
                capture_read(&io->err, f->err[0]);
        }
    } else if (reap(pid, f->pidfd, deadline, &status) == -ETIMEDOUT) {
        /* It closed its output but kept running past the timeout. */
        kill(-pid, SIGKILL);
        reap(pid, -1, -1, &status);
        io->timed_out = 1;
    }
    return status;
}

/* Takes back a SIGPIPE that writing the input raised while it was
 * blocked, unless one was pending before: the caller never sees it. */
static void drop_sigpipe(const sigset_t *pipe_set, int got_epipe,
                         int was_pending)
{
    if (!got_epipe || was_pending)
        return;
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
}

/* Runs argv with posix_spawnp semantics (PATH search) and captures its
 * standard output and error. Returns 0 when the program ran to its end,
 * whatever its exit (result->exit_code is the status or -signum);
 * -ETIMEDOUT after killing its process group and reaping it (the output
 * so far is kept); -ENOENT, -EACCES, ... when it could not start; -EINVAL
 * for a NULL or empty argv. Without input, the program's stdin is
 * /dev/null. result is always zeroed first and, on return, its buffers are
 * NUL-terminated strings (possibly empty, NULL only after an allocation
 * failure). May be called from any process; blocks the calling thread. */
int rl_run(const char *const argv[], const rl_run_opts *opts,
           rl_run_result *result)
{
    if (!result)
        return rl__fail(-EINVAL, "rl_run: result is NULL");
    memset(result, 0, sizeof *result);
    if (!argv || !argv[0] || !argv[0][0])
        return rl__fail(-EINVAL, "rl_run: empty argv");
    rl_run_opts o = {0};
    if (opts)
        o = *opts;
    int with_input = o.input != NULL || o.input_len > 0;
    if (!o.input)
        o.input_len = 0;

    run_fds f = {{-1, -1}, {-1, -1}, {-1, -1}, -1, -1};
    int ret = open_stdio(&f, with_input);
    if (ret < 0)
        return ret;

    /* SIGPIPE stays blocked in this thread while we write input, so a
     * program that exits without reading gives EPIPE, not our death. The
     * child gets the caller's own mask back. */
    sigset_t pipe_set, old_mask, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    sigpending(&pending);
    int pipe_was_pending = sigismember(&pending, SIGPIPE);

    double deadline = o.timeout > 0 ? rl__deadline(o.timeout) : -1;
    pid_t pid = spawn_child(argv, &o, &f, &old_mask);
    if (pid < 0) {
        run_fds_close(&f);
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
        return start_failed(argv, &o, (int)pid);
    }
    parent_ends(&f, pid, o.input_len);
    run_io io = {.o = &o};
    ret = pump(&f, &io, deadline);
    int status = end_child(pid, &f, &io, ret, deadline);
    run_fds_close(&f);
    drop_sigpipe(&pipe_set, io.got_epipe, pipe_was_pending);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

    result->exit_code =
        WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
    capture_give(&io.out, &result->out, &result->out_len);
    capture_give(&io.err, &result->err, &result->err_len);
    if (ret < 0)
        return ret;
    if (io.timed_out)
        return rl__fail(-ETIMEDOUT,
                        "rl_run: %s ran longer than %.3f s and "
                        "was killed with its process group",
                        argv[0], o.timeout);
    return 0;
}
