/* html_timeline.c: the swimlane timeline of a failing interleaving in the
 * HTML report: one lane per process across the page's width, one row per
 * step, runs of identical steps folded, the failing step, conflicting
 * accesses and preemptions marked. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "report.h"

#define MAX_ROWS 200 /* rows drawn in a timeline (a folded run is one) */

const char rl__html_timeline_css[] =
    ".timeline{overflow:auto;max-height:1400px;border:1px solid #d0d7de;"
    "border-radius:6px;background:#fff;font:12px/1.35 ui-monospace,"
    "SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace}\n"
    ".tl-inner{position:relative;min-width:calc(56px + var(--lanes) * "
    "110px)}\n"
    ".tl-lanes{position:absolute;top:0;bottom:0;left:56px;right:0;"
    "display:grid;grid-template-columns:repeat(var(--lanes),minmax(0,1fr))}"
    "\n"
    ".tl-lanes i{border-left:1px solid #d0d7de;background:linear-gradient("
    "#d0d7de,#d0d7de) center/1px 100% no-repeat}\n"
    ".tl-lanes i:nth-child(odd){background-color:#f6f8fa}\n"
    ".tl-lanes i:nth-child(even){background-color:#eef1f4}\n"
    ".tl-row{position:relative;display:grid;grid-template-columns:56px "
    "repeat(var(--lanes),minmax(0,1fr));align-items:center;min-height:24px}"
    "\n"
    ".tl-head{position:sticky;top:0;z-index:2;background:#fffe;"
    "border-bottom:1px solid #d0d7de;padding:4px 0}\n"
    ".tl-lane{padding:0 10px;overflow:hidden;text-overflow:ellipsis;"
    "white-space:nowrap}\n"
    ".tl-lane b{font-size:13px}\n"
    ".tl-lane small{display:block;color:#57606a}\n"
    ".tl-no{text-align:right;padding-right:8px;color:#57606a;"
    "font-size:11px;white-space:nowrap;overflow:hidden}\n"
    ".tl-row .step{margin:2px 6px;padding:2px 6px;border:1px solid "
    "#8c959f;border-radius:4px;background:#fff;white-space:nowrap;"
    "overflow:hidden;text-overflow:ellipsis}\n"
    ".step.access{background:#ddf4ff;border-color:#54aeff}\n"
    ".step.conflict{background:#fff1e5;border:2px solid #d1701a}\n"
    ".step.failing{background:#ffebe9;border:3px solid #cf222e}\n"
    ".step.race{background:#fff8c5;border:3px double #9a6700}\n"
    ".key.race{background:#fff8c5;border-color:#9a6700}\n"
    ".step.preemption{box-shadow:inset 5px 0 0 #8250df}\n"
    ".step .count{float:right;margin-left:6px;padding:0 6px;"
    "border-radius:8px;background:#0969da;color:#fff;font-weight:600;"
    "font-size:11px;line-height:15px}\n"
    "details.fold{margin:0}\n"
    "details.fold>summary{display:grid;list-style:none;color:inherit}\n"
    "details.fold>summary::-webkit-details-marker{display:none}\n"
    "details.fold>summary:hover .step{outline:1px dashed #0969da}\n"
    "details.fold[open]>summary .step{opacity:.6}\n"
    ".key.preemption{background:#fff;border-color:#8c959f;"
    "box-shadow:inset 5px 0 0 #8250df}\n"
    ".key.fold{background:#0969da;border-color:#0969da}\n";

/* What a step is marked with. The marks of a step are decided in one
 * place (step_marks); each mark's class, glyph and words in this table. */
enum {
    MARK_ACCESS = 1,
    MARK_FAILING = 2,
    MARK_CONFLICT = 4,
    MARK_PREEMPTION = 8,
    MARK_RACE = 16,
};

