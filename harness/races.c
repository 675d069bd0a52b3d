/* races.c: the happens-before data-race detector: vector clocks over the
 * step log of one controlled execution, and the accesses they leave
 * unordered.
 *
 * Every actor (process) keeps a vector clock (Lamport, CACM 1978; Fidge
 * 1988; Mattern 1989): C[a][b] is the number of steps of actor b that
 * happen before actor a's current step. A step ticks its own entry. The
 * synchronisation of the primitives passes clocks along:
 *   - start: the child begins with its parent's clock at the start step;
 *   - exit and join: a join that returns receives the exit's clock;
 *   - locks, semaphores, events, conditions, barriers: a release (release,
 *     set, notify, a condition wait giving up its lock, a barrier arrival)
 *     joins its clock into the object's; an acquire that did not block
 *     (acquire, a wait that returns, a barrier departure) joins the
 *     object's clock into its own;
 *   - pipes, connections and queues: each send or put pushes its clock on
 *     a FIFO per channel (a connection's direction, a queue), and the k-th
 *     receive takes the k-th message's clock; a receive that finds no
 *     message (end of file, a closed queue) receives the object's clock,
 *     which a close joins;
 *   - pools: a submit joins the pool's clock, which a worker taking a task
 *     receives; a task's end joins the pool's done clock, which a future's
 *     get and the pool's join receive (as for a queue's task_done and
 *     join);
 *   - atomics (fetch-add, the atomics of instrumented code): sequentially
 *     consistent, so an atomic write releases and an atomic read acquires
 *     at its address, as ThreadSanitizer treats them.
 * A step's effect happens between it and the next step of the trace (one
 * actor runs at a time), so the order of the log is the order of the
 * effects.
 *
 * The accesses: per byte of shared memory, the last access of each actor
 * from each source place, read or write, atomic or not, with its epoch
 * (the actor's own clock entry then; FastTrack, Flanagan and Freund, PLDI
 * 2009). An access races with a recorded one of another actor when one of
 * them writes, not both are atomic, and the recorded epoch is not in the
 * accessing actor's clock. Keeping the latest access per place finds every
 * racing pair of places: an earlier access from the same place happens
 * before the later one, so if the later is ordered before the new access,
 * so is the earlier. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "races.h"

/* Accesses wider than this are checked on their first bytes only. */
#define MAX_BYTES 4096

typedef uint32_t vc_t;

/* The kinds of clock an object key carries. */
enum { S_REL = 1, S_DONE, S_FIFO, S_ATOMIC };

/* A clock of an object: by (kind, key, channel). FIFO clocks hold a queue
 * of message clocks. */
typedef struct {
    int kind; /* 0: empty slot */
    uintptr_t key, chan;
    vc_t *vc;      /* S_REL, S_DONE, S_ATOMIC */
    vc_t **msgs;   /* S_FIFO: the queue */
    long head, nmsgs, cap;
    int holder; /* S_REL of an exclusive lock: the actor holding it, -1 */
    long depth; /* ... and how often it took it */
} sync_slot;

/* The last access of one actor from one place to one byte. */
typedef struct {
    int actor;
    uint64_t place;
    int write, atomic;
    vc_t epoch;
    long step;
    long next; /* -1 ends the byte's list */
} access_rec;

typedef struct {
    uintptr_t addr; /* 0: empty (shared memory never sits at 0) */
    long head;
} byte_slot;

typedef struct {
    const rl__step *steps;
    long n;
    int na;
    vc_t *clock;      /* na * na */
    vc_t *birth;      /* na * na: a child's clock at its start */
    vc_t *exitc;      /* na * na: an actor's clock at its exit */
    char *has_birth;  /* by actor */
    char *has_exit;   /* by actor */
    char *seen;       /* by actor: it took a step */
    long *blocked_at; /* by actor: the last step it could not run */
    long *last;       /* by actor: its last step */
    sync_slot *sync;
    long sync_cap, sync_used;
    byte_slot *bytes;
    long bytes_cap, bytes_used;
    access_rec *recs;
    long nrecs, recs_cap;
    rl__race *races;
    long nraces;
    uint64_t *pairs; /* the place pairs reported, one hash each */
    int oom;
} state;

