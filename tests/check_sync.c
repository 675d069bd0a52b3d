/* check_sync.c: locks, re-entrant locks, semaphores, events, conditions and
 * barriers shared between forked processes. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "racelab.h"
#include "testutil.h"

/* ---- helpers ---- */

typedef int (*child_fn)(void *arg);

/* Forks a child that runs fn(arg) and exits with its return value. The
 * child dies with the test process, so a failing test leaves nothing. */
static pid_t child(child_fn fn, void *arg)
{
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(99);
        _exit(fn(arg));
    }
    return pid;
}

/* Reaps pid and returns its exit status, or -signum. */
static int reap(pid_t pid)
{
    int st;
    pid_t r;
    do
        r = waitpid(pid, &st, 0);
    while (r < 0 && errno == EINTR);
    ck_assert_int_eq(r, pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A generous bound for anything that should happen soon. */
static double patience(void)
{
    return 20.0 * rl_test_scale();
}

static int load(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void store(int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static int bump(int *p)
{
    return __atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST);
}

/* Waits until *p reaches at least want. Returns 0, or -1 after
 * patience. Safe in children (no Check calls). */
static int wait_until(const int *p, int want)
{
    double end = now() + patience();
    while (load(p) < want) {
        if (now() >= end)
            return -1;
        rl_test_sleep(0.002);
    }
    return 0;
}

/* wait_until for the test process: fails the test after patience. */
static void wait_for(const int *p, int want)
{
    ck_assert_msg(wait_until(p, want) == 0,
                  "waited too long for %d (have "
                  "%d)",
                  want, load(p));
}

/* Waits until process pid sleeps in a futex wait (a blocked racelab
 * wait), from /proc/PID/syscall. Where that file cannot be read, waits a
 * moment instead. */
static void wait_blocked(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    double end = now() + patience();
    for (;;) {
        FILE *f = fopen(path, "re");
        long nr = -1;
        if (!f) {
            rl_test_sleep(0.2);
            return;
        }
        int got = fscanf(f, "%ld", &nr);
        fclose(f);
        if (got != 1) {
            rl_test_sleep(0.2);
            return;
        }
        if (nr == SYS_futex)
            return;
        ck_assert_msg(now() < end, "process %d never blocked", (int)pid);
        rl_test_sleep(0.002);
    }
}

/* The objects and flags a test shares with its children. */
typedef struct {
    rl_lock *lock;
    rl_rlock *rlock;
    rl_sem *sem;
    rl_event *ev;
    rl_cond *cond;
    rl_barrier *bar;
    int counter;
    int ready;
    int go;
    int inside;
    int max_inside;
    int woken;
    int order[16];
    int result[16];
    int next_id;
} shared;

static shared *make_shared(void)
{
    shared *s = rl_shared_alloc(sizeof *s);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* ---- lock ---- */

static int increment_many(void *arg)
{
    shared *s = arg;
    for (int i = 0; i < 300; i++) {
        if (rl_lock_acquire(s->lock, patience()) != 0)
            return 1;
        int v = s->counter;
        sched_yield();
        s->counter = v + 1;
        if (rl_lock_release(s->lock) != 0)
            return 2;
    }
    return 0;
}

START_TEST(lock_mutual_exclusion_across_processes)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    ck_assert_ptr_nonnull(s->lock);
    pid_t pids[4];
    for (int i = 0; i < 4; i++)
        pids[i] = child(increment_many, s);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(reap(pids[i]), 0);
    ck_assert_int_eq(s->counter, 1200);
    rl_lock_free(s->lock);
}
END_TEST

/* Takes the lock, says so, and holds it until told to go. */
static int hold_lock_until_go(void *arg)
{
    shared *s = arg;
    if (rl_lock_acquire(s->lock, -1) != 0)
        return 1;
    store(&s->ready, 1);
    double end = now() + patience();
    while (!load(&s->go) && now() < end)
        rl_test_sleep(0.002);
    return rl_lock_release(s->lock) == 0 ? 0 : 2;
}

START_TEST(lock_timeout_and_try_once)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    pid_t pid = child(hold_lock_until_go, s);
    wait_for(&s->ready, 1);
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0), -EAGAIN);
    double t0 = now();
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0.2), -ETIMEDOUT);
    ck_assert(now() - t0 >= 0.15);
    store(&s->go, 1);
    ck_assert_int_eq(rl_lock_acquire(s->lock, patience()), 0);
    ck_assert_int_eq(reap(pid), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    rl_lock_free(s->lock);
}
END_TEST

