/* check_harness.c: the scheduler and the searches: every verdict kind, the
 * number of interleavings explored, replay, tokens, minimize, the
 * supervisor's timeout, spawn and forkserver actors. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "internal.h"
#include "racelab.h"
#include "testutil.h"

/* ---- scenarios used by the tests ---- */

typedef struct {
    long value;
    rl_lock *lock;
} shared_counter;

static int add_unlocked(void *arg)
{
    shared_counter *c = arg;
    for (int i = 0; i < 2; i++) {
        long v = RL_LOAD(c->value);
        RL_STORE(c->value, v + 1);
    }
    return 0;
}

static int add_locked(void *arg)
{
    shared_counter *c = arg;
    for (int i = 0; i < 2; i++) {
        rl_lock_acquire(c->lock, -1);
        long v = RL_LOAD(c->value);
        RL_STORE(c->value, v + 1);
        rl_lock_release(c->lock);
    }
    return 0;
}

static void two_adders(rl_entry fn, rl_start_method method)
{
    shared_counter *c = rl_shared_alloc(sizeof *c);
    c->lock = rl_lock_new();
    rl_process_opts o = {.method = method};
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, fn, c, &o) == 0, "start: %s",
             rl_last_error());
    rl_check(rl_process_start(&b, fn, c, &o) == 0, "start: %s",
             rl_last_error());
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
    rl_check_eq(c->value, 4, "counter");
}

RL_SCENARIO(t_pass, "t.pass", .summary = "locked counter")
{
    two_adders(add_locked, RL_START_FORK);
}

/* Many processes that end on their own, never joined: each one's end
 * reaches the kernel at some moment after its exit step, and on a loaded
 * machine that moment can be late. */
static int yield_then_end(void *arg)
{
    (void)arg;
    for (int i = 0; i < 30; i++)
        rl_yield("work");
    return 0;
}

RL_SCENARIO(t_unjoined, "t.unjoined",
            .summary = "children end by themselves, unjoined")
{
    for (int i = 0; i < 12; i++) {
        rl_process *p = NULL;
        rl_check(rl_process_start(&p, yield_then_end, NULL, NULL) == 0,
                 "start: %s", rl_last_error());
    }
    for (int i = 0; i < 30; i++)
        rl_yield("main work");
}

/* The most actors an execution holds: the root and 255 children. */
static int one_yield(void *arg)
{
    (void)arg;
    rl_yield("child");
    return 0;
}

static void start_children(int n)
{
    static rl_process *kids[RL__MAX_ACTORS + 1];
    for (int i = 0; i < n; i++)
        rl_check(rl_process_start(&kids[i], one_yield, NULL, NULL) == 0,
                 "start of child %d: %s", i + 1, rl_last_error());
    for (int i = 0; i < n; i++) {
        rl_check(rl_process_join(kids[i], -1) == 0, "join: %s",
                 rl_last_error());
        rl_process_free(kids[i]);
    }
}

RL_SCENARIO(t_crowd, "t.crowd", .summary = "256 actors")
{
    start_children(RL__MAX_ACTORS - 1);
}

RL_SCENARIO(t_crowd_plus, "t.crowd_plus", .summary = "one actor too many")
{
    start_children(RL__MAX_ACTORS);
}

/* An index read from shared memory selects the element read: two loads,
 * the index read once. */
typedef struct {
    long a[4];
    long i;
} indexed;

RL_SCENARIO(t_nested_load, "t.nested_load", .summary = "RL_LOAD(a[RL_LOAD(i)])")
{
    indexed *x = rl_shared_alloc(sizeof *x);
    for (int k = 0; k < 4; k++)
        x->a[k] = 10 * (k + 1);
    x->i = 2;
    rl_check_eq(RL_LOAD(x->a[RL_LOAD(x->i)]), 30, "a[i]");
}

RL_SCENARIO(t_fail, "t.fail", .summary = "lost update", .expect = RL_EXPECT_BUG,
            .expect_verdict = RL_FAIL)
{
    two_adders(add_unlocked, RL_START_FORK);
}

RL_SCENARIO(t_spawn, "t.spawn", .expect = RL_EXPECT_BUG)
{
    two_adders(add_unlocked, RL_START_SPAWN);
}

RL_SCENARIO(t_forkserver, "t.forkserver")
{
    two_adders(add_locked, RL_START_FORKSERVER);
}

static int read_to_eof(void *arg)
{
    rl_conn *r = arg;
    char buf[16];
    while (rl_conn_recv(r, buf, sizeof buf, -1) >= 0)
        ;
    return 0;
}

RL_SCENARIO(t_deadlock, "t.deadlock", .expect = RL_EXPECT_BUG)
{
    rl_conn *r, *w;
    rl_pipe(&r, &w, 0);
    rl_process *p = NULL;
    rl_process_start(&p, read_to_eof, r, NULL);
    rl_conn_send(w, "x", 1);
    /* The parent still holds the write end: the reader never sees EOF. */
    rl_process_join(p, -1);
}

static int stop_flag;

static int spin_until_stopped(void *arg)
{
    (void)arg;
    while (!RL_LOAD(stop_flag))
        ;
    return 0;
}

RL_SCENARIO(t_livelock, "t.livelock", .expect = RL_EXPECT_BUG, .max_steps = 300)
{
    rl_process *p = NULL;
    rl_process_start(&p, spin_until_stopped, NULL, NULL);
    RL_STORE(stop_flag, 1);
    rl_process_join(p, -1);
}

static int segfault(void *arg)
{
    (void)arg;
    rl_yield("before");
    raise(SIGSEGV);
    return 0;
}

RL_SCENARIO(t_crash, "t.crash", .expect = RL_EXPECT_BUG)
{
    rl_process *p = NULL;
    rl_process_start(&p, segfault, NULL, NULL);
    rl_process_join(p, -1);
}

static int hang_outside(void *arg)
{
    (void)arg;
    /* A grandchild that would outlive everything, and a read that blocks
     * in the kernel where the scheduler cannot see it. */
    if (fork() == 0) {
        execlp("sleep", "sleep", "60", (char *)NULL);
        _exit(127);
    }
    /* It cannot answer a request for its stack: the supervisor has to
     * unwind it from outside (ptrace). */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    int fds[2];
    if (pipe(fds) == 0) {
        char c;
        while (read(fds[0], &c, 1) != 0)
            ;
    }
    return 0;
}

RL_SCENARIO(t_timeout, "t.timeout", .expect = RL_EXPECT_BUG, .timeout = 1.0)
{
    rl_process *p = NULL;
    rl_process_start(&p, hang_outside, NULL, NULL);
    rl_process_join(p, -1);
}

#define YIELDS 2

/* YIELDS independent steps: stores of the actor's name to its own byte.
 * (Not rl_yield: a yield says the actor cannot progress until another
 * runs, which fair scheduling honours by taking away choices.) */
static int yielder(void *arg)
{
    char *name = arg;
    for (int i = 0; i < YIELDS; i++)
        RL_STORE(name[1], name[0]);
    return 0;
}

/* Two yielders, "a" and "b", started and joined. */
static void run_yielders(void)
{
    char *a = rl_shared_alloc(2), *b = rl_shared_alloc(2);
    a[0] = 'a';
    b[0] = 'b';
    rl_process *pa = NULL, *pb = NULL;
    rl_process_start(&pa, yielder, a, NULL);
    rl_process_start(&pb, yielder, b, NULL);
    rl_process_join(pa, -1);
    rl_process_join(pb, -1);
    rl_process_free(pa);
    rl_process_free(pb);
}

