/* check_races.c: the happens-before data-race detector: races found in
 * hand-built traces, each kind of synchronisation edge with and without
 * it, real executions (the catalogue's counters, every clean scenario),
 * and --races through the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "../harness/races.h"
#include "internal.h"
#include "racelab.h"
#include "testutil.h"

/* ---- hand-built traces ---- */

#define X 0x10000 /* shared memory */
#define Y 0x10100
#define L 0x20000 /* objects */
#define M 0x20100

typedef struct {
    rl__step s[64];
    long n;
    int created; /* actors started so far (actor 0 exists) */
} trace;

/* Appends a step of actor a; every actor started so far is enabled. */
static rl__step *add(trace *t, int a, int op, uintptr_t obj)
{
    ck_assert_int_lt(t->n, 64);
    rl__step *s = &t->s[t->n++];
    memset(s, 0, sizeof *s);
    s->actor = a;
    s->op = op;
    s->obj = (const void *)obj;
    s->key = (const void *)obj;
    for (int i = 0; i <= t->created; i++)
        rl__set_add(&s->enabled, i);
    snprintf(s->file, sizeof s->file, "t.c");
    s->line = (int)t->n;
    return s;
}

/* A start of the next actor by actor a, and that actor's first step. */
static int start(trace *t, int a)
{
    add(t, a, RL_OP_START, 0)->target = -1;
    t->created++;
    add(t, t->created, RL_OP_START, 0);
    return t->created;
}

/* An access of size 8 at addr, at source line line. */
static rl__step *acc(trace *t, int a, int op, uintptr_t addr, int line)
{
    rl__step *s = add(t, a, op, addr);
    s->shared = 1;
    s->size = 8;
    s->line = line;
    return s;
}

static long count(const trace *t)
{
    rl__race *r;
    long n = rl__races_find(t->s, t->n, &r);
    ck_assert_int_ge(n, 0);
    free(r);
    return n;
}

/* A trace with two children: actor 1 writes X, then sync_a; actor 2 does
 * sync_b, then reads X. */
typedef void (*sync_fn)(trace *t, int a);

static long write_then_read(sync_fn sync_a, sync_fn sync_b)
{
    trace t = {.n = 0};
    int a = start(&t, 0);
    int b = start(&t, 0);
    acc(&t, a, RL_OP_STORE, X, 100);
    if (sync_a)
        sync_a(&t, a);
    if (sync_b)
        sync_b(&t, b);
    acc(&t, b, RL_OP_LOAD, X, 200);
    return count(&t);
}

START_TEST(unordered_accesses_of_two_actors_race_once_per_pair_of_places)
{
    trace t = {.n = 0};
    int a = start(&t, 0), b = start(&t, 0);
    for (int i = 0; i < 3; i++) {
        acc(&t, a, RL_OP_LOAD, X, 10);
        acc(&t, a, RL_OP_STORE, X, 11);
    }
    for (int i = 0; i < 3; i++) {
        acc(&t, b, RL_OP_LOAD, X, 10);
        acc(&t, b, RL_OP_STORE, X, 11);
    }
    rl__race *r;
    long n = rl__races_find(t.s, t.n, &r);
    /* (11, 10) and (11, 11): reads do not race with reads, and (10, 11)
     * is the pair (11, 10) again. */
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(r[0].first.actor, a);
    ck_assert_int_eq(r[0].second.actor, b);
    ck_assert(r[0].first.write);
    ck_assert(!r[0].second.write);
    ck_assert_int_eq(r[0].first.line, 11);
    ck_assert_int_eq(r[0].second.line, 10);
    ck_assert_int_eq(r[0].first.addr, X);
    ck_assert_int_eq(r[0].first.size, 8);
    /* The latest of actor a's writes, the first read of actor b. */
    ck_assert_int_eq(r[0].first.step, 9);
    ck_assert_int_eq(r[0].second.step, 10);
    ck_assert(r[1].first.write && r[1].second.write);
    free(r);
}
END_TEST

