/* merge.c: results of several shards merged into one results model. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* rl__fail */
#include "report.h"

/* One result of one file, for sorting by name. */
typedef struct {
    const rl__result *r;
    int file;
    int index;
} part;

static int part_cmp(const void *a, const void *b)
{
    const part *x = a, *y = b;
    int c = strcmp(x->r->name, y->r->name);
    if (c)
        return c;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static const char *file_name(const rl__loaded *f, int i, char *buf, size_t n)
{
    if (f->path)
        return f->path;
    snprintf(buf, n, "part %d", i + 1);
    return buf;
}

/* Adds a stress histogram into another: values beyond RL__HIST_MAX
 * distinct ones are dropped, as the search itself drops them. */
static int add_hist(rl__result *m, const rl__result *p)
{
    for (int i = 0; i < p->nvalues; i++) {
        int k = 0;
        while (k < m->nvalues && m->values[k] != p->values[i])
            k++;
        if (k == m->nvalues) {
            if (m->nvalues == RL__HIST_MAX)
                continue;
            m->values[k] = p->values[i];
            m->counts[k] = 0;
            m->nvalues++;
        }
        if (__builtin_add_overflow(m->counts[k], p->counts[i], &m->counts[k]))
            return -EOVERFLOW;
    }
    return 0;
}

/* Whether part b's failure came before part a's. A failure whose run
 * count is unknown (0) ranks after every known one. */
static int earlier(const rl__result *b, const rl__result *a)
{
    if (!a)
        return 1;
    unsigned long ra = (unsigned long)a->first_failure_run - 1;
    unsigned long rb = (unsigned long)b->first_failure_run - 1;
    return rb < ra;
}

/* Merges the parts p[0..n) (one scenario, in file order) into m. Returns
 * 0, -EINVAL or -ENOMEM (message in rl_last_error). */
static int merge_one(rl__loaded *files, const part *p, int n, rl__result *m)
{
    const rl__result *f = p[0].r;
    char b1[32], b2[32];
    m->name = strdup(f->name);
    m->summary = f->summary ? strdup(f->summary) : NULL;
    if (!m->name || (f->summary && !m->summary))
        return -ENOMEM;
    m->expect = f->expect;
    m->expect_verdict = f->expect_verdict;
    m->mode = f->mode;
    m->seed = f->seed;
    m->bound = f->bound;
    m->bound_kind = f->bound_kind;
    m->pct_depth = f->pct_depth;
    m->pct_actors = f->pct_actors;
    m->pct_steps = f->pct_steps;
    m->reduction = f->reduction;
    m->exhausted = 1;
    m->space_explored = -1;
    const rl__result *fail = NULL;
    int nkept = 0;
    for (int i = 0; i < n; i++) {
        const rl__result *r = p[i].r;
        if (r->mode != m->mode)
            return rl__fail(
                -EINVAL, "cannot merge scenario %s: mode %s in %s but %s in %s",
                m->name, rl__mode_name(m->mode),
                file_name(&files[p[0].file], p[0].file, b1, sizeof b1),
                rl__mode_name(r->mode),
                file_name(&files[p[i].file], p[i].file, b2, sizeof b2));
        int ovf = __builtin_add_overflow(m->executions, r->executions,
                                         &m->executions);
        ovf |= __builtin_add_overflow(m->failures, r->failures, &m->failures);
        for (int k = 0; k < RL__RUN_CLASSES; k++)
            ovf |= __builtin_add_overflow(m->classes[k], r->classes[k],
                                          &m->classes[k]);
        if (ovf || add_hist(m, r) < 0)
            return rl__fail(-EINVAL,
                            "cannot merge scenario %s: the counts "
                            "overflow",
                            m->name);
        m->duration += r->duration;
        m->exhausted &= !!r->exhausted;
        m->interrupted |= !!r->interrupted;
        m->external |= r->external;
        for (int k = 0; k < RL__KEPT_OUTPUTS && nkept < RL__KEPT_OUTPUTS; k++) {
            if (!r->kept_output[k])
                continue;
            if (!(m->kept_output[nkept++] = strdup(r->kept_output[k])))
                return -ENOMEM;
        }
        if (r->verdict != RL_PASS && earlier(r, fail))
            fail = r;
        /* Coverage counts distinct schedule points, labels and label
         * pairs; without the items themselves the sets cannot be
         * unioned, so the merged count is the largest part's (a lower
         * bound of the true union). */
        if (r->schedule_points > m->schedule_points)
            m->schedule_points = r->schedule_points;
        if (r->labels_reached > m->labels_reached)
            m->labels_reached = r->labels_reached;
        if (r->pairs_interleaved > m->pairs_interleaved)
            m->pairs_interleaved = r->pairs_interleaved;
        if (r->space_explored > m->space_explored)
            m->space_explored = r->space_explored;
    }
    /* The races of the failure's part, else of the first part that
     * listed some (--races report). */
    const rl__result *rp = fail && fail->nraces ? fail : NULL;
    for (int i = 0; i < n && !rp; i++)
        if (p[i].r->nraces)
            rp = p[i].r;
    if (rp && rl__result_races_copy(m, rp) < 0)
        return -ENOMEM;
    if (fail) {
        /* The run count stays the shard's own: shards run disjoint
         * slices, so it is the runs that shard needed. */
        m->verdict = fail->verdict;
        m->first_failure_run = fail->first_failure_run;
        m->found_cost = fail->found_cost;
        if (rl__result_failure_copy(&m->failure, &fail->failure) < 0)
            return -ENOMEM;
    } else {
        m->verdict = RL_PASS;
    }
    /* An interrupted part leaves the whole unfinished: not as expected
     * (rl__result_as_expected), whatever the counts so far say. */
    return 0;
}

int rl__results_merge(rl__loaded *files, int nfiles, rl__loaded *out)
{
    memset(out, 0, sizeof *out);
    if (nfiles <= 0)
        return rl__fail(-EINVAL, "no results to merge");
    long total = 0;
    for (int i = 0; i < nfiles; i++)
        total += files[i].n;
    part *parts = calloc(total ? (size_t)total : 1, sizeof *parts);
    if (!parts)
        return rl__fail(-ENOMEM, "out of memory");
    long np = 0;
    for (int i = 0; i < nfiles; i++)
        for (int k = 0; k < files[i].n; k++)
            parts[np++] = (part){&files[i].results[k], i, k};
    qsort(parts, (size_t)np, sizeof *parts, part_cmp);
    int err = 0;
    if (np) {
        out->results = calloc((size_t)np, sizeof *out->results);
        if (!out->results)
            err = -ENOMEM;
    }
    for (long i = 0; i < np && !err;) {
        long j = i + 1;
        while (j < np && strcmp(parts[j].r->name, parts[i].r->name) == 0)
            j++;
        err =
            merge_one(files, &parts[i], (int)(j - i), &out->results[out->n++]);
        i = j;
    }
    free(parts);

    out->seed = files[0].seed;
    /* ISO 8601 UTC times in one format sort as strings: the merged run
     * started when its earliest shard did. */
    const char *started = NULL;
    for (int i = 0; i < nfiles; i++)
        if (files[i].started_at &&
            (!started || strcmp(files[i].started_at, started) < 0))
            started = files[i].started_at;
    if (!err && started && !(out->started_at = strdup(started)))
        err = -ENOMEM;
    if (!err && files[0].command_line &&
        !(out->command_line = strdup(files[0].command_line)))
        err = -ENOMEM;
    for (int i = 1; i < nfiles && !err; i++) {
        if (files[i].seed == out->seed)
            continue;
        char b1[32], b2[32];
        if (asprintf(&out->note,
                     "the results have different seeds (%" PRIu64
                     " in %s, %" PRIu64 " in %s); the report shows the "
                     "first",
                     out->seed, file_name(&files[0], 0, b1, sizeof b1),
                     files[i].seed,
                     file_name(&files[i], i, b2, sizeof b2)) < 0) {
            out->note = NULL;
            err = -ENOMEM;
        }
        break;
    }
    if (err == -ENOMEM)
        rl__fail(err, "out of memory while merging results");
    if (err)
        rl__loaded_free(out);
    return err;
}
