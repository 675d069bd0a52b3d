/* junit.c: the results model as JUnit XML (one testsuite per scenario
 * family). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int rl__report_unexpected_kind(const rl__result *r)
{
    if (rl__result_as_expected(r))
        return 0;
    if (r->verdict == RL_CRASH || r->verdict == RL_TIMEOUT ||
        r->verdict == RL_ERROR)
        return 2;
    return 1;
}

/* The length of a scenario name's family: the part before the first '.',
 * or all of it. */
static size_t family_len(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? (size_t)(dot - name) : strlen(name);
}

/* A duration for an XML attribute: at most 3 decimals, never negative. */
static double xml_time(double t)
{
    return t > 0 && t < 1e12 ? t : 0.0;
}

/* The trace of a failing execution as a fixed-width table. */
static void write_trace(FILE *f, const rl__result_failure *e)
{
    fprintf(f, "%5s %5s %7s  %-10s %-18s %-12s %s\n", "step", "actor", "pid",
            "op", "object", "value", "label file:line");
    for (long i = 0; i < e->nsteps; i++) {
        const rl__result_step *s = &e->steps[i];
        char obj[32] = "", val[24] = "", where[128];
        if (s->at)
            snprintf(obj, sizeof obj, "0x%" PRIxPTR "%s", s->at,
                     s->access && !s->shared ? " priv" : "");
        if (s->has_value)
            snprintf(val, sizeof val, "%ld", s->value);
        if (s->file[0])
            snprintf(where, sizeof where, "%.48s %.40s:%d", s->label, s->file,
                     s->line);
        else
            snprintf(where, sizeof where, "%.48s", s->label);
        char line[256];
        int n = snprintf(line, sizeof line,
                         "%5ld %5d %7d  %-10s %-18s %-12s "
                         "%s",
                         i, s->actor, s->pid, s->op, obj, val, where);
        if (n >= (int)sizeof line)
            n = (int)sizeof line - 1;
        while (n > 0 && line[n - 1] == ' ')
            line[--n] = '\0';
        rl__report_xml_text(f, line, 0);
        fputs("\n", f);
    }
}

/* The commands that reproduce a failure, as text lines. */
static int write_commands(FILE *f, const char *prog,
                          const rl__result_failure *r)
{
    if (r->token) {
        char *q = rl__report_shell_quote(r->token);
        if (!q)
            return -1;
        fputs("replay: ", f);
        rl__report_xml_text(f, prog, 0);
        fputs(" replay ", f);
        rl__report_xml_text(f, q, 0);
        fputs("\nminimize: ", f);
        rl__report_xml_text(f, prog, 0);
        fputs(" minimize ", f);
        rl__report_xml_text(f, q, 0);
        fputs("\n", f);
        free(q);
    }
    if (r->minimized_token) {
        char *q = rl__report_shell_quote(r->minimized_token);
        if (!q)
            return -1;
        fputs("minimized token: ", f);
        rl__report_xml_text(f, prog, 0);
        fputs(" replay ", f);
        rl__report_xml_text(f, q, 0);
        fputs("\n", f);
        free(q);
    }
    return 0;
}

/* The stack of one access of a race, indented under it. */
static void write_race_stack(FILE *f, const char *which, const char *stack)
{
    if (!stack[0])
        return;
    fprintf(f, "  stack of the %s access:\n", which);
    for (const char *p = stack; *p;) {
        size_t n = strcspn(p, "\n");
        char frame[256];
        snprintf(frame, sizeof frame, "%.*s", (int)(n < 255 ? n : 255), p);
        fputs("    ", f);
        rl__report_xml_text(f, frame, 0);
        fputc('\n', f);
        p += n;
        if (*p == '\n')
            p++;
    }
}

/* The data races of a result, both accesses of each and their stacks, as
 * text lines. */
