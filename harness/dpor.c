/* dpor.c: the dependency relation between steps and the race analysis of
 * source-DPOR over one execution.
 *
 * The algorithm is Algorithm 1 of P. Abdulla, S. Aronis, B. Jonsson and
 * K. Sagonas, "Optimal dynamic partial order reduction", POPL 2014
 * (source sets): after an execution E, for every race e <~ e' of E, the
 * actors that can start v = notdep(e, E).e' after pre(E, e) (the initials
 * of v) are handed to the explorer, which adds one of them to the
 * backtrack set at e unless one is there already. Here only the analysis
 * lives; the backtrack and sleep sets belong to the explorer.
 *
 * Happens-before is kept as vector clocks over the actors that appear in
 * the trace: clock[k][r] is the number of steps of actor r that happen
 * before or are step k. The clock of a step joins the clocks of its
 * predecessor in program order, of the step that created its actor (for
 * an actor's first step), and of the last step of every other actor that
 * it depends on: a table from objects (and, for memory, bytes) to the last
 * step of each actor that changed or read them finds those. Earlier
 * dependent steps of that actor happen before its last one, so they need
 * no look. The same last steps are the only candidates for a race with
 * the step, and one is a race unless it happens before another of the
 * step's predecessors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpor.h"

/* Larger instrumented accesses count as touching everything: their bytes
 * are not worth a table entry each. */
#define MAX_BYTES 65536

/* What a step touches. */
enum {
    C_GLOBAL, /* everything: dependent on every step of another actor */
    C_NONE,   /* nothing another actor can see (a private access) */
    C_MEM,    /* bytes [addr, addr + size) of shared memory */
    C_OBJ,    /* up to two objects (kinds below) */
    C_EXIT    /* every object (C_OBJ), no shared memory (C_MEM) */
};

/* Kinds of object: an object by its key, an actor (its start and joins),
 * the actor table (every start), a byte of shared memory. */
enum { K_EMPTY = 0, K_OBJ, K_ACTOR, K_TABLE, K_BYTE };

typedef struct {
    int kind;
    uintptr_t v;
    int write;
} touched;

typedef struct {
    int cls;
    int n;          /* accesses in acc, for C_OBJ */
    touched acc[2]; /* for C_OBJ */
    uintptr_t addr;
    long size; /* for C_MEM */
    int write; /* for C_MEM */
} touch;

static int is_mem(int op)
{
    return op == RL_OP_LOAD || op == RL_OP_STORE || op == RL_OP_FETCH_ADD;
}

#ifdef RL_TESTING
/* Tests leave rules out to see the comparison of reductions fail: 1
 * makes shared memory accesses independent, 2 every pair of steps of
 * different actors. */
int rl__dpor_test_drop;
#endif

static void classify_step(const rl__step *s, touch *t);

/* What a step touches (the rules are in classify_step). */
static void classify(const rl__step *s, touch *t)
{
    classify_step(s, t);
#ifdef RL_TESTING
    if ((rl__dpor_test_drop == 1 && t->cls == C_MEM) ||
        (rl__dpor_test_drop == 2 && t->cls != C_NONE))
        t->cls = C_NONE;
#endif
}

static void classify_step(const rl__step *s, touch *t)
{
    memset(t, 0, sizeof *t);
    const void *key = s->key ? s->key : s->obj;
    if (s->global) {
        t->cls = C_GLOBAL;
        return;
    }
    if (is_mem(s->op)) {
        /* Actors are processes: a private address is a different object
         * in each of them. */
        if (!s->shared) {
            t->cls = C_NONE;
            return;
        }
        t->cls = C_MEM;
        t->addr = (uintptr_t)s->obj;
        t->size = s->size > 0 ? s->size : 1;
        t->write = s->op != RL_OP_LOAD;
        if (t->size > MAX_BYTES)
            t->cls = C_GLOBAL;
        return;
    }
    t->cls = C_OBJ;
    switch (s->op) {
    case RL_OP_START:
        /* In the parent (target -1), the fork, which takes the next actor
         * id: it orders with every other start. A child's first step
         * touches nothing another actor sees: it comes after its creation
         * in happens-before anyway, and a join waits for the exit. */
        if (s->target == -1) {
            t->acc[0] = (touched){K_TABLE, 0, 1};
            t->n = 1;
        } else {
            t->cls = C_NONE;
        }
        return;
    case RL_OP_EXIT:
        /* Closes descriptors, releases robust locks, wakes every waiter:
         * every object, but no byte of shared memory. */
        t->cls = C_EXIT;
        return;
    case RL_OP_JOIN:
        if (s->target > 0) {
            t->acc[0] = (touched){K_ACTOR, (uintptr_t)(s->target - 1), 1};
            t->n = 1;
            return;
        }
        break;
    case RL_OP_YIELD: /* marks raw system calls */
        t->cls = C_GLOBAL;
        return;
    default:
        break;
    }
    if (!key) {
        t->cls = C_GLOBAL;
        return;
    }
    t->acc[0] = (touched){K_OBJ, (uintptr_t)key, s->op != RL_OP_POLL};
    t->n = 1;
}

