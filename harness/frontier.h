/* frontier.h: the frontier of explore's decision tree under the bound, by
 * which jobs.c splits explore into subtrees. Internal to the harness. */
#ifndef RL_FRONTIER_H
#define RL_FRONTIER_H

#include <stdint.h>

#include "harness.h"

/* The longest prefix of a subtree (a task on the job board holds it). */
#define RL__MAX_PREFIX 512

/* Splits the decision tree under the bound into at least want subtrees
 * (fewer when it does not branch enough). Each element of *out is a
 * malloc'd prefix of at most RL__MAX_PREFIX decisions, its length in
 * *lens; returns how many, or -ENOMEM. Runs executions: the caller must
 * not be an actor. */
long rl__frontier(const rl_scenario *sc, const rl__search_opts *o, long want,
                  uint8_t ***out, long **lens);

#endif /* RL_FRONTIER_H */