static void write_races(FILE *f, const rl__result *r)
{
    for (long i = 0; i < r->nraces; i++) {
        char a[256], b[256];
        rl__result_access_text(&r->races[i].first, a, sizeof a);
        rl__result_access_text(&r->races[i].second, b, sizeof b);
        fprintf(f, "%srace %ld: ", i ? "" : "\n", i + 1);
        rl__report_xml_text(f, a, 0);
        fputs("\n  and ", f);
        rl__report_xml_text(f, b, 0);
        fputs(r->races[i].in_failure ? "\n" : " (a passing execution)\n", f);
        write_race_stack(f, "first", r->races[i].first.stack);
        write_race_stack(f, "second", r->races[i].second.stack);
    }
}

/* The body of a failure or error element, or of a passing case's
 * system-out: what was found and how to see it again. */
static int write_details(FILE *f, const char *prog, const rl__result *r)
{
    if (r->expect == RL_EXPECT_BUG && r->expect_verdict &&
        r->verdict != RL_PASS && r->verdict != r->expect_verdict &&
        r->verdict != RL_RACE)
        fprintf(f, "expected %s, found %s\n",
                rl_verdict_name(r->expect_verdict),
                rl_verdict_name(r->verdict));
    fprintf(f, "%s after %ld execution%s (first failure at run %ld)\n",
            rl_verdict_name(r->verdict), r->executions,
            r->executions == 1 ? "" : "s", r->first_failure_run);
    if (write_commands(f, prog, &r->failure) < 0)
        return -1;
    write_races(f, r);
    if (r->failure.nsteps) {
        fputs("\n", f);
        write_trace(f, &r->failure);
    }
    for (int i = 0; i < r->failure.nactors; i++) {
        const rl__result_actor *a = &r->failure.actors[i];
        if (!a->stack[0])
            continue;
        fprintf(f, "\nstack of actor %d (", i);
        rl__report_xml_text(f, a->name, 0);
        fprintf(f, ", pid %d):\n", a->pid);
        rl__report_xml_text(f, a->stack, 0);
        if (a->stack[strlen(a->stack) - 1] != '\n')
            fputs("\n", f);
    }
    return 0;
}

/* Stress numbers and an external command's outcome, for system-out. */
static void write_stress(FILE *f, const rl__result *r)
{
    double lo, hi;
    rl__wilson(r->failures, r->executions, &lo, &hi);
    fprintf(f,
            "stress: %ld failure%s in %ld runs, rate %.3f, 95%% "
            "interval [%.3f, %.3f]\n",
            r->failures, r->failures == 1 ? "" : "s", r->executions,
            r->executions ? (double)r->failures / (double)r->executions : 0.0,
            lo, hi);
    if (r->nvalues) {
        fputs("values:", f);
        for (int k = 0; k < r->nvalues; k++)
            fprintf(f, " %ld (x%ld)", r->values[k], r->counts[k]);
        fputs("\n", f);
    }
    if (r->external) {
        static const char *const names[RL__RUN_CLASSES] = {
            "ok", "wrong exit", "wrong output", "signal", "timeout"};
        fputs("runs:", f);
        for (int k = 0; k < RL__RUN_CLASSES; k++)
            fprintf(f, "%s %s %ld", k ? "," : "", names[k], r->classes[k]);
        fputs("\n", f);
        for (int k = 0; k < RL__KEPT_OUTPUTS; k++) {
            if (!r->kept_output[k])
                continue;
            fprintf(f, "output of failing run %d:\n", k + 1);
            rl__report_xml_text(f, r->kept_output[k], 0);
            fputs("\n", f);
        }
    }
}

