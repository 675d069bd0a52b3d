/* tap.c: the results model as TAP, one test point per scenario with a
 * YAML block: version 13 by default, which every consumer reads (Perl's
 * TAP::Harness 3.44, in Debian 12, fails a whole stream that says 14),
 * or version 14 on request. The points are the same in both. */
#include <stdio.h>
#include <string.h>

#include "report.h"

/* Writes s as a YAML double-quoted scalar, cleaned of escape sequences
 * and control characters. */
static void yaml_str(FILE *f, const char *s)
{
    fputc('"', f);
    uint32_t c;
    while (s && (c = rl__report_next_char(&s))) {
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", (int)c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else
            rl__report_put_char(f, c);
    }
    fputc('"', f);
}

/* Writes a test point's description: one line, '#' and '\' escaped as
 * TAP 14 asks. */
static void description(FILE *f, const char *s)
{
    uint32_t c;
    while (s && (c = rl__report_next_char(&s))) {
        if (c == '#' || c == '\\')
            fprintf(f, "\\%c", (int)c);
        else if (c == '\n' || c == '\t')
            fputc(' ', f);
        else
            rl__report_put_char(f, c);
    }
}

/* The frames of a stack (one a line) as the items of a YAML flow
 * sequence. */
static void yaml_frames(FILE *f, const char *stack)
{
    int first = 1;
    for (const char *p = stack; *p;) {
        size_t n = strcspn(p, "\n");
        char frame[256];
        snprintf(frame, sizeof frame, "%.*s", (int)(n < 255 ? n : 255), p);
        if (frame[0]) {
            fputs(first ? "" : ", ", f);
            yaml_str(f, frame);
            first = 0;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
}

static void write_point(FILE *f, int i, const rl__result *r, uint64_t seed)
{
    fprintf(f, "%s %d - ",
            rl__result_as_expected(r) || r->interrupted ? "ok" : "not ok", i);
    description(f, r->name);
    /* Stopped before it ended: neither a pass nor a failure. */
    if (r->interrupted)
        fprintf(f, " # SKIP interrupted after %ld execution%s", r->executions,
                r->executions == 1 ? "" : "s");
    fputs("\n  ---\n", f);
    fprintf(f, "  seed: %llu\n",
            (unsigned long long)(r->seed ? r->seed : seed));
    fprintf(f, "  expect: %s%s%s\n",
            r->expect == RL_EXPECT_BUG ? "bug" : "clean",
            r->expect == RL_EXPECT_BUG && r->expect_verdict ? " " : "",
            r->expect == RL_EXPECT_BUG && r->expect_verdict
                ? rl_verdict_name(r->expect_verdict)
                : "");
    fprintf(f, "  verdict: %s\n", rl_verdict_name(r->verdict));
    if (r->interrupted)
        fputs("  interrupted: true\n", f);
    fprintf(f, "  mode: %s\n", rl__mode_name(r->mode));
    fprintf(f, "  executions: %ld\n", r->executions);
    fprintf(f, "  failures: %ld\n", r->failures);
    fprintf(f, "  duration_s: %.3f\n", r->duration > 0 ? r->duration : 0.0);
    if (r->mode == RL_MODE_STRESS) {
        double lo, hi;
        rl__wilson(r->failures, r->executions, &lo, &hi);
        fprintf(f, "  failure_rate: %.6f\n  ci95: [%.6f, %.6f]\n",
                r->executions ? (double)r->failures / (double)r->executions
                              : 0.0,
                lo, hi);
    }
    if (r->failure.token) {
        fputs("  token: ", f);
        yaml_str(f, r->failure.token);
        fputs("\n", f);
    }
    if (r->failure.minimized_token) {
        fputs("  minimized_token: ", f);
        yaml_str(f, r->failure.minimized_token);
        fputs("\n", f);
    }
    if (r->verdict != RL_PASS) {
        fputs("  message: ", f);
        yaml_str(f, r->failure.message);
        fputs("\n", f);
    } else if (!rl__result_as_expected(r)) {
        fprintf(f,
                "  message: \"expected a bug, none found in %ld "
                "executions\"\n",
                r->executions);
    }
    if (r->nraces > 0) {
        fputs("  races:\n", f);
        for (long k = 0; k < r->nraces; k++) {
            const rl__result_race *x = &r->races[k];
            const rl__result_access *acc[2] = {&x->first, &x->second};
            for (int j = 0; j < 2; j++) {
                const rl__result_access *a = acc[j];
                fprintf(f,
                        "    %s %s: {actor: %d, pid: %d, access: %s, "
                        "atomic: %s, address: \"%#lx\", size: %d, label: ",
                        j ? " " : "-", j ? "second" : "first", a->actor, a->pid,
                        a->write ? "write" : "read",
                        a->atomic ? "true" : "false", (unsigned long)a->at,
                        a->size);
                yaml_str(f, a->label);
                fputs(", file: ", f);
                if (a->file[0])
                    yaml_str(f, a->file);
                else
                    fputs("null", f);
                fprintf(f, ", line: %d, step: %ld, stack: [", a->line,
                        a->step);
                yaml_frames(f, a->stack);
                fputs("]}\n", f);
            }
            fprintf(f, "      in_failure: %s\n",
                    x->in_failure ? "true" : "false");
        }
    }
    fputs("  ...\n", f);
}

int rl__report_tap(FILE *f, const rl__report *rep)
{
    void *loc = rl__report_c_locale();
    fprintf(f, "TAP version %d\n1..%d\n",
            rep->tap_version == 14 ? 14 : 13, rep->n);
    for (int i = 0; i < rep->n; i++)
        write_point(f, i + 1, &rep->results[i], rep->seed);
    rl__report_restore_locale(loc);
    return ferror(f) ? -1 : 0;
}
