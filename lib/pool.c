/* pool.c: a pool of worker processes running byte tasks: map, submit and
 * futures, with dead workers detected, their task failed and replaced. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fnref.h"
#include "internal.h"
#include "scheduler.h"

/* The room a submitted task has for its result (a map task has the
 * item_out the caller declared). */
#define RESULT_MAX ((size_t)1 << 20)

/* How long the parent waits on the pool's word before it looks at its
 * workers again: a worker that dies publishes nothing. */
#define SLICE 0.02

#define WORKER_NAME "rl-pool-worker"

enum { T_QUEUED, T_RUNNING, T_DONE };
enum { K_MAP, K_FUTURE };

/* One task record in the arena: a chunk of a map, or one submitted task. */
typedef struct task {
    struct task *next;
    rl__fnref fn;
    int kind;
    int state;
    int result;     /* the first failing item's error, or 0 */
    int refs;       /* futures: the pool's and the future's */
    const char *in; /* n items of item_in bytes */
    size_t item_in;
    char *out; /* map: n items of item_out bytes */
    size_t item_out;
    size_t n;
    size_t first;      /* map: the index of item 0 of this chunk */
    size_t bad_item;   /* index in the chunk of the first failing item */
    size_t cur_item;   /* the item being run, for a worker's death */
    size_t *remaining; /* map: chunks not done yet */
    char *res;         /* future: the result bytes (arena) */
    size_t res_len;
    char msg[200]; /* why it failed, for rl_last_error */
} task;

typedef struct pool_shared pool_shared;

/* A worker's slot: what it runs now, so that its death fails just that. */
typedef struct {
    pool_shared *sh;
    int index;
    pid_t pid;
    task *cur;
    unsigned done;
} slot;

struct pool_shared {
    pthread_mutex_t lock;
    uint32_t work_word; /* published when work is queued or on close */
    uint32_t done_word; /* published when a task ends or a worker leaves */
    int closed;
    int terminated;
    int fork_method;
    int max_tasks;
    int has_init;
    rl__fnref init;
    void *initarg;
    task *head, *tail;
    size_t queued;
    int nslots;
    slot slots[];
};

struct rl_pool {
    pool_shared *sh;
    rl_process **procs;
    int nworkers;
    rl_pool_opts opts;
    pid_t owner;
    int closed, terminated, joined;
};

struct rl_future {
    rl_pool *pool;
    task *t;
};

/* ---------------------------------------------------------------- */
/* Task records                                                      */
/* ---------------------------------------------------------------- */

/* Ends a task under the pool lock: records result and message, wakes the
 * waiters (the caller publishes done_word after unlocking), and drops the
 * pool's reference of a future (freeing a record whose future is gone). */
static void task_finish_locked(pool_shared *sh, task *t, int result,
                               const char *msg)
{
    (void)sh;
    t->state = T_DONE;
    if (result < 0 && t->result == 0) {
        t->result = result;
        t->bad_item = t->cur_item;
        if (msg)
            snprintf(t->msg, sizeof t->msg, "%s", msg);
    }
    if (t->kind == K_MAP) {
        (*t->remaining)--;
    } else if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        rl_shared_free(t->res);
        rl_shared_free(t);
    }
}

/* Appends t to the run queue. Caller holds the lock. */
static void enqueue_locked(pool_shared *sh, task *t)
{
    t->next = NULL;
    t->state = T_QUEUED;
    if (sh->tail)
        sh->tail->next = t;
    else
        sh->head = t;
    sh->tail = t;
    sh->queued++;
}

static task *dequeue_locked(pool_shared *sh)
{
    task *t = sh->head;
    if (!t)
        return NULL;
    sh->head = t->next;
    if (!sh->head)
        sh->tail = NULL;
    sh->queued--;
    t->next = NULL;
    return t;
}

/* ---------------------------------------------------------------- */
/* The worker                                                        */
/* ---------------------------------------------------------------- */

/* Runs every item of t: fn on each input with a bounded output room. A
 * future's result goes to scratch, then to an arena buffer of its size.
 * Returns 0 or the first item's error; t->bad_item says which item. */
