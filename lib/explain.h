/* explain.h: the words of the scheduler (sched.c): names, private stores
 * and the messages of its verdicts; not installed. */
#ifndef RL_EXPLAIN_H
#define RL_EXPLAIN_H

#include <stddef.h>

#include "scheduler.h"

/* After the load or store op (RL_OP_*) by actor me of s at a private
 * address addr (what: its name in the source): a store is remembered, and
 * the first load of an address another actor stored to is kept as the
 * "not shared across processes" finding. Other ops are ignored. */
void rl__explain_note_private(rl__sched *s, int me, int op, const void *addr,
                              const char *what);

/* Writes into msg (cap bytes, always terminated) why no actor of s can
 * run: each blocked actor's wait and, for a pipe or socket, who holds the
 * other end open (from /proc of this process group). */
void rl__explain_deadlock(const rl__sched *s, char *msg, size_t cap);

/* Writes into msg why actor me of s, which passed max_steps, livelocks:
 * what it keeps reading and any private copy a store went to. */
void rl__explain_livelock(const rl__sched *s, int me, char *msg, size_t cap);

/* Writes into msg why no fair schedule of s makes progress: what each
 * spinning actor reads, what the others wait for. */
void rl__explain_spin_livelock(const rl__sched *s, char *msg, size_t cap);

/* Writes into msg why a replay token does not fit: at step k it chooses
 * actor c, which is not among the enabled actors en. */
void rl__explain_misfit(const rl__sched *s, long k, int c,
                        const rl__actorset *en, char *msg, size_t cap);

#endif /* RL_EXPLAIN_H */
