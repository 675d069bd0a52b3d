/* check_reports.c: the JSON, JUnit, TAP and HTML writers over a results
 * model built by hand, against golden files and the JUnit schema. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../reports/report.h"
#include "internal.h"
#include "racelab.h"
#include "testutil.h"

#define ADDR_COUNTER ((const void *)0x7f0000001000)
#define ADDR_PROC ((const void *)0x7f0000002040)
#define ADDR_PIPE ((const void *)0x7f0000003080)
#define ADDR_QUEUE ((const void *)0x7f00000040c0)

static rl_scenario sc_unlocked = {
    .name = "counter.unlocked",
    .summary = "two processes increment one counter without a lock",
    .expect = RL_EXPECT_BUG,
    .expect_verdict = RL_FAIL};
static rl_scenario sc_locked = {
    .name = "counter.locked",
    .summary = "the same with a lock: <no> lost update & no \"race\""};
static rl_scenario sc_stress = {.name = "counter.stress",
                                .summary = "the lost update, for real",
                                .expect = RL_EXPECT_BUG};
static rl_scenario sc_hang = {.name = "pipe.hang",
                              .summary = "a reader that waits forever"};
static rl_scenario sc_lost = {.name = "queue.lost",
                              .summary = "a bug that the bound hides",
                              .expect = RL_EXPECT_BUG,
                              .expect_verdict = RL_DEADLOCK};
static rl_scenario sc_race = {.name = "queue.race",
                              .summary = "put and get race on a counter"};

static void step(rl__result_step *s, int actor, int op, const void *obj,
                 int has_value, long value, const char *label, const char *file,
                 int line)
{
    memset(s, 0, sizeof *s);
    s->actor = actor;
    s->pid = 1000 + actor;
    ck_assert_int_eq(rl__result_step_op(s, rl__op_name((rl__op)op)), 0);
    s->at = (uintptr_t)obj;
    s->shared = 1;
    s->has_value = has_value;
    s->value = value;
    snprintf(s->label, sizeof s->label, "%s", label);
    snprintf(s->file, sizeof s->file, "%s", file ? file : "");
    s->line = line;
}

static void actor(rl__result_actor *a, const char *name, int pid,
                  int started_by, int state, int exit_code, const char *reason)
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->pid = pid;
    a->started_by = started_by;
    a->state = state;
    a->exit_code = exit_code;
    snprintf(a->wait_reason, sizeof a->wait_reason, "%s", reason ? reason : "");
}

/* The scenario's description copied into a result (as the conversion
 * does, without copying the strings). */
static void describe(rl__result *r, const rl_scenario *sc)
{
    r->name = (char *)sc->name;
    r->summary = (char *)sc->summary;
    r->expect = sc->expect;
    r->expect_verdict = sc->expect_verdict;
}

static rl__result_step unlocked_steps[12];
static rl__result_actor unlocked_actors[3];
static rl__result_race unlocked_races[2];

/* One access of a race on the counter, at counter.c:line. */
static rl__result_access counter_access(int actor, int write, int line,
                                        long step)
{
    rl__result_access x;
    memset(&x, 0, sizeof x);
    x.actor = actor;
    x.pid = 1000 + actor;
    x.write = write;
    x.at = (uintptr_t)ADDR_COUNTER;
    x.size = 8;
    snprintf(x.label, sizeof x.label, "c->value");
    snprintf(x.file, sizeof x.file, "counter.c");
    x.line = line;
    x.step = step;
    return x;
}
static rl__result_step hang_steps[3];
static rl__result_actor hang_actors[2];
static rl__result_step race_steps[6];
static rl__result_actor race_actors[3];
static rl__result results[6];
static char hang_message[] = "\033[31mtimed out\033[0m after 2.000 s: "
                             "actor 1 blocked in read & <pipe> \"p\" 'x'"
                             "\x01";

/* The model every test writes: six results that cover each way a
 * scenario can end. */
