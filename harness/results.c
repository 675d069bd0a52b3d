/* results.c: the rules and names of the results model (as expected, the
 * confidence interval, PCT's guarantee) and its memory. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "results.h"

int rl__expectation_met(int expect, int expect_verdict, int verdict, int mode)
{
    if (expect != RL_EXPECT_BUG)
        return verdict == RL_PASS;
    if (verdict == RL_PASS || verdict == RL_ERROR)
        return 0;
    /* Running for real, nothing tells a deadlock or a livelock from a
     * hang: stress shows them as TIMEOUT. */
    if (mode == RL_MODE_STRESS && verdict == RL_TIMEOUT &&
        (expect_verdict == RL_DEADLOCK || expect_verdict == RL_LIVELOCK))
        return 1;
    /* A race is the bug caught early: the unordered accesses come before
     * the failure they lead to (--races report goes on to that). */
    if (verdict == RL_RACE)
        return 1;
    return expect_verdict == 0 || expect_verdict == verdict;
}

int rl__result_as_expected(const rl__result *r)
{
    return !r->interrupted && rl__expectation_met(r->expect, r->expect_verdict,
                                                  r->verdict, r->mode);
}

double rl__result_duration(double seconds)
{
    return seconds > 0 ? round(seconds * 1000) / 1000 : 0;
}

void rl__wilson(long k, long n, double *lo, double *hi)
{
    if (n <= 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    const double z = 1.959963984540054;
    double p = (double)k / (double)n, nn = (double)n;
    double denom = 1 + z * z / nn;
    double centre = (p + z * z / (2 * nn)) / denom;
    double half = z * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
    *lo = centre - half < 0 ? 0 : centre - half;
    *hi = centre + half > 1 ? 1 : centre + half;
}

double rl__pct_probability(int depth, int actors, long steps)
{
    if (depth < 1 || actors < 1 || steps < 1)
        return 0;
    return 1.0 / ((double)actors * pow((double)steps, (double)(depth - 1)));
}

long rl__pct_runs_for_95(int depth, int actors, long steps)
{
    double p = rl__pct_probability(depth, actors, steps);
    if (p <= 0)
        return 0;
    if (p >= 1)
        return 1;
    double n = ceil(log(0.05) / log1p(-p));
    return n > 1e15 ? (long)1e15 : (long)n;
}

/* ---- names ---- */

static const char *name_of(const char *const *names, int count, int i)
{
    return i >= 0 && i < count ? names[i] : "?";
}

const char *rl__mode_name(int mode)
{
    static const char *const names[RL_MODE_COUNT] = {"explore", "pct", "random",
                                                     "stress", "replay"};
    return name_of(names, RL_MODE_COUNT, mode);
}

const char *rl__state_name(int state)
{
    static const char *const names[RL__STATE_COUNT] = {"unused", "runnable",
                                                       "blocked", "finished"};
    return name_of(names, RL__STATE_COUNT, state);
}

const char *rl__started_name(int started_by)
{
    static const char *const names[RL__STARTED_COUNT] = {"fork", "spawn",
                                                         "forkserver", "root"};
    return name_of(names, RL__STARTED_COUNT, started_by);
}

const char *rl__bound_kind_name(int kind)
{
    static const char *const names[RL__BOUND_COUNT] = {"preemptions", "delays"};
    return name_of(names, RL__BOUND_COUNT, kind);
}

const char *rl__reduction_name(int reduction)
{
    static const char *const names[RL__REDUCTION_COUNT] = {"dpor", "none"};
    return name_of(names, RL__REDUCTION_COUNT, reduction);
}

const char *rl__expect_name(int expect)
{
    static const char *const names[2] = {"clean", "bug"};
    return name_of(names, 2, expect);
}

const char *rl__run_class_key(int run_class)
{
    static const char *const names[RL__RUN_CLASSES] = {
        "ok", "wrong_exit", "wrong_output", "signal", "timeout"};
    return name_of(names, RL__RUN_CLASSES, run_class);
}

int rl__result_step_op(rl__result_step *s, const char *name)
{
    /* The operations are the scheduler's: their names come from lib/, so
     * that the model never lists them a second time. */
    for (int op = 0; op < RL_OP_COUNT; op++) {
        if (strcmp(name, rl__op_name((rl__op)op)) != 0)
            continue;
        if (name != s->op) /* it may be the step's own */
            snprintf(s->op, sizeof s->op, "%s", name);
        s->access =
            op == RL_OP_LOAD || op == RL_OP_STORE || op == RL_OP_FETCH_ADD;
        s->write = op == RL_OP_STORE || op == RL_OP_FETCH_ADD;
        return 0;
    }
    return -1;
}

/* ---- memory ---- */

static void failure_free(rl__result_failure *f)
{
    free(f->token);
    free(f->minimized_token);
    free(f->steps);
    free(f->actors);
    memset(f, 0, sizeof *f);
}

void rl__result_free(rl__result *r)
{
    free(r->name);
    free(r->summary);
    failure_free(&r->failure);
    free(r->races);
    for (int i = 0; i < RL__KEPT_OUTPUTS; i++)
        free(r->kept_output[i]);
    memset(r, 0, sizeof *r);
    r->space_explored = -1;
}

void rl__result_access_text(const rl__result_access *x, char *buf,
                            size_t size)
{
    char where[128];
    if (x->file[0])
        snprintf(where, sizeof where, "%s, %s:%d", x->label, x->file,
                 x->line);
    else
        snprintf(where, sizeof where, "%s", x->label);
    snprintf(buf, size,
             "actor %d (pid %d) %s%s %d byte%s at %#lx (%s), step %ld",
             x->actor, x->pid, x->atomic ? "atomic " : "",
             x->write ? "write" : "read", x->size, x->size == 1 ? "" : "s",
             (unsigned long)x->at, where, x->step);
}

int rl__result_races_copy(rl__result *dst, const rl__result *src)
{
    dst->races = NULL;
    dst->nraces = 0;
    if (src->nraces <= 0)
        return 0;
    dst->races = malloc(sizeof *src->races * (size_t)src->nraces);
    if (!dst->races)
        return -ENOMEM;
    memcpy(dst->races, src->races, sizeof *src->races * (size_t)src->nraces);
    dst->nraces = src->nraces;
    return 0;
}

int rl__result_failure_copy(rl__result_failure *dst,
                            const rl__result_failure *src)
{
    memcpy(dst->message, src->message, sizeof dst->message);
    dst->token = NULL;
    dst->minimized_token = NULL;
    dst->steps = NULL;
    dst->actors = NULL;
    dst->nsteps = 0;
    dst->nactors = 0;
    if (src->nsteps) {
        dst->steps = malloc(sizeof *src->steps * (size_t)src->nsteps);
        if (!dst->steps)
            return -ENOMEM;
        memcpy(dst->steps, src->steps,
               sizeof *src->steps * (size_t)src->nsteps);
        dst->nsteps = src->nsteps;
    }
    if (src->nactors) {
        dst->actors = malloc(sizeof *src->actors * (size_t)src->nactors);
        if (!dst->actors)
            return -ENOMEM;
        memcpy(dst->actors, src->actors,
               sizeof *src->actors * (size_t)src->nactors);
        dst->nactors = src->nactors;
    }
    if (src->token && !(dst->token = strdup(src->token)))
        return -ENOMEM;
    if (src->minimized_token &&
        !(dst->minimized_token = strdup(src->minimized_token)))
        return -ENOMEM;
    return 0;
}
