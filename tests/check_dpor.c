/* check_dpor.c: partial-order reduction: the dependency relation between
 * steps, the race analysis of one execution, and the objects real
 * executions record for both. */
#include <stdlib.h>
#include <string.h>

#include "../harness/dpor.h"
#include "../harness/harness.h"
#include "internal.h"
#include "racelab.h"
#include "testutil.h"

/* ---- hand-built steps ---- */

static rl__step mk(int actor, int op, uintptr_t obj)
{
    rl__step s;
    memset(&s, 0, sizeof s);
    s.actor = actor;
    s.op = op;
    s.obj = (const void *)obj;
    return s;
}

static rl__step mem(int actor, int op, uintptr_t addr, int size, int shared)
{
    rl__step s = mk(actor, op, addr);
    s.size = size;
    s.shared = shared;
    return s;
}

static int dep(rl__step a, rl__step b)
{
    int d = rl__dpor_dependent(&a, &b);
    ck_assert_int_eq(d, rl__dpor_dependent(&b, &a));
    return d;
}

START_TEST(loads_and_stores_conflict_on_overlapping_shared_bytes)
{
    const uintptr_t x = 0x10000;
    ck_assert(dep(mem(1, RL_OP_STORE, x, 8, 1), mem(2, RL_OP_STORE, x, 8, 1)));
    ck_assert(dep(mem(1, RL_OP_STORE, x, 8, 1), mem(2, RL_OP_LOAD, x, 8, 1)));
    ck_assert(!dep(mem(1, RL_OP_LOAD, x, 8, 1), mem(2, RL_OP_LOAD, x, 8, 1)));
    /* A fetch-add is a write. */
    ck_assert(
        dep(mem(1, RL_OP_FETCH_ADD, x, 4, 1), mem(2, RL_OP_LOAD, x, 4, 1)));
    ck_assert(dep(mem(1, RL_OP_FETCH_ADD, x, 4, 1),
                  mem(2, RL_OP_FETCH_ADD, x, 4, 1)));
    /* Overlap by bytes, whatever the start addresses. */
    ck_assert(
        dep(mem(1, RL_OP_STORE, x, 8, 1), mem(2, RL_OP_LOAD, x + 7, 1, 1)));
    ck_assert(
        dep(mem(1, RL_OP_LOAD, x + 4, 4, 1), mem(2, RL_OP_STORE, x, 8, 1)));
    ck_assert(
        !dep(mem(1, RL_OP_STORE, x, 4, 1), mem(2, RL_OP_STORE, x + 4, 4, 1)));
    ck_assert(
        !dep(mem(1, RL_OP_STORE, x + 8, 8, 1), mem(2, RL_OP_STORE, x, 8, 1)));
    /* A private address is another object in every process. */
    ck_assert(!dep(mem(1, RL_OP_STORE, x, 8, 0), mem(2, RL_OP_STORE, x, 8, 0)));
    ck_assert(!dep(mem(1, RL_OP_STORE, x, 8, 0), mem(2, RL_OP_LOAD, x, 8, 1)));
    /* Memory and an object at the same address are unrelated. */
    ck_assert(!dep(mem(1, RL_OP_STORE, x, 8, 1), mk(2, RL_OP_ACQUIRE, x)));
}
END_TEST

START_TEST(operations_on_one_synchronisation_object_conflict)
{
    const uintptr_t o = 0x20000, p = 0x30000;
    static const int ops[] = {RL_OP_ACQUIRE, RL_OP_RELEASE, RL_OP_SET,
                              RL_OP_CLEAR,   RL_OP_WAIT,    RL_OP_NOTIFY};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            ck_assert_msg(dep(mk(1, ops[i], o), mk(2, ops[k], o)), "%s %s",
                          rl__op_name(ops[i]), rl__op_name(ops[k]));
            ck_assert_msg(!dep(mk(1, ops[i], o), mk(2, ops[k], p)), "%s %s",
                          rl__op_name(ops[i]), rl__op_name(ops[k]));
        }
    /* A condition's steps name its lock as their key. */
    rl__step wait = mk(1, RL_OP_WAIT, p);
    wait.key = (const void *)o;
    ck_assert(dep(wait, mk(2, RL_OP_RELEASE, o)));
    ck_assert(!dep(wait, mk(2, RL_OP_NOTIFY, p)));
}
END_TEST