static int run_task(pool_shared *sh, task *t, char *scratch, char *msg,
                    size_t msg_cap)
{
    rl_task fn = (rl_task)rl__fnref_resolve(sh->fork_method, &t->fn);
    if (!fn) {
        snprintf(msg, msg_cap,
                 "the task function (%.120s+%#lx) is not loaded "
                 "in worker %d",
                 t->fn.obj[0] ? t->fn.obj : "main program",
                 (unsigned long)t->fn.off, (int)rl__pid());
        return -ENOEXEC;
    }
    int first_err = 0;
    for (size_t i = 0; i < t->n; i++) {
        __atomic_store_n(&t->cur_item, i, __ATOMIC_RELAXED);
        const char *in = t->in + i * t->item_in;
        char *out = t->kind == K_MAP ? t->out + i * t->item_out : scratch;
        size_t room = t->kind == K_MAP ? t->item_out : RESULT_MAX;
        size_t len = room;
        int r = fn(in, t->item_in, out, &len);
        if (r > 0)
            r = 0;
        if (r == 0 && len > room)
            r = -EMSGSIZE;
        if (r < 0 && !first_err) {
            first_err = r;
            t->bad_item = i;
            if (r == -EMSGSIZE && len > room)
                snprintf(msg, msg_cap,
                         "the task reported %zu bytes of "
                         "result for a room of %zu",
                         len, room);
            else
                snprintf(msg, msg_cap, "the task returned %d (%s)", r,
                         rl_strerror(r));
        }
        if (r == 0 && t->kind == K_FUTURE) {
            t->res_len = len;
            if (len) {
                t->res = rl_shared_alloc(len);
                if (!t->res) {
                    snprintf(msg, msg_cap,
                             "no arena room for a result of "
                             "%zu bytes",
                             len);
                    return -ENOMEM;
                }
                memcpy(t->res, scratch, len);
            }
        }
    }
    return first_err;
}

/* The entry of every worker process: runs the initializer, then tasks
 * from the queue until the pool is closed and drained, or until it has run
 * max_tasks_per_child of them. arg is its slot in the arena. */
static int worker_main(void *arg)
{
    slot *s = arg;
    pool_shared *sh = s->sh;
    if (sh->has_init) {
        rl_pool_init init =
            (rl_pool_init)rl__fnref_resolve(sh->fork_method, &sh->init);
        if (!init || init(sh->initarg) != 0)
            return 3;
    }
    char *scratch = NULL;
    unsigned done = 0;
    for (;;) {
        rl__point(RL_OP_GET, sh, "pool worker takes a task");
        rl__mutex_lock(&sh->lock);
        while (!sh->head && !sh->closed) {
            uint32_t seen = sh->work_word;
            rl__mutex_unlock(&sh->lock);
            rl__block(sh, &sh->work_word, seen, -1,
                      "pool worker waits for a task");
            rl__mutex_lock(&sh->lock);
        }
        task *t = dequeue_locked(sh);
        if (!t) {
            rl__mutex_unlock(&sh->lock);
            break;
        }
        t->state = T_RUNNING;
        s->cur = t;
        rl__mutex_unlock(&sh->lock);

        if (t->kind == K_FUTURE && !scratch)
            scratch = malloc(RESULT_MAX);
        char msg[sizeof t->msg] = "";
        int r;
        if (t->kind == K_FUTURE && !scratch) {
            r = -ENOMEM;
            snprintf(msg, sizeof msg,
                     "worker %d: no memory for a result "
                     "buffer",
                     (int)rl__pid());
        } else {
            r = run_task(sh, t, scratch, msg, sizeof msg);
        }

        rl__point(RL_OP_TASK_DONE, sh, "pool worker finishes a task");
        rl__mutex_lock(&sh->lock);
        if (s->cur == t) { /* not taken away by a terminate */
            size_t bad = t->bad_item;
            t->cur_item = bad;
            task_finish_locked(sh, t, r, msg);
            s->cur = NULL;
        }
        s->done = ++done;
        rl__mutex_unlock(&sh->lock);
        rl__publish(&sh->done_word);
        if (sh->max_tasks > 0 && done >= (unsigned)sh->max_tasks)
            break;
    }
    free(scratch);
    rl__publish(&sh->done_word);
    return 0;
}

/* ---------------------------------------------------------------- */
/* The parent's side                                                 */
/* ---------------------------------------------------------------- */

