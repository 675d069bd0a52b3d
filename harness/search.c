/* search.c: the entry of a search over one scenario and what its modes
 * share: the base parameters, the accounting of executions, the finish. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

void rl__base_params(const rl_scenario *sc, const rl__search_opts *o,
                     rl__exec_params *p)
{
    memset(p, 0, sizeof *p);
    p->mode = RL__MODE_CONTROLLED;
    p->strategy = RL__STRAT_DFS;
    p->max_steps = o->max_steps > 0    ? o->max_steps
                   : sc->max_steps > 0 ? sc->max_steps
                                       : rl__default.max_steps;
    p->timeout = o->timeout > 0    ? o->timeout
                 : sc->timeout > 0 ? sc->timeout
                                   : rl__default.timeout;
    p->noise = o->noise;
    p->stop = o->stop;
    p->cpu = o->cpu;
    p->races = o->races;
}

void rl__record_value(rl__search_result *r, long v)
{
    for (int i = 0; i < r->nvalues; i++) {
        if (r->values[i] == v) {
            r->counts[i]++;
            return;
        }
    }
    if (r->nvalues < RL__HIST_MAX) {
        r->values[r->nvalues] = v;
        r->counts[r->nvalues++] = 1;
    }
}

void rl__merge_races(rl__search_result *r, const rl__exec_result *e,
                     int failing)
{
    for (long i = 0; i < e->nraces; i++) {
        rl__race x = e->races[i];
        x.failing = failing;
        long at = -1;
        for (long j = 0; j < r->nraces && at < 0; j++)
            if (rl__races_same_places(&r->races[j], &x))
                at = j;
        if (at >= 0) {
            if (failing && !r->races[at].failing)
                r->races[at] = x;
            continue;
        }
        if (r->nraces >= RL__RACES_MAX)
            continue;
        if (!failing && e->steps) {
            /* The places of instrumented code, for this race alone. */
            rl__step two[2] = {e->steps[x.first.step],
                               e->steps[x.second.step]};
            if (two[0].pc || two[1].pc) {
                rl__tsan_symbolize(two, 2);
                x.first.step = 0;
                x.second.step = 1;
                rl__races_refresh(&x, 1, two, 2);
                x.first.step = e->races[i].first.step;
                x.second.step = e->races[i].second.step;
            }
        }
        rl__race *t = realloc(r->races, (size_t)(r->nraces + 1) * sizeof *t);
        if (!t)
            return;
        r->races = t;
        r->races[r->nraces++] = x;
    }
}

/* Keeps the execution as the first failure if it is one. Returns 1 when
 * the search should stop. */
int rl__account(const rl_scenario *sc, rl__search_result *r, rl__exec_result *e,
                long run)
{
    r->executions++;
    if (e->has_value)
        rl__record_value(r, e->value);
    if (e->verdict == RL_PASS) {
        rl__merge_races(r, e, 0);
        rl__exec_result_free(e);
        return 0;
    }
    r->failures++;
    if (r->first_failure_run == 0) {
        r->first_failure_run = run;
        r->verdict = e->verdict;
        r->first = *e;
        rl__exec_format_stacks(&r->first);
        rl__merge_races(r, &r->first, 1);
        if (e->nsteps > 0)
            r->token = rl__token_of(sc, e);
        return 1;
    }
    rl__exec_result_free(e);
    return 1;
}

void rl__search_finish(const rl_scenario *sc, rl__search_result *r,
                       rl__coverage *cov, double t0)
{
    r->duration = rl__now() - t0;
    r->schedule_points = cov->npoints;
    r->pairs_interleaved = cov->npairs;
    r->labels_reached = cov->nlabels;
    /* After the duration: the reruns are for the report, not the search. */
    rl__races_stacks(sc, r);
}

int rl__search(const rl_scenario *sc, const rl__search_opts *o,
               rl__search_result *r)
{
    memset(r, 0, sizeof *r);
    r->sc = sc;
    r->mode = o->mode;
    r->seed = o->seed;
    r->bound = o->preemptions;
    r->bound_kind = o->bound_kind;
    r->reduction = o->reduction;
    r->space_explored = -1;
    rl__coverage *cov = calloc(1, sizeof *cov);
    if (!cov)
        return -ENOMEM;
    double t0 = rl__now();
    int err = o->mode == RL_MODE_EXPLORE ? rl__explore(sc, o, r, cov)
                                         : rl__sampled(sc, o, r, cov);
    rl__search_finish(sc, r, cov, t0);
    free(cov);
    return err;
}

void rl__search_result_free(rl__search_result *r)
{
    rl__exec_result_free(&r->first);
    free(r->races);
    r->races = NULL;
    r->nraces = 0;
    free(r->token);
    free(r->minimized_token);
    r->token = NULL;
    r->minimized_token = NULL;
}
