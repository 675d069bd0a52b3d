/* check_instrument.c: racelab's runtime for the compilers' ThreadSanitizer
 * instrumentation (lib/tsan.c). The counter scenarios of instrumented.c,
 * in plain C and built by each compiler installed, are explored like the
 * annotated ones of the catalogue: the same verdicts, the lost update
 * found as early, steps with the right address, size, op, value and
 * file:line; private accesses make no step, and outside an execution the
 * hooks change nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/harness.h"
#include "racelab.h"
#include "testutil.h"

/* Defined by the instrumented objects of the compilers there are. */
extern const int inst_increment_line_gcc __attribute__((weak));
extern const int inst_increment_line_clang __attribute__((weak));
extern const int inst_atomic_line_gcc __attribute__((weak));
extern const int inst_atomic_line_clang __attribute__((weak));
long inst_outside_gcc(long *p) __attribute__((weak));
long inst_outside_clang(long *p) __attribute__((weak));

typedef struct {
    const char *name;
    const int *line;        /* of the increment */
    const int *atomic_line; /* of the atomic fetch-add */
    long (*outside)(long *p);
} compiler;

static const compiler compilers[] = {
    {"gcc", &inst_increment_line_gcc, &inst_atomic_line_gcc, inst_outside_gcc},
    {"clang", &inst_increment_line_clang, &inst_atomic_line_clang,
     inst_outside_clang},
};
#define NCOMPILERS (int)(sizeof compilers / sizeof compilers[0])

static int built(int k)
{
    return compilers[k].line != NULL;
}

static rl__search_opts explore_opts(void)
{
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.mode = RL_MODE_EXPLORE;
    o.preemptions = 2;
    /* The failures themselves: several scenarios race by design, and a
     * race would end their search first (races: their own tests). */
    o.races = RL__RACES_OFF;
    return o;
}

static void search(const char *name, rl__search_opts *o, rl__search_result *r)
{
    rl_scenario *sc = rl__scenario_find(name);
    ck_assert_msg(sc != NULL, "no scenario %s", name);
    ck_assert_int_eq(rl__search(sc, o, r), 0);
}

static void inst_name(char *buf, size_t cap, int k, const char *variant)
{
    snprintf(buf, cap, "inst.%s.%s", compilers[k].name, variant);
}

static int is_mem(const rl__step *s)
{
    return s->op == RL_OP_LOAD || s->op == RL_OP_STORE ||
           s->op == RL_OP_FETCH_ADD;
}

/* Whether a search's outcome meets its scenario's expectation, by the
 * results model's one rule. */
static int as_expected(const rl__search_result *r)
{
    rl__result m;
    ck_assert_int_eq(rl__result_from_search(r, &m), 0);
    int ok = rl__result_as_expected(&m);
    rl__result_free(&m);
    return ok;
}

START_TEST(some_compiler_built_the_scenarios)
{
    int n = 0;
    for (int k = 0; k < NCOMPILERS; k++)
        n += built(k);
    ck_assert_msg(n > 0, "neither gcc nor clang built instrumented.c");
}
END_TEST

/* ---- verdicts, against the annotated counters ---- */

START_TEST(unlocked_loses_an_update_as_early_as_annotated)
{
    rl__search_opts o = explore_opts();
    rl__search_result ann;
    search("counter.unlocked", &o, &ann);
    ck_assert_int_eq(ann.verdict, RL_FAIL);
    for (int k = 0; k < NCOMPILERS; k++) {
        if (!built(k))
            continue;
        char name[64];
        inst_name(name, sizeof name, k, "counter.unlocked");
        rl__search_result r;
        search(name, &o, &r);
        ck_assert_msg(r.verdict == RL_FAIL, "%s: %s", name,
                      rl_verdict_name(r.verdict));
        ck_assert(as_expected(&r));
        /* Within a small factor of the annotated scenario. */
        ck_assert_msg(r.executions <= 3 * ann.executions + 2,
                      "%s: first failure after %ld executions, "
                      "annotated after %ld",
                      name, r.executions, ann.executions);
        ck_assert_ptr_nonnull(r.token);
        rl__search_result_free(&r);
    }
    rl__search_result_free(&ann);
}
END_TEST

