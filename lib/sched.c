/* sched.c: the in-execution scheduler. One actor runs at a time; at every
 * schedule point the token holder picks the next actor and hands the token
 * over through a futex word in the arena. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scheduler.h"

int rl__sched_on;  /* this process is an actor of a controlled run */
int rl__points_on; /* schedule points do something: control or noise */
int rl__locks_held;
static rl__sched *S; /* the control block, in the arena */
static int me = -1;  /* this process's actor id */
static pid_t me_pid; /* to tell a raw fork() child from the actor */
static uint64_t noise_rng;

static const char *const op_names[RL_OP_COUNT] = {
    [RL_OP_YIELD] = "yield",
    [RL_OP_START] = "start",
    [RL_OP_JOIN] = "join",
    [RL_OP_EXIT] = "exit",
    [RL_OP_ACQUIRE] = "acquire",
    [RL_OP_RELEASE] = "release",
    [RL_OP_SET] = "set",
    [RL_OP_CLEAR] = "clear",
    [RL_OP_WAIT] = "wait",
    [RL_OP_NOTIFY] = "notify",
    [RL_OP_SEND] = "send",
    [RL_OP_RECV] = "recv",
    [RL_OP_POLL] = "poll",
    [RL_OP_CLOSE] = "close",
    [RL_OP_PUT] = "put",
    [RL_OP_GET] = "get",
    [RL_OP_TASK_DONE] = "task_done",
    [RL_OP_SUBMIT] = "submit",
    [RL_OP_LOAD] = "load",
    [RL_OP_STORE] = "store",
    [RL_OP_FETCH_ADD] = "fetch_add",
};

const char *rl__op_name(rl__op op)
{
    return (unsigned)op < RL_OP_COUNT ? op_names[op] : "?";
}

static const char *const verdict_names[RL__VERDICT_COUNT] = {
    "PASS", "FAIL", "DEADLOCK", "LIVELOCK", "CRASH", "TIMEOUT", "ERROR"};

const char *rl_verdict_name(int v)
{
    return v >= 0 && v < RL__VERDICT_COUNT ? verdict_names[v] : "?";
}

static uint64_t next_rand(uint64_t *state)
{
    /* splitmix64: small, fast and good enough to pick among actors. */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The control block this process made last, as it made it: a scenario
 * may scribble over the arena, so the layout is not read back from it. */
static struct {
    void *arena;
    rl__sched *s;
    rl__step *steps;
    long steps_cap;
    size_t keep; /* the arena mark past the block and its steps */
} kept;

/* Makes the control block left by the previous execution as new, when it
 * has room for cap steps and that execution passed: only what it wrote is
 * zeroed, and the block keeps its pages (the next execution's processes
 * find them in memory instead of faulting in new ones). Returns it, or
 * NULL. */
static rl__sched *reuse(long cap)
{
    void **root = rl__arena_root(RL__ROOT_SCHED);
    rl__sched *s = kept.s;
    if (!root || !s || *root != s || kept.arena != rl__arena_base() ||
        kept.steps_cap < cap || kept.keep > rl__arena_mark())
        return NULL;
    /* After a failure, whatever the scenario did to the arena goes with
     * the whole of it. */
    if (s->verdict != RL_PASS || s->crash_actor >= 0)
        return NULL;
    long nsteps = s->nsteps;
    int nactors = s->nactors, npstores = s->npstores;
    if (nsteps < 0 || nsteps >= kept.steps_cap)
        nsteps = kept.steps_cap - 1;
    if (nactors < 0 || nactors >= RL__MAX_ACTORS)
        nactors = RL__MAX_ACTORS - 1;
    if (npstores < 0 || npstores >= RL__PRIVATE_STORES)
        npstores = RL__PRIVATE_STORES - 1;
    if (kept.steps)
        memset(kept.steps, 0, sizeof *kept.steps * (size_t)(nsteps + 1));
    memset(s->pstores, 0, sizeof s->pstores[0] * (size_t)(npstores + 1));
    memset(s, 0,
           offsetof(rl__sched, actors) +
               sizeof(rl__actor) * (size_t)(nactors + 1));
    s->steps = kept.steps;
    return s;
}

rl__sched *rl__sched_setup(int mode, long max_steps)
{
    if (rl__arena_ensure() < 0)
        return NULL;
    if (max_steps <= 0)
        max_steps = 10000;
    long cap = mode == RL__MODE_CONTROLLED ? max_steps + 2 : 0;
    rl__sched *s = reuse(cap);
    if (s) {
        if (rl__arena_fresh_above(kept.keep) < 0)
            return NULL;
    } else {
        kept.s = NULL;
        if (rl__arena_fresh() < 0)
            return NULL;
        s = rl_shared_alloc(sizeof *s);
        rl__step *steps = s && cap > 0
                              ? rl_shared_alloc(sizeof(rl__step) * (size_t)cap)
                              : NULL;
        if (!s || (cap > 0 && !steps)) {
            rl__arena_fresh();
            return NULL;
        }
        s->steps = steps;
        kept.arena = rl__arena_base();
        kept.s = s;
        kept.steps = steps;
        kept.steps_cap = cap;
        kept.keep = rl__arena_mark();
    }
    s->mode = mode;
    s->max_steps = max_steps;
    s->nactors = 1;
    s->supervisor = rl__pid();
    s->actors[0].state = RL__ACTOR_RUNNABLE;
    s->actors[0].parent = -1;
    s->actors[0].go = 1;
    snprintf(s->actors[0].name, sizeof s->actors[0].name, "main");
    s->fail_step = -1;
    s->fail_actor = -1;
    s->crash_actor = -1;
    *rl__arena_root(RL__ROOT_SCHED) = s;
    S = s;
    me = -1;
    rl__sched_on = 0;
    return s;
}

void rl__sched_detach(void)
{
    S = NULL;
    me = -1;
    rl__sched_on = 0;
    rl__points_on = 0;
}

rl__sched *rl__sched_get(void)
{
    if (!S && rl__arena_base())
        S = *rl__arena_root(RL__ROOT_SCHED);
    return S;
}

int rl__sched_self(void)
{
    return me;
}

/* Waits until the process has ended (a zombie or gone), however long
 * the kernel takes to get it there: a process past its exit point always
 * ends, and under load that may take a while. */
static void wait_ended(pid_t pid)
{
    int fd = (int)rl__sys(SYS_pidfd_open, pid, 0, 0, 0, 0, 0);
    if (fd < 0)
        return; /* already reaped */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        ;
    close(fd);
}

/* 1 when actor i still waits for fork-server children of its own that are
 * actors which have not finished: its process cannot end before they do. */
static int waits_for_children(int i)
{
    for (int j = 0; j < S->nactors; j++)
        if (S->actors[j].parent == i &&
            S->actors[j].method == RL_START_FORKSERVER &&
            S->actors[j].state != RL__ACTOR_FINISHED)
            return 1;
    return 0;
}

int rl__sched_actor_lingers(pid_t pid)
{
    int id = rl__sched_find_pid(pid);
    return id >= 0 && waits_for_children(id);
}

/* An actor that finished has handed the token on a moment before its
 * process really ends, and only then does the kernel mark the robust locks
 * it held as abandoned. Whoever runs next waits for that moment, so what
 * it sees does not depend on timing. A process that still waits for its
 * fork server's children (actors themselves) is not waited for. */
static void settle(void)
{
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (a->state != RL__ACTOR_FINISHED || a->settled || a->pid <= 0 ||
            i == me)
            continue;
        if (!waits_for_children(i))
            wait_ended(a->pid);
        a->settled = 1;
    }
}