/* Takes the lock (or rlock, twice), says so, and waits to be killed. */
static int hold_lock_forever(void *arg)
{
    shared *s = arg;
    if (s->lock && rl_lock_acquire(s->lock, -1) != 0)
        return 1;
    if (s->rlock && (rl_rlock_acquire(s->rlock, -1) != 0 ||
                     rl_rlock_acquire(s->rlock, -1) != 0))
        return 1;
    store(&s->ready, 1);
    for (;;)
        pause();
}

static void kill_holder(shared *s)
{
    store(&s->ready, 0);
    pid_t pid = child(hold_lock_forever, s);
    wait_for(&s->ready, 1);
    kill(pid, SIGKILL);
    ck_assert_int_eq(reap(pid), -SIGKILL);
}

START_TEST(lock_robust_after_holder_killed)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    /* Blocking acquire. */
    kill_holder(s);
    ck_assert_int_eq(rl_lock_acquire(s->lock, -1), -EOWNERDEAD);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "died"));
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    /* Try-once and timed acquires see it too. */
    kill_holder(s);
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0), -EOWNERDEAD);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    kill_holder(s);
    ck_assert_int_eq(rl_lock_acquire(s->lock, 5), -EOWNERDEAD);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    ck_assert_int_eq(rl_lock_acquire(s->lock, 5), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    rl_lock_free(s->lock);
}
END_TEST

static int release_foreign_lock(void *arg)
{
    shared *s = arg;
    return rl_lock_release(s->lock) == -EPERM ? 0 : 1;
}

START_TEST(lock_release_by_non_holder_is_eperm)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    ck_assert_int_eq(rl_lock_release(s->lock), -EPERM);
    ck_assert_int_eq(rl_lock_acquire(s->lock, -1), 0);
    ck_assert_int_eq(reap(child(release_foreign_lock, s)), 0);
    /* Still held by this process: a second acquire would wait for itself. */
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0), -EDEADLK);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), -EPERM);
    ck_assert_int_eq(rl_lock_acquire(NULL, 0), -EINVAL);
    ck_assert_int_eq(rl_lock_release(NULL), -EINVAL);
    rl_lock_free(NULL);
    rl_lock_free(s->lock);
}
END_TEST

/* ---- rlock ---- */

static int rlock_from_other_process(void *arg)
{
    shared *s = arg;
    if (rl_rlock_release(s->rlock) != -EPERM)
        return 1;
    if (rl_rlock_acquire(s->rlock, 0) != -EAGAIN)
        return 2;
    if (rl_rlock_acquire(s->rlock, 0.05) != -ETIMEDOUT)
        return 3;
    return 0;
}

static int rlock_take_when_free(void *arg)
{
    shared *s = arg;
    if (rl_rlock_acquire(s->rlock, 0) != 0)
        return 1;
    return rl_rlock_release(s->rlock) == 0 ? 0 : 2;
}

START_TEST(rlock_recursion_and_owner)
{
    shared *s = make_shared();
    s->rlock = rl_rlock_new();
    ck_assert_ptr_nonnull(s->rlock);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(rl_rlock_acquire(s->rlock, 0), 0);
    ck_assert_int_eq(reap(child(rlock_from_other_process, s)), 0);
    ck_assert_int_eq(rl_rlock_release(s->rlock), 0);
    ck_assert_int_eq(rl_rlock_release(s->rlock), 0);
    /* One level left: still owned. */
    ck_assert_int_eq(reap(child(rlock_from_other_process, s)), 0);
    ck_assert_int_eq(rl_rlock_release(s->rlock), 0);
    ck_assert_int_eq(rl_rlock_release(s->rlock), -EPERM);
    ck_assert_int_eq(reap(child(rlock_take_when_free, s)), 0);
    ck_assert_int_eq(rl_rlock_acquire(NULL, 0), -EINVAL);
    rl_rlock_free(s->rlock);
}
END_TEST

