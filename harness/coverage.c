/* coverage.c: what the executions of a search covered: schedule points,
 * pairs of points a preemption put side by side, and labels reached. */
#include <stdint.h>

#include "search_internal.h"

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
    for (size_t i = key % RL__COV_SLOTS, k = 0; k < RL__COV_SLOTS;
         i = (i + 1) % RL__COV_SLOTS, k++) {
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

void rl__cover(rl__coverage *c, const rl__exec_result *e)
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
