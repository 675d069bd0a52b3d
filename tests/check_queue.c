/* check_queue.c: queues: FIFO order across processes, bounds, memory cap,
 * timeouts, joinable queues and close. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "racelab.h"
#include "testutil.h"

/* Objects shared with the forked children of a test. */
static rl_queue *q, *q2;

/* Forks a child that runs fn(arg) and exits with its return value. */
static pid_t fork_child(int (*fn)(int), int arg)
{
    fflush(NULL);
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0)
        _exit(fn(arg));
    return p;
}

/* Waits for the child; returns its exit status, or 128 + signal. */
static int reap(pid_t p)
{
    int st;
    while (waitpid(p, &st, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

START_TEST(fifo_order_and_size)
{
    q = rl_queue_new(0, 0);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(rl_queue_size(q), 0);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(rl_queue_put(q, &i, sizeof i, 0), 0);
    ck_assert_int_eq(rl_queue_put(q, "", 0, 0), 0);
    ck_assert_int_eq(rl_queue_size(q), 101);
    for (int i = 0; i < 100; i++) {
        int v = -1;
        ck_assert_int_eq(rl_queue_get(q, &v, sizeof v, 0), sizeof v);
        ck_assert_int_eq(v, i);
    }
    ck_assert_int_eq(rl_queue_get(q, NULL, 0, 0), 0);
    ck_assert_int_eq(rl_queue_size(q), 0);
    rl_queue_free(q);
}
END_TEST

#define PRODUCERS 3
#define CONSUMERS 3
#define PER_PRODUCER 400

static int *delivered; /* in the arena: how often each item was got */

static int produce(int who)
{
    for (int i = 0; i < PER_PRODUCER; i++) {
        int item = who * PER_PRODUCER + i;
        if (rl_queue_put(q, &item, sizeof item, 20) != 0)
            return 1;
    }
    return 0;
}

static int consume(int who)
{
    (void)who;
    int last[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        last[i] = -1;
    for (;;) {
        int item;
        ssize_t n = rl_queue_get(q, &item, sizeof item, 20);
        if (n == -EPIPE)
            return 0;
        if (n != sizeof item || item < 0 || item >= PRODUCERS * PER_PRODUCER)
            return 1;
        /* One producer's items come out in the order it put them. */
        int from = item / PER_PRODUCER;
        if (item <= last[from])
            return 2;
        last[from] = item;
        __atomic_add_fetch(&delivered[item], 1, __ATOMIC_RELAXED);
    }
}

static void check_many(size_t maxsize)
{
    q = rl_queue_new(maxsize, 0);
    ck_assert_ptr_nonnull(q);
    delivered = rl_shared_alloc(sizeof(int) * PRODUCERS * PER_PRODUCER);
    ck_assert_ptr_nonnull(delivered);
    pid_t prod[PRODUCERS], cons[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++)
        cons[i] = fork_child(consume, i);
    for (int i = 0; i < PRODUCERS; i++)
        prod[i] = fork_child(produce, i);
    for (int i = 0; i < PRODUCERS; i++)
        ck_assert_int_eq(reap(prod[i]), 0);
    ck_assert_int_eq(rl_queue_close(q), 0);
    for (int i = 0; i < CONSUMERS; i++)
        ck_assert_int_eq(reap(cons[i]), 0);
    for (int i = 0; i < PRODUCERS * PER_PRODUCER; i++)
        ck_assert_int_eq(delivered[i], 1);
    ck_assert_int_eq(rl_queue_size(q), 0);
}

START_TEST(every_item_delivered_once_bounded)
{
    check_many(5);
}
END_TEST

START_TEST(every_item_delivered_once_unbounded)
{
    check_many(0);
}
END_TEST

/* Finds the queue full, then blocks in put until the parent gets one. */
static int put_into_full(int unused)
{
    (void)unused;
    int v = 99;
    if (rl_queue_put(q, &v, sizeof v, 0.2) != -ETIMEDOUT)
        return 1;
    if (rl_queue_put(q, &v, sizeof v, 0) != -EAGAIN)
        return 2;
    if (rl_queue_put(q2, "", 0, 0) != 0)
        return 3;
    return rl_queue_put(q, &v, sizeof v, 20) == 0 ? 0 : 4;
}

START_TEST(full_queue_blocks_a_producer_until_a_get)
{
    q = rl_queue_new(2, 0);
    q2 = rl_queue_new(0, 0);
    int a = 1, b = 2, v;
    ck_assert_int_eq(rl_queue_put(q, &a, sizeof a, 0), 0);
    ck_assert_int_eq(rl_queue_put(q, &b, sizeof b, 0), 0);
    pid_t p = fork_child(put_into_full, 0);
    /* The child saw the queue full and is about to block. */
    ck_assert_int_eq(rl_queue_get(q2, NULL, 0, 20), 0);
    ck_assert_int_eq(rl_queue_size(q), 2);
    ck_assert_int_eq(rl_queue_get(q, &v, sizeof v, 0), sizeof v);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(reap(p), 0);
    ck_assert_int_eq(rl_queue_size(q), 2);
    ck_assert_int_eq(rl_queue_get(q, &v, sizeof v, 0), sizeof v);
    ck_assert_int_eq(v, 2);
    ck_assert_int_eq(rl_queue_get(q, &v, sizeof v, 0), sizeof v);
    ck_assert_int_eq(v, 99);
}
END_TEST

START_TEST(try_once_and_timeouts)
{
    q = rl_queue_new(1, 0);
    char buf[4];
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, 0), -EAGAIN);
    double t0 = rl__now();
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, 0.2), -ETIMEDOUT);
    ck_assert_double_ge(rl__now() - t0, 0.19);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "empty"));
    ck_assert_int_eq(rl_queue_put(q, "a", 1, 0), 0);
    ck_assert_int_eq(rl_queue_put(q, "b", 1, 0), -EAGAIN);
    t0 = rl__now();
    ck_assert_int_eq(rl_queue_put(q, "b", 1, 0.2), -ETIMEDOUT);
    ck_assert_double_ge(rl__now() - t0, 0.19);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "full"));
    ck_assert_int_eq(rl_queue_size(q), 1);
}
END_TEST

