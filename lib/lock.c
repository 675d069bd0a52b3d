/* lock.c: locks, re-entrant locks and the conditions bound to them, in
 * the arena and working across processes; a lock whose holder died is
 * handed over robustly. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "procfs.h"
#include "scheduler.h"

/* ------------------------------------------------------------------ */
/* Locks                                                               */
/* ------------------------------------------------------------------ */

/* The robust mutex is the ownership record: the kernel hands it over with
 * EOWNERDEAD when its holder dies. The owner fields repeat who holds it so
 * that conditions can check "held by the caller" without touching the
 * mutex, and depth counts recursion of an rl_rlock. word is what a
 * controlled acquire blocks on; waiters tells a release whether anyone
 * blocks there, so free-running releases skip the wake-up. */
struct rl_lock {
    pthread_mutex_t m;
    uint32_t word;
    uint32_t waiters;
    pid_t owner_pid;
    pid_t owner_tid;
    unsigned depth;
    int recursive;
};

struct rl_rlock {
    struct rl_lock base;
};

/* Fills ts with an absolute CLOCK_MONOTONIC time for a deadline from
 * rl__deadline (which must be finite). */
static void deadline_to_timespec(double deadline, struct timespec *ts)
{
    double whole = floor(deadline);
    ts->tv_sec = (time_t)whole;
    ts->tv_nsec = (long)((deadline - whole) * 1e9);
    if (ts->tv_nsec >= 1000000000L)
        ts->tv_nsec = 999999999L;
    if (ts->tv_nsec < 0)
        ts->tv_nsec = 0;
}

/* True when the calling thread of the calling process holds l. Only the
 * holder writes its own pid and tid there, so a racy read by anyone else
 * can never match. */
static int held_by_me(const struct rl_lock *l)
{
    return __atomic_load_n(&l->owner_pid, __ATOMIC_RELAXED) == rl__pid() &&
           __atomic_load_n(&l->owner_tid, __ATOMIC_RELAXED) == gettid();
}

/* Records the caller as the holder; called with the mutex just taken. */
static void set_owner(struct rl_lock *l)
{
    __atomic_store_n(&l->owner_pid, rl__pid(), __ATOMIC_RELAXED);
    __atomic_store_n(&l->owner_tid, gettid(), __ATOMIC_RELAXED);
}

/* Forgets the holder; called just before the mutex is unlocked. */
static void clear_owner(struct rl_lock *l)
{
    __atomic_store_n(&l->owner_pid, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&l->owner_tid, 0, __ATOMIC_RELAXED);
}

/* Allocates and initialises a lock of size bytes in the arena. Returns
 * NULL (with rl_last_error set) when the arena is full. */
static struct rl_lock *lock_make(int recursive, size_t size)
{
    struct rl_lock *l = rl_shared_alloc(size);
    if (!l)
        return NULL;
    int r = rl__mutex_init(&l->m, recursive);
    if (r < 0) {
        rl_shared_free(l);
        rl__fail(r, "initialising a process-shared mutex: %s", rl_strerror(r));
        return NULL;
    }
    l->recursive = recursive;
    return l;
}

/* Handles the outcome of a pthread lock call: 0 or EOWNERDEAD mean the
 * caller holds the mutex now. Returns 0, -EOWNERDEAD (held), 1 for "busy"
 * or a negative errno. */
static int lock_taken(struct rl_lock *l, int r, const char *what)
{
    if (r == 0 || r == EOWNERDEAD) {
        if (r == EOWNERDEAD) {
            pthread_mutex_consistent(&l->m);
            l->depth = 0;
        }
        if (l->depth++ == 0) {
            set_owner(l);
            rl__locks_held++;
        }
        if (r == EOWNERDEAD)
            return rl__fail(-EOWNERDEAD,
                            "%s: the previous holder died holding it; the "
                            "caller holds it now and must repair the state "
                            "it protects",
                            what);
        return 0;
    }
    if (r == EBUSY)
        return 1;
    return rl__fail(-r, "%s: %s", what, rl_strerror(-r));
}

