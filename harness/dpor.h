/* dpor.h: the core of dynamic partial-order reduction: which steps of an
 * execution commute, and the races of one execution together with the
 * actors that can reverse them. Internal to the harness. */
#ifndef RL_DPOR_H
#define RL_DPOR_H

#include "scheduler.h"

/* 1 when the two steps do not commute: run in the other order, one of
 * them could do something else, or one could not run at all. Steps of
 * different actors are dependent when they touch one object and at least
 * one of them changes it (README.md, "Partial-order reduction", has the
 * rules); two steps of one actor are always dependent (program order). */
int rl__dpor_dependent(const rl__step *a, const rl__step *b);

/* The race analysis of source-DPOR (Abdulla, Aronis, Jonsson, Sagonas,
 * "Optimal dynamic partial order reduction", POPL 2014, Algorithm 1) over
 * one execution's steps[0..n). Happens-before is program order, the order
 * of dependent steps, and the creation of an actor before its first step.
 * For every pair i < j of steps of different actors in a race (dependent,
 * i happens before j, and no step k with i -> k -> j) with i >= from, it
 * computes the initials at i of v = notdep(i).steps[j]: the actors whose
 * first step in v has no step of v before it that happens before it, and
 * calls want(ctx, i, &initials) with them restricted to steps[i].enabled.
 * When that leaves nothing (the actors that could start the reversed order
 * could not run at i, e.g. blocked), it calls want with steps[i].enabled
 * instead, unless steps[j]'s actor did not exist at i (it was started
 * after i: that order cannot be reversed), when there is no call. Calls
 * come in order of j. Time and memory are O(n * actors in the trace) for
 * the common shapes; should memory run out, every i >= from gets its whole
 * enabled set (never fewer calls than needed). */
void rl__dpor_races(const rl__step *steps, long n, long from,
                    void (*want)(void *ctx, long i,
                                 const rl__actorset *initials),
                    void *ctx);

#endif /* RL_DPOR_H */
