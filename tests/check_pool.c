/* check_pool.c: the process pool: map, submit and futures, dead workers,
 * worker recycling, close, terminate and join, every start method. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "racelab.h"
#include "testutil.h"

/* ---- tasks ---- */

static int square(const void *in, size_t in_len, void *out, size_t *out_len)
{
    (void)in_len;
    long x;
    memcpy(&x, in, sizeof x);
    x *= x;
    memcpy(out, &x, sizeof x);
    *out_len = sizeof x;
    return 0;
}

/* Fails item 13 with -EDOM, squares the others. */
static int fail_13(const void *in, size_t in_len, void *out, size_t *out_len)
{
    long x;
    memcpy(&x, in, sizeof x);
    if (x == 13)
        return -EDOM;
    return square(in, in_len, out, out_len);
}

/* Kills its own worker on item 7. */
static int die_on_7(const void *in, size_t in_len, void *out, size_t *out_len)
{
    long x;
    memcpy(&x, in, sizeof x);
    if (x == 7)
        raise(SIGKILL);
    return square(in, in_len, out, out_len);
}

static int my_pid(const void *in, size_t in_len, void *out, size_t *out_len)
{
    (void)in;
    (void)in_len;
    pid_t p = getpid();
    memcpy(out, &p, sizeof p);
    *out_len = sizeof p;
    return 0;
}

/* Echoes its input. */
static int echo(const void *in, size_t in_len, void *out, size_t *out_len)
{
    if (in_len > *out_len)
        return -EMSGSIZE;
    memcpy(out, in, in_len);
    *out_len = in_len;
    return 0;
}

/* Claims one byte more than the room it was given. */
static int too_big(const void *in, size_t in_len, void *out, size_t *out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    *out_len += 1;
    return 0;
}

/* Waits until the shared flag its input points to is set, then returns
 * 42 as one byte. */
static int wait_flag(const void *in, size_t in_len, void *out, size_t *out_len)
{
    (void)in_len;
    volatile int *flag;
    memcpy(&flag, in, sizeof flag);
    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
        usleep(1000);
    *(char *)out = 42;
    *out_len = 1;
    return 0;
}

static int sleepy(const void *in, size_t in_len, void *out, size_t *out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    usleep(20000);
    *out_len = 0;
    return 0;
}

static int init_count(void *arg)
{
    __atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
    return 0;
}

/* ---- helpers ---- */

static rl_pool *new_pool(int workers, rl_start_method m, int chunksize)
{
    rl_pool_opts o = {.workers = workers, .method = m, .chunksize = chunksize};
    rl_pool *p = NULL;
    ck_assert_int_eq(rl_pool_new(&p, &o), 0);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void map_squares(rl_pool *p, size_t n)
{
    long *in = malloc(n * sizeof *in), *out = calloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++)
        in[i] = (long)i;
    ck_assert_int_eq(
        rl_pool_map(p, square, in, sizeof(long), n, out, sizeof(long)), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(out[i], (long)(i * i));
    free(in);
    free(out);
}

/* ---- tests ---- */

START_TEST(map_keeps_input_order)
{
    rl_pool *p = new_pool(2, RL_START_FORK, 0);
    map_squares(p, 1000);
    map_squares(p, 1);
    map_squares(p, 3);
    rl_pool_free(p);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

START_TEST(map_of_nothing_returns_at_once)
{
    rl_pool *p = new_pool(2, RL_START_FORK, 0);
    ck_assert_int_eq(rl_pool_map(p, square, NULL, 8, 0, NULL, 8), 0);
    rl_pool_free(p);
}
END_TEST

START_TEST(chunksizes_give_the_same_results)
{
    int sizes[] = {1, 2, 7, 100, 5000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        rl_pool *p = new_pool(2, RL_START_FORK, sizes[k]);
        map_squares(p, 777);
        rl_pool_free(p);
    }
}
END_TEST

START_TEST(map_reports_the_failing_item)
{
    rl_pool *p = new_pool(2, RL_START_FORK, 4);
    size_t n = 50;
    long in[50], out[50];
    for (size_t i = 0; i < n; i++) {
        in[i] = (long)i;
        out[i] = -1;
    }
    ck_assert_int_eq(
        rl_pool_map(p, fail_13, in, sizeof(long), n, out, sizeof(long)), -EDOM);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "item 13"));
    /* The map finished: every other item was done. */
    for (size_t i = 0; i < n; i++)
        if (i != 13)
            ck_assert_int_eq(out[i], (long)(i * i));
    map_squares(p, 100);
    rl_pool_free(p);
}
END_TEST