static int write_case(FILE *f, const char *prog, const rl__result *r)
{
    size_t fl = family_len(r->name);
    fputs("    <testcase classname=\"", f);
    char *fam = strndup(r->name, fl);
    if (!fam)
        return -1;
    rl__report_xml_text(f, fam, 1);
    free(fam);
    fputs("\" name=\"", f);
    /* The scenario's name alone, so that CI keeps one history per
     * scenario whatever the mode; the mode is the suite's property. */
    rl__report_xml_text(f, r->name, 1);
    fprintf(f, "\" time=\"%.3f\"", xml_time(r->duration));
    if (r->interrupted) {
        /* Neither passed nor failed: the run was stopped before this
         * search ended. */
        fprintf(f,
                ">\n      <skipped message=\"interrupted after %ld "
                "execution%s%s%s; the counts are those so far\"/>\n"
                "    </testcase>\n",
                r->executions, r->executions == 1 ? "" : "s",
                r->verdict != RL_PASS ? ", first failure " : "",
                r->verdict != RL_PASS ? rl_verdict_name(r->verdict) : "");
        return 0;
    }
    int kind = rl__report_unexpected_kind(r);
    int out = (!kind && r->verdict != RL_PASS) || r->mode == RL_MODE_STRESS ||
              (r->verdict == RL_PASS && r->nraces > 0);
    if (!kind && !out) {
        fputs("/>\n", f);
        return 0;
    }
    fputs(">\n", f);
    if (kind && r->verdict == RL_PASS) {
        fprintf(f,
                "      <failure type=\"no-bug\" message=\"expected a "
                "bug, none found in %ld executions\">",
                r->executions);
        fprintf(f,
                "expected a bug%s%s%s, none found in %ld executions "
                "(mode %s%s)\n",
                r->expect_verdict ? " (" : "",
                r->expect_verdict ? rl_verdict_name(r->expect_verdict) : "",
                r->expect_verdict ? ")" : "", r->executions,
                rl__mode_name(r->mode),
                r->exhausted ? ", the bounded space exhausted" : "");
        fputs("</failure>\n", f);
    } else if (kind) {
        const char *el = kind == 2 ? "error" : "failure";
        fprintf(f, "      <%s type=\"%s\" message=\"", el,
                rl_verdict_name(r->verdict));
        rl__report_xml_text(f, r->failure.message, 1);
        fputs("\">", f);
        rl__report_xml_text(f, r->failure.message, 0);
        fputs("\n", f);
        if (write_details(f, prog, r) < 0)
            return -1;
        fprintf(f, "</%s>\n", el);
    }
    if (out) {
        fputs("      <system-out>", f);
        if (!kind && r->verdict != RL_PASS) {
            fputs("expected bug found: ", f);
            rl__report_xml_text(f, r->failure.message, 0);
            fputs("\n", f);
            if (write_details(f, prog, r) < 0)
                return -1;
        }
        if (r->verdict == RL_PASS && r->nraces > 0) {
            fprintf(f, "%ld data race%s found (--races report):\n",
                    r->nraces, r->nraces == 1 ? "" : "s");
            write_races(f, r);
        }
        if (r->mode == RL_MODE_STRESS)
            write_stress(f, r);
        fputs("</system-out>\n", f);
    }
    fputs("    </testcase>\n", f);
    return 0;
}

/* Counts of a set of results for the testsuite attributes. */
typedef struct {
    long tests, failures, errors;
    double time;
    long skipped;
} counts;

static void count(counts *c, const rl__result *r)
{
    int kind = r->interrupted ? 0 : rl__report_unexpected_kind(r);
    c->tests++;
    c->skipped += r->interrupted != 0;
    c->failures += kind == 1;
    c->errors += kind == 2;
    c->time += xml_time(r->duration);
}

static void write_property(FILE *f, const char *name, const char *value)
{
    fprintf(f, "      <property name=\"%s\" value=\"", name);
    rl__report_xml_text(f, value, 1);
    fputs("\"/>\n", f);
}

/* Sorting results by family: the family's first index, then their own
 * index, so suites come in the order their families first appear and
 * cases in the order of the results. */
typedef struct {
    const char *name;
    size_t flen;
    int index, first;
} slot;

static int by_family(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    size_t n = x->flen < y->flen ? x->flen : y->flen;
    int c = strncmp(x->name, y->name, n);
    if (c)
        return c;
    if (x->flen != y->flen)
        return x->flen < y->flen ? -1 : 1;
    return x->index - y->index;
}

static int by_first(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    if (x->first != y->first)
        return x->first - y->first;
    return x->index - y->index;
}