int rl__dpor_dependent(const rl__step *a, const rl__step *b)
{
    if (a->actor == b->actor)
        return 1;
    touch ta, tb;
    classify(a, &ta);
    classify(b, &tb);
    if (ta.cls == C_GLOBAL || tb.cls == C_GLOBAL)
        return 1;
    if (ta.cls == C_EXIT && tb.cls == C_EXIT)
        return 0; /* what each closes and wakes is its own */
    if (ta.cls == C_EXIT || tb.cls == C_EXIT) {
        const rl__step *e = ta.cls == C_EXIT ? a : b;
        const touch *o = ta.cls == C_EXIT ? &tb : &ta;
        if (o->cls == C_MEM || o->cls == C_NONE)
            return 0;
        /* A join waits for its own actor's exit only. (A lock op depends
         * on an exit that holds the lock, which a pair does not tell.) */
        if (o->n == 1 && o->acc[0].kind == K_ACTOR)
            return o->acc[0].v == (uintptr_t)e->actor;
        return 1;
    }
    if (ta.cls != tb.cls || ta.cls == C_NONE)
        return 0;
    if (ta.cls == C_MEM)
        return (ta.write || tb.write) &&
               ta.addr < tb.addr + (uintptr_t)tb.size &&
               tb.addr < ta.addr + (uintptr_t)ta.size;
    for (int x = 0; x < ta.n; x++)
        for (int y = 0; y < tb.n; y++)
            if (ta.acc[x].kind == tb.acc[y].kind &&
                ta.acc[x].v == tb.acc[y].v &&
                (ta.acc[x].write || tb.acc[y].write))
                return 1;
    return 0;
}

/* ---- the race analysis ---- */

/* The last write and read of one object by one actor; a list per object. */
typedef struct {
    int actor; /* dense index */
    long lw, lr;
    long held;  /* acquires less releases: the actor may hold the lock */
    long taken; /* the acquire that took it (held 0 to 1), or -1 */
    long next;  /* -1 ends the list */
} rec;

typedef struct {
    int kind;
    uintptr_t v;
    long head;
} slot;

typedef struct {
    const rl__step *steps;
    long n;
    int na; /* actors in the trace */
    int dense[RL__MAX_ACTORS];
    int ids[RL__MAX_ACTORS];
    long first_seen[RL__MAX_ACTORS]; /* by actor id: first step it exists */
    long *lidx;      /* 1-based index of a step among its actor's */
    long *order;     /* step positions grouped by actor */
    long *start;     /* na + 1 offsets into order */
    long *cre;       /* by dense actor: the step that created it, or -1 */
    int *clock;      /* n * na */
    long *last_step; /* by dense actor */
    long *last_global;
    long *last_gexit; /* by dense actor: last global or exit step */
    long *last_other; /* by dense actor: last global step or step on an
                         object that is not a lock op or join */
    long *cand;
    int *best2; /* by dense actor, while a step's clock is made */
    long *who;
    slot *tab;
    long tab_cap, tab_used;
    rec *recs;
    long nrecs, recs_cap;
} state;

static int *clock_of(state *st, long k)
{
    return st->clock + (size_t)k * (size_t)st->na;
}