static void *release_from_thread(void *arg)
{
    shared *s = arg;
    s->result[0] = rl_rlock_release(s->rlock);
    s->result[1] = rl_lock_release(s->lock);
    s->result[2] = rl_rlock_acquire(s->rlock, 0);
    return NULL;
}

START_TEST(locks_belong_to_a_thread)
{
    shared *s = make_shared();
    s->rlock = rl_rlock_new();
    s->lock = rl_lock_new();
    ck_assert_int_eq(rl_rlock_acquire(s->rlock, 0), 0);
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0), 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, release_from_thread, s), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(s->result[0], -EPERM);
    ck_assert_int_eq(s->result[1], -EPERM);
    ck_assert_int_eq(s->result[2], -EAGAIN);
    ck_assert_int_eq(rl_rlock_release(s->rlock), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    rl_rlock_free(s->rlock);
    rl_lock_free(s->lock);
}
END_TEST

START_TEST(rlock_robust_after_owner_killed)
{
    shared *s = make_shared();
    s->rlock = rl_rlock_new();
    kill_holder(s);
    ck_assert_int_eq(rl_rlock_acquire(s->rlock, patience()), -EOWNERDEAD);
    ck_assert_int_eq(rl_rlock_acquire(s->rlock, 0), 0);
    ck_assert_int_eq(rl_rlock_release(s->rlock), 0);
    ck_assert_int_eq(rl_rlock_release(s->rlock), 0);
    ck_assert_int_eq(reap(child(rlock_take_when_free, s)), 0);
    rl_rlock_free(s->rlock);
}
END_TEST

/* ---- semaphore ---- */

