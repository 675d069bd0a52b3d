/* strategy.c: how the scheduler chooses the next actor among those it may
 * run when no replay prefix forces the choice: depth-first (keep the
 * running actor), uniformly random, or PCT priorities. */
#include "strategy.h"

#include <errno.h>
#include <string.h>

int rl__strategy_configure(rl__sched *s, const rl__sched_config *c)
{
    s->strategy = c->strategy;
    s->rng = c->seed * 0x2545f4914f6cdd1dULL + 0x9e3779b97f4a7c15ULL;
    s->noise = c->noise;
    if (c->nprefix > 0) {
        uint8_t *pf = rl_shared_alloc((size_t)c->nprefix);
        if (!pf)
            return rl__fail(-ENOMEM, "no room for the token: %s",
                            rl_last_error());
        memcpy(pf, c->prefix, (size_t)c->nprefix);
        s->prefix = pf;
        s->nprefix = c->nprefix;
    }
    if (c->strategy == RL__STRAT_PCT) {
        uint64_t rng = s->rng ^ 0x5851f42d4c957f2dULL;
        s->actors[0].pct_priority = 1000 + (rng >> 11) % 1000000;
        int d = c->pct_depth > 0 ? c->pct_depth : 1;
        long k = c->pct_length > 1 ? c->pct_length : 2;
        s->npct_changes = d - 1 < 8 ? d - 1 : 8;
        for (int i = 0; i < s->npct_changes; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            s->pct_changes[i] = 1 + (long)((rng >> 17) % (uint64_t)k);
        }
        s->rng = rng;
    }
    return 0;
}

void rl__strategy_new_actor(rl__sched *s, rl__actor *a)
{
    if (s->strategy == RL__STRAT_PCT)
        a->pct_priority = 1000 + rl__splitmix64(&s->rng) % 1000000;
}

int rl__strategy_pick(rl__sched *s, int me, const rl__actorset *en)
{
    switch (s->strategy) {
    case RL__STRAT_RANDOM: {
        int n = rl__set_count(en);
        int k = (int)(rl__splitmix64(&s->rng) % (uint64_t)n);
        for (int i = rl__set_lowest(en); i >= 0; i = rl__set_next(en, i + 1))
            if (k-- == 0)
                return i;
        return rl__set_lowest(en);
    }
    case RL__STRAT_PCT: {
        for (int i = 0; i < s->npct_changes; i++)
            if (s->pct_changes[i] == s->nsteps && me >= 0)
                s->actors[me].pct_priority = (uint64_t)(i + 1);
        int best = rl__set_lowest(en);
        for (int i = best; i >= 0; i = rl__set_next(en, i + 1))
            if (s->actors[i].pct_priority > s->actors[best].pct_priority)
                best = i;
        return best;
    }
    default:
        /* Without a forced choice, keep the running actor: new
         * preemptions come only from the explorer's prefixes. */
        if (me >= 0 && rl__set_has(en, me))
            return me;
        return rl__set_lowest(en);
    }
}
