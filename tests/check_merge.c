/* check_merge.c: results files read back (JSON parser, schema checks) and
 * shards merged. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/mix.h"
#include "../reports/report.h"
#include "racelab.h"
#include "testutil.h"

/* ---- helpers ---- */

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rl-merge-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* The path of a file under tests/data (next to this source file). */
static const char *data_path(const char *name)
{
    static char buf[PATH_MAX];
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    int dir = slash ? (int)(slash - src) : 1;
    snprintf(buf, sizeof buf, "%.*s/data/%s", dir, slash ? src : ".", name);
    return buf;
}

/* Writes len bytes to a file in the temporary directory; returns its path
 * (static buffer). */
static const char *write_tmp(const char *name, const char *s, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "we");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(s, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* The report as JSON in a malloc'd string. */
static char *to_json(const rl__report *rep, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(rl__report_json(f, rep), 0);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    ck_assert_ptr_nonnull(f);
    char *buf = malloc(1 << 20);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

static const rl__result *find(const rl__loaded *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->results[i].name, name) == 0)
            return &l->results[i];
    return NULL;
}

/* ---- a hand-built model ---- */

/* The scenario's description copied into a result (as the conversion
 * does, without copying the strings). */
static void describe(rl__result *r, const rl_scenario *sc)
{
    r->name = (char *)sc->name;
    r->summary = (char *)sc->summary;
    r->expect = sc->expect;
    r->expect_verdict = sc->expect_verdict;
}

static rl_scenario sc_fail = {
    .name = "demo.fail",
    .summary = "quotes \" backslash \\ newline \n tab \t ctl \x01 del \x7f "
               "utf-8 \xc3\xa9 \xf0\x9f\x98\x80",
    .expect = RL_EXPECT_BUG,
    .expect_verdict = RL_DEADLOCK,
};
static rl_scenario sc_stress = {
    .name = "demo.stress", .summary = "stress", .expect = RL_EXPECT_BUG};
static rl_scenario sc_clean = {.name = "demo.clean", .summary = NULL};

static rl__result_step steps[5];
static rl__result_actor actors[4];

/* Fills res[3] with a model that uses every part of the format. */
static rl__result_race races[2];

/* A data race of the model, between steps first and second. */
static rl__result_race race(long first, long second, int in_failure)
{
    rl__result_race x;
    memset(&x, 0, sizeof x);
    x.in_failure = in_failure;
    x.first = (rl__result_access){.actor = 1,
                                  .pid = 1001,
                                  .write = 1,
                                  .at = 0x7f12346008,
                                  .size = 8,
                                  .label = "x->n",
                                  .file = "demo.c",
                                  .line = 11,
                                  .step = first};
    x.second = (rl__result_access){.actor = 2,
                                   .pid = 1002,
                                   .atomic = 1,
                                   .at = 0x7f1234600c,
                                   .size = 4,
                                   .label = "atomic load",
                                   .step = second};
    return x;
}

