/* fair.c: fair scheduling and spin detection: which enabled actors the
 * scheduler may choose at a step, and when a spinning actor shows that it
 * cannot progress. */
#include <string.h>

#include "fair.h"

/* Fair scheduling after CHESS (Musuvathi and Qadeer, "Fair stateless model
 * checking", PLDI 2008). An actor that yields says it cannot progress
 * until another actor runs: from then on every other enabled actor must
 * take a step before it may be chosen again (CHESS's priority relation),
 * and an actor that becomes disabled (blocked, finished) drops out of that
 * requirement. An actor that keeps reading the same value at the same load
 * with no effect of its own since is spinning, and counts as yielding from
 * its second identical read on. Only the fair-enabled actors are choices
 * at a step, so switching away from a yielding actor is no preemption, and
 * a spin-wait never starves the actor it waits for. */

int rl__fair_is_effect(int op)
{
    switch (op) {
    case RL_OP_YIELD:
    case RL_OP_LOAD:
    case RL_OP_JOIN:
    case RL_OP_WAIT:
    case RL_OP_POLL:
    case RL_OP_ACQUIRE:
        return 0;
    default:
        return 1;
    }
}

void rl__fair_yield(rl__sched *s, int me)
{
    rl__actor *a = &s->actors[me];
    a->fair_wait = rl__actors_in(s, RL__ACTOR_RUNNABLE, 0);
    rl__set_del(&a->fair_wait, me);
}

rl__actorset rl__fair_enabled(rl__sched *s, const rl__actorset *en)
{
    rl__actorset f = *en;
    for (int i = 0; i < s->nactors; i++) {
        rl__actorset *w = &s->actors[i].fair_wait;
        for (int k = 0; k < RL__MAX_ACTORS / 64; k++)
            w->w[k] &= en->w[k];
        if (!rl__set_empty(w))
            rl__set_del(&f, i);
    }
    return rl__set_empty(&f) ? *en : f;
}

/* 1 when the actor cannot progress by itself: it reads the same value at
 * the same load over and over, nobody did anything since, and what it
 * does next is no effect. */
static int stuck(const rl__sched *s, const rl__actor *a)
{
    return a->stuck && a->stuck_effects == s->effects &&
           !rl__fair_is_effect(a->pending.op);
}

int rl__fair_all_stuck(const rl__sched *s, const rl__actorset *en)
{
    for (int i = rl__set_lowest(en); i >= 0; i = rl__set_next(en, i + 1))
        if (!stuck(s, &s->actors[i]))
            return 0;
    return 1;
}

void rl__fair_spin_note(rl__sched *s, int me, const rl__step *st,
                        const char *what, long value)
{
    rl__actor *a = &s->actors[me];
    rl__spin_point *sp = NULL;
    int n = 0;
    for (; n < a->nspin; n++) {
        sp = &a->spin[n];
        if (sp->obj == st->obj && sp->line == st->line && sp->pc == st->pc &&
            strcmp(sp->file, st->file) == 0)
            break;
    }
    if (n == a->nspin) {
        /* A new point: it takes the place of the oldest when full. */
        if (a->nspin < RL__SPIN_POINTS) {
            a->nspin++;
        } else {
            memmove(&a->spin[0], &a->spin[1],
                    sizeof a->spin[0] * (RL__SPIN_POINTS - 1));
            n = RL__SPIN_POINTS - 1;
            if (a->stuck)
                a->stuck--;
        }
        sp = &a->spin[n];
        memset(sp, 0, sizeof *sp);
        sp->obj = st->obj;
        sp->shared = st->shared;
        sp->line = st->line;
        sp->pc = st->pc;
        rl__copy_str(sp->file, sizeof sp->file, st->file);
        rl__copy_str(sp->what, sizeof sp->what, what);
        sp->value = value;
        sp->effects = s->effects;
        return;
    }
    if (sp->value != value) {
        /* It saw a change: progress. */
        sp->value = value;
        sp->effects = s->effects;
        sp->repeats = 0;
        if (a->stuck == n + 1)
            a->stuck = 0;
        return;
    }
    if (sp->effects != s->effects) {
        sp->effects = s->effects;
        sp->repeats = 0;
    }
    sp->repeats++;
    rl__fair_yield(s, me);
    if (sp->repeats >= RL__SPIN_PROOF - 1) {
        a->stuck = n + 1;
        a->stuck_effects = s->effects;
    }
}