START_TEST(worker_death_fails_its_task_and_pool_goes_on)
{
    rl_pool *p = new_pool(2, RL_START_FORK, 1);
    long in[20], out[20];
    for (int i = 0; i < 20; i++)
        in[i] = i;
    double t0 = rl_test_now();
    ck_assert_int_eq(
        rl_pool_map(p, die_on_7, in, sizeof(long), 20, out, sizeof(long)),
        -ECHILD);
    ck_assert_double_lt(rl_test_now() - t0, 10);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "item 7"));
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "signal 9"));
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "pid"));
    for (int i = 0; i < 20; i++)
        if (i != 7)
            ck_assert_int_eq(out[i], i * i);
    /* The worker was replaced: the next map works. */
    map_squares(p, 200);
    /* A future whose worker dies is -ECHILD too. */
    rl_future *f;
    long seven = 7;
    ck_assert_int_eq(rl_pool_submit(p, die_on_7, &seven, sizeof seven, &f), 0);
    long r;
    ck_assert_int_eq(rl_future_get(f, &r, sizeof r, 30), -ECHILD);
    rl_future_free(f);
    map_squares(p, 10);
    rl_pool_free(p);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

START_TEST(max_tasks_per_child_recycles_workers)
{
    rl_pool_opts o = {.workers = 2, .max_tasks_per_child = 3, .chunksize = 1};
    rl_pool *p;
    ck_assert_int_eq(rl_pool_new(&p, &o), 0);
    pid_t pids[60];
    ck_assert_int_eq(rl_pool_map(p, my_pid, NULL, 0, 60, pids, sizeof(pid_t)),
                     0);
    /* 60 tasks, at most 3 per worker: at least 20 distinct workers. */
    int distinct = 0;
    for (int i = 0; i < 60; i++) {
        ck_assert_int_gt(pids[i], 0);
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= pids[j] == pids[i];
        distinct += !seen;
    }
    ck_assert_int_ge(distinct, 20);
    for (int i = 0; i < 60; i++) {
        int count = 0;
        for (int j = 0; j < 60; j++)
            count += pids[j] == pids[i];
        ck_assert_int_le(count, 3);
    }
    /* Futures too: nothing lost across the recycling. */
    rl_future *fs[20];
    for (long i = 0; i < 20; i++)
        ck_assert_int_eq(rl_pool_submit(p, square, &i, sizeof i, &fs[i]), 0);
    for (long i = 0; i < 20; i++) {
        long r;
        ck_assert_int_eq(rl_future_get(fs[i], &r, sizeof r, 30), sizeof r);
        ck_assert_int_eq(r, i * i);
        rl_future_free(fs[i]);
    }
    rl_pool_free(p);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

START_TEST(terminate_cancels_queued_work_promptly)
{
    rl_pool *p = new_pool(2, RL_START_FORK, 0);
    enum { N = 10000 };
    rl_future **fs = malloc(N * sizeof *fs);
    for (long i = 0; i < N; i++)
        ck_assert_int_eq(rl_pool_submit(p, sleepy, &i, sizeof i, &fs[i]), 0);
    double t0 = rl_test_now();
    ck_assert_int_eq(rl_pool_terminate(p), 0);
    ck_assert_int_eq(rl_pool_join(p, 10), 0);
    ck_assert_double_lt(rl_test_now() - t0, 5);
    int cancelled = 0;
    for (long i = 0; i < N; i++) {
        char b[8];
        ssize_t r = rl_future_get(fs[i], b, sizeof b, 5);
        /* A few may have finished before the terminate. */
        ck_assert(r == 0 || r == -ECANCELED);
        cancelled += r == -ECANCELED;
        ck_assert_int_eq(rl_future_done(fs[i]), 1);
        rl_future_free(fs[i]);
    }
    ck_assert_int_ge(cancelled, N - 1000);
    free(fs);
    long x = 1;
    rl_future *f;
    ck_assert_int_eq(rl_pool_submit(p, square, &x, sizeof x, &f), -EPIPE);
    rl_pool_free(p);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

START_TEST(close_then_join_drains_the_queue)
{
    rl_pool *p = new_pool(2, RL_START_FORK, 0);
    rl_future *fs[50];
    for (long i = 0; i < 50; i++)
        ck_assert_int_eq(rl_pool_submit(p, square, &i, sizeof i, &fs[i]), 0);
    ck_assert_int_eq(rl_pool_close(p), 0);
    long x = 3;
    rl_future *f;
    ck_assert_int_eq(rl_pool_submit(p, square, &x, sizeof x, &f), -EPIPE);
    ck_assert_int_eq(rl_pool_join(p, 30), 0);
    for (long i = 0; i < 50; i++) {
        long r;
        ck_assert_int_eq(rl_future_done(fs[i]), 1);
        ck_assert_int_eq(rl_future_get(fs[i], &r, sizeof r, 0), sizeof r);
        ck_assert_int_eq(r, i * i);
        rl_future_free(fs[i]);
    }
    rl_pool_free(p);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

START_TEST(join_before_close_is_einval)
{
    rl_pool *p = new_pool(1, RL_START_FORK, 0);
    ck_assert_int_eq(rl_pool_join(p, 1), -EINVAL);
    rl_pool_free(p);
}
END_TEST

START_TEST(bad_options_are_einval)
{
    rl_pool *p = NULL;
    rl_pool_opts o = {.workers = -1};
    ck_assert_int_eq(rl_pool_new(&p, &o), -EINVAL);
    o = (rl_pool_opts){.max_tasks_per_child = -2};
    ck_assert_int_eq(rl_pool_new(&p, &o), -EINVAL);
    o = (rl_pool_opts){.chunksize = -1};
    ck_assert_int_eq(rl_pool_new(&p, &o), -EINVAL);
    ck_assert_ptr_null(p);
    /* NULL options: the defaults work. */
    ck_assert_int_eq(rl_pool_new(&p, NULL), 0);
    map_squares(p, 10);
    rl_pool_free(p);
}
END_TEST

START_TEST(future_get_times_out_then_succeeds)
{
    rl_pool *p = new_pool(1, RL_START_FORK, 0);
    int *flag = rl_shared_alloc(sizeof *flag);
    rl_future *f;
    ck_assert_int_eq(rl_pool_submit(p, wait_flag, &flag, sizeof flag, &f), 0);
    char b = 0;
    ck_assert_int_eq(rl_future_get(f, &b, 1, 0.1), -ETIMEDOUT);
    ck_assert_int_eq(rl_future_get(f, &b, 1, 0), -EAGAIN);
    ck_assert_int_eq(rl_future_done(f), 0);
    __atomic_store_n(flag, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(rl_future_get(f, &b, 1, 30), 1);
    ck_assert_int_eq(b, 42);
    ck_assert_int_eq(rl_future_done(f), 1);
    /* Getting it again gives the same result. */
    ck_assert_int_eq(rl_future_get(f, &b, 1, 0), 1);
    rl_future_free(f);
    rl_pool_free(p);
}
END_TEST

START_TEST(huge_item_sizes_and_null_buffers_are_refused)
{
    rl_pool *p = new_pool(1, RL_START_FORK, 0);
    char in[8] = {0}, out[8];
    /* item_in + item_out + 1 would wrap to 0. */
    ck_assert_int_eq(rl_pool_map(p, square, in, SIZE_MAX, 1, out, 0),
                     -EMSGSIZE);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "too large"));
    ck_assert_int_eq(
        rl_pool_map(p, square, in, SIZE_MAX / 2, 2, out, SIZE_MAX / 2),
        -EMSGSIZE);
    ck_assert_int_eq(rl_pool_map(p, square, in, 0, 1, out, SIZE_MAX),
                     -EMSGSIZE);
    /* A NULL buffer that claims room is refused, done or not. */
    long x = 3;
    rl_future *f;
    ck_assert_int_eq(rl_pool_submit(p, square, &x, sizeof x, &f), 0);
    ck_assert_int_eq(rl_future_get(f, NULL, sizeof(long), 30), -EINVAL);
    long y = 0;
    ck_assert_int_eq(rl_future_get(f, &y, sizeof y, 30), sizeof y);
    ck_assert_int_eq(y, 9);
    ck_assert_int_eq(rl_future_get(f, NULL, sizeof(long), 30), -EINVAL);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "NULL buffer"));
    rl_future_free(f);
    /* The pool still works. */
    map_squares(p, 10);
    rl_pool_free(p);
}
END_TEST