static void build_model(rl__result *res, rl__report *rep)
{
    memset(res, 0, 3 * sizeof *res);
    memset(steps, 0, sizeof steps);
    memset(actors, 0, sizeof actors);
    steps[0] = (rl__result_step){.actor = 0,
                                 .pid = 1000,
                                 .op = "start",
                                 .at = 0x7f12345000,
                                 .label = "start",
                                 .file = "scenarios/demo.c",
                                 .line = 10};
    steps[1] = (rl__result_step){.actor = 1,
                                 .pid = 1001,
                                 .op = "load",
                                 .at = 0x7f12346008,
                                 .shared = 1,
                                 .has_value = 1,
                                 .value = -42,
                                 .label = "x->n",
                                 .file = "scenarios/demo.c",
                                 .line = 11};
    steps[2] = (rl__result_step){.actor = 2,
                                 .pid = 1002,
                                 .op = "store",
                                 .at = 0x10,
                                 .shared = 0,
                                 .has_value = 1,
                                 .value = LONG_MAX,
                                 .label = "priv \"q\"",
                                 .line = 12};
    steps[3] = (rl__result_step){.actor = 3,
                                 .pid = 1003,
                                 .op = "fetch_add",
                                 .at = 0,
                                 .has_value = 1,
                                 .value = LONG_MIN,
                                 .label = "",
                                 .line = 0};
    steps[4] = (rl__result_step){
        .actor = 1, .pid = 1001, .op = "exit", .label = "exit", .line = -1};
    /* Whether each is an access and a write, from its op. */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(rl__result_step_op(&steps[i], steps[i].op), 0);
    actors[0] =
        (rl__result_actor){.pid = 1000,
                           .started_by = RL__STARTED_ROOT,
                           .state = RL__STATE_BLOCKED,
                           .wait_reason = "join of pid 1001 \xe2\x80\x94 wait",
                           .name = "main",
                           .stack = "#0 body+0x1f (demo.c:12)\n"
                                    "#1 \"q\" \xc3\xa9\n"
                                    "(3 racelab frames folded)"};
    actors[1] = (rl__result_actor){.pid = 1001,
                                   .started_by = RL__STARTED_SPAWN,
                                   .state = RL__STATE_FINISHED,
                                   .exit_code = -11,
                                   .name = "w1"};
    actors[2] = (rl__result_actor){.pid = 1002,
                                   .started_by = RL__STARTED_FORKSERVER,
                                   .state = RL__STATE_RUNNABLE,
                                   .name = "w2"};
    actors[3] = (rl__result_actor){.pid = 1003,
                                   .started_by = RL__STARTED_FORK,
                                   .state = RL__STATE_UNUSED,
                                   .name = ""};
    rl__result *r = &res[0];
    describe(r, &sc_fail);
    r->mode = RL_MODE_EXPLORE;
    r->verdict = RL_DEADLOCK;
    r->executions = 17;
    r->failures = 1;
    r->first_failure_run = 17;
    r->duration = 0.125;
    snprintf(r->failure.message, sizeof r->failure.message,
             "deadlock: main waits \"forever\"\n\tand w2\x02.");
    r->failure.steps = steps;
    r->failure.nsteps = 5;
    r->failure.actors = actors;
    r->failure.nactors = 4;
    r->failure.token = (char *)"demo.fail@0x3.1x4";
    r->failure.minimized_token = (char *)"demo.fail@0x1";
    races[0] = race(1, 2, 1);
    r->races = &races[0];
    r->nraces = 1;
    r->schedule_points = 9;
    r->labels_reached = 4;
    r->pairs_interleaved = 3;

    r = &res[1];
    describe(r, &sc_stress);
    r->mode = RL_MODE_STRESS;
    r->verdict = RL_CRASH;
    r->executions = 1000;
    r->failures = 3;
    r->first_failure_run = 250;
    r->duration = 12.5;
    snprintf(r->failure.message, sizeof r->failure.message, "SIGSEGV");
    r->nvalues = 3;
    r->values[0] = 2;
    r->counts[0] = 990;
    r->values[1] = 1;
    r->counts[1] = 7;
    r->values[2] = -5;
    r->counts[2] = 3;

    r = &res[2];
    describe(r, &sc_clean);
    r->mode = RL_MODE_EXPLORE;
    r->verdict = RL_PASS;
    r->exhausted = 1;
    r->executions = 20;
    r->duration = 0.5;
    r->schedule_points = 6;
    /* --races report: a race of a passing execution. */
    races[1] = race(7, 9, 0);
    r->races = &races[1];
    r->nraces = 1;

    rep->results = res;
    rep->n = 3;
    rep->seed = UINT64_MAX;
    rep->started_at = "2026-11-22T00:00:00Z";
    rep->command_line = "racelab run 'demo.*' --json \"out.json\"";
}

/* ---- round trip ---- */

START_TEST(round_trip_gives_the_same_bytes)
{
    rl__result res[3];
    rl__report rep;
    build_model(res, &rep);
    size_t len1, len2;
    char *a = to_json(&rep, &len1);
    const char *path = write_tmp("a.json", a, len1);
    rl__loaded l;
    int err = rl__results_read(path, &l);
    ck_assert_msg(err == 0, "read: %s", rl_last_error());
    ck_assert_int_eq(l.n, 3);
    ck_assert_uint_eq(l.seed, UINT64_MAX);
    ck_assert_str_eq(l.started_at, "2026-11-22T00:00:00Z");
    ck_assert_str_eq(l.command_line, rep.command_line);
    const rl__result *r = &l.results[0];
    ck_assert_str_eq(r->summary, sc_fail.summary);
    ck_assert_int_eq(r->expect, RL_EXPECT_BUG);
    ck_assert_int_eq(r->expect_verdict, RL_DEADLOCK);
    ck_assert_int_eq(r->verdict, RL_DEADLOCK);
    ck_assert_int_eq(r->failure.nsteps, 5);
    ck_assert_str_eq(r->failure.steps[1].op, "load");
    ck_assert_uint_eq(r->failure.steps[1].at, 0x7f12346008);
    ck_assert_int_eq(r->failure.steps[1].shared, 1);
    ck_assert_int_eq(r->failure.steps[2].value, LONG_MAX);
    ck_assert_int_eq(r->failure.steps[3].value, LONG_MIN);
    ck_assert_int_eq(r->failure.steps[4].has_value, 0);
    ck_assert_int_eq(r->failure.nactors, 4);
    ck_assert_int_eq(r->failure.actors[1].started_by, RL__STARTED_SPAWN);
    ck_assert_int_eq(r->failure.actors[1].exit_code, -11);
    ck_assert_str_eq(r->failure.actors[0].wait_reason, actors[0].wait_reason);
    ck_assert_str_eq(r->failure.actors[0].stack, actors[0].stack);
    ck_assert_str_eq(r->failure.actors[1].stack, "");
    ck_assert_str_eq(r->failure.message, res[0].failure.message);
    ck_assert_str_eq(r->failure.token, "demo.fail@0x3.1x4");
    r = &l.results[1];
    ck_assert_int_eq(r->mode, RL_MODE_STRESS);
    ck_assert_int_eq(r->nvalues, 3);
    ck_assert_int_eq(r->values[2], -5);
    ck_assert_int_eq(r->counts[0], 990);
    ck_assert_ptr_null(r->failure.token);
    ck_assert_int_eq(l.results[2].exhausted, 1);
    /* Both accesses of each race. */
    r = &l.results[0];
    ck_assert_int_eq(r->nraces, 1);
    ck_assert_int_eq(r->races[0].in_failure, 1);
    ck_assert_int_eq(r->races[0].first.write, 1);
    ck_assert_int_eq(r->races[0].first.step, 1);
    ck_assert_str_eq(r->races[0].first.file, "demo.c");
    ck_assert_int_eq(r->races[0].second.atomic, 1);
    ck_assert_uint_eq(r->races[0].second.at, 0x7f1234600c);
    ck_assert_str_eq(r->races[0].second.file, "");
    ck_assert_int_eq(l.results[1].nraces, 0);
    ck_assert_int_eq(l.results[2].nraces, 1);
    ck_assert_int_eq(l.results[2].races[0].in_failure, 0);
    ck_assert_int_eq(l.results[2].races[0].second.step, 9);

    rl__report rep2 = rl__loaded_report(&l);
    char *b = to_json(&rep2, &len2);
    ck_assert_uint_eq(len1, len2);
    ck_assert_msg(memcmp(a, b, len1) == 0, "differs:\n%s\n----\n%s", a, b);
    free(a);
    free(b);
    rl__loaded_free(&l);
    ck_assert_ptr_null(l.results);
    rl__loaded_free(&l);
}
END_TEST