/* ---- data races, against the annotated counters ---- */

START_TEST(instrumented_accesses_race_like_annotated_ones)
{
    for (int k = 0; k < NCOMPILERS; k++) {
        if (!built(k))
            continue;
        char name[64];
        rl__search_opts o = explore_opts();
        o.races = RL__RACES_FAIL;
        inst_name(name, sizeof name, k, "counter.unlocked");
        rl__search_result r;
        search(name, &o, &r);
        /* On the first execution, before an update is lost. */
        ck_assert_msg(r.verdict == RL_RACE, "%s: %s: %s", name,
                      rl_verdict_name(r.verdict), r.first.message);
        ck_assert_int_eq(r.executions, 1);
        ck_assert(as_expected(&r));
        ck_assert_int_ge(r.nraces, 1);
        /* The place of plain C code, resolved from its pc. */
        ck_assert_str_eq(r.races[0].first.file, "instrumented.c");
        ck_assert_str_eq(r.races[0].second.file, "instrumented.c");
        ck_assert_int_gt(r.races[0].first.line, 0);
        ck_assert_ptr_nonnull(strstr(r.first.message, "instrumented.c:"));
        /* Each access's stack: the instrumented function that made it,
         * then its caller; the hooks of racelab's runtime folded. */
        for (int a = 0; a < 2; a++) {
            const char *st = a ? r.races[0].second.stack
                               : r.races[0].first.stack;
            ck_assert_msg(strncmp(st, "#0 increment", 12) == 0 &&
                              strstr(st, "#1 add_unlocked"),
                          "%s: stack \"%s\"", name, st);
            ck_assert_ptr_null(strstr(st, "__tsan_"));
        }
        rl__search_result_free(&r);
        static const char *const clean[] = {"counter.locked",
                                            "counter.atomic"};
        for (int v = 0; v < 2; v++) {
            inst_name(name, sizeof name, k, clean[v]);
            search(name, &o, &r);
            ck_assert_msg(r.verdict == RL_PASS && r.nraces == 0,
                          "%s: %s: %s", name, rl_verdict_name(r.verdict),
                          r.first.message);
            rl__search_result_free(&r);
        }
    }
}
END_TEST

START_TEST(locked_and_atomic_pass_exhausted_like_annotated)
{
    static const char *const variants[] = {"counter.locked", "counter.atomic"};
    for (int v = 0; v < 2; v++) {
        rl__search_opts o = explore_opts();
        rl__search_result ann;
        search(variants[v], &o, &ann);
        ck_assert_int_eq(ann.verdict, RL_PASS);
        ck_assert_int_eq(ann.exhausted, 1);
        for (int k = 0; k < NCOMPILERS; k++) {
            if (!built(k))
                continue;
            char name[64];
            inst_name(name, sizeof name, k, variants[v]);
            rl__search_result r;
            search(name, &o, &r);
            ck_assert_msg(r.verdict == RL_PASS, "%s: %s: %s", name,
                          rl_verdict_name(r.verdict), r.first.message);
            ck_assert_int_eq(r.exhausted, 1);
            ck_assert(as_expected(&r));
            rl__search_result_free(&r);
        }
        rl__search_result_free(&ann);
    }
}
END_TEST

/* ---- what the steps record ---- */