START_TEST(both_ends_of_a_pipe_are_one_object)
{
    const uintptr_t end_a = 0x40000, end_b = 0x40100, word = 0x40008;
    const uintptr_t other = 0x50000;
    rl__step send = mk(1, RL_OP_SEND, end_b), recv = mk(2, RL_OP_RECV, end_a);
    rl__step poll = mk(2, RL_OP_POLL, end_a), close = mk(2, RL_OP_CLOSE, end_a);
    rl__step poll2 = mk(3, RL_OP_POLL, end_a);
    send.key = recv.key = poll.key = close.key = poll2.key = (const void *)word;
    ck_assert(dep(send, recv));
    ck_assert(dep(send, poll));
    ck_assert(dep(send, close));
    ck_assert(dep(recv, mk(1, RL_OP_CLOSE, end_b)) == 0); /* no key: obj */
    rl__step close_b = mk(1, RL_OP_CLOSE, end_b);
    close_b.key = (const void *)word;
    ck_assert(dep(recv, close_b));
    /* Polls only look. */
    ck_assert(!dep(poll, poll2));
    ck_assert(dep(poll2, recv));
    rl__step send2 = mk(1, RL_OP_SEND, other);
    send2.key = (const void *)(other + 8);
    ck_assert(!dep(send2, recv));
}
END_TEST

START_TEST(queue_and_pool_operations_conflict_on_one_object)
{
    const uintptr_t q = 0x60000, q2 = 0x61000, pool = 0x70000;
    ck_assert(dep(mk(1, RL_OP_PUT, q), mk(2, RL_OP_GET, q)));
    ck_assert(dep(mk(1, RL_OP_TASK_DONE, q), mk(2, RL_OP_JOIN, q)));
    ck_assert(dep(mk(1, RL_OP_CLOSE, q), mk(2, RL_OP_PUT, q)));
    ck_assert(!dep(mk(1, RL_OP_PUT, q), mk(2, RL_OP_GET, q2)));
    ck_assert(dep(mk(1, RL_OP_SUBMIT, pool), mk(2, RL_OP_GET, pool)));
    ck_assert(dep(mk(1, RL_OP_TASK_DONE, pool), mk(2, RL_OP_GET, pool)));
    /* A future's wait names the pool as its key. */
    rl__step get = mk(1, RL_OP_GET, 0x71000);
    get.key = (const void *)pool;
    ck_assert(dep(get, mk(2, RL_OP_TASK_DONE, pool)));
    ck_assert(!dep(mk(1, RL_OP_SUBMIT, pool), mk(2, RL_OP_PUT, q)));
}
END_TEST

START_TEST(start_join_and_exit_of_one_actor_conflict)
{
    rl__step join2 = mk(0, RL_OP_JOIN, 0);
    join2.target = 2 + 1;
    /* The first step of actor 2 (it comes after its creation anyway; the
     * join waits for its exit), and the start of actor 3 in its parent. */
    rl__step fork1 = mk(1, RL_OP_START, 0), fork3 = mk(3, RL_OP_START, 0);
    fork1.target = -1;
    fork3.target = -1;
    ck_assert(!dep(join2, mk(2, RL_OP_START, 0)));
    ck_assert(!dep(join2, fork3));
    ck_assert(!dep(mk(2, RL_OP_START, 0), mem(3, RL_OP_STORE, 0x1000, 8, 1)));
    ck_assert(!dep(fork1, mem(3, RL_OP_STORE, 0x1000, 8, 1)));
    /* Every start in a parent takes the next actor id. */
    ck_assert(dep(fork1, fork3));
    ck_assert(dep(join2, mk(2, RL_OP_EXIT, 0)));
    /* An exit ends its own joins, and exits commute. */
    ck_assert(!dep(join2, mk(3, RL_OP_EXIT, 0)));
    ck_assert(!dep(mk(1, RL_OP_EXIT, 0), mk(2, RL_OP_EXIT, 0)));
    ck_assert(!dep(join2, mk(3, RL_OP_ACQUIRE, 0x1000)));
    ck_assert(!dep(join2, mem(3, RL_OP_STORE, 0x1000, 8, 1)));
    ck_assert(!dep(mk(1, RL_OP_START, 0), mem(3, RL_OP_STORE, 0x1000, 8, 1)));
    /* A join whose actor is not known conflicts with everything. */
    ck_assert(dep(mk(0, RL_OP_JOIN, 0), mem(3, RL_OP_LOAD, 0x1000, 8, 0)));
}
END_TEST