/* Acquires l without a schedule point (rl_cond_wait reuses it). */
static int lock_acquire(struct rl_lock *l, double timeout, const char *what)
{
    if (!l->recursive && held_by_me(l))
        return rl__fail(-EDEADLK, "%s: the calling thread holds it already",
                        what);
    double deadline = rl__deadline(timeout);
    if (!rl__controlled()) {
        int r;
        if (timeout == 0) {
            r = pthread_mutex_trylock(&l->m);
        } else if (deadline < 0 || timeout > 1e9) {
            /* Beyond 30 years is forever, and keeps time_t in range. */
            r = pthread_mutex_lock(&l->m);
        } else {
            struct timespec ts;
            deadline_to_timespec(deadline, &ts);
            r = pthread_mutex_clocklock(&l->m, CLOCK_MONOTONIC, &ts);
        }
        r = lock_taken(l, r, what);
        if (r == 1)
            return rl__fail(-EAGAIN, "%s: held by another", what);
        if (r == -ETIMEDOUT)
            return rl__fail(-ETIMEDOUT, "%s: still held after %.3f s", what,
                            timeout);
        return r;
    }
    /* Controlled: never block in the kernel. The waiter count is raised
     * before the word is read so that a release either sees it or
     * happened before the read, which then sees the unlocked mutex. */
    int counted = 0, told = 0, r;
    for (;;) {
        uint32_t seen = __atomic_load_n(&l->word, __ATOMIC_SEQ_CST);
        r = lock_taken(l, pthread_mutex_trylock(&l->m), what);
        if (r != 1)
            break;
        if (timeout == 0) {
            r = rl__fail(-EAGAIN, "%s: held by another", what);
            break;
        }
        if (told) {
            r = rl__fail(-ETIMEDOUT, "%s: still held after %.3f s", what,
                         timeout);
            break;
        }
        if (!counted) {
            __atomic_add_fetch(&l->waiters, 1, __ATOMIC_SEQ_CST);
            counted = 1;
            continue; /* re-read the word after announcing ourselves */
        }
        pid_t owner = __atomic_load_n(&l->owner_pid, __ATOMIC_RELAXED);
        if (owner > 0 && rl__proc_exiting(owner)) {
            /* Nobody publishes a holder's death: the kernel hands the
             * mutex over as soon as it has walked the dying process's
             * robust list, which needs no schedule point, so a short
             * wait in the kernel is safe here. The scheduler lets the
             * next actor run only once a finished holder has ended, so
             * this is a rare safety net; the caller's own deadline does
             * not bound it (the wall clock must not decide the outcome
             * under the scheduler): after a second the loop looks at
             * the holder again. */
            struct timespec ts;
            deadline_to_timespec(rl__now() + 1.0, &ts);
            r = lock_taken(
                l, pthread_mutex_clocklock(&l->m, CLOCK_MONOTONIC, &ts), what);
            if (r != -ETIMEDOUT && r != 1)
                break;
            continue;
        }
        char reason[128];
        snprintf(reason, sizeof reason, "%s: held by pid %d", what, (int)owner);
        if (rl__block(l, &l->word, seen, deadline, reason) == -ETIMEDOUT)
            told = 1;
    }
    if (counted)
        __atomic_sub_fetch(&l->waiters, 1, __ATOMIC_SEQ_CST);
    return r;
}

