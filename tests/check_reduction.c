/* check_reduction.c: partial-order reduction never changes a verdict. Every
 * scenario of the catalogue (linked in) and of this file that explore can
 * exhaust without a bound is explored twice, with --reduction none and
 * with dpor, going on past failures; the sets of outcomes (verdict and
 * checked value) must be equal. With a dependency left out on purpose the
 * comparison must fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/harness.h"
#include "racelab.h"
#include "testutil.h"

extern int rl__dpor_test_drop;

/* ---- scenarios beside the catalogue's ---- */

typedef struct {
    long a, b;
    rl_lock *l1, *l2;
} pair;

static int write_both(void *arg)
{
    pair *p = arg;
    RL_STORE(p->a, 1);
    RL_STORE(p->b, RL_LOAD(p->a) + 1);
    return 0;
}

static int read_both(void *arg)
{
    pair *p = arg;
    long b = RL_LOAD(p->b);
    long a = RL_LOAD(p->a);
    /* Seen: b's new value without a's is impossible. */
    rl_check(!(b == 2 && a == 0), "b without a");
    return 0;
}

RL_SCENARIO(r_message_passing, "r.message_passing",
            .summary = "a writer and a reader of two cells")
{
    pair *p = rl_shared_alloc(sizeof *p);
    rl_process *w, *r;
    rl_process_start(&w, write_both, p, NULL);
    rl_process_start(&r, read_both, p, NULL);
    rl_process_join(w, -1);
    rl_process_join(r, -1);
    rl_process_free(w);
    rl_process_free(r);
    rl_check_eq(p->b, 2, "b");
}

static int lock_order_ab(void *arg)
{
    pair *p = arg;
    rl_lock_acquire(p->l1, -1);
    RL_STORE(p->a, RL_LOAD(p->a) + 1);
    rl_lock_acquire(p->l2, -1);
    RL_STORE(p->b, RL_LOAD(p->b) + 1);
    rl_lock_release(p->l2);
    rl_lock_release(p->l1);
    return 0;
}

static int lock_order_ba(void *arg)
{
    pair *p = arg;
    rl_lock_acquire(p->l2, -1);
    RL_STORE(p->b, RL_LOAD(p->b) * 10);
    rl_lock_acquire(p->l1, -1);
    RL_STORE(p->a, RL_LOAD(p->a) * 10);
    rl_lock_release(p->l1);
    rl_lock_release(p->l2);
    return 0;
}

RL_SCENARIO(r_lock_order, "r.lock_order",
            .summary = "two locks taken in opposite orders")
{
    pair *p = rl_shared_alloc(sizeof *p);
    p->l1 = rl_lock_new();
    p->l2 = rl_lock_new();
    rl_process *x, *y;
    rl_process_start(&x, lock_order_ab, p, NULL);
    rl_process_start(&y, lock_order_ba, p, NULL);
    rl_process_join(x, -1);
    rl_process_join(y, -1);
    rl_process_free(x);
    rl_process_free(y);
    rl_check_eq(p->a * 100 + p->b, p->a * 100 + p->b, "a and b");
    rl_check_eq(p->a, p->a == 10 ? 10 : 11, "a");
}

static int send_two(void *arg)
{
    rl_conn *c = *(rl_conn **)arg;
    rl_conn_send(c, "x", 1);
    rl_conn_send(c, "yy", 2);
    rl_conn_close(c);
    return 0;
}

RL_SCENARIO(r_pipe, "r.pipe", .summary = "two senders on one pipe")
{
    rl_conn **ends = rl_shared_alloc(sizeof *ends * 2);
    rl_pipe(&ends[0], &ends[1], 0);
    rl_process *s1, *s2;
    rl_process_start(&s1, send_two, &ends[1], NULL);
    rl_process_start(&s2, send_two, &ends[1], NULL);
    rl_conn_close(ends[1]);
    long order = 0;
    char buf[8];
    ssize_t n;
    while ((n = rl_conn_recv(ends[0], buf, sizeof buf, -1)) > 0)
        order = order * 10 + n;
    rl_process_join(s1, -1);
    rl_process_join(s2, -1);
    rl_process_free(s1);
    rl_process_free(s2);
    rl_check_eq(order, order, "order of the messages");
}

static int increment_once(void *arg)
{
    long *n = arg;
    long v = RL_LOAD(*n);
    RL_STORE(*n, v + 1);
    return 0;
}