START_TEST(steps_without_an_object_conflict_with_everything)
{
    rl__step private_load = mem(2, RL_OP_LOAD, 0x1000, 8, 0);
    ck_assert(dep(mk(1, RL_OP_YIELD, 0), private_load));
    /* An exit touches every object but no memory. */
    ck_assert(!dep(mk(1, RL_OP_EXIT, 0), private_load));
    ck_assert(!dep(mk(1, RL_OP_EXIT, 0), mem(2, RL_OP_STORE, 0x1000, 8, 1)));
    ck_assert(dep(mk(1, RL_OP_EXIT, 0), mk(2, RL_OP_RECV, 0x5000)));
    ck_assert(dep(mk(1, RL_OP_EXIT, 0), mk(2, RL_OP_ACQUIRE, 0x2000)));
    ck_assert(dep(mk(1, RL_OP_ACQUIRE, 0), mk(2, RL_OP_RELEASE, 0x2000)));
    /* A step marked as doing more than its op says. */
    rl__step timed = mk(1, RL_OP_ACQUIRE, 0x3000);
    ck_assert(!dep(timed, private_load));
    timed.global = 1;
    ck_assert(dep(timed, private_load));
    ck_assert(dep(timed, mk(2, RL_OP_PUT, 0x4000)));
    /* Two steps of one actor never commute. */
    ck_assert(dep(mem(2, RL_OP_LOAD, 0x1000, 8, 1), private_load));
}
END_TEST

/* ---- races over hand-built traces ---- */

typedef struct {
    int n;
    long i[32];
    rl__actorset set[32];
} calls;

static void want(void *ctx, long i, const rl__actorset *initials)
{
    calls *c = ctx;
    ck_assert_int_lt(c->n, 32);
    c->i[c->n] = i;
    c->set[c->n++] = *initials;
}

static rl__actorset set_of(int a, int b, int c)
{
    rl__actorset s;
    memset(&s, 0, sizeof s);
    if (a >= 0)
        rl__set_add(&s, a);
    if (b >= 0)
        rl__set_add(&s, b);
    if (c >= 0)
        rl__set_add(&s, c);
    return s;
}

static int same(const rl__actorset *a, rl__actorset b)
{
    return memcmp(a, &b, sizeof b) == 0;
}

static calls races(rl__step *t, long n, long from)
{
    calls c;
    memset(&c, 0, sizeof c);
    rl__dpor_races(t, n, from, want, &c);
    return c;
}

#define X 0x10000
#define Y 0x20000
#define Z 0x30000

START_TEST(independent_actors_make_no_call)
{
    rl__step t[4] = {mem(0, RL_OP_STORE, X, 8, 1), mem(1, RL_OP_STORE, Y, 8, 1),
                     mem(0, RL_OP_LOAD, X, 8, 1), mem(1, RL_OP_LOAD, X, 8, 1)};
    for (int k = 0; k < 4; k++)
        t[k].enabled = set_of(0, 1, -1);
    calls c = races(t, 4, 0);
    /* Only the store of x (step 0) and the load at step 3 conflict. */
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.i[0], 0);
    t[3] = mem(1, RL_OP_LOAD, Z, 8, 1);
    t[3].enabled = set_of(0, 1, -1);
    c = races(t, 4, 0);
    ck_assert_int_eq(c.n, 0);
}
END_TEST

START_TEST(a_write_write_race_calls_at_the_first_step)
{
    rl__step t[3] = {mem(0, RL_OP_STORE, X, 8, 1), mem(0, RL_OP_LOAD, Y, 8, 1),
                     mem(1, RL_OP_STORE, X + 4, 4, 1)};
    for (int k = 0; k < 3; k++)
        t[k].enabled = set_of(0, 1, -1);
    calls c = races(t, 3, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.i[0], 0);
    ck_assert(same(&c.set[0], set_of(1, -1, -1)));
    /* Nothing at or after from. */
    c = races(t, 3, 1);
    ck_assert_int_eq(c.n, 0);
}
END_TEST