START_TEST(reads_atomics_private_and_disjoint_bytes_do_not_race)
{
    trace t = {.n = 0};
    int a = start(&t, 0), b = start(&t, 0);
    acc(&t, a, RL_OP_LOAD, X, 1);
    acc(&t, b, RL_OP_LOAD, X, 2);
    ck_assert_int_eq(count(&t), 0);
    acc(&t, a, RL_OP_FETCH_ADD, Y, 3);
    acc(&t, b, RL_OP_FETCH_ADD, Y, 4);
    snprintf(acc(&t, b, RL_OP_LOAD, Y, 5)->label, 48, "atomic y");
    ck_assert_int_eq(count(&t), 0);
    acc(&t, a, RL_OP_STORE, X + 64, 6)->shared = 0; /* private */
    acc(&t, b, RL_OP_STORE, X + 64, 7)->shared = 0;
    acc(&t, a, RL_OP_STORE, X + 128, 8)->size = 4;
    acc(&t, b, RL_OP_STORE, X + 132, 9)->size = 4;
    ck_assert_int_eq(count(&t), 0);
    /* Overlapping bytes race; so does a plain access with an atomic. */
    acc(&t, b, RL_OP_LOAD, X + 130, 10)->size = 1;
    ck_assert_int_eq(count(&t), 1);
    /* A plain write races with the other actor's fetch-add and atomic
     * load alike. */
    acc(&t, a, RL_OP_STORE, Y, 11);
    ck_assert_int_eq(count(&t), 3);
}
END_TEST

/* ---- each kind of edge: the race is gone with it, there without ---- */

static void release_l(trace *t, int a)
{
    add(t, a, RL_OP_ACQUIRE, L);
    add(t, a, RL_OP_RELEASE, L);
}
static void acquire_l(trace *t, int a)
{
    add(t, a, RL_OP_ACQUIRE, L);
}
static void acquire_m(trace *t, int a)
{
    add(t, a, RL_OP_ACQUIRE, M);
}
static void acquire_l_blocked(trace *t, int a)
{
    add(t, a, RL_OP_ACQUIRE, L)->blocked = 1;
}

START_TEST(edge_lock_release_to_next_acquire)
{
    ck_assert_int_eq(write_then_read(NULL, NULL), 1);
    ck_assert_int_eq(write_then_read(release_l, acquire_l), 0);
    /* Another lock, or an acquire that blocked, orders nothing. */
    ck_assert_int_eq(write_then_read(release_l, acquire_m), 1);
    ck_assert_int_eq(write_then_read(release_l, acquire_l_blocked), 1);
}
END_TEST

static void sem_release(trace *t, int a)
{
    add(t, a, RL_OP_RELEASE, L);
}

START_TEST(edge_semaphore_release_to_acquire)
{
    ck_assert_int_eq(write_then_read(sem_release, acquire_l), 0);
    ck_assert_int_eq(write_then_read(sem_release, acquire_m), 1);
}
END_TEST

static void set_e(trace *t, int a)
{
    add(t, a, RL_OP_SET, L);
}
static void wait_e(trace *t, int a)
{
    add(t, a, RL_OP_WAIT, L);
}
static void wait_f(trace *t, int a)
{
    add(t, a, RL_OP_WAIT, M);
}

START_TEST(edge_event_set_to_wait_that_returns)
{
    ck_assert_int_eq(write_then_read(set_e, wait_e), 0);
    ck_assert_int_eq(write_then_read(set_e, wait_f), 1);
    /* A wait of an event sends nothing on: waiting is no set. */
    ck_assert_int_eq(write_then_read(wait_e, wait_e), 1);
}
END_TEST

/* A condition c at L + 8 bound to lock L. */
static void notify_c(trace *t, int a)
{
    rl__step *s = add(t, a, RL_OP_NOTIFY, L + 8);
    s->key = (const void *)L;
}
static void woken_wait_c(trace *t, int a)
{
    rl__step *s = add(t, a, RL_OP_WAIT, L + 8);
    s->key = (const void *)L;
}
static void woken_wait_other(trace *t, int a)
{
    rl__step *s = add(t, a, RL_OP_WAIT, M + 8);
    s->key = (const void *)M;
}

START_TEST(edge_condition_notify_to_woken_wait)
{
    ck_assert_int_eq(write_then_read(notify_c, woken_wait_c), 0);
    ck_assert_int_eq(write_then_read(notify_c, woken_wait_other), 1);
}
END_TEST

