/* json.c: the results model written as JSON, schema racelab-results/1. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "report.h"

/* Shorthand: s as a JSON string. */
static void jstr(FILE *f, const char *s)
{
    rl__json_string(f, s);
}

/* An address as "%p" writes it. */
static void jaddr(FILE *f, uintptr_t a)
{
    fprintf(f, "\"0x%" PRIxPTR "\"", a);
}

/* ", "stack": [...]": a stack, one frame a line, as an array of its
 * frames (empty lines left out). */
static void write_stack(FILE *f, const char *stack)
{
    fprintf(f, ", \"stack\": [");
    const char *p = stack;
    int first = 1;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)(n < 255 ? n : 255), p);
        if (line[0]) {
            fprintf(f, "%s", first ? "" : ", ");
            jstr(f, line);
            first = 0;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    fputc(']', f);
}

static void write_failure(FILE *f, const rl__result *r)
{
    const rl__result_failure *e = &r->failure;
    fprintf(f, "      \"first_failure\": {\n        \"verdict\": ");
    jstr(f, rl_verdict_name(r->verdict));
    fprintf(f, ",\n        \"message\": ");
    jstr(f, e->message);
    fprintf(f, ",\n        \"token\": ");
    if (e->token)
        jstr(f, e->token);
    else
        fputs("null", f);
    fprintf(f, ",\n        \"minimized_token\": ");
    if (e->minimized_token)
        jstr(f, e->minimized_token);
    else
        fputs("null", f);
    fprintf(f, ",\n        \"steps\": [");
    for (long i = 0; i < e->nsteps; i++) {
        const rl__result_step *s = &e->steps[i];
        int access = s->access;
        fprintf(f,
                "%s\n          {\"step\": %ld, \"actor\": %d, "
                "\"pid\": %d, \"op\": ",
                i ? "," : "", i, s->actor, s->pid);
        jstr(f, s->op);
        fprintf(f, ", \"object\": ");
        if (s->at && !access)
            jaddr(f, s->at);
        else
            fputs("null", f);
        fprintf(f, ", \"address\": ");
        if (s->at && access)
            jaddr(f, s->at);
        else
            fputs("null", f);
        fprintf(f, ", \"shared\": %s, \"value\": ",
                access ? (s->shared ? "true" : "false") : "null");
        if (s->has_value)
            fprintf(f, "%ld", s->value);
        else
            fputs("null", f);
        fprintf(f, ", \"label\": ");
        jstr(f, s->label);
        fprintf(f, ", \"file\": ");
        if (s->file[0])
            jstr(f, s->file);
        else
            fputs("null", f);
        fprintf(f, ", \"line\": %d, \"preemption\": %s}", s->line,
                s->preemption ? "true" : "false");
    }
    fprintf(f, "%s],\n        \"actors\": [", e->nsteps ? "\n        " : "");
    for (int i = 0; i < e->nactors; i++) {
        const rl__result_actor *a = &e->actors[i];
        fprintf(f, "%s\n          {\"id\": %d, \"name\": ", i ? "," : "", i);
        jstr(f, a->name);
        fprintf(f, ", \"pid\": %d, \"start_method\": ", a->pid);
        jstr(f, rl__started_name(a->started_by));
        fprintf(f, ", \"state\": ");
        jstr(f, rl__state_name(a->state));
        fprintf(f, ", \"wait_reason\": ");
        if (a->state == RL__STATE_BLOCKED)
            jstr(f, a->wait_reason);
        else
            fputs("null", f);
        fprintf(f, ", \"exit\": ");
        if (a->state == RL__STATE_FINISHED)
            fprintf(f, "%d", a->exit_code);
        else
            fputs("null", f);
        write_stack(f, a->stack);
        fprintf(f, "}");
    }
    fprintf(f, "%s]\n      },\n", e->nactors ? "\n        " : "");
}

static void write_access(FILE *f, const rl__result_access *x)
{
    fprintf(f, "{\"actor\": %d, \"pid\": %d, \"access\": \"%s\", "
               "\"atomic\": %s, \"address\": ",
            x->actor, x->pid, x->write ? "write" : "read",
            x->atomic ? "true" : "false");
    jaddr(f, x->at);
    fprintf(f, ", \"size\": %d, \"label\": ", x->size);
    jstr(f, x->label);
    fprintf(f, ", \"file\": ");
    if (x->file[0])
        jstr(f, x->file);
    else
        fputs("null", f);
    fprintf(f, ", \"line\": %d, \"step\": %ld", x->line, x->step);
    write_stack(f, x->stack);
    fputc('}', f);
}

/* The data races of a scenario: both accesses of each. */
static void write_races(FILE *f, const rl__result *r)
{
    fprintf(f, "      \"races\": [");
    for (long i = 0; i < r->nraces; i++) {
        const rl__result_race *x = &r->races[i];
        fprintf(f, "%s\n        {\"in_failure\": %s,\n         \"first\": ",
                i ? "," : "", x->in_failure ? "true" : "false");
        write_access(f, &x->first);
        fprintf(f, ",\n         \"second\": ");
        write_access(f, &x->second);
        fputs("}", f);
    }
    fprintf(f, "%s],\n", r->nraces ? "\n      " : "");
}

/* An external command's runs by how they ended, and the outputs kept of
 * the first failing ones; null for a scenario. */