START_TEST(escapes_decode_to_utf8)
{
    const char *doc =
        "{\"schema\": \"racelab-results/1\", \"seed\": 0, \"started_at\": "
        "\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\", \"command_line\": "
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u001F\", \"scenarios\": []}";
    rl__loaded l;
    int err = rl__results_read(write_tmp("e.json", doc, strlen(doc)), &l);
    ck_assert_msg(err == 0, "%s", rl_last_error());
    ck_assert_str_eq(l.started_at, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ck_assert_str_eq(l.command_line, "\"\\/\b\f\n\r\t\x1f");
    ck_assert_int_eq(l.n, 0);
    rl__loaded_free(&l);
}
END_TEST

START_TEST(shard_files_read)
{
    rl__loaded l;
    int err = rl__results_read(data_path("results-shard2.json"), &l);
    ck_assert_msg(err == 0, "%s", rl_last_error());
    ck_assert_int_eq(l.n, 4);
    ck_assert_uint_eq(l.seed, 43);
    ck_assert_str_eq(l.path, data_path("results-shard2.json"));
    const rl__result *r = &l.results[1];
    ck_assert_str_eq(r->name, "counter.unlocked");
    ck_assert_int_eq(r->mode, RL_MODE_RANDOM);
    ck_assert_int_eq(r->failure.nsteps, 3);
    ck_assert_str_eq(r->failure.steps[0].op, "store");
    ck_assert_str_eq(r->failure.steps[1].op, "yield");
    ck_assert_uint_eq(r->failure.steps[1].at, 0);
    ck_assert_str_eq(r->failure.steps[1].file, "");
    ck_assert_uint_eq(r->failure.steps[2].at, 0x7f0000003000);
    ck_assert_int_eq(r->failure.actors[0].state, RL__STATE_BLOCKED);
    ck_assert_str_eq(r->failure.actors[0].wait_reason, "join of pid 201");
    ck_assert_int_eq(r->failure.actors[2].started_by, RL__STARTED_FORKSERVER);
    ck_assert_int_eq(r->failure.actors[2].exit_code, -9);
    ck_assert_str_eq(r->failure.minimized_token, "counter.unlocked@0x1");
    ck_assert_int_eq(r->seed, 43);
    rl__loaded_free(&l);
}
END_TEST

/* ---- merge ---- */

START_TEST(merge_two_shards)
{
    rl__loaded f[2], m;
    ck_assert_int_eq(rl__results_read(data_path("results-shard1.json"), &f[0]),
                     0);
    ck_assert_int_eq(rl__results_read(data_path("results-shard2.json"), &f[1]),
                     0);
    int err = rl__results_merge(f, 2, &m);
    ck_assert_msg(err == 0, "%s", rl_last_error());
    ck_assert_int_eq(m.n, 4);
    ck_assert_str_eq(m.results[0].name, "atomic.clean");
    ck_assert_str_eq(m.results[1].name, "counter.locked");
    ck_assert_str_eq(m.results[2].name, "counter.unlocked");
    ck_assert_str_eq(m.results[3].name, "queue.stress");

    const rl__result *r = find(&m, "atomic.clean");
    ck_assert_int_eq(r->executions, 24);
    ck_assert_int_eq(r->exhausted, 1);

    r = find(&m, "counter.locked");
    ck_assert_int_eq(r->executions, 150);
    ck_assert_int_eq(r->verdict, RL_PASS);
    ck_assert_int_eq(rl__result_as_expected(r), 1);
    ck_assert_int_eq(r->exhausted, 0);
    ck_assert_double_eq_tol(r->duration, 3.0, 1e-9);
    ck_assert_int_eq(r->schedule_points, 9);

    /* The second shard failed sooner (3 runs against 7). */
    r = find(&m, "counter.unlocked");
    ck_assert_int_eq(r->executions, 200);
    ck_assert_int_eq(r->failures, 30);
    ck_assert_int_eq(r->verdict, RL_FAIL);
    ck_assert_int_eq(r->first_failure_run, 3);
    ck_assert_str_eq(r->failure.token, "counter.unlocked@0x2.1x1");
    ck_assert_str_eq(r->failure.minimized_token, "counter.unlocked@0x1");
    ck_assert_str_eq(r->failure.message, "counter is 0, expected 2");
    ck_assert_int_eq(r->failure.nsteps, 3);
    ck_assert_int_eq(r->failure.nactors, 3);
    ck_assert_int_eq(rl__result_as_expected(r), 1);
    ck_assert_int_eq(r->schedule_points, 12);
    ck_assert_int_eq(r->labels_reached, 3);
    ck_assert_int_eq(r->pairs_interleaved, 5);
    ck_assert_uint_eq(r->seed, 42);

    /* The first shard failed sooner (4 runs against 9). */
    r = find(&m, "queue.stress");
    ck_assert_int_eq(r->executions, 200);
    ck_assert_int_eq(r->failures, 16);
    ck_assert_int_eq(r->first_failure_run, 4);
    ck_assert_str_eq(r->failure.message, "items is 1, expected 2");
    ck_assert_int_eq(r->nvalues, 3);
    long sum = 0;
    for (int i = 0; i < r->nvalues; i++) {
        sum += r->counts[i];
        if (r->values[i] == 2)
            ck_assert_int_eq(r->counts[i], 184);
        if (r->values[i] == 1)
            ck_assert_int_eq(r->counts[i], 15);
        if (r->values[i] == 0)
            ck_assert_int_eq(r->counts[i], 1);
    }
    ck_assert_int_eq(sum, 200);

    ck_assert_uint_eq(m.seed, 42);
    ck_assert_ptr_nonnull(m.note);
    ck_assert_ptr_nonnull(strstr(m.note, "different seeds"));
    ck_assert_ptr_nonnull(strstr(m.note, "43"));
    ck_assert_str_eq(m.started_at, "2026-01-02T09:59:00Z");
    ck_assert_ptr_nonnull(strstr(m.command_line, "--shard 1/2"));

    /* The merged model is independent of its parts and writes out as
     * results that read back. */
    rl__loaded_free(&f[0]);
    rl__loaded_free(&f[1]);
    size_t len;
    rl__report rep = rl__loaded_report(&m);
    char *json = to_json(&rep, &len);
    rl__loaded back;
    ck_assert_int_eq(rl__results_read(write_tmp("m.json", json, len), &back),
                     0);
    ck_assert_int_eq(back.n, 4);
    ck_assert_int_eq(find(&back, "queue.stress")->failures, 16);
    free(json);
    rl__loaded_free(&back);
    rl__loaded_free(&m);
}
END_TEST

START_TEST(merge_keeps_the_races_of_the_failing_part)
{
    rl__result res[3];
    rl__report rep;
    build_model(res, &rep);
    size_t len;
    char *a = to_json(&rep, &len);
    rl__loaded f[2], m;
    ck_assert_int_eq(rl__results_read(write_tmp("ra.json", a, len), &f[0]), 0);
    free(a);
    /* The second part found no race in the passing scenario, and its
     * failure (the same run) none either. */
    res[0].nraces = 0;
    res[2].nraces = 0;
    a = to_json(&rep, &len);
    ck_assert_int_eq(rl__results_read(write_tmp("rb.json", a, len), &f[1]), 0);
    free(a);
    int err = rl__results_merge(f, 2, &m);
    ck_assert_msg(err == 0, "%s", rl_last_error());
    const rl__result *r = find(&m, res[0].name);
    ck_assert_int_eq(r->nraces, 1);
    ck_assert_int_eq(r->races[0].in_failure, 1);
    r = find(&m, res[2].name);
    ck_assert_int_eq(r->nraces, 1);
    ck_assert_int_eq(r->races[0].second.step, 9);
    rl__loaded_free(&f[0]);
    rl__loaded_free(&f[1]);
    rl__loaded_free(&m);
}
END_TEST

START_TEST(merge_same_seed_has_no_note_and_one_file_is_itself)
{
    rl__loaded f, m;
    ck_assert_int_eq(rl__results_read(data_path("results-shard1.json"), &f), 0);
    ck_assert_int_eq(rl__results_merge(&f, 1, &m), 0);
    ck_assert_ptr_null(m.note);
    ck_assert_int_eq(m.n, 3);
    const rl__result *r = find(&m, "counter.unlocked");
    ck_assert_int_eq(r->executions, 100);
    ck_assert_int_eq(r->first_failure_run, 7);
    ck_assert_int_eq(r->failure.nsteps, 2);
    rl__loaded_free(&m);
    rl__loaded twice[2] = {f, f};
    ck_assert_int_eq(rl__results_merge(twice, 2, &m), 0);
    ck_assert_ptr_null(m.note);
    ck_assert_int_eq(find(&m, "queue.stress")->executions, 200);
    rl__loaded_free(&m);
    rl__loaded_free(&f);
}
END_TEST

/* Parts built in memory; the merge does not change or free them. */
START_TEST(merge_ties_exhaustion_and_expectation)
{
    rl_scenario sc = {.name = "x.y",
                      .summary = "s",
                      .expect = RL_EXPECT_BUG,
                      .expect_verdict = RL_DEADLOCK};
    rl__result a = {.mode = RL_MODE_EXPLORE,
                    .verdict = RL_FAIL,
                    .executions = 5,
                    .failures = 1,
                    .first_failure_run = 5,
                    .exhausted = 1,
                    .failure = {.token = (char *)"x.y@0x1"}};
    rl__result b = {.mode = RL_MODE_EXPLORE,
                    .verdict = RL_DEADLOCK,
                    .executions = 8,
                    .failures = 2,
                    .first_failure_run = 5,
                    .exhausted = 1,
                    .failure = {.token = (char *)"x.y@0x2"}};
    rl__result c = {.mode = RL_MODE_EXPLORE,
                    .verdict = RL_PASS,
                    .executions = 3,
                    .exhausted = 0};
    describe(&a, &sc);
    describe(&b, &sc);
    describe(&c, &sc);
    b.classes[RL__RUN_SIGNAL] = 2;
    a.classes[RL__RUN_SIGNAL] = 1;
    b.kept_output[0] = (char *)"out b";
    rl__loaded f[3] = {{.results = &a, .n = 1, .seed = 1},
                       {.results = &b, .n = 1, .seed = 1},
                       {.results = &c, .n = 1, .seed = 1}};
    rl__loaded m;
    ck_assert_int_eq(rl__results_merge(f, 3, &m), 0);
    ck_assert_int_eq(m.n, 1);
    const rl__result *r = &m.results[0];
    /* A tie goes to the first file: FAIL, which the scenario did not
     * expect (it expects DEADLOCK). */
    ck_assert_int_eq(r->verdict, RL_FAIL);
    ck_assert_str_eq(r->failure.token, "x.y@0x1");
    ck_assert_int_eq(rl__result_as_expected(r), 0);
    ck_assert_int_eq(r->exhausted, 0);
    ck_assert_int_eq(r->executions, 16);
    ck_assert_int_eq(r->failures, 3);
    ck_assert_int_eq(r->classes[RL__RUN_SIGNAL], 3);
    ck_assert_str_eq(r->kept_output[0], "out b");
    ck_assert_ptr_ne(r->kept_output[0], b.kept_output[0]);
    ck_assert_str_eq(r->name, sc.name);
    ck_assert_ptr_ne(r->name, sc.name);
    rl__loaded_free(&m);

    /* Without the first file the DEADLOCK is chosen and expected. */
    ck_assert_int_eq(rl__results_merge(f + 1, 2, &m), 0);
    ck_assert_int_eq(m.results[0].verdict, RL_DEADLOCK);
    ck_assert_int_eq(rl__result_as_expected(&m.results[0]), 1);
    rl__loaded_free(&m);

    /* Only passing parts: PASS, not what a bug scenario expects. */
    ck_assert_int_eq(rl__results_merge(f + 2, 1, &m), 0);
    ck_assert_int_eq(m.results[0].verdict, RL_PASS);
    ck_assert_int_eq(rl__result_as_expected(&m.results[0]), 0);
    ck_assert_ptr_null(m.results[0].failure.token);
    rl__loaded_free(&m);
}
END_TEST

START_TEST(merge_refuses_mixed_modes)
{
    rl_scenario sc = {.name = "x.y"};
    rl__result a = {.mode = RL_MODE_EXPLORE};
    rl__result b = {.mode = RL_MODE_STRESS};
    describe(&a, &sc);
    describe(&b, &sc);
    rl__loaded f[2] = {{.results = &a, .n = 1, .path = "one.json"},
                       {.results = &b, .n = 1, .path = "two.json"}};
    rl__loaded m;
    ck_assert_int_eq(rl__results_merge(f, 2, &m), -EINVAL);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "x.y"));
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "explore in one.json"));
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "stress in two.json"));
    ck_assert_ptr_null(m.results);
    ck_assert_int_eq(rl__results_merge(f, 0, &m), -EINVAL);
}
END_TEST