START_TEST(steps_carry_address_size_op_value_and_line)
{
    for (int k = 0; k < NCOMPILERS; k++) {
        if (!built(k))
            continue;
        char name[64];
        inst_name(name, sizeof name, k, "counter.unlocked");
        rl__search_opts o = explore_opts();
        rl__search_result r;
        search(name, &o, &r);
        ck_assert_int_eq(r.verdict, RL_FAIL);
        int loads = 0, stores = 0;
        const void *obj = NULL;
        long last_load[RL__MAX_ACTORS];
        for (long i = 0; i < r.first.nsteps; i++) {
            const rl__step *s = &r.first.steps[i];
            if (!is_mem(s) || s->actor == 0)
                continue;
            ck_assert_msg(s->pc != 0, "%s step %ld has no pc", name, i);
            ck_assert_int_eq(s->shared, 1);
            ck_assert_int_eq(s->size, (int)sizeof(long));
            ck_assert_str_eq(s->file, "instrumented.c");
            ck_assert_int_eq(s->line, *compilers[k].line);
            if (!obj)
                obj = s->obj;
            ck_assert_ptr_eq(s->obj, obj);
            ck_assert_int_eq(s->has_value, 1);
            if (s->op == RL_OP_LOAD) {
                loads++;
                last_load[s->actor] = s->value;
            } else {
                ck_assert_int_eq(s->op, RL_OP_STORE);
                /* The value stored, read back after the store. */
                ck_assert_int_eq(s->value, last_load[s->actor] + 1);
                stores++;
            }
        }
        ck_assert_int_gt(loads, 0);
        ck_assert_int_gt(stores, 0);
        ck_assert_ptr_nonnull(obj);
        rl__search_result_free(&r);
    }
}
END_TEST

/* Every execution of a search, its steps symbolized. */
typedef struct {
    long executions;
    int (*check)(const rl__step *steps, long n, int k, char *why, size_t cap);
    int k;
    int failed;
    char why[256];
} observer;

static void observe(const rl__exec_result *e, void *ctx)
{
    observer *ob = ctx;
    ob->executions++;
    if (ob->failed)
        return;
    rl__step *copy = malloc(sizeof *copy * (size_t)(e->nsteps + 1));
    memcpy(copy, e->steps, sizeof *copy * (size_t)e->nsteps);
    rl__tsan_symbolize(copy, e->nsteps);
    if (!ob->check(copy, e->nsteps, ob->k, ob->why, sizeof ob->why))
        ob->failed = 1;
    free(copy);
}

static void observe_all(const char *variant, observer *ob)
{
    for (int k = 0; k < NCOMPILERS; k++) {
        if (!built(k))
            continue;
        char name[64];
        inst_name(name, sizeof name, k, variant);
        rl__search_opts o = explore_opts();
        o.observe = observe;
        o.observe_ctx = ob;
        ob->k = k;
        ob->executions = 0;
        rl__search_result r;
        search(name, &o, &r);
        ck_assert_msg(r.verdict == RL_PASS, "%s: %s: %s", name,
                      rl_verdict_name(r.verdict), r.first.message);
        ck_assert_int_gt(ob->executions, 0);
        ck_assert_msg(!ob->failed, "%s: %s", name, ob->why);
        rl__search_result_free(&r);
    }
}

static int atomic_steps(const rl__step *st, long n, int k, char *why,
                        size_t cap)
{
    int rmw = 0;
    for (long i = 0; i < n; i++) {
        const rl__step *s = &st[i];
        if (!is_mem(s) || s->actor == 0)
            continue;
        if (s->op != RL_OP_FETCH_ADD || s->size != 8 ||
            strcmp(s->label, "atomic fetch_add") != 0 ||
            s->line != *compilers[k].atomic_line) {
            snprintf(why, cap, "step %ld: %s %d bytes '%s' at %s:%d", i,
                     rl__op_name((rl__op)s->op), s->size, s->label, s->file,
                     s->line);
            return 0;
        }
        rmw++;
    }
    if (rmw != 4) {
        snprintf(why, cap, "%d atomic steps, not 4", rmw);
        return 0;
    }
    return 1;
}

START_TEST(an_atomic_is_one_atomic_step)
{
    observer ob = {.check = atomic_steps};
    observe_all("counter.atomic", &ob);
}
END_TEST