START_TEST(unbounded_queue_stops_at_its_memory_cap)
{
    q = rl_queue_new(0, 0);
    char chunk[1024];
    memset(chunk, 'c', sizeof chunk);
    int n = 0;
    while (n < 100000 && rl_queue_put(q, chunk, sizeof chunk, 0) == 0)
        n++;
    ck_assert_int_eq(rl_queue_put(q, chunk, sizeof chunk, 0), -EAGAIN);
    ck_assert_int_eq(rl_queue_put(q, chunk, sizeof chunk, 0.1), -ETIMEDOUT);
    /* The cap under RL_TESTING is 64 KiB. */
    ck_assert_int_ge(n, 32);
    ck_assert_int_le(n, 64);
    ck_assert_int_eq(rl_queue_get(q, chunk, sizeof chunk, 0), 1024);
    ck_assert_int_eq(rl_queue_put(q, chunk, sizeof chunk, 0), 0);
    /* A message larger than the whole cap can never fit. */
    size_t huge = (size_t)1 << 20;
    char *big = calloc(1, huge);
    ck_assert_int_eq(rl_queue_put(q, big, huge, -1), -EMSGSIZE);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "memory cap"));
    /* Once the queue is empty, a message up to the cap fits. */
    while (rl_queue_get(q, chunk, sizeof chunk, 0) >= 0)
        ;
    ck_assert_int_eq(rl_queue_put(q, big, (size_t)64 << 10, 0), 0);
    free(big);
}
END_TEST

START_TEST(too_small_buffer_keeps_the_item)
{
    q = rl_queue_new(0, 0);
    char msg[100], buf[100];
    memset(msg, 'm', sizeof msg);
    ck_assert_int_eq(rl_queue_put(q, msg, sizeof msg, 0), 0);
    ck_assert_int_eq(rl_queue_put(q, "x", 1, 0), 0);
    ck_assert_int_eq(rl_queue_get(q, buf, 10, 0), -EMSGSIZE);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "100 bytes"));
    ck_assert_int_eq(rl_queue_size(q), 2);
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, 0), 100);
    ck_assert(memcmp(buf, msg, sizeof msg) == 0);
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, 0), 1);
}
END_TEST

START_TEST(full_arena_is_enomem)
{
    q = rl_queue_new(0, 0);
    ck_assert_ptr_nonnull(q);
    static void *blocks[1 << 16];
    int nb = 0;
    for (size_t sz = (size_t)1 << 20; sz >= 16; sz /= 2)
        while (nb < (1 << 16) && (blocks[nb] = rl_shared_alloc(sz)))
            nb++;
    ck_assert_int_eq(rl_queue_put(q, "x", 1, 0), -ENOMEM);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "RACELAB_ARENA_SIZE"));
    for (int i = 0; i < nb; i++)
        rl_shared_free(blocks[i]);
    ck_assert_int_eq(rl_queue_put(q, "x", 1, 0), 0);
}
END_TEST

/* ---- joinable ---- */

static int work_through(int count)
{
    for (int i = 0; i < count; i++) {
        int v;
        if (rl_queue_get(q, &v, sizeof v, 20) != sizeof v)
            return 1;
        if (rl_queue_task_done(q) != 0)
            return 2;
    }
    return 0;
}

