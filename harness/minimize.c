/* minimize.c: replaying a token, and shrinking a failing one to fewer
 * preemptions and steps. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

int rl__replay(const char *token, const rl__search_opts *o,
               rl__search_result *r)
{
    memset(r, 0, sizeof *r);
    char *name;
    uint8_t *d;
    long n;
    /* An execution takes at most max_steps decisions: a token with more
     * is refused before it is expanded (counter.unlocked@3x10000000 is
     * 14 bytes). */
    long limit = RL__TOKEN_MAX_DECISIONS;
    const char *at = token ? strrchr(token, '@') : NULL;
    if (at && at != token) {
        char *nm = strndup(token, (size_t)(at - token));
        const rl_scenario *known = nm ? rl__scenario_find(nm) : NULL;
        free(nm);
        if (known) {
            rl__exec_params bp;
            rl__base_params(known, o, &bp);
            if (bp.max_steps < limit)
                limit = bp.max_steps;
        }
    }
    int err = rl__token_decode_bounded(token, limit, &name, &d, &n);
    if (err < 0)
        return err;
    const rl_scenario *sc = rl__scenario_find(name);
    if (!sc) {
        err = rl__fail(-ENOENT,
                       "no scenario named '%s' (racelab list "
                       "shows them)",
                       name);
        free(name);
        free(d);
        return err;
    }
    free(name);
    r->sc = sc;
    r->mode = RL_MODE_REPLAY;
    rl__exec_params p;
    rl__base_params(sc, o, &p);
    p.prefix = d;
    p.nprefix = n;
    p.stop_at = o->stop_at;
    p.on_stop = o->on_stop;
    p.stop_ctx = o->stop_ctx;
    double t0 = rl__now();
    rl__exec_result e;
    err = rl__execute(sc, &p, &e);
    free(d);
    if (err < 0)
        return err;
    rl__coverage *cov = calloc(1, sizeof *cov);
    if (cov)
        rl__cover(cov, &e);
    r->executions = 1;
    r->verdict = e.verdict;
    r->failures = e.verdict != RL_PASS;
    r->first_failure_run = r->failures;
    if (e.has_value)
        rl__record_value(r, e.value);
    r->first = e;
    rl__exec_format_stacks(&r->first);
    rl__merge_races(r, &r->first, e.verdict != RL_PASS);
    r->token = rl__token_of(sc, &e);
    if (cov) {
        rl__search_finish(sc, r, cov, t0);
        free(cov);
    }
    return 0;
}

/* One attempt of minimize: runs the prefix; on the same verdict, keeps it
 * if it has fewer preemptions, or as many and fewer steps. */
static int try_better(const rl_scenario *sc, rl__exec_params *p,
                      const uint8_t *prefix, long n, int verdict,
                      rl__exec_result *best, long *attempts)
{
    rl__exec_result e;
    p->prefix = prefix;
    p->nprefix = n;
    (*attempts)++;
    int err = rl__execute(sc, p, &e);
    if (err < 0)
        return 0;
    long pe = rl__count_preemptions(e.steps, e.nsteps);
    long pb = rl__count_preemptions(best->steps, best->nsteps);
    if (e.verdict == verdict &&
        (pe < pb || (pe == pb && e.nsteps < best->nsteps))) {
        rl__exec_result_free(best);
        *best = e;
        return 1;
    }
    rl__exec_result_free(&e);
    return 0;
}

int rl__minimize(const char *token, const rl__search_opts *o,
                 rl__search_result *r)
{
    int err = rl__replay(token, o, r);
    if (err < 0)
        return err;
    if (r->verdict == RL_PASS || r->verdict == RL_ERROR) {
        return rl__fail(-EINVAL,
                        "the token does not fail (%s): nothing "
                        "to minimize",
                        rl_verdict_name(r->verdict));
    }
    const rl_scenario *sc = r->sc;
    rl__exec_params p;
    rl__base_params(sc, o, &p);
    rl__exec_result *best = &r->first;
    long attempts = 0;
    int improved = 1, changed = 0;
    long budget = o->minimize_budget > 0 ? o->minimize_budget
                                         : rl__default.minimize_budget;
    while (improved && attempts < budget) {
        improved = 0;
        long n = best->nsteps;
        uint8_t *d = malloc((size_t)n + 1);
        if (!d)
            break;
        for (long i = 0; i < n; i++)
            d[i] = (uint8_t)best->steps[i].actor;
        /* Take away one preemption at a time, latest first: replace it
         * by the choice a replay would make by itself. */
        for (long i = n - 1; i >= 0 && !improved; i--) {
            if (!rl__is_preemption(best->steps, i, d[i]))
                continue;
            uint8_t keep = d[i];
            d[i] = (uint8_t)rl__default_choice(best->steps, i);
            improved =
                try_better(sc, &p, d, i + 1, r->verdict, best, &attempts);
            d[i] = keep;
            if (!improved)
                improved =
                    try_better(sc, &p, d, i, r->verdict, best, &attempts);
            changed |= improved;
        }
        free(d);
    }
    if (changed) {
        /* The trace kept, as the replay's was: its stacks and places
         * resolved, its races and their diagnosis at those places. */
        rl__exec_format_stacks(best);
        free(r->races);
        r->races = NULL;
        r->nraces = 0;
        rl__merge_races(r, best, 1);
    }
    free(r->minimized_token);
    r->minimized_token = rl__token_of(sc, best);
    r->executions = 1 + attempts;
    return 0;
}

void rl__search_minimize(rl__search_result *r, const rl__search_opts *o)
{
    if (!r->token || r->mode == RL_MODE_STRESS || r->verdict == RL_PASS ||
        r->verdict == RL_ERROR)
        return;
    rl__search_opts mo = *o;
    mo.observe = NULL;
    mo.minimize_budget = 100;
    rl__search_result m;
    if (rl__minimize(r->token, &mo, &m) == 0 && m.minimized_token &&
        m.verdict == r->verdict)
        r->minimized_token = strdup(m.minimized_token);
    rl__search_result_free(&m);
}