START_TEST(a_race_behind_a_happens_before_chain_makes_no_call)
{
    /* 0 -> 1 -> 2: (0, 2) is no race, (0, 1) and (1, 2) are. */
    rl__step t[3] = {mem(0, RL_OP_STORE, X, 8, 1), mem(1, RL_OP_STORE, X, 8, 1),
                     mem(2, RL_OP_STORE, X, 8, 1)};
    for (int k = 0; k < 3; k++)
        t[k].enabled = set_of(0, 1, 2);
    calls c = races(t, 3, 0);
    ck_assert_int_eq(c.n, 2);
    ck_assert_int_eq(c.i[0], 0);
    ck_assert(same(&c.set[0], set_of(1, -1, -1)));
    ck_assert_int_eq(c.i[1], 1);
    ck_assert(same(&c.set[1], set_of(2, -1, -1)));
    /* The chain through a load: 0 -> 1 (x), 1 -> 3 (x); (0, 3) on x is
     * hidden. */
    rl__step u[4] = {mem(0, RL_OP_STORE, X, 8, 1), mem(1, RL_OP_LOAD, X, 8, 1),
                     mem(1, RL_OP_STORE, Y, 8, 1), mem(2, RL_OP_LOAD, Y, 8, 1)};
    for (int k = 0; k < 4; k++)
        u[k].enabled = set_of(0, 1, 2);
    u[3] = mem(2, RL_OP_STORE, X, 8, 1);
    u[3].enabled = set_of(0, 1, 2);
    /* Step 3 now races with 1 (load x) only: 0 -> 1 -> 3. */
    c = races(u, 4, 0);
    ck_assert_int_eq(c.n, 2);
    ck_assert_int_eq(c.i[0], 0);
    ck_assert_int_eq(c.i[1], 1);
    ck_assert(same(&c.set[1], set_of(2, -1, -1)));
}
END_TEST

