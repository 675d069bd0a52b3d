/* search.c: searches across executions: systematic exploration with a
 * preemption bound, PCT, random, stress, replay and minimize; tokens. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int rl__as_expected(const rl_scenario *sc, int verdict, int mode)
{
    if (sc->expect == RL_EXPECT_BUG) {
        if (verdict == RL_PASS || verdict == RL_ERROR)
            return 0;
        /* Running for real, nothing tells a deadlock or a livelock from a
         * hang: stress shows them as TIMEOUT. */
        if (mode == RL_MODE_STRESS && verdict == RL_TIMEOUT &&
            (sc->expect_verdict == RL_DEADLOCK ||
             sc->expect_verdict == RL_LIVELOCK))
            return 1;
        return sc->expect_verdict == 0 || sc->expect_verdict == verdict;
    }
    return verdict == RL_PASS;
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
                                       : 10000;
    p->timeout = o->timeout > 0    ? o->timeout
                 : sc->timeout > 0 ? sc->timeout
                                   : 10.0;
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

typedef struct {
    int chosen;
    rl__actorset tried;
} frame;

static int explore(const rl_scenario *sc, const rl__search_opts *o,
                   rl__search_result *r, coverage *cov)
{
    rl__exec_params p;
    base_params(sc, o, &p);
    long limit = o->runs > 0 ? o->runs : 1000000;
    int bound = o->preemptions;
    long cap = 256, depth = 0;
    frame *fr = malloc(sizeof *fr * (size_t)cap);
    uint8_t *prefix = malloc((size_t)cap);
    rl__step *steps = NULL; /* the enabled sets of the frames */
    long nsteps_kept = 0;
    if (!fr || !prefix)
        return -ENOMEM;
    int err = 0;
    long nprefix = 0;
    long nroot = o->root ? o->nroot : 0;
    if (nroot > 0) {
        while (nroot > cap)
            cap *= 2;
        uint8_t *np = realloc(prefix, (size_t)cap);
        frame *nf = realloc(fr, sizeof *fr * (size_t)cap);
        if (np)
            prefix = np;
        if (nf)
            fr = nf;
        if (!np || !nf) {
            free(fr);
            free(prefix);
            return -ENOMEM;
        }
        memcpy(prefix, o->root, (size_t)nroot);
        nprefix = nroot;
    }
    for (;;) {
        if (o->stop && *o->stop)
            break;
        rl__exec_result e;
        p.prefix = prefix;
        p.nprefix = nprefix;
        err = rl__execute(sc, &p, &e);
        if (err < 0)
            break;
        if (o->stop && *o->stop) {
            /* Interrupted: this execution did not run to its end. */
            rl__exec_result_free(&e);
            break;
        }
        cover(cov, &e);
        if (o->observe)
            o->observe(&e, o->observe_ctx);
        /* Frames beyond the prefix come from this execution. */
        if (e.nsteps > cap) {
            while (e.nsteps > cap)
                cap *= 2;
            frame *nf = realloc(fr, sizeof *fr * (size_t)cap);
            uint8_t *np = realloc(prefix, (size_t)cap);
            if (!nf || !np) {
                free(nf ? nf : fr);
                free(np ? np : prefix);
                rl__exec_result_free(&e);
                return -ENOMEM;
            }
            fr = nf;
            prefix = np;
        }
        for (long i = depth; i < e.nsteps; i++) {
            fr[i].chosen = e.steps[i].actor;
            memset(&fr[i].tried, 0, sizeof fr[i].tried);
            rl__set_add(&fr[i].tried, e.steps[i].actor);
        }
        depth = e.nsteps;
        free(steps);
        steps = e.steps;
        nsteps_kept = e.nsteps;
        e.steps = malloc(sizeof(rl__step) * (size_t)(e.nsteps + 1));
        if (e.steps)
            memcpy(e.steps, steps, sizeof(rl__step) * (size_t)e.nsteps);
        else
            e.nsteps = 0;
        if (account(sc, r, &e, r->executions + 1))
            break;
        if (r->executions >= limit)
            break;
        /* Backtrack to the deepest step with an untried choice within
         * the preemption bound. */
        long pre = rl__count_preemptions(steps, depth);
        int found = 0;
        /* Never backtrack into the root prefix: other jobs explore the
         * rest of the tree. */
        while (depth > nroot && !found) {
            long j = depth - 1;
            if (rl__is_preemption(steps, j, fr[j].chosen))
                pre--;
            rl__actorset left = rl__set_minus(steps[j].enabled, &fr[j].tried);
            for (int c = rl__set_lowest(&left); c >= 0;
                 c = rl__set_next(&left, c + 1)) {
                rl__set_add(&fr[j].tried, c);
                long cost = pre + rl__is_preemption(steps, j, c);
                if (bound >= 0 && cost > bound)
                    continue;
                fr[j].chosen = c;
                for (long i = 0; i <= j; i++)
                    prefix[i] = (uint8_t)fr[i].chosen;
                nprefix = j + 1;
                depth = j + 1;
                found = 1;
                break;
            }
            if (!found)
                depth--;
        }
        if (!found) {
            r->exhausted = 1;
            break;
        }
    }
    /* How much of the tree lies left of the current path, counting each
     * branch point's choices as equal shares: 1 once exhausted. */
    if (r->exhausted) {
        r->space_explored = 1.0;
    } else if (steps) {
        double share = 0, weight = 1;
        for (long j = nroot; j < depth && j < nsteps_kept; j++) {
            int n = rl__set_count(&steps[j].enabled);
            if (n < 1)
                continue;
            int before = rl__set_count(&fr[j].tried) - 1;
            weight /= n;
            share += weight * (before > 0 ? before : 0);
        }
        r->space_explored = share;
    }
    free(steps);
    free(fr);
    free(prefix);
    return err;
}

static uint64_t run_seed(uint64_t seed, long run)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(run + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
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
        p.pct_depth = o->depth > 0 ? o->depth : 3;
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
        rl__exec_result_free(&e);
    }
    long runs = o->runs > 0 ? o->runs : 100;
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
    r->duration = rl__now() - t0;
    r->as_expected = rl__as_expected(sc, r->verdict, r->mode);
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
    for (int i = 0; i < RL__KEPT_OUTPUTS; i++) {
        free(r->kept_output[i]);
        r->kept_output[i] = NULL;
    }
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
    long budget = o->minimize_budget > 0 ? o->minimize_budget : 500;
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
    if (!r->token || r->external || r->mode == RL_MODE_STRESS ||
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