START_TEST(join_waits_for_every_task_done)
{
    q = rl_queue_new(0, 1);
    ck_assert_int_eq(rl_queue_join(q, 0), 0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(rl_queue_put(q, &i, sizeof i, 0), 0);
    ck_assert_int_eq(rl_queue_join(q, 0), -EAGAIN);
    ck_assert_int_eq(rl_queue_join(q, 0.1), -ETIMEDOUT);
    pid_t p = fork_child(work_through, 5);
    ck_assert_int_eq(rl_queue_join(q, 20), 0);
    ck_assert_int_eq(rl_queue_size(q), 0);
    ck_assert_int_eq(reap(p), 0);
    ck_assert_int_eq(rl_queue_task_done(q), -EINVAL);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "more times"));
}
END_TEST

START_TEST(got_but_not_done_keeps_join_waiting)
{
    q = rl_queue_new(0, 1);
    int v = 1;
    ck_assert_int_eq(rl_queue_put(q, &v, sizeof v, 0), 0);
    ck_assert_int_eq(rl_queue_get(q, &v, sizeof v, 0), sizeof v);
    ck_assert_int_eq(rl_queue_join(q, 0.1), -ETIMEDOUT);
    ck_assert_int_eq(rl_queue_task_done(q), 0);
    ck_assert_int_eq(rl_queue_join(q, 0), 0);
    ck_assert_int_eq(rl_queue_task_done(q), -EINVAL);
}
END_TEST

START_TEST(task_done_on_plain_queue_is_einval)
{
    q = rl_queue_new(0, 0);
    ck_assert_int_eq(rl_queue_put(q, "x", 1, 0), 0);
    ck_assert_int_eq(rl_queue_task_done(q), -EINVAL);
    ck_assert_int_eq(rl_queue_join(q, 0), -EINVAL);
}
END_TEST

/* ---- close and free ---- */

START_TEST(close_drains_then_epipe)
{
    q = rl_queue_new(0, 0);
    char buf[4];
    ck_assert_int_eq(rl_queue_put(q, "a", 1, 0), 0);
    ck_assert_int_eq(rl_queue_put(q, "b", 1, 0), 0);
    ck_assert_int_eq(rl_queue_close(q), 0);
    ck_assert_int_eq(rl_queue_put(q, "c", 1, 0), -EPIPE);
    ck_assert_int_eq(rl_queue_put(q, "c", 1, -1), -EPIPE);
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, 0), 1);
    ck_assert_int_eq(buf[0], 'a');
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, -1), 1);
    ck_assert_int_eq(buf[0], 'b');
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, -1), -EPIPE);
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, 0), -EPIPE);
    ck_assert_int_eq(rl_queue_close(q), 0);
}
END_TEST

/* Blocks forever in get (kind 0) or put (kind 1) until the close. */
static int blocked_caller(int kind)
{
    if (rl_queue_put(q2, "", 0, 0) != 0)
        return 1;
    char buf[4] = "x";
    int r = kind ? rl_queue_put(q, buf, 1, -1)
                 : (int)rl_queue_get(q, buf, sizeof buf, -1);
    return r == -EPIPE ? 0 : 2;
}

START_TEST(close_wakes_blocked_callers)
{
    q = rl_queue_new(1, 0);
    q2 = rl_queue_new(0, 0);
    rl_queue *empty = q;
    pid_t getter = fork_child(blocked_caller, 0);
    ck_assert_int_eq(rl_queue_get(q2, NULL, 0, 20), 0);
    ck_assert_int_eq(rl_queue_close(empty), 0);
    ck_assert_int_eq(reap(getter), 0);

    q = rl_queue_new(1, 0);
    ck_assert_int_eq(rl_queue_put(q, "f", 1, 0), 0);
    pid_t putter = fork_child(blocked_caller, 1);
    ck_assert_int_eq(rl_queue_get(q2, NULL, 0, 20), 0);
    ck_assert_int_eq(rl_queue_close(q), 0);
    ck_assert_int_eq(reap(putter), 0);
    ck_assert_int_eq(rl_queue_size(q), 1);
}
END_TEST

START_TEST(free_releases_and_bad_pointers_are_einval)
{
    q = rl_queue_new(0, 1);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(rl_queue_put(q, "abcdef", 6, 0), 0);
    rl_queue_free(q);
    rl_queue_free(NULL);
    ck_assert_int_eq(rl_queue_put(NULL, "x", 1, 0), -EINVAL);
    int local;
    ck_assert_int_eq(rl_queue_get((rl_queue *)&local, NULL, 0, 0), -EINVAL);
    ck_assert_int_eq(rl_queue_size(NULL), -EINVAL);
    ck_assert_int_eq(rl_queue_close(NULL), -EINVAL);
    ck_assert_int_eq(rl_queue_task_done(NULL), -EINVAL);
    /* The memory went back: many queues come and go in a small arena. */
    for (int i = 0; i < 1000; i++) {
        rl_queue *t = rl_queue_new(0, 0);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(rl_queue_put(t, "x", 1, 0), 0);
        rl_queue_free(t);
    }
}
END_TEST