static void write_command(FILE *f, const rl__result *r)
{
    if (!r->external) {
        fputs("null", f);
        return;
    }
    fputs("{\"classes\": {", f);
    for (int k = 0; k < RL__RUN_CLASSES; k++)
        fprintf(f, "%s\"%s\": %ld", k ? ", " : "", rl__run_class_key(k),
                r->classes[k]);
    fputs("}, \"kept_outputs\": [", f);
    for (int k = 0; k < RL__KEPT_OUTPUTS && r->kept_output[k]; k++) {
        fputs(k ? ", " : "", f);
        jstr(f, r->kept_output[k]);
    }
    fputs("]}", f);
}

int rl__report_json(FILE *f, const rl__report *rep)
{
    struct utsname u;
    uname(&u);
    fprintf(f, "{\n  \"schema\": \"racelab-results/1\",\n"
               "  \"tool\": {\"name\": \"racelab\", \"version\": ");
    jstr(f, RL_VERSION);
    fprintf(f, "},\n  \"started_at\": ");
    jstr(f, rep->started_at);
    fprintf(f, ",\n  \"host\": {\"cores\": %ld, \"kernel\": ",
            sysconf(_SC_NPROCESSORS_ONLN));
    jstr(f, u.release);
    fprintf(f, "},\n  \"command_line\": ");
    jstr(f, rep->command_line);
    fprintf(f, ",\n  \"seed\": %llu,\n  \"scenarios\": [",
            (unsigned long long)rep->seed);
    for (int i = 0; i < rep->n; i++) {
        const rl__result *r = &rep->results[i];
        fprintf(f, "%s\n    {\n      \"name\": ", i ? "," : "");
        jstr(f, r->name);
        fprintf(f, ",\n      \"summary\": ");
        jstr(f, r->summary);
        fprintf(f, ",\n      \"expect\": ");
        jstr(f, rl__expect_name(r->expect == RL_EXPECT_BUG));
        fprintf(f, ",\n      \"expect_verdict\": ");
        if (r->expect == RL_EXPECT_BUG && r->expect_verdict)
            jstr(f, rl_verdict_name(r->expect_verdict));
        else
            fputs("null", f);
        fprintf(f, ",\n      \"mode\": ");
        jstr(f, rl__mode_name(r->mode));
        fprintf(f, ",\n      \"verdict\": ");
        jstr(f, rl_verdict_name(r->verdict));
        fprintf(f,
                ",\n      \"as_expected\": %s,\n      \"interrupted\": %s,"
                "\n      \"exhausted\": %s,"
                "\n      \"executions\": %ld,\n      \"failures\": %ld,"
                "\n      \"runs_to_first_failure\": %ld,"
                "\n      \"duration_s\": %.3f,\n",
                rl__result_as_expected(r) ? "true" : "false",
                r->interrupted ? "true" : "false",
                r->exhausted ? "true" : "false", r->executions, r->failures,
                r->first_failure_run, r->duration);
        if (r->mode == RL_MODE_EXPLORE) {
            fprintf(f,
                    "      \"explore\": {\"bound\": %d, \"bound_kind\": "
                    "\"%s\", \"reduction\": \"%s\", \"found_at_bound\": ",
                    r->bound, rl__bound_kind_name(r->bound_kind),
                    rl__reduction_name(r->reduction));
            if (r->verdict != RL_PASS && !r->interrupted)
                fprintf(f, "%ld},\n", r->found_cost);
            else
                fprintf(f, "null},\n");
        }
        if (r->mode == RL_MODE_PCT && r->pct_depth > 0)
            fprintf(
                f,
                "      \"pct\": {\"depth\": %d, \"actors\": %d, "
                "\"steps\": %ld, \"probability\": %.6g, "
                "\"runs_for_95\": %ld},\n",
                r->pct_depth, r->pct_actors, r->pct_steps,
                rl__pct_probability(r->pct_depth, r->pct_actors, r->pct_steps),
                rl__pct_runs_for_95(r->pct_depth, r->pct_actors, r->pct_steps));
        if (r->verdict != RL_PASS)
            write_failure(f, r);
        else
            fprintf(f, "      \"first_failure\": null,\n");
        write_races(f, r);
        if (r->mode == RL_MODE_STRESS) {
            double lo, hi;
            rl__wilson(r->failures, r->executions, &lo, &hi);
            fprintf(f,
                    "      \"stress\": {\"runs\": %ld, \"failures\": %ld, "
                    "\"rate\": %.6f, \"ci95_low\": %.6f, \"ci95_high\": "
                    "%.6f, \"values\": [",
                    r->executions, r->failures,
                    r->executions ? (double)r->failures / (double)r->executions
                                  : 0.0,
                    lo, hi);
            for (int k = 0; k < r->nvalues; k++)
                fprintf(f, "%s{\"value\": %ld, \"count\": %ld}", k ? ", " : "",
                        r->values[k], r->counts[k]);
            fprintf(f, "], \"command\": ");
            write_command(f, r);
            fprintf(f, "},\n");
        } else {
            fprintf(f, "      \"stress\": null,\n");
        }
        fprintf(f,
                "      \"coverage\": {\"schedule_points\": %ld, "
                "\"labels_reached\": %ld, \"label_pairs_interleaved\": "
                "%ld, \"space_explored\": ",
                r->schedule_points, r->labels_reached, r->pairs_interleaved);
        if (r->mode == RL_MODE_EXPLORE && r->space_explored >= 0)
            fprintf(f, "%.4f}\n    }", r->space_explored);
        else
            fprintf(f, "null}\n    }");
    }
    fprintf(f, "%s]\n}\n", rep->n ? "\n  " : "");
    return ferror(f) ? -1 : 0;
}