static int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
#ifdef RL_TESTING
    /* Few workers, so that every worker sees several tasks and the
     * replacement paths run in every test. */
    if (n > 2)
        n = 2;
#endif
    return n > 1024 ? 1024 : (int)n;
}

/* Starts the worker of slot i. Returns 0 or a negative errno. */
static int start_worker(rl_pool *pool, int i)
{
    slot *s = &pool->sh->slots[i];
    rl__mutex_lock(&pool->sh->lock);
    s->cur = NULL;
    s->done = 0;
    s->pid = 0;
    rl__mutex_unlock(&pool->sh->lock);
    rl_process_opts o = {
        .method = pool->opts.method, .name = WORKER_NAME, .daemon = 1};
    int r = rl_process_start(&pool->procs[i], worker_main, s, &o);
    if (r < 0) {
        pool->procs[i] = NULL;
        return r;
    }
    s->pid = rl_process_pid(pool->procs[i]);
    return 0;
}

/* Looks at every worker once without blocking: a worker that ended fails
 * the task it held with -ECHILD (or -ECANCELED after terminate), is
 * reaped, and is replaced while there is work it could do. Returns the
 * number of workers still running. */
static int maintain(rl_pool *pool)
{
    pool_shared *sh = pool->sh;
    int running = 0;
    for (int i = 0; i < pool->nworkers; i++) {
        rl_process *p = pool->procs[i];
        if (p && rl_process_join(p, 0) != 0) {
            running++;
            continue;
        }
        if (p) {
            int code = 0;
            rl_process_exitcode(p, &code);
            pid_t pid = rl_process_pid(p);
            rl__mutex_lock(&sh->lock);
            task *t = sh->slots[i].cur;
            sh->slots[i].cur = NULL;
            if (t) {
                char msg[sizeof t->msg];
                if (pool->terminated)
                    snprintf(msg, sizeof msg, "the pool was terminated");
                else if (code < 0)
                    snprintf(msg, sizeof msg,
                             "worker pid %d died by signal "
                             "%d (%s) while running the task",
                             (int)pid, -code, strsignal(-code));
                else
                    snprintf(msg, sizeof msg,
                             "worker pid %d exited with "
                             "status %d while running the task",
                             (int)pid, code);
                task_finish_locked(
                    sh, t, pool->terminated ? -ECANCELED : -ECHILD, msg);
            }
            rl__mutex_unlock(&sh->lock);
            rl__publish(&sh->done_word);
            rl_process_free(p);
            pool->procs[i] = NULL;
        }
        if (pool->terminated)
            continue;
        rl__mutex_lock(&sh->lock);
        int needed = !sh->closed || sh->head != NULL;
        rl__mutex_unlock(&sh->lock);
        if (needed && start_worker(pool, i) == 0)
            running++;
    }
    return running;
}

/* Waits until *cond (read under the pool lock) becomes true or the
 * timeout passes, looking at the workers between slices. A timeout of 0
 * checks once. Under the scheduler only the scheduler times a wait out
 * (never the wall clock), so a replay gives the same verdict on any
 * machine. Returns 0 or -ETIMEDOUT. */
static int wait_until(rl_pool *pool, int (*cond)(rl_pool *, void *), void *arg,
                      double timeout, const char *reason)
{
    pool_shared *sh = pool->sh;
    double deadline = rl__deadline(timeout);
    int controlled = rl__controlled(), told = 0;
    for (;;) {
        maintain(pool);
        rl__mutex_lock(&sh->lock);
        int ok = cond(pool, arg);
        uint32_t seen = sh->done_word;
        rl__mutex_unlock(&sh->lock);
        if (ok)
            return 0;
        if (timeout == 0 || told)
            return -ETIMEDOUT;
        if (!controlled && rl__expired(deadline))
            return -ETIMEDOUT;
        double slice = rl__now() + SLICE;
        if (deadline >= 0 && deadline < slice)
            slice = deadline;
        /* Under the scheduler a slice ends only when no other actor can
         * run: for a finite timeout that is the time-out (after one more
         * look), for a wait forever just another look at the workers. */
        if (rl__block(pool, &sh->done_word, seen, slice, reason) ==
                -ETIMEDOUT &&
            controlled && deadline >= 0)
            told = 1;
    }
}