START_TEST(edge_barrier_arrivals_before_departures)
{
    for (int marked = 0; marked <= 1; marked++) {
        trace t = {.n = 0};
        int a = start(&t, 0), b = start(&t, 0);
        acc(&t, a, RL_OP_STORE, X, 1);
        add(&t, a, RL_OP_WAIT, L)->target = marked ? RL__TARGET_BARRIER : 0;
        acc(&t, b, RL_OP_STORE, Y, 2);
        add(&t, b, RL_OP_WAIT, L)->target = marked ? RL__TARGET_BARRIER : 0;
        acc(&t, b, RL_OP_LOAD, X, 3);
        add(&t, a, RL_OP_WAIT, L)->target = marked ? RL__TARGET_BARRIER : 0;
        acc(&t, a, RL_OP_LOAD, Y, 4);
        /* A wait that is no barrier's (an event's) passes nothing on. */
        ck_assert_int_eq(count(&t), marked ? 0 : 2);
    }
}
END_TEST

START_TEST(edge_process_start_and_join_of_an_exit)
{
    /* The parent's accesses before a start happen before the child's. */
    trace t = {.n = 0};
    acc(&t, 0, RL_OP_STORE, X, 1);
    int a = start(&t, 0);
    acc(&t, a, RL_OP_LOAD, X, 2);
    acc(&t, a, RL_OP_STORE, Y, 3);
    add(&t, a, RL_OP_EXIT, 0);
    ck_assert_int_eq(count(&t), 0);
    /* After the start they do not. */
    acc(&t, 0, RL_OP_STORE, X, 4);
    ck_assert_int_eq(count(&t), 1);
    /* A join that waited for the exit orders the child's accesses. */
    trace j = t;
    add(&j, 0, RL_OP_JOIN, 0)->target = a + 1;
    acc(&j, 0, RL_OP_LOAD, Y, 5);
    ck_assert_int_eq(count(&j), 1);
    /* One that blocked, or of another actor, does not. */
    trace k = t;
    add(&k, 0, RL_OP_JOIN, 0)->target = a + 1;
    k.s[k.n - 1].blocked = 1;
    acc(&k, 0, RL_OP_LOAD, Y, 5);
    ck_assert_int_eq(count(&k), 2);
    trace m = t;
    add(&m, 0, RL_OP_JOIN, 0)->target = a + 2;
    acc(&m, 0, RL_OP_LOAD, Y, 5);
    ck_assert_int_eq(count(&m), 2);
}
END_TEST

/* A pipe with ends L (receives) and L + 8 (sends), key M. */
static void send_p(trace *t, int a)
{
    add(t, a, RL_OP_SEND, L + 8)->key = (const void *)M;
}
static void recv_p(trace *t, int a)
{
    add(t, a, RL_OP_RECV, L)->key = (const void *)M;
}
static void recv_other(trace *t, int a)
{
    add(t, a, RL_OP_RECV, L)->key = (const void *)(M + 64);
}

START_TEST(edge_send_to_recv_of_the_same_message)
{
    ck_assert_int_eq(write_then_read(send_p, recv_p), 0);
    ck_assert_int_eq(write_then_read(send_p, recv_other), 1);
    /* The k-th receive takes the k-th message: what was written after
     * the first send is not ordered before the first receive. */
    trace t = {.n = 0};
    int a = start(&t, 0), b = start(&t, 0);
    send_p(&t, a);
    acc(&t, a, RL_OP_STORE, X, 1);
    send_p(&t, a);
    recv_p(&t, b);
    acc(&t, b, RL_OP_LOAD, X, 2);
    ck_assert_int_eq(count(&t), 1);
    recv_p(&t, b);
    acc(&t, b, RL_OP_LOAD, X, 3);
    ck_assert_int_eq(count(&t), 1); /* the second read is ordered */
    /* A duplex pair: a message sent at one end arrives at the other. */
    trace d = {.n = 0};
    a = start(&d, 0);
    b = start(&d, 0);
    acc(&d, a, RL_OP_STORE, X, 1);
    add(&d, a, RL_OP_SEND, L)->key = (const void *)M;
    add(&d, b, RL_OP_RECV, L)->key = (const void *)M; /* its own end */
    acc(&d, b, RL_OP_LOAD, X, 2);
    ck_assert_int_eq(count(&d), 1);
    add(&d, b, RL_OP_RECV, L + 8)->key = (const void *)M;
    acc(&d, b, RL_OP_LOAD, X, 3);
    ck_assert_int_eq(count(&d), 1);
}
END_TEST