RL_SCENARIO(t_yields, "t.yields")
{
    run_yielders();
}

/* Checks that shared memory starts zeroed, then dirties it: the arena
 * keeps its pages from one passing execution to the next, and what one
 * wrote must not show in the next. A small block is zeroed in place, a
 * large one punched out. */
static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

RL_SCENARIO(t_fresh_memory, "t.fresh_memory")
{
    size_t small = 8 << 10, large = 256 << 10;
    unsigned char *a = rl_shared_alloc(small), *b = rl_shared_alloc(large);
    rl_check(a && b, "allocations");
    rl_check(all_zero(a, small), "the small block starts zeroed");
    rl_check(all_zero(b, large), "the large block starts zeroed");
    memset(a, 0xa5, small);
    memset(b, 0xa5, large);
    run_yielders();
}

static int wait_forever(void *arg)
{
    /* A daemon worker waiting for work that never comes. */
    rl_event_wait(arg, -1);
    return 0;
}

RL_SCENARIO(t_daemon, "t.daemon", .max_steps = 200)
{
    rl_event *e = rl_event_new();
    rl_process_opts o = {.daemon = 1, .name = "helper"};
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, wait_forever, e, &o) == 0, "start");
    rl_yield("parent");
}

/* Timed waits under the scheduler: a wait of a microsecond whose other
 * side can still run must not time out, however long the other side
 * takes on the wall clock; only the scheduler (when nobody else can run)
 * decides a time-out. */
#define TINY 1e-6

typedef struct {
    rl_lock *lock;
    rl_sem *sem;
    rl_event *event;
    rl_cond *cond;
    rl_barrier *barrier;
    int flag;
} timed_objs;

static timed_objs *timed_new(void)
{
    timed_objs *t = rl_shared_alloc(sizeof *t);
    t->lock = rl_lock_new();
    t->sem = rl_sem_new(0, 0);
    t->event = rl_event_new();
    t->cond = rl_cond_new(t->lock);
    t->barrier = rl_barrier_new(2);
    return t;
}

static int timed_lock_child(void *arg)
{
    timed_objs *t = arg;
    int r = rl_lock_acquire(t->lock, TINY);
    rl_check(r == 0, "timed lock acquire gave %d", r);
    if (r == 0)
        rl_lock_release(t->lock);
    return 0;
}

RL_SCENARIO(t_timed_lock, "t.timed.lock", .max_steps = 200)
{
    timed_objs *t = timed_new();
    rl_lock_acquire(t->lock, -1);
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, timed_lock_child, t, NULL) == 0, "start");
    rl_yield("holding the lock");
    rl_yield("still holding the lock");
    rl_lock_release(t->lock);
    rl_process_join(p, -1);
    rl_process_free(p);
}

static int timed_sem_child(void *arg)
{
    timed_objs *t = arg;
    int r = rl_sem_acquire(t->sem, TINY);
    rl_check(r == 0, "timed semaphore acquire gave %d", r);
    return 0;
}

RL_SCENARIO(t_timed_sem, "t.timed.sem", .max_steps = 200)
{
    timed_objs *t = timed_new();
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, timed_sem_child, t, NULL) == 0, "start");
    rl_yield("before the release");
    rl_yield("still before the release");
    rl_sem_release(t->sem);
    rl_process_join(p, -1);
    rl_process_free(p);
}

static int timed_event_child(void *arg)
{
    timed_objs *t = arg;
    int r = rl_event_wait(t->event, TINY);
    rl_check(r == 1, "timed event wait gave %d", r);
    return 0;
}

RL_SCENARIO(t_timed_event, "t.timed.event", .max_steps = 200)
{
    timed_objs *t = timed_new();
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, timed_event_child, t, NULL) == 0, "start");
    rl_yield("before the set");
    rl_yield("still before the set");
    rl_event_set(t->event);
    rl_process_join(p, -1);
    rl_process_free(p);
}

static int timed_cond_child(void *arg)
{
    timed_objs *t = arg;
    rl_lock_acquire(t->lock, -1);
    while (!t->flag) {
        int r = rl_cond_wait(t->cond, TINY);
        rl_check(r == 1, "timed condition wait gave %d", r);
        if (r != 1)
            break;
    }
    rl_lock_release(t->lock);
    return 0;
}

RL_SCENARIO(t_timed_cond, "t.timed.cond", .max_steps = 200)
{
    timed_objs *t = timed_new();
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, timed_cond_child, t, NULL) == 0, "start");
    rl_yield("before the notify");
    rl_yield("still before the notify");
    rl_lock_acquire(t->lock, -1);
    t->flag = 1;
    rl_cond_notify_all(t->cond);
    rl_lock_release(t->lock);
    rl_process_join(p, -1);
    rl_process_free(p);
}

static int timed_barrier_child(void *arg)
{
    timed_objs *t = arg;
    int r = rl_barrier_wait(t->barrier, TINY);
    rl_check(r >= 0, "timed barrier wait gave %d", r);
    return 0;
}

RL_SCENARIO(t_timed_barrier, "t.timed.barrier", .max_steps = 200)
{
    timed_objs *t = timed_new();
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, timed_barrier_child, t, NULL) == 0, "start");
    rl_yield("before arriving");
    rl_yield("still before arriving");
    int r = rl_barrier_wait(t->barrier, -1);
    rl_check(r >= 0, "barrier wait gave %d", r);
    rl_process_join(p, -1);
    rl_process_free(p);
}

static int slow_answer(const void *in, size_t in_len, void *out,
                       size_t *out_len)
{
    (void)in;
    (void)in_len;
    rl_yield("working");
    rl_yield("still working");
    *(char *)out = 42;
    *out_len = 1;
    return 0;
}

RL_SCENARIO(t_timed_future, "t.timed.future", .max_steps = 400)
{
    rl_pool_opts o = {.workers = 1};
    rl_pool *pool = NULL;
    rl_check(rl_pool_new(&pool, &o) == 0, "pool: %s", rl_last_error());
    rl_future *f = NULL;
    rl_check(rl_pool_submit(pool, slow_answer, NULL, 0, &f) == 0, "submit: %s",
             rl_last_error());
    char out = 0;
    ssize_t n = rl_future_get(f, &out, 1, TINY);
    rl_check(n == 1 && out == 42, "timed future get gave %zd", n);
    rl_future_free(f);
    rl_pool_close(pool);
    rl_pool_join(pool, -1);
    rl_pool_free(pool);
}

/* A timed wait that nothing can end does time out, by the scheduler's
 * decision: the semaphore is never released. */
RL_SCENARIO(t_timed_out, "t.timed.out", .max_steps = 200)
{
    rl_sem *s = rl_sem_new(0, 0);
    int r = rl_sem_acquire(s, 30.0);
    rl_check(r == -ETIMEDOUT, "untimely semaphore acquire gave %d", r);
    rl_check(rl_sem_acquire(s, 0) == -EAGAIN, "try-once");
}

/* A try-once on a queue (timeout 0) returns -EAGAIN at once under the
 * scheduler too. Explored without preemptions, the spinner runs only when
 * main blocks: a try-once that blocked would let it spin until the step
 * limit (a livelock). */
static int spin_until_told(void *arg)
{
    int *stop = arg;
    while (!RL_LOAD(*stop))
        rl_yield("spinning");
    return 0;
}

