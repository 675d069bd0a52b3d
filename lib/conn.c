/* conn.c: connections, framed messages over a pipe or a socket pair whose
 * ends live in the arena, and the registry of the ends each process holds. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define CONN_MAGIC 0x636f6e6eu /* "conn" */
#define HDR_LEN 8

/* One end of a connection. It lives in the arena so that a pointer to it is
 * valid in every process of the execution; the descriptor number is the
 * same in every process that holds the end. Whether this process holds it
 * is private state (see held[] below). */
struct rl_conn {
    uint32_t magic;
    uint32_t id;           /* index into each process's held[] table */
    int fd;
    int can_read;
    int can_write;
    int duplex;
    uint32_t *word;        /* futex word shared by both ends of the pair */
    uint32_t pair_word;    /* the storage of *word, used in end a */
    struct rl_conn *next;  /* the registry list */
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
    uint32_t next_id;
    struct rl_conn *head;
} conn_registry;

/* This process's view of every end by id: HELD_UNKNOWN for ends it never
 * had (made by a process that is not an ancestor, or after a spawn),
 * HELD_OPEN and HELD_CLOSED. A forked child inherits the table together
 * with the descriptor table it describes. */
enum { HELD_UNKNOWN = 0, HELD_OPEN = 1, HELD_CLOSED = 2 };
static unsigned char *held;
static size_t held_cap;
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;

/* Records the state of end id in this process. Returns 0 or -ENOMEM. */
static int held_set(uint32_t id, unsigned char state)
{
    int r = 0;
    pthread_mutex_lock(&held_lock);
    if (id >= held_cap) {
        size_t cap = held_cap ? held_cap : 64;
        while (cap <= id)
            cap *= 2;
        unsigned char *t = realloc(held, cap);
        if (!t) {
            r = -ENOMEM;
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
    int open = c->id < held_cap && held[c->id] == HELD_OPEN;
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
    if (!*root)
        *root = rl_shared_alloc(sizeof(conn_registry));
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
        held_set(c->id, found ? HELD_OPEN : HELD_CLOSED);
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
            return rl__fail(-errno, "rl_pipe: socketpair: %s",
                            strerror(errno));
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
        r = registry_add(ca, cb);
    }
    if (r == 0)
        r = held_set(ca->id, HELD_OPEN);
    if (r == 0)
        r = held_set(cb->id, HELD_OPEN);
    if (r < 0) {
        /* Ends already in the registry stay there, marked closed here
         * (the registry never shrinks); the others go back. */
        close(fds[0]);
        close(fds[1]);
        if (ca && ca->next == cb) {
            held_set(ca->id, HELD_CLOSED);
            held_set(cb->id, HELD_CLOSED);
            ca->magic = cb->magic = 0;
        } else {
            rl_shared_free(ca);
            rl_shared_free(cb);
        }
        if (r == -ENOMEM && !ca)
            return -ENOMEM; /* rl_shared_alloc said why */
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
        return rl__fail(-EBADF, "%s: this end (fd %d) is closed in this "
                                "process", what, c->fd);
    return 0;
}

int rl_conn_close(rl_conn *c)
{
    rl__point(RL_OP_CLOSE, c, NULL);
    int r = check_open(c, "rl_conn_close");
    if (r < 0)
        return r;
    held_set(c->id, HELD_CLOSED);
    close(c->fd);
    /* The peer may be waiting for EOF (or for room, when this end read). */
    rl__publish(c->word);
    return 0;
}
