/* forkserver.c: the fork server, a fresh copy of the program spawned with
 * a clean state that forks children on request over a socket and reports
 * their exits, and its client in every process that starts forkserver
 * children. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forkserver.h"

#define SERVER_COMM "rl-forkserver"

/* ------------------------------------------------------------------ */
/* The server                                                          */
/* ------------------------------------------------------------------ */

enum { MSG_START = 1, MSG_STARTED, MSG_EXITED };

/* One message on the server socket, in either direction. */
typedef struct {
    int32_t type;
    int32_t pid;    /* STARTED, EXITED */
    int32_t status; /* EXITED: wait status; STARTED: 0 or -errno */
    int32_t daemon; /* START */
    int32_t nfds;   /* START: connection fds after the arena's */
    int32_t minfd;  /* START: above every target descriptor number */
    uint64_t rec;   /* START */
    uint64_t base;
    uint64_t size;
} fs_msg;

typedef struct {
    pid_t pid;
    int daemon;
} server_child;

/* Sends one message, optionally with descriptors. Returns 0 or -errno. */
static int send_msg(int sock, const fs_msg *m, const int *fds, int nfds)
{
    struct iovec iov = {(void *)m, sizeof *m};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int) * (RL__REC_FDS + 1))];
        struct cmsghdr align;
    } u;
    if (nfds > 0) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return 0;
}

/* Receives one message and its descriptors (close-on-exec). Returns 1, 0
 * at EOF, or -errno (-EAGAIN when flags has MSG_DONTWAIT and nothing is
 * there). */