RL_SCENARIO(t_queue_try_once, "t.queue.try_once", .max_steps = 300)
{
    int *stop = rl_shared_alloc(sizeof *stop);
    rl_queue *q = rl_queue_new(1, 1);
    rl_check(q && rl_queue_put(q, "a", 1, -1) == 0, "first put");
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, spin_until_told, stop, NULL) == 0, "start");
    int r = rl_queue_put(q, "b", 1, 0);
    rl_check(r == -EAGAIN, "try-once put on a full queue gave %d", r);
    r = rl_queue_join(q, 0);
    rl_check(r == -EAGAIN, "try-once join gave %d", r);
    char c;
    rl_check(rl_queue_get(q, &c, 1, 0) == 1, "get");
    r = (int)rl_queue_get(q, &c, 1, 0);
    rl_check(r == -EAGAIN, "try-once get on an empty queue gave %d", r);
    RL_STORE(*stop, 1);
    rl_process_join(p, -1);
    rl_process_free(p);
    rl_queue_free(q);
}

/* With the arena full, starting a forked actor fails with -ENOMEM under
 * the scheduler: without its record, joining it would wait in the kernel
 * while holding the token. */
static int return_zero(void *arg)
{
    (void)arg;
    return 0;
}

RL_SCENARIO(t_full_arena_start, "t.full_arena_start", .max_steps = 200,
            .timeout = 20.0)
{
    for (size_t size = (size_t)1 << 26; size >= 16; size /= 2)
        while (rl_shared_alloc(size))
            ;
    rl_process *p = NULL;
    int r = rl_process_start(&p, return_zero, NULL, NULL);
    rl_check(r == -ENOMEM, "start with a full arena gave %d", r);
    if (r == 0) {
        rl_process_join(p, -1);
        rl_process_free(p);
    }
}

/* Where t.escape tells the test the pid of the process that left the
 * execution's process group: a page the test maps before the execution,
 * so the execution's processes inherit it. */
static volatile pid_t *escaped_pid;

/* A grandchild that leaves the process group (setsid) and would sleep on:
 * the supervisor finds it among its orphans and ends it. */
RL_SCENARIO(t_escape, "t.escape", .timeout = 20.0)
{
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        if (escaped_pid)
            *escaped_pid = getpid();
        for (;;)
            pause();
    }
    while (pid > 0 && escaped_pid && *escaped_pid == 0)
        usleep(1000);
}

/* For t.kill_worker: set, it kills the supervisor of its execution once,
 * unless that is the test process itself. */
typedef struct {
    int once;
    pid_t test;
    int sig; /* 0: SIGKILL */
} kill_order;
static kill_order *kill_worker;

/* Kills the job worker that supervises it (once), as the out-of-memory
 * killer or an impatient user might. */
RL_SCENARIO(t_kill_worker, "t.kill_worker", .timeout = 20.0)
{
    if (kill_worker && getppid() != kill_worker->test &&
        __atomic_exchange_n(&kill_worker->once, 0, __ATOMIC_ACQ_REL))
        kill(getppid(), kill_worker->sig ? kill_worker->sig : SIGKILL);
    rl_yield("after");
}

/* A failure that only schedules running actor b before the root's store
 * of flag reach, under a large space of passing schedules (the stores of
 * a and b to w in every order). */
typedef struct {
    long w, flag;
} late_state;

static int late_a(void *arg)
{
    late_state *s = arg;
    for (long k = 1; k <= 4; k++)
        RL_STORE(s->w, k);
    return 0;
}

static int late_b(void *arg)
{
    late_state *s = arg;
    long f = RL_LOAD(s->flag);
    for (long k = 1; k <= 4; k++)
        RL_STORE(s->w, -k);
    rl_check(f == 1, "b ran before the root stored flag");
    return 0;
}

RL_SCENARIO(t_late, "t.late", .expect = RL_EXPECT_BUG)
{
    late_state *s = rl_shared_alloc(sizeof *s);
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, late_a, s, NULL) == 0, "start a");
    rl_check(rl_process_start(&b, late_b, s, NULL) == 0, "start b");
    RL_STORE(s->flag, 1);
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
}

/* Every execution of t.counted adds one to *counted_runs, a page shared
 * by every process of the test (job workers and executions included), so
 * a test sees how many executions really ran. */
static long *counted_runs;

static int counted_child(void *arg)
{
    late_state *s = arg;
    RL_STORE(s->w, 1);
    return 0;
}

RL_SCENARIO(t_counted, "t.counted", .expect = RL_EXPECT_BUG)
{
    if (counted_runs)
        __atomic_fetch_add(counted_runs, 1, __ATOMIC_RELAXED);
    late_state *s = rl_shared_alloc(sizeof *s);
    rl_process *a = NULL;
    rl_check(rl_process_start(&a, counted_child, s, NULL) == 0, "start");
    RL_STORE(s->flag, 1);
    rl_process_join(a, -1);
    rl_process_free(a);
    rl_check(RL_LOAD(s->w) == 0, "the child stored 1");
}

/* A message several times the size of a pipe's buffer (one page in the
 * testing build) over a one-way pipe: the sender fills the pipe, the
 * receiver empties it, each waits for the other in the middle of one
 * message. */
#define BIG_MSG 20000

static int big_sender(void *arg)
{
    rl_conn *w = arg;
    static unsigned char m[BIG_MSG];
    for (int i = 0; i < BIG_MSG; i++)
        m[i] = (unsigned char)(i * 7);
    rl_check(rl_conn_send(w, m, sizeof m) == 0, "send");
    return 0;
}

RL_SCENARIO(t_pipe_big, "t.pipe_big", .max_steps = 2000)
{
    rl_conn *r = NULL, *w = NULL;
    rl_check(rl_pipe(&r, &w, 0) == 0, "pipe");
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, big_sender, w, NULL) == 0, "start");
    rl_conn_close(w);
    static unsigned char got[BIG_MSG];
    rl_check(rl_conn_recv(r, got, sizeof got, -1) == BIG_MSG, "recv");
    int same = 1;
    for (int i = 0; i < BIG_MSG; i++)
        same &= got[i] == (unsigned char)(i * 7);
    rl_check(same, "the message arrived whole");
    rl_process_join(p, -1);
    rl_process_free(p);
    rl_conn_close(r);
}

/* ---- helpers ---- */

static int child_of_mine(const rl_test_proc *p, void *ctx)
{
    (void)ctx;
    return p->ppid == getpid();
}

static int children_left(void)
{
    return rl_test_procs(child_of_mine, NULL, NULL);
}

/* Whether this process may trace a child of its own (containers may
 * forbid ptrace altogether). */
static int ptrace_allowed(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    char buf[256];
    int ok = rl__stack_capture_remote(pid, buf, sizeof buf) >= 0;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return ok;
}

static rl__search_opts explore_opts(int bound)
{
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.races = RL__RACES_OFF;
    o.mode = RL_MODE_EXPLORE;
    o.preemptions = bound;
    return o;
}

/* Whether the outcome behaved as expected, by the results model's rule
 * (through the conversion every report goes through). */
static int as_expected(const rl__search_result *r)
{
    rl__result m;
    ck_assert_int_eq(rl__result_from_search(r, &m), 0);
    int ok = rl__result_as_expected(&m);
    rl__result_free(&m);
    return ok;
}

static void search(const char *name, rl__search_opts *o, rl__search_result *r)
{
    rl_scenario *sc = rl__scenario_find(name);
    ck_assert_ptr_nonnull(sc);
    ck_assert_int_eq(rl__search(sc, o, r), 0);
}