static int sem_worker(void *arg)
{
    shared *s = arg;
    for (int i = 0; i < 50; i++) {
        if (rl_sem_acquire(s->sem, patience()) != 0)
            return 1;
        int in = bump(&s->inside) + 1;
        int m;
        while ((m = load(&s->max_inside)) < in)
            __atomic_compare_exchange_n(&s->max_inside, &m, in, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        sched_yield();
        __atomic_fetch_sub(&s->inside, 1, __ATOMIC_SEQ_CST);
        if (rl_sem_release(s->sem) != 0)
            return 2;
    }
    return 0;
}

START_TEST(sem_limits_concurrency_across_processes)
{
    shared *s = make_shared();
    s->sem = rl_sem_new(2, 1);
    ck_assert_ptr_nonnull(s->sem);
    pid_t pids[5];
    for (int i = 0; i < 5; i++)
        pids[i] = child(sem_worker, s);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(reap(pids[i]), 0);
    ck_assert_int_ge(s->max_inside, 1);
    ck_assert_int_le(s->max_inside, 2);
    ck_assert_int_eq(rl_sem_value(s->sem), 2);
    rl_sem_free(s->sem);
}
END_TEST

static int sem_take_one(void *arg)
{
    shared *s = arg;
    if (rl_sem_acquire(s->sem, patience()) != 0)
        return 1;
    bump(&s->counter);
    return 0;
}

START_TEST(sem_counts_releases_from_another_process)
{
    shared *s = make_shared();
    s->sem = rl_sem_new(0, 0);
    pid_t pids[3];
    for (int i = 0; i < 3; i++)
        pids[i] = child(sem_take_one, s);
    ck_assert_int_eq(rl_sem_acquire(s->sem, 0), -EAGAIN);
    ck_assert_int_eq(rl_sem_acquire(s->sem, 0.05), -ETIMEDOUT);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(rl_sem_release(s->sem), 0);
    wait_for(&s->counter, 2);
    ck_assert_int_eq(rl_sem_release(s->sem), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(reap(pids[i]), 0);
    ck_assert_int_eq(s->counter, 3);
    ck_assert_int_eq(rl_sem_value(s->sem), 0);
    rl_sem_free(s->sem);
}
END_TEST

START_TEST(sem_bounded_overflow)
{
    rl_sem *b = rl_sem_new(2, 1);
    ck_assert_int_eq(rl_sem_release(b), -EOVERFLOW);
    ck_assert_int_eq(rl_sem_acquire(b, 0), 0);
    ck_assert_int_eq(rl_sem_value(b), 1);
    ck_assert_int_eq(rl_sem_release(b), 0);
    ck_assert_int_eq(rl_sem_release(b), -EOVERFLOW);
    ck_assert_int_eq(rl_sem_value(b), 2);
    ck_assert_int_eq(rl_sem_acquire(b, 0), 0);
    ck_assert_int_eq(rl_sem_acquire(b, 0), 0);
    ck_assert_int_eq(rl_sem_acquire(b, 0), -EAGAIN);
    rl_sem_free(b);

    rl_sem *u = rl_sem_new(0, 0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(rl_sem_release(u), 0);
    ck_assert_int_eq(rl_sem_value(u), 5);
    rl_sem_free(u);
    ck_assert_int_eq(rl_sem_acquire(NULL, 0), -EINVAL);
    ck_assert_int_eq(rl_sem_release(NULL), -EINVAL);
    ck_assert_int_eq(rl_sem_value(NULL), -EINVAL);
}
END_TEST

/* ---- event ---- */

static int event_waiter(void *arg)
{
    shared *s = arg;
    bump(&s->ready);
    return rl_event_wait(s->ev, patience()) == 1 ? 0 : 1;
}

START_TEST(event_wakes_every_waiting_process)
{
    shared *s = make_shared();
    s->ev = rl_event_new();
    ck_assert_ptr_nonnull(s->ev);
    pid_t pids[3];
    for (int i = 0; i < 3; i++)
        pids[i] = child(event_waiter, s);
    for (int i = 0; i < 3; i++)
        wait_blocked(pids[i]);
    ck_assert_int_eq(rl_event_is_set(s->ev), 0);
    ck_assert_int_eq(rl_event_set(s->ev), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(reap(pids[i]), 0);
    ck_assert_int_eq(rl_event_is_set(s->ev), 1);
    rl_event_free(s->ev);
}
END_TEST

START_TEST(event_set_then_clear_still_wakes_waiter)
{
    shared *s = make_shared();
    s->ev = rl_event_new();
    pid_t pid = child(event_waiter, s);
    wait_blocked(pid);
    ck_assert_int_eq(rl_event_set(s->ev), 0);
    ck_assert_int_eq(rl_event_clear(s->ev), 0);
    ck_assert_int_eq(reap(pid), 0);
    rl_event_free(s->ev);
}
END_TEST

static int event_check_timeout(void *arg)
{
    shared *s = arg;
    if (rl_event_wait(s->ev, 0) != 0)
        return 1;
    if (rl_event_wait(s->ev, 0.1) != 0)
        return 2;
    return 0;
}

START_TEST(event_set_clear_and_timeout)
{
    shared *s = make_shared();
    s->ev = rl_event_new();
    double t0 = now();
    ck_assert_int_eq(rl_event_wait(s->ev, 0.1), 0);
    ck_assert(now() - t0 >= 0.08);
    ck_assert_int_eq(reap(child(event_check_timeout, s)), 0);
    ck_assert_int_eq(rl_event_set(s->ev), 0);
    ck_assert_int_eq(rl_event_set(s->ev), 0);
    ck_assert_int_eq(rl_event_wait(s->ev, 0), 1);
    ck_assert_int_eq(rl_event_wait(s->ev, -1), 1);
    ck_assert_int_eq(reap(child(event_waiter, s)), 0);
    ck_assert_int_eq(rl_event_clear(s->ev), 0);
    ck_assert_int_eq(rl_event_is_set(s->ev), 0);
    ck_assert_int_eq(reap(child(event_check_timeout, s)), 0);
    ck_assert_int_eq(rl_event_set(NULL), -EINVAL);
    ck_assert_int_eq(rl_event_clear(NULL), -EINVAL);
    ck_assert_int_eq(rl_event_is_set(NULL), -EINVAL);
    ck_assert_int_eq(rl_event_wait(NULL, 0), -EINVAL);
    rl_event_free(s->ev);
}
END_TEST

/* ---- condition ---- */

/* Joins the condition's queue as waiter number ready, then records in
 * order[] when it was woken. Exits 0 when notified with the lock held. */
static int cond_waiter(void *arg)
{
    shared *s = arg;
    if (rl_lock_acquire(s->lock, patience()) != 0)
        return 1;
    int me = s->next_id++;
    bump(&s->ready);
    int r = rl_cond_wait(s->cond, patience());
    if (r != 1)
        return 2;
    s->order[s->woken] = me;
    bump(&s->woken);
    /* Re-held: releasing works. */
    return rl_lock_release(s->lock) == 0 ? 0 : 3;
}

/* Starts n waiters one after the other, so they queue in that order. */
static void start_waiters(shared *s, pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        pids[i] = child(cond_waiter, s);
        wait_for(&s->ready, i + 1);
    }
}

START_TEST(cond_notify_one_wakes_exactly_one_in_order)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    s->cond = rl_cond_new(s->lock);
    ck_assert_ptr_nonnull(s->cond);
    pid_t pids[3];
    start_waiters(s, pids, 3);
    for (int k = 1; k <= 3; k++) {
        ck_assert_int_eq(rl_lock_acquire(s->lock, patience()), 0);
        /* Every waiter is queued: each queues before it lets go of the
         * lock, and the count went up under the lock. */
        ck_assert_int_eq(s->woken, k - 1);
        ck_assert_int_eq(rl_cond_notify(s->cond, 1), 0);
        ck_assert_int_eq(rl_lock_release(s->lock), 0);
        wait_for(&s->woken, k);
        rl_test_sleep(0.1);
        ck_assert_int_eq(load(&s->woken), k);
    }
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(reap(pids[i]), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(s->order[i], i);
    rl_cond_free(s->cond);
    rl_lock_free(s->lock);
}
END_TEST

START_TEST(cond_notify_all_and_notify_n)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    s->cond = rl_cond_new(s->lock);
    pid_t pids[5];
    start_waiters(s, pids, 5);
    ck_assert_int_eq(rl_lock_acquire(s->lock, patience()), 0);
    ck_assert_int_eq(rl_cond_notify(s->cond, 2), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    wait_for(&s->woken, 2);
    rl_test_sleep(0.1);
    ck_assert_int_eq(load(&s->woken), 2);
    ck_assert_int_eq(rl_lock_acquire(s->lock, patience()), 0);
    ck_assert_int_eq(rl_cond_notify_all(s->cond), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(reap(pids[i]), 0);
    ck_assert_int_eq(s->woken, 5);
    /* Nobody waits: notifying is harmless. */
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0), 0);
    ck_assert_int_eq(rl_cond_notify_all(s->cond), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    rl_cond_free(s->cond);
    rl_lock_free(s->lock);
}
END_TEST

static int cond_ops_without_lock(void *arg)
{
    shared *s = arg;
    if (rl_cond_wait(s->cond, 0) != -EPERM)
        return 1;
    if (rl_cond_notify(s->cond, 1) != -EPERM)
        return 2;
    return rl_cond_notify_all(s->cond) == -EPERM ? 0 : 3;
}

START_TEST(cond_without_lock_is_eperm)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    s->cond = rl_cond_new(s->lock);
    ck_assert_int_eq(rl_cond_wait(s->cond, 0), -EPERM);
    ck_assert_int_eq(rl_cond_notify(s->cond, 1), -EPERM);
    ck_assert_int_eq(rl_cond_notify_all(s->cond), -EPERM);
    /* Held by another process is no better. */
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0), 0);
    ck_assert_int_eq(reap(child(cond_ops_without_lock, s)), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    ck_assert_ptr_null(rl_cond_new(NULL));
    ck_assert_int_eq(rl_cond_wait(NULL, 0), -EINVAL);
    ck_assert_int_eq(rl_cond_notify(NULL, 1), -EINVAL);
    rl_cond_free(s->cond);
    rl_lock_free(s->lock);
}
END_TEST

static int try_lock_in_child(void *arg)
{
    shared *s = arg;
    return rl_lock_acquire(s->lock, 0) == -EAGAIN ? 0 : 1;
}

START_TEST(cond_wait_timeout_reholds_lock)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    s->cond = rl_cond_new(s->lock);
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0), 0);
    double t0 = now();
    ck_assert_int_eq(rl_cond_wait(s->cond, 0.1), 0);
    ck_assert(now() - t0 >= 0.08);
    ck_assert_int_eq(reap(child(try_lock_in_child, s)), 0);
    ck_assert_int_eq(rl_cond_wait(s->cond, 0), 0);
    ck_assert_int_eq(reap(child(try_lock_in_child, s)), 0);
    /* The timed-out waiters left the queue: a notify finds nobody. */
    ck_assert_int_eq(rl_cond_notify(s->cond, 1), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    rl_cond_free(s->cond);
    rl_lock_free(s->lock);
}
END_TEST

