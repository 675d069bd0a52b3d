/* search.c: searches across executions: systematic exploration with a
 * preemption bound, PCT, random, stress, replay and minimize; tokens. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpor.h"
#include "harness.h"

/* ---- the scenario registry ---- */

static rl_scenario *registry;

void rl_register(rl_scenario *s)
{
    if (!s || !s->name || !s->body) {
        rl__fail(-EINVAL, "rl_register: a scenario needs a name and a "
                          "body");
        return;
    }
    /* Kept sorted by name so listings and runs are in a stable order. */
    rl_scenario **pp = &registry;
    while (*pp && strcmp((*pp)->name, s->name) < 0)
        pp = &(*pp)->next;
    if (*pp == s)
        return;
    s->next = *pp;
    *pp = s;
}

rl_scenario *rl__scenarios(void)
{
    return registry;
}

rl_scenario *rl__scenario_find(const char *name)
{
    for (rl_scenario *s = registry; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* ---- tokens ---- */

char *rl__token_encode(const char *name, const uint8_t *d, long n)
{
    size_t cap = strlen(name) + 2 + (size_t)n * 8 + 8;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    size_t len = (size_t)snprintf(t, cap, "%s@", name);
    if (n == 0)
        len += (size_t)snprintf(t + len, cap - len, "-");
    for (long i = 0; i < n;) {
        long j = i;
        while (j < n && d[j] == d[i])
            j++;
        len += (size_t)snprintf(t + len, cap - len, "%s%dx%ld", i ? "." : "",
                                d[i], j - i);
        i = j;
    }
    return t;
}

#define TOKEN_MAX_DECISIONS 10000000

/* rl__token_decode with a bound on the decisions: a token that holds
 * more than limit of them is refused as soon as its runs say so, before
 * they are expanded. */
static int token_decode_bounded(const char *token, long limit, char **name,
                                uint8_t **d, long *n)
{
    *name = NULL;
    *d = NULL;
    *n = 0;
    const char *at = token ? strrchr(token, '@') : NULL;
    if (!at || at == token)
        return rl__fail(-EINVAL,
                        "a token looks like NAME@0x3.1x4: '%s' "
                        "has no scenario name before '@'",
                        token ? token : "(null)");
    const char *p = at + 1;
    long cap = 64, len = 0;
    uint8_t *out = malloc((size_t)cap);
    if (!out)
        return -ENOMEM;
    if (*p == '\0')
        goto bad;
    if (strcmp(p, "-") != 0) {
        while (*p) {
            char *end;
            if (!isdigit((unsigned char)*p))
                goto bad;
            long actor = strtol(p, &end, 10);
            long count = 1;
            if (actor < 0 || actor >= RL__MAX_ACTORS)
                goto bad;
            p = end;
            if (*p == 'x') {
                if (!isdigit((unsigned char)p[1]))
                    goto bad;
                count = strtol(p + 1, &end, 10);
                p = end;
            }
            if (count < 1 || count > TOKEN_MAX_DECISIONS ||
                len + count > TOKEN_MAX_DECISIONS)
                goto bad;
            if (len + count > limit) {
                free(out);
                return rl__fail(-EINVAL,
                                "the token '%.60s%s' holds more than %ld "
                                "decisions, the step bound (max_steps) of "
                                "its scenario: no execution takes that many "
                                "steps",
                                token, strlen(token) > 60 ? "..." : "", limit);
            }
            if (*p == '.') {
                p++;
                if (!*p)
                    goto bad;
            } else if (*p) {
                goto bad;
            }
            while (len + count > cap) {
                cap *= 2;
                uint8_t *nb = realloc(out, (size_t)cap);
                if (!nb) {
                    free(out);
                    return -ENOMEM;
                }
                out = nb;
            }
            memset(out + len, (int)actor, (size_t)count);
            len += count;
        }
    }
    *name = strndup(token, (size_t)(at - token));
    *d = out;
    *n = len;
    return 0;
bad:
    free(out);
    return rl__fail(-EINVAL,
                    "malformed token '%s': after '@' come runs ACTORxCOUNT "
                    "separated by '.', e.g. 0x3.1x4.0x2 (near '%.10s')",
                    token, p);
}

int rl__token_decode(const char *token, char **name, uint8_t **d, long *n)
{
    return token_decode_bounded(token, TOKEN_MAX_DECISIONS, name, d, n);
}

/* What a replay chooses by itself at step i: the actor that just ran if
 * it can go on, else the lowest enabled one (see pick() in sched.c). A
 * step's enabled set holds the fair-enabled actors only: an actor that
 * yielded or spins is not in it until the others have stepped. */
static int default_choice(const rl__step *steps, long i)
{
    int prev = i > 0 ? steps[i - 1].actor : 0;
    const rl__actorset *en = &steps[i].enabled;
    if (rl__set_has(en, prev))
        return prev;
    int low = rl__set_lowest(en);
    return low >= 0 ? low : 0;
}

/* Switching away from the actor that just ran is a preemption when it
 * could have gone on: switching away from a yielding or spinning actor
 * costs nothing, since fairness left it out of the enabled set. */
int rl__is_preemption(const rl__step *steps, long i, int c)
{
    int prev = i > 0 ? steps[i - 1].actor : 0;
    return c != prev && rl__set_has(&steps[i].enabled, prev);
}

long rl__trace_decisions(const rl__step *steps, long nsteps, uint8_t *out)
{
    long keep = 0;
    for (long i = 0; i < nsteps; i++) {
        out[i] = (uint8_t)steps[i].actor;
        if (steps[i].actor != default_choice(steps, i))
            keep = i + 1;
    }
    return keep;
}

static char *token_of(const rl_scenario *sc, const rl__exec_result *e)
{
    uint8_t *d = malloc((size_t)e->nsteps + 1);
    if (!d)
        return NULL;
    long n = rl__trace_decisions(e->steps, e->nsteps, d);
    char *t = rl__token_encode(sc->name, d, n);
    free(d);
    return t;
}

long rl__decision_cost(const rl__step *steps, long i, int c, int kind)
{
    if (kind != RL__BOUND_DELAYS)
        return rl__is_preemption(steps, i, c);
    int d = default_choice(steps, i);
    if (c == d)
        return 0;
    const rl__actorset *en = &steps[i].enabled;
    long k = 0;
    for (int a = rl__set_next(en, d + 1); a >= 0; a = rl__set_next(en, a + 1)) {
        k++;
        if (a == c)
            return k;
    }
    for (int a = rl__set_lowest(en); a >= 0 && a < d;
         a = rl__set_next(en, a + 1)) {
        k++;
        if (a == c)
            return k;
    }
    return k + 1;
}

long rl__trace_cost(const rl__step *steps, long n, int kind)
{
    long k = 0;
    for (long i = 0; i < n; i++)
        k += rl__decision_cost(steps, i, steps[i].actor, kind);
    return k;
}

long rl__count_preemptions(const rl__step *steps, long n)
{
    long k = 0;
    for (long i = 0; i < n; i++)
        if (rl__is_preemption(steps, i, steps[i].actor))
            k++;
    return k;
}

/* ---- coverage ---- */

#define COV_SLOTS 4096

typedef struct {
    uint64_t points[COV_SLOTS];
    uint64_t pairs[COV_SLOTS];
    uint64_t labels[COV_SLOTS];
    long npoints, npairs, nlabels;
} coverage;

static uint64_t hash_str(uint64_t h, const char *s)
{
    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
    return h;
}

static uint64_t point_id(const rl__step *s)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)s->op;
    h = hash_str(h * 0x100000001b3ULL, s->label);
    h = hash_str(h, s->file);
    /* instrumented code: the place, by address until symbolized */
    h = (h ^ (uint64_t)s->pc) * 0x100000001b3ULL;
    return (h ^ (uint64_t)s->line) | 1;
}