static void put_q(trace *t, int a)
{
    add(t, a, RL_OP_PUT, L);
}
static void get_q(trace *t, int a)
{
    add(t, a, RL_OP_GET, L);
}
static void get_other(trace *t, int a)
{
    add(t, a, RL_OP_GET, M);
}
static void get_q_blocked(trace *t, int a)
{
    add(t, a, RL_OP_GET, L)->blocked = 1;
}

START_TEST(edge_queue_put_to_get)
{
    ck_assert_int_eq(write_then_read(put_q, get_q), 0);
    ck_assert_int_eq(write_then_read(put_q, get_other), 1);
    ck_assert_int_eq(write_then_read(put_q, get_q_blocked), 1);
}
END_TEST

/* A pool with shared state at L; a future at M. */
static void submit(trace *t, int a)
{
    add(t, a, RL_OP_SUBMIT, L);
}
static void worker_get(trace *t, int a)
{
    add(t, a, RL_OP_GET, L);
}
static void task_done(trace *t, int a)
{
    add(t, a, RL_OP_TASK_DONE, L);
}
static void future_get(trace *t, int a)
{
    add(t, a, RL_OP_GET, M)->key = (const void *)L;
}

START_TEST(edge_pool_submit_to_task_to_result)
{
    ck_assert_int_eq(write_then_read(submit, worker_get), 0);
    ck_assert_int_eq(write_then_read(task_done, future_get), 0);
    /* A task's start is no result, a submit no task's end. */
    ck_assert_int_eq(write_then_read(submit, future_get), 1);
    ck_assert_int_eq(write_then_read(task_done, worker_get), 1);
}
END_TEST

static void atomic_store(trace *t, int a)
{
    snprintf(acc(t, a, RL_OP_STORE, Y, 50)->label, 48, "atomic flag");
}
static void atomic_load(trace *t, int a)
{
    snprintf(acc(t, a, RL_OP_LOAD, Y, 51)->label, 48, "atomic flag");
}
static void plain_load(trace *t, int a)
{
    acc(t, a, RL_OP_LOAD, Y, 51);
}

START_TEST(edge_atomic_store_to_atomic_load)
{
    ck_assert_int_eq(write_then_read(atomic_store, atomic_load), 0);
    /* A plain flag: it races, and so does the data it was to publish. */
    ck_assert_int_eq(write_then_read(atomic_store, plain_load), 2);
}
END_TEST

START_TEST(edge_robust_lock_taken_over_from_a_dead_holder)
{
    for (int exclusive = 0; exclusive <= 1; exclusive++) {
        trace t = {.n = 0};
        int a = start(&t, 0);
        int tg = exclusive ? RL__TARGET_EXCLUSIVE : 0;
        add(&t, a, RL_OP_ACQUIRE, L)->target = tg;
        acc(&t, a, RL_OP_STORE, X, 1);
        /* The holder dies without releasing; the next acquire succeeds
         * (-EOWNERDEAD). */
        add(&t, 0, RL_OP_ACQUIRE, L)->target = tg;
        acc(&t, 0, RL_OP_LOAD, X, 2);
        ck_assert_int_eq(count(&t), exclusive ? 0 : 1);
    }
}
END_TEST

/* ---- real executions ---- */

static void search(const char *name, int races, rl__search_result *r)
{
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.mode = RL_MODE_EXPLORE;
    o.preemptions = 2;
    o.races = races;
    rl_scenario *sc = rl__scenario_find(name);
    ck_assert_msg(sc != NULL, "%s", name);
    ck_assert_int_eq(rl__search(sc, &o, r), 0);
}