/* Releases l without a schedule point. */
static int lock_release(struct rl_lock *l, const char *what)
{
    if (!held_by_me(l))
        return rl__fail(-EPERM, "%s: the caller does not hold it", what);
    int last = --l->depth == 0;
    if (last)
        clear_owner(l);
    int r = pthread_mutex_unlock(&l->m);
    if (r) {
        if (last)
            set_owner(l);
        l->depth++;
        return rl__fail(-r, "%s: %s", what, rl_strerror(-r));
    }
    if (last)
        rl__locks_held--;
    /* Pairs with the waiter's increment before its trylock. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (last && __atomic_load_n(&l->waiters, __ATOMIC_SEQ_CST))
        rl__publish(&l->word);
    return 0;
}

/* Creates a lock in the arena. Returns NULL when the arena is full. */
rl_lock *rl_lock_new(void)
{
    return lock_make(0, sizeof(struct rl_lock));
}

/* Acquires l (see racelab.h). A thread that holds l already gets -EDEADLK
 * instead of waiting for itself forever. */
int rl_lock_acquire(rl_lock *l, double timeout)
{
    if (!l)
        return rl__fail(-EINVAL, "rl_lock_acquire: lock is NULL");
    rl__point_key(RL_OP_ACQUIRE, l, l, RL__TARGET_EXCLUSIVE, NULL);
    return lock_acquire(l, timeout, "rl_lock_acquire");
}

/* Releases l. Only the thread that acquired it may release it (unlike
 * Python's Lock): the robust mutex needs one owner to hand over when the
 * owner dies. Others get -EPERM. */
int rl_lock_release(rl_lock *l)
{
    if (!l)
        return rl__fail(-EINVAL, "rl_lock_release: lock is NULL");
    rl__point_key(RL_OP_RELEASE, l, l, RL__TARGET_EXCLUSIVE, NULL);
    return lock_release(l, "rl_lock_release");
}

/* Frees l. Only once no process uses it. NULL is ignored. */
void rl_lock_free(rl_lock *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->m);
    rl_shared_free(l);
}

/* Creates a re-entrant lock in the arena; NULL when the arena is full. */
rl_rlock *rl_rlock_new(void)
{
    return (rl_rlock *)lock_make(1, sizeof(struct rl_rlock));
}

/* Acquires l, again if the calling thread holds it already. */
int rl_rlock_acquire(rl_rlock *l, double timeout)
{
    if (!l)
        return rl__fail(-EINVAL, "rl_rlock_acquire: lock is NULL");
    rl__point_key(RL_OP_ACQUIRE, l, l, RL__TARGET_EXCLUSIVE, NULL);
    return lock_acquire(&l->base, timeout, "rl_rlock_acquire");
}

/* Releases one level of l; -EPERM from any thread but the owner. */
int rl_rlock_release(rl_rlock *l)
{
    if (!l)
        return rl__fail(-EINVAL, "rl_rlock_release: lock is NULL");
    rl__point_key(RL_OP_RELEASE, l, l, RL__TARGET_EXCLUSIVE, NULL);
    return lock_release(&l->base, "rl_rlock_release");
}

/* Frees l. Only once no process uses it. NULL is ignored. */
void rl_rlock_free(rl_rlock *l)
{
    rl_lock_free(l ? &l->base : NULL);
}

/* ------------------------------------------------------------------ */
/* Conditions                                                          */
/* ------------------------------------------------------------------ */

/* One waiting call: queued in arrival order, popped and marked by a
 * notify. The waiter owns the node and frees it once it is off the
 * queue. */
typedef struct cond_node {
    struct cond_node *next;
    pid_t pid;
    int notified;
} cond_node;

struct rl_cond {
    pthread_mutex_t m;
    uint32_t word;
    rl_lock *lock;
    cond_node *head, *tail;
};

/* Creates a condition bound to lock; NULL when lock is NULL or the arena
 * is full. */
rl_cond *rl_cond_new(rl_lock *lock)
{
    if (!lock) {
        rl__fail(-EINVAL, "rl_cond_new: lock is NULL");
        return NULL;
    }
    rl_cond *c = rl_shared_alloc(sizeof *c);
    if (!c)
        return NULL;
    int r = rl__mutex_init(&c->m, 0);
    if (r < 0) {
        rl_shared_free(c);
        rl__fail(r, "rl_cond_new: initialising its mutex");
        return NULL;
    }
    c->lock = lock;
    return c;
}

/* Takes node out of the queue of c if it is still there. */
static void cond_unlink(rl_cond *c, cond_node *node)
{
    cond_node *prev = NULL;
    for (cond_node *n = c->head; n; prev = n, n = n->next) {
        if (n != node)
            continue;
        if (prev)
            prev->next = n->next;
        else
            c->head = n->next;
        if (c->tail == n)
            c->tail = prev;
        return;
    }
}