static int set_add(uint64_t *set, long *n, uint64_t key)
{
    for (size_t i = key % COV_SLOTS, k = 0; k < COV_SLOTS;
         i = (i + 1) % COV_SLOTS, k++) {
        if (set[i] == key)
            return 0;
        if (set[i] == 0) {
            set[i] = key;
            (*n)++;
            return 1;
        }
    }
    return 0;
}

static void cover(coverage *c, const rl__exec_result *e)
{
    for (long i = 0; i < e->nsteps; i++) {
        const rl__step *s = &e->steps[i];
        set_add(c->points, &c->npoints, point_id(s));
        if (s->label[0] && s->op != RL_OP_START)
            set_add(c->labels, &c->nlabels, hash_str(7, s->label) | 1);
        if (!rl__is_preemption(e->steps, i, s->actor))
            continue;
        int prev = i > 0 ? e->steps[i - 1].actor : 0;
        for (long j = i + 1; j < e->nsteps; j++) {
            if (e->steps[j].actor == prev) {
                uint64_t key = point_id(&e->steps[j]) * 31 + point_id(s);
                set_add(c->pairs, &c->npairs, key | 1);
                break;
            }
        }
    }
}

/* ---- searches ---- */

static void base_params(const rl_scenario *sc, const rl__search_opts *o,
                        rl__exec_params *p)
{
    memset(p, 0, sizeof *p);
    p->mode = RL__MODE_CONTROLLED;
    p->strategy = RL__STRAT_DFS;
    p->max_steps = o->max_steps > 0    ? o->max_steps
                   : sc->max_steps > 0 ? sc->max_steps
                                       : rl__default.max_steps;
    p->timeout = o->timeout > 0    ? o->timeout
                 : sc->timeout > 0 ? sc->timeout
                                   : rl__default.timeout;
    p->noise = o->noise;
    p->stop = o->stop;
    p->cpu = o->cpu;
}