/* ---- verdicts ---- */

START_TEST(pass_exhausts_the_bounded_space)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    search("t.pass", &o, &r);
    ck_assert_int_eq(r.verdict, RL_PASS);
    ck_assert_int_eq(r.exhausted, 1);
    /* Both orders of the critical sections at least. */
    ck_assert_int_ge(r.executions, 2);
    ck_assert_int_eq(as_expected(&r), 1);
    rl__search_result_free(&r);
    /* Without reduction, every schedule under the bound. */
    o.reduction = RL__REDUCTION_NONE;
    search("t.pass", &o, &r);
    ck_assert_int_eq(r.verdict, RL_PASS);
    ck_assert_int_eq(r.exhausted, 1);
    ck_assert_int_gt(r.executions, 10);
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

/* An actor that reached its exit is never a CRASH, however late its
 * process ends: the supervisor asks the kernel first and the actor's
 * record afterwards. */
START_TEST(actors_that_end_late_are_not_crashes)
{
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.races = RL__RACES_OFF;
    o.mode = RL_MODE_RANDOM;
    o.seed = 7;
    o.runs = 60;
    rl__search_result r;
    search("t.unjoined", &o, &r);
    ck_assert_msg(r.verdict == RL_PASS, "verdict %s: %s",
                  rl_verdict_name(r.verdict), r.first.message);
    ck_assert_int_eq(r.executions, 60);
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

START_TEST(fail_finds_the_lost_update)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    search("t.fail", &o, &r);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    ck_assert_int_eq(as_expected(&r), 1);
    ck_assert_ptr_nonnull(strstr(r.first.message, "counter is"));
    ck_assert_ptr_nonnull(strstr(r.first.message, "expected 4"));
    ck_assert_ptr_nonnull(r.token);
    ck_assert(strncmp(r.token, "t.fail@", 7) == 0);
    rl__search_result_free(&r);
}
END_TEST

START_TEST(deadlock_names_the_write_end_holder)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    search("t.deadlock", &o, &r);
    ck_assert_int_eq(r.verdict, RL_DEADLOCK);
    ck_assert_int_eq(r.executions, 1);
    ck_assert_ptr_nonnull(strstr(r.first.message, "no actor can run"));
    ck_assert_ptr_nonnull(strstr(r.first.message, "actor 0 (main, pid"));
    ck_assert_ptr_nonnull(strstr(r.first.message, "holds the write end"));
    rl__search_result_free(&r);
}
END_TEST

START_TEST(livelock_says_the_flag_is_private)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    search("t.livelock", &o, &r);
    ck_assert_int_eq(r.verdict, RL_LIVELOCK);
    ck_assert_ptr_nonnull(strstr(r.first.message, "stop_flag"));
    ck_assert_ptr_nonnull(strstr(r.first.message, "private copy, not shared"));
    ck_assert_ptr_nonnull(strstr(r.first.message, "went to its own copy"));
    rl__search_result_free(&r);
}
END_TEST

START_TEST(crash_names_the_signal)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    search("t.crash", &o, &r);
    ck_assert_int_eq(r.verdict, RL_CRASH);
    ck_assert_ptr_nonnull(strstr(r.first.message, "SEGV"));
    ck_assert_ptr_nonnull(strstr(r.first.message, "actor 1"));
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