/* One testsuite: the family's results are order[0..n-1]. */
static int write_suite(FILE *f, const rl__report *rep, const slot *order,
                       int n)
{
    counts c = {0, 0, 0, 0, 0};
    for (int j = 0; j < n; j++)
        count(&c, &rep->results[order[j].index]);
    char *fam = strndup(order[0].name, order[0].flen);
    if (!fam)
        return -1;
    fputs("  <testsuite name=\"", f);
    rl__report_xml_text(f, fam, 1);
    free(fam);
    fprintf(f,
            "\" tests=\"%ld\" failures=\"%ld\" errors=\"%ld\" "
            "skipped=\"%ld\" time=\"%.3f\"",
            c.tests, c.failures, c.errors, c.skipped, c.time);
    if (rep->started_at) {
        fputs(" timestamp=\"", f);
        rl__report_xml_text(f, rep->started_at, 1);
        fputs("\"", f);
    }
    fputs(">\n    <properties>\n", f);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)rep->seed);
    write_property(f, "seed", seed);
    /* The modes of the family's results, each once. */
    char modes[64] = "";
    for (int j = 0; j < n; j++) {
        const char *m = rl__mode_name(rep->results[order[j].index].mode);
        size_t ml = strlen(m);
        const char *hit = strstr(modes, m);
        if (hit && (hit[ml] == ',' || hit[ml] == '\0') &&
            (hit == modes || hit[-1] == ','))
            continue;
        if (strlen(modes) + ml + 2 < sizeof modes)
            snprintf(modes + strlen(modes), sizeof modes - strlen(modes),
                     "%s%s", modes[0] ? "," : "", m);
    }
    write_property(f, "mode", modes);
    write_property(f, "racelab.version", RL_VERSION);
    if (rep->command_line)
        write_property(f, "command_line", rep->command_line);
    fputs("    </properties>\n", f);
    char *prog = rl__report_program(rep->command_line);
    if (!prog)
        return -1;
    for (int j = 0; j < n; j++)
        if (write_case(f, prog, &rep->results[order[j].index]) < 0) {
            free(prog);
            return -1;
        }
    free(prog);
    fputs("  </testsuite>\n", f);
    return 0;
}

static int write_suites(FILE *f, const rl__report *rep)
{
    counts all = {0, 0, 0, 0, 0};
    for (int i = 0; i < rep->n; i++)
        count(&all, &rep->results[i]);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<testsuites name=\"racelab\"",
          f);
    fprintf(f,
            " tests=\"%ld\" failures=\"%ld\" errors=\"%ld\" "
            "skipped=\"%ld\" time=\"%.3f\">\n",
            all.tests, all.failures, all.errors, all.skipped, all.time);
    /* Grouped by sorting, not by scanning the rest for each family:
     * n log n in the number of results. */
    slot *order = calloc((size_t)rep->n + 1, sizeof *order);
    if (!order)
        return -1;
    for (int i = 0; i < rep->n; i++) {
        order[i].name = rep->results[i].name;
        order[i].flen = family_len(order[i].name);
        order[i].index = i;
    }
    qsort(order, (size_t)rep->n, sizeof *order, by_family);
    for (int i = 0, j; i < rep->n; i = j) {
        for (j = i; j < rep->n && order[j].flen == order[i].flen &&
                    strncmp(order[j].name, order[i].name, order[i].flen) == 0;
             j++)
            order[j].first = order[i].index;
    }
    qsort(order, (size_t)rep->n, sizeof *order, by_first);
    int err = 0;
    for (int i = 0, j; i < rep->n && !err; i = j) {
        for (j = i; j < rep->n && order[j].first == order[i].first; j++)
            ;
        err = write_suite(f, rep, order + i, j - i);
    }
    free(order);
    if (err)
        return -1;
    fputs("</testsuites>\n", f);
    return 0;
}

int rl__report_junit(FILE *f, const rl__report *rep)
{
    void *loc = rl__report_c_locale();
    int err = write_suites(f, rep);
    rl__report_restore_locale(loc);
    return err < 0 || ferror(f) ? -1 : 0;
}