static void record_value(rl__search_result *r, long v)
{
    for (int i = 0; i < r->nvalues; i++) {
        if (r->values[i] == v) {
            r->counts[i]++;
            return;
        }
    }
    if (r->nvalues < RL__HIST_MAX) {
        r->values[r->nvalues] = v;
        r->counts[r->nvalues++] = 1;
    }
}

/* Keeps the execution as the first failure if it is one. Returns 1 when
 * the search should stop. */
static int account(const rl_scenario *sc, rl__search_result *r,
                   rl__exec_result *e, long run)
{
    r->executions++;
    if (e->has_value)
        record_value(r, e->value);
    if (e->verdict == RL_PASS) {
        rl__exec_result_free(e);
        return 0;
    }
    r->failures++;
    if (r->first_failure_run == 0) {
        r->first_failure_run = run;
        r->verdict = e->verdict;
        r->first = *e;
        rl__exec_format_stacks(&r->first);
        if (e->nsteps > 0)
            r->token = token_of(sc, e);
        return 1;
    }
    rl__exec_result_free(e);
    return 1;
}

/* ---- explore ----
 *
 * The explorer visits schedules in order of their cost (preemptions, or
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

static int explore(const rl_scenario *sc, const rl__search_opts *o,
                   rl__search_result *r, coverage *cov)
{
    rl__exec_params p;
    base_params(sc, o, &p);
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
            (o->budget && r->executions >=
                              __atomic_load_n(o->budget, __ATOMIC_ACQUIRE))) {
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
        cover(cov, &e);
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
        if (account(sc, r, &e, r->executions + 1) && !o->all_outcomes)
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

static uint64_t run_seed(uint64_t seed, long run)
{
    return rl__mix64(seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(run + 1));
}

static int sampled(const rl_scenario *sc, const rl__search_opts *o,
                   rl__search_result *r, coverage *cov)
{
    rl__exec_params p;
    base_params(sc, o, &p);
    if (o->mode == RL_MODE_STRESS) {
        p.mode = RL__MODE_STRESS;
    } else {
        p.strategy = o->mode == RL_MODE_PCT ? RL__STRAT_PCT : RL__STRAT_RANDOM;
        p.pct_depth = o->depth > 0 ? o->depth : (int)rl__default.depth;
    }
    if (p.strategy == RL__STRAT_PCT) {
        /* PCT spreads its change points over the length of a run: take
         * it from one execution without preemptions. */
        rl__exec_result e;
        rl__exec_params q = p;
        q.strategy = RL__STRAT_DFS;
        int err = rl__execute(sc, &q, &e);
        if (err < 0)
            return err;
        p.pct_length = e.nsteps > 1 ? e.nsteps : 2;
        r->pct_depth = p.pct_depth;
        r->pct_actors = e.nactors;
        r->pct_steps = p.pct_length;
        rl__exec_result_free(&e);
    }
    long runs = o->runs > 0 ? o->runs : rl__default.runs;
    long shards = o->shard_count > 1 ? o->shard_count : 1;
    long stride = o->stride > 1 ? o->stride : 1;
    int stopped = 0;
    for (long run = 0; run < runs; run++) {
        if (o->stop && *o->stop)
            break;
        if (run % shards != o->shard_index)
            continue;
        if ((run / shards) % stride != o->offset)
            continue;
        p.seed = run_seed(o->seed, run);
        rl__exec_result e;
        int err = rl__execute(sc, &p, &e);
        if (err < 0)
            return err;
        if (o->stop && *o->stop) {
            rl__exec_result_free(&e);
            break;
        }
        cover(cov, &e);
        if (o->observe)
            o->observe(&e, o->observe_ctx);
        /* Stress keeps counting after the first failure: its point is
         * the failure rate. */
        int stop = account(sc, r, &e, run + 1);
        if (stop && o->mode != RL_MODE_STRESS) {
            stopped = 1;
            break;
        }
    }
    (void)stopped;
    return 0;
}