/* Releases the lock, waits for a notify and re-acquires the lock (see
 * racelab.h). Returns 1 notified, 0 timed out, -EPERM without the lock,
 * -ENOMEM when the arena has no room for the wait record, -EOWNERDEAD
 * when re-acquiring found the lock's holder dead (the caller holds it). */
int rl_cond_wait(rl_cond *c, double timeout)
{
    if (!c)
        return rl__fail(-EINVAL, "rl_cond_wait: condition is NULL");
    /* A wait releases and re-acquires the lock: its steps touch the lock,
     * and everything of the condition changes under that lock. */
    rl__point_key(RL_OP_WAIT, c, c->lock, 0, NULL);
    if (!held_by_me(c->lock))
        return rl__fail(-EPERM, "rl_cond_wait: the caller does not hold "
                                "the condition's lock");
    cond_node *node = rl_shared_alloc(sizeof *node);
    if (!node)
        return -ENOMEM;
    node->pid = rl__pid();
    double deadline = rl__deadline(timeout);
    rl__mutex_lock(&c->m);
    if (c->tail)
        c->tail->next = node;
    else
        c->head = node;
    c->tail = node;
    rl__mutex_unlock(&c->m);

    int r = lock_release(c->lock, "rl_cond_wait");
    if (r < 0) {
        rl__mutex_lock(&c->m);
        cond_unlink(c, node);
        rl__mutex_unlock(&c->m);
        rl_shared_free(node);
        return r;
    }
    int told = 0;
    rl__mutex_lock(&c->m);
    for (;;) {
        if (node->notified) {
            r = 1;
            break;
        }
        if (timeout == 0 || rl__wait_over(deadline, told)) {
            cond_unlink(c, node);
            r = 0;
            break;
        }
        uint32_t seen = __atomic_load_n(&c->word, __ATOMIC_ACQUIRE);
        rl__mutex_unlock(&c->m);
        if (rl__block(c, &c->word, seen, deadline, "wait on condition") ==
            -ETIMEDOUT)
            told = 1;
        rl__mutex_lock(&c->m);
    }
    rl__mutex_unlock(&c->m);
    rl_shared_free(node);

    int a = lock_acquire(c->lock, -1, "rl_cond_wait re-acquiring its lock");
    return a == 0 ? r : a;
}

/* Pops up to n queued waiters and marks them notified; waiters of
 * processes that died are dropped without counting. */
static int cond_notify(rl_cond *c, unsigned n, const char *what)
{
    if (!c)
        return rl__fail(-EINVAL, "%s: condition is NULL", what);
    rl__point_key(RL_OP_NOTIFY, c, c->lock, 0, NULL);
    if (!held_by_me(c->lock))
        return rl__fail(-EPERM,
                        "%s: the caller does not hold the "
                        "condition's lock",
                        what);
    unsigned woken = 0;
    cond_node *dead = NULL;
    rl__mutex_lock(&c->m);
    while (woken < n && c->head) {
        cond_node *node = c->head;
        c->head = node->next;
        if (!c->head)
            c->tail = NULL;
        node->next = NULL;
        if (kill(node->pid, 0) < 0 && errno == ESRCH) {
            node->next = dead;
            dead = node;
            continue;
        }
        node->notified = 1;
        woken++;
    }
    rl__mutex_unlock(&c->m);
    while (dead) {
        cond_node *next = dead->next;
        rl_shared_free(dead);
        dead = next;
    }
    if (woken)
        rl__publish(&c->word);
    return 0;
}

/* Wakes at most n waiters, oldest first. */
int rl_cond_notify(rl_cond *c, unsigned n)
{
    return cond_notify(c, n, "rl_cond_notify");
}

/* Wakes every waiter. */
int rl_cond_notify_all(rl_cond *c)
{
    return cond_notify(c, UINT_MAX, "rl_cond_notify_all");
}

/* Frees c (not its lock) and any wait records left behind by processes
 * that died waiting. Only once no process uses it. NULL is ignored. */
void rl_cond_free(rl_cond *c)
{
    if (!c)
        return;
    cond_node *n = c->head;
    while (n) {
        cond_node *next = n->next;
        rl_shared_free(n);
        n = next;
    }
    pthread_mutex_destroy(&c->m);
    rl_shared_free(c);
}