static void wait_turn(void)
{
    uint32_t *go = &S->actors[me].go;
    while (__atomic_load_n(go, __ATOMIC_ACQUIRE) == 0) {
        /* Every second without the token, make sure the supervisor still
         * exists: if it was killed outright (SIGKILL), nobody will hand
         * the token over or kill this process any more. */
        if (rl__futex_wait_for(go, 0, 1) == -ETIMEDOUT && S->supervisor > 0 &&
            kill(S->supervisor, 0) < 0 && errno == ESRCH)
            _exit(128 + SIGKILL);
    }
    settle();
}

#define STACK_SIGNAL (SIGRTMIN + 4)

/* Answers a stack request: unwinds itself into its record. */
static void on_stack_request(int sig)
{
    (void)sig;
    int saved = errno;
    rl__sched *s = S;
    if (s && me >= 0 && rl__sys(SYS_getpid, 0, 0, 0, 0, 0, 0) == me_pid) {
        /* No symbol lookup in a handler that may have interrupted the
         * loader: the names are found afterwards. */
        rl__stack_capture(s->actors[me].stack, sizeof s->actors[me].stack, 0);
        __atomic_add_fetch(&s->stack_replies, 1, __ATOMIC_RELEASE);
        rl__futex_wake(&s->stack_replies, 1 << 30);
    }
    errno = saved;
}

void rl__sched_collect_stacks(void)
{
    if (!rl__sched_get())
        return;
    uint32_t base = __atomic_load_n(&S->stack_replies, __ATOMIC_ACQUIRE);
    uint32_t asked = 0;
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (i == me || a->pid <= 0 || a->state == RL__ACTOR_FINISHED)
            continue;
        a->stack[0] = '\0';
        if (kill(a->pid, STACK_SIGNAL) == 0)
            asked++;
    }
    double deadline = rl__now() + 1.0;
    for (;;) {
        uint32_t now = __atomic_load_n(&S->stack_replies, __ATOMIC_ACQUIRE);
        if (now - base >= asked || rl__expired(deadline))
            break;
        rl__futex_wait(&S->stack_replies, now, deadline);
    }
    if (me >= 0)
        return;
    /* The supervisor (an ancestor of every actor, so allowed to trace
     * them) unwinds those that did not answer: signals blocked, or stuck
     * where a handler cannot run. */
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (a->pid <= 0 || a->state == RL__ACTOR_FINISHED || a->stack[0])
            continue;
        rl__stack_capture_remote(a->pid, a->stack, sizeof a->stack);
    }
}

/* The process that installed the handlers this one has: a fork child
 * inherits them with this value. */
static pid_t handlers_of;

#define PARENT_DEATH_SIGNAL (SIGRTMIN + 5)

/* The kernel sends this when the actor's parent ends (PR_SET_PDEATHSIG).
 * A parent that ended while the supervisor lives made this actor the
 * supervisor's child (it is a subreaper): nothing to do. Otherwise the
 * supervisor is gone, killed outright, and nobody will end the
 * execution: this actor ends its whole process group, itself included,
 * and each of its own children gets the same signal in turn. */