static uint64_t hash(int kind, uintptr_t v)
{
    uint64_t z = (uint64_t)v * 0x9e3779b97f4a7c15ULL ^ (uint64_t)kind << 59;
    z ^= z >> 31;
    z *= 0xbf58476d1ce4e5b9ULL;
    return z ^ z >> 29;
}

static slot *find_slot(slot *tab, long cap, int kind, uintptr_t v)
{
    uint64_t h = hash(kind, v) & (uint64_t)(cap - 1);
    while (tab[h].kind != K_EMPTY && (tab[h].kind != kind || tab[h].v != v))
        h = (h + 1) & (uint64_t)(cap - 1);
    return &tab[h];
}

/* The table entry of an object, made when make is set. NULL when absent
 * (or out of memory: then *oom is set). */
static slot *lookup(state *st, int kind, uintptr_t v, int make, int *oom)
{
    if (make && (st->tab_used + 1) * 2 > st->tab_cap) {
        long cap = st->tab_cap ? st->tab_cap * 2 : 256;
        slot *t = calloc((size_t)cap, sizeof *t);
        if (!t) {
            *oom = 1;
            return NULL;
        }
        for (long i = 0; i < st->tab_cap; i++)
            if (st->tab[i].kind != K_EMPTY)
                *find_slot(t, cap, st->tab[i].kind, st->tab[i].v) = st->tab[i];
        free(st->tab);
        st->tab = t;
        st->tab_cap = cap;
    }
    if (!st->tab_cap)
        return NULL;
    slot *s = find_slot(st->tab, st->tab_cap, kind, v);
    if (s->kind == K_EMPTY) {
        if (!make)
            return NULL;
        s->kind = kind;
        s->v = v;
        s->head = -1;
        st->tab_used++;
    }
    return s;
}

/* Step j reads or changes object (kind, v): every other actor's last step
 * that conflicts with it becomes a candidate. */
static void conflicts(state *st, int a, int kind, uintptr_t v, int write)
{
    int oom = 0;
    slot *s = lookup(st, kind, v, 0, &oom);
    if (!s)
        return;
    for (long r = s->head; r >= 0; r = st->recs[r].next) {
        rec *e = &st->recs[r];
        if (e->actor == a)
            continue;
        long c = e->lw;
        if (write && e->lr > c)
            c = e->lr;
        if (c > st->cand[e->actor])
            st->cand[e->actor] = c;
    }
}

/* Records that step j of dense actor a read or changed (kind, v), and
 * for a lock op what it did to the actor's hold (held: +1, -1 or 0).
 * Returns 0, or -1 out of memory. */
static int record(state *st, int a, long j, int kind, uintptr_t v, int write,
                  int held)
{
    int oom = 0;
    slot *s = lookup(st, kind, v, 1, &oom);
    if (!s)
        return -1;
    long r = s->head;
    while (r >= 0 && st->recs[r].actor != a)
        r = st->recs[r].next;
    if (r < 0) {
        if (st->nrecs == st->recs_cap) {
            long cap = st->recs_cap ? st->recs_cap * 2 : 256;
            rec *t = realloc(st->recs, (size_t)cap * sizeof *t);
            if (!t)
                return -1;
            st->recs = t;
            st->recs_cap = cap;
        }
        r = st->nrecs++;
        st->recs[r] = (rec){a, -1, -1, 0, -1, s->head};
        s->head = r;
    }
    if (held > 0 && st->recs[r].held == 0)
        st->recs[r].taken = j;
    st->recs[r].held += held;
    if (write)
        st->recs[r].lw = j;
    else
        st->recs[r].lr = j;
    return 0;
}

/* Steps an exit touches only in part. An exit changes a lock only when
 * the actor ends holding it (the robust lock passes to the next owner);
 * other acquires and releases (a semaphore's) look held when an actor
 * took more than it gave back, which keeps the exit dependent on them.
 * An exit ends the joins of its own actor and no other. */
static int is_lock_op(const rl__step *s, const touch *t)
{
    return t->cls == C_OBJ && t->n == 1 && t->acc[0].kind == K_OBJ &&
           (s->op == RL_OP_ACQUIRE || s->op == RL_OP_RELEASE);
}

