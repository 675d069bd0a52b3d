/* conn.c: connections, framed messages over a pipe or a socket pair whose
 * ends live in the arena, and the registry of the ends each process holds. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "scheduler.h"

#define CONN_MAGIC 0x636f6e6eu /* "conn" */
#define HDR_LEN 8

/* One end of a connection. It lives in the arena so that a pointer to it is
 * valid in every process of the execution; the descriptor number is the
 * same in every process that holds the end. Whether this process holds it
 * is private state (see held[] below). */
struct rl_conn {
    uint32_t magic;
    uint32_t id; /* index into each process's held[] table */
    int fd;
    int can_read;
    int can_write;
    int duplex;
    uint64_t gen;         /* the registry's generation (see held[]) */
    unsigned long ino;    /* the descriptor's inode, for wait reports */
    struct rl_conn *peer; /* the other end of the pair */
    uint32_t *word;       /* futex word shared by both ends of the pair */
    uint32_t pair_word;   /* the storage of *word, used in end a */
    struct rl_conn *next; /* the registry list */
    /* Readers of this end serialise on rlock, so that one message is read
     * by one reader; pending is the payload length of a message whose
     * header was read by a recv whose buffer was too small. It is shared
     * because the stream position is shared. */
    pthread_mutex_t rlock;
    pthread_mutex_t wlock;
    int has_pending;
    uint64_t pending;
};

/* The registry, found from any process through the arena root. */
typedef struct {
    uint64_t gen;
    uint32_t next_id;
    struct rl_conn *head;
} conn_registry;

/* This process's view of every end by id: HELD_UNKNOWN for ends it never
 * had (made by a process that is not an ancestor, or after a spawn),
 * HELD_OPEN and HELD_CLOSED. A forked child inherits the table together
 * with the descriptor table it describes. The table belongs to one
 * generation of the registry: when the harness empties the arena for a new
 * execution, ids start again and the old entries mean nothing. */
enum { HELD_UNKNOWN = 0, HELD_OPEN = 1, HELD_CLOSED = 2 };
static unsigned char *held;
static size_t held_cap;
static uint64_t held_gen;
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;

/* Records the state of end c in this process. Returns 0 or -ENOMEM. */
static int held_set(const struct rl_conn *c, unsigned char state)
{
    int r = 0;
    uint32_t id = c->id;
    pthread_mutex_lock(&held_lock);
    if (c->gen != held_gen) {
        if (held)
            memset(held, HELD_UNKNOWN, held_cap);
        held_gen = c->gen;
    }
    if (id >= held_cap) {
        size_t cap = held_cap ? held_cap : 64;
        while (cap <= id)
            cap *= 2;
        unsigned char *t = realloc(held, cap);
        if (!t) {
            r = rl__fail(-ENOMEM, "out of memory for the table of held "
                                  "connection ends");
        } else {
            memset(t + held_cap, HELD_UNKNOWN, cap - held_cap);
            held = t;
            held_cap = cap;
        }
    }
    if (r == 0)
        held[id] = state;
    pthread_mutex_unlock(&held_lock);
    return r;
}

/* True when this process holds end c open. */
static int held_open(const struct rl_conn *c)
{
    pthread_mutex_lock(&held_lock);
    int open =
        c->gen == held_gen && c->id < held_cap && held[c->id] == HELD_OPEN;
    pthread_mutex_unlock(&held_lock);
    return open;
}

/* Returns the registry, making it on first use, or NULL when the arena
 * cannot be made or is full. Called with the arena lock held. */
static conn_registry *registry_locked(void)
{
    void **root = rl__arena_root(RL__ROOT_CONN);
    if (!root)
        return NULL;
    if (!*root) {
        conn_registry *reg = rl_shared_alloc(sizeof(conn_registry));
        if (!reg)
            return NULL;
        /* Unique enough to tell this registry from one of an earlier
         * execution in the same memory. */
        reg->gen = ((uint64_t)rl__pid() << 32) ^ (uint64_t)(rl__now() * 1e9) ^
                   (uint64_t)(uintptr_t)reg;
        if (!reg->gen)
            reg->gen = 1;
        *root = reg;
    }
    return *root;
}

/* Adds both ends to the registry and gives them ids. Returns 0 or
 * -ENOMEM. */