static void on_parent_death(int sig)
{
    (void)sig;
    rl__sched *s = S;
    if (!s || rl__sys(SYS_getppid, 0, 0, 0, 0, 0, 0) == s->supervisor)
        return;
    if (s->actors[0].pid > 0)
        rl__sys(SYS_kill, -s->actors[0].pid, SIGKILL, 0, 0, 0, 0);
    rl__sys(SYS_kill, 0, SIGKILL, 0, 0, 0, 0);
    rl__sys(SYS_kill, rl__sys(SYS_getpid, 0, 0, 0, 0, 0, 0), SIGKILL, 0, 0, 0,
            0);
}

static void enter_as(int id, pid_t forked_from)
{
    me = id;
    me_pid = rl__pid();
    /* A fork of a process that installed them has them already: six
     * system calls fewer for every process an execution starts. */
    if (forked_from == 0 || handlers_of != forked_from) {
        rl__sched_crash_handlers();
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stack_request;
        sa.sa_flags = SA_RESTART;
        sigaction(STACK_SIGNAL, &sa, NULL);
        sa.sa_handler = on_parent_death;
        sigaction(PARENT_DEATH_SIGNAL, &sa, NULL);
        handlers_of = me_pid;
    }
    /* Every actor, the root included, hears of its parent's death: a
     * chain the kernel runs down the tree, so that the actors of a
     * supervisor killed outright end within moments, whether they wait
     * for the token, block in the kernel or run freely (stress). The
     * root's SIGKILL for this becomes the signal that also kills the
     * group. A parent already gone before this point is handled alike.
     * A daemon keeps its SIGTERM: it ends with its parent anyway. */
    if (!S->actors[id].daemon) {
        rl__sys(SYS_prctl, PR_SET_PDEATHSIG, PARENT_DEATH_SIGNAL, 0, 0, 0, 0);
        pid_t pp = (pid_t)rl__sys(SYS_getppid, 0, 0, 0, 0, 0, 0);
        if (pp != S->supervisor && (forked_from == 0 || pp != forked_from) &&
            kill(S->supervisor, 0) < 0 && errno == ESRCH)
            on_parent_death(PARENT_DEATH_SIGNAL);
    }
    noise_rng = (uint64_t)me_pid * 0x9e3779b97f4a7c15ULL ^ S->rng;
    rl__points_on = S->mode == RL__MODE_CONTROLLED || S->noise > 0;
    if (S->mode == RL__MODE_CONTROLLED) {
        rl__sched_on = 1;
        wait_turn();
    }
}

void rl__sched_root_enter(pid_t pid)
{
    if (!S)
        return;
    S->actors[0].pid = pid;
    enter_as(0, 0);
}

int rl__sched_actor_new(const char *name, int method, int *err)
{
    *err = 0;
    if (!rl__sched_get() || me < 0)
        return -1;
    if (S->nactors >= RL__MAX_ACTORS) {
        *err = rl__fail(-EAGAIN, "an execution holds at most %d processes",
                        RL__MAX_ACTORS);
        return -1;
    }
    int id = __atomic_fetch_add(&S->nactors, 1, __ATOMIC_ACQ_REL);
    if (id >= RL__MAX_ACTORS) {
        __atomic_fetch_sub(&S->nactors, 1, __ATOMIC_ACQ_REL);
        *err = rl__fail(-EAGAIN, "an execution holds at most %d processes",
                        RL__MAX_ACTORS);
        return -1;
    }
    rl__actor *a = &S->actors[id];
    memset(a, 0, sizeof *a);
    a->parent = me;
    a->method = method;
    a->state = RL__ACTOR_RUNNABLE;
    a->pending.op = RL_OP_START;
    a->pending.actor = id;
    rl__copy_str(a->pending.label, sizeof a->pending.label, "begin");
    if (name && *name)
        rl__copy_str(a->name, sizeof a->name, name);
    else
        snprintf(a->name, sizeof a->name, "actor-%d", id);
    if (S->strategy == RL__STRAT_PCT)
        a->pct_priority = 1000 + next_rand(&S->rng) % 1000000;
    return id;
}

void rl__sched_actor_pid(int id, pid_t pid)
{
    if (S && id >= 0 && id < S->nactors)
        S->actors[id].pid = pid;
}

void rl__sched_actor_daemon(int id)
{
    if (S && id >= 0 && id < S->nactors)
        S->actors[id].daemon = 1;
}

void rl__sched_actor_failed(int id)
{
    if (S && id >= 0 && id < S->nactors) {
        S->actors[id].state = RL__ACTOR_FINISHED;
        S->actors[id].exit_code = 127;
    }
}

void rl__sched_child_enter(int id, pid_t forked_from)
{
    if (id < 0 || !rl__sched_get())
        return;
    S->actors[id].pid = rl__pid();
    enter_as(id, forked_from);
}

int rl__sched_find_pid(pid_t pid)
{
    if (!rl__sched_get())
        return -1;
    for (int i = 0; i < S->nactors; i++)
        if (S->actors[i].pid == pid)
            return i;
    return -1;
}

int rl__sched_actor_finished(pid_t pid)
{
    int id = rl__sched_find_pid(pid);
    return id >= 0 && S->actors[id].state == RL__ACTOR_FINISHED;
}