static int is_narrow(const rl__step *s, const touch *t)
{
    return is_lock_op(s, t) ||
           (t->cls == C_OBJ && t->n == 1 && t->acc[0].kind == K_ACTOR);
}

/* The table slots of the objects dense actor a may hold (acquired more
 * often than released), in a malloc'd array. Returns 0, or -1 out of
 * memory. */
static int held_locks(const state *st, int a, long **out, long *n)
{
    *out = NULL;
    *n = 0;
    long cap = 0;
    for (long i = 0; i < st->tab_cap; i++) {
        if (st->tab[i].kind != K_OBJ)
            continue;
        for (long r = st->tab[i].head; r >= 0; r = st->recs[r].next) {
            if (st->recs[r].actor != a || st->recs[r].held <= 0)
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 8;
                long *t = realloc(*out, (size_t)cap * sizeof *t);
                if (!t) {
                    free(*out);
                    *out = NULL;
                    return -1;
                }
                *out = t;
            }
            (*out)[(*n)++] = i;
        }
    }
    return 0;
}

/* Where the race of step j with step i is reversed. An acquire of an
 * exclusive lock after another actor's release of it can come only
 * before that actor's acquire: the race is with the acquire that took
 * the lock (as Nidhugg orders lock acquisitions). Returns i otherwise. */
static long exclusive_race(state *st, long i, long j)
{
    const rl__step *si = &st->steps[i], *sj = &st->steps[j];
    if (si->op != RL_OP_RELEASE || sj->op != RL_OP_ACQUIRE ||
        si->target != RL__TARGET_EXCLUSIVE ||
        sj->target != RL__TARGET_EXCLUSIVE || si->global || sj->global ||
        si->key != sj->key)
        return i;
    int oom = 0;
    slot *s = lookup(st, K_OBJ, (uintptr_t)si->key, 0, &oom);
    if (!s)
        return i;
    int a = st->dense[si->actor];
    for (long r = s->head; r >= 0; r = st->recs[r].next)
        if (st->recs[r].actor == a && st->recs[r].taken >= 0 &&
            st->recs[r].taken < i)
            return st->recs[r].taken;
    return i;
}

