/* jsonread.c: results files (racelab-results/1) read back into the results
 * model, over the JSON parser of jsonparse.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* rl__fail */
#include "jsonparse.h"
#include "report.h"

#define SCHEMA "racelab-results/1"
/* The largest results file read: far beyond any real one (a run of
 * thousands of scenarios with long traces is a few MiB), small enough to
 * refuse a wrong file before reading it. */
#define MAX_FILE ((size_t)256 << 20)

#define OPT RL__JSON_OPT
#define NULLABLE RL__JSON_NULLABLE
#define COUNT_MAX ((long long)LONG_MAX)
#define VERDICTS (RL_RACE + 1)

typedef rl__json_reader reader;

static const char *type_of(const rl__json *v)
{
    return rl__json_type_name(v->t);
}

/* "0x..." (as %p writes it) back to the address; 0 when null. */
static uintptr_t get_addr(reader *c, const rl__json *obj, const char *key)
{
    const char *s = rl__json_get_str(c, obj, key, NULLABLE);
    if (!s)
        return 0;
    size_t n = strlen(s);
    int ok = n > 2 && n <= 18 && s[0] == '0' && s[1] == 'x';
    uintptr_t a = 0;
    for (size_t i = 2; ok && i < n; i++) {
        char ch = s[i];
        int h = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        ok = h >= 0;
        a = a * 16 + (uintptr_t)(h < 0 ? 0 : h);
    }
    if (!ok)
        rl__json_error(c, rl__json_field(c, obj, key, 0), key,
                       "expected an address like \"0x7f00\", found \"%.40s\"",
                       s);
    return ok ? a : 0;
}

static void read_step(reader *c, const rl__json *o, rl__result_step *s)
{
    if (o->t != RL__JSON_OBJ) {
        rl__json_error(c, o, NULL, "expected an object, found %s", type_of(o));
        return;
    }
    rl__json_get_int(c, o, "step", 0, COUNT_MAX, 0, NULL);
    s->actor = (int)rl__json_get_int(c, o, "actor", 0,
                                     RL__RESULT_MAX_ACTORS - 1, 0, NULL);
    s->pid = (int)rl__json_get_int(c, o, "pid", INT_MIN, INT_MAX, 0, NULL);
    const char *op = rl__json_get_str(c, o, "op", 0);
    if (op && rl__result_step_op(s, op) < 0)
        rl__json_error(c, rl__json_field(c, o, "op", 0), "op",
                       "unknown value \"%.40s\"", op);
    uintptr_t obj = get_addr(c, o, "object");
    uintptr_t addr = get_addr(c, o, "address");
    if (obj && addr)
        rl__json_error(c, o, NULL, "both an object and an address");
    s->at = obj ? obj : addr;
    s->shared = rl__json_get_bool(c, o, "shared", NULLABLE) > 0;
    int isnull;
    s->value = (long)rl__json_get_int(c, o, "value", LONG_MIN, LONG_MAX,
                                      NULLABLE, &isnull);
    s->has_value = !isnull;
    const char *label = rl__json_get_str(c, o, "label", 0);
    snprintf(s->label, sizeof s->label, "%s", label ? label : "");
    const char *file = rl__json_get_str(c, o, "file", NULLABLE);
    snprintf(s->file, sizeof s->file, "%s", file ? file : "");
    s->line = (int)rl__json_get_int(c, o, "line", INT_MIN, INT_MAX, 0, NULL);
    /* Absent in files written before racelab recorded it. */
    s->preemption = rl__json_get_bool(c, o, "preemption", RL__JSON_OPT) > 0;
}

/* The frames of a stack (an array of strings) back into the text the
 * writer split at newlines: one frame a line, as many whole frames as fit
 * in size bytes. */