/* Notifies and dies holding the lock. */
static int notify_and_die(void *arg)
{
    shared *s = arg;
    if (wait_until(&s->ready, 1) != 0)
        return 3;
    if (rl_lock_acquire(s->lock, patience()) != 0)
        return 1;
    if (rl_cond_notify(s->cond, 1) != 0)
        return 2;
    return 0;
}

START_TEST(cond_wait_reports_dead_lock_holder)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    s->cond = rl_cond_new(s->lock);
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0), 0);
    pid_t pid = child(notify_and_die, s);
    store(&s->ready, 1);
    ck_assert_int_eq(rl_cond_wait(s->cond, patience()), -EOWNERDEAD);
    ck_assert_int_eq(reap(pid), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    rl_cond_free(s->cond);
    rl_lock_free(s->lock);
}
END_TEST

/* ---- barrier ---- */

static int barrier_rounds(void *arg)
{
    shared *s = arg;
    int id = bump(&s->next_id);
    for (int round = 0; round < 3; round++) {
        int r = rl_barrier_wait(s->bar, patience());
        if (r < 0 || r > 3)
            return 1;
        bump(&s->result[round * 4 + r]);
        (void)id;
    }
    return 0;
}

START_TEST(barrier_indexes_each_once)
{
    shared *s = make_shared();
    s->bar = rl_barrier_new(4);
    ck_assert_ptr_nonnull(s->bar);
    pid_t pids[4];
    for (int i = 0; i < 4; i++)
        pids[i] = child(barrier_rounds, s);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(reap(pids[i]), 0);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(s->result[i], 1);
    ck_assert_int_eq(rl_barrier_broken(s->bar), 0);
    rl_barrier_free(s->bar);

    rl_barrier *one = rl_barrier_new(1);
    ck_assert_int_eq(rl_barrier_wait(one, 0), 0);
    ck_assert_int_eq(rl_barrier_wait(one, -1), 0);
    rl_barrier_free(one);
    ck_assert_ptr_null(rl_barrier_new(0));
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "party"));
}
END_TEST

