/* check_fair.c: fair scheduling: spin-waits pass over the bounded space,
 * switching away from a yield costs no preemption, a yielding actor waits
 * for the others, a spin nobody can end is a prompt LIVELOCK, and a loop
 * that stores is no spin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/harness.h"
#include "internal.h"
#include "racelab.h"
#include "testutil.h"

/* ---- scenarios used by the tests ---- */

typedef struct {
    long data;
    int ready;
    int stop;
    int other;
    long ticks;
    rl_event *go;
} box;

static int reader_yield(void *arg)
{
    box *b = arg;
    while (RL_LOAD(b->ready) == 0)
        rl_yield("spin");
    rl_check_eq(RL_LOAD(b->data), 7, "data");
    return 0;
}

static int reader_plain(void *arg)
{
    box *b = arg;
    while (RL_LOAD(b->ready) == 0)
        ;
    rl_check_eq(RL_LOAD(b->data), 7, "data");
    return 0;
}

static int writer(void *arg)
{
    box *b = arg;
    RL_STORE(b->data, 7);
    RL_STORE(b->ready, 1);
    return 0;
}

/* Actor 1 runs fn, actor 2 the writer (or nothing); main joins them. */
static void pair(rl_entry fn, rl_entry second)
{
    box *b = rl_shared_alloc(sizeof *b);
    rl_process_opts ro = {.name = "spinner"}, wo = {.name = "writer"};
    rl_process *r = NULL, *w = NULL;
    rl_check(rl_process_start(&r, fn, b, &ro) == 0, "start");
    if (second)
        rl_check(rl_process_start(&w, second, b, &wo) == 0, "start");
    rl_process_join(r, -1);
    rl_process_free(r);
    if (w) {
        rl_process_join(w, -1);
        rl_process_free(w);
    }
}

RL_SCENARIO(f_spin_yield, "f.spin.yield", .max_steps = 2000)
{
    pair(reader_yield, writer);
}

RL_SCENARIO(f_spin_plain, "f.spin.plain", .max_steps = 2000)
{
    pair(reader_plain, writer);
}

/* Spins nobody ends: nobody ever stores to ready. */
enum { STUCK_PLAIN_LINE = __LINE__ + 4 };
static int stuck_plain(void *arg)
{
    box *b = arg;
    while (RL_LOAD(b->ready) == 0)
        ;
    return 0;
}

enum { STUCK_YIELD_LINE = __LINE__ + 4 };
static int stuck_yield(void *arg)
{
    box *b = arg;
    while (RL_LOAD(b->ready) == 0)
        rl_yield("spin");
    return 0;
}

RL_SCENARIO(f_stuck_plain, "f.stuck.plain", .expect = RL_EXPECT_BUG,
            .max_steps = 5000)
{
    pair(stuck_plain, NULL);
}

RL_SCENARIO(f_stuck_yield, "f.stuck.yield", .expect = RL_EXPECT_BUG,
            .max_steps = 5000)
{
    pair(stuck_yield, NULL);
}

/* Two actors that yield three times each once main lets them go. */
static int pinger(void *arg)
{
    box *b = arg;
    rl_event_wait(b->go, -1);
    for (int i = 0; i < 3; i++)
        rl_yield("ping");
    return 0;
}

RL_SCENARIO(f_pingpong, "f.pingpong")
{
    box *b = rl_shared_alloc(sizeof *b);
    b->go = rl_event_new();
    rl_process *x = NULL, *y = NULL;
    rl_check(rl_process_start(&x, pinger, b, NULL) == 0, "start");
    rl_check(rl_process_start(&y, pinger, b, NULL) == 0, "start");
    rl_event_set(b->go);
    rl_process_join(x, -1);
    rl_process_join(y, -1);
    rl_process_free(x);
    rl_process_free(y);
}

#define ROUNDS 20

/* Polls the stop flag and stores each round: not a spin. */
static int busy_storing(void *arg)
{
    box *b = arg;
    for (long i = 0; i < ROUNDS && RL_LOAD(b->stop) == 0; i++)
        RL_STORE(b->ticks, i + 1);
    return 0;
}

/* Polls the stop flag and only reads between: a spin. */
static int busy_reading(void *arg)
{
    box *b = arg;
    long i = 0;
    for (; i < ROUNDS && RL_LOAD(b->stop) == 0; i++)
        (void)RL_LOAD(b->other);
    RL_STORE(b->ticks, i);
    return 0;
}