START_TEST(timeout_kills_everything_in_time)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    double t0 = rl__now();
    search("t.timeout", &o, &r);
    double took = rl__now() - t0;
    ck_assert_int_eq(r.verdict, RL_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(r.first.message, "timeout"));
    /* The stacks of the stuck processes, one of them taken by ptrace
     * (where this machine allows tracing a descendant). */
    ck_assert_int_ge(r.first.nactors, 2);
    if (ptrace_allowed())
        ck_assert_ptr_nonnull(strstr(r.first.actors[1].stack, "hang_outside"));
    ck_assert_ptr_nonnull(strstr(r.first.actors[0].stack, "t_timeout"));
    /* The timeout is 1 s; killing and reaping takes a moment more. */
    ck_assert(took < 1.0 + 9.0 * rl_test_scale());
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
    /* The grandchild (sleep 60) is gone too: nothing of ours remains (in
     * this session; other test runs may have their own). */
    char cmd[160];
    snprintf(cmd, sizeof cmd,
             "ps -eo sid=,args= | awk '$1 == %d && $2 == \"sleep\" && "
             "$3 == \"60\"' | wc -l",
             (int)getsid(0));
    FILE *ps = popen(cmd, "r");
    int n = -1;
    ck_assert(fscanf(ps, "%d", &n) == 1);
    pclose(ps);
    ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(a_process_that_left_the_group_is_ended)
{
    escaped_pid = mmap(NULL, sizeof *escaped_pid, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert(escaped_pid != MAP_FAILED);
    rl__search_opts o = explore_opts(0);
    rl__search_result r;
    search("t.escape", &o, &r);
    ck_assert_int_eq(r.verdict, RL_PASS);
    rl__search_result_free(&r);
    pid_t pid = *escaped_pid;
    ck_assert_int_gt(pid, 0);
    /* It was this process's child (the supervisor is a subreaper), killed
     * and reaped before the search returned. (Should it still live, it is
     * ended here, not left behind by a failing test.) */
    int alive = kill(pid, 0) == 0 || errno != ESRCH;
    if (alive) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    ck_assert_msg(!alive, "process %d left the group and outlived the search",
                  (int)pid);
    ck_assert_int_eq(children_left(), 0);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
    munmap((void *)escaped_pid, sizeof *escaped_pid);
    escaped_pid = NULL;
}
END_TEST

/* The scenario t.kill_worker sends sig to its own job worker once: the
 * run must not wait for the lost part (a stopped worker never ends by
 * itself), fail it as ERROR with why, and give the rest to a new
 * worker. Not an internal error. */
static void worker_fault(int sig, const char *why)
{
    kill_worker = mmap(NULL, sizeof *kill_worker, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert(kill_worker != MAP_FAILED);
    kill_worker->once = 1;
    kill_worker->test = getpid();
    kill_worker->sig = sig;
    rl_scenario *scs[2] = {rl__scenario_find("t.kill_worker"),
                           rl__scenario_find("t.pass")};
    ck_assert(scs[0] && scs[1]);
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.races = RL__RACES_OFF;
    o.mode = RL_MODE_RANDOM;
    o.runs = 20;
    o.seed = 1;
    rl__search_result res[2];
    memset(res, 0, sizeof res);
    ck_assert_int_eq(rl__search_many(scs, 2, &o, 2, res, NULL, NULL), 0);
    ck_assert_int_eq(kill_worker->once, 0);
    ck_assert_int_eq(res[0].verdict, RL_ERROR);
    ck_assert_msg(strstr(res[0].first.message, why), "message: %s",
                  res[0].first.message);
    ck_assert(!as_expected(&res[0]));
    /* A new worker took the rest: the other scenario ran all its runs. */
    ck_assert_int_eq(res[1].verdict, RL_PASS);
    ck_assert_int_eq(res[1].executions, 20);
    rl__search_result_free(&res[0]);
    rl__search_result_free(&res[1]);
    ck_assert_int_eq(children_left(), 0);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
    munmap(kill_worker, sizeof *kill_worker);
    kill_worker = NULL;
}

START_TEST(a_stopped_job_worker_fails_its_part_and_the_rest_goes_on)
{
    worker_fault(SIGSTOP, "stopped by signal SIGSTOP");
}
END_TEST

START_TEST(a_dead_job_worker_fails_its_part_and_the_rest_goes_on)
{
    worker_fault(SIGKILL, "killed by signal SIGKILL");
}
END_TEST

/* Explores t.late over two job workers with rounds of len executions. */
static void explore_late(long len, rl__search_result *r)
{
    rl_scenario *sc = rl__scenario_find("t.late");
    ck_assert_ptr_nonnull(sc);
    rl__search_opts o = explore_opts(-1);
    o.round = len;
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(rl__search_many(&sc, 1, &o, 2, r, NULL, NULL), 0);
    ck_assert_int_eq(r->verdict, RL_FAIL);
    ck_assert_ptr_nonnull(r->token);
}

START_TEST(jobs_report_a_later_subtree_failure_early_and_alike)
{
    /* Rounds of one execution: a subtree that fails in its first run
     * wins over the subtrees before it, which stop after one run each. */
    rl__search_result r1, r2;
    explore_late(1, &r1);
    ck_assert_int_le(r1.first_failure_run, 4L * 2);
    /* Whichever worker got there first, the same failure. */
    explore_late(1, &r2);
    ck_assert_str_eq(r1.token, r2.token);
    ck_assert_int_eq(r1.first_failure_run, r2.first_failure_run);
    ck_assert_int_eq(r1.executions, r2.executions);
    /* (Searched whole, the subtrees before the failing one hold some 600
     * passing schedules: rounds of a million executions report it at
     * run 633.) */
    rl__search_result_free(&r1);
    rl__search_result_free(&r2);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

START_TEST(jobs_do_not_run_the_failing_execution_again)
{
    /* Each worker's slice fails on its first run; the details shown (the
     * trace, the actors, the message) are the ones the worker found, not
     * those of a replay in the parent: the executions that ran are the
     * executions counted. */
    counted_runs = mmap(NULL, sizeof *counted_runs, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(counted_runs, MAP_FAILED);
    *counted_runs = 0;
    rl_scenario *sc = rl__scenario_find("t.counted");
    ck_assert_ptr_nonnull(sc);
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.mode = RL_MODE_RANDOM;
    o.runs = 20;
    o.seed = 5;
    rl__search_result r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(rl__search_many(&sc, 1, &o, 2, &r, NULL, NULL), 0);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    ck_assert_ptr_nonnull(r.token);
    ck_assert_int_gt(r.first.nsteps, 0);
    ck_assert_int_ge(r.first.nactors, 2);
    ck_assert_msg(strstr(r.first.message, "the child stored 1"), "%s",
                  r.first.message);
    ck_assert_int_eq(*counted_runs, r.executions);
    rl__search_result_free(&r);
    munmap(counted_runs, sizeof *counted_runs);
    counted_runs = NULL;
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

START_TEST(a_message_larger_than_the_pipe_crosses_under_the_scheduler)
{
    rl__search_opts o = explore_opts(1);
    rl__search_result r;
    search("t.pipe_big", &o, &r);
    ck_assert_msg(r.verdict == RL_PASS, "%s: %s", rl_verdict_name(r.verdict),
                  r.first.message);
    ck_assert_int_eq(r.exhausted, 1);
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

START_TEST(daemon_ends_with_its_parent)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    search("t.daemon", &o, &r);
    ck_assert_msg(r.verdict == RL_PASS, "%s", r.first.message);
    ck_assert_int_eq(r.exhausted, 1);
    rl__search_result_free(&r);
    memset(&o, 0, sizeof o);
    o.mode = RL_MODE_STRESS;
    o.runs = 5;
    search("t.daemon", &o, &r);
    ck_assert_msg(r.verdict == RL_PASS, "%s", r.first.message);
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

/* ---- the number of interleavings ---- */

typedef struct {
    char seen[128][2 * YIELDS + 1];
    int n;
} projections;

static void project(const rl__exec_result *e, void *ctx)
{
    projections *p = ctx;
    char s[2 * YIELDS + 1];
    int k = 0;
    for (long i = 0; i < e->nsteps && k < 2 * YIELDS; i++)
        if (e->steps[i].op == RL_OP_STORE)
            s[k++] = (char)e->steps[i].value;
    s[k] = '\0';
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->seen[i], s) == 0)
            return;
    if (p->n < 128)
        strcpy(p->seen[p->n++], s);
}

START_TEST(unbounded_explore_visits_every_interleaving)
{
    projections *p = calloc(1, sizeof *p);
    rl__search_opts o = explore_opts(-1);
    o.observe = project;
    o.observe_ctx = p;
    rl__search_result r;
    o.reduction = RL__REDUCTION_NONE;
    search("t.yields", &o, &r);
    ck_assert_int_eq(r.verdict, RL_PASS);
    ck_assert_int_eq(r.exhausted, 1);
    /* Two actors of 2 independent steps each: C(4, 2) = 6 orders; with
     * the reduction, one stands for all. */
    ck_assert_int_eq(p->n, 6);
    for (int i = 0; i < p->n; i++)
        ck_assert_int_eq(strlen(p->seen[i]), 2 * YIELDS);
    ck_assert_int_ge(r.executions, 6);
    rl__search_result_free(&r);
    memset(p, 0, sizeof *p);
    o.reduction = RL__REDUCTION_DPOR;
    search("t.yields", &o, &r);
    ck_assert_int_eq(r.exhausted, 1);
    ck_assert_int_eq(r.executions, 1);
    ck_assert_int_eq(p->n, 1);
    rl__search_result_free(&r);
    free(p);
}
END_TEST

START_TEST(bound_zero_allows_no_preemption)
{
    projections *p = calloc(1, sizeof *p);
    rl__search_opts o = explore_opts(0);
    o.observe = project;
    o.observe_ctx = p;
    rl__search_result r;
    search("t.yields", &o, &r);
    ck_assert_int_eq(r.exhausted, 1);
    /* Without preemptions an actor runs until it ends: aabb or bbaa
     * only (the root may hand over at its own blocking join). */
    ck_assert_int_le(p->n, 2);
    for (int i = 0; i < p->n; i++)
        ck_assert(strcmp(p->seen[i], "aabb") == 0 ||
                  strcmp(p->seen[i], "bbaa") == 0);
    rl__search_result_free(&r);
    free(p);
}
END_TEST

typedef struct {
    int kind;
    long costs[4096];
    long n;
} cost_log;

static void log_cost(const rl__exec_result *e, void *ctx)
{
    cost_log *c = ctx;
    if (c->n < 4096)
        c->costs[c->n++] = rl__trace_cost(e->steps, e->nsteps, c->kind);
}

/* Every schedule with no preemption first, then one, then two: the first
 * failure found has the fewest preemptions there are. */
START_TEST(explore_visits_cheaper_schedules_first)
{
    for (int red = 0; red < 2; red++) {
        cost_log *c = calloc(1, sizeof *c);
        rl__search_opts o = explore_opts(2);
        o.reduction = red ? RL__REDUCTION_NONE : RL__REDUCTION_DPOR;
        o.observe = log_cost;
        o.observe_ctx = c;
        rl__search_result r;
        search("t.fail", &o, &r);
        ck_assert_int_eq(r.verdict, RL_FAIL);
        ck_assert_int_eq(r.found_cost, 1);
        ck_assert_int_eq(c->costs[c->n - 1], 1);
        for (long i = 1; i < c->n && red; i++)
            ck_assert_msg(c->costs[i - 1] <= c->costs[i],
                          "execution %ld costs %ld after one of %ld", i + 1,
                          c->costs[i], c->costs[i - 1]);
        rl__search_result_free(&r);
        /* Without a failure, every schedule is visited once, in order. */
        c->n = 0;
        o.reduction = RL__REDUCTION_NONE;
        search("t.pass", &o, &r);
        ck_assert_int_eq(r.exhausted, 1);
        ck_assert_int_eq(r.executions, c->n);
        for (long i = 1; i < c->n; i++)
            ck_assert(c->costs[i - 1] <= c->costs[i]);
        ck_assert_int_eq(c->costs[c->n - 1], 2);
        rl__search_result_free(&r);
        free(c);
    }
}
END_TEST

/* --bound delays: a delay passes over an actor that could run; bound 0
 * is the one default schedule. */
START_TEST(delay_bound_counts_passed_over_actors)
{
    cost_log *c = calloc(1, sizeof *c);
    c->kind = RL__BOUND_DELAYS;
    rl__search_opts o = explore_opts(0);
    o.bound_kind = RL__BOUND_DELAYS;
    o.reduction = RL__REDUCTION_NONE;
    o.observe = log_cost;
    o.observe_ctx = c;
    rl__search_result r;
    search("t.pass", &o, &r);
    ck_assert_int_eq(r.exhausted, 1);
    ck_assert_int_eq(r.executions, 1);
    rl__search_result_free(&r);
    long one = 0;
    for (int bound = 1; bound <= 2; bound++) {
        c->n = 0;
        o.preemptions = bound;
        search("t.pass", &o, &r);
        ck_assert_int_eq(r.exhausted, 1);
        ck_assert_int_gt(r.executions, bound == 1 ? 1 : one);
        for (long i = 0; i < c->n; i++)
            ck_assert_int_le(c->costs[i], bound);
        if (bound == 1)
            one = r.executions;
        rl__search_result_free(&r);
    }
    /* The lost update needs one delay: found at delay bound 1. */
    o.preemptions = 2;
    search("t.fail", &o, &r);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    ck_assert_int_eq(r.found_cost, 1);
    rl__search_result_free(&r);
    free(c);
}
END_TEST

/* Each pct search measures and keeps the bound it guarantees. */
START_TEST(pct_states_its_guarantee)
{
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.races = RL__RACES_OFF;
    o.mode = RL_MODE_PCT;
    o.depth = 2;
    o.runs = 5;
    o.seed = 3;
    rl__search_result r;
    search("t.pass", &o, &r);
    ck_assert_int_eq(r.pct_depth, 2);
    ck_assert_int_eq(r.pct_actors, 3);
    ck_assert_int_gt(r.pct_steps, 4);
    double p = rl__pct_probability(r.pct_depth, r.pct_actors, r.pct_steps);
    ck_assert(fabs(p - 1.0 / (3.0 * (double)r.pct_steps)) < 1e-12);
    long n = rl__pct_runs_for_95(r.pct_depth, r.pct_actors, r.pct_steps);
    ck_assert(pow(1 - p, (double)n) <= 0.05);
    ck_assert(pow(1 - p, (double)(n - 1)) > 0.05);
    rl__search_result_free(&r);
}
END_TEST

START_TEST(an_execution_holds_256_actors)
{
    rl__search_opts o = explore_opts(0);
    o.runs = 1;
    rl__search_result r;
    search("t.crowd", &o, &r);
    /* 256 run; the one too many is an ERROR naming the limit. */
    ck_assert_msg(r.verdict == RL_PASS, "verdict %s: %s",
                  rl_verdict_name(r.verdict), r.first.message);
    rl__search_result_free(&r);
    search("t.crowd_plus", &o, &r);
    ck_assert_msg(r.verdict == RL_ERROR, "verdict %s: %s",
                  rl_verdict_name(r.verdict), r.first.message);
    ck_assert_ptr_nonnull(strstr(r.first.message, "at most 256 processes"));
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

static int counted;

static long *count_call(long *p)
{
    counted++;
    return p;
}

typedef struct {
    long loads;
    long sizes_ok;
} load_count;

static void count_loads(const rl__exec_result *e, void *ctx)
{
    load_count *c = ctx;
    for (long i = 0; i < e->nsteps; i++) {
        if (e->steps[i].op != RL_OP_LOAD)
            continue;
        c->loads++;
        c->sizes_ok += e->steps[i].size == (int)sizeof(long);
    }
}

START_TEST(access_macros_evaluate_each_argument_once)
{
    /* Outside an execution: the lvalue and the value are evaluated once. */
    long x = 5;
    counted = 0;
    ck_assert_int_eq(RL_LOAD(*count_call(&x)), 5);
    ck_assert_int_eq(counted, 1);
    RL_STORE(*count_call(&x), 7);
    ck_assert_int_eq(counted, 2);
    ck_assert_int_eq(x, 7);
    ck_assert_int_eq(RL_FETCH_ADD(*count_call(&x), 3), 7);
    ck_assert_int_eq(counted, 3);
    ck_assert_int_eq(x, 10);
    long a[3] = {0, 11, 22}, i = 1;
    ck_assert_int_eq(RL_LOAD(a[RL_LOAD(i)]), 11);
    RL_STORE(a[RL_LOAD(i) + 1], RL_LOAD(a[RL_LOAD(i)]) + 1);
    ck_assert_int_eq(a[2], 12);
    /* Under the scheduler: the nested load is two schedule points, each
     * with the size of what it read. */
    load_count c = {0, 0};
    rl__search_opts o = explore_opts(0);
    o.observe = count_loads;
    o.observe_ctx = &c;
    rl__search_result r;
    search("t.nested_load", &o, &r);
    ck_assert_msg(r.verdict == RL_PASS, "%s", r.first.message);
    ck_assert_int_eq(r.executions, 1);
    ck_assert_int_eq(c.loads, 2);
    ck_assert_int_eq(c.sizes_ok, 2);
    rl__search_result_free(&r);
}
END_TEST

/* ---- replay, tokens, minimize ---- */

START_TEST(replay_is_identical_every_time)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    search("t.fail", &o, &r);
    ck_assert_ptr_nonnull(r.token);
    char *token = strdup(r.token);
    rl__exec_result first = r.first;
    r.first.steps = NULL;
    r.first.actors = NULL;
    rl__search_result_free(&r);
    for (int k = 0; k < 50; k++) {
        rl__search_result x;
        ck_assert_int_eq(rl__replay(token, &o, &x), 0);
        ck_assert_int_eq(x.verdict, RL_FAIL);
        ck_assert_str_eq(x.token, token);
        ck_assert_int_eq(x.first.nsteps, first.nsteps);
        for (long i = 0; i < first.nsteps; i++) {
            ck_assert_int_eq(x.first.steps[i].actor, first.steps[i].actor);
            ck_assert_int_eq(x.first.steps[i].op, first.steps[i].op);
            ck_assert_int_eq(x.first.steps[i].value, first.steps[i].value);
            ck_assert_ptr_eq(x.first.steps[i].obj, first.steps[i].obj);
            ck_assert(memcmp(&x.first.steps[i].enabled, &first.steps[i].enabled,
                             sizeof first.steps[i].enabled) == 0);
        }
        /* The message names pids, which differ: compare the start. */
        ck_assert_ptr_nonnull(strstr(x.first.message, "counter is"));
        rl__search_result_free(&x);
    }
    free(first.steps);
    free(first.actors);
    free(token);
}
END_TEST

START_TEST(tokens_that_do_not_fit_or_parse)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    ck_assert_int_eq(rl__replay("t.fail@0x3.9x2", &o, &r), 0);
    ck_assert_int_eq(r.verdict, RL_ERROR);
    ck_assert_ptr_nonnull(strstr(r.first.message, "at step 3"));
    ck_assert_ptr_nonnull(strstr(r.first.message, "actor 9"));
    rl__search_result_free(&r);

    const char *bad[] = {"t.fail",      "@0x1",         "t.fail@",
                         "t.fail@x",    "t.fail@0x",    "t.fail@0x1.",
                         "t.fail@0x0",  "t.fail@256x1", "t.fail@0x1..1x1",
                         "t.fail@-1x2", "t.fail@0x1;rm"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(rl__replay(bad[i], &o, &r), -EINVAL);
        ck_assert_ptr_nonnull(strstr(rl_last_error(), "token"));
        rl__search_result_free(&r);
    }
    ck_assert_int_eq(rl__replay("no.such@0x1", &o, &r), -ENOENT);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "no.such"));
    rl__search_result_free(&r);
}
END_TEST

START_TEST(token_round_trip)
{
    uint8_t d[] = {0, 0, 0, 1, 1, 2, 0};
    char *t = rl__token_encode("a.b", d, 7);
    ck_assert_str_eq(t, "a.b@0x3.1x2.2x1.0x1");
    char *name;
    uint8_t *back;
    long n;
    ck_assert_int_eq(rl__token_decode(t, &name, &back, &n), 0);
    ck_assert_str_eq(name, "a.b");
    ck_assert_int_eq(n, 7);
    ck_assert_mem_eq(back, d, 7);
    free(name);
    free(back);
    free(t);
}
END_TEST

static long preemptions_of(const rl__exec_result *e)
{
    long k = 0;
    for (long i = 1; i < e->nsteps; i++) {
        int prev = e->steps[i - 1].actor;
        if (e->steps[i].actor != prev &&
            rl__set_has(&e->steps[i].enabled, prev))
            k++;
    }
    return k;
}

START_TEST(minimize_keeps_the_verdict_with_fewer_preemptions)
{
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.races = RL__RACES_OFF;
    o.mode = RL_MODE_RANDOM;
    o.runs = 200;
    o.seed = 7;
    rl__search_result r;
    search("t.fail", &o, &r);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    long before = preemptions_of(&r.first);
    char *token = strdup(r.token);
    rl__search_result_free(&r);

    rl__search_result m;
    ck_assert_int_eq(rl__minimize(token, &o, &m), 0);
    ck_assert_int_eq(m.verdict, RL_FAIL);
    ck_assert_ptr_nonnull(m.minimized_token);
    rl__search_result x;
    ck_assert_int_eq(rl__replay(m.minimized_token, &o, &x), 0);
    ck_assert_int_eq(x.verdict, RL_FAIL);
    long after = preemptions_of(&x.first);
    ck_assert_int_le(after, before);
    ck_assert_int_ge(after, 1);
    rl__search_result_free(&x);
    rl__search_result_free(&m);

    ck_assert_int_eq(rl__minimize("t.pass@-", &o, &m), -EINVAL);
    rl__search_result_free(&m);
    free(token);
}
END_TEST

/* ---- other strategies and start methods ---- */

START_TEST(pct_and_random_are_seeded)
{
    for (int mode = RL_MODE_PCT; mode <= RL_MODE_RANDOM; mode++) {
        rl__search_opts o;
        memset(&o, 0, sizeof o);
        o.races = RL__RACES_OFF;
        o.mode = mode;
        o.runs = 300;
        o.seed = 42;
        rl__search_result a, b;
        search("t.fail", &o, &a);
        search("t.fail", &o, &b);
        ck_assert_int_eq(a.verdict, RL_FAIL);
        ck_assert_int_eq(a.executions, b.executions);
        ck_assert_str_eq(a.token, b.token);
        rl__search_result_free(&a);
        rl__search_result_free(&b);
    }
}
END_TEST

START_TEST(spawn_and_forkserver_actors_are_controlled)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    search("t.spawn", &o, &r);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    char *token = strdup(r.token);
    rl__search_result_free(&r);
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(rl__replay(token, &o, &r), 0);
        ck_assert_int_eq(r.verdict, RL_FAIL);
        rl__search_result_free(&r);
    }
    free(token);

    o.preemptions = 1;
    search("t.forkserver", &o, &r);
    ck_assert_int_eq(r.verdict, RL_PASS);
    ck_assert_int_eq(r.exhausted, 1);
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

