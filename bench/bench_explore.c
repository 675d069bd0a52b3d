/* bench_explore.c: how much the explorer's partial-order reduction and
 * its cheapest-first order save, counted in executions (deterministic:
 * the same binary gives the same counts on any machine).
 *
 *   dpor_writers_N   executions to exhaust N processes that each store 5
 *                    values into a shared slot of their own (N = 2, 3, 4):
 *                    they have one behaviour, target 1; the note gives the
 *                    count without reduction and the factor
 *   dpor_counter_locked  executions to exhaust counter.locked without a
 *                    bound, against the 6 orders of its 4 critical sections
 *                    (target: at most twice that)
 *   first_failure_counter_unlocked  executions until the lost update of
 *                    counter.unlocked is found (target: at most 5)
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../harness/harness.h"
#include "../scenarios/counter.c" /* counter.unlocked, counter.locked */
#include "bench.h"
#include "racelab.h"

#define STORES 5

static int writers;

static int write_own_slot(void *arg)
{
    long *slot = arg;
    for (long k = 1; k <= STORES; k++)
        RL_STORE(*slot, k);
    return 0;
}

RL_SCENARIO(bench_writers, "bench.writers",
            .summary = "processes that each write a slot of their own")
{
    long *slots = rl_shared_alloc(sizeof *slots * (size_t)writers);
    rl_process *p[8];
    for (int i = 0; i < writers; i++)
        rl_check(rl_process_start(&p[i], write_own_slot, &slots[i], NULL) == 0,
                 "start: %s", rl_last_error());
    for (int i = 0; i < writers; i++) {
        rl_process_join(p[i], -1);
        rl_process_free(p[i]);
    }
    for (int i = 0; i < writers; i++)
        rl_check_eq(slots[i], STORES, "slot");
}

/* Executions of explore over name with that reduction and bound, at most
 * limit of them; *exhausted says whether the space was done. */
static long explore_count(const char *name, rl_reduction red, int bound,
                          long limit, int *exhausted, int *verdict)
{
    /* Races off: what is counted is the interleavings, and the failure
     * wanted is the lost update, not the race that shows before it. */
    rl_search_opts o = {.mode = RL_EXPLORE,
                        .preemptions = bound,
                        .runs = limit,
                        .reduction = red,
                        .races = RL_RACES_OFF};
    rl_outcome out;
    if (rl_search(name, &o, &out) < 0) {
        fprintf(stderr, "bench_explore: %s: %s\n", name, rl_last_error());
        return -1;
    }
    long n = out.executions;
    if (exhausted)
        *exhausted = out.exhausted;
    if (verdict)
        *verdict = out.verdict;
    rl_outcome_free(&out);
    return n;
}

static int bench_writers_n(int n, int smoke)
{
    writers = n;
    char name[32];
    snprintf(name, sizeof name, "dpor_writers_%d", n);
    int ex_d = 0, ex_n = 0;
    long d =
        explore_count("bench.writers", RL_REDUCTION_DPOR, 0, 0, &ex_d, NULL);
    long limit = smoke ? 50 : 5000;
    long none = explore_count("bench.writers", RL_REDUCTION_NONE, 0, limit,
                              &ex_n, NULL);
    if (d < 0 || none < 0)
        return -1;
    char note[240];
    snprintf(note, sizeof note,
             "bound 2: %ld executions with dpor%s, %s%ld without reduction"
             "%s; reduction factor %s%.0f",
             d, ex_d ? " (exhausted)" : " (not exhausted)",
             ex_n ? "" : "more than ", none,
             ex_n ? " (exhausted)" : " (stopped at the limit)",
             ex_n ? "" : "at least ", (double)none / (double)(d ? d : 1));
    bench_metric(name, (double)d, "executions", "reduction none", (double)none,
                 (double)d, "<= 1", note);
    return 0;
}

static int bench_counter_locked(void)
{
    int ex = 0;
    long d = explore_count("counter.locked", RL_REDUCTION_DPOR, RL_UNBOUNDED, 0,
                           &ex, NULL);
    int exn = 0;
    long none = explore_count("counter.locked", RL_REDUCTION_NONE, RL_UNBOUNDED,
                              5000, &exn, NULL);
    if (d < 0 || none < 0)
        return -1;
    /* Two processes with two critical sections each: C(4, 2) orders. */
    const double orders = 6;
    char note[200];
    snprintf(note, sizeof note,
             "unbounded: %ld executions with dpor%s, %ld without "
             "reduction%s; the ratio is to the %.0f orders of the critical "
             "sections",
             d, ex ? " (exhausted)" : "", none, exn ? " (exhausted)" : "",
             orders);
    bench_metric("dpor_counter_locked", (double)d, "executions",
                 "orders of the critical sections", orders, (double)d / orders,
                 "<= 2", note);
    return 0;
}

static int bench_first_failure(void)
{
    int v = 0;
    long d =
        explore_count("counter.unlocked", RL_REDUCTION_DPOR, 0, 0, NULL, &v);
    int vn = 0;
    long none =
        explore_count("counter.unlocked", RL_REDUCTION_NONE, 0, 0, NULL, &vn);
    if (d < 0 || none < 0 || v != RL_FAIL || vn != RL_FAIL) {
        fprintf(stderr, "bench_explore: the lost update was not found\n");
        return -1;
    }
    char note[160];
    snprintf(note, sizeof note,
             "default explore (bound 2, dpor); %ld without reduction", none);
    bench_metric("first_failure_counter_unlocked", (double)d, "executions",
                 "reduction none", (double)none, (double)d, "<= 5", note);
    return 0;
}

int main(int argc, char **argv)
{
    int smoke = bench_smoke(argc, argv);
    int bad = 0;
    for (int n = 2; n <= 4; n++) {
        char name[32];
        snprintf(name, sizeof name, "dpor_writers_%d", n);
        if (bench_wanted(argc, argv, name))
            bad |= bench_writers_n(n, smoke) < 0;
    }
    if (!smoke && bench_wanted(argc, argv, "dpor_counter_locked"))
        bad |= bench_counter_locked() < 0;
    if (bench_wanted(argc, argv, "first_failure_counter_unlocked"))
        bad |= bench_first_failure() < 0;
    return bad;
}