static int registry_add(struct rl_conn *a, struct rl_conn *b)
{
    pthread_mutex_t *lk = rl__arena_lock();
    if (!lk)
        return -ENOMEM;
    rl__mutex_lock(lk);
    conn_registry *reg = registry_locked();
    if (reg) {
        a->id = reg->next_id++;
        b->id = reg->next_id++;
        a->gen = b->gen = reg->gen;
        b->next = reg->head;
        a->next = b;
        reg->head = a;
    }
    rl__mutex_unlock(lk);
    return reg ? 0 : -ENOMEM;
}

int rl__conn_held_fds(int *fds, int cap)
{
    pthread_mutex_t *lk = rl__arena_lock();
    if (!lk)
        return 0;
    int n = 0;
    rl__mutex_lock(lk);
    conn_registry *reg = *rl__arena_root(RL__ROOT_CONN);
    for (struct rl_conn *c = reg ? reg->head : NULL; c; c = c->next) {
        if (!held_open(c))
            continue;
        if (n < cap)
            fds[n] = c->fd;
        n++;
    }
    rl__mutex_unlock(lk);
    return n;
}

void rl__conn_adopt(const int *fds, int n)
{
    pthread_mutex_t *lk = rl__arena_lock();
    if (!lk)
        return;
    rl__mutex_lock(lk);
    conn_registry *reg = *rl__arena_root(RL__ROOT_CONN);
    for (struct rl_conn *c = reg ? reg->head : NULL; c; c = c->next) {
        int found = 0;
        for (int i = 0; i < n && !found; i++)
            found = fds[i] == c->fd;
        held_set(c, found ? HELD_OPEN : HELD_CLOSED);
    }
    rl__mutex_unlock(lk);
}

/* Under RL_TESTING the kernel buffers shrink so that the partial-write
 * paths run in every test. */
static void shrink_buffers(int fd, int duplex)
{
#ifdef RL_TESTING
    if (duplex) {
        int sz = 4096;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    } else {
        fcntl(fd, F_SETPIPE_SZ, 4096);
    }
#else
    (void)fd;
    (void)duplex;
#endif
}

int rl_pipe(rl_conn **a, rl_conn **b, int duplex)
{
    if (!a || !b)
        return rl__fail(-EINVAL, "rl_pipe: NULL end pointer");
    int fds[2];
    if (duplex) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
            return rl__fail(-errno, "rl_pipe: socketpair: %s", strerror(errno));
        shrink_buffers(fds[0], 1);
        shrink_buffers(fds[1], 1);
    } else {
        if (pipe2(fds, O_CLOEXEC) < 0)
            return rl__fail(-errno, "rl_pipe: pipe2: %s", strerror(errno));
        shrink_buffers(fds[0], 0);
    }
    struct rl_conn *ca = rl_shared_alloc(sizeof *ca);
    struct rl_conn *cb = ca ? rl_shared_alloc(sizeof *cb) : NULL;
    int r = cb ? 0 : -ENOMEM;
    if (r == 0)
        r = rl__mutex_init(&ca->rlock, 0);
    if (r == 0)
        r = rl__mutex_init(&ca->wlock, 0);
    if (r == 0)
        r = rl__mutex_init(&cb->rlock, 0);
    if (r == 0)
        r = rl__mutex_init(&cb->wlock, 0);
    if (r == 0) {
        ca->fd = fds[0];
        cb->fd = fds[1];
        ca->duplex = cb->duplex = duplex ? 1 : 0;
        ca->can_read = 1;
        ca->can_write = duplex ? 1 : 0;
        cb->can_read = duplex ? 1 : 0;
        cb->can_write = 1;
        ca->word = cb->word = &ca->pair_word;
        ca->peer = cb;
        cb->peer = ca;
        struct stat st;
        if (fstat(fds[0], &st) == 0)
            ca->ino = (unsigned long)st.st_ino;
        if (fstat(fds[1], &st) == 0)
            cb->ino = (unsigned long)st.st_ino;
        r = registry_add(ca, cb);
    }
    if (r == 0)
        r = held_set(ca, HELD_OPEN);
    if (r == 0)
        r = held_set(cb, HELD_OPEN);
    if (r < 0) {
        /* Ends already in the registry stay there, marked closed here
         * (the registry never shrinks); the others go back. */
        close(fds[0]);
        close(fds[1]);
        if (ca && cb && ca->next == cb) {
            held_set(ca, HELD_CLOSED);
            held_set(cb, HELD_CLOSED);
            ca->magic = cb->magic = 0;
        } else {
            rl_shared_free(ca);
            rl_shared_free(cb);
        }
        if (r == -ENOMEM)
            return r; /* the arena or the held table said why */
        return rl__fail(r, "rl_pipe: could not set up the connection");
    }
    ca->magic = cb->magic = CONN_MAGIC;
    *a = ca;
    *b = cb;
    return 0;
}