START_TEST(initials_come_from_the_steps_between)
{
    /* Actor 2 loads z, then stores x; actor 0 stored x first. The other
     * order starts with actor 2 (its load happens before its store, and
     * nothing else does), whichever of its steps meets the race. */
    rl__step t[3] = {mem(0, RL_OP_STORE, X, 8, 1), mem(2, RL_OP_LOAD, Z, 8, 1),
                     mem(2, RL_OP_STORE, X, 8, 1)};
    for (int k = 0; k < 3; k++)
        t[k].enabled = set_of(0, 1, 2);
    calls c = races(t, 3, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert(same(&c.set[0], set_of(2, -1, -1)));
    /* A step of actor 1 that happens before actor 2's store (the lock)
     * makes actor 1 an initial instead. */
    rl__step u[4] = {mem(0, RL_OP_STORE, X, 8, 1), mk(1, RL_OP_RELEASE, Z),
                     mk(2, RL_OP_ACQUIRE, Z), mem(2, RL_OP_STORE, X, 8, 1)};
    for (int k = 0; k < 4; k++)
        u[k].enabled = set_of(0, 1, 2);
    c = races(u, 4, 0);
    ck_assert_int_ge(c.n, 1);
    ck_assert_int_eq(c.i[c.n - 1], 0);
    ck_assert(same(&c.set[c.n - 1], set_of(1, -1, -1)));
}
END_TEST

START_TEST(a_blocked_actor_falls_back_to_every_enabled_actor)
{
    /* Actor 1 runs, then is blocked while actor 0 stores x, and loads x
     * once it runs again: it could not run at step 1. */
    rl__step t[4] = {mem(1, RL_OP_LOAD, Z, 8, 1), mem(0, RL_OP_STORE, X, 8, 1),
                     mk(0, RL_OP_RELEASE, Y), mem(1, RL_OP_LOAD, X, 8, 1)};
    t[0].enabled = set_of(0, 1, 2);
    t[1].enabled = set_of(0, 2, -1);
    t[2].enabled = set_of(0, 2, -1);
    t[3].enabled = set_of(0, 1, 2);
    calls c = races(t, 4, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.i[0], 1);
    ck_assert(same(&c.set[0], set_of(0, 2, -1)));
}
END_TEST

static rl__step lockop(int actor, int op, uintptr_t lock, int exclusive)
{
    rl__step s = mk(actor, op, lock);
    s.key = (const void *)lock;
    s.target = exclusive ? RL__TARGET_EXCLUSIVE : 0;
    return s;
}

START_TEST(a_lock_taken_after_a_release_races_with_its_acquire)
{
    /* Actor 0 holds lock y around its store of x; actor 1 takes y after
     * it. The other order is actor 1 taking y first, at step 0: not
     * between actor 0's acquire and release, where it would block. */
    rl__step t[4] = {lockop(0, RL_OP_ACQUIRE, Y, 1), mem(0, RL_OP_STORE, X, 8, 1),
                     lockop(0, RL_OP_RELEASE, Y, 1),
                     lockop(1, RL_OP_ACQUIRE, Y, 1)};
    for (int k = 0; k < 4; k++)
        t[k].enabled = set_of(0, 1, -1);
    calls c = races(t, 4, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.i[0], 0);
    ck_assert(same(&c.set[0], set_of(1, -1, -1)));
    /* A semaphore two actors may hold at once: the acquire can come
     * between, so the race stays with the release. */
    for (int k = 0; k < 4; k++)
        if (k != 1)
            t[k].target = 0;
    c = races(t, 4, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.i[0], 2);
}
END_TEST

START_TEST(the_step_that_wakes_an_actor_makes_no_race_with_it)
{
    /* Actor 1 tries y while actor 0 holds it and blocks; actor 0's
     * release wakes it and it takes y. Only the attempt races (with the
     * acquire, step 0); the release at step 2 could not come after the
     * retry. */
    rl__step t[4] = {lockop(0, RL_OP_ACQUIRE, Y, 1),
                     lockop(1, RL_OP_ACQUIRE, Y, 1),
                     lockop(0, RL_OP_RELEASE, Y, 1),
                     lockop(1, RL_OP_ACQUIRE, Y, 1)};
    t[1].blocked = 1;
    t[0].enabled = set_of(0, 1, -1);
    t[1].enabled = set_of(0, 1, -1);
    t[2].enabled = set_of(0, -1, -1);
    t[3].enabled = set_of(0, 1, -1);
    calls c = races(t, 4, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.i[0], 0);
    ck_assert(same(&c.set[0], set_of(1, -1, -1)));
}
END_TEST

START_TEST(an_exit_races_only_with_the_locks_it_holds)
{
    /* Actor 0 takes and gives back y, then exits; actor 1 takes y. The
     * exit changed nothing of y: the race is with actor 0's acquire. */
    rl__step t[4] = {lockop(0, RL_OP_ACQUIRE, Y, 1),
                     lockop(0, RL_OP_RELEASE, Y, 1), mk(0, RL_OP_EXIT, 0),
                     lockop(1, RL_OP_ACQUIRE, Y, 1)};
    for (int k = 0; k < 4; k++)
        t[k].enabled = set_of(0, 1, -1);
    calls c = races(t, 4, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.i[0], 0);
    /* Ending with y held, the exit hands it over: it races too. */
    t[1] = mem(0, RL_OP_STORE, X, 8, 1);
    t[1].enabled = set_of(0, 1, -1);
    c = races(t, 4, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.i[0], 2);
}
END_TEST

START_TEST(an_actor_started_after_the_step_makes_no_call)
{
    /* Actor 2 blocks; actor 0 stores x; actor 2 starts actor 1, which
     * loads x. Actor 1 did not exist at step 1. */
    rl__step t[4] = {mem(2, RL_OP_LOAD, Z, 8, 1), mem(0, RL_OP_STORE, X, 8, 1),
                     mk(2, RL_OP_START, 0), mem(1, RL_OP_LOAD, X, 8, 1)};
    t[0].enabled = set_of(0, 2, -1);
    t[1].enabled = set_of(0, -1, -1);
    t[2].enabled = set_of(0, 2, -1);
    t[3].enabled = set_of(0, 1, 2);
    calls c = races(t, 4, 0);
    ck_assert_int_eq(c.n, 0);
    /* With actor 2 runnable at step 1, starting actor 1 first is the
     * other order. */
    t[1].enabled = set_of(0, 2, -1);
    c = races(t, 4, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.i[0], 1);
    ck_assert(same(&c.set[0], set_of(2, -1, -1)));
    /* The first step of an actor is never in a race with its creation. */
    rl__step u[2] = {mk(0, RL_OP_START, 0), mk(1, RL_OP_START, 0)};
    u[0].enabled = set_of(0, -1, -1);
    u[1].enabled = set_of(0, 1, -1);
    c = races(u, 2, 0);
    ck_assert_int_eq(c.n, 0);
}
END_TEST

static void want_count(void *ctx, long i, const rl__actorset *initials)
{
    (void)i;
    ck_assert(!rl__set_empty(initials));
    ++*(long *)ctx;
}

/* A random trace of n steps of na actors around 16 shared words. */
static long random_trace(long n, int na)
{
    rl__step *t = calloc((size_t)n, sizeof *t);
    ck_assert_ptr_nonnull(t);
    rl__actorset all;
    memset(&all, 0, sizeof all);
    for (int a = 0; a < na; a++)
        rl__set_add(&all, a);
    uint64_t r = 1;
    for (long k = 0; k < n; k++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        int a = (int)((r >> 33) % (uint64_t)na);
        int op = (r >> 20) & 1 ? RL_OP_STORE : RL_OP_LOAD;
        t[k] = mem(a, op, X + 8 * ((r >> 40) % 16), 8, 1);
        t[k].enabled = all;
    }
    long count = 0;
    rl__dpor_races(t, n, 0, want_count, &count);
    free(t);
    return count;
}

START_TEST(long_traces_and_many_actors)
{
    ck_assert_int_gt(random_trace(10000, 6), 0);
    ck_assert_int_gt(random_trace(1000, 256), 0);
}
END_TEST

/* ---- what real executions record ---- */

typedef struct {
    union {
        long whole;
        int half[2];
    } w;   /* bytes 0..8: a long and the int in its upper half */
    int x; /* bytes 8..12 */
    int y; /* bytes 12..16 */
    rl_lock *l1, *l2, *l3;
    rl_queue *q;
    rl_conn *rx, *tx;
} objects;

static int writer(void *arg)
{
    objects *o = arg;
    rl_check(rl_conn_send(o->tx, "m", 1) == 0, "send: %s", rl_last_error());
    rl_lock_acquire(o->l1, -1);
    rl_lock_release(o->l1);
    rl_queue_put(o->q, "i", 1, -1);
    RL_STORE(o->w.whole, 1);
    RL_STORE(o->x, 2);
    rl_lock_acquire(o->l2, -1);
    rl_lock_release(o->l2);
    return 0;
}

static int reader(void *arg)
{
    objects *o = arg;
    char buf[8];
    rl_conn_recv(o->rx, buf, sizeof buf, -1);
    rl_lock_acquire(o->l1, -1);
    rl_lock_release(o->l1);
    rl_queue_get(o->q, buf, sizeof buf, -1);
    (void)RL_LOAD(o->w.half[1]);
    (void)RL_LOAD(o->y);
    rl_lock_acquire(o->l3, -1);
    rl_lock_release(o->l3);
    return 0;
}

RL_SCENARIO(dpor_objects, "dpor.objects",
            .summary = "one process writes, the other reads")
{
    objects *o = rl_shared_alloc(sizeof *o);
    o->l1 = rl_lock_new();
    o->l2 = rl_lock_new();
    o->l3 = rl_lock_new();
    o->q = rl_queue_new(4, 0);
    /* Duplex: under RL_TESTING a one-way pipe holds one page, and a
     * message's header fills it until the reader comes. */
    rl_check(rl_pipe(&o->rx, &o->tx, 1) == 0, "pipe: %s", rl_last_error());
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, writer, o, NULL) == 0, "start: %s",
             rl_last_error());
    rl_check(rl_process_start(&b, reader, o, NULL) == 0, "start: %s",
             rl_last_error());
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
}

