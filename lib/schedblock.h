/* schedblock.h: the scheduler's control block in the arena (sched.c);
 * not installed. */
#ifndef RL_SCHEDBLOCK_H
#define RL_SCHEDBLOCK_H

#include "scheduler.h"

/* Empties the arena for a new execution and makes its control block there
 * (with room for max_steps + 2 steps in controlled mode; max_steps <= 0
 * means 10000): the previous one as new when that execution passed, else
 * a fresh one. Actor 0 ("main") is runnable and holds the token, the
 * caller is the supervisor, and the arena's root points at the block.
 * Returns the block, or NULL when the arena cannot hold it. */
rl__sched *rl__sched_block_make(int mode, long max_steps);

#endif /* RL_SCHEDBLOCK_H */
