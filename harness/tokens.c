/* tokens.c: the scenario registry, replay tokens, and what the decisions
 * of a trace cost against a bound. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

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

/* See search_internal.h: a token that holds more than limit decisions is
 * refused as soon as its runs say so, before they are expanded. */
int rl__token_decode_bounded(const char *token, long limit, char **name,
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
            if (count < 1 || count > RL__TOKEN_MAX_DECISIONS ||
                len + count > RL__TOKEN_MAX_DECISIONS)
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
    return rl__token_decode_bounded(token, RL__TOKEN_MAX_DECISIONS, name, d, n);
}

/* What a replay chooses by itself at step i: the actor that just ran if
 * it can go on, else the lowest enabled one (see pick() in sched.c). A
 * step's enabled set holds the fair-enabled actors only: an actor that
 * yielded or spins is not in it until the others have stepped. */
int rl__default_choice(const rl__step *steps, long i)
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
        if (steps[i].actor != rl__default_choice(steps, i))
            keep = i + 1;
    }
    return keep;
}

char *rl__token_of(const rl_scenario *sc, const rl__exec_result *e)
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
    int d = rl__default_choice(steps, i);
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