START_TEST(counter_unlocked_races_on_its_first_execution)
{
    rl__search_result r;
    search("counter.unlocked", RL__RACES_FAIL, &r);
    ck_assert_msg(r.verdict == RL_RACE, "%s: %s", rl_verdict_name(r.verdict),
                  r.first.message);
    ck_assert_int_eq(r.executions, 1);
    ck_assert_int_eq(r.found_cost, 0);
    /* No update was lost yet: each child ran its increments whole. */
    ck_assert_ptr_nonnull(strstr(r.first.message, "data race: actor 1"));
    ck_assert_ptr_nonnull(strstr(r.first.message, "counter.c:"));
    ck_assert_int_ge(r.nraces, 1);
    ck_assert(r.races[0].failing);
    ck_assert_int_ne(r.races[0].first.actor, r.races[0].second.actor);
    ck_assert_str_eq(r.races[0].first.file, "counter.c");
    ck_assert_int_lt(r.races[0].second.step, r.first.nsteps);
    ck_assert_ptr_eq(r.first.steps[r.races[0].second.step].obj,
                     (const void *)r.races[0].second.addr);
    /* Its token replays the race. */
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    rl__search_result x;
    ck_assert_int_eq(rl__replay(r.token, &o, &x), 0);
    ck_assert_int_eq(x.verdict, RL_RACE);
    ck_assert_int_ge(x.nraces, 1);
    ck_assert_int_eq(x.races[0].first.step, r.races[0].first.step);
    ck_assert_int_eq(x.races[0].second.step, r.races[0].second.step);
    rl__search_result_free(&x);
    /* The results model keeps both accesses, indexing the failure. */
    rl__result m;
    ck_assert_int_eq(rl__result_from_search(&r, &m), 0);
    ck_assert_int_eq(m.nraces, r.nraces);
    ck_assert(m.races[0].in_failure);
    ck_assert_int_eq(m.races[0].first.step, r.races[0].first.step);
    ck_assert(rl__result_as_expected(&m)); /* a bug, found early */
    rl__result_free(&m);
    rl__search_result_free(&r);
}
END_TEST

START_TEST(races_report_keeps_the_verdict_and_off_finds_none)
{
    rl__search_result r;
    search("counter.unlocked", RL__RACES_REPORT, &r);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    ck_assert_int_ge(r.nraces, 1);
    rl__search_result_free(&r);
    search("counter.unlocked", RL__RACES_OFF, &r);
    ck_assert_int_eq(r.verdict, RL_FAIL);
    ck_assert_int_eq(r.nraces, 0);
    rl__search_result_free(&r);
}
END_TEST

START_TEST(the_locked_and_atomic_counters_do_not_race)
{
    const char *names[] = {"counter.locked", "counter.atomic"};
    for (int i = 0; i < 2; i++) {
        rl__search_result r;
        search(names[i], RL__RACES_REPORT, &r);
        ck_assert_msg(r.verdict == RL_PASS, "%s: %s", names[i],
                      r.first.message);
        ck_assert_msg(r.nraces == 0, "%s: %ld races", names[i], r.nraces);
        ck_assert(r.exhausted);
        rl__search_result_free(&r);
    }
}
END_TEST

START_TEST(every_clean_catalogue_scenario_stays_clean)
{
    int n = 0;
    for (rl_scenario *s = rl__scenarios(); s; s = s->next) {
        if (s->expect != RL_EXPECT_CLEAN || strncmp(s->name, "races.", 6) == 0)
            continue;
        /* Those that wait for the wall clock, by design. */
        if (s->expect_verdict == RL_TIMEOUT)
            continue;
        /* The verdict alone is not the point: the testing build's small
         * pipes make cloexec_leak.cloexec deadlock, races or not. */
        rl__search_result r;
        search(s->name, RL__RACES_FAIL, &r);
        ck_assert_msg(r.verdict != RL_RACE, "%s: %s", s->name,
                      r.first.message);
        ck_assert_msg(r.nraces == 0, "%s: %ld races", s->name, r.nraces);
        rl__search_result_free(&r);
        n++;
    }
    ck_assert_int_ge(n, 20);
}
END_TEST

/* A flag in plain shared memory publishes data: the program works on
 * this machine, and is a data race all the same. */
typedef struct {
    long data;
    int flag;
} mailbox;

static int publish(void *arg)
{
    mailbox *m = arg;
    RL_STORE(m->data, 42);
    RL_STORE(m->flag, 1);
    return 0;
}

