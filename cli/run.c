/* run.c: racelab run [PATTERN...]: the scenarios searched one after the
 * other or over worker processes, each result printed as soon as it is
 * known, then the report files and the exit status. */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The state of a run the searches report their results to. */
typedef struct {
    rl__term term;
    long done, total, failing;
    double t0;
    int quiet; /* TAP owns stdout: no result lines there */
    const rl__search_opts *opts;
    /* the results, their results model, and which of them ended before
     * a stop signal */
    const rl__search_result *results;
    rl__result *model;
    char *ended;
    int bad_input, internal; /* a search could not run: usage, other */
} run_state;

/* The options of the searches from those of the command line; *jobs the
 * worker processes (the online CPUs unless given). */
static void search_options(const rl__cli_args *a, rl__search_opts *o,
                           long *jobs)
{
    memset(o, 0, sizeof *o);
    o->mode = a->mode;
    o->seed = a->seed;
    o->runs = a->runs;
    o->preemptions = (int)a->preemptions;
    o->bound_kind = a->bound_kind;
    o->reduction = a->reduction;
    o->races = a->races;
    o->depth = (int)a->depth;
    o->max_steps = a->max_steps;
    o->timeout = a->timeout;
    o->noise = a->noise;
    o->shard_index = a->shard[0];
    o->shard_count = a->shard[1];
    *jobs = a->jobs;
    if (*jobs == 0)
        *jobs = sysconf(_SC_NPROCESSORS_ONLN);
    if (*jobs < 1)
        *jobs = 1;
}

/* Whether scenario s matches one of the npat patterns (all match when
 * there are none); marks in used[] the patterns it matches. */
static int selected(const rl_scenario *s, int npat, char **pats, int *used)
{
    int take = npat == 0;
    for (int i = 0; i < npat; i++)
        if (fnmatch(pats[i], s->name, 0) == 0)
            take = used[i] = 1;
    return take;
}

/* The scenarios the patterns select, in name order, into *list (malloc'd)
 * and *n. Returns 0, or the exit status after saying why none can run: a
 * pattern that matches nothing, no scenario at all, no memory. */
static int select_scenarios(int npat, char **pats, rl_scenario ***list, int *n)
{
    int *used = calloc((size_t)npat + 1, sizeof *used);
    if (!used)
        return EXIT_INTERNAL;
    *n = 0;
    for (rl_scenario *s = rl__scenarios(); s; s = s->next)
        *n += selected(s, npat, pats, used);
    for (int i = 0; i < npat; i++) {
        if (!used[i]) {
            free(used);
            return rl__cli_usage_error("no scenario matches '%s' (%s list "
                                       "shows them)",
                                       pats[i], rl__cli_prog);
        }
    }
    if (*n == 0) {
        free(used);
        return rl__cli_usage_error("no scenarios are linked into this "
                                   "program");
    }
    *list = calloc((size_t)*n, sizeof **list);
    int k = 0;
    for (rl_scenario *s = rl__scenarios(); *list && s; s = s->next)
        if (selected(s, npat, pats, used))
            (*list)[k++] = s;
    free(used);
    return *list ? 0 : EXIT_INTERNAL;
}

/* Called as each scenario's result is complete: minimizes a failure,
 * prints the result line and the progress. */
static void on_done(rl__search_result *r, void *ctx)
{
    run_state *st = ctx;
    if (rl__cli_interrupted)
        return;
    rl__search_minimize(r, st->opts);
    rl__result *m = &st->model[r - st->results];
    if (rl__result_from_search(r, m) < 0)
        return; /* no name: left out, an internal error */
    if (!st->quiet)
        rl__term_result(&st->term, m);
    rl__cli_flush_stdout();
    st->done++;
    st->ended[r - st->results] = 1;
    /* A catalogue bug found is a success: count what was not expected. */
    st->failing += !rl__result_as_expected(m);
    rl__cli_progress(&st->term, st->done, st->total, st->failing, "unexpected",
                      st->t0);
}

/* Notes a search that could not run: bad input (-EINVAL) or other. */
static void search_failed(run_state *st, const char *name, int err)
{
    const char *why = rl_last_error()[0] ? rl_last_error() : rl_strerror(err);
    if (name)
        fprintf(stderr, "%s: %s: %s\n", rl__cli_prog, name, why);
    else
        fprintf(stderr, "%s: %s\n", rl__cli_prog, why);
    if (err == -EINVAL)
        st->bad_input = 1;
    else
        st->internal = 1;
}

/* Searches the n scenarios of list into results: over worker processes
 * when there are several jobs or explore is sharded (by subtrees, which
 * the job machinery plans), else one after the other here. */
static void search_all(rl_scenario **list, int n, const rl__search_opts *o,
                       long jobs, rl__search_result *results, run_state *st)
{
    if (jobs > 1 || (o->mode == RL_MODE_EXPLORE && o->shard_count > 1)) {
        int err = rl__search_many(list, n, o, (int)jobs, results, on_done, st);
        if (err < 0 && !rl__cli_interrupted)
            search_failed(st, NULL, err);
        return;
    }
    for (int i = 0; i < n && !rl__cli_interrupted; i++) {
        int err = rl__search(list[i], o, &results[i]);
        if (err < 0) {
            search_failed(st, list[i]->name, err);
            continue;
        }
        on_done(&results[i], st);
    }
}

