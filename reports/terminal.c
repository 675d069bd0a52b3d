/* terminal.c: the terminal writer: what racelab prints on a terminal for
 * people (result lines, trace table, stress summary, progress, colour);
 * the files for tools are the other writers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "terminal.h"

rl__term rl__term_open(int when, const char *prog)
{
    rl__term t = {stdout, stderr, 0, prog};
    if (when == RL__COLOR_ALWAYS)
        t.color = 1;
    else if (when == RL__COLOR_NEVER)
        t.color = 0;
    else
        t.color = isatty(fileno(t.out)) && !getenv("NO_COLOR");
    return t;
}

/* The escape sequence code when the writer colours, else nothing. */
static const char *color(const rl__term *t, const char *code)
{
    return t->color ? code : "";
}

const char *rl__term_text(const char *s, int lines)
{
    static char bufs[4][4096 + 8];
    static int next;
    char *out = bufs[next];
    next = (next + 1) % 4;
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    for (; *p && n < 4096; p++) {
        int c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
        if ((*p < 0x20 && !(lines && (*p == '\n' || *p == '\t'))) ||
            *p == 0x7f || c1) {
            n += (size_t)snprintf(out + n, 8, "\\x%02x", *p);
            if (c1)
                n += (size_t)snprintf(out + n, 8, "\\x%02x", *++p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n] = '\0';
    return out;
}

void rl__term_trace(const rl__term *t, const rl__exec_result *e)
{
    fprintf(t->out, "%5s %5s %7s  %-10s %-18s %-12s %s\n", "step", "actor",
            "pid", "op", "object", "value", "where");
    for (long i = 0; i < e->nsteps; i++) {
        const rl__step *s = &e->steps[i];
        char obj[32] = "", val[24] = "", where[96] = "";
        if (s->obj)
            snprintf(obj, sizeof obj, "%p%s", s->obj,
                     s->op == RL_OP_LOAD || s->op == RL_OP_STORE ||
                             s->op == RL_OP_FETCH_ADD
                         ? (s->shared ? "" : " priv")
                         : "");
        if (s->has_value)
            snprintf(val, sizeof val, "%ld", s->value);
        if (s->file[0])
            snprintf(where, sizeof where, "%s %s:%d", s->label, s->file,
                     s->line);
        else
            snprintf(where, sizeof where, "%s", s->label);
        snprintf(where, sizeof where, "%s", rl__term_text(where, 0));
        fprintf(t->out, "%5ld %5d %7d  %-10s %-18s %-12s %s\n", i, s->actor,
                s->pid, rl__op_name((rl__op)s->op), obj, val, where);
    }
}

/* What explore adds to a result line: how the search ended, or what the
 * failing schedule cost. */
static void explore_tail(const rl__term *t, const rl__result *r)
{
    const char *kind =
        r->bound_kind == RL__BOUND_DELAYS ? "delay" : "preemption";
    if (r->verdict == RL_PASS) {
        char bound[32];
        if (r->bound >= 0)
            snprintf(bound, sizeof bound, "%s bound %d", kind, r->bound);
        else
            snprintf(bound, sizeof bound, "no %s bound", kind);
        fprintf(t->out, "  %s, %s, no failure",
                r->exhausted ? "exhausted" : "execution limit reached", bound);
    } else {
        /* Cheaper schedules were all tried first: none has fewer. */
        fprintf(t->out, "  found with %ld %s%s", r->found_cost, kind,
                r->found_cost == 1 ? "" : "s");
    }
}

/* What pct and stress add to a result line: pct's guarantee, the failure
 * rate with its interval. */
static void sampled_tail(const rl__term *t, const rl__result *r)
{
    if (r->mode == RL_MODE_PCT && r->pct_depth > 0)
        fprintf(t->out,
                "  depth %d: each run finds a depth-%d bug with p >= "
                "1/(%d*%ld^%d) = %.3g; %ld runs for 95%%",
                r->pct_depth, r->pct_depth, r->pct_actors, r->pct_steps,
                r->pct_depth - 1,
                rl__pct_probability(r->pct_depth, r->pct_actors, r->pct_steps),
                rl__pct_runs_for_95(r->pct_depth, r->pct_actors,
                                    r->pct_steps));
    if (r->mode == RL_MODE_STRESS) {
        double lo, hi;
        rl__wilson(r->failures, r->executions, &lo, &hi);
        fprintf(t->out, "  failures %ld/%ld rate %.3f [%.3f, %.3f]",
                r->failures, r->executions,
                r->executions ? (double)r->failures / (double)r->executions
                              : 0.0,
                lo, hi);
        if (r->first_failure_run)
            fprintf(t->out, ", first at run %ld", r->first_failure_run);
    }
}

/* The histogram of the values rl_check_eq saw in stress, most frequent
 * first. */
static void histogram(const rl__term *t, const rl__result *r)
{
    int order[RL__HIST_MAX];
    for (int i = 0; i < r->nvalues; i++)
        order[i] = i;
    for (int i = 1; i < r->nvalues; i++)
        for (int j = i; j > 0 && r->counts[order[j]] > r->counts[order[j - 1]];
             j--) {
            int k = order[j];
            order[j] = order[j - 1];
            order[j - 1] = k;
        }
    fprintf(t->out, "    checked values:");
    for (int i = 0; i < r->nvalues && i < 12; i++)
        fprintf(t->out, "%s %ld in %ld run%s", i ? "," : "",
                r->values[order[i]], r->counts[order[i]],
                r->counts[order[i]] == 1 ? "" : "s");
    fprintf(t->out, "%s\n", r->nvalues > 12 ? " ..." : "");
}

/* The stack of one access of a race under its pair of lines, its frames
 * only (the note of folded frames is for the files). */
static void race_stack(const rl__term *t, const char *which, const char *stack)
{
    int first = 1;
    for (const char *p = stack; *p;) {
        size_t n = strcspn(p, "\n");
        if (p[0] == '#') {
            char frame[256];
            snprintf(frame, sizeof frame, "%.*s", (int)(n < 255 ? n : 255), p);
            fprintf(t->out, "        %-8s %s\n", first ? which : "",
                    rl__term_text(frame, 0));
            first = 0;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
}

/* The races of a result, both accesses of each and their stacks; the
 * trace they index is the failure's unless a race says it is not kept. */
static void races(const rl__term *t, const rl__result *r)
{
    const long show = 8;
    for (long i = 0; i < r->nraces && i < show; i++) {
        char a[256], b[256];
        rl__result_access_text(&r->races[i].first, a, sizeof a);
        rl__result_access_text(&r->races[i].second, b, sizeof b);
        fprintf(t->out, "    %srace%s %ld: %s\n             and %s%s\n",
                color(t, "\033[35m"), color(t, "\033[0m"), i + 1,
                rl__term_text(a, 0), rl__term_text(b, 0),
                r->races[i].in_failure ? "" : " (a passing execution)");
        race_stack(t, "first:", r->races[i].first.stack);
        race_stack(t, "second:", r->races[i].second.stack);
    }
    if (r->nraces > show)
        fprintf(t->out, "    ... %ld more races in the results file\n",
                r->nraces - show);
}

void rl__term_result(const rl__term *t, const rl__result *r)
{
    int ok = rl__result_as_expected(r);
    const char *mark = r->interrupted ? "INTERRUPTED"
                       : ok           ? "ok"
                                      : "UNEXPECTED";
    const char *col = r->interrupted ? "\033[33m"
                      : ok           ? "\033[32m"
                                     : "\033[31m";
    /* Stopped before the search ended: no PASS, the counts so far. */
    const char *verdict = r->interrupted && r->verdict == RL_PASS
                              ? "-"
                              : rl_verdict_name(r->verdict);
    fprintf(t->out, "%s%-10s%s %-28s %-9s %-8s %6ld executions %8.3fs",
            color(t, col), mark, color(t, "\033[0m"),
            rl__term_text(r->name, 0), verdict, rl__mode_name(r->mode),
            r->executions, r->duration);
    if (r->interrupted)
        fprintf(t->out, "  interrupted: the counts so far");
    else if (r->mode == RL_MODE_EXPLORE)
        explore_tail(t, r);
    sampled_tail(t, r);
    fprintf(t->out, "\n");
    if (r->mode == RL_MODE_STRESS && r->nvalues > 0)
        histogram(t, r);
    if (r->verdict != RL_PASS) {
        const rl__result_failure *f = &r->failure;
        fprintf(t->out, "    %s\n", rl__term_text(f->message, 1));
        if (f->token)
            fprintf(t->out, "    replay: %s replay '%s'\n", t->prog,
                    rl__term_text(f->token, 0));
        if (f->minimized_token && f->token &&
            strcmp(f->minimized_token, f->token) != 0)
            fprintf(t->out, "    minimized: %s replay '%s'\n", t->prog,
                    rl__term_text(f->minimized_token, 0));
    }
    races(t, r);
}

void rl__term_replay(const rl__term *t, const rl__search_result *r)
{
    fprintf(t->out, "%s%s%s %s\n",
            color(t, r->verdict == RL_PASS ? "\033[32m" : "\033[31m"),
            rl_verdict_name(r->verdict), color(t, "\033[0m"),
            rl__term_text(r->first.message, 1));
}

void rl__term_minimized(const rl__term *t, const rl__search_result *r)
{
    fprintf(t->out, "%s %s\n", rl_verdict_name(r->verdict),
            rl__term_text(r->first.message, 1));
    fprintf(t->out, "minimized: %s (%ld executions tried)\n",
            r->minimized_token, r->executions);
    fprintf(t->out, "replay: %s replay '%s'\n", t->prog, r->minimized_token);
}

void rl__term_stress(const rl__term *t, const rl__result *r)
{
    static const char *const class_names[RL__RUN_CLASSES] = {
        "as expected", "wrong exit", "wrong output", "signal", "timeout"};
    double lo, hi;
    rl__wilson(r->failures, r->executions, &lo, &hi);
    fprintf(t->out, "%s: %ld runs, %ld failed, rate %.3f (95%% CI %.3f-%.3f)",
            rl__term_text(r->name, 0), r->executions, r->failures,
            r->executions ? (double)r->failures / (double)r->executions : 0.0,
            lo, hi);
    if (r->first_failure_run)
        fprintf(t->out, ", first failure at run %ld", r->first_failure_run);
    fprintf(t->out, "\n  ");
    for (int k = 0; k < RL__RUN_CLASSES; k++)
        fprintf(t->out, "%s%s: %ld", k ? ", " : "", class_names[k],
                r->classes[k]);
    fprintf(t->out, "\n");
    if (r->failures)
        fprintf(t->out, "  first failure: %s\n",
                rl__term_text(r->failure.message, 1));
    for (int k = 0; k < RL__KEPT_OUTPUTS && r->kept_output[k]; k++) {
        size_t len = strlen(r->kept_output[k]);
        while (len && r->kept_output[k][len - 1] == '\n')
            len--;
        char *cut = strndup(r->kept_output[k], len);
        fprintf(t->out, "  --- %s\n", rl__term_text(cut ? cut : "", 1));
        free(cut);
    }
}

void rl__term_progress(const rl__term *t, long done, long total, long bad,
                       const char *what, double t0)
{
    double el = rl__now() - t0;
    if (isatty(fileno(t->err))) {
        int width = 30, fill = total ? (int)(width * done / total) : width;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(t->err, "\r[%s] %ld/%ld, %ld %s, %.1fs%s", bar, done, total,
                bad, what, el, done == total ? "\n" : "");
    } else {
        fprintf(t->err, "%s: %ld/%ld done, %ld %s, %.1fs\n", t->prog, done,
                total, bad, what, el);
    }
}