int rl_pool_new(rl_pool **pool, const rl_pool_opts *opts)
{
    if (!pool)
        return rl__fail(-EINVAL, "rl_pool_new: pool is NULL");
    rl_pool_opts o = {0};
    if (opts)
        o = *opts;
    if (o.workers < 0 || o.max_tasks_per_child < 0 || o.chunksize < 0)
        return rl__fail(-EINVAL,
                        "rl_pool_new: negative workers (%d), "
                        "max_tasks_per_child (%d) or chunksize (%d)",
                        o.workers, o.max_tasks_per_child, o.chunksize);
    if (o.method != RL_START_FORK && o.method != RL_START_SPAWN &&
        o.method != RL_START_FORKSERVER)
        return rl__fail(-EINVAL, "rl_pool_new: unknown start method %d",
                        (int)o.method);
    if (o.method != RL_START_FORK && o.initarg && !rl_is_shared(o.initarg))
        return rl__fail(-EINVAL,
                        "rl_pool_new: initarg must be NULL or "
                        "shared memory for spawn and forkserver workers");
    int n = o.workers ? o.workers : default_workers();
    rl_pool *p = calloc(1, sizeof *p);
    if (!p)
        return rl__fail(-ENOMEM, "rl_pool_new: out of memory");
    p->procs = calloc((size_t)n, sizeof *p->procs);
    p->sh = rl_shared_alloc(sizeof *p->sh + (size_t)n * sizeof(slot));
    if (!p->procs || !p->sh) {
        free(p->procs);
        rl_shared_free(p->sh);
        free(p);
        return rl__fail(-ENOMEM, "rl_pool_new: no room for %d workers", n);
    }
    p->nworkers = n;
    p->opts = o;
    p->owner = rl__pid();
    pool_shared *sh = p->sh;
    int r = rl__mutex_init(&sh->lock, 0);
    if (r == 0 && o.initializer) {
        r = rl__fnref_make(&sh->init, (uintptr_t)o.initializer);
        sh->has_init = 1;
    }
    if (r < 0) {
        rl_shared_free(sh);
        free(p->procs);
        free(p);
        return r;
    }
    sh->fork_method = o.method == RL_START_FORK;
    sh->max_tasks = o.max_tasks_per_child;
    sh->initarg = o.initarg;
    sh->nslots = n;
    for (int i = 0; i < n; i++) {
        sh->slots[i].sh = sh;
        sh->slots[i].index = i;
    }
    for (int i = 0; i < n; i++) {
        r = start_worker(p, i);
        if (r < 0) {
            char why[256];
            snprintf(why, sizeof why, "%s", rl_last_error());
            rl_pool_terminate(p);
            rl_pool_free(p);
            return rl__fail(r, "rl_pool_new: starting worker %d: %s", i, why);
        }
    }
    *pool = p;
    return 0;
}

typedef struct {
    size_t *remaining;
} map_wait;

static int map_done(rl_pool *pool, void *arg)
{
    (void)pool;
    return *((map_wait *)arg)->remaining == 0;
}

/* The automatic chunk size: about four chunks per worker. */
static size_t chunk_for(rl_pool *pool, size_t n)
{
    if (pool->opts.chunksize > 0)
        return (size_t)pool->opts.chunksize;
    size_t div = 4 * (size_t)pool->nworkers;
    size_t c = (n + div - 1) / div;
    return c ? c : 1;
}