/* main lets the poller run (its yield), then tells it to stop. */
static long poll_rounds(rl_entry fn)
{
    box *b = rl_shared_alloc(sizeof *b);
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, fn, b, NULL) == 0, "start");
    rl_yield("let the poller run");
    RL_STORE(b->stop, 1);
    rl_process_join(p, -1);
    rl_process_free(p);
    return RL_LOAD(b->ticks);
}

RL_SCENARIO(f_busy_storing, "f.busy.storing", .max_steps = 500)
{
    rl_check_eq(poll_rounds(busy_storing), ROUNDS, "rounds of the poller");
}

RL_SCENARIO(f_busy_reading, "f.busy.reading", .max_steps = 500)
{
    long n = poll_rounds(busy_reading);
    rl_check(n < ROUNDS, "the reading poller ran all %ld rounds", n);
}

/* ---- helpers ---- */

static rl__search_opts explore_opts(int bound)
{
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    /* The scheduling of spins: their plain flags race by design. */
    o.races = RL__RACES_OFF;
    o.mode = RL_MODE_EXPLORE;
    o.preemptions = bound;
    return o;
}

static void search(const char *name, rl__search_opts *o, rl__search_result *r)
{
    rl_scenario *sc = rl__scenario_find(name);
    ck_assert_ptr_nonnull(sc);
    ck_assert_int_eq(rl__search(sc, o, r), 0);
}

/* ---- spin-waits pass ---- */

START_TEST(spin_waits_pass_and_exhaust_the_bounded_space)
{
    const char *names[] = {"f.spin.yield", "f.spin.plain"};
    for (int bound = 0; bound <= 2; bound++) {
        for (size_t i = 0; i < 2; i++) {
            rl__search_opts o = explore_opts(bound);
            rl__search_result r;
            search(names[i], &o, &r);
            ck_assert_msg(r.verdict == RL_PASS, "%s at bound %d: %s: %s",
                          names[i], bound, rl_verdict_name(r.verdict),
                          r.first.message);
            ck_assert_msg(r.exhausted, "%s at bound %d: not exhausted",
                          names[i], bound);
            rl__search_result_free(&r);
        }
    }
}
END_TEST

/* ---- a yield is no preemption ---- */

typedef struct {
    long executions;
    long switches_at_yield; /* away from the spinner at its yield */
    long counted;           /* ... that counted as preemptions */
    long preemptions;       /* in all executions, by either count */
} yield_stats;

static void watch_yields(const rl__exec_result *e, void *ctx)
{
    yield_stats *y = ctx;
    y->executions++;
    y->preemptions += e->preemptions;
    y->preemptions += rl__count_preemptions(e->steps, e->nsteps);
    for (long i = 1; i < e->nsteps; i++) {
        if (e->steps[i - 1].actor != 1 || e->steps[i].actor == 1)
            continue;
        /* Actor 1 stopped at this point: where was it? Its next step
         * says. */
        long j = i + 1;
        while (j < e->nsteps && e->steps[j].actor != 1)
            j++;
        if (j == e->nsteps || e->steps[j].op != RL_OP_YIELD)
            continue;
        y->switches_at_yield++;
        y->counted += rl__is_preemption(e->steps, i, e->steps[i].actor);
    }
}

START_TEST(switching_away_at_a_yield_is_no_preemption)
{
    yield_stats y = {0, 0, 0, 0};
    rl__search_opts o = explore_opts(0);
    o.observe = watch_yields;
    o.observe_ctx = &y;
    rl__search_result r;
    search("f.spin.yield", &o, &r);
    ck_assert_msg(r.verdict == RL_PASS, "%s: %s", rl_verdict_name(r.verdict),
                  r.first.message);
    ck_assert_int_eq(r.exhausted, 1);
    ck_assert_int_gt(y.executions, 0);
    /* With no preemption allowed, the spinner still lets the writer run
     * at its yield. */
    ck_assert_int_gt(y.switches_at_yield, 0);
    ck_assert_int_eq(y.counted, 0);
    ck_assert_int_eq(y.preemptions, 0);
    rl__search_result_free(&r);
}
END_TEST

/* ---- a yielding actor waits for the others ---- */

typedef struct {
    long executions;
    long violations;
    char first[160];
} order_stats;

