/* json.c: the results model written as JSON, schema racelab-results/1. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "report.h"

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;
         p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static const char *state_name(int s)
{
    switch (s) {
    case RL__ACTOR_RUNNABLE:
        return "runnable";
    case RL__ACTOR_BLOCKED:
        return "blocked";
    case RL__ACTOR_FINISHED:
        return "finished";
    default:
        return "unused";
    }
}

static const char *method_name(int m)
{
    return m == RL_START_SPAWN        ? "spawn"
           : m == RL_START_FORKSERVER ? "forkserver"
                                      : "fork";
}

static void write_failure(FILE *f, const rl__search_result *r)
{
    const rl__exec_result *e = &r->first;
    fprintf(f, "      \"first_failure\": {\n        \"verdict\": ");
    jstr(f, rl_verdict_name(r->verdict));
    fprintf(f, ",\n        \"message\": ");
    jstr(f, e->message);
    fprintf(f, ",\n        \"token\": ");
    if (r->token)
        jstr(f, r->token);
    else
        fputs("null", f);
    fprintf(f, ",\n        \"minimized_token\": ");
    if (r->minimized_token)
        jstr(f, r->minimized_token);
    else
        fputs("null", f);
    fprintf(f, ",\n        \"steps\": [");
    for (long i = 0; i < e->nsteps; i++) {
        const rl__step *s = &e->steps[i];
        int access = s->op == RL_OP_LOAD || s->op == RL_OP_STORE ||
                     s->op == RL_OP_FETCH_ADD;
        fprintf(f,
                "%s\n          {\"step\": %ld, \"actor\": %d, "
                "\"pid\": %d, \"op\": ",
                i ? "," : "", i, s->actor, (int)s->pid);
        jstr(f, rl__op_name((rl__op)s->op));
        char obj[32];
        snprintf(obj, sizeof obj, "%p", s->obj);
        fprintf(f, ", \"object\": ");
        if (s->obj && !access)
            jstr(f, obj);
        else
            fputs("null", f);
        fprintf(f, ", \"address\": ");
        if (s->obj && access)
            jstr(f, obj);
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
        fprintf(f, ", \"line\": %d}", s->line);
    }
    fprintf(f, "%s],\n        \"actors\": [", e->nsteps ? "\n        " : "");
    for (int i = 0; i < e->nactors; i++) {
        const rl__actor *a = &e->actors[i];
        fprintf(f, "%s\n          {\"id\": %d, \"name\": ", i ? "," : "", i);
        jstr(f, a->name);
        fprintf(f, ", \"pid\": %d, \"start_method\": ", (int)a->pid);
        jstr(f, i == 0 ? "root" : method_name(a->method));
        fprintf(f, ", \"state\": ");
        jstr(f, state_name(a->state));
        fprintf(f, ", \"wait_reason\": ");
        if (a->state == RL__ACTOR_BLOCKED)
            jstr(f, a->reason);
        else
            fputs("null", f);
        fprintf(f, ", \"exit\": ");
        if (a->state == RL__ACTOR_FINISHED)
            fprintf(f, "%d", a->exit_code);
        else
            fputs("null", f);
        fprintf(f, ", \"stack\": [");
        const char *p = a->stack;
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
        fprintf(f, "]}");
    }
    fprintf(f, "%s]\n      },\n", e->nactors ? "\n        " : "");
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
        const rl__search_result *r = &rep->results[i];
        const rl_scenario *sc = r->sc;
        fprintf(f, "%s\n    {\n      \"name\": ", i ? "," : "");
        jstr(f, sc->name);
        fprintf(f, ",\n      \"summary\": ");
        jstr(f, sc->summary);
        fprintf(f, ",\n      \"expect\": ");
        jstr(f, sc->expect == RL_EXPECT_BUG ? "bug" : "clean");
        fprintf(f, ",\n      \"expect_verdict\": ");
        if (sc->expect == RL_EXPECT_BUG && sc->expect_verdict)
            jstr(f, rl_verdict_name(sc->expect_verdict));
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
                r->as_expected ? "true" : "false",
                r->interrupted ? "true" : "false",
                r->exhausted ? "true" : "false", r->executions, r->failures,
                r->first_failure_run, r->duration);
        if (r->mode == RL_MODE_EXPLORE) {
            fprintf(
                f,
                "      \"explore\": {\"bound\": %d, \"bound_kind\": \"%s\", "
                "\"reduction\": \"%s\", \"found_at_bound\": ",
                r->bound,
                r->bound_kind == RL__BOUND_DELAYS ? "delays" : "preemptions",
                r->reduction == RL__REDUCTION_NONE ? "none" : "dpor");
            if (r->verdict != RL_PASS && !r->interrupted)
                fprintf(f, "%ld},\n", r->found_cost);
            else
                fprintf(f, "null},\n");
        }
        if (r->mode == RL_MODE_PCT && r->pct_depth > 0)
            fprintf(f,
                    "      \"pct\": {\"depth\": %d, \"actors\": %d, "
                    "\"steps\": %ld, \"probability\": %.6g, "
                    "\"runs_for_95\": %ld},\n",
                    r->pct_depth, r->pct_actors, r->pct_steps,
                    rl__pct_probability(r), rl__pct_runs_for_95(r));
        if (r->verdict != RL_PASS)
            write_failure(f, r);
        else
            fprintf(f, "      \"first_failure\": null,\n");
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
            fprintf(f, "]},\n");
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