static void finish(const rl_scenario *sc, rl__search_result *r, coverage *cov,
                   double t0)
{
    (void)sc;
    r->duration = rl__now() - t0;
    r->schedule_points = cov->npoints;
    r->pairs_interleaved = cov->npairs;
    r->labels_reached = cov->nlabels;
}

int rl__search(const rl_scenario *sc, const rl__search_opts *o,
               rl__search_result *r)
{
    memset(r, 0, sizeof *r);
    r->sc = sc;
    r->mode = o->mode;
    r->seed = o->seed;
    r->bound = o->preemptions;
    r->bound_kind = o->bound_kind;
    r->reduction = o->reduction;
    r->space_explored = -1;
    coverage *cov = calloc(1, sizeof *cov);
    if (!cov)
        return -ENOMEM;
    double t0 = rl__now();
    int err = o->mode == RL_MODE_EXPLORE ? explore(sc, o, r, cov)
                                         : sampled(sc, o, r, cov);
    finish(sc, r, cov, t0);
    free(cov);
    return err;
}

void rl__search_result_free(rl__search_result *r)
{
    rl__exec_result_free(&r->first);
    free(r->token);
    free(r->minimized_token);
    r->token = NULL;
    r->minimized_token = NULL;
}

int rl__replay(const char *token, const rl__search_opts *o,
               rl__search_result *r)
{
    memset(r, 0, sizeof *r);
    char *name;
    uint8_t *d;
    long n;
    /* An execution takes at most max_steps decisions: a token with more
     * is refused before it is expanded (counter.unlocked@3x10000000 is
     * 14 bytes). */
    long limit = TOKEN_MAX_DECISIONS;
    const char *at = token ? strrchr(token, '@') : NULL;
    if (at && at != token) {
        char *nm = strndup(token, (size_t)(at - token));
        const rl_scenario *known = nm ? rl__scenario_find(nm) : NULL;
        free(nm);
        if (known) {
            rl__exec_params bp;
            base_params(known, o, &bp);
            if (bp.max_steps < limit)
                limit = bp.max_steps;
        }
    }
    int err = token_decode_bounded(token, limit, &name, &d, &n);
    if (err < 0)
        return err;
    const rl_scenario *sc = rl__scenario_find(name);
    if (!sc) {
        err = rl__fail(-ENOENT,
                       "no scenario named '%s' (racelab list "
                       "shows them)",
                       name);
        free(name);
        free(d);
        return err;
    }
    free(name);
    r->sc = sc;
    r->mode = RL_MODE_REPLAY;
    rl__exec_params p;
    base_params(sc, o, &p);
    p.prefix = d;
    p.nprefix = n;
    double t0 = rl__now();
    rl__exec_result e;
    err = rl__execute(sc, &p, &e);
    free(d);
    if (err < 0)
        return err;
    coverage *cov = calloc(1, sizeof *cov);
    if (cov)
        cover(cov, &e);
    r->executions = 1;
    r->verdict = e.verdict;
    r->failures = e.verdict != RL_PASS;
    r->first_failure_run = r->failures;
    if (e.has_value)
        record_value(r, e.value);
    r->first = e;
    rl__exec_format_stacks(&r->first);
    r->token = token_of(sc, &e);
    if (cov) {
        finish(sc, r, cov, t0);
        free(cov);
    }
    return 0;
}

