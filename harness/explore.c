/* explore.c: systematic exploration with a preemption or delay bound,
 * with or without dynamic partial-order reduction. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpor.h"
#include "search_internal.h"

/* The explorer visits schedules in order of their cost (preemptions, or
 * delays with --bound delays): every schedule of cost 0 first, then 1,
 * and so on up to the bound (iterative context bounding, Musuvathi and
 * Qadeer, PLDI 2007), so the first failure found is one of the cheapest
 * there are. A schedule is a prefix of forced decisions followed by the
 * default continuation (keep the running actor going). Work items are
 * prefixes, kept in one stack per cost; the cheapest non-empty stack is
 * served first, depth first within it.
 *
 * Without reduction, every execution adds an item for each position after
 * its prefix and each other actor that could run there and stays within
 * the bound: each schedule under the bound is run once.
 *
 * With dynamic partial-order reduction (source-DPOR, Abdulla, Aronis,
 * Jonsson and Sagonas, POPL 2014), an execution adds items only where two
 * of its steps race (see dpor.c): at the position of the first, for an
 * actor that can start the reversed order, unless one such actor was
 * already scheduled at that node. Nodes (prefixes) are known by a hash of
 * their decisions. A reversal the bound forbids at its position is tried
 * instead at the latest earlier position where that actor may run within
 * the bound, the conservative branching of bounded partial-order
 * reduction (Coons, Musuvathi and McKinley, OOPSLA 2013). */

typedef struct {
    uint8_t *prefix;
    long n;
} item;

typedef struct {
    item *v;
    long n, cap;
} stack;

/* A node of the decision tree that received a race: the actors scheduled
 * there so far. Open addressing over a 128-bit hash of the prefix. */
typedef struct {
    uint64_t h1, h2;
    long len;
    rl__actorset scheduled;
} node;

typedef struct {
    node *v;
    long n, cap;
} node_table;

typedef struct {
    const rl__search_opts *o;
    int bound;     /* negative: none */
    int kind;      /* RL__BOUND_* */
    int reduction; /* RL__REDUCTION_*: the option, until fairness acts */
    stack *levels;
    int nlevels;
    long pending;
    node_table nodes;
    /* the execution being analysed */
    const rl__step *steps;
    long nsteps;
    long *cost;        /* cost[i]: the cost of the decisions before step i */
    uint64_t *h1, *h2; /* hashes of the decisions before step i */
    int nomem;
} explorer;

static int push(explorer *x, int level, const uint8_t *d, long n, int c)
{
    if (level >= x->nlevels) {
        int nl = level + 4;
        stack *ns = realloc(x->levels, sizeof *ns * (size_t)nl);
        if (!ns)
            return -ENOMEM;
        memset(ns + x->nlevels, 0, sizeof *ns * (size_t)(nl - x->nlevels));
        x->levels = ns;
        x->nlevels = nl;
    }
    stack *st = &x->levels[level];
    if (st->n == st->cap) {
        long cap = st->cap ? st->cap * 2 : 64;
        item *nv = realloc(st->v, sizeof *nv * (size_t)cap);
        if (!nv)
            return -ENOMEM;
        st->v = nv;
        st->cap = cap;
    }
    uint8_t *q = malloc((size_t)n + 1);
    if (!q)
        return -ENOMEM;
    if (n > 0)
        memcpy(q, d, (size_t)n);
    q[n] = (uint8_t)c;
    st->v[st->n].prefix = q;
    st->v[st->n].n = n + 1;
    st->n++;
    x->pending++;
    return 0;
}

/* Takes the next item: the cheapest level first, the latest pushed first
 * within it. Returns 0 when there is none. */
static int pop(explorer *x, item *it, int *level)
{
    for (int l = 0; l < x->nlevels; l++) {
        stack *st = &x->levels[l];
        if (st->n > 0) {
            *it = st->v[--st->n];
            *level = l;
            x->pending--;
            return 1;
        }
    }
    return 0;
}

static void free_levels(explorer *x)
{
    for (int l = 0; l < x->nlevels; l++) {
        for (long k = 0; k < x->levels[l].n; k++)
            free(x->levels[l].v[k].prefix);
        free(x->levels[l].v);
    }
    free(x->levels);
    free(x->nodes.v);
}