typedef struct {
    int executions;
    long n;
    rl__step *steps;
    long races;
} seen_trace;

static void keep_trace(const rl__exec_result *e, void *ctx)
{
    seen_trace *t = ctx;
    if (t->executions++ == 0) {
        t->n = e->nsteps;
        t->steps = malloc(sizeof *t->steps * (size_t)e->nsteps);
        memcpy(t->steps, e->steps, sizeof *t->steps * (size_t)e->nsteps);
    }
}

/* The index of the nth (from 0) step of actor with op, or fails. */
static const rl__step *nth(const seen_trace *t, int actor, int op, int n)
{
    for (long k = 0; k < t->n; k++)
        if (t->steps[k].actor == actor && t->steps[k].op == op && n-- == 0)
            return &t->steps[k];
    ck_abort_msg("no %s number %d of actor %d", rl__op_name(op), n, actor);
    return NULL;
}

START_TEST(steps_of_real_executions_name_their_objects)
{
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.mode = RL_MODE_EXPLORE;
    o.preemptions = 0;
    o.races = RL__RACES_OFF; /* its accesses race by design */
    seen_trace t = {0, 0, NULL, 0};
    o.observe = keep_trace;
    o.observe_ctx = &t;
    rl__search_result r;
    rl_scenario *sc = rl__scenario_find("dpor.objects");
    ck_assert_ptr_nonnull(sc);
    ck_assert_int_eq(rl__search(sc, &o, &r), 0);
    ck_assert_msg(r.verdict == RL_PASS, "%s", r.first.message);
    rl__search_result_free(&r);
    ck_assert_int_ge(t.executions, 1);
    /* Actor 1 writes, actor 2 reads. */
    const rl__step *send = nth(&t, 1, RL_OP_SEND, 0);
    const rl__step *recv = nth(&t, 2, RL_OP_RECV, 0);
    ck_assert_ptr_ne(send->obj, recv->obj); /* two ends */
    ck_assert(rl__dpor_dependent(send, recv));
    const rl__step *acq1 = nth(&t, 1, RL_OP_ACQUIRE, 0);
    const rl__step *acq2 = nth(&t, 2, RL_OP_ACQUIRE, 0);
    ck_assert(rl__dpor_dependent(acq1, acq2));
    ck_assert(rl__dpor_dependent(nth(&t, 1, RL_OP_RELEASE, 0), acq2));
    ck_assert(
        rl__dpor_dependent(nth(&t, 1, RL_OP_PUT, 0), nth(&t, 2, RL_OP_GET, 0)));
    const rl__step *whole = nth(&t, 1, RL_OP_STORE, 0);
    const rl__step *x = nth(&t, 1, RL_OP_STORE, 1);
    const rl__step *half = nth(&t, 2, RL_OP_LOAD, 0);
    const rl__step *y = nth(&t, 2, RL_OP_LOAD, 1);
    ck_assert_int_eq(whole->size, (int)sizeof(long));
    ck_assert_int_eq(half->size, (int)sizeof(int));
    ck_assert(rl__dpor_dependent(whole, half));
    ck_assert(!rl__dpor_dependent(x, y));
    ck_assert(!rl__dpor_dependent(whole, y));
    /* Different locks. */
    ck_assert(!rl__dpor_dependent(nth(&t, 1, RL_OP_ACQUIRE, 1),
                                  nth(&t, 2, RL_OP_ACQUIRE, 1)));
    /* The root's join of the writer: with the writer's exit, not with
     * the reader's accesses. */
    const rl__step *join = nth(&t, 0, RL_OP_JOIN, 0);
    ck_assert_int_eq(join->target, 1 + 1);
    ck_assert(rl__dpor_dependent(join, nth(&t, 1, RL_OP_EXIT, 0)));
    ck_assert(!rl__dpor_dependent(join, half));
    /* The pipe makes a race whose other order starts with the reader. */
    long count = 0;
    rl__dpor_races(t.steps, t.n, 0, want_count, &count);
    ck_assert_int_gt(count, 0);
    free(t.steps);
}
END_TEST