/* ---- bad input ---- */

typedef struct {
    const char *name;
    const char *doc;
    const char *msg; /* expected in rl_last_error after "FILE:" */
} bad_case;

#define HEAD                                                                   \
    "{\"schema\": \"racelab-results/1\", \"seed\": 1, \"started_at\": \"t\", " \
    "\"command_line\": \"c\", \"scenarios\": ["
#define SCEN(extra)                                                            \
    "{\"name\": \"a.b\", \"summary\": \"s\", \"expect\": \"clean\", "          \
    "\"expect_verdict\": null, \"mode\": \"explore\", " extra                  \
    "\"as_expected\": true, \"exhausted\": true, \"executions\": 2, "          \
    "\"failures\": 0, \"runs_to_first_failure\": 0, \"duration_s\": 0.1, "     \
    "\"stress\": null, \"coverage\": {\"schedule_points\": 1, "                \
    "\"labels_reached\": 1, \"label_pairs_interleaved\": 0}"

static const bad_case bad_cases[] = {
    {"empty", "", "1:1: unexpected end of input"},
    {"spaces", " \n \n", "3:1: unexpected end of input"},
    {"garbage", "hello", "1:1: expected a JSON value, found 'h'"},
    {"garbage2", "@@", "1:1: expected a JSON value, found '@'"},
    {"binary", "\x01\x02", "1:1: expected a JSON value, found byte 0x01"},
    {"top array", "[1, 2]",
     "1:1: not racelab results: expected an object at the top level, "
     "found an array"},
    {"wrong schema", "{\n  \"schema\": \"other/2\"}",
     "2:13: schema: not racelab results: \"other/2\""},
    {"schema type", "{\n  \"schema\": 5}",
     "2:13: schema: expected a string, found a number"},
    {"no schema", "{}", "1:1: missing field \"schema\""},
    {"truncated", HEAD SCEN("\"verdict\": \"PASS\", "),
     "found the end of the input"},
    {"unterminated string", "{\"schema\": \"racelab", "unterminated string"},
    {"trailing garbage", HEAD "]} x", "1:101: unexpected 'x' after"},
    {"trailing comma", "{\"a\": 1,}", "1:9: trailing comma before '}'"},
    {"missing colon", "{\"a\" 1}", "1:6: expected ':' after a key"},
    {"bare key", "{a: 1}", "1:2: expected a string key"},
    {"missing comma", "[1 2]", "1:4: expected ',' or ']' in an array"},
    {"leading zero", "[01]", "1:3: invalid number: leading zero"},
    {"bad fraction", "[1.]", "1:4: invalid number: expected a digit"},
    {"bad exponent", "[1e+]", "1:5: invalid number: expected a digit in"},
    {"lone minus", "[-]", "1:3: invalid number: expected a digit"},
    {"invalid escape", "[\"ab\\x\"]", "1:5: invalid escape \\x"},
    {"short unicode", "[\"\\u12\"]", "invalid \\u escape: expected 4 hex"},
    {"lone high surrogate", "[\"\\ud800x\"]",
     "1:3: invalid \\u escape: high surrogate without a low one"},
    {"high then not low", "[\"\\ud800\\u0041\"]",
     "1:3: invalid \\u escape: high surrogate without a low one"},
    {"lone low surrogate", "[\"\\udc00\"]",
     "1:3: invalid \\u escape: low surrogate without a high one"},
    {"raw newline in string", "[\"a\nb\"]",
     "1:4: control character 0x0a in a string"},
    {"bad literal", "[tru]", "1:2: invalid literal (expected true)"},
    {"missing field", HEAD SCEN("") "}]}",
     "scenarios[0]: missing field \"verdict\""},
    {"wrong type", HEAD SCEN("\"verdict\": 0, ") "}]}",
     "scenarios[0].verdict: expected a string, found a number"},
    {"unknown verdict", HEAD SCEN("\"verdict\": \"MAYBE\", ") "}]}",
     "scenarios[0].verdict: unknown value \"MAYBE\""},
    {"null not allowed", HEAD SCEN("\"verdict\": null, ") "}]}",
     "scenarios[0].verdict: must not be null"},
    {"fail without failure",
     HEAD SCEN("\"verdict\": \"FAIL\", \"first_failure\": null, ") "}]}",
     "scenarios[0].first_failure: null, but the verdict is FAIL"},
    {"second scenario wrong",
     HEAD SCEN(
         "\"verdict\": \"PASS\", \"first_failure\": null, ") "}, {\"name\": "
                                                             "1}]}",
     "scenarios[1].name: expected a string, found a number"},
    {"stack not strings",
     HEAD SCEN("\"verdict\": \"FAIL\", \"first_failure\": {\"verdict\": "
               "\"FAIL\", \"message\": \"m\", \"token\": null, "
               "\"minimized_token\": null, \"steps\": [], \"actors\": [{"
               "\"id\": 0, \"name\": \"main\", \"pid\": 1, "
               "\"start_method\": \"root\", \"state\": \"runnable\", "
               "\"wait_reason\": null, \"exit\": null, \"stack\": [\"a\", "
               "7]}]}, ") "}]}",
     "scenarios[0].first_failure.actors[0].stack[1]: expected a string"},
    {"scenario not object", HEAD "3]}",
     "scenarios[0]: expected an object, found a number"},
    {"duplicate field", "{\"schema\": \"racelab-results/1\", \"schema\": 1}",
     "schema: duplicate field"},
    {"nul in string", "{\"schema\": \"racelab-results/1\\u0000x\"}",
     "schema: the string contains a NUL character"},
    {"seed negative", "{\"schema\": \"racelab-results/1\", \"seed\": -1}",
     "seed: expected an unsigned 64-bit integer, found -1"},
    {"seed too big",
     "{\"schema\": \"racelab-results/1\", \"seed\": 18446744073709551616}",
     "seed: expected an unsigned 64-bit integer"},
};