/* Checks that c is a connection end this process holds open. Returns 0,
 * -EINVAL or -EBADF with the message set. */
static int check_open(const struct rl_conn *c, const char *what)
{
    if (!c || !rl__in_arena(c) || c->magic != CONN_MAGIC)
        return rl__fail(-EINVAL, "%s: not a connection", what);
    if (!held_open(c))
        return rl__fail(-EBADF,
                        "%s: this end (fd %d) is closed in this "
                        "process",
                        what, c->fd);
    return 0;
}

/* What the steps of an op on end c touch: the pair, whichever end is
 * used (the word both ends share), so that a send on one end and a recv on
 * the other are ordered by the reduction. c itself when it is no end. */
static const void *pair_key(const struct rl_conn *c)
{
    if (!c || !rl__in_arena(c) || c->magic != CONN_MAGIC || !c->word)
        return c;
    return c->word;
}

int rl_conn_close(rl_conn *c)
{
    rl__point_key(RL_OP_CLOSE, c, pair_key(c), 0, NULL);
    int r = check_open(c, "rl_conn_close");
    if (r < 0)
        return r;
    held_set(c, HELD_CLOSED);
    close(c->fd);
    /* The peer may be waiting for EOF (or for room, when this end read). */
    rl__publish(c->word);
    return 0;
}

/* The wait reason handed to rl__block; it stays valid while the thread
 * waits, which is as long as the scheduler needs it. */
static _Thread_local char block_reason[96];

/* Polls the end's descriptor for events without blocking. Returns 1 when
 * ready (also for hang-up and error, which the next read or write
 * reports), 0 when not, or -errno. */
static int poll_now(const struct rl_conn *c, short events)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    int n;
    do
        n = poll(&p, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n > 0 && (p.revents & POLLNVAL))
        return -EBADF;
    return n > 0;
}

/* Waits until the descriptor is ready for events or the absolute deadline
 * passes. Returns 1 when ready, 0 when the deadline passed, or -errno.
 * Under a scheduler it never blocks in the kernel: it waits on the pair's
 * word, which the other side publishes after every send, recv and close. */