START_TEST(oversized_results_are_emsgsize)
{
    rl_pool *p = new_pool(2, RL_START_FORK, 0);
    long in[8] = {0}, out[8];
    ck_assert_int_eq(
        rl_pool_map(p, too_big, in, sizeof(long), 8, out, sizeof(long)),
        -EMSGSIZE);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "item 0"));
    rl_future *f;
    ck_assert_int_eq(rl_pool_submit(p, too_big, in, 8, &f), 0);
    ck_assert_int_eq(rl_future_get(f, out, sizeof out, 30), -EMSGSIZE);
    rl_future_free(f);
    /* A result that fits the task's room but not the caller's buffer is
     * -EMSGSIZE and stays there for a larger buffer. */
    char msg[100];
    memset(msg, 'z', sizeof msg);
    ck_assert_int_eq(rl_pool_submit(p, echo, msg, sizeof msg, &f), 0);
    ck_assert_int_eq(rl_future_get(f, out, 10, 30), -EMSGSIZE);
    char big[200];
    ck_assert_int_eq(rl_future_get(f, big, sizeof big, 30), sizeof msg);
    ck_assert_int_eq(memcmp(big, msg, sizeof msg), 0);
    rl_future_free(f);
    rl_pool_free(p);
}
END_TEST

START_TEST(future_free_before_done_and_after_pool)
{
    rl_pool *p = new_pool(2, RL_START_FORK, 0);
    rl_future *a, *b;
    long x = 5;
    ck_assert_int_eq(rl_pool_submit(p, square, &x, sizeof x, &a), 0);
    ck_assert_int_eq(rl_pool_submit(p, square, &x, sizeof x, &b), 0);
    rl_future_free(a);
    rl_pool_close(p);
    ck_assert_int_eq(rl_pool_join(p, 30), 0);
    rl_pool_free(p);
    rl_future_free(b);
}
END_TEST

