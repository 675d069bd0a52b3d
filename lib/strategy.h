/* strategy.h: the scheduler's choice among the actors it may run
 * (sched.c); not installed. */
#ifndef RL_STRATEGY_H
#define RL_STRATEGY_H

#include "scheduler.h"

/* Gives a new actor a of s what its strategy needs: under PCT a random
 * priority from the execution's seeded generator. */
void rl__strategy_new_actor(rl__sched *s, rl__actor *a);

/* The actor that runs next among en (not empty), chosen by the strategy
 * of s; me is the running actor (-1 in the supervisor). Under PCT, the
 * running actor is demoted at the execution's change points first. */
int rl__strategy_pick(rl__sched *s, int me, const rl__actorset *en);

#endif /* RL_STRATEGY_H */