int rl_pool_map(rl_pool *pool, rl_task fn, const void *in, size_t item_in,
                size_t n, void *out, size_t item_out)
{
    if (!pool || !fn)
        return rl__fail(-EINVAL, "rl_pool_map: NULL pool or function");
    if (n == 0)
        return 0;
    if ((item_in && !in) || (item_out && !out))
        return rl__fail(-EINVAL, "rl_pool_map: NULL buffer");
    /* Keeps item_in + item_out + 1 below from wrapping to 0. */
    if (item_in > SIZE_MAX / 4 || item_out > SIZE_MAX / 4)
        return rl__fail(-EMSGSIZE,
                        "rl_pool_map: items of %zu bytes in and "
                        "%zu out are too large",
                        item_in, item_out);
    if (pool->closed)
        return rl__fail(-EPIPE, "rl_pool_map: the pool is closed");
    rl__point(RL_OP_SUBMIT, pool->sh, "pool map");
    rl__fnref ref;
    int r = rl__fnref_make(&ref, (uintptr_t)fn);
    if (r < 0)
        return r;
    size_t chunk = chunk_for(pool, n);
    size_t nchunks = (n + chunk - 1) / chunk;
    if (n > SIZE_MAX / 2 / (item_in + item_out + 1))
        return rl__fail(-ENOMEM, "rl_pool_map: %zu items are too many", n);
    size_t tasks_sz = nchunks * sizeof(task);
    size_t in_off = (sizeof(size_t) + tasks_sz + 15) & ~(size_t)15;
    size_t out_off = (in_off + n * item_in + 15) & ~(size_t)15;
    size_t total = out_off + n * item_out;
    char *block = rl_shared_alloc(total);
    if (!block)
        return rl__fail(-ENOMEM,
                        "rl_pool_map: %zu items of %zu+%zu bytes "
                        "do not fit in the arena (%s)",
                        n, item_in, item_out, rl_last_error());
    size_t *remaining = (size_t *)block;
    task *tasks = (task *)(block + sizeof(size_t));
    char *ibuf = block + in_off, *obuf = block + out_off;
    if (item_in)
        memcpy(ibuf, in, n * item_in);
    *remaining = nchunks;
    pool_shared *sh = pool->sh;
    rl__mutex_lock(&sh->lock);
    for (size_t c = 0; c < nchunks; c++) {
        task *t = &tasks[c];
        t->fn = ref;
        t->kind = K_MAP;
        t->first = c * chunk;
        t->n = c + 1 < nchunks ? chunk : n - t->first;
        t->in = ibuf + t->first * item_in;
        t->item_in = item_in;
        t->out = obuf + t->first * item_out;
        t->item_out = item_out;
        t->remaining = remaining;
        enqueue_locked(sh, t);
    }
    rl__mutex_unlock(&sh->lock);
    rl__publish(&sh->work_word);

    map_wait mw = {remaining};
    wait_until(pool, map_done, &mw, -1, "pool map waits for its results");

    if (item_out)
        memcpy(out, obuf, n * item_out);
    r = 0;
    for (size_t c = 0; c < nchunks; c++) {
        if (tasks[c].result < 0) {
            size_t item = tasks[c].first + tasks[c].bad_item;
            r = rl__fail(tasks[c].result, "rl_pool_map: item %zu failed: %s",
                         item, tasks[c].msg);
            break;
        }
    }
    rl_shared_free(block);
    return r;
}

int rl_pool_submit(rl_pool *pool, rl_task fn, const void *in, size_t len,
                   rl_future **f)
{
    if (!pool || !fn || !f || (len && !in))
        return rl__fail(-EINVAL, "rl_pool_submit: NULL argument");
    if (pool->closed)
        return rl__fail(-EPIPE, "rl_pool_submit: the pool is closed");
    rl__point(RL_OP_SUBMIT, pool->sh, "pool submit");
    rl_future *fu = calloc(1, sizeof *fu);
    task *t = rl_shared_alloc(sizeof(task) + (len ? len : 1));
    if (!fu || !t) {
        free(fu);
        rl_shared_free(t);
        return rl__fail(-ENOMEM, "rl_pool_submit: no room for the task");
    }
    int r = rl__fnref_make(&t->fn, (uintptr_t)fn);
    if (r < 0) {
        free(fu);
        rl_shared_free(t);
        return r;
    }
    char *ib = (char *)(t + 1);
    if (len)
        memcpy(ib, in, len);
    t->kind = K_FUTURE;
    t->refs = 2;
    t->in = ib;
    t->item_in = len;
    t->n = 1;
    fu->pool = pool;
    fu->t = t;
    rl__mutex_lock(&pool->sh->lock);
    enqueue_locked(pool->sh, t);
    rl__mutex_unlock(&pool->sh->lock);
    rl__publish(&pool->sh->work_word);
    *f = fu;
    /* A worker that left after max_tasks_per_child is replaced here too,
     * so work submitted without waiting still finds a worker. */
    maintain(pool);
    return 0;
}

static int future_is_done(rl_pool *pool, void *arg)
{
    (void)pool;
    return ((rl_future *)arg)->t->state == T_DONE;
}