/* Waits at the barrier and exits with 0 when it got -EPIPE. */
static int barrier_expect_broken(void *arg)
{
    shared *s = arg;
    bump(&s->ready);
    int r = rl_barrier_wait(s->bar, patience());
    return r == -EPIPE ? 0 : 10 + (r < 0 ? -r % 100 : r);
}

START_TEST(barrier_timeout_breaks_it)
{
    shared *s = make_shared();
    s->bar = rl_barrier_new(3);
    pid_t pid = child(barrier_expect_broken, s);
    wait_for(&s->ready, 1);
    double t0 = now();
    ck_assert_int_eq(rl_barrier_wait(s->bar, 0.1), -ETIMEDOUT);
    ck_assert(now() - t0 >= 0.08);
    ck_assert_int_eq(reap(pid), 0);
    ck_assert_int_eq(rl_barrier_broken(s->bar), 1);
    ck_assert_int_eq(rl_barrier_wait(s->bar, 0), -EPIPE);
    ck_assert_int_eq(rl_barrier_wait(s->bar, 1), -EPIPE);
    ck_assert_int_eq(rl_barrier_reset(s->bar), 0);
    ck_assert_int_eq(rl_barrier_broken(s->bar), 0);
    /* A try-once that would wait breaks it as well. */
    ck_assert_int_eq(rl_barrier_wait(s->bar, 0), -EAGAIN);
    ck_assert_int_eq(rl_barrier_broken(s->bar), 1);
    rl_barrier_free(s->bar);
}
END_TEST