static void spin_lock(uint32_t *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void spin_unlock(uint32_t *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static void set_verdict_v(int verdict, const char *fmt, va_list ap)
{
    spin_lock(&S->lock);
    if (S->verdict == RL_PASS) {
        vsnprintf(S->message, sizeof S->message, fmt, ap);
        S->fail_step = S->nsteps - 1;
        S->fail_actor = me;
        __atomic_store_n(&S->verdict, verdict, __ATOMIC_RELEASE);
    }
    spin_unlock(&S->lock);
    __atomic_store_n(&S->done, 1, __ATOMIC_RELEASE);
    rl__futex_wake(&S->done, 1 << 30);
}

void rl__sched_verdict(int verdict, const char *fmt, ...)
{
    if (!rl__sched_get())
        return;
    va_list ap;
    va_start(ap, fmt);
    set_verdict_v(verdict, fmt, ap);
    va_end(ap);
}

_Noreturn void rl__sched_halt(void)
{
    /* The supervisor kills the whole process group once it sees the
     * verdict; until then this actor holds the token and nothing runs. */
    for (;;)
        pause();
}

/* ---- the choice ---- */

static rl__actorset set_of(int state, int timed_only)
{
    rl__actorset m;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (a->state == state && (!timed_only || a->timed))
            rl__set_add(&m, i);
    }
    return m;
}

static int pick(const rl__actorset *en)
{
    switch (S->strategy) {
    case RL__STRAT_RANDOM: {
        int n = rl__set_count(en);
        int k = (int)(next_rand(&S->rng) % (uint64_t)n);
        for (int i = rl__set_lowest(en); i >= 0; i = rl__set_next(en, i + 1))
            if (k-- == 0)
                return i;
        return rl__set_lowest(en);
    }
    case RL__STRAT_PCT: {
        for (int i = 0; i < S->npct_changes; i++)
            if (S->pct_changes[i] == S->nsteps && me >= 0)
                S->actors[me].pct_priority = (uint64_t)(i + 1);
        int best = rl__set_lowest(en);
        for (int i = best; i >= 0; i = rl__set_next(en, i + 1))
            if (S->actors[i].pct_priority > S->actors[best].pct_priority)
                best = i;
        return best;
    }
    default:
        /* Without a forced choice, keep the running actor: new
         * preemptions come only from the explorer's prefixes. */
        if (me >= 0 && rl__set_has(en, me))
            return me;
        return rl__set_lowest(en);
    }
}

/* ---- fairness ----
 *
 * Fair scheduling after CHESS (Musuvathi and Qadeer, "Fair stateless model
 * checking", PLDI 2008). An actor that yields says it cannot progress
 * until another actor runs: from then on every other enabled actor must
 * take a step before it may be chosen again (CHESS's priority relation),
 * and an actor that becomes disabled (blocked, finished) drops out of that
 * requirement. An actor that keeps reading the same value at the same load
 * with no effect of its own since is spinning, and counts as yielding from
 * its second identical read on. Only the fair-enabled actors are choices
 * at a step, so switching away from a yielding actor is no preemption, and
 * a spin-wait never starves the actor it waits for. */

/* The operations that change what another actor can see or do; loads,
 * yields and the waits do not. */
static int is_effect(int op)
{
    switch (op) {
    case RL_OP_YIELD:
    case RL_OP_LOAD:
    case RL_OP_JOIN:
    case RL_OP_WAIT:
    case RL_OP_POLL:
    case RL_OP_ACQUIRE:
        return 0;
    default:
        return 1;
    }
}

/* The calling actor yields: the actors that can run now go first. */
static void fair_yield(void)
{
    rl__actor *a = &S->actors[me];
    a->fair_wait = set_of(RL__ACTOR_RUNNABLE, 0);
    rl__set_del(&a->fair_wait, me);
}

/* The members of en that no other member of en must precede; all of en
 * when that leaves none. Actors outside en drop out of every
 * requirement for good. */
static rl__actorset fair_enabled(const rl__actorset *en)
{
    rl__actorset f = *en;
    for (int i = 0; i < S->nactors; i++) {
        rl__actorset *w = &S->actors[i].fair_wait;
        for (int k = 0; k < RL__MAX_ACTORS / 64; k++)
            w->w[k] &= en->w[k];
        if (!rl__set_empty(w))
            rl__set_del(&f, i);
    }
    return rl__set_empty(&f) ? *en : f;
}

/* 1 when the actor cannot progress by itself: it reads the same value at
 * the same load over and over, nobody did anything since, and what it
 * does next is no effect. */
static int stuck(const rl__actor *a)
{
    return a->stuck && a->stuck_effects == S->effects &&
           !is_effect(a->pending.op);
}

static int all_stuck(const rl__actorset *en)
{
    for (int i = rl__set_lowest(en); i >= 0; i = rl__set_next(en, i + 1))
        if (!stuck(&S->actors[i]))
            return 0;
    return 1;
}

/* After a load by the calling actor: notes the read and decides whether
 * the actor is spinning (then it yields) and whether the spin shows it
 * cannot progress. */
static void spin_note(const rl__step *st, const char *what, long value)
{
    rl__actor *a = &S->actors[me];
    rl__spin_point *sp = NULL;
    int n = 0;
    for (; n < a->nspin; n++) {
        sp = &a->spin[n];
        if (sp->obj == st->obj && sp->line == st->line &&
            strcmp(sp->file, st->file) == 0)
            break;
    }
    if (n == a->nspin) {
        /* A new point: it takes the place of the oldest when full. */
        if (a->nspin < RL__SPIN_POINTS) {
            a->nspin++;
        } else {
            memmove(&a->spin[0], &a->spin[1],
                    sizeof a->spin[0] * (RL__SPIN_POINTS - 1));
            n = RL__SPIN_POINTS - 1;
            if (a->stuck)
                a->stuck--;
        }
        sp = &a->spin[n];
        memset(sp, 0, sizeof *sp);
        sp->obj = st->obj;
        sp->shared = st->shared;
        sp->line = st->line;
        rl__copy_str(sp->file, sizeof sp->file, st->file);
        rl__copy_str(sp->what, sizeof sp->what, what);
        sp->value = value;
        sp->effects = S->effects;
        return;
    }
    if (sp->value != value) {
        /* It saw a change: progress. */
        sp->value = value;
        sp->effects = S->effects;
        sp->repeats = 0;
        if (a->stuck == n + 1)
            a->stuck = 0;
        return;
    }
    if (sp->effects != S->effects) {
        sp->effects = S->effects;
        sp->repeats = 0;
    }
    sp->repeats++;
    fair_yield();
    if (sp->repeats >= RL__SPIN_PROOF - 1) {
        a->stuck = n + 1;
        a->stuck_effects = S->effects;
    }
}

static void append(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* The processes of this execution's process group that hold the inode
 * open (for a pipe: for writing), appended to buf. */
static void describe_holders(char *buf, size_t cap, unsigned long ino,
                             int is_pipe)
{
    pid_t pgid = getpgid(0);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    char want[64];
    snprintf(want, sizeof want, "%s:[%lu]", is_pipe ? "pipe" : "socket", ino);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0 || getpgid(pid) != pgid)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", pid);
        DIR *fds = opendir(path);
        if (!fds)
            continue;
        struct dirent *f;
        while ((f = readdir(fds))) {
            if (f->d_name[0] == '.')
                continue;
            char link[300], target[80];
            snprintf(link, sizeof link, "/proc/%d/fd/%s", pid, f->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strcmp(target, want) != 0)
                continue;
            if (is_pipe) {
                char info[300], text[256];
                snprintf(info, sizeof info, "/proc/%d/fdinfo/%s", pid,
                         f->d_name);
                int fd = open(info, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                    continue;
                ssize_t m = read(fd, text, sizeof text - 1);
                close(fd);
                text[m > 0 ? m : 0] = '\0';
                char *fl = strstr(text, "flags:");
                unsigned long flags = fl ? strtoul(fl + 6, NULL, 8) : 0;
                if ((flags & O_ACCMODE) == O_RDONLY)
                    continue;
            }
            int id = rl__sched_find_pid(pid);
            char comm[32] = "?";
            snprintf(path, sizeof path, "/proc/%d/comm", pid);
            int cfd = open(path, O_RDONLY | O_CLOEXEC);
            if (cfd >= 0) {
                ssize_t m = read(cfd, comm, sizeof comm - 1);
                close(cfd);
                comm[m > 0 ? m : 0] = '\0';
                char *nl = strchr(comm, '\n');
                if (nl)
                    *nl = '\0';
            }
            if (id >= 0)
                append(buf, cap,
                       "%s actor %d (%s, pid %d) holds the write "
                       "end as fd %s",
                       found ? ";" : "", id, S->actors[id].name, pid,
                       f->d_name);
            else
                append(buf, cap,
                       "%s process %d (%s, not an actor) holds "
                       "the write end as fd %s",
                       found ? ";" : "", pid, comm, f->d_name);
            found = 1;
        }
        closedir(fds);
    }
    closedir(d);
}

static _Noreturn void deadlock(void)
{
    rl__stack_capture(S->actors[me].stack, sizeof S->actors[me].stack, 1);
    rl__sched_collect_stacks();
    char msg[RL__MSG_LEN] = "";
    append(msg, sizeof msg, "no actor can run:");
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (a->state != RL__ACTOR_BLOCKED)
            continue;
        append(msg, sizeof msg, " actor %d (%s, pid %d) is blocked in %s", i,
               a->name, a->pid,
               a->reason[0] ? a->reason : rl__op_name(a->pending.op));
        if (a->holder_ino) {
            append(msg, sizeof msg, ":");
            describe_holders(msg, sizeof msg, a->holder_ino, a->holder_is_pipe);
        }
        append(msg, sizeof msg, ".");
    }
    rl__sched_verdict(RL_DEADLOCK, "%s", msg);
    rl__sched_halt();
}