ssize_t rl_future_get(rl_future *f, void *out, size_t cap, double timeout)
{
    if (!f)
        return rl__fail(-EINVAL, "rl_future_get: NULL future");
    if (!out && cap)
        return rl__fail(-EINVAL, "rl_future_get: NULL buffer of %zu bytes",
                        cap);
    /* The wait reads the whole pool (and may replace its workers). */
    rl__point_key(RL_OP_GET, f->t, f->pool->sh, 0, "future get");
    int r = wait_until(f->pool, future_is_done, f, timeout,
                       "future get waits for the result");
    if (r < 0)
        return rl__fail(timeout == 0 ? -EAGAIN : -ETIMEDOUT,
                        "rl_future_get: the task is not done yet");
    task *t = f->t;
    if (t->result < 0)
        return rl__fail(t->result, "rl_future_get: %s", t->msg);
    if (t->res_len > cap)
        return rl__fail(-EMSGSIZE,
                        "rl_future_get: the result is %zu bytes, "
                        "the buffer %zu",
                        t->res_len, cap);
    if (t->res_len)
        memcpy(out, t->res, t->res_len);
    return (ssize_t)t->res_len;
}

int rl_future_done(rl_future *f)
{
    if (!f)
        return 0;
    rl__sched_step_global(); /* a look without a schedule point */
    maintain(f->pool);
    return __atomic_load_n(&f->t->state, __ATOMIC_ACQUIRE) == T_DONE;
}

void rl_future_free(rl_future *f)
{
    if (!f)
        return;
    /* The count is atomic, so a future may outlive its pool. */
    task *t = f->t;
    if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        rl_shared_free(t->res);
        rl_shared_free(t);
    }
    free(f);
}

int rl_pool_close(rl_pool *pool)
{
    if (!pool)
        return rl__fail(-EINVAL, "rl_pool_close: NULL pool");
    rl__point(RL_OP_CLOSE, pool->sh, "pool close");
    pool->closed = 1;
    rl__mutex_lock(&pool->sh->lock);
    pool->sh->closed = 1;
    rl__mutex_unlock(&pool->sh->lock);
    rl__publish(&pool->sh->work_word);
    return 0;
}

int rl_pool_terminate(rl_pool *pool)
{
    if (!pool)
        return rl__fail(-EINVAL, "rl_pool_terminate: NULL pool");
    rl__point(RL_OP_CLOSE, pool->sh, "pool terminate");
    pool_shared *sh = pool->sh;
    pool->closed = pool->terminated = 1;
    rl__mutex_lock(&sh->lock);
    sh->closed = sh->terminated = 1;
    task *t;
    while ((t = dequeue_locked(sh)))
        task_finish_locked(sh, t, -ECANCELED, "the pool was terminated");
    rl__mutex_unlock(&sh->lock);
    for (int i = 0; i < pool->nworkers; i++)
        if (pool->procs[i])
            rl_process_kill(pool->procs[i]);
    rl__publish(&sh->work_word);
    rl__publish(&sh->done_word);
    return 0;
}

static int all_gone(rl_pool *pool, void *arg)
{
    (void)arg;
    for (int i = 0; i < pool->nworkers; i++)
        if (pool->procs[i])
            return 0;
    return 1;
}

int rl_pool_join(rl_pool *pool, double timeout)
{
    if (!pool)
        return rl__fail(-EINVAL, "rl_pool_join: NULL pool");
    if (!pool->closed)
        return rl__fail(-EINVAL, "rl_pool_join: the pool is neither "
                                 "closed nor terminated");
    rl__point(RL_OP_JOIN, pool->sh, "pool join");
    int r = wait_until(pool, all_gone, NULL, timeout,
                       "pool join waits for the workers to exit");
    if (r < 0)
        return rl__fail(timeout == 0 ? -EAGAIN : -ETIMEDOUT,
                        "rl_pool_join: workers are still running");
    pool->joined = 1;
    return 0;
}

void rl_pool_free(rl_pool *pool)
{
    if (!pool)
        return;
    if (!pool->joined) {
        if (!pool->closed || pool->terminated || rl_pool_join(pool, 0) != 0)
            rl_pool_terminate(pool);
        rl_pool_join(pool, -1);
    }
    /* Map records are freed by their map; futures still pending hold
     * their own reference. */
    free(pool->procs);
    rl_shared_free(pool->sh);
    free(pool);
}
