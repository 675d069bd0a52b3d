/* sampled.c: the sampled searches: PCT, random and stress, one seeded
 * execution per run. */
#include <stdint.h>

#include "search_internal.h"

static uint64_t run_seed(uint64_t seed, long run)
{
    return rl__mix64(seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(run + 1));
}

int rl__sampled(const rl_scenario *sc, const rl__search_opts *o,
                rl__search_result *r, rl__coverage *cov)
{
    rl__exec_params p;
    rl__base_params(sc, o, &p);
    if (o->mode == RL_MODE_STRESS) {
        p.mode = RL__MODE_STRESS;
    } else {
        p.strategy = o->mode == RL_MODE_PCT ? RL__STRAT_PCT : RL__STRAT_RANDOM;
        p.pct_depth = o->depth > 0 ? o->depth : (int)rl__default.depth;
    }
    if (p.strategy == RL__STRAT_PCT) {
        /* PCT spreads its change points over the length of a run: take
         * it from one execution without preemptions. */
        rl__exec_result e;
        rl__exec_params q = p;
        q.strategy = RL__STRAT_DFS;
        int err = rl__execute(sc, &q, &e);
        if (err < 0)
            return err;
        p.pct_length = e.nsteps > 1 ? e.nsteps : 2;
        r->pct_depth = p.pct_depth;
        r->pct_actors = e.nactors;
        r->pct_steps = p.pct_length;
        rl__exec_result_free(&e);
    }
    long runs = o->runs > 0 ? o->runs : rl__default.runs;
    long shards = o->shard_count > 1 ? o->shard_count : 1;
    long stride = o->stride > 1 ? o->stride : 1;
    int stopped = 0;
    for (long run = 0; run < runs; run++) {
        if (o->stop && *o->stop)
            break;
        if (run % shards != o->shard_index)
            continue;
        if ((run / shards) % stride != o->offset)
            continue;
        p.seed = run_seed(o->seed, run);
        rl__exec_result e;
        int err = rl__execute(sc, &p, &e);
        if (err < 0)
            return err;
        if (o->stop && *o->stop) {
            rl__exec_result_free(&e);
            break;
        }
        rl__cover(cov, &e);
        if (o->observe)
            o->observe(&e, o->observe_ctx);
        /* Stress keeps counting after the first failure: its point is
         * the failure rate. */
        int stop = rl__account(sc, r, &e, run + 1);
        if (stop && o->mode != RL_MODE_STRESS) {
            stopped = 1;
            break;
        }
    }
    (void)stopped;
    return 0;
}