START_TEST(stress_counts_failures_with_an_interval)
{
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.races = RL__RACES_OFF;
    o.mode = RL_MODE_STRESS;
    o.runs = 20;
    rl__search_result r;
    search("t.pass", &o, &r);
    ck_assert_int_eq(r.verdict, RL_PASS);
    ck_assert_int_eq(r.executions, 20);
    ck_assert_int_eq(r.failures, 0);
    ck_assert_int_eq(r.nvalues, 1);
    ck_assert_int_eq(r.values[0], 4);
    ck_assert_int_eq(r.counts[0], 20);
    rl__search_result_free(&r);
    double lo, hi;
    rl__wilson(0, 20, &lo, &hi);
    ck_assert(lo == 0.0 && hi > 0.15 && hi < 0.17);
    rl__wilson(10, 20, &lo, &hi);
    ck_assert(lo > 0.29 && lo < 0.30 && hi > 0.70 && hi < 0.71);
}
END_TEST

START_TEST(every_execution_starts_with_zeroed_shared_memory)
{
    rl_outcome out;
    rl_search_opts o = {
        .mode = RL_EXPLORE, .preemptions = 2, .reduction = RL_REDUCTION_NONE};
    ck_assert_int_eq(rl_search("t.fresh_memory", &o, &out), 0);
    ck_assert_msg(out.verdict == RL_PASS, "%s: %s",
                  rl_verdict_name(out.verdict), out.message);
    ck_assert_int_gt(out.executions, 5);
    ck_assert_int_eq(out.exhausted, 1);
    rl_outcome_free(&out);
}
END_TEST