static void read_stack(reader *c, const rl__json *st, char *out, size_t size)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; st && i < st->n && !c->err; i++) {
        const rl__json *v = st->items[i];
        if (v->t != RL__JSON_STR || strlen(v->s) != v->len) {
            size_t mark = rl__json_path_push(c, ".stack[%d]", i);
            rl__json_error(c, v, NULL,
                           "expected a string without NUL, found %s",
                           type_of(v));
            rl__json_path_pop(c, mark);
            return;
        }
        if (used + (used > 0) + v->len >= size)
            continue;
        if (used)
            out[used++] = '\n';
        for (size_t k = 0; k < v->len; k++)
            out[used++] = v->s[k] == '\n' ? ' ' : v->s[k];
        out[used] = 0;
    }
}

static void read_actor(reader *c, const rl__json *o, rl__result_actor *a)
{
    if (o->t != RL__JSON_OBJ) {
        rl__json_error(c, o, NULL, "expected an object, found %s", type_of(o));
        return;
    }
    rl__json_get_int(c, o, "id", 0, RL__RESULT_MAX_ACTORS - 1, 0, NULL);
    const char *name = rl__json_get_str(c, o, "name", 0);
    snprintf(a->name, sizeof a->name, "%s", name ? name : "");
    a->pid = (int)rl__json_get_int(c, o, "pid", INT_MIN, INT_MAX, 0, NULL);
    a->started_by = rl__json_get_enum(c, o, "start_method", 0, rl__started_name,
                                      RL__STARTED_COUNT, 0);
    a->state =
        rl__json_get_enum(c, o, "state", 0, rl__state_name, RL__STATE_COUNT, 0);
    const char *reason = rl__json_get_str(
        c, o, "wait_reason", a->state == RL__STATE_BLOCKED ? 0 : NULLABLE);
    snprintf(a->wait_reason, sizeof a->wait_reason, "%s", reason ? reason : "");
    a->exit_code = (int)rl__json_get_int(
        c, o, "exit", INT_MIN, INT_MAX,
        a->state == RL__STATE_FINISHED ? 0 : NULLABLE, NULL);
    const rl__json *st = rl__json_typed(c, o, "stack", RL__JSON_ARR, OPT);
    read_stack(c, st, a->stack, sizeof a->stack);
}

static void read_failure(reader *c, const rl__json *ff, rl__result *r)
{
    rl__result_failure *e = &r->failure;
    int verdict = rl__json_get_enum(c, ff, "verdict", 0, rl_verdict_name,
                                    VERDICTS, r->verdict);
    if (!c->err && verdict != r->verdict)
        rl__json_error(c, rl__json_field(c, ff, "verdict", 0), "verdict",
                       "%s differs from the scenario's verdict %s",
                       rl_verdict_name(verdict), rl_verdict_name(r->verdict));
    const char *msg = rl__json_get_str(c, ff, "message", 0);
    snprintf(e->message, sizeof e->message, "%s", msg ? msg : "");
    e->token = rl__json_dup(c, rl__json_get_str(c, ff, "token", NULLABLE));
    e->minimized_token =
        rl__json_dup(c, rl__json_get_str(c, ff, "minimized_token", NULLABLE));
    const rl__json *steps = rl__json_typed(c, ff, "steps", RL__JSON_ARR, 0);
    const rl__json *actors = rl__json_typed(c, ff, "actors", RL__JSON_ARR, 0);
    if (c->err)
        return;
    if (actors->n > RL__RESULT_MAX_ACTORS) {
        rl__json_error(c, actors, "actors", "more than %d actors",
                       RL__RESULT_MAX_ACTORS);
        return;
    }
    if (steps->n && !(e->steps = calloc((size_t)steps->n, sizeof *e->steps))) {
        rl__json_oom(c);
        return;
    }
    e->nsteps = steps->n;
    if (actors->n &&
        !(e->actors = calloc((size_t)actors->n, sizeof *e->actors))) {
        rl__json_oom(c);
        return;
    }
    e->nactors = actors->n;
    for (int i = 0; i < steps->n && !c->err; i++) {
        size_t mark = rl__json_path_push(c, ".steps[%d]", i);
        read_step(c, steps->items[i], &e->steps[i]);
        if (!c->err && e->steps[i].actor >= e->nactors)
            rl__json_error(c, steps->items[i], "actor",
                           "actor %d is not in the actor table (%d actors)",
                           e->steps[i].actor, e->nactors);
        rl__json_path_pop(c, mark);
    }
    for (int i = 0; i < actors->n && !c->err; i++) {
        size_t mark = rl__json_path_push(c, ".actors[%d]", i);
        read_actor(c, actors->items[i], &e->actors[i]);
        rl__json_path_pop(c, mark);
    }
}