static rl__report build_report(void)
{
    memset(results, 0, sizeof results);
    rl__result_step *s = unlocked_steps;
    step(&s[0], 0, RL_OP_START, NULL, 0, 0, "process-1", NULL, 0);
    step(&s[1], 0, RL_OP_START, NULL, 0, 0, "process-2", NULL, 0);
    step(&s[2], 1, RL_OP_LOAD, ADDR_COUNTER, 1, 0, "c->value", "counter.c", 20);
    step(&s[3], 2, RL_OP_LOAD, ADDR_COUNTER, 1, 0, "c->value", "counter.c", 20);
    step(&s[4], 1, RL_OP_STORE, ADDR_COUNTER, 1, 1, "c->value", "counter.c",
         21);
    step(&s[5], 2, RL_OP_STORE, ADDR_COUNTER, 1, 1, "c->value", "counter.c",
         21);
    step(&s[6], 1, RL_OP_EXIT, NULL, 0, 0, "", NULL, 0);
    step(&s[7], 2, RL_OP_EXIT, NULL, 0, 0, "", NULL, 0);
    step(&s[8], 0, RL_OP_JOIN, ADDR_PROC, 0, 0, "process-1", NULL, 0);
    step(&s[9], 0, RL_OP_JOIN, ADDR_PROC, 0, 0, "process-2", NULL, 0);
    actor(&unlocked_actors[0], "main", 1000, RL__STARTED_ROOT,
          RL__STATE_FINISHED, 1, NULL);
    actor(&unlocked_actors[1], "process-1", 1001, RL__STARTED_FORK,
          RL__STATE_FINISHED, 0, NULL);
    actor(&unlocked_actors[2], "process-2", 1002, RL__STARTED_SPAWN,
          RL__STATE_FINISHED, 0, NULL);

    rl__result *r = &results[0];
    describe(r, &sc_unlocked);
    r->mode = RL_MODE_EXPLORE;
    r->verdict = RL_FAIL;
    r->executions = 31;
    r->failures = 1;
    r->first_failure_run = 31;
    r->duration = 0.0456;
    snprintf(r->failure.message, sizeof r->failure.message,
             "counter is 1, expected 2 (actor 0 at counter.c:58)");
    r->failure.nsteps = 10;
    r->failure.steps = unlocked_steps;
    r->failure.nactors = 3;
    r->failure.actors = unlocked_actors;
    unlocked_races[0] = (rl__result_race){counter_access(2, 0, 20, 3),
                                          counter_access(1, 1, 21, 4), 1};
    unlocked_races[1] = (rl__result_race){counter_access(1, 1, 21, 4),
                                          counter_access(2, 1, 21, 5), 1};
    /* The first race's accesses with their stacks, the second's without. */
    snprintf(unlocked_races[0].first.stack,
             sizeof unlocked_races[0].first.stack,
             "#0 add+0x72 (counter.c:20)\n#1 run_two+0x4c (counter.c:52)\n"
             "(6 racelab frames folded)");
    snprintf(unlocked_races[0].second.stack,
             sizeof unlocked_races[0].second.stack,
             "#0 add+0xc2 (counter.c:21)\n(6 racelab frames folded)");
    r->races = unlocked_races;
    r->nraces = 2;
    r->failure.token = (char *)"counter.unlocked@0x3.1x4.2x1";
    r->failure.minimized_token = (char *)"counter.unlocked@0x3.1x4";
    r->seed = 42;
    r->schedule_points = 310;
    r->space_explored = 0.0125;
    r->labels_reached = 2;
    r->pairs_interleaved = 3;

    r = &results[1];
    describe(r, &sc_locked);
    r->mode = RL_MODE_EXPLORE;
    r->verdict = RL_PASS;
    r->exhausted = 1;
    r->executions = 604;
    r->duration = 0.5314;
    r->seed = 42;
    r->schedule_points = 9060;
    r->space_explored = 1.0;
    r->labels_reached = 2;
    r->pairs_interleaved = 1;

    r = &results[2];
    describe(r, &sc_stress);
    r->mode = RL_MODE_STRESS;
    r->verdict = RL_FAIL;
    r->executions = 100;
    r->failures = 23;
    r->first_failure_run = 4;
    r->duration = 1.25;
    snprintf(r->failure.message, sizeof r->failure.message,
             "counter is 3, expected 4");
    r->nvalues = 3;
    r->values[0] = 4, r->counts[0] = 77;
    r->values[1] = 2, r->counts[1] = 9;
    r->values[2] = 3, r->counts[2] = 14;
    r->seed = 42;

    step(&hang_steps[0], 0, RL_OP_START, NULL, 0, 0, "reader", NULL, 0);
    step(&hang_steps[1], 1, RL_OP_RECV, ADDR_PIPE, 0, 0, "pipe", "pipe.c", 12);
    step(&hang_steps[2], 0, RL_OP_JOIN, ADDR_PROC, 0, 0, "reader", NULL, 0);
    actor(&hang_actors[0], "main", 2000, RL__STARTED_ROOT, RL__STATE_BLOCKED, 0,
          "join reader (pid 2001)");
    actor(&hang_actors[1], "reader", 2001, RL__STARTED_FORKSERVER,
          RL__STATE_BLOCKED, 0, "read on a pipe outside the scheduler");
    snprintf(hang_actors[1].stack, sizeof hang_actors[1].stack,
             "#0 read_all (pipe.c:12)\n#1 reader_main (pipe.c:30)\n");
    r = &results[3];
    describe(r, &sc_hang);
    r->mode = RL_MODE_EXPLORE;
    r->verdict = RL_TIMEOUT;
    r->executions = 1;
    r->failures = 1;
    r->first_failure_run = 1;
    r->duration = 2.0004;
    snprintf(r->failure.message, sizeof r->failure.message, "%s", hang_message);
    r->failure.nsteps = 3;
    r->failure.steps = hang_steps;
    r->failure.nactors = 2;
    r->failure.actors = hang_actors;
    r->failure.token = (char *)"pipe.hang@0x2";
    r->seed = 42;
    r->schedule_points = 3;

    r = &results[4];
    describe(r, &sc_lost);
    r->mode = RL_MODE_EXPLORE;
    r->verdict = RL_PASS;
    r->exhausted = 1;
    r->executions = 12;
    r->duration = 0.01;
    r->seed = 42;
    r->schedule_points = 96;
    r->labels_reached = 1;

    s = race_steps;
    step(&s[0], 0, RL_OP_START, NULL, 0, 0, "producer", NULL, 0);
    step(&s[1], 1, RL_OP_PUT, ADDR_QUEUE, 1, 1, "q", "queue.c", 30);
    step(&s[2], 1, RL_OP_FETCH_ADD, ADDR_COUNTER, 1, 0, "q->n", "queue.c", 31);
    step(&s[3], 0, RL_OP_GET, ADDR_QUEUE, 1, 1, "q", "queue.c", 38);
    step(&s[4], 0, RL_OP_LOAD, ADDR_COUNTER, 1, 0, "q->n", "queue.c", 39);
    step(&s[5], 1, RL_OP_EXIT, NULL, 0, 0, "", NULL, 0);
    actor(&race_actors[0], "main", 3000, RL__STARTED_ROOT, RL__STATE_RUNNABLE,
          0, NULL);
    actor(&race_actors[1], "producer", 3001, RL__STARTED_FORK,
          RL__STATE_FINISHED, 0, NULL);
    actor(&race_actors[2], "killed", 3002, RL__STARTED_FORK, RL__STATE_FINISHED,
          -9, NULL);
    r = &results[5];
    describe(r, &sc_race);
    r->mode = RL_MODE_EXPLORE;
    r->verdict = RL_FAIL;
    r->executions = 7;
    r->failures = 1;
    r->first_failure_run = 7;
    r->duration = 0.0075;
    snprintf(r->failure.message, sizeof r->failure.message,
             "q->n is 0, expected 1 (actor 0 at queue.c:40)");
    r->failure.nsteps = 6;
    r->failure.steps = race_steps;
    r->failure.nactors = 3;
    r->failure.actors = race_actors;
    r->failure.token = (char *)"queue.race@0x1.0x2";
    r->seed = 42;
    r->schedule_points = 42;
    r->labels_reached = 3;
    r->pairs_interleaved = 2;

    rl__report rep = {results, 6, 42, "2026-01-02T03:04:05Z",
                      "racelab run 'counter.*' --json out.json", 0};
    return rep;
}

/* Runs a writer into memory; returns the malloc'd text. */
static char *render(int (*writer)(FILE *, const rl__report *),
                    const rl__report *rep)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(writer(f, rep), 0);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_uint_eq(strlen(buf), len);
    return buf;
}

/* The JSON names the host it ran on: the same text everywhere. */
static void normalise_host(char *s)
{
    char *h = strstr(s, "\"host\": {");
    if (!h)
        return;
    h += strlen("\"host\": {");
    char *end = strchr(h, '}');
    ck_assert_ptr_nonnull(end);
    const char *fixed = "\"cores\": 0, \"kernel\": \"K\"";
    size_t fl = strlen(fixed);
    ck_assert_uint_le(fl, (size_t)(end - h) + 64);
    memmove(h + fl, end, strlen(end) + 1);
    memcpy(h, fixed, fl);
}

