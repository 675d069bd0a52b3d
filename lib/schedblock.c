/* schedblock.c: the scheduler's control block in the arena, made fresh
 * for each execution or, after one that passed, reused in place. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "schedblock.h"

/* The control block this process made last, as it made it: a scenario
 * may scribble over the arena, so the layout is not read back from it. */
static struct {
    void *arena;
    rl__sched *s;
    rl__step *steps;
    long steps_cap;
    size_t keep; /* the arena mark past the block and its steps */
} kept;

/* Makes the control block left by the previous execution as new, when it
 * has room for cap steps and that execution passed: only what it wrote is
 * zeroed, and the block keeps its pages (the next execution's processes
 * find them in memory instead of faulting in new ones). Returns it, or
 * NULL. */
static rl__sched *reuse(long cap)
{
    void **root = rl__arena_root(RL__ROOT_SCHED);
    rl__sched *s = kept.s;
    if (!root || !s || *root != s || kept.arena != rl__arena_base() ||
        kept.steps_cap < cap || kept.keep > rl__arena_mark())
        return NULL;
    /* After a failure, whatever the scenario did to the arena goes with
     * the whole of it. */
    if (s->verdict != RL_PASS || s->crash_actor >= 0)
        return NULL;
    long nsteps = s->nsteps;
    int nactors = s->nactors, npstores = s->npstores;
    if (nsteps < 0 || nsteps >= kept.steps_cap)
        nsteps = kept.steps_cap - 1;
    if (nactors < 0 || nactors >= RL__MAX_ACTORS)
        nactors = RL__MAX_ACTORS - 1;
    if (npstores < 0 || npstores >= RL__PRIVATE_STORES)
        npstores = RL__PRIVATE_STORES - 1;
    if (kept.steps)
        memset(kept.steps, 0, sizeof *kept.steps * (size_t)(nsteps + 1));
    memset(s->pstores, 0, sizeof s->pstores[0] * (size_t)(npstores + 1));
    memset(s, 0,
           offsetof(rl__sched, actors) +
               sizeof(rl__actor) * (size_t)(nactors + 1));
    s->steps = kept.steps;
    return s;
}

rl__sched *rl__sched_block_make(int mode, long max_steps)
{
    if (rl__arena_ensure() < 0)
        return NULL;
    if (max_steps <= 0)
        max_steps = 10000;
    long cap = mode == RL__MODE_CONTROLLED ? max_steps + 2 : 0;
    rl__sched *s = reuse(cap);
    if (s) {
        if (rl__arena_fresh_above(kept.keep) < 0)
            return NULL;
    } else {
        kept.s = NULL;
        if (rl__arena_fresh() < 0)
            return NULL;
        s = rl_shared_alloc(sizeof *s);
        rl__step *steps = s && cap > 0
                              ? rl_shared_alloc(sizeof(rl__step) * (size_t)cap)
                              : NULL;
        if (!s || (cap > 0 && !steps)) {
            rl__arena_fresh();
            return NULL;
        }
        s->steps = steps;
        kept.arena = rl__arena_base();
        kept.s = s;
        kept.steps = steps;
        kept.steps_cap = cap;
        kept.keep = rl__arena_mark();
    }
    s->mode = mode;
    s->max_steps = max_steps;
    s->nactors = 1;
    s->supervisor = rl__pid();
    s->actors[0].state = RL__ACTOR_RUNNABLE;
    s->actors[0].parent = -1;
    s->actors[0].go = 1;
    snprintf(s->actors[0].name, sizeof s->actors[0].name, "main");
    s->fail_step = -1;
    s->fail_actor = -1;
    s->crash_actor = -1;
    *rl__arena_root(RL__ROOT_SCHED) = s;
    return s;
}