static Suite *dpor_suite(void)
{
    Suite *s = suite_create("dpor");
    TCase *tc = rl_test_tcase("dependency", 30);
    tcase_add_test(tc, loads_and_stores_conflict_on_overlapping_shared_bytes);
    tcase_add_test(tc, operations_on_one_synchronisation_object_conflict);
    tcase_add_test(tc, both_ends_of_a_pipe_are_one_object);
    tcase_add_test(tc, queue_and_pool_operations_conflict_on_one_object);
    tcase_add_test(tc, start_join_and_exit_of_one_actor_conflict);
    tcase_add_test(tc, steps_without_an_object_conflict_with_everything);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("races", 60);
    tcase_add_test(tc, independent_actors_make_no_call);
    tcase_add_test(tc, a_write_write_race_calls_at_the_first_step);
    tcase_add_test(tc, a_race_behind_a_happens_before_chain_makes_no_call);
    tcase_add_test(tc, initials_come_from_the_steps_between);
    tcase_add_test(tc, a_blocked_actor_falls_back_to_every_enabled_actor);
    tcase_add_test(tc, an_actor_started_after_the_step_makes_no_call);
    tcase_add_test(tc, a_lock_taken_after_a_release_races_with_its_acquire);
    tcase_add_test(tc, the_step_that_wakes_an_actor_makes_no_race_with_it);
    tcase_add_test(tc, an_exit_races_only_with_the_locks_it_holds);
    tcase_add_test(tc, long_traces_and_many_actors);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("executions", 120);
    tcase_add_test(tc, steps_of_real_executions_name_their_objects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(dpor_suite());
}