/* The first step of dense actor q after position i, or -1. */
static long next_after(const state *st, int q, long i)
{
    long lo = st->start[q], hi = st->start[q + 1];
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (st->order[mid] <= i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < st->start[q + 1] ? st->order[lo] : -1;
}

/* 1 when actor a could not be chosen at step k but could right after. */
static int wakes(const state *st, long k, int a)
{
    return k + 1 < st->n && !rl__set_has(&st->steps[k].enabled, a) &&
           rl__set_has(&st->steps[k + 1].enabled, a);
}

/* The race (i, j): the initials of notdep(i).steps[j] at i, handed to
 * want as the brief of rl__dpor_races says. */
static void race(state *st, long i, long j, long *g,
                 void (*want)(void *, long, const rl__actorset *), void *ctx)
{
    const rl__step *steps = st->steps;
    /* A pure blocked attempt does not race with the step that wakes it:
     * the other order is the retry that follows anyway. (An actor left
     * out of an enabled set only by fairness is no such case.) */
    if (steps[i].blocked && wakes(st, j, steps[i].actor))
        return;
    int ai = st->dense[steps[i].actor], aj = st->dense[steps[j].actor];
    long li = st->lidx[i];
    /* g[q]: the first step of actor q in v, or -1. The steps of q after
     * i that are not after i in happens-before come first (program
     * order), so only q's next step after i needs a look. */
    for (int q = 0; q < st->na; q++) {
        g[q] = -1;
        if (q == ai)
            continue;
        long f = next_after(st, q, i);
        if (f < 0 || f > j || (f == j && q != aj))
            continue;
        if (f < j && clock_of(st, f)[ai] >= li)
            continue; /* after i: none of q's steps is in v */
        g[q] = f;
    }
    rl__actorset in;
    memset(&in, 0, sizeof in);
    for (int q = 0; q < st->na; q++) {
        long f = g[q];
        if (f < 0)
            continue;
        const int *cf = clock_of(st, f);
        int initial = 1;
        for (int r = 0; r < st->na && initial; r++)
            if (r != q && g[r] >= 0 && g[r] < f && cf[r] >= st->lidx[g[r]])
                initial = 0;
        if (initial)
            rl__set_add(&in, st->ids[q]);
    }
    const rl__actorset *en = &steps[i].enabled;
    for (int k = 0; k < RL__MAX_ACTORS / 64; k++)
        in.w[k] &= en->w[k];
    if (!rl__set_empty(&in)) {
        want(ctx, i, &in);
        return;
    }
    /* Nobody who could start the other order could run at i: every
     * actor that could is a candidate, unless the later actor did not
     * exist yet. */
    int p = steps[j].actor;
    if (p != 0 && st->first_seen[p] > i)
        return;
    if (!rl__set_empty(en))
        want(ctx, i, en);
}

/* Joins the clock of predecessor k into dst (the clock of the step being
 * made), keeping per actor the second largest entry and whose the largest
 * is. */
static void join_pred(state *st, int *dst, long k)
{
    const int *src = clock_of(st, k);
    for (int r = 0; r < st->na; r++) {
        int v = src[r];
        if (v > dst[r]) {
            st->best2[r] = dst[r];
            dst[r] = v;
            st->who[r] = k;
        } else if (v > st->best2[r]) {
            st->best2[r] = v;
        }
    }
}

static void free_state(state *st)
{
    free(st->lidx);
    free(st->order);
    free(st->start);
    free(st->cre);
    free(st->clock);
    free(st->last_step);
    free(st->last_global);
    free(st->last_gexit);
    free(st->last_other);
    free(st->cand);
    free(st->best2);
    free(st->who);
    free(st->tab);
    free(st->recs);
}

/* Numbers the actors of the trace densely (st->dense, st->ids) and notes
 * the step at which each came to exist (st->first_seen). Returns 0, or -1
 * for a step by an actor out of range. */
static int index_actors(state *st)
{
    const rl__step *steps = st->steps;
    long n = st->n;
    for (int p = 0; p < RL__MAX_ACTORS; p++) {
        st->dense[p] = -1;
        st->first_seen[p] = p == 0 ? 0 : n;
    }
    /* The actors of the trace, and when each came to exist. */
    rl__actorset seen;
    memset(&seen, 0, sizeof seen);
    for (long k = 0; k < n; k++) {
        rl__actorset fresh = rl__set_minus(steps[k].enabled, &seen);
        for (int p = rl__set_lowest(&fresh); p >= 0;
             p = rl__set_next(&fresh, p + 1)) {
            rl__set_add(&seen, p);
            if (k < st->first_seen[p])
                st->first_seen[p] = k;
        }
        int p = steps[k].actor;
        if (p < 0 || p >= RL__MAX_ACTORS)
            return -1;
        if (st->dense[p] < 0) {
            st->dense[p] = st->na;
            st->ids[st->na++] = p;
        }
    }
    return 0;
}

/* Allocates the per-step and per-actor tables of the analysis and fills
 * those known before it starts: each actor's steps in order (st->order,
 * st->start, st->lidx) and the step that made it (st->cre). Returns 0, or
 * -1 when out of memory (what was allocated is the caller's to free). */
static int prepare_tables(state *st)
{
    const rl__step *steps = st->steps;
    long n = st->n;
    int na = st->na;
    st->lidx = malloc(sizeof *st->lidx * (size_t)n);
    st->order = malloc(sizeof *st->order * (size_t)n);
    st->start = calloc((size_t)na + 1, sizeof *st->start);
    st->cre = malloc(sizeof *st->cre * (size_t)na);
    st->clock = calloc((size_t)n * (size_t)na, sizeof *st->clock);
    st->last_step = malloc(sizeof *st->last_step * (size_t)na);
    st->last_global = malloc(sizeof *st->last_global * (size_t)na);
    st->last_gexit = malloc(sizeof *st->last_gexit * (size_t)na);
    st->last_other = malloc(sizeof *st->last_other * (size_t)na);
    st->cand = malloc(sizeof *st->cand * (size_t)na);
    st->best2 = malloc(sizeof *st->best2 * (size_t)na);
    st->who = malloc(sizeof *st->who * (size_t)na);
    if (!st->lidx || !st->order || !st->start || !st->cre || !st->clock ||
        !st->last_step || !st->last_global || !st->last_gexit ||
        !st->last_other || !st->cand || !st->best2 || !st->who)
        return -1;
    for (long k = 0; k < n; k++)
        st->start[st->dense[steps[k].actor] + 1]++;
    for (int q = 0; q < na; q++) {
        st->start[q + 1] += st->start[q];
        st->last_step[q] = st->last_global[q] = -1;
        st->last_gexit[q] = st->last_other[q] = -1;
        st->cre[q] = -1;
    }
    for (long k = 0; k < n; k++) {
        int q = st->dense[steps[k].actor];
        long at = st->start[q] + st->last_step[q] + 1;
        st->order[at] = k;
        st->last_step[q] = at - st->start[q];
        st->lidx[k] = st->last_step[q] + 1;
    }
    /* An actor is made in the step just before the first one whose
     * enabled set holds it (it is runnable from its creation on). */
    for (int q = 0; q < na; q++) {
        int p = st->ids[q];
        long first = st->order[st->start[q]];
        if (st->first_seen[p] > first)
            st->first_seen[p] = first;
        else if (p != 0 && st->first_seen[p] >= 1)
            st->cre[q] = st->first_seen[p] - 1;
        st->last_step[q] = -1;
    }
    return 0;
}

/* Fills st->cand for step j (touching t): per actor, its latest step that
 * j depends on, none for j's own actor. For an exit, *held receives the
 * locks its actor holds (malloc'd, *nheld of them). Returns 0, or -1 when
 * out of memory. */
static int find_candidates(state *st, long j, const touch *t, int narrow,
                           long **held, long *nheld)
{
    const rl__step *s = &st->steps[j];
    int a = st->dense[s->actor];
    int na = st->na;
    /* Per actor, its latest step this one depends on: any for a
     * global step; a global or other object one for an exit (locks
     * it holds and its own joins: below; exits commute); a global or exit
     * one for a step on an object (plus the object's own, below);
     * a global one for memory, lock ops and joins (exits that touch
     * them are in the object's own). */
    for (int r = 0; r < na; r++)
        st->cand[r] = t->cls == C_GLOBAL ? st->last_step[r]
                      : t->cls == C_EXIT ? st->last_other[r]
                      : narrow           ? st->last_global[r]
                      : t->cls == C_OBJ  ? st->last_gexit[r]
                                         : st->last_global[r];
    if (t->cls == C_EXIT && held_locks(st, a, held, nheld) < 0)
        return -1;
    if (t->cls == C_OBJ) {
        for (int x = 0; x < t->n; x++)
            conflicts(st, a, t->acc[x].kind, t->acc[x].v, t->acc[x].write);
    } else if (t->cls == C_EXIT) {
        for (long x = 0; x < *nheld; x++)
            conflicts(st, a, K_OBJ, st->tab[(*held)[x]].v, 1);
        conflicts(st, a, K_ACTOR, (uintptr_t)s->actor, 1);
    } else if (t->cls == C_MEM) {
        for (long b = 0; b < t->size; b++)
            conflicts(st, a, K_BYTE, t->addr + (uintptr_t)b, t->write);
    }
    st->cand[a] = -1;
    return 0;
}

/* Gives step j its vector clock and reports, through race(), each
 * candidate of st->cand at or after from that races with it. */
static void find_races(state *st, long j, long from, long *g,
                       void (*want)(void *, long, const rl__actorset *),
                       void *ctx)
{
    const rl__step *steps = st->steps;
    const rl__step *s = &steps[j];
    int a = st->dense[s->actor];
    int na = st->na;
    long po = st->last_step[a];
    long cr = st->lidx[j] == 1 ? st->cre[a] : -1;
    /* The clock of j joins its predecessors'; per actor, the two
     * largest entries (and whose the largest is) tell whether a
     * candidate happens before another predecessor. */
    int *cj = clock_of(st, j);
    for (int r = 0; r < na; r++)
        st->best2[r] = 0, st->who[r] = -1;
    if (po >= 0)
        join_pred(st, cj, po);
    if (cr >= 0)
        join_pred(st, cj, cr);
    for (int r = 0; r < na; r++)
        if (st->cand[r] >= 0)
            join_pred(st, cj, st->cand[r]);
    cj[a] = (int)st->lidx[j];
    for (int r = 0; r < na; r++) {
        long i = st->cand[r];
        if (i < from || i == cr)
            continue;
        int other = st->who[r] == i ? st->best2[r] : cj[r];
        if (other >= st->lidx[i])
            continue;
        /* The step that wakes an actor (a release, a post, a send)
         * makes no race with what that actor does next: it could
         * not run before i. Its blocked attempt raced with what
         * blocked it (an acquire), and that race reverses the two. */
        if (wakes(st, i, s->actor) && !steps[i].unfair)
            continue;
        i = exclusive_race(st, i, j);
        if (i >= from)
            race(st, i, j, g, want, ctx);
    }
}

/* Records step j (touching t) as the latest of its actor on what it
 * touched, for the steps after it; frees held. Returns nonzero when out
 * of memory. */
static int record_step(state *st, long j, const touch *t, int lockop,
                       int narrow, long *held, long nheld)
{
    const rl__step *s = &st->steps[j];
    int a = st->dense[s->actor];
    st->last_step[a] = j;
    if (t->cls == C_GLOBAL)
        st->last_global[a] = j;
    if (t->cls == C_GLOBAL || t->cls == C_EXIT)
        st->last_gexit[a] = j;
    if (t->cls == C_GLOBAL || (t->cls == C_OBJ && !narrow))
        st->last_other[a] = j;
    int bad = 0;
    if (t->cls == C_OBJ) {
        int h = !lockop                   ? 0
                : s->op == RL_OP_RELEASE ? -1
                : s->blocked              ? 0
                                          : 1;
        for (int x = 0; x < t->n; x++)
            bad |= record(st, a, j, t->acc[x].kind, t->acc[x].v,
                          t->acc[x].write, h);
    } else if (t->cls == C_EXIT) {
        /* The slots and records exist: nothing moves meanwhile. */
        for (long x = 0; x < nheld; x++)
            bad |= record(st, a, j, K_OBJ, st->tab[held[x]].v, 1, 0);
        bad |= record(st, a, j, K_ACTOR, (uintptr_t)s->actor, 1, 0);
        free(held);
    } else if (t->cls == C_MEM) {
        for (long b = 0; b < t->size; b++)
            bad |= record(st, a, j, K_BYTE, t->addr + (uintptr_t)b, t->write,
                          0);
    }
    return bad;
}

/* The whole analysis; returns -1 when memory ran out (calls may have been
 * made for some races already). */
static int analyse(state *st, long from,
                   void (*want)(void *, long, const rl__actorset *), void *ctx)
{
    if (index_actors(st) < 0)
        return -1;
    if (prepare_tables(st) < 0)
        return -1;
    long *g = malloc(sizeof *g * (size_t)st->na);
    if (!g)
        return -1;
    for (long j = 0; j < st->n; j++) {
        const rl__step *s = &st->steps[j];
        touch t;
        classify(s, &t);
        int lockop = is_lock_op(s, &t), narrow = is_narrow(s, &t);
        long *held = NULL;
        long nheld = 0;
        if (find_candidates(st, j, &t, narrow, &held, &nheld) < 0) {
            free(g);
            return -1;
        }
        find_races(st, j, from, g, want, ctx);
        if (record_step(st, j, &t, lockop, narrow, held, nheld)) {
            free(g);
            return -1;
        }
    }
    free(g);
    return 0;
}

void rl__dpor_races(const rl__step *steps, long n, long from,
                    void (*want)(void *ctx, long i,
                                 const rl__actorset *initials),
                    void *ctx)
{
    if (n <= 0)
        return;
    if (from < 0)
        from = 0;
    state *st = calloc(1, sizeof *st);
    int r = -1;
    if (st) {
        st->steps = steps;
        st->n = n;
        r = analyse(st, from, want, ctx);
        free_state(st);
        free(st);
    }
    if (r == 0)
        return;
    /* Out of memory: every choice the analysis may have missed is one to
     * explore. */
    for (long i = from; i < n; i++)
        if (!rl__set_empty(&steps[i].enabled))
            want(ctx, i, &steps[i].enabled);
}
