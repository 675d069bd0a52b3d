/* fair.h: fair scheduling and spin detection for the scheduler (sched.c);
 * not installed. */
#ifndef RL_FAIR_H
#define RL_FAIR_H

#include "scheduler.h"

/* Whether op changes what another actor can see or do; loads, yields and
 * the waits do not. */
int rl__fair_is_effect(int op);

/* Actor me of s yields: the actors that can run now go first. */
void rl__fair_yield(rl__sched *s, int me);

/* The members of en that no other member of en must precede; all of en
 * when that leaves none. Actors outside en drop out of every requirement
 * for good. */
rl__actorset rl__fair_enabled(rl__sched *s, const rl__actorset *en);

/* 1 when every member of en is stuck: it reads the same value at the same
 * load over and over, nobody did anything since, and what it does next is
 * no effect. */
int rl__fair_all_stuck(const rl__sched *s, const rl__actorset *en);

/* After a load st by actor me of s (what it read: what, value): notes the
 * read and decides whether the actor is spinning (then it yields) and
 * whether the spin shows it cannot progress. */
void rl__fair_spin_note(rl__sched *s, int me, const rl__step *st,
                        const char *what, long value);

#endif /* RL_FAIR_H */