START_TEST(bad_input_is_einval_with_position)
{
    const bad_case *b = &bad_cases[_i];
    const char *path = write_tmp("bad.json", b->doc, strlen(b->doc));
    rl__loaded l;
    memset(&l, 0x5a, sizeof l);
    int err = rl__results_read(path, &l);
    ck_assert_msg(err == -EINVAL, "%s: err %d (%s)", b->name, err,
                  rl_last_error());
    char want[512];
    snprintf(want, sizeof want, "%s:", path);
    ck_assert_msg(strncmp(rl_last_error(), want, strlen(want)) == 0,
                  "%s: message does not name the file: %s", b->name,
                  rl_last_error());
    ck_assert_msg(strstr(rl_last_error(), b->msg) != NULL,
                  "%s: message \"%s\" lacks \"%s\"", b->name, rl_last_error(),
                  b->msg);
    ck_assert_ptr_null(l.results);
    ck_assert_int_eq(l.n, 0);
    rl__loaded_free(&l);
}
END_TEST

START_TEST(deep_nesting_is_refused)
{
    char doc[4001];
    memset(doc, '[', 4000);
    doc[4000] = 0;
    rl__loaded l;
    int err = rl__results_read(write_tmp("deep.json", doc, 4000), &l);
    ck_assert_int_eq(err, -EINVAL);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "1:65: nesting deeper"));
}
END_TEST

