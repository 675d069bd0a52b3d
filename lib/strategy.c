/* strategy.c: how the scheduler chooses the next actor among those it may
 * run when no replay prefix forces the choice: depth-first (keep the
 * running actor), uniformly random, or PCT priorities; and the stop of a
 * replay at a given step (--stop-at). */
#include <stdint.h>

#include "explain.h"
#include "strategy.h"

/* replay --stop-at: at the step the harness armed (it cut the prefix
 * short there, so the choice comes here), the token holder says so to
 * the supervisor and waits until it says go; the supervisor stops every
 * process meanwhile. Then the prefix is whole again. Returns 1 with the
 * prefix's choice in *c when the prefix goes on past the step, else 0.
 * A choice that does not fit is an ERROR, as in any replay. */
static int stop_here(rl__sched *s, int me, const rl__actorset *en, int *c)
{
    if (!s->stop_before || s->nsteps != s->stop_before - 1)
        return 0;
    s->stop_before = 0;
    s->nprefix = s->stop_nprefix;
    /* The supervisor itself never waits for itself. */
    if (me >= 0) {
        __atomic_store_n(&s->stop_reached, 1, __ATOMIC_RELEASE);
        rl__futex_wake(&s->done, INT32_MAX);
        while (!__atomic_load_n(&s->stop_go, __ATOMIC_ACQUIRE))
            rl__futex_wait(&s->stop_go, 0, -1);
    }
    long k = s->nsteps;
    if (k >= s->nprefix)
        return 0;
    *c = s->prefix[k];
    if (*c >= s->nactors || !rl__set_has(en, *c)) {
        char msg[RL__MSG_LEN];
        rl__explain_misfit(s, k, *c, en, msg, sizeof msg);
        rl__sched_verdict(RL_ERROR, "%s", msg);
        rl__sched_halt();
    }
    return 1;
}

void rl__strategy_new_actor(rl__sched *s, rl__actor *a)
{
    if (s->strategy == RL__STRAT_PCT)
        a->pct_priority = 1000 + rl__splitmix64(&s->rng) % 1000000;
}

int rl__strategy_pick(rl__sched *s, int me, const rl__actorset *en)
{
    int forced;
    if (stop_here(s, me, en, &forced))
        return forced;
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