/* One attempt of minimize: runs the prefix; on the same verdict, keeps it
 * if it has fewer preemptions, or as many and fewer steps. */
static int try_better(const rl_scenario *sc, rl__exec_params *p,
                      const uint8_t *prefix, long n, int verdict,
                      rl__exec_result *best, long *attempts)
{
    rl__exec_result e;
    p->prefix = prefix;
    p->nprefix = n;
    (*attempts)++;
    int err = rl__execute(sc, p, &e);
    if (err < 0)
        return 0;
    long pe = rl__count_preemptions(e.steps, e.nsteps);
    long pb = rl__count_preemptions(best->steps, best->nsteps);
    if (e.verdict == verdict &&
        (pe < pb || (pe == pb && e.nsteps < best->nsteps))) {
        rl__exec_result_free(best);
        *best = e;
        return 1;
    }
    rl__exec_result_free(&e);
    return 0;
}

int rl__minimize(const char *token, const rl__search_opts *o,
                 rl__search_result *r)
{
    int err = rl__replay(token, o, r);
    if (err < 0)
        return err;
    if (r->verdict == RL_PASS || r->verdict == RL_ERROR) {
        return rl__fail(-EINVAL,
                        "the token does not fail (%s): nothing "
                        "to minimize",
                        rl_verdict_name(r->verdict));
    }
    const rl_scenario *sc = r->sc;
    rl__exec_params p;
    base_params(sc, o, &p);
    rl__exec_result *best = &r->first;
    long attempts = 0;
    int improved = 1;
    long budget = o->minimize_budget > 0 ? o->minimize_budget
                                         : rl__default.minimize_budget;
    while (improved && attempts < budget) {
        improved = 0;
        long n = best->nsteps;
        uint8_t *d = malloc((size_t)n + 1);
        if (!d)
            break;
        for (long i = 0; i < n; i++)
            d[i] = (uint8_t)best->steps[i].actor;
        /* Take away one preemption at a time, latest first: replace it
         * by the choice a replay would make by itself. */
        for (long i = n - 1; i >= 0 && !improved; i--) {
            if (!rl__is_preemption(best->steps, i, d[i]))
                continue;
            uint8_t keep = d[i];
            d[i] = (uint8_t)default_choice(best->steps, i);
            improved =
                try_better(sc, &p, d, i + 1, r->verdict, best, &attempts);
            d[i] = keep;
            if (!improved)
                improved =
                    try_better(sc, &p, d, i, r->verdict, best, &attempts);
        }
        free(d);
    }
    free(r->minimized_token);
    r->minimized_token = token_of(sc, best);
    r->executions = 1 + attempts;
    return 0;
}

void rl__search_minimize(rl__search_result *r, const rl__search_opts *o)
{
    if (!r->token || r->mode == RL_MODE_STRESS ||
        r->verdict == RL_PASS || r->verdict == RL_ERROR)
        return;
    rl__search_opts mo = *o;
    mo.observe = NULL;
    mo.minimize_budget = 100;
    rl__search_result m;
    if (rl__minimize(r->token, &mo, &m) == 0 && m.minimized_token &&
        m.verdict == r->verdict)
        r->minimized_token = strdup(m.minimized_token);
    rl__search_result_free(&m);
}
