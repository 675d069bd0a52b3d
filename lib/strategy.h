/* strategy.h: the scheduler's choice among the actors it may run
 * (sched.c); not installed. */
#ifndef RL_STRATEGY_H
#define RL_STRATEGY_H

#include "scheduler.h"

/* What the harness asks of one execution's scheduler: it hands this over
 * instead of writing the control block itself. */
typedef struct {
    int strategy;         /* RL__STRAT_* */
    uint64_t seed;        /* of the execution's generator */
    double noise;         /* stress: share of points that yield or sleep */
    const uint8_t *prefix; /* decisions forced first (a token's), or NULL */
    long nprefix;
    int pct_depth;   /* PCT: the bug depth d (d - 1 change points), >= 1 */
    long pct_length; /* PCT: expected number of steps, for change points */
} rl__sched_config;

/* Configures the control block s, fresh from rl__sched_setup, for one
 * execution: the strategy and its seeded generator, the noise, a copy of
 * the forced prefix in the arena, PCT's first priority and change points
 * (Burckhardt et al., ASPLOS 2010: d - 1 change points drawn uniformly
 * over the expected length). Called by the supervisor before the root
 * actor starts. Returns 0, or -ENOMEM when the arena cannot hold the
 * prefix (detail in rl_last_error()). */
int rl__strategy_configure(rl__sched *s, const rl__sched_config *c);

/* Gives a new actor a of s what its strategy needs: under PCT a random
 * priority from the execution's seeded generator. */
void rl__strategy_new_actor(rl__sched *s, rl__actor *a);

/* The actor that runs next among en (not empty), chosen by the strategy
 * of s; me is the running actor (-1 in the supervisor). Under PCT, the
 * running actor is demoted at the execution's change points first. */
int rl__strategy_pick(rl__sched *s, int me, const rl__actorset *en);

#endif /* RL_STRATEGY_H */