START_TEST(unreadable_files_are_errno)
{
    rl__loaded l;
    char path[128];
    snprintf(path, sizeof path, "%s/missing.json", tmpdir);
    ck_assert_int_eq(rl__results_read(path, &l), -ENOENT);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "cannot read"));
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "missing.json"));
    ck_assert_int_eq(rl__results_read(tmpdir, &l), -EISDIR);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), tmpdir));
    ck_assert_ptr_null(l.results);
}
END_TEST

/* The mark of an interrupted scenario survives a read and a merge: the
 * merged scenario is interrupted and not as expected. */
START_TEST(interrupted_mark_kept)
{
    rl__result res[3];
    rl__report rep;
    build_model(res, &rep);
    res[2].interrupted = 1;
    size_t len;
    char *a = to_json(&rep, &len);
    rl__loaded l[2];
    int err = rl__results_read(write_tmp("i.json", a, len), &l[0]);
    ck_assert_msg(err == 0, "read: %s", rl_last_error());
    ck_assert_int_eq(l[0].results[2].interrupted, 1);
    ck_assert_int_eq(l[0].results[0].interrupted, 0);
    res[2].interrupted = 0;
    free(a);
    a = to_json(&rep, &len);
    err = rl__results_read(write_tmp("j.json", a, len), &l[1]);
    ck_assert_msg(err == 0, "read: %s", rl_last_error());
    rl__loaded m;
    ck_assert_int_eq(rl__results_merge(l, 2, &m), 0);
    int found = 0;
    for (int i = 0; i < m.n; i++) {
        if (strcmp(m.results[i].name, res[2].name) != 0)
            continue;
        found = 1;
        ck_assert_int_eq(m.results[i].interrupted, 1);
        ck_assert_int_eq(rl__result_as_expected(&m.results[i]), 0);
    }
    ck_assert(found);
    rl__loaded_free(&m);
    rl__loaded_free(&l[0]);
    rl__loaded_free(&l[1]);
    free(a);
}
END_TEST