START_TEST(c_api_runs_a_scenario)
{
    rl_outcome out;
    rl_search_opts o = {.mode = RL_EXPLORE, .races = RL_RACES_OFF};
    ck_assert_int_eq(rl_search("t.fail", &o, &out), 0);
    ck_assert_int_eq(out.verdict, RL_FAIL);
    ck_assert_int_eq(out.as_expected, 1);
    ck_assert_ptr_nonnull(out.token);
    char *token = strdup(out.token);
    rl_outcome_free(&out);
    ck_assert_int_eq(rl_replay(token, &out), 0);
    ck_assert_int_eq(out.verdict, RL_FAIL);
    rl_outcome_free(&out);
    free(token);
    ck_assert_int_eq(rl_search("nope", NULL, &out), -ENOENT);
    o.mode = 17;
    ck_assert_int_eq(rl_search("t.fail", &o, &out), -EINVAL);
    /* The caller's own shared memory survives the executions. */
    long *mine = rl_shared_alloc(sizeof *mine);
    *mine = 1234;
    ck_assert_int_eq(rl_search("t.pass", NULL, &out), 0);
    ck_assert_int_eq(out.verdict, RL_PASS);
    rl_outcome_free(&out);
    ck_assert_int_eq(*mine, 1234);
    ck_assert_int_eq(rl_is_shared(mine), 1);
}
END_TEST

