/* races_stack.c: the stack of each access of a race. An execution under a
 * token is deterministic, so once a search kept a failing execution with
 * races, it is run again under its decisions, stopped (as replay
 * --stop-at stops, stopat.c) before each racing step, and the process
 * that is about to make the access is unwound from outside (ptrace). An
 * execution without races costs nothing: the reruns happen only for the
 * races a search reports. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "search_internal.h"

/* The races of one search whose accesses get a stack; the rest keep "". */
#define STACKED_RACES 16

/* What one stop captures: the raw stack of one actor. */
typedef struct {
    int actor;
    char raw[2048];
} capture;

static void capture_at_stop(const rl__stop_info *info, void *ctx)
{
    capture *c = ctx;
    if (c->actor < 0 || c->actor >= info->nactors ||
        info->actors[c->actor].finished || info->actors[c->actor].pid <= 0)
        return;
    rl__stack_capture_remote(info->actors[c->actor].pid, c->raw, sizeof c->raw);
}

/* Cuts a raw stack (rl__stack_capture's lines, the function's name
 * first) where the frames the process inherited begin: below the frame
 * that called a forked process's entry, or the supervisor's own frames
 * under the root actor. */
static void cut_inherited(char *raw)
{
    static const char *const ends[] = {"rl_process_launch+", "rl__execute+"};
    for (char *line = raw; *line;) {
        for (int i = 0; i < 2; i++) {
            if (strncmp(line, ends[i], strlen(ends[i])) == 0) {
                /* The launch is kept (and folded) for a forked process;
                 * the supervisor's frames go. */
                if (i == 1) {
                    *line = '\0';
                    return;
                }
                char *nl = strchr(line, '\n');
                if (nl)
                    nl[1] = '\0';
                return;
            }
        }
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
}

/* The stack of actor at step of the execution that the decisions d[0..n)
 * replay, formatted into out (cap bytes; "" when it could not be
 * captured). */
static void stack_at(const rl_scenario *sc, const uint8_t *d, long n,
                     long nsteps, long step, int actor, char *out, size_t cap)
{
    out[0] = '\0';
    capture c;
    memset(&c, 0, sizeof c);
    c.actor = actor;
    rl__search_opts none;
    memset(&none, 0, sizeof none);
    rl__exec_params p;
    rl__base_params(sc, &none, &p);
    if (p.max_steps <= nsteps)
        p.max_steps = nsteps + 1;
    p.prefix = d;
    p.nprefix = n;
    p.races = RL__RACES_OFF;
    p.stop_at = step + 1;
    p.on_stop = capture_at_stop;
    p.stop_parked = 1;
    p.stop_ctx = &c;
    rl__exec_result e;
    if (rl__execute(sc, &p, &e) < 0)
        return;
    rl__exec_result_free(&e);
    cut_inherited(c.raw);
    if (!c.raw[0])
        return;
    rl__stack_format(c.raw, out, cap, !getenv("RACELAB_FULL_STACKS"));
    /* One frame a line, no newline at the end. */
    size_t len = strlen(out);
    while (len > 0 && out[len - 1] == '\n')
        out[--len] = '\0';
}

/* Gives x the stack of the access at its step, from an access of an
 * earlier race of races[0..i) at the same step when there is one. */
static void stack_of(const rl_scenario *sc, const rl__race *races, long i,
                     rl__race_access *x, const uint8_t *d, long n, long nsteps)
{
    for (long j = 0; j < i; j++) {
        const rl__race_access *o[2] = {&races[j].first, &races[j].second};
        for (int k = 0; k < 2; k++) {
            if (o[k]->step == x->step && o[k]->stack[0]) {
                memcpy(x->stack, o[k]->stack, sizeof x->stack);
                return;
            }
        }
    }
    stack_at(sc, d, n, nsteps, x->step, x->actor, x->stack, sizeof x->stack);
}

void rl__races_stacks(const rl_scenario *sc, rl__search_result *r)
{
    rl__exec_result *e = &r->first;
    if (!sc || r->interrupted || e->nraces == 0 || e->nsteps == 0 ||
        !e->steps || r->mode == RL_MODE_STRESS)
        return;
    uint8_t *d = malloc((size_t)e->nsteps);
    if (!d)
        return;
    long n = rl__trace_decisions(e->steps, e->nsteps, d);
    /* The execution's own races (what a job worker hands back with the
     * failure), then the search's copies of them. */
    for (long i = 0; i < e->nraces && i < STACKED_RACES; i++) {
        rl__race *x = &e->races[i];
        if (x->first.step >= e->nsteps || x->second.step >= e->nsteps)
            continue;
        stack_of(sc, e->races, i, &x->first, d, n, e->nsteps);
        stack_of(sc, e->races, i, &x->second, d, n, e->nsteps);
    }
    free(d);
    for (long i = 0; i < r->nraces; i++) {
        rl__race *x = &r->races[i];
        for (long j = 0; x->failing && j < e->nraces; j++) {
            const rl__race *y = &e->races[j];
            if (y->first.step == x->first.step &&
                y->second.step == x->second.step) {
                memcpy(x->first.stack, y->first.stack, sizeof y->first.stack);
                memcpy(x->second.stack, y->second.stack,
                       sizeof y->second.stack);
            }
        }
    }
}