RL_SCENARIO(races_plain_flag, "races.plain_flag",
            .summary = "data published through a plain flag")
{
    mailbox *m = rl_shared_alloc(sizeof *m);
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, publish, m, NULL) == 0, "start");
    while (RL_LOAD(m->flag) == 0)
        rl_yield("wait for the flag");
    rl_check_eq(RL_LOAD(m->data), 42, "data");
    rl_process_join(p, -1);
    rl_process_free(p);
}

/* The same data sent through a pipe: ordered. */
static int send_data(void *arg)
{
    mailbox *m = arg;
    rl_conn **ends = (rl_conn **)(m + 1);
    RL_STORE(m->data, 42);
    rl_conn_send(ends[1], "x", 1);
    rl_conn_close(ends[1]);
    rl_conn_close(ends[0]);
    return 0;
}

RL_SCENARIO(races_pipe, "races.pipe",
            .summary = "data published, then a message sent")
{
    mailbox *m = rl_shared_alloc(sizeof *m + 2 * sizeof(rl_conn *));
    rl_conn **ends = (rl_conn **)(m + 1);
    rl_check(rl_pipe(&ends[0], &ends[1], 0) == 0, "pipe");
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, send_data, m, NULL) == 0, "start");
    rl_conn_close(ends[1]);
    char c;
    rl_check(rl_conn_recv(ends[0], &c, 1, -1) == 1, "recv");
    rl_check_eq(RL_LOAD(m->data), 42, "data");
    rl_conn_close(ends[0]);
    rl_process_join(p, -1);
    rl_process_free(p);
}

START_TEST(a_message_orders_what_a_plain_flag_does_not)
{
    rl__search_result r;
    search("races.pipe", RL__RACES_FAIL, &r);
    ck_assert_msg(r.verdict == RL_PASS, "%s", r.first.message);
    ck_assert(r.exhausted);
    rl__search_result_free(&r);
    search("races.plain_flag", RL__RACES_FAIL, &r);
    ck_assert_int_eq(r.verdict, RL_RACE);
    ck_assert_int_eq(r.executions, 1);
    rl__search_result_free(&r);
}
END_TEST

/* Whether a stack's innermost frame shown is function fn. */
static int innermost(const char *stack, const char *fn)
{
    size_t n = strlen(fn);
    return strncmp(stack, "#0 ", 3) == 0 && strncmp(stack + 3, fn, n) == 0 &&
           stack[3 + n] == '+';
}

START_TEST(each_access_of_a_race_has_the_stack_of_its_function)
{
    rl__search_result r;
    search("races.plain_flag", RL__RACES_FAIL, &r);
    ck_assert_int_eq(r.verdict, RL_RACE);
    ck_assert_int_ge(r.nraces, 1);
    rl__result m;
    ck_assert_int_eq(rl__result_from_search(&r, &m), 0);
    for (long i = 0; i < r.nraces; i++) {
        const rl__race_access *x[2] = {&r.races[i].first, &r.races[i].second};
        const rl__result_access *y[2] = {&m.races[i].first,
                                         &m.races[i].second};
        for (int k = 0; k < 2; k++) {
            /* The publisher stores, the scenario's body loads. */
            const char *fn = x[k]->actor == 0 ? "races_plain_flag" : "publish";
            ck_assert_msg(innermost(x[k]->stack, fn),
                          "race %ld, access %d (actor %d, step %ld): stack "
                          "\"%s\", expected %s first",
                          i, k, x[k]->actor, x[k]->step, x[k]->stack, fn);
            /* The source place of the frame is the access's. */
            char place[64];
            snprintf(place, sizeof place, "(%s:%d", x[k]->file, x[k]->line);
            ck_assert_msg(strstr(x[k]->stack, place), "%s not in \"%s\"",
                          place, x[k]->stack);
            /* The frames the process inherited from the harness are not
             * its own. */
            ck_assert_ptr_null(strstr(x[k]->stack, "rl__search"));
            ck_assert_str_eq(y[k]->stack, x[k]->stack);
        }
    }
    rl__result_free(&m);
    rl__search_result_free(&r);
}
END_TEST

/* Runs rl_main with the arguments, stdout to /dev/null; returns its
 * status. */