static const char *golden_dir(void)
{
    const char *d = getenv("RL_GOLDEN_DIR");
    return d && *d ? d : "tests/golden";
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

/* Compares text with the golden file name; RL_UPDATE_GOLDEN=1 rewrites
 * the golden file instead. On a difference, shows a diff. */
static void check_golden(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", golden_dir(), name);
    const char *upd = getenv("RL_UPDATE_GOLDEN");
    if (upd && strcmp(upd, "1") == 0) {
        mkdir(golden_dir(), 0777);
        write_file(path, text);
        return;
    }
    char *want = read_file(path);
    ck_assert_msg(want != NULL,
                  "golden file %s is missing (RL_UPDATE_GOLDEN=1 writes "
                  "it)",
                  path);
    if (strcmp(want, text) != 0) {
        char tmp[] = "/tmp/racelab-actual-XXXXXX";
        int fd = mkstemp(tmp);
        ck_assert_int_ge(fd, 0);
        close(fd);
        write_file(tmp, text);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "diff -u '%s' '%s' | head -60 >&2", path,
                 tmp);
        if (system(cmd) < 0)
            perror("diff");
        unlink(tmp);
    }
    ck_assert_msg(strcmp(want, text) == 0,
                  "%s differs from the golden file (RL_UPDATE_GOLDEN=1 "
                  "regenerates it after a deliberate change)",
                  path);
    free(want);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Validates xml against tests/junit.xsd with xmllint; returns its exit
 * status. quiet: its messages are not shown (a document meant to fail). */
static int xmllint(const char *xml, int quiet)
{
    char tmp[] = "/tmp/racelab-junit-XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_file(tmp, xml);
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "xmllint --noout --schema tests/junit.xsd '%s' %s", tmp,
             quiet ? ">/dev/null 2>&1" : ">&2");
    int st = system(cmd);
    unlink(tmp);
    ck_assert_int_ne(st, -1);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

START_TEST(json_matches_golden)
{
    rl__report rep = build_report();
    char *s = render(rl__report_json, &rep);
    normalise_host(s);
    check_golden("results.json", s);
    free(s);
}
END_TEST

START_TEST(junit_matches_golden)
{
    rl__report rep = build_report();
    char *s = render(rl__report_junit, &rep);
    check_golden("results.xml", s);
    free(s);
}
END_TEST

START_TEST(tap_matches_golden)
{
    rl__report rep = build_report();
    char *s = render(rl__report_tap, &rep);
    check_golden("results.tap", s);
    free(s);
}
END_TEST

START_TEST(junit_validates_against_schema)
{
    ck_assert_int_eq(access("tests/junit.xsd", R_OK), 0);
    rl__report rep = build_report();
    char *s = render(rl__report_junit, &rep);
    ck_assert_int_eq(xmllint(s, 0), 0);
    free(s);
    /* The schema is a real check: a time with a comma fails it. */
    const char *bad = "<?xml version=\"1.0\"?>\n<testsuites tests=\"1\" "
                      "failures=\"0\" errors=\"0\" skipped=\"0\" "
                      "time=\"0,5\"/>\n";
    ck_assert_int_ne(xmllint(bad, 1), 0);
}
END_TEST

START_TEST(junit_suites_cases_and_outcomes)
{
    rl__report rep = build_report();
    char *s = render(rl__report_junit, &rep);
    ck_assert_ptr_nonnull(strstr(s, "<testsuites name=\"racelab\" tests=\"6\" "
                                    "failures=\"2\" errors=\"1\" "
                                    "skipped=\"0\" time=\"3.845\">"));
    ck_assert_ptr_nonnull(strstr(s, "<testsuite name=\"counter\" tests=\"3\" "
                                    "failures=\"0\" errors=\"0\" "
                                    "skipped=\"0\" time=\"1.827\""));
    ck_assert_ptr_nonnull(strstr(s, "<testsuite name=\"pipe\" tests=\"1\" "
                                    "failures=\"0\" errors=\"1\""));
    ck_assert_ptr_nonnull(strstr(s, "<testsuite name=\"queue\" tests=\"2\" "
                                    "failures=\"2\" errors=\"0\""));
    ck_assert_int_eq(count_of(s, "<testsuite "), 3);
    ck_assert_int_eq(count_of(s, "<testcase "), 6);
    ck_assert_ptr_nonnull(strstr(s, "<testcase classname=\"counter\" "
                                    "name=\"counter.unlocked\" "
                                    "time=\"0.046\">"));
    ck_assert_ptr_nonnull(strstr(s, "<property name=\"seed\" "
                                    "value=\"42\"/>"));
    ck_assert_ptr_nonnull(strstr(s, "<property name=\"racelab.version\" "
                                    "value=\"" RL_VERSION "\"/>"));
    /* The expected bug passes; the unexpected one is a failure with the
     * diagnosis, the replay command and the trace. */
    const char *race = strstr(s, "name=\"queue.race\"");
    ck_assert_ptr_nonnull(race);
    const char *fail = strstr(race, "<failure type=\"FAIL\" message=\"q-&gt;n "
                                    "is 0, expected 1 (actor 0 at "
                                    "queue.c:40)\">");
    ck_assert_ptr_nonnull(fail);
    ck_assert_ptr_nonnull(strstr(fail, "racelab replay &#39;queue.race@0x1."
                                       "0x2&#39;"));
    ck_assert_ptr_nonnull(strstr(fail, "fetch_add"));
    ck_assert_ptr_nonnull(strstr(fail, "q-&gt;n queue.c:31"));
    ck_assert_ptr_nonnull(strstr(s, "<failure type=\"no-bug\" "
                                    "message=\"expected a bug, none found "
                                    "in 12 executions\">"));
    const char *err = strstr(s, "<error type=\"TIMEOUT\"");
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "stack of actor 1 (reader, pid 2001):\n"
                                      "#0 read_all (pipe.c:12)\n"));
    const char *unl = strstr(s, "name=\"counter.unlocked\"");
    const char *end = strstr(unl, "</testcase>");
    const char *f2 = strstr(unl, "<failure");
    ck_assert(f2 == NULL || f2 > end);
    ck_assert_ptr_nonnull(strstr(unl, "minimized token: racelab replay "
                                      "&#39;counter.unlocked@0x3.1x4&#39;"));
    free(s);
}
END_TEST

/* A user's program built with rl_main made the results: the hints of
 * JUnit and HTML run that program, as its command line names it. */
START_TEST(hints_name_the_program_that_ran)
{
    rl__report rep = build_report();
    rep.command_line = "'./my bank' run 'queue.*'";
    char *s = render(rl__report_junit, &rep);
    ck_assert_ptr_nonnull(strstr(s, "replay: &#39;./my bank&#39; replay "
                                    "&#39;queue.race@0x1.0x2&#39;"));
    ck_assert_ptr_null(strstr(s, "racelab replay"));
    free(s);
    s = render(rl__report_html, &rep);
    ck_assert_ptr_nonnull(strstr(s, "<pre><code>&#39;./my bank&#39; replay "
                                    "&#39;counter.unlocked@0x3.1x4.2x1&#39;"));
    ck_assert_ptr_null(strstr(s, "racelab replay"));
    free(s);
    char *p = rl__report_program("./bank run x");
    ck_assert_str_eq(p, "./bank");
    free(p);
    p = rl__report_program(NULL);
    ck_assert_str_eq(p, "racelab");
    free(p);
}
END_TEST