START_TEST(timed_waits_time_out_only_when_the_scheduler_says)
{
    static const char *names[] = {
        "t.timed.lock",    "t.timed.sem",    "t.timed.event", "t.timed.cond",
        "t.timed.barrier", "t.timed.future", "t.timed.out",
    };
    char bad[4096] = "";
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        rl__search_opts o = explore_opts(2);
        rl__search_result r;
        search(names[i], &o, &r);
        if (r.verdict != RL_PASS)
            snprintf(bad + strlen(bad), sizeof bad - strlen(bad),
                     "%s: verdict %d: %s; ", names[i], (int)r.verdict,
                     r.first.message);
        ck_assert_int_gt(r.executions, 0);
        rl__search_result_free(&r);
    }
    ck_assert_msg(bad[0] == '\0', "%s", bad);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

START_TEST(queue_try_once_does_not_block_under_the_scheduler)
{
    rl__search_opts o = explore_opts(0);
    rl__search_result r;
    search("t.queue.try_once", &o, &r);
    ck_assert_msg(r.verdict == RL_PASS, "verdict %d: %s", (int)r.verdict,
                  r.first.message);
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

START_TEST(full_arena_start_fails_under_the_scheduler)
{
    rl__search_opts o = explore_opts(1);
    rl__search_result r;
    search("t.full_arena_start", &o, &r);
    ck_assert_msg(r.verdict == RL_PASS, "verdict %d: %s", (int)r.verdict,
                  r.first.message);
    rl__search_result_free(&r);
    ck_assert_int_eq(children_left(), 0);
}
END_TEST

/* Facts of an execution with a root that exited 0 and one more actor,
 * as the supervisor would hand them to rl__exec_verdict. */
static rl__exec_facts plain_facts(rl__actor actors[2])
{
    memset(actors, 0, 2 * sizeof *actors);
    snprintf(actors[0].name, sizeof actors[0].name, "main");
    snprintf(actors[1].name, sizeof actors[1].name, "worker");
    actors[0].pid = 1000;
    actors[1].pid = 1001;
    rl__exec_facts f;
    memset(&f, 0, sizeof f);
    f.mode = RL__MODE_CONTROLLED;
    f.sched_verdict = RL_PASS;
    f.sched_message = "";
    f.crash_actor = -1;
    f.actors = actors;
    f.nactors = 2;
    f.dead_actor = -1;
    f.root_reaped = 1;
    f.root_status = 0;
    return f;
}

START_TEST(an_actor_that_exited_0_after_its_exit_is_no_crash)
{
    rl__actor actors[2];
    rl__exec_facts f = plain_facts(actors);
    actors[1].state = RL__ACTOR_FINISHED;
    actors[1].exit_code = 0;
    char msg[RL__MSG_LEN];
    ck_assert_int_eq(rl__exec_verdict(&f, msg, sizeof msg), RL_PASS);
    ck_assert_str_eq(msg, "");
    /* Its status is not 0 and nobody read it: that is a crash. */
    actors[1].exit_code = 3;
    ck_assert_int_eq(rl__exec_verdict(&f, msg, sizeof msg), RL_CRASH);
    ck_assert_str_eq(msg, "actor 1 (worker, pid 1001) exited with status 3 "
                          "and nobody looked at it");
    /* Its parent read it: the scenario meant it. */
    actors[1].observed = 1;
    ck_assert_int_eq(rl__exec_verdict(&f, msg, sizeof msg), RL_PASS);
}
END_TEST

START_TEST(a_killed_actor_is_a_crash_naming_the_signal)
{
    rl__actor actors[2];
    rl__exec_facts f = plain_facts(actors);
    actors[1].state = RL__ACTOR_RUNNABLE;
    f.dead_actor = 1;
    f.dead_status = SIGKILL; /* the wait status of a death by SIGKILL */
    char msg[RL__MSG_LEN];
    ck_assert_int_eq(rl__exec_verdict(&f, msg, sizeof msg), RL_CRASH);
    ck_assert_str_eq(msg,
                     "actor 1 (worker, pid 1001) was killed by signal SIGKILL");
    /* The scheduler's own verdict and message come first. */
    f.sched_verdict = RL_FAIL;
    f.sched_message = "counter is 2, expected 4";
    ck_assert_int_eq(rl__exec_verdict(&f, msg, sizeof msg), RL_FAIL);
    ck_assert_str_eq(msg, "counter is 2, expected 4");
}
END_TEST

static Suite *harness_suite(void)
{
    Suite *s = suite_create("harness");
    TCase *tc = rl_test_tcase("verdicts", 120);
    tcase_add_test(tc, pass_exhausts_the_bounded_space);
    tcase_add_test(tc, an_actor_that_exited_0_after_its_exit_is_no_crash);
    tcase_add_test(tc, a_killed_actor_is_a_crash_naming_the_signal);
    tcase_add_test(tc, actors_that_end_late_are_not_crashes);
    tcase_add_test(tc, every_execution_starts_with_zeroed_shared_memory);
    tcase_add_test(tc, fail_finds_the_lost_update);
    tcase_add_test(tc, deadlock_names_the_write_end_holder);
    tcase_add_test(tc, livelock_says_the_flag_is_private);
    tcase_add_test(tc, crash_names_the_signal);
    tcase_add_test(tc, timeout_kills_everything_in_time);
    tcase_add_test(tc, daemon_ends_with_its_parent);
    tcase_add_test(tc, a_message_larger_than_the_pipe_crosses_under_the_scheduler);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("explore", 240);
    tcase_add_test(tc, unbounded_explore_visits_every_interleaving);
    tcase_add_test(tc, bound_zero_allows_no_preemption);
    tcase_add_test(tc, an_execution_holds_256_actors);
    tcase_add_test(tc, explore_visits_cheaper_schedules_first);
    tcase_add_test(tc, delay_bound_counts_passed_over_actors);
    tcase_add_test(tc, pct_states_its_guarantee);
    tcase_add_test(tc, access_macros_evaluate_each_argument_once);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("replay", 240);
    tcase_add_test(tc, replay_is_identical_every_time);
    tcase_add_test(tc, tokens_that_do_not_fit_or_parse);
    tcase_add_test(tc, token_round_trip);
    tcase_add_test(tc, minimize_keeps_the_verdict_with_fewer_preemptions);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("strategies", 240);
    tcase_add_test(tc, pct_and_random_are_seeded);
    tcase_add_test(tc, spawn_and_forkserver_actors_are_controlled);
    tcase_add_test(tc, stress_counts_failures_with_an_interval);
    tcase_add_test(tc, c_api_runs_a_scenario);
    tcase_add_test(tc, a_process_that_left_the_group_is_ended);
    tcase_add_test(tc, a_dead_job_worker_fails_its_part_and_the_rest_goes_on);
    tcase_add_test(tc, a_stopped_job_worker_fails_its_part_and_the_rest_goes_on);
    tcase_add_test(tc, jobs_report_a_later_subtree_failure_early_and_alike);
    tcase_add_test(tc, jobs_do_not_run_the_failing_execution_again);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("timed waits", 240);
    tcase_add_test(tc, timed_waits_time_out_only_when_the_scheduler_says);
    tcase_add_test(tc, queue_try_once_does_not_block_under_the_scheduler);
    tcase_add_test(tc, full_arena_start_fails_under_the_scheduler);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(harness_suite());
}
