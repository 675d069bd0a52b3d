/* queue.c: multi-producer multi-consumer FIFO queues of byte messages, kept
 * entirely in the arena so that processes of any start method share them. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "scheduler.h"

#define QUEUE_MAGIC 0x71756575u /* "queu" */

/* The bytes of messages one queue may hold at once. Under RL_TESTING it is
 * small, so that the wait for memory runs in every test. */
#ifdef RL_TESTING
#define QUEUE_MEMORY_CAP ((size_t)64 << 10)
#else
#define QUEUE_MEMORY_CAP ((size_t)64 << 20)
#endif

typedef struct qnode {
    struct qnode *next;
    size_t len;
    unsigned char data[];
} qnode;

struct rl_queue {
    uint32_t magic;
    uint32_t word;        /* published on every change of the state */
    pthread_mutex_t lock; /* guards everything below */
    size_t count;         /* messages in the queue */
    size_t bytes;         /* their payload bytes */
    size_t maxsize;       /* 0: no limit on the count */
    size_t cap;           /* limit on bytes */
    size_t unfinished;    /* puts not yet marked done (joinable) */
    int joinable;
    int closed;
    qnode *head;
    qnode *tail;
};

/* Checks that q is a live queue. Returns 0 or -EINVAL with the message. */
static int check_queue(const rl_queue *q, const char *what)
{
    if (!q || !rl__in_arena(q) || q->magic != QUEUE_MAGIC)
        return rl__fail(-EINVAL, "%s: not a queue", what);
    return 0;
}

/* The code for a wait that ended without success. */
static int wait_failed(double timeout, const char *what, const char *state)
{
    if (timeout == 0)
        return rl__fail(-EAGAIN, "%s: the queue is %s", what, state);
    return rl__fail(-ETIMEDOUT, "%s: the queue stayed %s for %.3f s", what,
                    state, timeout);
}

rl_queue *rl_queue_new(size_t maxsize, int joinable)
{
    rl_queue *q = rl_shared_alloc(sizeof *q);
    if (!q)
        return NULL;
    int r = rl__mutex_init(&q->lock, 0);
    if (r < 0) {
        rl_shared_free(q);
        rl__fail(r, "rl_queue_new: could not make the queue's mutex");
        return NULL;
    }
    q->maxsize = maxsize;
    q->cap = QUEUE_MEMORY_CAP;
    q->joinable = joinable ? 1 : 0;
    q->magic = QUEUE_MAGIC;
    return q;
}

/* True when a message of len bytes does not fit now. A message always
 * fits an empty queue (put checked it against the cap). */
static int full_for(const rl_queue *q, size_t len)
{
    if (q->maxsize && q->count >= q->maxsize)
        return 1;
    return q->count > 0 && q->bytes + len > q->cap;
}

int rl_queue_put(rl_queue *q, const void *buf, size_t len, double timeout)
{
    rl__point(RL_OP_PUT, q, NULL);
    int r = check_queue(q, "rl_queue_put");
    if (r < 0)
        return r;
    if (!buf && len)
        return rl__fail(-EINVAL, "rl_queue_put: NULL buffer");
    if (len > q->cap)
        return rl__fail(-EMSGSIZE,
                        "rl_queue_put: a %zu-byte message is "
                        "larger than the queue's memory cap of "
                        "%zu bytes",
                        len, q->cap);
    /* Copy outside the queue's lock; the node waits with us if full. */
    qnode *n = rl_shared_alloc(sizeof *n + len);
    if (!n)
        return -ENOMEM; /* rl_shared_alloc said why */
    n->len = len;
    if (len)
        memcpy(n->data, buf, len);
    double deadline = rl__deadline(timeout);
    rl__mutex_lock(&q->lock);
    for (;;) {
        if (q->closed) {
            r = rl__fail(-EPIPE, "rl_queue_put: the queue is closed");
            break;
        }
        if (!full_for(q, len)) {
            if (q->tail)
                q->tail->next = n;
            else
                q->head = n;
            q->tail = n;
            q->count++;
            q->bytes += len;
            if (q->joinable)
                q->unfinished++;
            n = NULL;
            r = 0;
            break;
        }
        if (timeout == 0) {
            r = wait_failed(timeout, "rl_queue_put", "full");
            break;
        }
        uint32_t seen = q->word;
        rl__mutex_unlock(&q->lock);
        int b = rl__block(q, &q->word, seen, deadline, "put on a full queue");
        rl__mutex_lock(&q->lock);
        if (b < 0 && full_for(q, len) && !q->closed) {
            r = wait_failed(timeout, "rl_queue_put", "full");
            break;
        }
    }
    rl__mutex_unlock(&q->lock);
    if (r == 0)
        rl__publish(&q->word);
    rl_shared_free(n);
    return r;
}

