/* frontier.c: the frontier of explore's decision tree under the bound,
 * the subtrees that job workers and shards share out (see jobs.c). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontier.h"
#include "search_internal.h"

/* The first position at or after from (and before RL__MAX_PREFIX - 1) where
 * more than one actor may run within the bound, given the cost of the
 * decisions before from. Returns it with those actors in *choices, or -1
 * when the execution does not branch there. */
static int first_branch(const rl__exec_result *e, long from,
                        const rl__search_opts *o, rl__actorset *choices)
{
    long pc = rl__trace_cost(e->steps, from, o->bound_kind);
    for (long i = from; i < e->nsteps && i < RL__MAX_PREFIX - 1; i++) {
        rl__actorset ok;
        memset(&ok, 0, sizeof ok);
        const rl__actorset *en = &e->steps[i].enabled;
        for (int c = rl__set_lowest(en); c >= 0; c = rl__set_next(en, c + 1)) {
            long cost = pc + rl__decision_cost(e->steps, i, c, o->bound_kind);
            if (o->preemptions < 0 || cost <= o->preemptions)
                rl__set_add(&ok, c);
        }
        if (rl__set_count(&ok) > 1) {
            *choices = ok;
            return (int)i;
        }
        pc += rl__decision_cost(e->steps, i, e->steps[i].actor, o->bound_kind);
    }
    return -1;
}

long rl__frontier(const rl_scenario *sc, const rl__search_opts *o, long want,
                  uint8_t ***out, long **lens)
{
    long n = 1, cap = 16;
    uint8_t **npre = NULL;
    long *nlen = NULL, m = 0;
    uint8_t **pre = calloc((size_t)cap, sizeof *pre);
    long *len = calloc((size_t)cap, sizeof *len);
    if (!pre || !len)
        goto nomem;
    pre[0] = malloc(1);
    len[0] = 0;
    rl__exec_params p;
    /* The search's own executions, without noise. */
    rl__base_params(sc, o, &p);
    p.noise = 0;
    for (int round = 0; round < 8 && n < want; round++) {
        long mcap = n * 4 + 8;
        m = 0;
        npre = calloc((size_t)mcap, sizeof *npre);
        nlen = calloc((size_t)mcap, sizeof *nlen);
        if (!npre || !nlen)
            goto nomem;
        int split = 0;
        for (long k = 0; k < n; k++) {
            rl__exec_result e;
            p.prefix = pre[k];
            p.nprefix = len[k];
            int j = -1;
            rl__actorset choices;
            memset(&choices, 0, sizeof choices);
            if (rl__execute(sc, &p, &e) == 0 && e.verdict == RL_PASS)
                j = first_branch(&e, len[k], o, &choices);
            int nc = rl__set_count(&choices);
            if (m + nc + 1 > mcap) {
                mcap = (m + nc + 1) * 2;
                uint8_t **a = realloc(npre, sizeof *npre * (size_t)mcap);
                long *b = realloc(nlen, sizeof *nlen * (size_t)mcap);
                if (a)
                    npre = a;
                if (b)
                    nlen = b;
                if (!a || !b) {
                    rl__exec_result_free(&e);
                    goto nomem;
                }
            }
            if (j < 0) {
                /* A leaf (or a failing run): keep it whole. */
                npre[m] = pre[k];
                nlen[m++] = len[k];
                pre[k] = NULL;
            } else {
                split = 1;
                for (int c = rl__set_lowest(&choices); c >= 0;
                     c = rl__set_next(&choices, c + 1)) {
                    uint8_t *q = malloc((size_t)j + 1);
                    if (!q) {
                        rl__exec_result_free(&e);
                        goto nomem;
                    }
                    for (int i = 0; i < j; i++)
                        q[i] = (uint8_t)e.steps[i].actor;
                    q[j] = (uint8_t)c;
                    npre[m] = q;
                    nlen[m++] = j + 1;
                }
            }
            rl__exec_result_free(&e);
        }
        for (long k = 0; k < n; k++)
            free(pre[k]);
        free(pre);
        free(len);
        pre = npre;
        len = nlen;
        n = m;
        npre = NULL;
        nlen = NULL;
        if (!split)
            break;
    }
    *out = pre;
    *lens = len;
    return n;
nomem:
    if (npre)
        for (long k = 0; k < m; k++)
            free(npre[k]);
    free(npre);
    free(nlen);
    if (pre)
        for (long k = 0; k < n; k++)
            free(pre[k]);
    free(pre);
    free(len);
    return -ENOMEM;
}