/* The private-copy diagnosis of a livelock, appended to msg. */
static void explain_private(char *msg, size_t cap)
{
    if (!S->cross_found)
        return;
    rl__private_store *ps = &S->cross_store;
    append(msg, cap,
           ". actor %d reads %s at %p (private copy, not shared): "
           "actor %d's store at step %ld went to its own copy",
           S->cross_loader, ps->what, ps->addr, ps->actor, ps->step);
}

/* What the spinning actor keeps reading and what would end it. */
static void explain_spin(char *msg, size_t cap, int i)
{
    rl__actor *a = &S->actors[i];
    rl__spin_point *sp = &a->spin[a->stuck - 1];
    append(msg, cap, " actor %d (%s) spins at %s:%d reading %s (value %ld)", i,
           a->name, sp->file, sp->line, sp->what, sp->value);
    if (sp->shared)
        append(msg, cap, ": only a store to %s by another actor would end it",
               sp->what);
    else
        append(msg, cap,
               ": %s is private to its process, so no other actor's "
               "store can end it",
               sp->what);
}

static _Noreturn void livelock(void)
{
    rl__actor *a = &S->actors[me];
    rl__stack_capture(a->stack, sizeof a->stack, 1);
    char msg[RL__MSG_LEN] = "";
    append(msg, sizeof msg,
           "actor %d (%s) passed %ld schedule points without the "
           "execution ending, under a fair schedule",
           me, a->name, S->max_steps);
    if (a->last_load)
        append(msg, sizeof msg, "; it keeps reading %s at %p (value %ld)",
               a->last_load_what, a->last_load, a->last_load_value);
    explain_private(msg, sizeof msg);
    rl__sched_verdict(RL_LIVELOCK, "%s", msg);
    rl__sched_halt();
}