static node *node_find(explorer *x, long i)
{
    node_table *t = &x->nodes;
    if (t->n * 2 >= t->cap) {
        long cap = t->cap ? t->cap * 2 : 1024;
        node *nv = calloc((size_t)cap, sizeof *nv);
        if (!nv) {
            x->nomem = 1;
            return NULL;
        }
        for (long k = 0; k < t->cap; k++) {
            node *o = &t->v[k];
            if (o->len == 0)
                continue;
            long at = (long)(o->h1 % (uint64_t)cap);
            while (nv[at].len != 0)
                at = (at + 1) % cap;
            nv[at] = *o;
        }
        free(t->v);
        t->v = nv;
        t->cap = cap;
    }
    uint64_t h1 = x->h1[i], h2 = x->h2[i];
    long at = (long)(h1 % (uint64_t)t->cap);
    /* len is stored plus one, so that 0 marks a free slot. */
    while (t->v[at].len != 0) {
        node *e = &t->v[at];
        if (e->h1 == h1 && e->h2 == h2 && e->len == i + 1)
            return e;
        at = (at + 1) % t->cap;
    }
    node *e = &t->v[at];
    e->h1 = h1;
    e->h2 = h2;
    e->len = i + 1;
    memset(&e->scheduled, 0, sizeof e->scheduled);
    rl__set_add(&e->scheduled, x->steps[i].actor);
    t->n++;
    return e;
}

static int within(const explorer *x, long cost)
{
    return x->bound < 0 || cost <= x->bound;
}

/* Schedules actor c at position i of the execution being analysed. */
static int schedule_at(explorer *x, long i, int c)
{
    long cost = x->cost[i] + rl__decision_cost(x->steps, i, c, x->kind);
    uint8_t *d = malloc((size_t)i + 1);
    if (!d)
        return -ENOMEM;
    for (long k = 0; k < i; k++)
        d[k] = (uint8_t)x->steps[k].actor;
    int err = push(x, (int)cost, d, i, c);
    free(d);
    return err;
}

/* A race asks for one of the actors in initials at position i. */
static void want(void *ctx, long i, const rl__actorset *initials)
{
    explorer *x = ctx;
    if (x->nomem || i < 0 || i >= x->nsteps)
        return;
    node *nd = node_find(x, i);
    if (!nd)
        return;
    for (int c = rl__set_lowest(initials); c >= 0;
         c = rl__set_next(initials, c + 1))
        if (rl__set_has(&nd->scheduled, c))
            return; /* one of them is there already */
    /* The cheapest of them within the bound. */
    int best = -1;
    long best_cost = 0;
    for (int c = rl__set_lowest(initials); c >= 0;
         c = rl__set_next(initials, c + 1)) {
        long cost = x->cost[i] + rl__decision_cost(x->steps, i, c, x->kind);
        if (best < 0 || cost < best_cost) {
            best = c;
            best_cost = cost;
        }
    }
    if (best < 0)
        return;
    if (within(x, best_cost)) {
        rl__set_add(&nd->scheduled, best);
        if (schedule_at(x, i, best) < 0)
            x->nomem = 1;
        return;
    }
    /* Past the bound here: the latest earlier position where one of them
     * may run within the bound, once per node. */
    long from = x->o->root ? x->o->nroot : 0;
    for (long k = i - 1; k >= from; k--) {
        for (int c = rl__set_lowest(initials); c >= 0;
             c = rl__set_next(initials, c + 1)) {
            if (!rl__set_has(&x->steps[k].enabled, c) || c == x->steps[k].actor)
                continue;
            long cost = x->cost[k] + rl__decision_cost(x->steps, k, c, x->kind);
            if (!within(x, cost))
                continue;
            node *nk = node_find(x, k);
            if (!nk)
                return;
            if (rl__set_has(&nk->scheduled, c))
                return;
            rl__set_add(&nk->scheduled, c);
            if (schedule_at(x, k, c) < 0)
                x->nomem = 1;
            return;
        }
    }
}

/* The cost and the node hashes of every prefix of the execution. */
static int analyse_prepare(explorer *x, const rl__step *steps, long n)
{
    free(x->cost);
    free(x->h1);
    free(x->h2);
    x->cost = malloc(sizeof *x->cost * (size_t)(n + 1));
    x->h1 = malloc(sizeof *x->h1 * (size_t)(n + 1));
    x->h2 = malloc(sizeof *x->h2 * (size_t)(n + 1));
    if (!x->cost || !x->h1 || !x->h2)
        return -ENOMEM;
    x->steps = steps;
    x->nsteps = n;
    x->cost[0] = 0;
    x->h1[0] = 0xcbf29ce484222325ULL;
    x->h2[0] = 0x84222325cbf29ce4ULL;
    for (long i = 0; i < n; i++) {
        int a = steps[i].actor;
        x->cost[i + 1] = x->cost[i] + rl__decision_cost(steps, i, a, x->kind);
        x->h1[i + 1] = (x->h1[i] ^ (uint64_t)(a + 1)) * 0x100000001b3ULL;
        x->h2[i + 1] = (x->h2[i] + (uint64_t)(a + 1) * 0x9e3779b97f4a7c15ULL) *
                       0xff51afd7ed558ccdULL;
    }
    return 0;
}

/* Adds the items an execution calls for, past its prefix of np forced
 * decisions. */