static uint64_t mix(uint64_t z)
{
    z ^= z >> 31;
    z *= 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 29;
    z *= 0x94d049bb133111ebULL;
    return z ^ z >> 32;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* The source place of a step: its file and line, else its pc, else its
 * label. */
static uint64_t place_of(const rl__step *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    if (s->file[0]) {
        h = hash_str(h, s->file);
        return mix(h ^ (uint64_t)s->line);
    }
    if (s->pc)
        return mix((uint64_t)s->pc * 31 + s->pc_obj + 1);
    return mix(hash_str(h, s->label) + 7);
}

static uint64_t place_of_access(const rl__race_access *x)
{
    rl__step s;
    memset(&s, 0, sizeof s);
    memcpy(s.file, x->file, sizeof s.file);
    s.line = x->line;
    s.pc = x->pc;
    s.pc_obj = x->pc_obj;
    memcpy(s.label, x->label, sizeof s.label);
    return place_of(&s);
}

static uint64_t pair_hash(uint64_t p, uint64_t q)
{
    if (p > q) {
        uint64_t t = p;
        p = q;
        q = t;
    }
    return mix(p * 0x9e3779b97f4a7c15ULL ^ q) | 1;
}

static vc_t *clock_of(state *st, vc_t *base, int a)
{
    return base + (size_t)a * (size_t)st->na;
}

/* to = to joined with from. */
static void vc_join(state *st, vc_t *to, const vc_t *from)
{
    for (int i = 0; i < st->na; i++)
        if (from[i] > to[i])
            to[i] = from[i];
}

/* ---- object clocks ---- */

static sync_slot *sync_find(state *st, int kind, uintptr_t key,
                            uintptr_t chan, int make)
{
    if (make && (st->sync_used + 1) * 2 > st->sync_cap) {
        long cap = st->sync_cap ? st->sync_cap * 2 : 64;
        sync_slot *t = calloc((size_t)cap, sizeof *t);
        if (!t) {
            st->oom = 1;
            return NULL;
        }
        for (long i = 0; i < st->sync_cap; i++) {
            sync_slot *o = &st->sync[i];
            if (!o->kind)
                continue;
            uint64_t h = mix(o->key * 3 + o->chan + (uint64_t)o->kind) &
                         (uint64_t)(cap - 1);
            while (t[h].kind)
                h = (h + 1) & (uint64_t)(cap - 1);
            t[h] = *o;
        }
        free(st->sync);
        st->sync = t;
        st->sync_cap = cap;
    }
    if (!st->sync_cap)
        return NULL;
    uint64_t h = mix(key * 3 + chan + (uint64_t)kind) &
                 (uint64_t)(st->sync_cap - 1);
    while (st->sync[h].kind &&
           (st->sync[h].kind != kind || st->sync[h].key != key ||
            st->sync[h].chan != chan))
        h = (h + 1) & (uint64_t)(st->sync_cap - 1);
    sync_slot *s = &st->sync[h];
    if (!s->kind) {
        if (!make)
            return NULL;
        s->kind = kind;
        s->key = key;
        s->chan = chan;
        s->holder = -1;
        if (kind != S_FIFO) {
            s->vc = calloc((size_t)st->na, sizeof *s->vc);
            if (!s->vc) {
                s->kind = 0;
                st->oom = 1;
                return NULL;
            }
        }
        st->sync_used++;
    }
    return s;
}

/* A release: the object's clock takes in actor a's. */
static void release(state *st, int kind, uintptr_t key, int a)
{
    sync_slot *s = sync_find(st, kind, key, 0, 1);
    if (s)
        vc_join(st, s->vc, clock_of(st, st->clock, a));
}

/* An acquire: actor a's clock takes in the object's. */
static void acquire(state *st, int kind, uintptr_t key, int a)
{
    sync_slot *s = sync_find(st, kind, key, 0, 0);
    if (s)
        vc_join(st, clock_of(st, st->clock, a), s->vc);
}

/* The owner of exclusive lock key: an acquire by actor a that finds it
 * held by another actor took it over from a dead holder (a robust lock's
 * -EOWNERDEAD): what the holder did happens before. A release by the
 * holder (held: -1) gives it up once as often as it took it. */
static void hold(state *st, uintptr_t key, int a, int held)
{
    sync_slot *s = sync_find(st, S_REL, key, 0, 1);
    if (!s)
        return;
    if (held > 0) {
        if (s->holder >= 0 && s->holder != a) {
            vc_join(st, clock_of(st, st->clock, a),
                    clock_of(st, st->clock, s->holder));
            s->depth = 0;
        }
        s->holder = a;
        s->depth++;
    } else if (s->holder == a && (held < -1 || --s->depth <= 0)) {
        s->holder = -1;
        s->depth = 0;
    }
}

/* A send on channel (key, chan): its clock joins the channel's FIFO. */
static void send_msg(state *st, uintptr_t key, uintptr_t chan, int a)
{
    sync_slot *s = sync_find(st, S_FIFO, key, chan, 1);
    if (!s)
        return;
    if (s->nmsgs == s->cap) {
        long cap = s->cap ? s->cap * 2 : 8;
        vc_t **t = realloc(s->msgs, (size_t)cap * sizeof *t);
        if (!t) {
            st->oom = 1;
            return;
        }
        s->msgs = t;
        s->cap = cap;
    }
    vc_t *m = malloc((size_t)st->na * sizeof *m);
    if (!m) {
        st->oom = 1;
        return;
    }
    memcpy(m, clock_of(st, st->clock, a), (size_t)st->na * sizeof *m);
    s->msgs[s->nmsgs++] = m;
}

/* A receive at end obj of key: takes the oldest message the other end
 * (chan != obj; for a queue, chan 0 == obj 0) sent. Returns 1 when there
 * was one. */
static int recv_msg(state *st, uintptr_t key, uintptr_t obj, int by_end,
                    int a)
{
    sync_slot *from = NULL;
    if (!by_end) {
        from = sync_find(st, S_FIFO, key, 0, 0);
        if (from && from->head == from->nmsgs)
            from = NULL;
    }
    for (long i = 0; by_end && i < st->sync_cap; i++) {
        sync_slot *s = &st->sync[i];
        if (s->kind != S_FIFO || s->key != key || s->head == s->nmsgs)
            continue;
        if (by_end ? s->chan != obj : s->chan == 0) {
            from = s;
            break;
        }
    }
    if (!from)
        return 0;
    vc_t *m = from->msgs[from->head++];
    vc_join(st, clock_of(st, st->clock, a), m);
    return 1;
}

/* ---- shared memory ---- */

static byte_slot *byte_find(state *st, uintptr_t addr, int make)
{
    if (make && (st->bytes_used + 1) * 2 > st->bytes_cap) {
        long cap = st->bytes_cap ? st->bytes_cap * 2 : 256;
        byte_slot *t = calloc((size_t)cap, sizeof *t);
        if (!t) {
            st->oom = 1;
            return NULL;
        }
        for (long i = 0; i < st->bytes_cap; i++) {
            if (!st->bytes[i].addr)
                continue;
            uint64_t h = mix(st->bytes[i].addr) & (uint64_t)(cap - 1);
            while (t[h].addr)
                h = (h + 1) & (uint64_t)(cap - 1);
            t[h] = st->bytes[i];
        }
        free(st->bytes);
        st->bytes = t;
        st->bytes_cap = cap;
    }
    if (!st->bytes_cap)
        return NULL;
    uint64_t h = mix(addr) & (uint64_t)(st->bytes_cap - 1);
    while (st->bytes[h].addr && st->bytes[h].addr != addr)
        h = (h + 1) & (uint64_t)(st->bytes_cap - 1);
    byte_slot *b = &st->bytes[h];
    if (!b->addr) {
        if (!make)
            return NULL;
        b->addr = addr;
        b->head = -1;
        st->bytes_used++;
    }
    return b;
}

static void fill_access(rl__race_access *x, const rl__step *s, long k,
                        int atomic)
{
    memset(x, 0, sizeof *x);
    x->step = k;
    x->actor = s->actor;
    x->pid = s->pid;
    x->write = s->op != RL_OP_LOAD;
    x->atomic = atomic;
    x->addr = (uintptr_t)s->obj;
    x->size = s->size;
    memcpy(x->label, s->label, sizeof x->label);
    memcpy(x->file, s->file, sizeof x->file);
    x->line = s->line;
    x->pc = s->pc;
    x->pc_obj = s->pc_obj;
}

/* Records the race of steps i and k unless their places raced already. */
static void add_race(state *st, long i, int atomic_i, long k, int atomic_k)
{
    if (st->nraces >= RL__RACES_MAX)
        return;
    uint64_t h = pair_hash(place_of(&st->steps[i]), place_of(&st->steps[k]));
    for (long r = 0; r < st->nraces; r++)
        if (st->pairs[r] == h)
            return;
    rl__race *x = &st->races[st->nraces];
    fill_access(&x->first, &st->steps[i], i, atomic_i);
    fill_access(&x->second, &st->steps[k], k, atomic_k);
    st->pairs[st->nraces++] = h;
}

/* Checks access step k of actor a against what the bytes it touches
 * recorded, then records it. */
static void check_access(state *st, long k, int a, int atomic)
{
    const rl__step *s = &st->steps[k];
    int write = s->op != RL_OP_LOAD;
    uint64_t place = place_of(s);
    vc_t *c = clock_of(st, st->clock, a);
    vc_t epoch = c[a];
    long size = s->size > 0 ? s->size : 1;
    if (size > MAX_BYTES)
        size = MAX_BYTES;
    for (long off = 0; off < size; off++) {
        byte_slot *b = byte_find(st, (uintptr_t)s->obj + (uintptr_t)off, 1);
        if (!b)
            return;
        long mine = -1;
        for (long r = b->head; r >= 0; r = st->recs[r].next) {
            access_rec *e = &st->recs[r];
            if (e->actor == a) {
                if (e->place == place && e->write == write &&
                    e->atomic == atomic)
                    mine = r;
                continue;
            }
            if ((e->write || write) && !(e->atomic && atomic) &&
                e->epoch > c[e->actor])
                add_race(st, e->step, e->atomic, k, atomic);
        }
        if (mine < 0) {
            if (st->nrecs == st->recs_cap) {
                long cap = st->recs_cap ? st->recs_cap * 2 : 256;
                access_rec *t = realloc(st->recs, (size_t)cap * sizeof *t);
                if (!t) {
                    st->oom = 1;
                    return;
                }
                st->recs = t;
                st->recs_cap = cap;
            }
            mine = st->nrecs++;
            st->recs[mine] = (access_rec){a, place, write, atomic, 0, 0,
                                          b->head};
            b->head = mine;
        }
        st->recs[mine].epoch = epoch;
        st->recs[mine].step = k;
    }
}

static int is_atomic(const rl__step *s)
{
    return s->op == RL_OP_FETCH_ADD || strncmp(s->label, "atomic ", 7) == 0;
}

/* ---- the steps ---- */

/* Whether step k of actor a continues an operation that blocked: the
 * actor could not run at some step since its last one (a send that
 * filled the pipe goes on in a step of its own). */
static int resumes(const state *st, int a)
{
    return st->last[a] >= 0 && st->blocked_at[a] > st->last[a];
}

/* What step k does to the clocks and the shadow memory. */
static void apply(state *st, long k, long *created)
{
    const rl__step *s = &st->steps[k];
    int a = s->actor;
    vc_t *c = clock_of(st, st->clock, a);
    if (!st->seen[a]) {
        st->seen[a] = 1;
        if (st->has_birth[a])
            memcpy(c, clock_of(st, st->birth, a), (size_t)st->na * sizeof *c);
    }
    c[a]++;
    uintptr_t key = (uintptr_t)(s->key ? s->key : s->obj);
    uintptr_t obj = (uintptr_t)s->obj;
    /* A step that blocked did nothing. One marked global (its wait timed
     * out, or it also signalled a process) is taken to have received
     * what its op receives: more order, never a race that is not one. */
    int done = !s->blocked;
    int excl = s->target == RL__TARGET_EXCLUSIVE;
    switch (s->op) {
    case RL_OP_START:
        if (s->target == -1) {
            long child = ++*created;
            if (child < st->na) {
                memcpy(clock_of(st, st->birth, (int)child), c,
                       (size_t)st->na * sizeof *c);
                st->has_birth[child] = 1;
            }
        }
        break;
    case RL_OP_EXIT:
        memcpy(clock_of(st, st->exitc, a), c, (size_t)st->na * sizeof *c);
        st->has_exit[a] = 1;
        break;
    case RL_OP_JOIN:
        if (!done)
            break;
        if (s->target > 0) {
            int t = s->target - 1;
            if (t < st->na && st->has_exit[t])
                vc_join(st, c, clock_of(st, st->exitc, t));
        } else if (key) {
            acquire(st, S_DONE, key, a);
        }
        break;
    case RL_OP_ACQUIRE:
        if (done && key) {
            acquire(st, S_REL, key, a);
            if (excl)
                hold(st, key, a, 1);
        }
        break;
    case RL_OP_RELEASE:
        if (excl && key)
            hold(st, key, a, -1);
        if (key)
            release(st, S_REL, key, a);
        break;
    case RL_OP_SET:
    case RL_OP_NOTIFY:
    case RL_OP_CLOSE:
    case RL_OP_SUBMIT:
        if (key)
            release(st, S_REL, key, a);
        break;
    case RL_OP_WAIT:
        if (!key)
            break;
        /* A barrier's arrival, and a condition's wait giving up its lock
         * (its first step names the condition, its key the lock). */
        if (s->target == RL__TARGET_BARRIER || obj != key)
            release(st, S_REL, key, a);
        if (obj != key)
            hold(st, key, a, -2);
        acquire(st, S_REL, key, a);
        break;
    case RL_OP_SEND:
        if (!resumes(st, a) && key)
            send_msg(st, key, obj, a);
        break;
    case RL_OP_PUT:
        if (done && key)
            send_msg(st, key, 0, a);
        break;
    case RL_OP_RECV:
        if (done && key && !recv_msg(st, key, obj, 1, a))
            acquire(st, S_REL, key, a);
        break;
    case RL_OP_GET:
        if (!done || !key)
            break;
        if (obj != key) /* a future's result: the task's end */
            acquire(st, S_DONE, key, a);
        else if (!recv_msg(st, key, 0, 0, a))
            acquire(st, S_REL, key, a);
        break;
    case RL_OP_TASK_DONE:
        if (key)
            release(st, S_DONE, key, a);
        break;
    case RL_OP_LOAD:
    case RL_OP_STORE:
    case RL_OP_FETCH_ADD: {
        if (!s->shared || !s->obj)
            break;
        int atomic = is_atomic(s);
        if (atomic && s->op != RL_OP_STORE)
            acquire(st, S_ATOMIC, obj, a);
        check_access(st, k, a, atomic);
        if (atomic && s->op != RL_OP_LOAD)
            release(st, S_ATOMIC, obj, a);
        break;
    }
    default:
        break;
    }
}

static void state_free(state *st)
{
    for (long i = 0; i < st->sync_cap; i++) {
        free(st->sync[i].vc);
        for (long m = 0; m < st->sync[i].nmsgs; m++)
            free(st->sync[i].msgs[m]);
        free(st->sync[i].msgs);
    }
    free(st->sync);
    free(st->bytes);
    free(st->recs);
    free(st->clock);
    free(st->birth);
    free(st->exitc);
    free(st->has_birth);
    free(st->has_exit);
    free(st->seen);
    free(st->blocked_at);
    free(st->last);
    free(st->pairs);
}

long rl__races_find(const rl__step *steps, long n, rl__race **out)
{
    *out = NULL;
    state st;
    memset(&st, 0, sizeof st);
    st.steps = steps;
    st.n = n;
    for (long k = 0; k < n; k++) {
        if (steps[k].actor >= st.na)
            st.na = steps[k].actor + 1;
        for (int w = RL__MAX_ACTORS / 64 - 1; w >= 0; w--) {
            uint64_t m = steps[k].enabled.w[w];
            if (m) {
                int hi = w * 64 + 63 - __builtin_clzll(m);
                if (hi >= st.na)
                    st.na = hi + 1;
                break;
            }
        }
    }
    if (st.na == 0)
        return 0;
    size_t nn = (size_t)st.na * (size_t)st.na;
    st.clock = calloc(nn, sizeof *st.clock);
    st.birth = calloc(nn, sizeof *st.birth);
    st.exitc = calloc(nn, sizeof *st.exitc);
    st.has_birth = calloc((size_t)st.na, 1);
    st.has_exit = calloc((size_t)st.na, 1);
    st.seen = calloc((size_t)st.na, 1);
    st.blocked_at = malloc((size_t)st.na * sizeof *st.blocked_at);
    st.last = malloc((size_t)st.na * sizeof *st.last);
    st.races = malloc(RL__RACES_MAX * sizeof *st.races);
    st.pairs = malloc(RL__RACES_MAX * sizeof *st.pairs);
    if (!st.clock || !st.birth || !st.exitc || !st.has_birth ||
        !st.has_exit || !st.seen || !st.blocked_at || !st.last ||
        !st.races || !st.pairs) {
        free(st.races);
        state_free(&st);
        return -ENOMEM;
    }
    for (int i = 0; i < st.na; i++)
        st.blocked_at[i] = st.last[i] = -1;
    long created = 0;
    for (long k = 0; k < n && !st.oom; k++) {
        int a = steps[k].actor;
        if (a < 0)
            continue;
        /* An actor that exists, is not finished and is left out of the
         * choice was blocked (fairness also leaves actors out: such steps
         * say nothing). */
        if (!steps[k].unfair)
            for (int i = 0; i < st.na; i++)
                if (st.seen[i] && !rl__set_has(&steps[k].enabled, i))
                    st.blocked_at[i] = k;
        apply(&st, k, &created);
        st.last[a] = k;
    }
    long found = st.nraces;
    int oom = st.oom;
    state_free(&st);
    if (oom) {
        free(st.races);
        return -ENOMEM;
    }
    if (found == 0) {
        free(st.races);
        return 0;
    }
    *out = st.races;
    return found;
}

void rl__races_refresh(rl__race *races, long n, const rl__step *steps,
                       long nsteps)
{
    for (long r = 0; r < n; r++) {
        rl__race_access *x[2] = {&races[r].first, &races[r].second};
        for (int i = 0; i < 2; i++) {
            if (x[i]->step < 0 || x[i]->step >= nsteps)
                continue;
            const rl__step *s = &steps[x[i]->step];
            memcpy(x[i]->file, s->file, sizeof x[i]->file);
            x[i]->line = s->line;
        }
    }
}

int rl__races_same_places(const rl__race *a, const rl__race *b)
{
    return pair_hash(place_of_access(&a->first),
                     place_of_access(&a->second)) ==
           pair_hash(place_of_access(&b->first), place_of_access(&b->second));
}

void rl__race_access_describe(const rl__race_access *x, const char *name,
                              char *buf, size_t size)
{
    char where[64];
    if (x->file[0])
        snprintf(where, sizeof where, "%s:%d", x->file, x->line);
    else if (x->pc)
        snprintf(where, sizeof where, "pc +0x%lx", (unsigned long)x->pc);
    else
        snprintf(where, sizeof where, "%s", x->label);
    snprintf(buf, size, "actor %d (%s%spid %d) %s%s %d byte%s at %#lx (%s)",
             x->actor, name ? name : "", name ? ", " : "", (int)x->pid,
             x->atomic ? "atomic " : "", x->write ? "write" : "read",
             x->size, x->size == 1 ? "" : "s", (unsigned long)x->addr, where);
}

static const char *const names[RL__RACES_COUNT] = {"fail", "report", "off"};

const char *rl__races_name(int races)
{
    return races >= 0 && races < RL__RACES_COUNT ? names[races] : "?";
}

int rl__races_parse(const char *name)
{
    for (int i = 0; i < RL__RACES_COUNT; i++)
        if (name && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}