/* Every enabled actor spins and no actor made an effect since: no fair
 * schedule makes progress, so there is no point running to max_steps. */
static _Noreturn void spin_livelock(void)
{
    if (S->actors[me].state != RL__ACTOR_FINISHED)
        rl__stack_capture(S->actors[me].stack, sizeof S->actors[me].stack, 1);
    char msg[RL__MSG_LEN] = "";
    append(msg, sizeof msg,
           "no actor can progress: nobody stored, sent or released "
           "anything while");
    int first = 1;
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (a->state == RL__ACTOR_RUNNABLE && a->stuck) {
            append(msg, sizeof msg, "%s", first ? "" : ";");
            explain_spin(msg, sizeof msg, i);
            first = 0;
        }
    }
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (a->state == RL__ACTOR_BLOCKED)
            append(msg, sizeof msg, "; actor %d (%s) is blocked in %s", i,
                   a->name,
                   a->reason[0] ? a->reason : rl__op_name(a->pending.op));
    }
    explain_private(msg, sizeof msg);
    rl__sched_verdict(RL_LIVELOCK, "%s", msg);
    rl__sched_halt();
}

static void hand_over(int c)
{
    S->current = c;
    __atomic_store_n(&S->actors[me].go, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&S->actors[c].go, 1, __ATOMIC_RELEASE);
    rl__futex_wake(&S->actors[c].go, 1);
}

/* The token holder decides who runs next. Returns when the caller holds
 * the token again (never, if the caller finished). */
static void schedule(void)
{
    rl__actorset en = set_of(RL__ACTOR_RUNNABLE, 0);
    int timing_out = 0;
    if (!rl__set_empty(&en) && all_stuck(&en)) {
        /* Only time passes: waits with a timeout expire, else nothing
         * will ever change. */
        en = set_of(RL__ACTOR_BLOCKED, 1);
        if (rl__set_empty(&en))
            spin_livelock();
        timing_out = 1;
    }
    if (rl__set_empty(&en)) {
        /* Nothing can run: waits with a timeout expire now. */
        en = set_of(RL__ACTOR_BLOCKED, 1);
        timing_out = 1;
    }
    if (rl__set_empty(&en)) {
        rl__actorset blocked = set_of(RL__ACTOR_BLOCKED, 0);
        if (!rl__set_empty(&blocked))
            deadlock();
        /* Every actor finished: the execution is over. */
        __atomic_store_n(&S->done, 1, __ATOMIC_RELEASE);
        rl__futex_wake(&S->done, 1 << 30);
        return;
    }
    if (S->nsteps >= S->max_steps)
        livelock();
    int unfair = 0;
    if (!timing_out) {
        rl__actorset all = en;
        en = fair_enabled(&en);
        unfair = memcmp(&all, &en, sizeof en) != 0;
    }
    long k = S->nsteps;
    int c;
    if (k < S->nprefix) {
        c = S->prefix[k];
        if (c >= S->nactors || !rl__set_has(&en, c)) {
            char list[160] = "";
            for (int i = 0; i < S->nactors; i++)
                if (rl__set_has(&en, i))
                    append(list, sizeof list, "%s%d", *list ? "," : "", i);
            rl__sched_verdict(
                RL_ERROR,
                "the token does not fit: at step %ld it "
                "chooses actor %d, which %s (enabled: %s)",
                k, c, c >= S->nactors ? "does not exist" : "cannot run there",
                list);
            rl__sched_halt();
        }
    } else {
        c = pick(&en);
    }
    if (me >= 0 && c != me && rl__set_has(&en, me) && !timing_out)
        S->preemptions++;
    rl__actor *a = &S->actors[c];
    for (int i = 0; i < S->nactors; i++)
        rl__set_del(&S->actors[i].fair_wait, c);
    if (!timing_out && is_effect(a->pending.op)) {
        S->effects++;
        a->nspin = 0;
        a->stuck = 0;
    }
    rl__step *st = &S->steps[k];
    *st = a->pending;
    st->actor = c;
    st->pid = a->pid;
    st->enabled = en;
    st->unfair = unfair;
    S->nsteps = k + 1;
    if (timing_out) {
        a->timed_out = 1;
        a->state = RL__ACTOR_RUNNABLE;
        a->blocked_word = NULL;
    }
    if (c == me)
        return;
    int finished = S->actors[me].state == RL__ACTOR_FINISHED;
    hand_over(c);
    if (!finished)
        wait_turn();
}

static int is_actor(void)
{
    /* A raw fork() child of an actor inherits its id but is not it. */
    return rl__sched_on && rl__pid() == me_pid;
}

static void set_pending(int op, const void *obj, const char *label,
                        const char *file, int line)
{
    rl__step *p = &S->actors[me].pending;
    memset(p, 0, sizeof *p);
    p->op = op;
    p->obj = obj;
    p->key = obj;
    p->actor = me;
    if (label)
        rl__copy_str(p->label, sizeof p->label, label);
    if (file) {
        /* The base name, found by hand (see rl__copy_str). */
        const char *base = file;
        for (const char *c = file; *c; c++)
            if (*c == '/')
                base = c + 1;
        rl__copy_str(p->file, sizeof p->file, base);
        p->line = line;
    }
}

