/* html.c: the results model as one self-contained HTML page: a summary
 * table, per found bug a swimlane timeline of the failing interleaving,
 * per stress run a histogram, and the interleaving coverage. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "report.h"


static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'Helvetica Neue',Arial,sans-serif;color:#1f2328;background:#fff;"
    "margin:0 auto;max-width:1240px;padding:16px 24px 48px}\n"
    "h1{font-size:26px;margin:8px 0 4px}\n"
    "h2{font-size:20px;margin:32px 0 8px;padding-bottom:4px;"
    "border-bottom:1px solid #d0d7de}\n"
    "h3{font-size:16px;margin:20px 0 6px}\n"
    ".meta{color:#57606a;margin:2px 0}\n"
    "code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "'DejaVu Sans Mono',monospace}\n"
    "pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;"
    "padding:8px 12px;overflow:auto;white-space:pre-wrap;"
    "word-break:break-all}\n"
    "table{border-collapse:collapse;margin:6px 0 12px}\n"
    "th,td{border:1px solid #d0d7de;padding:5px 10px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f6f8fa}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "tr.bad td:first-child{border-left:4px solid #cf222e}\n"
    "tr.ok td:first-child{border-left:4px solid #1a7f37}\n"
    ".sum{color:#57606a;font-size:13px}\n"
    ".badge{display:inline-block;border-radius:12px;padding:1px 10px;"
    "font-weight:600;font-size:13px;white-space:nowrap}\n"
    ".badge.ok{background:#dafbe1;color:#116329;border:1px solid #4ac26b}\n"
    ".badge.bad{background:#ffebe9;color:#a40e26;border:1px solid #ff8182}\n"
    ".verdict{font-weight:600;font-family:ui-monospace,monospace}\n"
    ".verdict.pass{color:#116329}\n"
    ".verdict.found{color:#9a6700}\n"
    ".verdict.error{color:#a40e26}\n"
    "section.scenario{margin-top:28px}\n"
    ".diagnosis{border-left:4px solid #bf8700;background:#fff8c5;"
    "padding:8px 12px;margin:8px 0;border-radius:0 6px 6px 0}\n"
    "section.bad .diagnosis{border-left-color:#cf222e;background:#ffebe9}\n"
    ".legend span{display:inline-block;margin-right:16px;font-size:13px}\n"
    ".key{display:inline-block;width:14px;height:12px;border-radius:3px;"
    "vertical-align:-1px;margin-right:4px;border:2px solid}\n"
    ".key.plain{background:#eef1f4;border-color:#8c959f}\n"
    ".key.conflict{background:#fff1e5;border-color:#d1701a}\n"
    ".key.failing{background:#ffebe9;border-color:#cf222e}\n"
    ".note{color:#57606a;font-style:italic}\n"
    "details{margin:8px 0}\n"
    "summary{cursor:pointer;color:#0969da}\n"
    "svg text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "'DejaVu Sans Mono',monospace;font-size:12px;fill:#1f2328}\n"
    "svg .bar{fill:#54aeff;stroke:#0969da}\n"
    "svg .axis{stroke:#57606a;stroke-width:1}\n"
    "svg .ci{fill:#ffd8b5}\n"
    "svg .point{fill:#cf222e}\n";

/* Shorthand: s escaped as HTML text. */
static void h(FILE *f, const char *s)
{
    rl__report_xml_text(f, s, 0);
}

static const char *verdict_class(int v)
{
    return v == RL_PASS                                        ? "pass"
           : v == RL_CRASH || v == RL_TIMEOUT || v == RL_ERROR ? "error"
                                                               : "found";
}

static void expectation(FILE *f, const rl__result *r)
{
    if (r->expect != RL_EXPECT_BUG)
        fputs("clean", f);
    else if (r->expect_verdict)
        fprintf(f, "bug (%s)", rl_verdict_name(r->expect_verdict));
    else
        fputs("bug", f);
}

