/* convert.c: the engine's outcome of a search turned into the results
 * model: the one place where the scheduler's steps and actors become
 * result records. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

_Static_assert(RL__RESULT_MSG_LEN == RL__MSG_LEN,
               "a diagnosis fits the model's message");
_Static_assert(RL__RESULT_MAX_ACTORS == RL__MAX_ACTORS,
               "an execution's actors fit the model");

static void convert_step(const rl__step *steps, long i, rl__result_step *o)
{
    const rl__step *s = &steps[i];
    memset(o, 0, sizeof *o);
    o->actor = s->actor;
    o->pid = (int)s->pid;
    if (rl__result_step_op(o, rl__op_name((rl__op)s->op)) < 0)
        snprintf(o->op, sizeof o->op, "?");
    o->at = (uintptr_t)s->obj;
    o->shared = o->access && s->shared;
    o->has_value = s->has_value;
    o->value = s->has_value ? s->value : 0;
    snprintf(o->label, sizeof o->label, "%s", s->label);
    snprintf(o->file, sizeof o->file, "%s", s->file);
    o->line = s->line;
    o->preemption = i > 0 && rl__is_preemption(steps, i, s->actor);
}

/* A stack as the results file keeps it: one frame a line, each cut to
 * 255 bytes, no empty line, no newline at the end. */
static void convert_stack(const char *in, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    while (*in) {
        size_t n = strcspn(in, "\n");
        size_t keep = n < 255 ? n : 255;
        if (keep && used + (used > 0) + keep < size) {
            if (used)
                out[used++] = '\n';
            memcpy(out + used, in, keep);
            used += keep;
            out[used] = '\0';
        }
        in += n;
        if (*in == '\n')
            in++;
    }
}

static int state_of(int state)
{
    switch (state) {
    case RL__ACTOR_RUNNABLE:
        return RL__STATE_RUNNABLE;
    case RL__ACTOR_BLOCKED:
        return RL__STATE_BLOCKED;
    case RL__ACTOR_FINISHED:
        return RL__STATE_FINISHED;
    default:
        return RL__STATE_UNUSED;
    }
}

static void convert_actor(const rl__actor *a, int id, rl__result_actor *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", a->name);
    o->pid = (int)a->pid;
    o->started_by = id == 0                            ? RL__STARTED_ROOT
                    : a->method == RL_START_SPAWN      ? RL__STARTED_SPAWN
                    : a->method == RL_START_FORKSERVER ? RL__STARTED_FORKSERVER
                                                       : RL__STARTED_FORK;
    o->state = state_of(a->state);
    o->exit_code = o->state == RL__STATE_FINISHED ? a->exit_code : 0;
    if (o->state == RL__STATE_BLOCKED)
        snprintf(o->wait_reason, sizeof o->wait_reason, "%s", a->reason);
    convert_stack(a->stack, o->stack, sizeof o->stack);
}

static int convert_failure(const rl__search_result *s, rl__result_failure *f)
{
    const rl__exec_result *e = &s->first;
    snprintf(f->message, sizeof f->message, "%s", e->message);
    if (s->token && !(f->token = strdup(s->token)))
        return -ENOMEM;
    if (s->minimized_token &&
        !(f->minimized_token = strdup(s->minimized_token)))
        return -ENOMEM;
    if (e->nsteps > 0) {
        f->steps = calloc((size_t)e->nsteps, sizeof *f->steps);
        if (!f->steps)
            return -ENOMEM;
        f->nsteps = e->nsteps;
        for (long i = 0; i < e->nsteps; i++)
            convert_step(e->steps, i, &f->steps[i]);
    }
    if (e->nactors > 0) {
        f->actors = calloc((size_t)e->nactors, sizeof *f->actors);
        if (!f->actors)
            return -ENOMEM;
        f->nactors = e->nactors;
        for (int i = 0; i < e->nactors; i++)
            convert_actor(&e->actors[i], i, &f->actors[i]);
    }
    return 0;
}

static void convert_access(const rl__race_access *x, rl__result_access *o)
{
    memset(o, 0, sizeof *o);
    o->actor = x->actor;
    o->pid = (int)x->pid;
    o->write = x->write;
    o->atomic = x->atomic;
    o->at = x->addr;
    o->size = x->size;
    snprintf(o->label, sizeof o->label, "%s", x->label);
    snprintf(o->file, sizeof o->file, "%s", x->file);
    o->line = x->line;
    o->step = x->step;
    snprintf(o->stack, sizeof o->stack, "%s", x->stack);
}

/* The search's races as the model keeps them: a race's steps index the
 * failure's trace only when the search kept that failure's trace. */
static int convert_races(const rl__search_result *s, rl__result *out)
{
    if (s->nraces <= 0)
        return 0;
    out->races = calloc((size_t)s->nraces, sizeof *out->races);
    if (!out->races)
        return -ENOMEM;
    out->nraces = s->nraces;
    for (long i = 0; i < s->nraces; i++) {
        convert_access(&s->races[i].first, &out->races[i].first);
        convert_access(&s->races[i].second, &out->races[i].second);
        out->races[i].in_failure = s->races[i].failing &&
                                   s->verdict != RL_PASS &&
                                   s->races[i].second.step < s->first.nsteps;
    }
    return 0;
}

int rl__result_from_search(const rl__search_result *s, rl__result *out)
{
    memset(out, 0, sizeof *out);
    const rl_scenario *sc = s->sc;
    out->name = strdup(sc && sc->name ? sc->name : "");
    if (sc && sc->summary)
        out->summary = strdup(sc->summary);
    if (!out->name || (sc && sc->summary && !out->summary))
        goto oom;
    out->expect = sc ? sc->expect : RL_EXPECT_CLEAN;
    out->expect_verdict =
        sc && sc->expect == RL_EXPECT_BUG ? sc->expect_verdict : 0;
    out->mode = s->mode;
    out->seed = s->seed;
    out->verdict = s->verdict;
    out->exhausted = s->exhausted;
    out->interrupted = s->interrupted;
    out->executions = s->executions;
    out->failures = s->failures;
    out->first_failure_run = s->first_failure_run;
    /* As precise as the results file: its reports then show the same. */
    out->duration = rl__result_duration(s->duration);
    out->bound = s->bound;
    out->bound_kind = s->bound_kind;
    out->reduction = s->reduction;
    out->found_cost = s->found_cost;
    out->pct_depth = s->pct_depth;
    out->pct_actors = s->pct_actors;
    out->pct_steps = s->pct_steps;
    if (s->verdict != RL_PASS && convert_failure(s, &out->failure) < 0)
        goto oom;
    if (convert_races(s, out) < 0)
        goto oom;
    out->nvalues = s->nvalues;
    memcpy(out->values, s->values, sizeof out->values);
    memcpy(out->counts, s->counts, sizeof out->counts);
    out->space_explored =
        s->space_explored >= 0 ? round(s->space_explored * 10000) / 10000 : -1;
    out->schedule_points = s->schedule_points;
    out->labels_reached = s->labels_reached;
    out->pairs_interleaved = s->pairs_interleaved;
    return 0;
oom:
    rl__result_free(out);
    return rl__fail(-ENOMEM, "out of memory");
}