/* Between two yields of one pinger the other steps, unless it ended. */
static void watch_order(const rl__exec_result *e, void *ctx)
{
    order_stats *s = ctx;
    s->executions++;
    for (int me = 1; me <= 2; me++) {
        int other = 3 - me;
        long last = -1;
        int other_ended = 0, other_stepped = 0;
        for (long i = 0; i < e->nsteps; i++) {
            const rl__step *st = &e->steps[i];
            if (st->actor == other) {
                other_stepped = 1;
                if (st->op == RL_OP_EXIT)
                    other_ended = 1;
            }
            if (st->actor != me || st->op != RL_OP_YIELD)
                continue;
            if (last >= 0 && !other_stepped && !other_ended &&
                s->violations++ == 0)
                snprintf(s->first, sizeof s->first,
                         "actor %d yielded at steps %ld and %ld with actor "
                         "%d enabled and idle between",
                         me, last, i, other);
            last = i;
            other_stepped = 0;
        }
    }
}

START_TEST(a_yielding_actor_waits_until_the_others_stepped)
{
    for (int bound = 0; bound <= 2; bound++) {
        order_stats s;
        memset(&s, 0, sizeof s);
        rl__search_opts o = explore_opts(bound);
        o.observe = watch_order;
        o.observe_ctx = &s;
        rl__search_result r;
        search("f.pingpong", &o, &r);
        ck_assert_msg(r.verdict == RL_PASS, "%s: %s",
                      rl_verdict_name(r.verdict), r.first.message);
        ck_assert_int_eq(r.exhausted, 1);
        ck_assert_int_gt(s.executions, 0);
        ck_assert_msg(s.violations == 0, "bound %d: %ld times, first: %s",
                      bound, s.violations, s.first);
        rl__search_result_free(&r);
    }
}
END_TEST

/* ---- a spin nobody can end ---- */

static void check_stuck(const char *name, int line)
{
    rl__search_opts o = explore_opts(2);
    rl__search_result r;
    search(name, &o, &r);
    ck_assert_msg(r.verdict == RL_LIVELOCK, "%s: %s: %s", name,
                  rl_verdict_name(r.verdict), r.first.message);
    ck_assert_int_eq(r.executions, 1);
    /* Found from the spin itself, not from the step bound of 5000. */
    ck_assert_msg(r.first.nsteps < 100, "%s: %ld steps", name,
                  r.first.nsteps);
    char where[64];
    snprintf(where, sizeof where, "actor 1 (spinner) spins at check_fair.c:%d",
             line);
    const char *m = r.first.message;
    ck_assert_msg(strstr(m, where), "no '%s' in: %s", where, m);
    ck_assert_msg(strstr(m, "reading b->ready (value 0)"), "%s", m);
    ck_assert_msg(strstr(m, "only a store to b->ready by another actor"), "%s",
                  m);
    ck_assert_msg(strstr(m, "actor 0 (main) is blocked in join"), "%s", m);
    rl__search_result_free(&r);
}

START_TEST(a_spin_nobody_ends_is_a_prompt_livelock)
{
    check_stuck("f.stuck.plain", STUCK_PLAIN_LINE);
    check_stuck("f.stuck.yield", STUCK_YIELD_LINE);
}
END_TEST

/* ---- a loop that stores is no spin ---- */

START_TEST(a_polling_loop_that_stores_is_no_spin)
{
    /* Without preemptions the poller that stores runs all its rounds
     * before main goes on; the one that only reads spins and lets main
     * stop it (each scenario checks its count). */
    const char *names[] = {"f.busy.storing", "f.busy.reading"};
    for (size_t i = 0; i < 2; i++) {
        rl__search_opts o = explore_opts(0);
        rl__search_result r;
        search(names[i], &o, &r);
        ck_assert_msg(r.verdict == RL_PASS, "%s: %s: %s", names[i],
                      rl_verdict_name(r.verdict), r.first.message);
        ck_assert_int_eq(r.exhausted, 1);
        rl__search_result_free(&r);
    }
}
END_TEST

static Suite *fair_suite(void)
{
    Suite *s = suite_create("fair");
    TCase *tc = rl_test_tcase("spin-waits", 240);
    tcase_add_test(tc, spin_waits_pass_and_exhaust_the_bounded_space);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("yields", 240);
    tcase_add_test(tc, switching_away_at_a_yield_is_no_preemption);
    tcase_add_test(tc, a_yielding_actor_waits_until_the_others_stepped);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("livelock", 120);
    tcase_add_test(tc, a_spin_nobody_ends_is_a_prompt_livelock);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("spins", 120);
    tcase_add_test(tc, a_polling_loop_that_stores_is_no_spin);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(fair_suite());
}
