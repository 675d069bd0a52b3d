/* strategy.c: how the scheduler chooses the next actor among those it may
 * run when no replay prefix forces the choice: depth-first (keep the
 * running actor), uniformly random, or PCT priorities. */
#include "strategy.h"

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