/* After Ctrl-C, the scenarios that never ran are not results; those that
 * ran but did not end are marked (counts so far, no verdict of their own)
 * and printed. Frees the engine's results and moves the models to keep to
 * the front; returns their number. */
static int keep_results(rl__search_result *results, int n, run_state *st)
{
    rl__result *model = st->model;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (!results[i].sc || (rl__cli_interrupted &&
                               results[i].executions == 0 && !st->ended[i])) {
            rl__search_result_free(&results[i]);
            rl__result_free(&model[i]);
            continue;
        }
        if (rl__cli_interrupted && !st->ended[i]) {
            results[i].interrupted = 1;
            if (rl__result_from_search(&results[i], &model[i]) == 0 &&
                !st->quiet)
                rl__term_result(&st->term, &model[i]);
        }
        rl__search_result_free(&results[i]);
        if (!model[i].name) {
            st->internal = 1; /* out of memory */
            continue;
        }
        if (kept != i) {
            model[kept] = model[i];
            memset(&model[i], 0, sizeof model[i]);
        }
        kept++;
    }
    return kept;
}

/* Writes the reports, says how to reproduce the run and gives its exit
 * status; frees the results. */
static int finish(const rl__cli_args *a, rl__result *model, int n,
                  const char *started, run_state *st)
{
    int unexpected = 0;
    for (int i = 0; i < n; i++)
        unexpected |= !rl__result_as_expected(&model[i]);
    rl__report rep = {model, n, a->seed, started, rl__cli_argv_line, 0};
    st->internal |= rl__cli_write_outputs(&a->out, &rep);
    for (int i = 0; i < n; i++)
        rl__result_free(&model[i]);
    free(model);
    if (a->seed_given)
        fprintf(stderr, "%s: reproduce with: %s\n", rl__cli_prog,
                rl__cli_argv_line);
    else {
        /* The seed goes before the command of run -- COMMAND. */
        const char *line = rl__cli_argv_line ? rl__cli_argv_line : "";
        const char *dash = strstr(line, " -- ");
        int head = dash ? (int)(dash - line) : (int)strlen(line);
        fprintf(stderr, "%s: reproduce with: %.*s --seed %" PRIu64 "%s\n",
                rl__cli_prog, head, line, a->seed, line + head);
    }
    if (rl__cli_interrupted) {
        fprintf(stderr, "%s: interrupted; results so far are written\n",
                rl__cli_prog);
        return 128 + rl__cli_interrupted;
    }
    if (st->bad_input)
        return EXIT_USAGE;
    if (st->internal)
        return EXIT_INTERNAL;
    return unexpected ? EXIT_UNEXPECTED : EXIT_OK;
}

int rl__cli_run(int argc, char **argv)
{
    rl__cli_args a;
    char **cmd = rl__cli_split_command(&argc, argv);
    int code = rl__cli_parse(RL__CMD_RUN, argc, argv, &a);
    if (code)
        return code == 1 ? EXIT_OK : code;
    rl__search_opts o;
    long jobs;
    search_options(&a, &o, &jobs);
    rl__term term = rl__term_open(a.color, rl__cli_invoked);
    rl_scenario **list = NULL, *cmd_sc;
    int n = 0;
    code = rl__cli_command_scenario(cmd, &a, &cmd_sc);
    if (!code && cmd && a.next < argc)
        code = rl__cli_usage_error("run -- COMMAND takes no PATTERN");
    if (!code && cmd_sc) {
        list = calloc(1, sizeof *list);
        if (!list)
            return EXIT_INTERNAL;
        list[0] = cmd_sc;
        n = 1;
    } else if (!code) {
        code = select_scenarios(argc - a.next, argv + a.next, &list, &n);
    }
    if (code)
        return code;
    fprintf(stderr, "%s: mode %s, seed %" PRIu64 ", %d scenario%s\n",
            rl__cli_prog, rl__mode_name(o.mode), o.seed, n, n == 1 ? "" : "s");
    rl__search_result *results = calloc((size_t)n, sizeof *results);
    rl__result *model = calloc((size_t)n + 1, sizeof *model);
    char *ended = calloc((size_t)n + 1, 1);
    if (!results || !model || !ended) {
        free(list);
        free(results);
        free(model);
        free(ended);
        return EXIT_INTERNAL;
    }
    char started[32];
    rl__cli_started_at(started);
    struct sigaction old_int[3];
    rl__cli_catch_interrupts(old_int);
    o.stop = &rl__cli_interrupted;
    run_state st = {term,    0,     n,     0, rl__now(), a.out.tap, &o,
                    results, model, ended, 0, 0};
    search_all(list, n, &o, jobs, results, &st);
    rl__cli_release_interrupts(old_int);
    free(list);
    n = keep_results(results, n, &st);
    free(results);
    free(ended);
    return finish(&a, model, n, started, &st);
}
