/* api.c: the harness from C: rl_search, rl_replay, rl_outcome_free. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "harness.h"

static int fill(rl__search_result *r, rl_outcome *out)
{
    out->verdict = r->verdict;
    out->as_expected =
        r->sc ? rl__expectation_met(r->sc->expect, r->sc->expect_verdict,
                                    r->verdict, r->mode)
              : 0;
    out->exhausted = r->exhausted;
    out->executions = r->executions;
    out->failures = r->failures;
    out->found_at_bound = r->verdict != RL_PASS ? r->found_cost : 0;
    out->message = strdup(r->verdict != RL_PASS ? r->first.message : "");
    out->token = r->token ? strdup(r->token) : NULL;
    out->minimized_token =
        r->minimized_token ? strdup(r->minimized_token) : NULL;
    rl__search_result_free(r);
    return out->message ? 0 : -ENOMEM;
}

static void to_internal(const rl_search_opts *o, rl__search_opts *io)
{
    memset(io, 0, sizeof *io);
    io->preemptions = (int)rl__default.preemptions;
    if (!o)
        return;
    io->mode = o->mode == RL_PCT      ? RL_MODE_PCT
               : o->mode == RL_RANDOM ? RL_MODE_RANDOM
               : o->mode == RL_STRESS ? RL_MODE_STRESS
                                      : RL_MODE_EXPLORE;
    io->seed = o->seed;
    io->runs = o->runs;
    io->races = o->races == RL_RACES_REPORT ? RL__RACES_REPORT
                : o->races == RL_RACES_OFF  ? RL__RACES_OFF
                                            : RL__RACES_FAIL;
    io->preemptions = o->preemptions == 0 ? (int)rl__default.preemptions
                      : o->preemptions == RL_NO_PREEMPTION ? 0
                      : o->preemptions < 0                 ? -1
                                                           : o->preemptions;
    io->depth = o->depth;
    io->max_steps = o->max_steps;
    io->timeout = o->timeout;
    io->noise = o->noise;
    io->bound_kind = o->bound_kind == RL_BOUND_DELAYS ? RL__BOUND_DELAYS
                                                      : RL__BOUND_PREEMPTIONS;
    io->reduction = o->reduction == RL_REDUCTION_NONE ? RL__REDUCTION_NONE
                                                      : RL__REDUCTION_DPOR;
}

int rl_search(const char *name, const rl_search_opts *opts, rl_outcome *out)
{
    if (!out)
        return rl__fail(-EINVAL, "rl_search: out is NULL");
    memset(out, 0, sizeof *out);
    if (!name)
        return rl__fail(-EINVAL, "rl_search: name is NULL");
    if (opts && (opts->mode < RL_EXPLORE || opts->mode > RL_STRESS ||
                 (unsigned)opts->bound_kind > RL_BOUND_DELAYS ||
                 (unsigned)opts->reduction > RL_REDUCTION_NONE ||
                 opts->runs < 0 || opts->depth < 0 || opts->max_steps < 0 ||
                 opts->noise < 0 || opts->noise > 1))
        return rl__fail(-EINVAL, "rl_search: invalid options");
    rl_scenario *sc = rl__scenario_find(name);
    if (!sc)
        return rl__fail(-ENOENT, "no scenario named '%s'", name);
    rl__search_opts io;
    to_internal(opts, &io);
    rl__search_result r;
    /* The supervisor becomes a child subreaper for the executions; the
     * caller's own setting comes back afterwards. */
    int reaper = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &reaper);
    int err = rl__search(sc, &io, &r);
    if (err == 0)
        rl__search_minimize(&r, &io);
    prctl(PR_SET_CHILD_SUBREAPER, reaper);
    if (err < 0) {
        rl__search_result_free(&r);
        return err;
    }
    return fill(&r, out);
}

int rl_replay(const char *token, rl_outcome *out)
{
    if (!out)
        return rl__fail(-EINVAL, "rl_replay: out is NULL");
    memset(out, 0, sizeof *out);
    rl__search_opts io;
    to_internal(NULL, &io);
    rl__search_result r;
    int reaper = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &reaper);
    int err = rl__replay(token, &io, &r);
    prctl(PR_SET_CHILD_SUBREAPER, reaper);
    if (err < 0) {
        rl__search_result_free(&r);
        return err;
    }
    return fill(&r, out);
}

void rl_outcome_free(rl_outcome *out)
{
    if (!out)
        return;
    free(out->message);
    free(out->token);
    free(out->minimized_token);
    out->message = NULL;
    out->token = NULL;
    out->minimized_token = NULL;
}