static int recv_msg(int sock, fs_msg *m, int *fds, int *nfds, int flags)
{
    struct iovec iov = {m, sizeof *m};
    union {
        char buf[CMSG_SPACE(sizeof(int) * (RL__REC_FDS + 1))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    ssize_t n;
    do
        n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    int got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *in = (int *)CMSG_DATA(c);
        for (int i = 0; i < k; i++) {
            if (fds && got < RL__REC_FDS + 1)
                fds[got++] = in[i];
            else
                close(in[i]);
        }
    }
    if (nfds)
        *nfds = got;
    if (n == 0)
        return 0;
    if ((size_t)n != sizeof *m) {
        for (int i = 0; i < got; i++)
            close(fds[i]);
        return -EPROTO;
    }
    return 1;
}

/* The server's child: closes the server's descriptors, lifts the received
 * ones above every target number, maps the arena, moves the connection
 * descriptors to the numbers the record lists and runs the entry. */
static _Noreturn void server_child_run(int *fds, int n, const fs_msg *m,
                                       int sock, int sigfd, pid_t server)
{
    close(sock);
    close(sigfd);
    for (int i = 0; i < n; i++) {
        int nfd = fcntl(fds[i], F_DUPFD_CLOEXEC, m->minfd);
        if (nfd < 0)
            _exit(127);
        if (nfd != fds[i])
            close(fds[i]);
        fds[i] = nfd;
    }
    void *base = (void *)(uintptr_t)m->base;
    int r = rl__arena_attach(fds[0], base, (size_t)m->size);
    if (r < 0)
        rl__boot_unmapped(fds[0], base, (size_t)m->size, (uintptr_t)m->rec, r);
    rl__boot_rec *rec = (rl__boot_rec *)(uintptr_t)m->rec;
    if (rec->nfds != n - 1) {
        snprintf(rec->msg, sizeof rec->msg,
                 "the fork server passed %d "
                 "connection descriptors, the record lists %d",
                 n - 1, rec->nfds);
        rl__boot_fail(rec, -EPROTO);
    }
    for (int i = 1; i < n; i++) {
        int target = rec->fds[i - 1];
        if (dup3(fds[i], target, O_CLOEXEC) < 0) {
            int e = errno;
            snprintf(rec->msg, sizeof rec->msg, "dup3 to %d: %s", target,
                     strerror(e));
            rl__boot_fail(rec, -e);
        }
        close(fds[i]);
    }
    rl__boot_run(rec, server);
}

/* The fork server's loop: forks children on request, reports their exit
 * and ends once its client is gone and its children have ended. */
static _Noreturn void server_main(int sock, pid_t client)
{
    rl__set_comm(SERVER_COMM);
    fcntl(sock, F_SETFD, FD_CLOEXEC);
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != client)
        _exit(0);
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, &old);
    int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0)
        _exit(1);
    pid_t self = rl__pid();
    server_child *kids = NULL;
    size_t nkids = 0, cap = 0;
    int client_gone = 0, termed = 0;
    for (;;) {
        if (client_gone && !termed) {
            /* Daemon children end with their parent's session. */
            for (size_t i = 0; i < nkids; i++)
                if (kids[i].daemon)
                    kill(kids[i].pid, SIGTERM);
            termed = 1;
        }
        if (client_gone && nkids == 0)
            _exit(0);
        struct pollfd pf[2] = {{sigfd, POLLIN, 0}, {sock, POLLIN, 0}};
        int r = poll(pf, client_gone ? 1 : 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            _exit(1);
        if (pf[0].revents) {
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
                if (si.ssi_signo == SIGTERM)
                    client_gone = 1;
            int st;
            pid_t w;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
                for (size_t i = 0; i < nkids; i++)
                    if (kids[i].pid == w) {
                        kids[i] = kids[--nkids];
                        break;
                    }
                if (!client_gone) {
                    fs_msg m = {.type = MSG_EXITED, .pid = w, .status = st};
                    send_msg(sock, &m, NULL, 0);
                }
            }
        }
        if (client_gone || !(pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        fs_msg m;
        int fds[RL__REC_FDS + 1];
        int n = 0;
        r = recv_msg(sock, &m, fds, &n, 0);
        if (r <= 0 || m.type != MSG_START || n < 1) {
            for (int i = 0; i < n; i++)
                close(fds[i]);
            if (r <= 0 && r != -EAGAIN)
                client_gone = 1;
            continue;
        }
        if (nkids == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            server_child *nk = realloc(kids, ncap * sizeof *nk);
            if (!nk) {
                for (int i = 0; i < n; i++)
                    close(fds[i]);
                fs_msg rep = {.type = MSG_STARTED, .status = -ENOMEM};
                send_msg(sock, &rep, NULL, 0);
                continue;
            }
            kids = nk;
            cap = ncap;
        }
        pid_t pid = fork();
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            free(kids);
            server_child_run(fds, n, &m, sock, sigfd, self);
        }
        int e = errno;
        for (int i = 0; i < n; i++)
            close(fds[i]);
        fs_msg rep = {.type = MSG_STARTED,
                      .pid = pid > 0 ? pid : 0,
                      .status = pid > 0 ? 0 : -e};
        if (pid > 0)
            kids[nkids++] = (server_child){pid, m.daemon};
        send_msg(sock, &rep, NULL, 0);
    }
}

/* Runs before main in every program that links this file: a fork server
 * takes over here and never returns to main. A spawned child (boot.c)
 * goes first when both variables are set. */
__attribute__((constructor)) static void server_boot(void)
{
    const char *s = getenv(RL__SERVER_ENV);
    if (s && !getenv(RL__BOOT_ENV)) {
        unsigned long long fd, client;
        if (!(s = rl__parse_field(s, 10, ':', &fd)) ||
            !(s = rl__parse_field(s, 10, '\0', &client)))
            _exit(127);
        unsetenv(RL__SERVER_ENV);
        server_main((int)fd, (pid_t)client);
    }
}

/* ------------------------------------------------------------------ */
/* The client side                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
    pid_t pid;
    int status;
    unsigned gen; /* of the server that reported it */
} fs_exit;