static void outcome_badge(FILE *f, const rl__result *r)
{
    if (r->interrupted)
        fputs("<span class=\"badge bad\">&#8856; interrupted</span>", f);
    else if (rl__result_as_expected(r))
        fputs("<span class=\"badge ok\">&#10003; as expected</span>", f);
    else
        fputs("<span class=\"badge bad\">&#10007; UNEXPECTED</span>", f);
}

/* Whether a result gets a section of its own. */
static int has_section(const rl__result *r)
{
    return r->verdict != RL_PASS || !rl__result_as_expected(r) ||
           r->mode == RL_MODE_STRESS || r->nraces > 0;
}

#define ID_LEN 112 /* an anchor, with its NUL */

/* Whether id is one of the first n anchors. */
static int id_taken(char (*ids)[ID_LEN], int n, const char *id)
{
    for (int k = 0; k < n; k++)
        if (strcmp(ids[k], id) == 0)
            return 1;
    return 0;
}

/* The anchors of the results' sections, each named after its scenario
 * (a letter, digit, '.', '_' or '-' kept, any other byte a '-', so that
 * "#counter.unlocked" links to counter.unlocked) and unique in the page
 * (a second scenario of the same name gets "-2"). Returns a malloc'd
 * array of rep->n anchors, or NULL when out of memory. */
static char (*section_ids(const rl__report *rep))[ID_LEN]
{
    char (*ids)[ID_LEN] = calloc(rep->n ? (size_t)rep->n : 1, ID_LEN);
    if (!ids)
        return NULL;
    for (int i = 0; i < rep->n; i++) {
        const char *name = rep->results[i].name ? rep->results[i].name : "";
        char base[ID_LEN - 12];
        size_t n = 0;
        for (const char *p = name; *p && n < sizeof base - 1; p++) {
            unsigned char c = (unsigned char)*p;
            int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                       c == '-';
            base[n++] = keep ? (char)c : '-';
        }
        base[n] = '\0';
        if (!n)
            snprintf(base, sizeof base, "scenario");
        snprintf(ids[i], ID_LEN, "%s", base);
        for (int k = 2; id_taken(ids, i, ids[i]); k++)
            snprintf(ids[i], ID_LEN, "%s-%d", base, k);
    }
    return ids;
}