/* A FIFO is refused at once (no wait for a writer), a device before it
 * is read, a file past the size cap before it is read. */
START_TEST(only_regular_files_are_read)
{
    rl__loaded l;
    char path[128];
    snprintf(path, sizeof path, "%s/fifo.json", tmpdir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(rl__results_read(path, &l), -EINVAL);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "not a regular file"));
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "pipe"));
    unlink(path);
    ck_assert_int_eq(rl__results_read("/dev/zero", &l), -EINVAL);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "not a regular file"));
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "device"));
    /* Sparse: 300 MiB of address, no disk. */
    snprintf(path, sizeof path, "%s/huge.json", tmpdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)300 << 20), 0);
    close(fd);
    ck_assert_int_eq(rl__results_read(path, &l), -EFBIG);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "larger than 256 MiB"));
    unlink(path);
    ck_assert_ptr_null(l.results);
}
END_TEST

/* Every fragment of a valid file that is cut short is an error. */
START_TEST(every_truncation_is_an_error)
{
    size_t len;
    char *doc = slurp(data_path("results-shard2.json"), &len);
    /* The document ends at its last '}'; only white space follows. */
    size_t last = len;
    while (last > 0 && doc[last - 1] != '}')
        last--;
    for (size_t n = 0; n < last; n += 7) {
        rl__loaded l;
        int err = rl__results_read(write_tmp("t.json", doc, n), &l);
        ck_assert_msg(err == -EINVAL, "cut at %zu: %d", n, err);
    }
    free(doc);
}
END_TEST