static void noise(void)
{
    if (next_rand(&noise_rng) % 1000000 >= (uint64_t)(S->noise * 1e6))
        return;
    if (next_rand(&noise_rng) & 1) {
        sched_yield();
    } else {
        struct timespec ts = {0, (long)(next_rand(&noise_rng) % 50000)};
        nanosleep(&ts, NULL);
    }
}

void rl__point(rl__op op, const void *obj, const char *label)
{
    if (!is_actor()) {
        if (S && S->noise > 0 && me >= 0)
            noise();
        return;
    }
    set_pending(op, obj, label, NULL, 0);
    schedule();
}

void rl__point_key(rl__op op, const void *obj, const void *key, int target,
                   const char *label)
{
    if (!is_actor()) {
        if (S && S->noise > 0 && me >= 0)
            noise();
        return;
    }
    set_pending(op, obj, label, NULL, 0);
    S->actors[me].pending.key = key;
    S->actors[me].pending.target = target;
    schedule();
}

int rl__block(const void *obj, uint32_t *word, uint32_t seen, double deadline,
              const char *reason)
{
    if (!is_actor()) {
        if (rl__expired(deadline))
            return -ETIMEDOUT;
        return rl__futex_wait(word, seen, deadline);
    }
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != seen)
        return 0;
    rl__actor *a = &S->actors[me];
    a->state = RL__ACTOR_BLOCKED;
    a->blocked_word = word;
    a->blocked_seen = seen;
    a->timed = deadline >= 0;
    a->timed_out = 0;
    a->pending.obj = obj;
    rl__copy_str(a->reason, sizeof a->reason, reason);
    if (S->nsteps > 0 && S->steps[S->nsteps - 1].actor == me) {
        int op = S->steps[S->nsteps - 1].op;
        /* Ops that change nothing before they block (a condition's wait
         * releases its lock, a barrier's counts an arrival: not these). */
        if (op == RL_OP_JOIN || op == RL_OP_ACQUIRE || op == RL_OP_GET ||
            op == RL_OP_PUT || op == RL_OP_RECV || op == RL_OP_POLL)
            S->steps[S->nsteps - 1].blocked = 1;
    }
    schedule();
    a->holder_ino = 0;
    if (a->timed_out) {
        a->timed_out = 0;
        /* Chosen because nothing else could run: that depends on every
         * other actor, not on obj alone. */
        S->steps[S->nsteps - 1].global = 1;
        return -ETIMEDOUT;
    }
    return 0;
}

void rl__sched_wait_holder(unsigned long ino, int is_pipe)
{
    if (!is_actor())
        return;
    S->actors[me].holder_ino = ino;
    S->actors[me].holder_is_pipe = is_pipe;
}

void rl__publish(uint32_t *word)
{
    __atomic_add_fetch(word, 1, __ATOMIC_RELEASE);
    if (!is_actor()) {
        rl__futex_wake(word, INT32_MAX);
        return;
    }
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *a = &S->actors[i];
        if (a->state == RL__ACTOR_BLOCKED && a->blocked_word == word) {
            a->state = RL__ACTOR_RUNNABLE;
            a->blocked_word = NULL;
        }
    }
}

int rl__controlled(void)
{
    return is_actor();
}

void rl__sched_actor_exit(int code)
{
    if (!is_actor()) {
        /* Stress: each process records its own end in its own slot. */
        if (S && me >= 0 && S->mode == RL__MODE_STRESS && rl__pid() == me_pid) {
            S->actors[me].exit_code = code;
            for (int i = 0; i < S->nactors; i++)
                if (S->actors[i].parent == me && S->actors[i].daemon)
                    S->actors[i].killed = 1;
            __atomic_store_n(&S->actors[me].state, RL__ACTOR_FINISHED,
                             __ATOMIC_RELEASE);
        }
        return;
    }
    set_pending(RL_OP_EXIT, NULL, NULL, NULL, 0);
    schedule();
    /* Close this actor's descriptors before anyone else runs, so a reader
     * waiting for EOF sees it deterministically. */
    rl__sys(SYS_close_range, 3, ~0U, 0, 0, 0, 0);
    rl__actor *a = &S->actors[me];
    a->exit_code = code;
    /* Holding no lock, nothing of this process matters once its
     * descriptors are closed: the next actor need not wait for its end. */
    a->settled = rl__locks_held == 0;
    a->state = RL__ACTOR_FINISHED;
    /* Its daemon children end with it (the kernel sends them SIGTERM
     * through PR_SET_PDEATHSIG): an expected end, not a crash. */
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *d = &S->actors[i];
        if (d->parent == me && d->daemon && d->state != RL__ACTOR_FINISHED) {
            d->state = RL__ACTOR_FINISHED;
            d->exit_code = -SIGTERM;
            d->killed = 1;
        }
    }
    /* Whatever waited on this process (join, EOF) may go on now. */
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *b = &S->actors[i];
        if (b->state == RL__ACTOR_BLOCKED) {
            b->state = RL__ACTOR_RUNNABLE;
            b->blocked_word = NULL;
        }
    }
    schedule();
    rl__sched_on = 0;
    rl__points_on = 0;
}

void rl__sched_actor_killed(pid_t pid, int sig)
{
    int id = rl__sched_find_pid(pid);
    if (id < 0)
        return;
    rl__actor *a = &S->actors[id];
    a->killed = 1;
    if (!is_actor() || a->state == RL__ACTOR_FINISHED)
        return;
    /* The victim is parked waiting for the token; once the kernel has
     * reaped its resources it counts as finished. */
    a->state = RL__ACTOR_FINISHED;
    a->exit_code = -sig;
    a->settled = 1;
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *b = &S->actors[i];
        if (b->state == RL__ACTOR_BLOCKED) {
            b->state = RL__ACTOR_RUNNABLE;
            b->blocked_word = NULL;
        }
    }
}