static const struct mark {
    unsigned bit;
    const char *cls;   /* the CSS class */
    const char *glyph; /* before the operation; NULL: none */
    const char *why;   /* in the step's title; NULL: none */
} marks[] = {
    {MARK_ACCESS, "access", NULL, NULL},
    {MARK_FAILING, "failing", "&#10007;", NULL /* the timeline says */},
    {MARK_RACE, "race", "&#9889;",
     "data race: this access and one by another process touch the same "
     "shared bytes, one a write, and no synchronisation orders them"},
    {MARK_CONFLICT, "conflict", "&#9888;",
     "conflicting access: the same shared address, another process, one "
     "of the two a write"},
    {MARK_PREEMPTION, "preemption", "&#8623;",
     "preemption: the scheduler switched here from a process that could "
     "have gone on"},
};

/* One failing interleaving, with what the timeline worked out once. */
typedef struct {
    const rl__result_failure *e;
    int nlanes;
    long last[RL__RESULT_MAX_ACTORS]; /* each actor's last step; -1 none */
    /* the actors whose last step carries the failure mark */
    unsigned char blamed[RL__RESULT_MAX_ACTORS];
    unsigned char *conflict; /* per step: a conflicting access */
    unsigned char *racing;   /* per step: an access of a data race */
    const char *why_failing; /* the failure mark's words */
    long nraces;             /* the races of this interleaving */
    int check_actor;         /* FAIL: the actor whose check failed; -1 */
    char check_where[64];    /* and where ("counter.c:58") */
} timeline;

/* One row: a step, or a run of count identical steps from first. */
typedef struct {
    long first;
    long count;
} row;

/* Shorthand: s escaped as HTML text, or as an attribute value. */
static void h(FILE *f, const char *s)
{
    rl__report_xml_text(f, s, 0);
}

static void ha(FILE *f, const char *s)
{
    rl__report_xml_text(f, s, 1);
}

/* The actor a message names first ("... actor 3 (name) ..."), as a
 * word, or -1 when it names none of the timeline's lanes. */
static int message_actor(const char *m, int nlanes)
{
    for (const char *p = strstr(m, "actor "); p; p = strstr(p + 1, "actor ")) {
        if (p > m && ((p[-1] >= 'a' && p[-1] <= 'z') || p[-1] == '_'))
            continue;
        char *end;
        long a = strtol(p + 6, &end, 10);
        if (end != p + 6 && p[6] >= '0' && p[6] <= '9' && a < nlanes)
            return (int)a;
    }
    return -1;
}

/* The check a FAIL message ends with: "... (actor N at FILE:LINE)", as
 * rl_check writes it. Sets t's check_actor and check_where; leaves
 * check_actor -1 when the message has no such part. */
static void find_check(timeline *t, const char *m)
{
    const char *p = NULL;
    for (const char *q = strstr(m, "(actor "); q; q = strstr(q + 1, "(actor "))
        p = q; /* the last one: the message text may hold the words too */
    if (!p)
        return;
    char *end;
    long a = strtol(p + 7, &end, 10);
    if (end == p + 7 || a < 0 || a >= t->nlanes || strncmp(end, " at ", 4))
        return;
    const char *w = end + 4;
    size_t n = strcspn(w, ")");
    if (w[n] != ')' || n == 0 || n >= sizeof t->check_where)
        return;
    memcpy(t->check_where, w, n);
    t->check_where[n] = '\0';
    t->check_actor = (int)a;
}

/* Decides where the failure mark goes: on the check that failed (a row
 * of its own after the last step: the check is no schedule point), on
 * the waits of the deadlocked processes, or on the last step of the
 * process the diagnosis names (the crashing, spinning or hung one). */