/* Many families, their scenarios interleaved: one suite per family in
 * the order families first appear, its cases in the order of the
 * results, and the counts right (the writer groups by sorting). */
START_TEST(junit_groups_many_families)
{
    enum { FAMILIES = 2000, PER = 4, N = FAMILIES * PER };
    static rl_scenario scs[N];
    static char names[N][32];
    static rl__result res[N];
    memset(res, 0, sizeof res);
    for (int i = 0; i < N; i++) {
        /* Family i % FAMILIES, in a scrambled order; a family "fN" and
         * "fNx" must not merge. */
        int fam = (int)((i % FAMILIES) * 7919L % FAMILIES);
        snprintf(names[i], sizeof names[i], "f%d%s.v%d", fam,
                 fam % 3 ? "" : "x", i / FAMILIES);
        memset(&scs[i], 0, sizeof scs[i]);
        scs[i].name = names[i];
        scs[i].expect = i % 5 ? RL_EXPECT_CLEAN : RL_EXPECT_BUG;
        describe(&res[i], &scs[i]);
        res[i].mode = RL_MODE_EXPLORE;
        res[i].verdict = RL_PASS;
    }
    rl__report rep = {res, N, 1, "2026-01-02T03:04:05Z", "racelab run", 0};
    char *out = render(rl__report_junit, &rep);
    int suites = 0, cases = 0;
    const char *p = out;
    while ((p = strstr(p, "<testsuite name=\""))) {
        p += strlen("<testsuite name=\"");
        size_t fl = strcspn(p, "\"");
        /* The suite of the suites-th family to appear: results[suites]. */
        ck_assert_msg(strncmp(p, names[suites], fl) == 0 &&
                          names[suites][fl] == '.',
                      "suite %d is %.*s, expected the family of %s", suites,
                      (int)fl, p, names[suites]);
        ck_assert_ptr_nonnull(strstr(p, "tests=\"4\""));
        const char *end = strstr(p, "</testsuite>");
        ck_assert_ptr_nonnull(end);
        /* Its cases: results suites, suites + FAMILIES, ... in order. */
        const char *q = p;
        for (int k = 0; k < PER; k++) {
            char want[64];
            snprintf(want, sizeof want, "name=\"%.31s\"",
                     names[suites + k * FAMILIES]);
            q = strstr(q, want);
            ck_assert_msg(q && q < end, "%s not in its suite", want);
            cases++;
        }
        suites++;
        p = end;
    }
    ck_assert_int_eq(suites, FAMILIES);
    ck_assert_int_eq(cases, N);
    ck_assert_ptr_nonnull(strstr(out,
                                 "<testsuites name=\"racelab\" tests=\"8000\" "
                                 "failures=\"1600\""));
    free(out);
}
END_TEST

START_TEST(junit_has_no_control_characters)
{
    rl__report rep = build_report();
    static char nasty[] = "\033[1;31mboom\033[0m\x01 \033]0;title\007"
                          "bad byte \xff, del \x7f, cr\r, tab\t, "
                          "\xc2\x85 nel";
    snprintf(results[5].failure.message, sizeof results[5].failure.message,
             "%s", nasty);
    char *s = render(rl__report_junit, &rep);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        ck_assert_msg(*p >= 0x20 || *p == '\n' || *p == '\t',
                      "control character 0x%02x at offset %ld", *p,
                      (long)((const char *)p - s));
    ck_assert_ptr_null(strchr(s, 0x7f));
    ck_assert_ptr_null(strstr(s, "\xc2\x85"));
    ck_assert_ptr_nonnull(strstr(s, "message=\"boom bad byte \xef\xbf\xbd, "
                                    "del , cr, tab&#9;,  nel\""));
    ck_assert_ptr_nonnull(strstr(s, "timed out after 2.000 s: actor 1 "
                                    "blocked in read &amp; &lt;pipe&gt; "
                                    "&quot;p&quot; &#39;x&#39;\""));
    ck_assert_int_eq(xmllint(s, 0), 0);
    free(s);
}
END_TEST

START_TEST(junit_times_use_the_c_locale)
{
    /* A locale with a decimal comma, where one is installed. */
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                           "C.UTF-8"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (setlocale(LC_NUMERIC, names[i]))
            break;
    rl__report rep = build_report();
    char *s = render(rl__report_junit, &rep);
    ck_assert_ptr_nonnull(strstr(s, "time=\"0.531\""));
    ck_assert_ptr_null(strstr(s, "time=\"0,"));
    char *t = render(rl__report_tap, &rep);
    ck_assert_ptr_nonnull(strstr(t, "duration_s: 1.250"));
    free(s);
    free(t);
    setlocale(LC_NUMERIC, "C");
}
END_TEST

START_TEST(tap_plan_points_and_yaml)
{
    rl__report rep = build_report();
    char *s = render(rl__report_tap, &rep);
    /* Version 13 unless 14 is asked for; the points are the same. */
    ck_assert_int_eq(strncmp(s, "TAP version 13\n1..6\n", 20), 0);
    rep.tap_version = 14;
    char *s14 = render(rl__report_tap, &rep);
    ck_assert_int_eq(strncmp(s14, "TAP version 14\n1..6\n", 20), 0);
    ck_assert_str_eq(s14 + 15, s + 15);
    free(s14);
    ck_assert_ptr_nonnull(strstr(s, "\nok 1 - counter.unlocked\n  ---\n  "
                                    "seed: 42\n"));
    ck_assert_ptr_nonnull(strstr(s, "\nok 2 - counter.locked\n"));
    ck_assert_ptr_nonnull(strstr(s, "\nnot ok 4 - pipe.hang\n"));
    ck_assert_ptr_nonnull(strstr(s, "\nnot ok 5 - queue.lost\n"));
    ck_assert_ptr_nonnull(strstr(s, "\nnot ok 6 - queue.race\n"));
    ck_assert_int_eq(count_of(s, "\nok "), 3);
    ck_assert_int_eq(count_of(s, "\nnot ok "), 3);
    ck_assert_int_eq(count_of(s, "\n  ---\n"), 6);
    ck_assert_int_eq(count_of(s, "\n  ...\n"), 6);
    ck_assert_ptr_nonnull(strstr(s, "  token: \"counter.unlocked@0x3.1x4.2x1"
                                    "\"\n"));
    ck_assert_ptr_nonnull(strstr(s, "  message: \"timed out after 2.000 s: "
                                    "actor 1 blocked in read & <pipe> "
                                    "\\\"p\\\" 'x'\"\n"));
    ck_assert_ptr_nonnull(strstr(s, "  verdict: TIMEOUT\n  mode: explore\n"
                                    "  executions: 1\n"));
    ck_assert_ptr_null(strchr(s, '\033'));
    free(s);
}
END_TEST