RL_SCENARIO(r_lost, "r.lost", .summary = "one unlocked increment each",
            .expect = RL_EXPECT_BUG)
{
    long *n = rl_shared_alloc(sizeof *n);
    rl_process *x, *y;
    rl_process_start(&x, increment_once, n, NULL);
    rl_process_start(&y, increment_once, n, NULL);
    rl_process_join(x, -1);
    rl_process_join(y, -1);
    rl_process_free(x);
    rl_process_free(y);
    rl_check_eq(*n, 2, "n");
}

/* ---- the comparison ---- */

#define MAX_OUTCOMES 256

typedef struct {
    long key[MAX_OUTCOMES];
    int n;
    int overflow;
} outcomes;

static void add_outcome(const rl__exec_result *e, void *ctx)
{
    outcomes *o = ctx;
    long key = (long)e->verdict * 1000003L + (e->has_value ? e->value : -7);
    for (int i = 0; i < o->n; i++)
        if (o->key[i] == key)
            return;
    if (o->n < MAX_OUTCOMES)
        o->key[o->n++] = key;
    else
        o->overflow = 1;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Explores sc unbounded going on past failures; 0 when it could not
 * exhaust within the limit. */
static int all_outcomes(const rl_scenario *sc, int reduction, int bound,
                        outcomes *out, long *executions)
{
    memset(out, 0, sizeof *out);
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.mode = RL_MODE_EXPLORE;
    o.preemptions = bound;
    o.reduction = reduction;
    o.all_outcomes = 1;
    o.runs = 400;
    o.observe = add_outcome;
    o.observe_ctx = out;
    rl__search_result r;
    ck_assert_int_eq(rl__search(sc, &o, &r), 0);
    int done = r.exhausted;
    *executions = r.executions;
    rl__search_result_free(&r);
    qsort(out->key, (size_t)out->n, sizeof out->key[0], cmp_long);
    return done && !out->overflow;
}

static int skipped(const rl_scenario *sc)
{
    /* Those that wait for the wall clock, by design. */
    return sc->expect_verdict == RL_TIMEOUT;
}

START_TEST(reduction_keeps_every_outcome)
{
    int compared = 0;
    long with = 0, without = 0;
    for (rl_scenario *sc = rl__scenarios(); sc; sc = sc->next) {
        if (skipped(sc))
            continue;
        outcomes none, dpor;
        long en = 0, ed = 0;
        if (!all_outcomes(sc, RL__REDUCTION_NONE, -1, &none, &en))
            continue;
        ck_assert_msg(all_outcomes(sc, RL__REDUCTION_DPOR, -1, &dpor, &ed),
                      "%s: dpor did not exhaust", sc->name);
        ck_assert_msg(none.n == dpor.n &&
                          memcmp(none.key, dpor.key,
                                 sizeof none.key[0] * (size_t)none.n) == 0,
                      "%s: %d outcomes without reduction, %d with dpor",
                      sc->name, none.n, dpor.n);
        with += ed;
        without += en;
        compared++;
    }
    fprintf(stderr,
            "compared %d scenarios: %ld executions with dpor, %ld "
            "without\n",
            compared, with, without);
    ck_assert_int_ge(compared, 12);
    ck_assert_int_lt(with, without);
}
END_TEST

/* Left out, the dependencies lose outcomes: the comparison sees it. The
 * dependency of shared accesses alone is covered by the unit tests of
 * check_dpor; here every rule goes (with only memory left out, the other
 * races still happen to reach both outcomes of this small scenario). */
START_TEST(a_dependency_left_out_loses_outcomes)
{
    const char *names[] = {"r.lost"};
    for (int k = 0; k < 1; k++) {
        const rl_scenario *sc = rl__scenario_find(names[k]);
        ck_assert_ptr_nonnull(sc);
        outcomes none, dpor;
        long en = 0, ed = 0;
        ck_assert_msg(all_outcomes(sc, RL__REDUCTION_NONE, 1, &none, &en),
                      "%s: %ld executions, %d outcomes", names[k], en, none.n);
        rl__dpor_test_drop = 2;
        all_outcomes(sc, RL__REDUCTION_DPOR, 1, &dpor, &ed);
        rl__dpor_test_drop = 0;
        ck_assert_msg(none.n > dpor.n, "%s: %d and %d outcomes", names[k],
                      none.n, dpor.n);
    }
}
END_TEST

static Suite *reduction_suite(void)
{
    Suite *s = suite_create("reduction");
    TCase *tc = rl_test_tcase("verdicts", 900);
    tcase_add_test(tc, reduction_keeps_every_outcome);
    tcase_add_test(tc, a_dependency_left_out_loses_outcomes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(reduction_suite());
}