static void find_failure(timeline *t, int verdict)
{
    const rl__result_failure *e = t->e;
    t->check_actor = -1;
    if (verdict == RL_FAIL) {
        find_check(t, e->message);
        if (t->check_actor >= 0) {
            t->why_failing = "the check that failed";
            return;
        }
    }
    int n = 0;
    if (verdict == RL_DEADLOCK) {
        t->why_failing = "a wait of the deadlock";
        for (int a = 0; a < e->nactors && a < t->nlanes; a++)
            if (e->actors[a].state == RL__STATE_BLOCKED && t->last[a] >= 0) {
                t->blamed[a] = 1;
                n++;
            }
        if (n)
            return;
    }
    int a = message_actor(e->message, t->nlanes);
    if (a < 0 && e->nsteps)
        a = e->steps[e->nsteps - 1].actor;
    if (a >= 0 && a < t->nlanes)
        t->blamed[a] = 1;
    t->why_failing = verdict == RL_CRASH      ? "last step of the crashing "
                                                "process"
                     : verdict == RL_LIVELOCK ? "last step of the process "
                                                "that spins"
                     : verdict == RL_TIMEOUT  ? "last step of the process "
                                                "that hung"
                                              : "last step of the failing "
                                                "process";
}

/* Whether steps s and t are the same for the reader: one actor doing the
 * same thing on the same object at the same place with the same value. */
static int same_step(const rl__result_step *s, const rl__result_step *t)
{
    return s->actor == t->actor && strcmp(s->op, t->op) == 0 &&
           s->at == t->at && s->shared == t->shared &&
           s->has_value == t->has_value &&
           (!s->has_value || s->value == t->value) &&
           strcmp(s->label, t->label) == 0 && strcmp(s->file, t->file) == 0 &&
           s->line == t->line && !t->preemption;
}

/* An access to shared memory, for finding the conflicts. */
typedef struct {
    uintptr_t at;
    long i;
} access_ref;