START_TEST(tap_escapes_hash_in_descriptions)
{
    rl__report rep = build_report();
    rl_scenario odd = sc_locked;
    odd.name = "odd.name # TODO \\ not a directive";
    describe(&results[1], &odd);
    char *s = render(rl__report_tap, &rep);
    ck_assert_ptr_nonnull(strstr(s, "\nok 2 - odd.name \\# TODO \\\\ not a "
                                    "directive\n"));
    free(s);
}
END_TEST

/* The part of html from the first occurrence of start to the next end. */
static char *cut(const char *html, const char *start, const char *end)
{
    const char *a = strstr(html, start);
    ck_assert_msg(a != NULL, "no %s", start);
    const char *b = strstr(a, end);
    ck_assert_ptr_nonnull(b);
    return strndup(a, (size_t)(b - a));
}

/* The timeline of the section anchored id, malloc'd. */
static char *timeline_of(const char *html, const char *id)
{
    char sec[160];
    snprintf(sec, sizeof sec, "id=\"%s\">", id);
    const char *a = strstr(html, sec);
    ck_assert_msg(a != NULL, "no section %s", id);
    const char *end = strstr(a, "</section>");
    ck_assert_ptr_nonnull(end);
    const char *t = strstr(a, "<div class=\"timeline\"");
    ck_assert_msg(t && t < end, "no timeline in %s", id);
    return strndup(t, (size_t)(end - t));
}

/* The class attribute of the first box of a timeline whose attributes
 * hold attr (data-step="3"), malloc'd; NULL when there is none. */
static char *box_class(const char *tl, const char *attr)
{
    const char *p = strstr(tl, attr);
    if (!p)
        return NULL;
    const char *start = p;
    while (start > tl && strncmp(start, "<span class=\"", 13) != 0)
        start--;
    ck_assert_ptr_nonnull(strstr(start, "<span class=\"") == start ? start
                                                                  : NULL);
    start += 13;
    return strndup(start, strcspn(start, "\""));
}