ssize_t rl_queue_get(rl_queue *q, void *buf, size_t cap, double timeout)
{
    rl__point(RL_OP_GET, q, NULL);
    int r = check_queue(q, "rl_queue_get");
    if (r < 0)
        return r;
    if (!buf && cap)
        return rl__fail(-EINVAL, "rl_queue_get: NULL buffer");
    double deadline = rl__deadline(timeout);
    qnode *n = NULL;
    ssize_t out = 0;
    rl__mutex_lock(&q->lock);
    for (;;) {
        if (q->head) {
            if (q->head->len > cap) {
                out = rl__fail(-EMSGSIZE,
                               "rl_queue_get: the message is %zu "
                               "bytes, the buffer %zu; it stays "
                               "in the queue",
                               q->head->len, cap);
                break;
            }
            n = q->head;
            q->head = n->next;
            if (!q->head)
                q->tail = NULL;
            q->count--;
            q->bytes -= n->len;
            out = (ssize_t)n->len;
            break;
        }
        if (q->closed) {
            out = rl__fail(-EPIPE, "rl_queue_get: the queue is closed and "
                                   "empty");
            break;
        }
        if (timeout == 0) {
            out = wait_failed(timeout, "rl_queue_get", "empty");
            break;
        }
        uint32_t seen = q->word;
        rl__mutex_unlock(&q->lock);
        int b = rl__block(q, &q->word, seen, deadline, "get on an empty queue");
        rl__mutex_lock(&q->lock);
        if (b < 0 && !q->head && !q->closed) {
            out = wait_failed(timeout, "rl_queue_get", "empty");
            break;
        }
    }
    rl__mutex_unlock(&q->lock);
    if (n) {
        rl__publish(&q->word);
        if (n->len)
            memcpy(buf, n->data, n->len);
        rl_shared_free(n);
    }
    return out;
}

ssize_t rl_queue_size(rl_queue *q)
{
    int r = check_queue(q, "rl_queue_size");
    if (r < 0)
        return r;
    rl__sched_step_global(); /* a look without a schedule point */
    rl__mutex_lock(&q->lock);
    ssize_t n = (ssize_t)q->count;
    rl__mutex_unlock(&q->lock);
    return n;
}

int rl_queue_task_done(rl_queue *q)
{
    rl__point(RL_OP_TASK_DONE, q, NULL);
    int r = check_queue(q, "rl_queue_task_done");
    if (r < 0)
        return r;
    if (!q->joinable)
        return rl__fail(-EINVAL, "rl_queue_task_done: the queue is not "
                                 "joinable");
    rl__mutex_lock(&q->lock);
    if (q->unfinished == 0)
        r = rl__fail(-EINVAL, "rl_queue_task_done: called more times than "
                              "messages were put");
    else
        q->unfinished--;
    int all_done = r == 0 && q->unfinished == 0;
    rl__mutex_unlock(&q->lock);
    if (all_done)
        rl__publish(&q->word);
    return r;
}

int rl_queue_join(rl_queue *q, double timeout)
{
    rl__point(RL_OP_JOIN, q, NULL);
    int r = check_queue(q, "rl_queue_join");
    if (r < 0)
        return r;
    if (!q->joinable)
        return rl__fail(-EINVAL, "rl_queue_join: the queue is not joinable");
    double deadline = rl__deadline(timeout);
    rl__mutex_lock(&q->lock);
    while (q->unfinished > 0) {
        if (timeout == 0) {
            size_t left = q->unfinished;
            rl__mutex_unlock(&q->lock);
            return rl__fail(-EAGAIN,
                            "rl_queue_join: %zu tasks are not "
                            "done",
                            left);
        }
        uint32_t seen = q->word;
        rl__mutex_unlock(&q->lock);
        int b = rl__block(q, &q->word, seen, deadline,
                          "join on a queue with unfinished tasks");
        rl__mutex_lock(&q->lock);
        if (b < 0 && q->unfinished > 0) {
            size_t left = q->unfinished;
            rl__mutex_unlock(&q->lock);
            return rl__fail(-ETIMEDOUT,
                            "rl_queue_join: %zu tasks were not "
                            "done within %.3f s",
                            left, timeout);
        }
    }
    rl__mutex_unlock(&q->lock);
    return 0;
}

int rl_queue_close(rl_queue *q)
{
    rl__point(RL_OP_CLOSE, q, NULL);
    int r = check_queue(q, "rl_queue_close");
    if (r < 0)
        return r;
    rl__mutex_lock(&q->lock);
    q->closed = 1;
    rl__mutex_unlock(&q->lock);
    rl__publish(&q->word);
    return 0;
}

void rl_queue_free(rl_queue *q)
{
    if (!q)
        return;
    if (check_queue(q, "rl_queue_free") < 0)
        return;
    rl__mutex_lock(&q->lock);
    qnode *n = q->head;
    q->head = q->tail = NULL;
    q->count = q->bytes = 0;
    q->magic = 0;
    rl__mutex_unlock(&q->lock);
    while (n) {
        qnode *next = n->next;
        rl_shared_free(n);
        n = next;
    }
    rl_shared_free(q);
}