static void read_access(reader *c, const rl__json *o, rl__result_access *x)
{
    if (o->t != RL__JSON_OBJ) {
        rl__json_error(c, o, NULL, "expected an object, found %s", type_of(o));
        return;
    }
    x->actor = (int)rl__json_get_int(c, o, "actor", 0,
                                     RL__RESULT_MAX_ACTORS - 1, 0, NULL);
    x->pid = (int)rl__json_get_int(c, o, "pid", INT_MIN, INT_MAX, 0, NULL);
    const char *kind = rl__json_get_str(c, o, "access", 0);
    if (kind && strcmp(kind, "read") && strcmp(kind, "write"))
        rl__json_error(c, rl__json_field(c, o, "access", 0), "access",
                       "expected \"read\" or \"write\", found \"%.40s\"",
                       kind);
    x->write = kind && strcmp(kind, "write") == 0;
    x->atomic = rl__json_get_bool(c, o, "atomic", 0) > 0;
    x->at = get_addr(c, o, "address");
    x->size = (int)rl__json_get_int(c, o, "size", 0, INT_MAX, 0, NULL);
    const char *label = rl__json_get_str(c, o, "label", 0);
    snprintf(x->label, sizeof x->label, "%s", label ? label : "");
    const char *file = rl__json_get_str(c, o, "file", NULLABLE);
    snprintf(x->file, sizeof x->file, "%s", file ? file : "");
    x->line = (int)rl__json_get_int(c, o, "line", INT_MIN, INT_MAX, 0, NULL);
    x->step = (long)rl__json_get_int(c, o, "step", 0, COUNT_MAX, 0, NULL);
    /* Absent in files written before racelab recorded it. */
    const rl__json *st = rl__json_typed(c, o, "stack", RL__JSON_ARR, OPT);
    read_stack(c, st, x->stack, sizeof x->stack);
}

/* The "races" array of a scenario: both accesses of each race; a race in
 * the failure must index steps of its trace. */
static void read_races(reader *c, const rl__json *arr, rl__result *r)
{
    if (arr->n && !(r->races = calloc((size_t)arr->n, sizeof *r->races))) {
        rl__json_oom(c);
        return;
    }
    r->nraces = arr->n;
    for (int i = 0; i < arr->n && !c->err; i++) {
        const rl__json *o = arr->items[i];
        rl__result_race *x = &r->races[i];
        size_t mark = rl__json_path_push(c, "[%d]", i);
        if (o->t != RL__JSON_OBJ) {
            rl__json_error(c, o, NULL, "expected an object, found %s",
                           type_of(o));
            rl__json_path_pop(c, mark);
            return;
        }
        x->in_failure = rl__json_get_bool(c, o, "in_failure", 0) > 0;
        const rl__json *a = rl__json_typed(c, o, "first", RL__JSON_OBJ, 0);
        const rl__json *b = rl__json_typed(c, o, "second", RL__JSON_OBJ, 0);
        if (!c->err) {
            size_t m2 = rl__json_path_push(c, ".first");
            read_access(c, a, &x->first);
            rl__json_path_pop(c, m2);
        }
        if (!c->err) {
            size_t m2 = rl__json_path_push(c, ".second");
            read_access(c, b, &x->second);
            rl__json_path_pop(c, m2);
        }
        if (!c->err && x->in_failure &&
            (r->verdict == RL_PASS || x->first.step >= r->failure.nsteps ||
             x->second.step >= r->failure.nsteps))
            rl__json_error(c, o, "in_failure",
                           "true, but its steps are not in the failure's "
                           "trace");
        rl__json_path_pop(c, mark);
    }
}