static int by_address(const void *a, const void *b)
{
    const access_ref *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Up to two distinct actors of a set: enough to tell whether the set has
 * an actor other than a given one. */
typedef struct {
    int a, b;
} two_actors;

static void two_add(two_actors *s, int actor)
{
    if (s->a < 0)
        s->a = actor;
    else if (s->a != actor && s->b < 0)
        s->b = actor;
}

static int two_other(const two_actors *s, int actor)
{
    return (s->a >= 0 && s->a != actor) || s->b >= 0;
}

/* Sets conflict[i] for every step that accesses a shared address another
 * actor also accesses in the trace, one of the two accesses a write.
 * Accesses to a private copy never conflict: each process has its own.
 * Returns 0, or -1 when out of memory. */
static int find_conflicts(const rl__result_failure *e, unsigned char *conflict)
{
    access_ref *refs = malloc((size_t)e->nsteps * sizeof *refs);
    if (!refs)
        return -1;
    long n = 0;
    for (long i = 0; i < e->nsteps; i++) {
        const rl__result_step *s = &e->steps[i];
        if (s->access && s->at && s->shared)
            refs[n++] = (access_ref){s->at, i};
    }
    qsort(refs, (size_t)n, sizeof *refs, by_address);
    for (long g = 0; g < n;) {
        long end = g;
        two_actors all = {-1, -1}, writers = {-1, -1};
        for (; end < n && refs[end].at == refs[g].at; end++) {
            const rl__result_step *s = &e->steps[refs[end].i];
            two_add(&all, s->actor);
            if (s->write)
                two_add(&writers, s->actor);
        }
        for (long k = g; k < end; k++) {
            const rl__result_step *s = &e->steps[refs[k].i];
            conflict[refs[k].i] =
                (unsigned char)(two_other(&writers, s->actor) ||
                                (s->write && two_other(&all, s->actor)));
        }
        g = end;
    }
    free(refs);
    return 0;
}

/* Marks both accesses of every race of r's failing interleaving (races
 * of passing executions point into traces that are not kept). */
static void find_races(timeline *t, const rl__result *r)
{
    for (long k = 0; k < r->nraces; k++) {
        const rl__result_race *x = &r->races[k];
        if (!x->in_failure)
            continue;
        const long at[2] = {x->first.step, x->second.step};
        for (int j = 0; j < 2; j++)
            if (at[j] >= 0 && at[j] < t->e->nsteps) {
                t->racing[at[j]] = 1;
                t->nraces += j == 0;
            }
    }
}

/* The marks of step i: the one place that decides them. */
static unsigned step_marks(const timeline *t, long i)
{
    const rl__result_step *s = &t->e->steps[i];
    unsigned m = 0;
    if (s->access)
        m |= MARK_ACCESS;
    if (s->actor >= 0 && s->actor < t->nlanes && t->blamed[s->actor] &&
        t->last[s->actor] == i)
        m |= MARK_FAILING;
    if (t->conflict[i])
        m |= MARK_CONFLICT;
    if (t->racing[i])
        m |= MARK_RACE;
    if (s->preemption)
        m |= MARK_PREEMPTION;
    return m;
}

/* The marks of a row: those of its first step and of its last (the
 * steps between are like them). */
static unsigned row_marks(const timeline *t, row r)
{
    return step_marks(t, r.first) | step_marks(t, r.first + r.count - 1);
}

/* The rows of the trace: runs of identical steps folded. Returns the
 * malloc'd rows and their number in *n, or NULL when out of memory. */
static row *fold_rows(const rl__result_failure *e, long *n)
{
    row *rows = malloc((size_t)e->nsteps * sizeof *rows);
    if (!rows)
        return NULL;
    long k = 0;
    for (long i = 0; i < e->nsteps;) {
        long j = i + 1;
        while (j < e->nsteps && same_step(&e->steps[i], &e->steps[j]))
            j++;
        rows[k].first = i;
        rows[k].count = j - i;
        k++;
        i = j;
    }
    *n = k;
    return rows;
}

/* The lane of step s (an actor beyond the lanes goes into lane 0). */
static int lane_of(const timeline *t, const rl__result_step *s)
{
    return s->actor >= 0 && s->actor < t->nlanes ? s->actor : 0;
}

/* Writes the class attribute's words for marks, each with a space
 * before it. */
static void write_classes(FILE *f, unsigned m)
{
    for (size_t k = 0; k < sizeof marks / sizeof *marks; k++)
        if (m & marks[k].bit)
            fprintf(f, " %s", marks[k].cls);
}

/* The title of a row (shown on hover): everything the step says, the
 * marks in words. */
static void write_title(FILE *f, const timeline *t, row r, unsigned m)
{
    const rl__result_step *s = &t->e->steps[r.first];
    if (r.count > 1)
        fprintf(f, "steps %ld to %ld: %ld identical steps, ", r.first,
                r.first + r.count - 1, r.count);
    else
        fprintf(f, "step %ld, ", r.first);
    fprintf(f, "actor %d, pid %d: %s", s->actor, s->pid, s->op);
    if (s->has_value)
        fprintf(f, " = %ld", s->value);
    if (s->at)
        fprintf(f, " at 0x%" PRIxPTR "%s", s->at,
                s->access && !s->shared ? " (private copy)" : "");
    if (s->label[0]) {
        fputs(", ", f);
        ha(f, s->label);
    }
    if (s->file[0]) {
        fputs(" (", f);
        ha(f, s->file);
        fprintf(f, ":%d)", s->line);
    }
    if (m & MARK_FAILING) {
        fputs("; ", f);
        ha(f, t->why_failing);
    }
    for (size_t k = 0; k < sizeof marks / sizeof *marks; k++)
        if ((m & marks[k].bit) && marks[k].why)
            fprintf(f, "; %s", marks[k].why);
}

/* Writes the box of a row in its lane: the marks' glyphs, the operation,
 * its value and label (cut by the lane's width only, with an ellipsis;
 * the title has it all), and the count of a folded run. */
static void write_box(FILE *f, const timeline *t, row r)
{
    const rl__result_step *s = &t->e->steps[r.first];
    unsigned m = row_marks(t, r);
    fprintf(f, "<span class=\"step");
    write_classes(f, m);
    fprintf(f,
            "\" style=\"grid-column:%d\" data-step=\"%ld\" "
            "data-actor=\"%d\" data-count=\"%ld\" title=\"",
            lane_of(t, s) + 2, r.first, s->actor, r.count);
    write_title(f, t, r, m);
    fputs("\">", f);
    if (r.count > 1)
        fprintf(f, "<b class=\"count\">&#215;%ld</b>", r.count);
    for (size_t k = 0; k < sizeof marks / sizeof *marks; k++)
        if ((m & marks[k].bit) && marks[k].glyph)
            fprintf(f, "%s ", marks[k].glyph);
    fputs(s->op, f);
    if (s->has_value)
        fprintf(f, " = %ld", s->value);
    if (s->label[0]) {
        fputs(" ", f);
        h(f, s->label);
    }
    fputs("</span>", f);
}

/* Writes one row; a folded run as a <details> whose summary is the
 * folded row and whose body has each of its steps. */
static void write_row(FILE *f, const timeline *t, row r)
{
    if (r.count == 1) {
        fprintf(f, "<div class=\"tl-row\"><span class=\"tl-no\">%ld</span>",
                r.first);
        write_box(f, t, r);
        fputs("</div>\n", f);
        return;
    }
    fprintf(f,
            "<details class=\"fold\"><summary class=\"tl-row\">"
            "<span class=\"tl-no\">%ld&#8211;%ld</span>",
            r.first, r.first + r.count - 1);
    write_box(f, t, r);
    fputs("</summary>\n", f);
    long end = r.first + r.count;
    for (long i = r.first; i < end; i++) {
        if (r.count > MAX_ROWS && i == r.first + MAX_ROWS / 2) {
            long skip = r.count - MAX_ROWS;
            fprintf(f,
                    "<div class=\"tl-row\"><span class=\"tl-no\">"
                    "&#8942;</span><span class=\"note\" style=\""
                    "grid-column:2/-1\">%ld more of the same: the trace "
                    "table has them</span></div>\n",
                    skip);
            i += skip;
        }
        row one = {i, 1};
        write_row(f, t, one);
    }
    fputs("</details>\n", f);
}

/* Writes the row of the check that failed, after the last step in the
 * lane of its actor. */
static void write_check_row(FILE *f, const timeline *t)
{
    fprintf(f, "<div class=\"tl-row\"><span class=\"tl-no\">check</span>"
               "<span class=\"step check");
    write_classes(f, MARK_FAILING);
    fprintf(f, "\" style=\"grid-column:%d\" data-actor=\"%d\" title=\"",
            t->check_actor + 2, t->check_actor);
    fprintf(f, "actor %d: check failed at ", t->check_actor);
    ha(f, t->check_where);
    fputs(": ", f);
    ha(f, t->e->message);
    fputs("\">&#10007; check failed at ", f);
    h(f, t->check_where);
    fputs("</span></div>\n", f);
}

/* Writes the lane backgrounds and the row of lane headings: the actor's
 * id, name and pid, in full in the title. */
static void write_lanes(FILE *f, const timeline *t)
{
    fputs("<div class=\"tl-lanes\" aria-hidden=\"true\">", f);
    for (int a = 0; a < t->nlanes; a++)
        fputs("<i></i>", f);
    fputs("</div>\n<div class=\"tl-row tl-head\"><span class=\"tl-no\">"
          "step</span>",
          f);
    for (int a = 0; a < t->nlanes; a++) {
        const rl__result_actor *ac =
            a < t->e->nactors ? &t->e->actors[a] : NULL;
        char dflt[32];
        snprintf(dflt, sizeof dflt, "actor-%d", a);
        int named = ac && ac->name[0] && strcmp(ac->name, dflt) != 0;
        fprintf(f,
                "<span class=\"tl-lane\" style=\"grid-column:%d\" "
                "data-actor=\"%d\" title=\"actor %d",
                a + 2, a, a);
        if (named) {
            fputs(" &#183; ", f);
            ha(f, ac->name);
        }
        if (ac)
            fprintf(f, ", pid %d", ac->pid);
        fprintf(f, "\"><b>actor %d", a);
        if (named) {
            fputs(" &#183; ", f);
            h(f, ac->name);
        }
        fputs("</b><small>", f);
        if (ac)
            fprintf(f, "pid %d", ac->pid);
        fputs("</small></span>", f);
    }
    fputs("</div>\n", f);
}

/* Writes the legend of the marks the timeline uses. */
static void write_legend(FILE *f, const timeline *t)
{
    fputs("<p class=\"legend\"><span><i class=\"key plain\"></i>step "
          "(operation = value, label; hover for all of it)</span>",
          f);
    fprintf(f,
            "<span><i class=\"key failing\"></i>&#10007; %s</span>"
            "<span><i class=\"key conflict\"></i>&#9888; conflicting "
            "access: the same shared address, another process, one of "
            "them a write</span><span><i class=\"key preemption\"></i>"
            "&#8623; preemption: switched here from a process that could "
            "have gone on</span><span><i class=\"key fold\"></i>&#215;N "
            "identical steps in a row (click to unfold)</span>",
            t->why_failing);
    if (t->nraces)
        fputs("<span><i class=\"key race\"></i>&#9889; an access of a "
              "data race (both accesses of each race in the races list)"
              "</span>",
              f);
    fputs("</p>\n", f);
}

int rl__html_timeline(FILE *f, const rl__result *r)
{
    const rl__result_failure *e = &r->failure;
    timeline t;
    memset(&t, 0, sizeof t);
    t.e = e;
    t.nlanes = e->nactors;
    for (long i = 0; i < e->nsteps; i++)
        if (e->steps[i].actor >= t.nlanes &&
            e->steps[i].actor < RL__RESULT_MAX_ACTORS)
            t.nlanes = e->steps[i].actor + 1;
    if (t.nlanes == 0 || e->nsteps == 0)
        return 0;
    for (int a = 0; a < RL__RESULT_MAX_ACTORS; a++)
        t.last[a] = -1;
    for (long i = 0; i < e->nsteps; i++)
        if (e->steps[i].actor >= 0 && e->steps[i].actor < t.nlanes)
            t.last[e->steps[i].actor] = i;
    find_failure(&t, r->verdict);
    long nrows;
    t.conflict = calloc((size_t)e->nsteps, 1);
    t.racing = calloc((size_t)e->nsteps, 1);
    row *rows = t.conflict && t.racing ? fold_rows(e, &nrows) : NULL;
    if (!rows || find_conflicts(e, t.conflict) < 0) {
        free(rows);
        free(t.conflict);
        free(t.racing);
        return -1;
    }
    find_races(&t, r);
    long from = nrows > MAX_ROWS ? nrows - MAX_ROWS : 0;
    fputs("<h3>Failing interleaving</h3>\n", f);
    if (from)
        fprintf(f,
                "<p class=\"note\">The trace has %ld steps in %ld rows: "
                "the timeline shows the last %d rows (steps %ld to %ld); "
                "the trace table below has them all.</p>\n",
                e->nsteps, nrows, MAX_ROWS, rows[from].first, e->nsteps - 1);
    write_legend(f, &t);
    fprintf(f,
            "<div class=\"timeline\" role=\"figure\" aria-label=\"swimlane "
            "timeline, one lane per process\"><div class=\"tl-inner\" "
            "style=\"--lanes:%d\">\n",
            t.nlanes);
    write_lanes(f, &t);
    for (long k = from; k < nrows; k++)
        write_row(f, &t, rows[k]);
    if (t.check_actor >= 0)
        write_check_row(f, &t);
    fputs("</div></div>\n", f);
    free(rows);
    free(t.conflict);
    free(t.racing);
    return 0;
}