static int private_steps(const rl__step *st, long n, int k, char *why,
                         size_t cap)
{
    (void)k;
    int loads = 0, stores = 0;
    for (long i = 0; i < n; i++) {
        const rl__step *s = &st[i];
        if (!is_mem(s))
            continue;
        if (!s->shared || !s->pc) {
            snprintf(why, cap, "step %ld: a private access at %s:%d", i,
                     s->file, s->line);
            return 0;
        }
        loads += s->op == RL_OP_LOAD;
        stores += s->op == RL_OP_STORE;
    }
    /* A store of each child, the check's load in the root. */
    if (stores != 2 || loads != 1) {
        snprintf(why, cap, "%d stores and %d loads, not 2 and 1", stores,
                 loads);
        return 0;
    }
    return 1;
}

START_TEST(a_private_access_makes_no_step)
{
    observer ob = {.check = private_steps};
    observe_all("private", &ob);
}
END_TEST

static int range_steps(const rl__step *st, long n, int k, char *why, size_t cap)
{
    int memset16 = 0, copy_in = 0, copy_out = 0, block = 0;
    for (long i = 0; i < n; i++) {
        const rl__step *s = &st[i];
        if (!is_mem(s))
            continue;
        if (strcmp(s->label, "memset") == 0 && s->op == RL_OP_STORE &&
            s->size == 16)
            memset16++;
        else if (strcmp(s->label, "memcpy") == 0 && s->op == RL_OP_LOAD &&
                 s->size == 8)
            copy_in++;
        else if (strcmp(s->label, "memcpy") == 0 && s->op == RL_OP_STORE &&
                 s->size == 8)
            copy_out++;
        else if (s->op == RL_OP_STORE)
            block++;
    }
    if (memset16 != 1 || copy_in != 1 || copy_out != 1) {
        snprintf(why, cap, "memset %d, memcpy in %d, out %d: not 1 each",
                 memset16, copy_in, copy_out);
        return 0;
    }
    /* gcc reports the struct copy as one range; clang 14 calls the C
     * library's memcpy for it, which racelab's runtime interposes. */
    (void)k;
    if (block != 1) {
        snprintf(why, cap, "%d steps for the struct copy, not 1", block);
        return 0;
    }
    return 1;
}

START_TEST(copies_into_shared_memory_are_one_step_each)
{
    observer ob = {.check = range_steps};
    observe_all("ranges", &ob);
}
END_TEST

/* The C library's memcpy, called by instrumented code: a range access
 * that races with another actor's unless a lock orders them. */
START_TEST(a_memcpy_into_shared_memory_races_unless_ordered)
{
    for (int k = 0; k < NCOMPILERS; k++) {
        if (!built(k))
            continue;
        char name[64];
        rl__search_opts o = explore_opts();
        o.races = RL__RACES_FAIL;
        inst_name(name, sizeof name, k, "memcpy.unlocked");
        rl__search_result r;
        search(name, &o, &r);
        ck_assert_msg(r.verdict == RL_RACE, "%s: %s: %s", name,
                      rl_verdict_name(r.verdict), r.first.message);
        ck_assert_int_ge(r.nraces, 1);
        const rl__race *x = &r.races[0];
        ck_assert_str_eq(x->first.label, "memcpy");
        ck_assert_str_eq(x->second.label, "memcpy");
        ck_assert(x->first.write && x->second.write);
        ck_assert_int_eq(x->first.size, 48);
        ck_assert_int_eq(x->second.size, 48);
        ck_assert_int_eq(x->first.addr, x->second.addr);
        ck_assert_str_eq(x->first.file, "instrumented.c");
        /* The stack starts at the code that called memcpy: racelab's
         * memcpy is one of its own frames, folded. */
        ck_assert_msg(strncmp(x->first.stack, "#0 copy_", 8) == 0 &&
                          strncmp(x->second.stack, "#0 copy_", 8) == 0,
                      "%s: stacks \"%s\" and \"%s\"", name, x->first.stack,
                      x->second.stack);
        rl__search_result_free(&r);
        inst_name(name, sizeof name, k, "memcpy.locked");
        search(name, &o, &r);
        ck_assert_msg(r.verdict == RL_PASS && r.nraces == 0, "%s: %s: %s",
                      name, rl_verdict_name(r.verdict), r.first.message);
        ck_assert_int_eq(r.exhausted, 1);
        rl__search_result_free(&r);
    }
}
END_TEST