/* Random byte flips, insertions, deletions and truncations of valid files:
 * every one is read or refused, never a crash (run it under ASan). */
START_TEST(mutations_never_crash)
{
    rl__result res[3];
    rl__report rep;
    build_model(res, &rep);
    size_t lens[3];
    char *docs[3];
    docs[0] = to_json(&rep, &lens[0]);
    docs[1] = slurp(data_path("results-shard1.json"), &lens[1]);
    docs[2] = slurp(data_path("results-shard2.json"), &lens[2]);
    static const char special[] = "{}[]\",:\\u0123456789.-+eEtfnl \n\x80\xff";
    uint64_t seed = 0x5eed;
    char *buf = malloc(1 << 16);
    ck_assert_ptr_nonnull(buf);
    int ok = 0, refused = 0;
    /* RL_MERGE_FUZZ=N runs N mutations instead of 2000. */
    const char *env = getenv("RL_MERGE_FUZZ");
    int iterations = env && atoi(env) > 0 ? atoi(env) : 2000;
    for (int it = 0; it < iterations; it++) {
        int which = (int)(rl__splitmix64(&seed) % 3);
        size_t n = lens[which];
        memcpy(buf, docs[which], n);
        int edits = 1 + (int)(rl__splitmix64(&seed) % 4);
        for (int k = 0; k < edits && n > 0; k++) {
            size_t at = (size_t)(rl__splitmix64(&seed) % n);
            switch (rl__splitmix64(&seed) % 5) {
            case 0: /* flip a bit */
                buf[at] ^= (char)(1u << (rl__splitmix64(&seed) % 8));
                break;
            case 1: /* replace by a character JSON cares about */
                buf[at] = special[rl__splitmix64(&seed) % (sizeof special - 1)];
                break;
            case 2: /* delete a byte */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            case 3: /* insert a byte */
                if (n + 1 < (1 << 16)) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = special[rl__splitmix64(&seed) % (sizeof special - 1)];
                    n++;
                }
                break;
            default: /* truncate */
                n = at;
                break;
            }
        }
        rl__loaded l;
        int err = rl__results_read(write_tmp("fuzz.json", buf, n), &l);
        if (err == 0) {
            ok++;
            /* What was read is usable: the writers and the merge take
             * it. */
            size_t len;
            rl__report r2 = rl__loaded_report(&l);
            free(to_json(&r2, &len));
            rl__loaded m;
            if (rl__results_merge(&l, 1, &m) == 0)
                rl__loaded_free(&m);
        } else {
            ck_assert_msg(err == -EINVAL, "iteration %d: %d (%s)", it, err,
                          rl_last_error());
            ck_assert_ptr_nonnull(strstr(rl_last_error(), "fuzz.json:"));
            refused++;
        }
        rl__loaded_free(&l);
    }
    /* Both outcomes occur: the mutations are neither all harmless nor
     * all fatal. */
    ck_assert_int_gt(ok, 0);
    ck_assert_int_gt(refused, iterations / 2);
    free(buf);
    for (int i = 0; i < 3; i++)
        free(docs[i]);
}
END_TEST

static Suite *merge_suite(void)
{
    Suite *s = suite_create("merge");
    TCase *tc = rl_test_tcase("read", 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip_gives_the_same_bytes);
    tcase_add_test(tc, escapes_decode_to_utf8);
    tcase_add_test(tc, shard_files_read);
    suite_add_tcase(s, tc);

    tc = rl_test_tcase("merge", 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, merge_two_shards);
    tcase_add_test(tc, merge_keeps_the_races_of_the_failing_part);
    tcase_add_test(tc, merge_same_seed_has_no_note_and_one_file_is_itself);
    tcase_add_test(tc, merge_ties_exhaustion_and_expectation);
    tcase_add_test(tc, merge_refuses_mixed_modes);
    tcase_add_test(tc, interrupted_mark_kept);
    suite_add_tcase(s, tc);

    tc = rl_test_tcase("bad_input", 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, bad_input_is_einval_with_position, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, deep_nesting_is_refused);
    tcase_add_test(tc, unreadable_files_are_errno);
    tcase_add_test(tc, only_regular_files_are_read);
    tcase_add_test(tc, every_truncation_is_an_error);
    tcase_add_test(tc, mutations_never_crash);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(merge_suite());
}