static int expand(explorer *x, const rl__step *steps, long n, long np)
{
    int err = analyse_prepare(x, steps, n);
    if (err < 0)
        return err;
    long from = x->o->root ? x->o->nroot : 0;
    if (x->reduction == RL__REDUCTION_NONE) {
        /* Pushed deepest last, so the deepest is served first. */
        for (long i = np > from ? np : from; i < n; i++) {
            const rl__actorset *en = &steps[i].enabled;
            for (int c = rl__set_lowest(en); c >= 0;
                 c = rl__set_next(en, c + 1)) {
                if (c == steps[i].actor)
                    continue;
                long cost =
                    x->cost[i] + rl__decision_cost(steps, i, c, x->kind);
                if (!within(x, cost))
                    continue;
                err = schedule_at(x, i, c);
                if (err < 0)
                    return err;
            }
        }
        return 0;
    }
    rl__dpor_races(steps, n, from, want, x);
    return x->nomem ? -ENOMEM : 0;
}

/* 1 when fairness left an actor out somewhere in the trace. */
static int has_unfair(const rl__step *steps, long n)
{
    for (long i = 0; i < n; i++)
        if (steps[i].unfair)
            return 1;
    return 0;
}

int rl__explore(const rl_scenario *sc, const rl__search_opts *o,
                rl__search_result *r, rl__coverage *cov)
{
    rl__exec_params p;
    rl__base_params(sc, o, &p);
    long limit = o->runs > 0 ? o->runs : rl__default.explore_limit;
    explorer x;
    memset(&x, 0, sizeof x);
    x.o = o;
    x.bound = o->preemptions;
    x.kind = o->bound_kind;
    x.reduction = o->reduction;
    long nroot = o->root ? o->nroot : 0;
    int err = 0;
    /* The first item: the root prefix (empty without a shard). */
    uint8_t *first = malloc((size_t)nroot + 1);
    if (!first)
        return -ENOMEM;
    if (nroot > 0)
        memcpy(first, o->root, (size_t)nroot);
    item it = {first, nroot};
    int level = 0;
    int have = 1;
    while (have) {
        if ((o->stop && *o->stop) ||
            (o->budget &&
             r->executions >= __atomic_load_n(o->budget, __ATOMIC_ACQUIRE))) {
            free(it.prefix);
            break;
        }
        rl__exec_result e;
        p.prefix = it.prefix;
        p.nprefix = it.n;
        err = rl__execute(sc, &p, &e);
        if (err < 0) {
            free(it.prefix);
            break;
        }
        if (o->stop && *o->stop) {
            /* Interrupted: this execution did not run to its end. */
            rl__exec_result_free(&e);
            free(it.prefix);
            break;
        }
        rl__cover(cov, &e);
        if (o->observe)
            o->observe(&e, o->observe_ctx);
        long np = it.n;
        free(it.prefix);
        if (x.reduction == RL__REDUCTION_DPOR &&
            has_unfair(e.steps, e.nsteps)) {
            /* Fairness makes what may run depend on the order of
             * independent steps too: the reduction would miss schedules.
             * Start over without it (what ran already may run again). */
            free_levels(&x);
            x.levels = NULL;
            x.nlevels = 0;
            x.pending = 0;
            memset(&x.nodes, 0, sizeof x.nodes);
            x.reduction = RL__REDUCTION_NONE;
            if (push(&x, 0, o->root, nroot > 0 ? nroot - 1 : 0,
                     nroot > 0 ? o->root[nroot - 1] : -1) < 0) {
                rl__exec_result_free(&e);
                err = -ENOMEM;
                break;
            }
            if (nroot == 0)
                x.levels[0].v[0].n = 0;
        } else if (e.verdict == RL_PASS || o->all_outcomes) {
            err = expand(&x, e.steps, e.nsteps, np);
            if (err < 0) {
                rl__exec_result_free(&e);
                break;
            }
        }
        if (e.verdict != RL_PASS && r->first_failure_run == 0) {
            r->found_cost = level;
            if (e.nsteps > 0 && analyse_prepare(&x, e.steps, e.nsteps) == 0)
                r->found_cost = x.cost[e.nsteps];
        }
        if (rl__account(sc, r, &e, r->executions + 1) && !o->all_outcomes)
            break;
        if (r->executions >= limit)
            break;
        have = pop(&x, &it, &level);
        if (!have)
            r->exhausted = 1;
    }
    /* A rough share of the bounded space: the executions run against
     * those run and those still waiting. */
    if (r->exhausted)
        r->space_explored = 1.0;
    else if (r->executions + x.pending > 0)
        r->space_explored =
            (double)r->executions / (double)(r->executions + x.pending);
    free(x.cost);
    free(x.h1);
    free(x.h2);
    free_levels(&x);
    return err;
}