static void every_method(rl_start_method m)
{
    int *count = rl_shared_alloc(sizeof *count);
    rl_pool_opts o = {
        .workers = 2, .method = m, .initializer = init_count, .initarg = count};
    rl_pool *p;
    ck_assert_int_eq(rl_pool_new(&p, &o), 0);
    map_squares(p, 300);
    pid_t pids[40];
    ck_assert_int_eq(rl_pool_map(p, my_pid, NULL, 0, 40, pids, sizeof(pid_t)),
                     0);
    rl_future *f;
    char msg[] = "hello pool";
    ck_assert_int_eq(rl_pool_submit(p, echo, msg, sizeof msg, &f), 0);
    char got[64];
    ck_assert_int_eq(rl_future_get(f, got, sizeof got, 30), sizeof msg);
    ck_assert_str_eq(got, msg);
    rl_future_free(f);
    ck_assert_int_eq(rl_pool_close(p), 0);
    ck_assert_int_eq(rl_pool_join(p, 30), 0);
    /* The initializer ran once in each of the two workers. */
    ck_assert_int_eq(__atomic_load_n(count, __ATOMIC_SEQ_CST), 2);
    rl_pool_free(p);
    for (int i = 0; i < 40; i++)
        ck_assert(!rl_test_alive(pids[i]));
    ck_assert_int_eq(rl_test_zombie_children(), 0);
    rl_shared_free(count);
}

START_TEST(fork_workers)
{
    every_method(RL_START_FORK);
}
END_TEST

START_TEST(spawn_workers)
{
    every_method(RL_START_SPAWN);
}
END_TEST

START_TEST(forkserver_workers)
{
    every_method(RL_START_FORKSERVER);
}
END_TEST

START_TEST(spawn_worker_death_is_echild)
{
    rl_pool *p = new_pool(2, RL_START_SPAWN, 1);
    long in[10], out[10];
    for (int i = 0; i < 10; i++)
        in[i] = i;
    ck_assert_int_eq(
        rl_pool_map(p, die_on_7, in, sizeof(long), 10, out, sizeof(long)),
        -ECHILD);
    map_squares(p, 50);
    rl_pool_free(p);
}
END_TEST

START_TEST(free_leaves_no_process)
{
    rl_pool *p = new_pool(2, RL_START_FORK, 1);
    pid_t pids[10];
    ck_assert_int_eq(rl_pool_map(p, my_pid, NULL, 0, 10, pids, sizeof(pid_t)),
                     0);
    /* Freed without close or join: the workers are stopped and reaped. */
    rl_pool_free(p);
    for (int i = 0; i < 10; i++)
        ck_assert(!rl_test_alive(pids[i]));
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = rl_test_tcase("map", 60);
    tcase_add_test(tc, map_keeps_input_order);
    tcase_add_test(tc, map_of_nothing_returns_at_once);
    tcase_add_test(tc, chunksizes_give_the_same_results);
    tcase_add_test(tc, map_reports_the_failing_item);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("workers", 60);
    tcase_add_test(tc, worker_death_fails_its_task_and_pool_goes_on);
    tcase_add_test(tc, max_tasks_per_child_recycles_workers);
    tcase_add_test(tc, free_leaves_no_process);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("lifecycle", 60);
    tcase_add_test(tc, terminate_cancels_queued_work_promptly);
    tcase_add_test(tc, close_then_join_drains_the_queue);
    tcase_add_test(tc, join_before_close_is_einval);
    tcase_add_test(tc, bad_options_are_einval);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("futures", 60);
    tcase_add_test(tc, future_get_times_out_then_succeeds);
    tcase_add_test(tc, oversized_results_are_emsgsize);
    tcase_add_test(tc, huge_item_sizes_and_null_buffers_are_refused);
    tcase_add_test(tc, future_free_before_done_and_after_pool);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("start_methods", 60);
    tcase_add_test(tc, fork_workers);
    tcase_add_test(tc, spawn_workers);
    tcase_add_test(tc, forkserver_workers);
    tcase_add_test(tc, spawn_worker_death_is_echild);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(pool_suite());
}