static int run_main(const char **args, int n)
{
    char *argv[16];
    ck_assert_int_lt(n, 16);
    for (int i = 0; i < n; i++)
        argv[i] = (char *)args[i];
    argv[n] = NULL;
    fflush(stdout);
    int saved = dup(1);
    FILE *null = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(null);
    dup2(fileno(null), 1);
    int status = rl_main(n, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(null);
    return status;
}

/* 1 when the file at path holds text (in its first 64 KiB), 0 when not,
 * -1 when it cannot be read. */
static long file_has(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strstr(buf, text) != NULL;
}

START_TEST(races_option_through_the_command_line)
{
    char json[] = "/tmp/racelab-check-races-XXXXXX";
    int fd = mkstemp(json);
    ck_assert_int_ge(fd, 0);
    close(fd);
    /* A clean scenario with a race: RACE, unexpected, exit 1. */
    const char *fail[] = {"racelab",      "run",    "races.plain_flag",
                          "--color",      "never",  "--json",
                          json};
    ck_assert_int_eq(run_main(fail, 7), 1);
    ck_assert_int_eq(file_has(json, "\"verdict\": \"RACE\""), 1);
    ck_assert_int_eq(file_has(json, "\"access\": \"write\""), 1);
    /* report: listed, the verdict stays PASS, exit 0. */
    const char *report[] = {"racelab", "run",    "races.plain_flag",
                            "--races", "report", "--json",
                            json};
    ck_assert_int_eq(run_main(report, 7), 0);
    ck_assert_int_eq(file_has(json, "\"verdict\": \"PASS\""), 1);
    ck_assert_int_eq(file_has(json, "\"in_failure\": false"), 1);
    ck_assert_int_eq(file_has(json, "\"file\": \"check_races.c\""), 1);
    /* off: nothing looked for. */
    const char *off[] = {"racelab", "run", "races.plain_flag",
                         "--races", "off", "--json",
                         json};
    ck_assert_int_eq(run_main(off, 7), 0);
    ck_assert_int_eq(file_has(json, "\"races\": []"), 1);
    /* A wrong value is a usage error. */
    const char *bad[] = {"racelab", "run", "races.plain_flag", "--races",
                         "sometimes"};
    ck_assert_int_eq(run_main(bad, 5), 2);
    unlink(json);
}
END_TEST

static Suite *races_suite(void)
{
    Suite *s = suite_create("races");
    TCase *tc = rl_test_tcase("traces", 30);
    tcase_add_test(tc,
                   unordered_accesses_of_two_actors_race_once_per_pair_of_places);
    tcase_add_test(tc, reads_atomics_private_and_disjoint_bytes_do_not_race);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("edges", 30);
    tcase_add_test(tc, edge_lock_release_to_next_acquire);
    tcase_add_test(tc, edge_semaphore_release_to_acquire);
    tcase_add_test(tc, edge_event_set_to_wait_that_returns);
    tcase_add_test(tc, edge_condition_notify_to_woken_wait);
    tcase_add_test(tc, edge_barrier_arrivals_before_departures);
    tcase_add_test(tc, edge_process_start_and_join_of_an_exit);
    tcase_add_test(tc, edge_send_to_recv_of_the_same_message);
    tcase_add_test(tc, edge_queue_put_to_get);
    tcase_add_test(tc, edge_pool_submit_to_task_to_result);
    tcase_add_test(tc, edge_atomic_store_to_atomic_load);
    tcase_add_test(tc, edge_robust_lock_taken_over_from_a_dead_holder);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("executions", 120);
    tcase_add_test(tc, counter_unlocked_races_on_its_first_execution);
    tcase_add_test(tc, races_report_keeps_the_verdict_and_off_finds_none);
    tcase_add_test(tc, the_locked_and_atomic_counters_do_not_race);
    tcase_add_test(tc, a_message_orders_what_a_plain_flag_does_not);
    tcase_add_test(tc, each_access_of_a_race_has_the_stack_of_its_function);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("catalogue", 900);
    tcase_add_test(tc, every_clean_catalogue_scenario_stays_clean);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("cli", 120);
    tcase_add_test(tc, races_option_through_the_command_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(races_suite());
}