static struct {
    pthread_mutex_t lock;
    pid_t owner; /* the process the connection belongs to, 0 = none */
    pid_t server;
    int sock;
    int pidfd;
    unsigned gen; /* bumped each time a server is started */
    int atfork_done;
    fs_exit *exits; /* statuses read for children nobody waited on yet */
    size_t nexits, cap;
} fs = {PTHREAD_MUTEX_INITIALIZER, 0, 0, -1, -1, 0, 0, NULL, 0, 0};

void rl__fs_forget(void)
{
    if (fs.sock >= 0)
        close(fs.sock);
    if (fs.pidfd >= 0)
        close(fs.pidfd);
    fs.sock = fs.pidfd = -1;
    fs.owner = 0;
    fs.server = 0;
    if (fs.exits)
        free(fs.exits);
    fs.exits = NULL;
    fs.nexits = fs.cap = 0;
    /* What pthread_mutex_init does, without its code in every child. */
    fs.lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}

/* Closes this process's connection to its server and waits for the server
 * to end, so that no server outlives its client unreaped. The server
 * terminates daemon children and waits for the others first. */
static void fs_shutdown(void)
{
    if (fs.owner != rl__pid() || fs.sock < 0)
        return;
    close(fs.sock);
    fs.sock = -1;
    int st;
    while (waitpid(fs.server, &st, 0) < 0 && errno == EINTR)
        ;
    if (fs.pidfd >= 0)
        close(fs.pidfd);
    fs.pidfd = -1;
    fs.owner = 0;
}

static void fs_atexit(void)
{
    fs_shutdown();
}

/* Marks the server dead and reaps it. Called with the lock held. */
static void fs_dead(void)
{
    if (fs.sock >= 0)
        close(fs.sock);
    fs.sock = -1;
    int st;
    kill(fs.server, SIGKILL);
    while (waitpid(fs.server, &st, 0) < 0 && errno == EINTR)
        ;
    if (fs.pidfd >= 0)
        close(fs.pidfd);
    fs.pidfd = -1;
    fs.owner = 0;
}

/* Whether the server is still up; reaps it when it is not. Lock held. */
static int fs_alive(void)
{
    if (fs.owner != rl__pid() || fs.sock < 0)
        return 0;
    if (fs.pidfd >= 0) {
        struct pollfd pf = {fs.pidfd, POLLIN, 0};
        if (poll(&pf, 1, 0) > 0) {
            fs_dead();
            return 0;
        }
    }
    return 1;
}