static void write_summary(FILE *f, const rl__report *rep,
                          char (*ids)[ID_LEN])
{
    fputs("<h2>Summary</h2>\n<table class=\"summary\">\n<thead><tr>"
          "<th>Scenario</th><th>Expectation</th><th>Outcome</th>"
          "<th>Verdict</th><th>Mode</th><th>Executions</th><th>Time</th>"
          "</tr></thead>\n<tbody>\n",
          f);
    for (int i = 0; i < rep->n; i++) {
        const rl__result *r = &rep->results[i];
        fprintf(f, "<tr class=\"%s\"><td>",
                rl__result_as_expected(r) ? "ok" : "bad");
        if (has_section(r)) {
            fputs("<a href=\"#", f);
            rl__report_xml_text(f, ids[i], 1);
            fputs("\">", f);
        }
        h(f, r->name);
        if (has_section(r))
            fputs("</a>", f);
        if (r->summary && r->summary[0]) {
            fputs("<div class=\"sum\">", f);
            h(f, r->summary);
            fputs("</div>", f);
        }
        fputs("</td><td>", f);
        expectation(f, r);
        fputs("</td><td>", f);
        outcome_badge(f, r);
        fprintf(f,
                "</td><td><span class=\"verdict %s\">%s</span></td>"
                "<td>%s</td><td class=\"num\">%ld</td>"
                "<td class=\"num\">%.3f s</td></tr>\n",
                verdict_class(r->verdict), rl_verdict_name(r->verdict),
                rl__mode_name(r->mode), r->executions,
                r->duration > 0 ? r->duration : 0.0);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void write_actors(FILE *f, const rl__result_failure *e)
{
    if (!e->nactors)
        return;
    fputs("<h3>Processes</h3>\n<table class=\"actors\"><thead><tr>"
          "<th>Actor</th><th>Name</th><th>Pid</th><th>Started by</th>"
          "<th>State</th><th>Waiting for / exit</th></tr></thead><tbody>\n",
          f);
    for (int i = 0; i < e->nactors; i++) {
        const rl__result_actor *a = &e->actors[i];
        fprintf(f, "<tr><td class=\"num\">%d</td><td>", i);
        h(f, a->name);
        fprintf(f,
                "</td><td class=\"num\">%d</td><td>%s</td><td>%s</td>"
                "<td>",
                a->pid, rl__started_name(a->started_by),
                rl__state_name(a->state));
        if (a->state == RL__STATE_BLOCKED)
            h(f, a->wait_reason);
        else if (a->state == RL__STATE_FINISHED && a->exit_code < 0)
            fprintf(f, "killed by signal %d", -a->exit_code);
        else if (a->state == RL__STATE_FINISHED)
            fprintf(f, "exit %d", a->exit_code);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    for (int i = 0; i < e->nactors; i++) {
        const rl__result_actor *a = &e->actors[i];
        if (!a->stack[0])
            continue;
        fprintf(f, "<p><strong>Stack of actor %d</strong> (", i);
        h(f, a->name);
        fprintf(f, ", pid %d)</p>\n<pre class=\"stack\">", a->pid);
        h(f, a->stack);
        fputs("</pre>\n", f);
    }
}

static void write_trace_table(FILE *f, const rl__result_failure *e)
{
    if (!e->nsteps)
        return;
    fprintf(f,
            "<details><summary>Trace table (%ld steps)</summary>\n"
            "<table class=\"trace\"><thead><tr><th>Step</th><th>Actor"
            "</th><th>Pid</th><th>Op</th><th>Object</th><th>Value</th>"
            "<th>Label</th><th>Where</th></tr></thead><tbody>\n",
            e->nsteps);
    for (long i = 0; i < e->nsteps; i++) {
        const rl__result_step *s = &e->steps[i];
        fprintf(f,
                "<tr><td class=\"num\">%ld</td><td class=\"num\">%d</td>"
                "<td class=\"num\">%d</td><td>%s</td><td><code>",
                i, s->actor, s->pid, s->op);
        if (s->at)
            fprintf(f, "0x%" PRIxPTR "%s", s->at,
                    s->access && !s->shared ? " priv" : "");
        fputs("</code></td><td class=\"num\">", f);
        if (s->has_value)
            fprintf(f, "%ld", s->value);
        fputs("</td><td>", f);
        h(f, s->label);
        fputs("</td><td>", f);
        if (s->file[0]) {
            h(f, s->file);
            fprintf(f, ":%d", s->line);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table></details>\n", f);
}

static int write_commands(FILE *f, const char *prog,
                          const rl__result_failure *r)
{
    if (!r->token)
        return 0;
    char *q = rl__report_shell_quote(r->token);
    if (!q)
        return -1;
    fputs("<h3>Reproduce</h3>\n<pre><code>", f);
    h(f, prog);
    fputs(" replay ", f);
    h(f, q);
    fputs(" --trace\n", f);
    h(f, prog);
    fputs(" minimize ", f);
    h(f, q);
    fputs("</code></pre>\n", f);
    free(q);
    if (r->minimized_token) {
        q = rl__report_shell_quote(r->minimized_token);
        if (!q)
            return -1;
        fputs("<p>Minimized:</p>\n<pre><code>", f);
        h(f, prog);
        fputs(" replay ", f);
        h(f, q);
        fputs(" --trace</code></pre>\n", f);
        free(q);
    }
    return 0;
}

static void write_histogram(FILE *f, const rl__result *r)
{
    int n = r->nvalues;
    if (n <= 0 || n > RL__HIST_MAX)
        return;
    int order[RL__HIST_MAX];
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) /* insertion sort by value */
        for (int j = i; j > 0 && r->values[order[j - 1]] > r->values[order[j]];
             j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    long max = 1;
    for (int i = 0; i < n; i++)
        if (r->counts[i] > max)
            max = r->counts[i];
    const int bw = 44, gap = 14, left = 56, ch = 170, top = 24;
    int width = left + n * (bw + gap) + 20;
    if (width < 260)
        width = 260; /* room for the axis caption */
    int height = top + ch + 48;
    fputs("<p>Values the checks recorded (rl_check_eq), runs per "
          "value:</p>\n",
          f);
    fprintf(f,
            "<svg class=\"histogram\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"histogram "
            "of recorded values\">\n",
            width, height, width, height);
    fprintf(f,
            "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
            "y2=\"%d\"/><line class=\"axis\" x1=\"%d\" y1=\"%d\" "
            "x2=\"%d\" y2=\"%d\"/>\n",
            left - 6, top + ch, width - 10, top + ch, left - 6, top - 6,
            left - 6, top + ch);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%ld</text>"
            "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
            left - 10, top + 4, max, left - 10, top + ch + 4);
    for (int k = 0; k < n; k++) {
        int i = order[k];
        int x = left + k * (bw + gap);
        int bh = (int)((double)r->counts[i] * ch / (double)max + 0.5);
        if (r->counts[i] > 0 && bh < 1)
            bh = 1;
        fprintf(f,
                "<g><title>value %ld: %ld runs</title><rect "
                "class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" "
                "height=\"%d\"/><text x=\"%d\" y=\"%d\" "
                "text-anchor=\"middle\">%ld</text><text x=\"%d\" "
                "y=\"%d\" text-anchor=\"middle\">%ld</text></g>\n",
                r->values[i], r->counts[i], x, top + ch - bh, bw, bh,
                x + bw / 2, top + ch - bh - 4, r->counts[i], x + bw / 2,
                top + ch + 18, r->values[i]);
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%d\">recorded value</text>"
            "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">runs</text>"
            "\n</svg>\n",
            left - 6, top + ch + 40, left - 10, top + ch / 2);
}

static void write_stress(FILE *f, const rl__result *r)
{
    double lo, hi;
    rl__wilson(r->failures, r->executions, &lo, &hi);
    double rate =
        r->executions ? (double)r->failures / (double)r->executions : 0.0;
    fputs("<h3>Stress</h3>\n", f);
    fprintf(f,
            "<p>Failure rate: <strong>%ld of %ld runs = %.3f</strong> "
            "(95%% Wilson interval %.3f to %.3f)",
            r->failures, r->executions, rate, lo, hi);
    if (r->first_failure_run)
        fprintf(f, "; first failure at run %ld", r->first_failure_run);
    fputs(".</p>\n", f);
    /* The interval on a 0..1 scale. */
    const int w = 400, x0 = 20;
    fprintf(f,
            "<svg class=\"rate\" width=\"%d\" height=\"44\" viewBox=\"0 "
            "0 %d 44\" role=\"img\" aria-label=\"failure rate and its "
            "interval\"><line class=\"axis\" x1=\"%d\" y1=\"14\" "
            "x2=\"%d\" y2=\"14\"/><rect class=\"ci\" x=\"%.1f\" y=\"6\" "
            "width=\"%.1f\" height=\"16\"/><circle class=\"point\" "
            "cx=\"%.1f\" cy=\"14\" r=\"5\"/><text x=\"%d\" y=\"38\" "
            "text-anchor=\"middle\">0</text><text x=\"%d\" y=\"38\" "
            "text-anchor=\"middle\">1</text></svg>\n",
            w + 2 * x0, w + 2 * x0, x0, x0 + w, x0 + lo * w,
            (hi - lo) * w > 1 ? (hi - lo) * w : 1.0, x0 + rate * w, x0, x0 + w);
    write_histogram(f, r);
    if (r->external) {
        static const char *const names[RL__RUN_CLASSES] = {
            "as expected", "wrong exit status", "wrong output",
            "killed by a signal", "timed out"};
        fputs("<table class=\"classes\"><thead><tr><th>Runs that ended"
              "</th><th>Count</th></tr></thead><tbody>\n",
              f);
        for (int k = 0; k < RL__RUN_CLASSES; k++)
            fprintf(f, "<tr><td>%s</td><td class=\"num\">%ld</td></tr>\n",
                    names[k], r->classes[k]);
        fputs("</tbody></table>\n", f);
        for (int k = 0; k < RL__KEPT_OUTPUTS; k++) {
            if (!r->kept_output[k])
                continue;
            fprintf(f, "<p>Output of failing run %d:</p>\n<pre>", k + 1);
            h(f, r->kept_output[k]);
            fputs("</pre>\n", f);
        }
    }
}

/* The stack of one access of a race, under it; when there is none, a
 * line break if more follows (brk). */
static void race_stack(FILE *f, const char *stack, int brk)
{
    if (!stack[0]) {
        if (brk)
            fputs("<br>", f);
        return;
    }
    fputs("\n<pre class=\"stack\">", f);
    h(f, stack);
    fputs("</pre>", f);
}

/* The races of a result, both accesses of each with its stack: the steps
 * marked in the timeline when the race is in the failing interleaving. */
static void write_races(FILE *f, const rl__result *r)
{
    if (!r->nraces)
        return;
    fprintf(f, "<h3>Data races (%ld)</h3>\n<ol class=\"races\">\n",
            r->nraces);
    for (long i = 0; i < r->nraces; i++) {
        char a[256], b[256];
        rl__result_access_text(&r->races[i].first, a, sizeof a);
        rl__result_access_text(&r->races[i].second, b, sizeof b);
        fputs("<li>", f);
        h(f, a);
        race_stack(f, r->races[i].first.stack, 1);
        fputs("and ", f);
        h(f, b);
        fputs(r->races[i].in_failure ? " (&#9889; in the timeline)"
                                     : " (in a passing execution)",
              f);
        race_stack(f, r->races[i].second.stack, 0);
        fputs("</li>\n", f);
    }
    fputs("</ol>\n", f);
}

static int write_section(FILE *f, const char *id, const char *prog,
                         const rl__result *r)
{
    int ok = rl__result_as_expected(r);
    fprintf(f, "<section class=\"scenario %s\" id=\"", ok ? "ok" : "bad");
    rl__report_xml_text(f, id, 1);
    fputs("\">\n<h2>", f);
    h(f, r->name);
    fputs(" ", f);
    outcome_badge(f, r);
    fputs("</h2>\n", f);
    if (r->summary && r->summary[0]) {
        fputs("<p class=\"sum\">", f);
        h(f, r->summary);
        fputs("</p>\n", f);
    }
    fputs("<p>Expected: ", f);
    expectation(f, r);
    fprintf(f, ". Mode %s, %ld execution%s, %.3f s.</p>\n",
            rl__mode_name(r->mode), r->executions,
            r->executions == 1 ? "" : "s", r->duration > 0 ? r->duration : 0.0);
    if (r->interrupted)
        fprintf(f,
                "<div class=\"diagnosis\"><strong>Interrupted</strong>: "
                "the run was stopped before this search ended; the "
                "counts are those so far.</div>\n");
    else if (r->verdict == RL_PASS && !ok)
        fprintf(f,
                "<div class=\"diagnosis\"><strong>No bug found</strong>: "
                "a bug was expected, none found in %ld executions%s."
                "</div>\n",
                r->executions,
                r->exhausted ? " (the bounded space was exhausted)" : "");
    if (r->verdict != RL_PASS) {
        fprintf(f, "<div class=\"diagnosis\"><strong>%s</strong>: ",
                rl_verdict_name(r->verdict));
        h(f, r->failure.message);
        fputs("</div>\n", f);
        if (r->first_failure_run)
            fprintf(f, "<p>First failure at run %ld.</p>\n",
                    r->first_failure_run);
        if (write_commands(f, prog, &r->failure) < 0)
            return -1;
        if (rl__html_timeline(f, r) < 0)
            return -1;
        write_races(f, r);
        write_actors(f, &r->failure);
        write_trace_table(f, &r->failure);
    } else {
        write_races(f, r); /* --races report: those of passing runs */
    }
    if (r->mode == RL_MODE_STRESS)
        write_stress(f, r);
    fputs("</section>\n", f);
    return 0;
}

static void write_coverage(FILE *f, const rl__report *rep)
{
    fputs("<h2>Interleaving coverage</h2>\n<table class=\"coverage\">"
          "<thead><tr><th>Scenario</th><th>Schedule points</th><th>Labels "
          "reached</th><th>Label pairs interleaved</th><th>Bounded space "
          "explored</th></tr></thead>"
          "<tbody>\n",
          f);
    for (int i = 0; i < rep->n; i++) {
        const rl__result *r = &rep->results[i];
        fputs("<tr><td>", f);
        h(f, r->name);
        fprintf(f,
                "</td><td class=\"num\">%ld</td><td class=\"num\">%ld"
                "</td><td class=\"num\">%ld</td>",
                r->schedule_points, r->labels_reached, r->pairs_interleaved);
        if (r->mode == RL_MODE_EXPLORE && r->space_explored >= 0)
            fprintf(f, "<td class=\"num\">%.1f%%%s</td></tr>\n",
                    100.0 * r->space_explored,
                    r->exhausted ? " (exhausted)" : "");
        else
            fputs("<td class=\"num\">-</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static int write_page(FILE *f, const rl__report *rep)
{
    int bad = 0;
    for (int i = 0; i < rep->n; i++)
        bad += !rl__result_as_expected(&rep->results[i]);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
          "charset=\"utf-8\">\n<meta name=\"viewport\" "
          "content=\"width=device-width, initial-scale=1\">\n"
          "<title>racelab report</title>\n<style>\n",
          f);
    fputs(css, f);
    fputs(rl__html_timeline_css, f);
    fputs("</style>\n</head>\n<body>\n<h1>racelab report</h1>\n"
          "<p class=\"meta\">",
          f);
    if (rep->started_at) {
        fputs("Started ", f);
        h(f, rep->started_at);
        fputs(" &#183; ", f);
    }
    fprintf(f, "seed %llu &#183; racelab %s</p>\n",
            (unsigned long long)rep->seed, RL_VERSION);
    if (rep->command_line) {
        fputs("<p class=\"meta\">Command: <code>", f);
        h(f, rep->command_line);
        fputs("</code></p>\n", f);
    }
    fprintf(f,
            "<p><span class=\"badge ok\">&#10003; %d as expected</span> "
            "<span class=\"badge %s\">%s %d unexpected</span></p>\n",
            rep->n - bad, bad ? "bad" : "ok", bad ? "&#10007;" : "&#10003;",
            bad);
    char (*ids)[ID_LEN] = section_ids(rep);
    char *prog = rl__report_program(rep->command_line);
    if (!ids || !prog) {
        free(ids);
        free(prog);
        return -1;
    }
    write_summary(f, rep, ids);
    for (int i = 0; i < rep->n; i++)
        if (has_section(&rep->results[i]) &&
            write_section(f, ids[i], prog, &rep->results[i]) < 0) {
            free(ids);
            free(prog);
            return -1;
        }
    free(ids);
    free(prog);
    write_coverage(f, rep);
    fputs("</body>\n</html>\n", f);
    return 0;
}

int rl__report_html(FILE *f, const rl__report *rep)
{
    void *loc = rl__report_c_locale();
    int err = write_page(f, rep);
    rl__report_restore_locale(loc);
    return err < 0 || ferror(f) ? -1 : 0;
}