static int wait_io(struct rl_conn *c, short events, double deadline)
{
    if (rl__controlled()) {
        snprintf(block_reason, sizeof block_reason, "%s on connection fd %d",
                 events == POLLIN ? "recv" : "send", c->fd);
        for (;;) {
            uint32_t seen = __atomic_load_n(c->word, __ATOMIC_ACQUIRE);
            int r = poll_now(c, events);
            if (r != 0)
                return r;
            /* A reader waits for the holders of the sending side: of this
             * pipe's inode, or of the peer socket. */
            if (events == POLLIN)
                rl__sched_wait_holder(c->duplex ? c->peer->ino : c->ino,
                                      !c->duplex);
            if (rl__block(c, c->word, seen, deadline, block_reason) < 0)
                return 0;
        }
    }
    for (;;) {
        struct pollfd p = {.fd = c->fd, .events = events};
        int n = poll(&p, 1, rl__remaining_ms(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n > 0)
            return (p.revents & POLLNVAL) ? -EBADF : 1;
        if (rl__remaining_ms(deadline) == 0)
            return 0;
    }
}

/* Takes the read or write lock m of end c. Under a scheduler a holder may
 * be waiting in the middle of a message for another actor, so the lock is
 * never waited for in the kernel: the caller waits on the pair's word,
 * which unlock_end publishes. */
static void lock_end(struct rl_conn *c, pthread_mutex_t *m)
{
    if (!rl__controlled()) {
        rl__mutex_lock(m);
        return;
    }
    for (;;) {
        uint32_t seen = __atomic_load_n(c->word, __ATOMIC_ACQUIRE);
        int r = pthread_mutex_trylock(m);
        if (r == 0)
            return;
        if (r == EOWNERDEAD) {
            pthread_mutex_consistent(m);
            return;
        }
        snprintf(block_reason, sizeof block_reason,
                 "connection fd %d: another actor is in the middle of a "
                 "message",
                 c->fd);
        rl__block(c, c->word, seen, -1, block_reason);
    }
}

/* Releases a lock taken with lock_end. */
static void unlock_end(struct rl_conn *c, pthread_mutex_t *m)
{
    rl__mutex_unlock(m);
    if (rl__controlled())
        rl__publish(c->word);
}

/* Reads exactly len bytes. Returns 0, RL_EOF when the stream ended before
 * the first byte, -EPROTO when it ended after it, or -errno. Once started
 * it waits as long as it takes: the sender is in the middle of a message. */
static int read_full(struct rl_conn *c, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        if (rl__controlled()) {
            int w = wait_io(c, POLLIN, -1);
            if (w < 0)
                return w;
        }
        ssize_t n = read(c->fd, p + got, len - got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return got ? -EPROTO : RL_EOF;
        got += (size_t)n;
        /* Under a scheduler a sender may wait for this room in the middle
         * of a message (a header fills a one-page pipe): tell it at once,
         * or both wait for good. */
        if (rl__controlled())
            rl__publish(c->word);
    }
    return 0;
}

/* Writes all len bytes. Returns 0 or -errno (-EPIPE when no process holds
 * a reading end). Under a scheduler every write is one that cannot block:
 * a pipe write of at most PIPE_BUF bytes once poll says there is room, a
 * non-blocking send on a socket. */
static int write_full(struct rl_conn *c, const void *buf, size_t len)
{
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        int controlled = rl__controlled();
        size_t chunk = len - done;
        if (controlled) {
            int w = wait_io(c, POLLOUT, -1);
            if (w < 0)
                return w;
            if (!c->duplex && chunk > PIPE_BUF)
                chunk = PIPE_BUF;
        }
        ssize_t n;
        if (c->duplex)
            n = send(c->fd, p + done, chunk,
                     MSG_NOSIGNAL | (controlled ? MSG_DONTWAIT : 0));
        else
            n = write(c->fd, p + done, chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -errno;
        done += (size_t)n;
        /* Likewise a receiver may wait for these bytes before the rest
         * fits. */
        if (controlled)
            rl__publish(c->word);
    }
    return 0;
}

/* Writes header and payload of one message on a pipe with SIGPIPE blocked,
 * so that a pipe without reader gives -EPIPE instead of killing the
 * process. A SIGPIPE raised by this write is consumed; one that was pending
 * before is left alone. */
static int write_message_pipe(struct rl_conn *c, const void *hdr,
                              const void *buf, size_t len)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    int r = write_full(c, hdr, HDR_LEN);
    if (r == 0)
        r = write_full(c, buf, len);
    if (r == -EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

int rl_conn_send(rl_conn *c, const void *buf, size_t len)
{
    rl__point_key(RL_OP_SEND, c, pair_key(c), 0, NULL);
    int r = check_open(c, "rl_conn_send");
    if (r < 0)
        return r;
    if (!c->can_write)
        return rl__fail(-EBADF,
                        "rl_conn_send: this end (fd %d) of a one-way "
                        "pipe only receives",
                        c->fd);
    if (!buf && len)
        return rl__fail(-EINVAL, "rl_conn_send: NULL buffer");
    uint64_t hdr = len;
    lock_end(c, &c->wlock);
    if (c->duplex) {
        r = write_full(c, &hdr, HDR_LEN);
        if (r == 0)
            r = write_full(c, buf, len);
    } else {
        r = write_message_pipe(c, &hdr, buf, len);
    }
    unlock_end(c, &c->wlock);
    rl__publish(c->word);
    if (r == -EPIPE)
        return rl__fail(r,
                        "rl_conn_send: no process holds the receiving "
                        "end of fd %d",
                        c->fd);
    if (r < 0)
        return rl__fail(r, "rl_conn_send on fd %d: %s", c->fd, strerror(-r));
    return 0;
}

/* Reads the payload of a message whose header said len bytes, with the
 * end's read lock held, and clears the pending state. Returns len or a
 * negative code. */
static ssize_t read_payload(struct rl_conn *c, void *buf, uint64_t len)
{
    c->has_pending = 0;
    c->pending = 0;
    int r = read_full(c, buf, (size_t)len);
    if (r == RL_EOF || r == -EPROTO)
        return rl__fail(-EPROTO,
                        "rl_conn_recv on fd %d: the sender vanished "
                        "in the middle of a %llu-byte message",
                        c->fd, (unsigned long long)len);
    if (r < 0)
        return rl__fail(r, "rl_conn_recv on fd %d: %s", c->fd, strerror(-r));
    return (ssize_t)len;
}

/* Keeps the message whose header said len for a later, larger recv. */
static ssize_t keep_pending(struct rl_conn *c, uint64_t len, size_t cap)
{
    c->has_pending = 1;
    c->pending = len;
    return rl__fail(-EMSGSIZE,
                    "rl_conn_recv: the message is %llu bytes, "
                    "the buffer %zu; it is kept for a later recv",
                    (unsigned long long)len, cap);
}

ssize_t rl_conn_recv(rl_conn *c, void *buf, size_t cap, double timeout)
{
    rl__point_key(RL_OP_RECV, c, pair_key(c), 0, NULL);
    int r = check_open(c, "rl_conn_recv");
    if (r < 0)
        return r;
    if (!c->can_read)
        return rl__fail(-EBADF,
                        "rl_conn_recv: this end (fd %d) of a one-way "
                        "pipe only sends",
                        c->fd);
    if (!buf && cap)
        return rl__fail(-EINVAL, "rl_conn_recv: NULL buffer");
    double deadline = rl__deadline(timeout);
    for (;;) {
        ssize_t out = 0;
        int have = 0;
        lock_end(c, &c->rlock);
        if (c->has_pending) {
            have = 1;
            out = c->pending > cap ? keep_pending(c, c->pending, cap)
                                   : read_payload(c, buf, c->pending);
        } else {
            /* Another reader of this end may have taken what poll saw,
             * so check again under the lock before reading. */
            int ready = poll_now(c, POLLIN);
            if (ready != 0) {
                have = 1;
                uint64_t len = 0;
                int h = ready < 0 ? ready : read_full(c, &len, HDR_LEN);
                if (h == RL_EOF)
                    out = RL_EOF;
                else if (h == -EPROTO)
                    out = rl__fail(-EPROTO,
                                   "rl_conn_recv on fd %d: the "
                                   "sender vanished in the middle "
                                   "of a message header",
                                   c->fd);
                else if (h < 0)
                    out = rl__fail(h, "rl_conn_recv on fd %d: %s", c->fd,
                                   strerror(-h));
                else if (len > cap)
                    out = keep_pending(c, len, cap);
                else
                    out = read_payload(c, buf, len);
            }
        }
        unlock_end(c, &c->rlock);
        if (have) {
            if (out >= 0)
                rl__publish(c->word); /* room for a waiting sender */
            return out;
        }
        int w = wait_io(c, POLLIN, deadline);
        if (w < 0)
            return rl__fail(w, "rl_conn_recv on fd %d: %s", c->fd,
                            strerror(-w));
        if (w == 0) {
            if (timeout == 0)
                return rl__fail(-EAGAIN, "rl_conn_recv: no message on fd %d",
                                c->fd);
            return rl__fail(-ETIMEDOUT,
                            "rl_conn_recv: no message on fd %d "
                            "within %.3f s",
                            c->fd, timeout);
        }
    }
}

int rl_conn_poll(rl_conn *c, double timeout)
{
    rl__point_key(RL_OP_POLL, c, pair_key(c), 0, NULL);
    int r = check_open(c, "rl_conn_poll");
    if (r < 0)
        return r;
    if (!c->can_read)
        return rl__fail(-EBADF,
                        "rl_conn_poll: this end (fd %d) of a one-way "
                        "pipe only sends",
                        c->fd);
    if (__atomic_load_n(&c->has_pending, __ATOMIC_ACQUIRE))
        return 1;
    r = wait_io(c, POLLIN, rl__deadline(timeout));
    if (r < 0)
        return rl__fail(r, "rl_conn_poll on fd %d: %s", c->fd, strerror(-r));
    return r;
}