/* A MAP_SHARED mapping the scenario made itself is watched like the
 * arena: its accesses are steps, so the lost update is found and races
 * are reported; under a lock, neither. */
START_TEST(a_shared_mapping_of_its_own_is_watched_like_the_arena)
{
    for (int k = 0; k < NCOMPILERS; k++) {
        if (!built(k))
            continue;
        char name[64];
        inst_name(name, sizeof name, k, "mmap.unlocked");
        rl__search_opts o = explore_opts();
        rl__search_result r;
        search(name, &o, &r);
        ck_assert_msg(r.verdict == RL_FAIL, "%s: %s: %s", name,
                      rl_verdict_name(r.verdict), r.first.message);
        rl__search_result_free(&r);
        o.races = RL__RACES_FAIL;
        search(name, &o, &r);
        ck_assert_msg(r.verdict == RL_RACE, "%s: %s: %s", name,
                      rl_verdict_name(r.verdict), r.first.message);
        ck_assert_int_eq(r.executions, 1);
        ck_assert_int_eq(r.races[0].first.size, 8);
        ck_assert_str_eq(r.races[0].first.file, "instrumented.c");
        rl__search_result_free(&r);
        inst_name(name, sizeof name, k, "mmap.locked");
        search(name, &o, &r);
        ck_assert_msg(r.verdict == RL_PASS && r.nraces == 0, "%s: %s: %s",
                      name, rl_verdict_name(r.verdict), r.first.message);
        ck_assert_int_eq(r.exhausted, 1);
        rl__search_result_free(&r);
    }
}
END_TEST

/* ---- outside an execution ---- */

START_TEST(outside_an_execution_the_hooks_change_nothing)
{
    for (int k = 0; k < NCOMPILERS; k++) {
        if (!built(k))
            continue;
        /* In this process's own arena, and in private memory. */
        long *shared = rl_shared_alloc(64 + sizeof(long) * 2);
        ck_assert_ptr_nonnull(shared);
        ck_assert_int_eq(compilers[k].outside(shared), 10);
        ck_assert_int_eq(shared[2] & 0xff, 1);
        long priv[16] = {0};
        ck_assert_int_eq(compilers[k].outside(priv), 10);
        rl_shared_free(shared);
        /* And once executions ran: the hooks are off again. */
        rl__search_opts o = explore_opts();
        rl__search_result r;
        char name[64];
        inst_name(name, sizeof name, k, "counter.atomic");
        search(name, &o, &r);
        ck_assert_int_eq(r.verdict, RL_PASS);
        rl__search_result_free(&r);
        long after[16] = {0};
        ck_assert_int_eq(compilers[k].outside(after), 10);
        long *again = rl_shared_alloc(64 + sizeof(long) * 2);
        ck_assert_int_eq(compilers[k].outside(again), 10);
        rl_shared_free(again);
    }
}
END_TEST

static Suite *instrument_suite(void)
{
    Suite *s = suite_create("instrument");
    TCase *tc = rl_test_tcase("verdicts", 240);
    tcase_add_test(tc, some_compiler_built_the_scenarios);
    tcase_add_test(tc, unlocked_loses_an_update_as_early_as_annotated);
    tcase_add_test(tc, locked_and_atomic_pass_exhausted_like_annotated);
    tcase_add_test(tc, instrumented_accesses_race_like_annotated_ones);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("steps", 240);
    tcase_add_test(tc, steps_carry_address_size_op_value_and_line);
    tcase_add_test(tc, an_atomic_is_one_atomic_step);
    tcase_add_test(tc, a_private_access_makes_no_step);
    tcase_add_test(tc, copies_into_shared_memory_are_one_step_each);
    tcase_add_test(tc, a_memcpy_into_shared_memory_races_unless_ordered);
    tcase_add_test(tc, a_shared_mapping_of_its_own_is_watched_like_the_arena);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("outside", 120);
    tcase_add_test(tc, outside_an_execution_the_hooks_change_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(instrument_suite());
}