/* Starts a server for this process. Lock held. */
static int fs_start(void)
{
    if (fs.owner && fs.owner != rl__pid())
        rl__fs_forget();
    if (!fs.atfork_done) {
        atexit(fs_atexit);
        /* The exit path of a child (rl__exit) waits for its server. */
        rl__boot_on_exit(fs_shutdown);
        fs.atfork_done = 1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return rl__fail(-errno, "socketpair for the fork server: %s",
                        strerror(errno));
    char extra[64];
    snprintf(extra, sizeof extra, RL__SERVER_ENV "=%d:%d", sv[1],
             (int)rl__pid());
    pid_t pid;
    int r = rl__spawn_self(&pid, extra, &sv[1], 1, 1);
    close(sv[1]);
    if (r < 0) {
        close(sv[0]);
        return r;
    }
    fs.sock = sv[0];
    fs.server = pid;
    fs.pidfd = rl__pidfd_open(pid);
    fs.owner = rl__pid();
    fs.gen++;
    return 0;
}

/* Keeps a status read for some child. Lock held. */
static void fs_keep(pid_t pid, int status)
{
    if (fs.nexits == fs.cap) {
        size_t ncap = fs.cap ? fs.cap * 2 : 16;
        fs_exit *n = realloc(fs.exits, ncap * sizeof *n);
        if (!n)
            return;
        fs.exits = n;
        fs.cap = ncap;
    }
    fs.exits[fs.nexits++] = (fs_exit){pid, status, fs.gen};
}

/* Takes the kept status of pid. Returns 1 when there was one. Lock held. */
static int fs_take(pid_t pid, unsigned gen, int *status)
{
    for (size_t i = 0; i < fs.nexits; i++)
        if (fs.exits[i].pid == pid && fs.exits[i].gen == gen) {
            *status = fs.exits[i].status;
            fs.exits[i] = fs.exits[--fs.nexits];
            return 1;
        }
    return 0;
}

/* Reads the messages from the server, keeping exit statuses. With started
 * NULL, reads what is there without blocking; otherwise blocks until the
 * server's STARTED reply and returns it through *started. Returns 0, or
 * -EPIPE once the server went away (it is then reaped). Lock held. */
static int fs_drain(fs_msg *started)
{
    for (;;) {
        fs_msg m;
        int r = recv_msg(fs.sock, &m, NULL, NULL, started ? 0 : MSG_DONTWAIT);
        if (r == -EAGAIN)
            return 0;
        if (r <= 0) {
            fs_dead();
            return -EPIPE;
        }
        if (m.type == MSG_EXITED)
            fs_keep(m.pid, m.status);
        else if (m.type == MSG_STARTED && started) {
            *started = m;
            return 0;
        }
    }
}

int rl__fs_poll_exit(pid_t pid, unsigned gen, int *status)
{
    pthread_mutex_lock(&fs.lock);
    int r = 0;
    if (fs_take(pid, gen, status))
        r = 1;
    else if (fs.gen != gen || fs.owner != rl__pid() || fs.sock < 0)
        r = -ECHILD;
    else {
        /* A server that died has closed its socket already, so reading to
         * EOF also tells of its death, after its last reports. */
        int d = fs_drain(NULL);
        if (fs_take(pid, gen, status))
            r = 1;
        else if (d < 0)
            r = -ECHILD;
    }
    pthread_mutex_unlock(&fs.lock);
    return r;
}

int rl__fs_wait(int ms)
{
    pthread_mutex_lock(&fs.lock);
    int sock = fs.sock;
    pthread_mutex_unlock(&fs.lock);
    struct pollfd pf[2] = {{sock, POLLIN, 0}, {fs.pidfd, POLLIN, 0}};
    int r = poll(pf, 2, ms);
    if (r < 0 && errno != EINTR)
        return rl__fail(-errno, "poll on the fork server: %s", strerror(errno));
    return 0;
}

int rl__fs_launch(rl__boot_rec *rec, const int *fds, int daemon, pid_t *pid,
                  unsigned *gen)
{
    int r = 0;
    int minfd = 3;
    for (int i = 0; i < rec->nfds + 1; i++)
        if (fds[i] >= minfd)
            minfd = fds[i] + 1;
    fs_msg m = {.type = MSG_START,
                .daemon = daemon,
                .nfds = rec->nfds,
                .minfd = minfd,
                .rec = (uintptr_t)rec,
                .base = (uintptr_t)rl__arena_base(),
                .size = rl__arena_size()};
    fs_msg rep = {0};
    rl__flush_stdio();
    pthread_mutex_lock(&fs.lock);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!fs_alive() && (r = fs_start()) < 0)
            break;
        r = send_msg(fs.sock, &m, fds, rec->nfds + 1);
        if (r == 0)
            r = fs_drain(&rep);
        if (r == 0)
            break;
        if (r != -EPIPE && r != -ECONNRESET) {
            r = rl__fail(r, "talking to the fork server: %s", strerror(-r));
            break;
        }
        fs_dead();
        r = rl__fail(-EPIPE, "the fork server died");
    }
    *gen = fs.gen;
    pthread_mutex_unlock(&fs.lock);
    if (r == 0 && rep.status < 0)
        r = rl__fail(rep.status, "the fork server could not fork: %s",
                     strerror(-rep.status));
    if (r == 0)
        *pid = rep.pid;
    return r;
}