/* An external command's runs by class and its kept outputs (the stress
 * object's "command"). */
static void read_command(reader *c, const rl__json *cmd, rl__result *r)
{
    r->external = 1;
    const rl__json *cl = rl__json_typed(c, cmd, "classes", RL__JSON_OBJ, 0);
    const rl__json *kept =
        rl__json_typed(c, cmd, "kept_outputs", RL__JSON_ARR, 0);
    if (c->err)
        return;
    size_t mark = rl__json_path_push(c, ".classes");
    for (int k = 0; k < RL__RUN_CLASSES; k++)
        r->classes[k] = (long)rl__json_get_int(c, cl, rl__run_class_key(k), 0,
                                               COUNT_MAX, 0, NULL);
    rl__json_path_pop(c, mark);
    if (kept->n > RL__KEPT_OUTPUTS) {
        rl__json_error(c, kept, "kept_outputs", "more than %d outputs",
                       RL__KEPT_OUTPUTS);
        return;
    }
    for (int k = 0; k < kept->n && !c->err; k++) {
        const rl__json *v = kept->items[k];
        if (v->t != RL__JSON_STR || strlen(v->s) != v->len) {
            mark = rl__json_path_push(c, ".kept_outputs[%d]", k);
            rl__json_error(c, v, NULL,
                           "expected a string without NUL, found %s",
                           type_of(v));
            rl__json_path_pop(c, mark);
            return;
        }
        r->kept_output[k] = rl__json_dup(c, v->s);
    }
}

static void read_stress(reader *c, const rl__json *st, rl__result *r)
{
    const rl__json *vals = rl__json_typed(c, st, "values", RL__JSON_ARR, 0);
    /* Files of older writers have no "command". */
    const rl__json *cmd =
        rl__json_typed(c, st, "command", RL__JSON_OBJ, OPT | NULLABLE);
    if (c->err)
        return;
    if (vals->n > RL__HIST_MAX) {
        rl__json_error(c, vals, "values", "more than %d values", RL__HIST_MAX);
        return;
    }
    for (int i = 0; i < vals->n && !c->err; i++) {
        const rl__json *o = vals->items[i];
        size_t mark = rl__json_path_push(c, ".values[%d]", i);
        if (o->t != RL__JSON_OBJ) {
            rl__json_error(c, o, NULL, "expected an object, found %s",
                           type_of(o));
        } else {
            r->values[i] = (long)rl__json_get_int(c, o, "value", LONG_MIN,
                                                  LONG_MAX, 0, NULL);
            r->counts[i] =
                (long)rl__json_get_int(c, o, "count", 0, COUNT_MAX, 0, NULL);
        }
        rl__json_path_pop(c, mark);
    }
    r->nvalues = vals->n;
    if (cmd && !c->err) {
        size_t mark = rl__json_path_push(c, ".command");
        read_command(c, cmd, r);
        rl__json_path_pop(c, mark);
    }
}

static void read_explore(reader *c, const rl__json *ex, rl__result *r)
{
    r->bound = (int)rl__json_get_int(c, ex, "bound", -1, 1000, 0, NULL);
    r->bound_kind =
        rl__json_get_enum(c, ex, "bound_kind", 0, rl__bound_kind_name,
                          RL__BOUND_COUNT, RL__BOUND_PREEMPTIONS);
    r->reduction = rl__json_get_enum(c, ex, "reduction", 0, rl__reduction_name,
                                     RL__REDUCTION_COUNT, RL__REDUCTION_DPOR);
    int isnull = 0;
    long fc = (long)rl__json_get_int(c, ex, "found_at_bound", 0, COUNT_MAX,
                                     NULLABLE, &isnull);
    r->found_cost = isnull ? 0 : fc;
}