static int barrier_pair(void *arg)
{
    shared *s = arg;
    int r = rl_barrier_wait(s->bar, patience());
    return r == 0 || r == 1 ? 0 : 1;
}

START_TEST(barrier_abort_and_reset)
{
    shared *s = make_shared();
    s->bar = rl_barrier_new(2);
    pid_t pid = child(barrier_expect_broken, s);
    wait_for(&s->ready, 1);
    ck_assert_int_eq(rl_barrier_abort(s->bar), 0);
    ck_assert_int_eq(reap(pid), 0);
    ck_assert_int_eq(rl_barrier_broken(s->bar), 1);
    ck_assert_int_eq(reap(child(barrier_expect_broken, s)), 0);
    ck_assert_int_eq(rl_barrier_reset(s->bar), 0);
    ck_assert_int_eq(rl_barrier_broken(s->bar), 0);
    /* Usable again, for several rounds. */
    for (int round = 0; round < 3; round++) {
        pid = child(barrier_pair, s);
        int r = rl_barrier_wait(s->bar, patience());
        ck_assert(r == 0 || r == 1);
        ck_assert_int_eq(reap(pid), 0);
    }
    ck_assert_int_eq(rl_barrier_abort(NULL), -EINVAL);
    ck_assert_int_eq(rl_barrier_reset(NULL), -EINVAL);
    ck_assert_int_eq(rl_barrier_wait(NULL, 0), -EINVAL);
    rl_barrier_free(s->bar);
}
END_TEST

START_TEST(barrier_reset_breaks_current_waiters)
{
    shared *s = make_shared();
    s->bar = rl_barrier_new(3);
    pid_t pids[2];
    for (int i = 0; i < 2; i++)
        pids[i] = child(barrier_expect_broken, s);
    wait_for(&s->ready, 2);
    /* A reset only breaks waiters that arrived: repeat until both did. */
    int left = 2, st;
    double end = now() + patience();
    while (left > 0) {
        ck_assert(now() < end);
        ck_assert_int_eq(rl_barrier_reset(s->bar), 0);
        rl_test_sleep(0.01);
        for (int i = 0; i < 2; i++) {
            if (pids[i] && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
                ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                pids[i] = 0;
                left--;
            }
        }
    }
    ck_assert_int_eq(rl_barrier_broken(s->bar), 0);
    s->next_id = 0;
    memset(s->result, 0, sizeof s->result);
    rl_barrier_free(s->bar);
    s->bar = rl_barrier_new(4);
    pid_t more[3];
    for (int i = 0; i < 3; i++)
        more[i] = child(barrier_rounds, s);
    for (int round = 0; round < 3; round++) {
        int r = rl_barrier_wait(s->bar, patience());
        ck_assert(r >= 0 && r <= 3);
        bump(&s->result[round * 4 + r]);
    }
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(reap(more[i]), 0);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(s->result[i], 1);
    rl_barrier_free(s->bar);
}
END_TEST