/* Whether the class list cls has the word w. */
static int has_class(const char *cls, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = strstr(cls, w); p; p = strstr(p + 1, w))
        if ((p == cls || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

START_TEST(html_has_its_parts)
{
    rl__report rep = build_report();
    char *s = render(rl__report_html, &rep);
    ck_assert_ptr_nonnull(strstr(s, "<!DOCTYPE html>"));
    char *table = cut(s, "<table class=\"summary\">", "</table>");
    ck_assert_int_eq(count_of(table, "<tr class="), 6);
    ck_assert_int_eq(count_of(table, "&#10003; as expected"), 3);
    ck_assert_int_eq(count_of(table, "&#10007; UNEXPECTED"), 3);
    ck_assert_ptr_nonnull(strstr(table, "bug (DEADLOCK)"));
    ck_assert_ptr_nonnull(strstr(table, "&lt;no&gt; lost update &amp; no "
                                        "&quot;race&quot;"));
    free(table);
    /* One timeline per found bug with a trace, one lane per actor. */
    ck_assert_int_eq(count_of(s, "<div class=\"timeline\""), 3);
    char *tl = timeline_of(s, "counter.unlocked");
    ck_assert_int_eq(count_of(tl, "<span class=\"tl-lane\""), 3);
    ck_assert_int_eq(count_of(tl, " data-step=\""), 10);
    /* Steps 2..5 access one address from two actors with stores. */
    ck_assert_int_eq(count_of(tl, "; conflicting access"), 4);
    ck_assert_int_eq(count_of(tl, " conflict\""), 4);
    /* Both accesses of each race (steps 3 and 4, 4 and 5) are marked,
     * with the legend, and the races are listed. */
    ck_assert_int_eq(count_of(tl, " race conflict\""), 3);
    ck_assert_int_eq(count_of(tl, "; data race: this access"), 3);
    ck_assert_ptr_nonnull(strstr(s, "<i class=\"key race\"></i>"));
    free(tl);
    ck_assert_ptr_nonnull(strstr(s, "<h3>Data races (2)</h3>"));
    ck_assert_int_eq(count_of(s, "(&#9889; in the timeline)"), 2);
    /* With the stack of each access that has one. */
    ck_assert_ptr_nonnull(strstr(s, "<pre class=\"stack\">#0 add+0x72 "
                                    "(counter.c:20)\n#1 run_two+0x4c"));
    ck_assert_ptr_nonnull(strstr(s, "<pre class=\"stack\">#0 add+0xc2"));
    ck_assert_ptr_nonnull(strstr(s, "<pre><code>racelab replay "
                                    "&#39;counter.unlocked@0x3.1x4.2x1&#39;"));
    ck_assert_ptr_nonnull(strstr(s, "racelab minimize "
                                    "&#39;counter.unlocked@0x3.1x4.2x1&#39;"));
    /* The stress result: its histogram and failure rate. */
    char *hist = cut(s, "<svg class=\"histogram\"", "</svg>");
    ck_assert_int_eq(count_of(hist, "class=\"bar\""), 3);
    ck_assert_ptr_nonnull(strstr(hist, "value 4: 77 runs"));
    free(hist);
    ck_assert_ptr_nonnull(strstr(s, "23 of 100 runs = 0.230"));
    ck_assert_ptr_nonnull(strstr(s, "95% Wilson interval"));
    /* The actors' states, the diagnosis cleaned and escaped, coverage. */
    ck_assert_ptr_nonnull(strstr(s, "read on a pipe outside the "
                                    "scheduler"));
    ck_assert_ptr_nonnull(strstr(s, "killed by signal 9"));
    ck_assert_ptr_nonnull(strstr(s, "<pre class=\"stack\">#0 read_all "
                                    "(pipe.c:12)\n#1 reader_main"));
    ck_assert_ptr_nonnull(strstr(s, "timed out after 2.000 s: actor 1 "
                                    "blocked in read &amp; &lt;pipe&gt;"));
    ck_assert_ptr_nonnull(strstr(s, "a bug was expected, none found in 12 "
                                    "executions"));
    char *cov = cut(s, "<table class=\"coverage\">", "</table>");
    ck_assert_ptr_nonnull(strstr(cov, "<td class=\"num\">9060</td>"));
    free(cov);
    /* Self-contained and readable without a script. */
    ck_assert_ptr_null(strcasestr(s, "<script"));
    ck_assert_ptr_null(strstr(s, "http://"));
    ck_assert_ptr_null(strstr(s, "https://"));
    ck_assert_ptr_null(strchr(s, '\033'));
    ck_assert_ptr_null(strchr(s, '\x01'));
    free(s);
}
END_TEST

START_TEST(html_long_trace_shows_the_last_steps)
{
    rl__report rep = build_report();
    long n = 523;
    rl__result_step *st = calloc((size_t)n, sizeof *st);
    ck_assert_ptr_nonnull(st);
    for (long i = 0; i < n; i++)
        step(&st[i], (int)(i % 3), RL_OP_YIELD, NULL, 0, 0, "spin", NULL, 0);
    results[0].failure.steps = st;
    results[0].failure.nsteps = n;
    char *s = render(rl__report_html, &rep);
    ck_assert_ptr_nonnull(strstr(s, "The trace has 523 steps in 523 rows: "
                                    "the timeline shows the last 200 rows "
                                    "(steps 323 to 522)"));
    char *tl = timeline_of(s, "counter.unlocked");
    ck_assert_int_eq(count_of(tl, " data-step=\""), 200);
    ck_assert_ptr_nonnull(strstr(tl, " data-step=\"323\""));
    ck_assert_ptr_null(strstr(tl, " data-step=\"322\""));
    free(tl);
    free(s);
    free(st);
}
END_TEST

/* Two processes store to and load from one address of their own private
 * copies: never a conflict, since neither sees the other's. */
START_TEST(html_private_accesses_never_conflict)
{
    rl__report rep = build_report();
    for (int i = 2; i <= 5; i++)
        unlocked_steps[i].shared = 0;
    char *s = render(rl__report_html, &rep);
    char *tl = timeline_of(s, "counter.unlocked");
    ck_assert_int_eq(count_of(tl, " conflict\""), 0);
    ck_assert_int_eq(count_of(tl, "conflicting access:"), 0);
    ck_assert_int_eq(count_of(tl, "(private copy)"), 4);
    free(tl);
    free(s);
}
END_TEST

/* The number of boxes of a timeline whose classes have w. */
static int boxes_with(const char *tl, const char *w)
{
    int n = 0;
    for (const char *p = strstr(tl, "<span class=\"step"); p;
         p = strstr(p + 1, "<span class=\"step")) {
        char *cls = strndup(p + 13, strcspn(p + 13, "\""));
        n += has_class(cls, w);
        free(cls);
    }
    return n;
}

/* The failure mark goes on the failing step: the check that failed (not
 * the join before it), each wait of a deadlock, the crashing process's
 * last step. */
START_TEST(html_failure_mark_on_the_failing_step)
{
    rl__report rep = build_report();
    /* FAIL: "(actor 0 at counter.c:58)": a row of its own for the check,
     * in actor 0's lane, after the last step. */
    char *s = render(rl__report_html, &rep);
    char *tl = timeline_of(s, "counter.unlocked");
    ck_assert_int_eq(boxes_with(tl, "failing"), 1);
    char *cls = box_class(tl, "&#10007; check failed at counter.c:58");
    ck_assert_ptr_nonnull(cls);
    ck_assert(has_class(cls, "failing") && has_class(cls, "check"));
    free(cls);
    ck_assert_ptr_nonnull(strstr(tl, "style=\"grid-column:2\" "
                                     "data-actor=\"0\" title=\"actor 0: "
                                     "check failed at counter.c:58"));
    cls = box_class(tl, " data-step=\"9\"");
    ck_assert_ptr_nonnull(cls);
    ck_assert(!has_class(cls, "failing"));
    free(cls);
    ck_assert_ptr_nonnull(strstr(tl, "</div>\n<div class=\"tl-row\"><span "
                                     "class=\"tl-no\">check</span>"));
    free(tl);
    free(s);

    /* DEADLOCK: both processes wait (the root in join, the reader in
     * recv): both waits are marked, nothing else. */
    results[3].verdict = RL_DEADLOCK;
    snprintf(results[3].failure.message, sizeof results[3].failure.message,
             "no actor can run: actor 0 (main) is blocked in join");
    s = render(rl__report_html, &rep);
    tl = timeline_of(s, "pipe.hang");
    ck_assert_int_eq(boxes_with(tl, "failing"), 2);
    cls = box_class(tl, " data-step=\"1\"");
    ck_assert(has_class(cls, "failing"));
    free(cls);
    cls = box_class(tl, " data-step=\"2\"");
    ck_assert(has_class(cls, "failing"));
    free(cls);
    free(tl);
    free(s);

    /* CRASH: the last step of the process that was killed. */
    results[5].verdict = RL_CRASH;
    snprintf(results[5].failure.message, sizeof results[5].failure.message,
             "actor 1 (producer, pid 3001) was killed by signal SIGKILL");
    s = render(rl__report_html, &rep);
    tl = timeline_of(s, "queue.race");
    ck_assert_int_eq(boxes_with(tl, "failing"), 1);
    cls = box_class(tl, " data-step=\"5\"");
    ck_assert(has_class(cls, "failing"));
    free(cls);
    free(tl);
    free(s);
}
END_TEST

/* The steps the scheduler reached by preempting another process are
 * marked, and the legend says what the mark means. */
START_TEST(html_preemptions_are_marked)
{
    rl__report rep = build_report();
    unlocked_steps[3].preemption = 1;
    char *s = render(rl__report_html, &rep);
    char *tl = timeline_of(s, "counter.unlocked");
    ck_assert_int_eq(boxes_with(tl, "preemption"), 1);
    char *cls = box_class(tl, " data-step=\"3\"");
    ck_assert(has_class(cls, "preemption"));
    free(cls);
    ck_assert_ptr_nonnull(strstr(tl, "; preemption: the scheduler switched "
                                     "here"));
    free(tl);
    const char *sec = strstr(s, "id=\"counter.unlocked\"");
    const char *legend = strstr(sec, "<p class=\"legend\">");
    ck_assert_ptr_nonnull(legend);
    ck_assert_ptr_nonnull(strstr(legend, "<i class=\"key preemption\"></i>"));
    free(s);
}
END_TEST

static rl__result_step spin_steps[203];

/* Makes r a livelock: actor 1 loads a private flag 200 times in a row,
 * the root joins it. */
static void make_spin(rl__result *r)
{
    step(&spin_steps[0], 0, RL_OP_START, NULL, 0, 0, "spinner", NULL, 0);
    for (int i = 1; i <= 200; i++) {
        step(&spin_steps[i], 1, RL_OP_LOAD, ADDR_COUNTER, 1, 0, "stop",
             "spin.c", 25);
        spin_steps[i].shared = 0;
    }
    step(&spin_steps[201], 0, RL_OP_JOIN, ADDR_PROC, 0, 0, "spinner", NULL,
         0);
    step(&spin_steps[202], 1, RL_OP_LOAD, ADDR_COUNTER, 1, 0, "stop",
         "spin.c", 25);
    spin_steps[202].shared = 0;
    r->verdict = RL_LIVELOCK;
    snprintf(r->failure.message, sizeof r->failure.message,
             "no actor can progress: actor 1 (reader) spins at spin.c:25");
    r->failure.steps = spin_steps;
    r->failure.nsteps = 203;
}

/* 200 identical steps in a row are one row that says so, and unfold. */
START_TEST(html_identical_steps_fold)
{
    rl__report rep = build_report();
    make_spin(&results[3]);
    char *s = render(rl__report_html, &rep);
    char *tl = timeline_of(s, "pipe.hang");
    ck_assert_int_eq(count_of(tl, "<details class=\"fold\">"), 1);
    ck_assert_ptr_nonnull(strstr(tl, "<summary class=\"tl-row\"><span "
                                     "class=\"tl-no\">1&#8211;200</span>"));
    ck_assert_ptr_nonnull(strstr(tl, "data-step=\"1\" data-actor=\"1\" "
                                     "data-count=\"200\""));
    ck_assert_ptr_nonnull(strstr(tl, "<b class=\"count\">&#215;200</b>"));
    ck_assert_ptr_nonnull(strstr(tl, "title=\"steps 1 to 200: 200 "
                                     "identical steps"));
    /* After the fold, two rows: the join and the last load, which the
     * failure mark is on. */
    const char *body = strstr(tl, "</details>");
    ck_assert_int_eq(count_of(body, "<div class=\"tl-row\">"), 2);
    char *cls = box_class(tl, " data-step=\"202\"");
    ck_assert(has_class(cls, "failing"));
    free(cls);
    /* Unfolded, every step has its row. */
    ck_assert_int_eq(count_of(tl, "data-count=\"1\""), 203);
    free(tl);
    free(s);
}
END_TEST

/* Sections are anchored by their scenario's name, unique in the page,
 * and the summary links to them. */
START_TEST(html_anchors_are_scenario_names)
{
    rl__report rep = build_report();
    rl_scenario odd = sc_race;
    odd.name = "queue race/<x>";
    describe(&results[5], &odd);
    rl_scenario twin = sc_hang;
    twin.name = "counter.unlocked";
    describe(&results[3], &twin);
    char *s = render(rl__report_html, &rep);
    ck_assert_ptr_nonnull(strstr(s, "<a href=\"#counter.unlocked\">"));
    ck_assert_ptr_nonnull(strstr(s, "<section class=\"scenario ok\" "
                                    "id=\"counter.unlocked\">"));
    ck_assert_ptr_nonnull(strstr(s, "<a href=\"#counter.unlocked-2\">"));
    ck_assert_ptr_nonnull(strstr(s, "id=\"counter.unlocked-2\">"));
    ck_assert_ptr_nonnull(strstr(s, "<a href=\"#queue-race--x-\">"));
    ck_assert_ptr_nonnull(strstr(s, "id=\"queue-race--x-\">"));
    ck_assert_ptr_null(strstr(s, "id=\"s1\""));
    free(s);
}
END_TEST

/* The lanes share the page's width, and names and labels are written in
 * full (the browser cuts them only where the lane is too narrow; the
 * title has them on hover). */
START_TEST(html_lanes_use_the_width)
{
    rl__report rep = build_report();
    snprintf(unlocked_actors[1].name, sizeof unlocked_actors[1].name,
             "a-worker-with-a-long-name");
    snprintf(unlocked_steps[2].label, sizeof unlocked_steps[2].label,
             "counters[worker_index]->value_of_the_day");
    char *s = render(rl__report_html, &rep);
    char *tl = timeline_of(s, "counter.unlocked");
    ck_assert_ptr_nonnull(strstr(tl, "title=\"actor 1 &#183; "
                                     "a-worker-with-a-long-name, pid 1001\""));
    ck_assert_ptr_nonnull(strstr(tl, "<b>actor 1 &#183; "
                                     "a-worker-with-a-long-name</b>"));
    ck_assert_ptr_nonnull(strstr(tl, "load = 0 counters[worker_index]-&gt;"
                                     "value_of_the_day</span>"));
    ck_assert_ptr_nonnull(strstr(tl, "style=\"--lanes:3\""));
    ck_assert_ptr_nonnull(strstr(s, "grid-template-columns:56px "
                                    "repeat(var(--lanes),minmax(0,1fr))"));
    free(tl);
    free(s);
}
END_TEST

/* A scenario the run was stopped in: marked in every writer, never a
 * pass nor a failure. */
START_TEST(interrupted_is_marked_everywhere)
{
    rl__report rep = build_report();
    rl__result *r = &results[1]; /* counter.locked, PASS so far */
    ck_assert_int_eq(r->verdict, RL_PASS);
    r->interrupted = 1;
    char *s = render(rl__report_json, &rep);
    ck_assert_ptr_nonnull(strstr(s, "\"interrupted\": true"));
    ck_assert_ptr_nonnull(strstr(s, "\"interrupted\": false"));
    free(s);
    s = render(rl__report_junit, &rep);
    ck_assert_int_eq(xmllint(s, 0), 0);
    const char *c = strstr(s, "name=\"counter.locked\"");
    ck_assert_ptr_nonnull(c);
    const char *end = strstr(c, "</testcase>");
    const char *sk = strstr(c, "<skipped message=\"interrupted after");
    ck_assert_msg(sk && end && sk < end, "no skipped element: %s", c);
    ck_assert_ptr_nonnull(strstr(s, "skipped=\"1\""));
    free(s);
    s = render(rl__report_tap, &rep);
    ck_assert_ptr_nonnull(
        strstr(s, "ok 2 - counter.locked # SKIP interrupted after"));
    ck_assert_ptr_nonnull(strstr(s, "  interrupted: true\n"));
    free(s);
    s = render(rl__report_html, &rep);
    ck_assert_ptr_nonnull(strstr(s, "interrupted"));
    free(s);
}
END_TEST

START_TEST(writers_report_write_errors)
{
    rl__report rep = build_report();
    int (*writers[])(FILE *, const rl__report *) = {
        rl__report_json, rl__report_junit, rl__report_tap, rl__report_html};
    for (size_t i = 0; i < sizeof writers / sizeof *writers; i++) {
        FILE *f = fopen("/dev/full", "we");
        ck_assert_ptr_nonnull(f);
        setvbuf(f, NULL, _IONBF, 0);
        ck_assert_int_eq(writers[i](f, &rep), -1);
        fclose(f);
    }
}
END_TEST

START_TEST(empty_report)
{
    rl__report rep = {NULL, 0, 7, "2026-01-02T03:04:05Z", "racelab run", 0};
    char *s = render(rl__report_junit, &rep);
    ck_assert_ptr_nonnull(strstr(s, "tests=\"0\""));
    ck_assert_int_eq(xmllint(s, 0), 0);
    free(s);
    s = render(rl__report_tap, &rep);
    ck_assert_str_eq(s, "TAP version 13\n1..0\n");
    free(s);
    s = render(rl__report_html, &rep);
    ck_assert_ptr_nonnull(strstr(s, "</html>"));
    free(s);
}
END_TEST

/* ---- result files written through a temporary ---- */

static char filedir[64];

static void file_setup(void)
{
    snprintf(filedir, sizeof filedir, "/tmp/rl-reports-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(filedir));
}

static void file_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", filedir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", filedir);
}

/* The number of entries of filedir whose name holds ".tmp.". */
static int tmp_files(void)
{
    DIR *d = opendir(filedir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static char *slurp_file(const char *path)
{
    FILE *f = fopen(path, "re");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Another user plants a symbolic link under the name the temporary had
 * (PATH.tmp.PID): it is neither followed nor renamed into place. */
START_TEST(file_ignores_a_planted_link)
{
    rl__report rep = build_report();
    char path[128], victim[128], planted[160];
    snprintf(path, sizeof path, "%s/r.json", filedir);
    snprintf(victim, sizeof victim, "%s/victim", filedir);
    snprintf(planted, sizeof planted, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(victim, "we");
    ck_assert_ptr_nonnull(f);
    fputs("precious\n", f);
    fclose(f);
    ck_assert_int_eq(symlink(victim, planted), 0);
    ck_assert_int_eq(rl__report_to_file(path, &rep, rl__report_json), 0);
    ck_assert_str_eq(slurp_file(victim), "precious\n");
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_ptr_nonnull(strstr(slurp_file(path), "racelab-results/1"));
    /* The planted link is the only ".tmp." entry left. */
    ck_assert_int_eq(tmp_files(), 1);
}
END_TEST

/* A file replaced keeps its mode (and, for root, its owner); a new one
 * gets 0666 less the umask. */
START_TEST(file_keeps_mode_and_owner)
{
    rl__report rep = build_report();
    char path[128];
    snprintf(path, sizeof path, "%s/r.xml", filedir);
    mode_t mask = umask(022);
    ck_assert_int_eq(rl__report_to_file(path, &rep, rl__report_junit), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    ck_assert_int_eq(chmod(path, 0640), 0);
    uid_t uid = geteuid() == 0 ? 65534 : geteuid();
    gid_t gid = geteuid() == 0 ? 65534 : getegid();
    ck_assert_int_eq(chown(path, uid, gid), 0);
    ck_assert_int_eq(rl__report_to_file(path, &rep, rl__report_junit), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    umask(mask);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    ck_assert_int_eq(st.st_uid, uid);
    ck_assert_int_eq(st.st_gid, gid);
    ck_assert_int_eq(tmp_files(), 0);
}
END_TEST

/* Writes half a report, then SIGTERM arrives. */
static int writer_killed(FILE *f, const rl__report *rep)
{
    (void)rep;
    fputs("{\"schema\": ", f);
    fflush(f);
    kill(getpid(), SIGTERM);
    fputs("\"cut\"}\n", f);
    return 0;
}

static int writer_failing(FILE *f, const rl__report *rep)
{
    (void)rep;
    fputs("{", f);
    return -1;
}

/* A stop signal while a report is written ends the process and leaves no
 * temporary file; a writer that fails leaves none either, nor a file. */
START_TEST(file_leaves_no_temporary)
{
    rl__report rep = build_report();
    char path[128];
    snprintf(path, sizeof path, "%s/r.json", filedir);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        rl__report_to_file(path, &rep, writer_killed);
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    ck_assert_int_eq(tmp_files(), 0);
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert_int_lt(rl__report_to_file(path, &rep, writer_failing), 0);
    ck_assert_int_eq(tmp_files(), 0);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* With RL_HTML_OUT set, writes the hand-built report's HTML there, with
 * pipe.hang made a livelock of 200 identical steps (for
 * tests/test_html_render.sh). */
START_TEST(html_written_on_request)
{
    const char *out = getenv("RL_HTML_OUT");
    if (!out || !*out)
        return;
    rl__report rep = build_report();
    make_spin(&results[3]);
    ck_assert_int_eq(rl__report_to_file(out, &rep, rl__report_html), 0);
}
END_TEST

static Suite *reports_suite(void)
{
    Suite *s = suite_create("reports");
    TCase *tc = rl_test_tcase("golden", 30);
    tcase_add_test(tc, json_matches_golden);
    tcase_add_test(tc, junit_matches_golden);
    tcase_add_test(tc, tap_matches_golden);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("junit", 30);
    tcase_add_test(tc, junit_validates_against_schema);
    tcase_add_test(tc, junit_suites_cases_and_outcomes);
    tcase_add_test(tc, hints_name_the_program_that_ran);
    tcase_add_test(tc, junit_has_no_control_characters);
    tcase_add_test(tc, junit_groups_many_families);
    tcase_add_test(tc, junit_times_use_the_c_locale);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("tap", 30);
    tcase_add_test(tc, tap_plan_points_and_yaml);
    tcase_add_test(tc, tap_escapes_hash_in_descriptions);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("html", 30);
    tcase_add_test(tc, html_has_its_parts);
    tcase_add_test(tc, html_long_trace_shows_the_last_steps);
    tcase_add_test(tc, html_private_accesses_never_conflict);
    tcase_add_test(tc, html_failure_mark_on_the_failing_step);
    tcase_add_test(tc, html_preemptions_are_marked);
    tcase_add_test(tc, html_identical_steps_fold);
    tcase_add_test(tc, html_anchors_are_scenario_names);
    tcase_add_test(tc, html_lanes_use_the_width);
    tcase_add_test(tc, html_written_on_request);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("files", 30);
    tcase_add_checked_fixture(tc, file_setup, file_teardown);
    tcase_add_test(tc, file_ignores_a_planted_link);
    tcase_add_test(tc, file_keeps_mode_and_owner);
    tcase_add_test(tc, file_leaves_no_temporary);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("errors", 30);
    tcase_add_test(tc, writers_report_write_errors);
    tcase_add_test(tc, interrupted_is_marked_everywhere);
    tcase_add_test(tc, empty_report);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(reports_suite());
}