static void read_coverage(reader *c, const rl__json *cov, rl__result *r)
{
    r->schedule_points = (long)rl__json_get_int(c, cov, "schedule_points", 0,
                                                COUNT_MAX, 0, NULL);
    r->labels_reached =
        (long)rl__json_get_int(c, cov, "labels_reached", 0, COUNT_MAX, 0, NULL);
    r->pairs_interleaved = (long)rl__json_get_int(
        c, cov, "label_pairs_interleaved", 0, COUNT_MAX, 0, NULL);
    /* Optional: files of older writers do not have it. */
    const rl__json *sx =
        rl__json_field(c, cov, "space_explored", OPT | NULLABLE);
    r->space_explored = -1;
    if (sx && sx->t == RL__JSON_NUM) {
        double d = strtod(sx->s, NULL);
        if (d >= 0 && d <= 1)
            r->space_explored = d;
    }
}

/* The fields of a scenario object up to its first failure. */
static void read_outcome(reader *c, const rl__json *o, rl__result *r)
{
    r->name = rl__json_dup(c, rl__json_get_str(c, o, "name", 0));
    r->summary = rl__json_dup(c, rl__json_get_str(c, o, "summary", 0));
    r->expect = rl__json_get_enum(c, o, "expect", 0, rl__expect_name, 2, 0);
    r->expect_verdict = rl__json_get_enum(c, o, "expect_verdict", NULLABLE,
                                          rl_verdict_name, VERDICTS, 0);
    r->mode =
        rl__json_get_enum(c, o, "mode", 0, rl__mode_name, RL_MODE_COUNT, 0);
    r->verdict =
        rl__json_get_enum(c, o, "verdict", 0, rl_verdict_name, VERDICTS, 0);
    /* Required, but recomputed from the rest (rl__result_as_expected). */
    rl__json_get_bool(c, o, "as_expected", 0);
    r->exhausted = rl__json_get_bool(c, o, "exhausted", 0) > 0;
    r->interrupted = rl__json_get_bool(c, o, "interrupted", OPT) > 0;
    r->executions =
        (long)rl__json_get_int(c, o, "executions", 0, COUNT_MAX, 0, NULL);
    r->failures =
        (long)rl__json_get_int(c, o, "failures", 0, COUNT_MAX, 0, NULL);
    r->first_failure_run = (long)rl__json_get_int(c, o, "runs_to_first_failure",
                                                  0, COUNT_MAX, 0, NULL);
    r->duration = rl__json_get_double(c, o, "duration_s", 0, 1e15);
    r->bound = 2;
    /* Older files have no "explore" object. */
    const rl__json *ex =
        rl__json_typed(c, o, "explore", RL__JSON_OBJ, NULLABLE | OPT);
    if (ex) {
        size_t mark = rl__json_path_push(c, ".explore");
        read_explore(c, ex, r);
        rl__json_path_pop(c, mark);
    }
    const rl__json *pc =
        rl__json_typed(c, o, "pct", RL__JSON_OBJ, NULLABLE | OPT);
    if (pc) {
        size_t mark = rl__json_path_push(c, ".pct");
        r->pct_depth = (int)rl__json_get_int(c, pc, "depth", 1, 64, 0, NULL);
        r->pct_actors = (int)rl__json_get_int(c, pc, "actors", 1,
                                              RL__RESULT_MAX_ACTORS, 0, NULL);
        r->pct_steps =
            (long)rl__json_get_int(c, pc, "steps", 1, COUNT_MAX, 0, NULL);
        rl__json_path_pop(c, mark);
    }
}