static void on_crash(int sig)
{
    rl__sched *s = S;
    if (s && me >= 0) {
        int none = -1;
        if (__atomic_compare_exchange_n(&s->crash_actor, &none, me, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            s->crash_signal = sig;
            s->crash_pid = (pid_t)syscall(SYS_getpid);
            s->crash_step = s->nsteps - 1;
            rl__stack_capture(s->actors[me].stack, sizeof s->actors[me].stack,
                              0);
        }
        __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
        rl__futex_wake(&s->done, 1 << 30);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void rl__sched_crash_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_NODEFER | SA_RESETHAND;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

void rl__sched_exit_observed(pid_t pid)
{
    int id = rl__sched_find_pid(pid);
    if (id >= 0)
        S->actors[id].observed = 1;
}

/* ---- instrumented accesses, rl_yield, checks ---- */

void rl__access(int kind, const volatile void *addr, unsigned long size,
                const char *what, const char *file, int line, long value)
{
    int op = kind == 0 ? RL_OP_LOAD : kind == 1 ? RL_OP_STORE : RL_OP_FETCH_ADD;
    if (!is_actor()) {
        if (S && S->noise > 0 && me >= 0)
            noise();
        return;
    }
    int shared = rl_is_shared((const void *)addr);
    set_pending(op, (const void *)addr, what, file, line);
    rl__step *p = &S->actors[me].pending;
    p->shared = shared;
    p->size = (int)size;
    if (op == RL_OP_STORE || op == RL_OP_FETCH_ADD) {
        p->has_value = 1;
        p->value = value;
    }
    schedule();
    if (shared)
        return;
    long step = S->nsteps - 1;
    if (op == RL_OP_STORE) {
        int n = S->npstores;
        for (int i = 0; i < S->npstores; i++)
            if (S->pstores[i].addr == (const void *)addr &&
                S->pstores[i].actor == me)
                n = i;
        if (n < RL__PRIVATE_STORES) {
            rl__private_store *ps = &S->pstores[n];
            ps->addr = (const void *)addr;
            ps->actor = me;
            ps->step = step;
            rl__copy_str(ps->what, sizeof ps->what, what);
            if (n == S->npstores)
                S->npstores++;
        }
    } else if (op == RL_OP_LOAD && !S->cross_found) {
        for (int i = 0; i < S->npstores; i++) {
            if (S->pstores[i].addr == (const void *)addr &&
                S->pstores[i].actor != me) {
                S->cross_found = 1;
                S->cross_store = S->pstores[i];
                S->cross_loader = me;
                S->cross_step = step;
                break;
            }
        }
    }
}

void rl__access_loaded(const volatile void *addr, const char *what, long value)
{
    if (!is_actor())
        return;
    rl__step *st = &S->steps[S->nsteps - 1];
    st->has_value = 1;
    st->value = value;
    rl__actor *a = &S->actors[me];
    a->last_load = (const void *)addr;
    a->last_load_value = value;
    rl__copy_str(a->last_load_what, sizeof a->last_load_what, what);
    if (st->op == RL_OP_LOAD)
        spin_note(st, what, value);
}

int rl_yield(const char *label)
{
    if (!is_actor()) {
        if (S && S->noise > 0 && me >= 0)
            noise();
        return 0;
    }
    set_pending(RL_OP_YIELD, NULL, label, NULL, 0);
    fair_yield();
    schedule();
    return 0;
}

static void check_failed(const char *file, int line, const char *fmt,
                         va_list ap)
{
    char text[RL__MSG_LEN - 128];
    vsnprintf(text, sizeof text, fmt, ap);
    rl__fail(-EINVAL, "check failed: %s", text);
    if (!rl__sched_get() || me < 0)
        return;
    const char *slash = file ? strrchr(file, '/') : NULL;
    rl__stack_capture(S->actors[me].stack, sizeof S->actors[me].stack, 1);
    rl__sched_verdict(RL_FAIL, "%s (actor %d at %s:%d)", text, me,
                      slash  ? slash + 1
                      : file ? file
                             : "?",
                      line);
    rl__sched_halt();
}

int rl__check(int cond, const char *file, int line, const char *fmt, ...)
{
    if (cond)
        return 1;
    va_list ap;
    va_start(ap, fmt);
    check_failed(file, line, fmt, ap);
    va_end(ap);
    return 0;
}

static void fail_fmt(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_fmt(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_failed(file, line, fmt, ap);
    va_end(ap);
}

int rl__check_eq(long actual, long expected, const char *what, const char *file,
                 int line)
{
    if (rl__sched_get() && me >= 0) {
        spin_lock(&S->lock);
        S->has_checked_value = 1;
        S->checked_value = actual;
        S->checked_expected = expected;
        spin_unlock(&S->lock);
    }
    if (actual == expected)
        return 1;
    fail_fmt(file, line, "%s is %ld, expected %ld", what, actual, expected);
    return 0;
}

int(rl_check)(int cond, const char *fmt, ...)
{
    if (cond)
        return 1;
    va_list ap;
    va_start(ap, fmt);
    check_failed(NULL, 0, fmt, ap);
    va_end(ap);
    return 0;
}

int(rl_check_eq)(long actual, long expected, const char *what)
{
    return rl__check_eq(actual, expected, what, NULL, 0);
}