/* ---- signals during waits ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* SIGALRM every 5 ms with a handler installed without SA_RESTART. */
static void start_alarms(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {{0, 5000}, {0, 5000}};
    alarms = 0;
    ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void stop_alarms(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    signal(SIGALRM, SIG_DFL);
}

/* After go is raised, waits a little, then releases or sets everything
 * the parent waits on. */
static int release_later(void *arg)
{
    shared *s = arg;
    if (rl_lock_acquire(s->lock, -1) != 0)
        return 1;
    store(&s->ready, 1);
    if (wait_until(&s->go, 1) != 0)
        return 5;
    rl_test_sleep(0.3);
    if (rl_lock_release(s->lock) != 0)
        return 2;
    if (wait_until(&s->go, 2) != 0)
        return 5;
    rl_test_sleep(0.3);
    if (rl_sem_release(s->sem) != 0)
        return 3;
    if (wait_until(&s->go, 3) != 0)
        return 5;
    rl_test_sleep(0.3);
    return rl_event_set(s->ev) == 0 ? 0 : 4;
}

START_TEST(signals_do_not_break_waits)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    s->sem = rl_sem_new(0, 0);
    s->ev = rl_event_new();
    pid_t pid = child(release_later, s);
    wait_for(&s->ready, 1);
    start_alarms();
    store(&s->go, 1);
    ck_assert_int_eq(rl_lock_acquire(s->lock, -1), 0);
    store(&s->go, 2);
    ck_assert_int_eq(rl_sem_acquire(s->sem, -1), 0);
    store(&s->go, 3);
    ck_assert_int_eq(rl_event_wait(s->ev, -1), 1);
    ck_assert_int_gt(alarms, 3);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    /* Timed waits are not cut short either, nor stretched much. */
    rl_event_clear(s->ev);
    double t0 = now();
    int before = alarms;
    ck_assert_int_eq(rl_event_wait(s->ev, 0.2), 0);
    ck_assert_int_eq(rl_sem_acquire(s->sem, 0.2), -ETIMEDOUT);
    ck_assert(now() - t0 >= 0.35);
    ck_assert_int_gt(alarms, before);
    stop_alarms();
    ck_assert_int_eq(reap(pid), 0);
    rl_lock_free(s->lock);
    rl_sem_free(s->sem);
    rl_event_free(s->ev);
}
END_TEST

/* A timed lock acquire waits in pthread_mutex_clocklock; it must neither
 * return early nor fail when signals arrive. */
START_TEST(signals_do_not_break_timed_lock)
{
    shared *s = make_shared();
    s->lock = rl_lock_new();
    pid_t pid = child(hold_lock_until_go, s);
    wait_for(&s->ready, 1);
    start_alarms();
    double t0 = now();
    ck_assert_int_eq(rl_lock_acquire(s->lock, 0.3), -ETIMEDOUT);
    ck_assert(now() - t0 >= 0.25);
    ck_assert_int_gt(alarms, 3);
    store(&s->go, 1);
    ck_assert_int_eq(rl_lock_acquire(s->lock, patience()), 0);
    stop_alarms();
    ck_assert_int_eq(reap(pid), 0);
    ck_assert_int_eq(rl_lock_release(s->lock), 0);
    rl_lock_free(s->lock);
}
END_TEST

static Suite *sync_suite(void)
{
    Suite *s = suite_create("sync");
    TCase *tc = rl_test_tcase("lock", 30);
    tcase_add_test(tc, lock_mutual_exclusion_across_processes);
    tcase_add_test(tc, lock_timeout_and_try_once);
    tcase_add_test(tc, lock_robust_after_holder_killed);
    tcase_add_test(tc, lock_release_by_non_holder_is_eperm);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("rlock", 30);
    tcase_add_test(tc, rlock_recursion_and_owner);
    tcase_add_test(tc, rlock_robust_after_owner_killed);
    tcase_add_test(tc, locks_belong_to_a_thread);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("semaphore", 30);
    tcase_add_test(tc, sem_limits_concurrency_across_processes);
    tcase_add_test(tc, sem_counts_releases_from_another_process);
    tcase_add_test(tc, sem_bounded_overflow);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("event", 30);
    tcase_add_test(tc, event_wakes_every_waiting_process);
    tcase_add_test(tc, event_set_clear_and_timeout);
    tcase_add_test(tc, event_set_then_clear_still_wakes_waiter);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("condition", 30);
    tcase_add_test(tc, cond_notify_one_wakes_exactly_one_in_order);
    tcase_add_test(tc, cond_notify_all_and_notify_n);
    tcase_add_test(tc, cond_without_lock_is_eperm);
    tcase_add_test(tc, cond_wait_timeout_reholds_lock);
    tcase_add_test(tc, cond_wait_reports_dead_lock_holder);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("barrier", 30);
    tcase_add_test(tc, barrier_indexes_each_once);
    tcase_add_test(tc, barrier_timeout_breaks_it);
    tcase_add_test(tc, barrier_abort_and_reset);
    tcase_add_test(tc, barrier_reset_breaks_current_waiters);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("signals", 30);
    tcase_add_test(tc, signals_do_not_break_waits);
    tcase_add_test(tc, signals_do_not_break_timed_lock);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(sync_suite());
}