static void read_scenario(reader *c, const rl__json *o, rl__result *r,
                          uint64_t seed)
{
    r->seed = seed;
    r->space_explored = -1;
    if (o->t != RL__JSON_OBJ) {
        rl__json_error(c, o, NULL, "expected an object, found %s", type_of(o));
        return;
    }
    read_outcome(c, o, r);
    const rl__json *ff =
        rl__json_typed(c, o, "first_failure", RL__JSON_OBJ, NULLABLE);
    const rl__json *st =
        rl__json_typed(c, o, "stress", RL__JSON_OBJ,
                       r->mode == RL_MODE_STRESS ? 0 : NULLABLE | OPT);
    const rl__json *cov = rl__json_typed(c, o, "coverage", RL__JSON_OBJ, 0);
    if (c->err)
        return;
    if (r->failures > r->executions)
        rl__json_error(c, rl__json_field(c, o, "failures", 0), "failures",
                       "%ld failures in %ld executions", r->failures,
                       r->executions);
    if (!ff && r->verdict != RL_PASS)
        rl__json_error(c, o, "first_failure", "null, but the verdict is %s",
                       rl_verdict_name(r->verdict));
    if (ff && r->verdict == RL_PASS)
        rl__json_error(c, ff, "first_failure",
                       "given, but the verdict is PASS");
    struct {
        const char *name;
        const rl__json *v;
        void (*read)(reader *, const rl__json *, rl__result *);
    } parts[] = {
        {".first_failure", ff, read_failure},
        {".stress", r->mode == RL_MODE_STRESS ? st : NULL, read_stress},
        {".coverage", cov, read_coverage}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && !c->err; i++) {
        if (!parts[i].v)
            continue;
        size_t mark = rl__json_path_push(c, "%s", parts[i].name);
        parts[i].read(c, parts[i].v, r);
        rl__json_path_pop(c, mark);
    }
    /* Files of older writers have no "races". */
    const rl__json *races = rl__json_typed(c, o, "races", RL__JSON_ARR, OPT);
    if (races && !c->err) {
        size_t mark = rl__json_path_push(c, ".races");
        read_races(c, races, r);
        rl__json_path_pop(c, mark);
    }
}

static void read_top(reader *c, const rl__json *root, rl__loaded *out)
{
    if (root->t != RL__JSON_OBJ) {
        rl__json_error(c, root, NULL,
                       "not racelab results: expected an object at "
                       "the top level, found %s",
                       type_of(root));
        return;
    }
    const char *schema = rl__json_get_str(c, root, "schema", 0);
    if (c->err)
        return;
    if (strcmp(schema, SCHEMA) != 0) {
        rl__json_error(
            c, rl__json_field(c, root, "schema", 0), "schema",
            "not racelab results: \"%.60s\", expected \"" SCHEMA "\"", schema);
        return;
    }
    out->seed = rl__json_get_u64(c, root, "seed");
    out->started_at =
        rl__json_dup(c, rl__json_get_str(c, root, "started_at", 0));
    out->command_line =
        rl__json_dup(c, rl__json_get_str(c, root, "command_line", 0));
    const rl__json *sc = rl__json_typed(c, root, "scenarios", RL__JSON_ARR, 0);
    if (c->err)
        return;
    if (sc->n &&
        !(out->results = calloc((size_t)sc->n, sizeof *out->results))) {
        rl__json_oom(c);
        return;
    }
    for (int i = 0; i < sc->n && !c->err; i++) {
        out->n = i + 1;
        size_t mark = rl__json_path_push(c, "scenarios[%d]", i);
        read_scenario(c, sc->items[i], &out->results[i], out->seed);
        rl__json_path_pop(c, mark);
    }
}

int rl__results_read(const char *path, rl__loaded *out)
{
    memset(out, 0, sizeof *out);
    rl__json_doc doc;
    int err = rl__json_load(path, MAX_FILE, &doc);
    if (err < 0)
        return err;
    reader c = {.file = path};
    read_top(&c, doc.root, out);
    err = c.err;
    if (!err && !(out->path = strdup(path)))
        err = rl__fail(-ENOMEM, "%s: out of memory", path);
    rl__json_doc_free(&doc);
    if (err < 0)
        rl__loaded_free(out);
    return err;
}

void rl__loaded_free(rl__loaded *l)
{
    for (int i = 0; i < l->n; i++)
        rl__result_free(&l->results[i]);
    free(l->results);
    free(l->started_at);
    free(l->command_line);
    free(l->path);
    free(l->note);
    memset(l, 0, sizeof *l);
}

rl__report rl__loaded_report(const rl__loaded *l)
{
    rl__report rep = {.results = l->results,
                      .n = l->n,
                      .seed = l->seed,
                      .started_at = l->started_at,
                      .command_line = l->command_line};
    return rep;
}