/* ---- signals ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int put_late(int unused)
{
    (void)unused;
    rl_test_sleep(0.3);
    return rl_queue_put(q, "late", 4, 0) == 0 ? 0 : 1;
}

START_TEST(signals_do_not_break_a_blocking_get)
{
    q = rl_queue_new(0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {{0, 10000}, {0, 10000}};
    ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    char buf[8];
    double t0 = rl__now();
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, 0.3), -ETIMEDOUT);
    ck_assert_double_ge(rl__now() - t0, 0.29);
    ck_assert_int_gt(alarms, 0);
    /* The child puts a little later, whatever that means on this machine:
     * the get waits as long as it takes. */
    pid_t p = fork_child(put_late, 0);
    ck_assert_int_eq(rl_queue_get(q, buf, sizeof buf, -1), 4);
    ck_assert(memcmp(buf, "late", 4) == 0);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    ck_assert_int_eq(reap(p), 0);
}
END_TEST

/* ---- every start method ---- */

/* Runs in a child of any start method: doubles every number it gets until
 * the queue is closed, and marks each one done. */
static int child_double(void *arg)
{
    rl_queue **qs = arg;
    for (;;) {
        int v;
        ssize_t n = rl_queue_get(qs[0], &v, sizeof v, 20);
        if (n == -EPIPE)
            return 0;
        if (n != sizeof v)
            return 1;
        v *= 2;
        if (rl_queue_put(qs[1], &v, sizeof v, 20) != 0)
            return 2;
        if (rl_queue_task_done(qs[0]) != 0)
            return 3;
    }
}

static void check_method(rl_start_method m)
{
    rl_queue **qs = rl_shared_alloc(2 * sizeof *qs);
    ck_assert_ptr_nonnull(qs);
    qs[0] = rl_queue_new(3, 1);
    qs[1] = rl_queue_new(0, 0);
    rl_process *p;
    rl_process_opts o = {.method = m};
    ck_assert_int_eq(rl_process_start(&p, child_double, qs, &o), 0);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(rl_queue_put(qs[0], &i, sizeof i, 20), 0);
    ck_assert_int_eq(rl_queue_join(qs[0], 20), 0);
    for (int i = 0; i < 50; i++) {
        int v;
        ck_assert_int_eq(rl_queue_get(qs[1], &v, sizeof v, 0), sizeof v);
        ck_assert_int_eq(v, 2 * i);
    }
    ck_assert_int_eq(rl_queue_close(qs[0]), 0);
    ck_assert_int_eq(rl_process_join(p, 20), 0);
    int code = -1;
    ck_assert_int_eq(rl_process_exitcode(p, &code), 0);
    ck_assert_int_eq(code, 0);
    ck_assert_int_eq(rl_process_free(p), 0);
}

START_TEST(queue_serves_a_forked_child)
{
    check_method(RL_START_FORK);
}
END_TEST

START_TEST(queue_serves_a_spawned_child)
{
    check_method(RL_START_SPAWN);
}
END_TEST

START_TEST(queue_serves_a_forkserver_child)
{
    check_method(RL_START_FORKSERVER);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = rl_test_tcase("fifo", 60);
    tcase_add_test(tc, fifo_order_and_size);
    tcase_add_test(tc, every_item_delivered_once_bounded);
    tcase_add_test(tc, every_item_delivered_once_unbounded);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("limits", 20);
    tcase_add_test(tc, full_queue_blocks_a_producer_until_a_get);
    tcase_add_test(tc, try_once_and_timeouts);
    tcase_add_test(tc, unbounded_queue_stops_at_its_memory_cap);
    tcase_add_test(tc, too_small_buffer_keeps_the_item);
    tcase_add_test(tc, full_arena_is_enomem);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("joinable", 20);
    tcase_add_test(tc, join_waits_for_every_task_done);
    tcase_add_test(tc, got_but_not_done_keeps_join_waiting);
    tcase_add_test(tc, task_done_on_plain_queue_is_einval);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("close", 20);
    tcase_add_test(tc, close_drains_then_epipe);
    tcase_add_test(tc, close_wakes_blocked_callers);
    tcase_add_test(tc, free_releases_and_bad_pointers_are_einval);
    tcase_add_test(tc, signals_do_not_break_a_blocking_get);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("start methods", 30);
    tcase_add_test(tc, queue_serves_a_forked_child);
    tcase_add_test(tc, queue_serves_a_spawned_child);
    tcase_add_test(tc, queue_serves_a_forkserver_child);
    suite_add_tcase(s, tc);
    return rl_test_main(s);
}
