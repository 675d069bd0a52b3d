/* sched.c: the in-execution scheduler. One actor runs at a time; at every
 * schedule point the token holder picks the next actor and hands the token
 * over through a futex word in the arena. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "explain.h"
#include "fair.h"
#include "schedblock.h"
#include "schedsig.h"
#include "scheduler.h"
#include "strategy.h"

int rl__sched_on;  /* this process is an actor of a controlled run */
int rl__points_on; /* schedule points do something: control or noise */
int rl__locks_held;
static rl__sched *S; /* the control block, in the arena */
/* Per thread: a process's actor is its first thread; a command's other
 * threads may be actors of their own (intercept/thread.c) and the rest
 * are none (me -1). */
#define RL__TLS __thread __attribute__((tls_model("initial-exec")))
static RL__TLS int me = -1;  /* this thread's actor id */
static RL__TLS pid_t me_pid; /* to tell a raw fork() child from the actor */
static RL__TLS pid_t me_tid; /* the thread that is the actor */
static RL__TLS uint64_t noise_rng;
/* An instrumented plain store, whose value the ABI does not pass: its step
 * gets the value at the actor's next schedule point (-1: none pending). */
static RL__TLS long fill_step = -1;
static RL__TLS const void *fill_addr;
static RL__TLS long fill_size;

rl__sched *rl__sched_setup(int mode, long max_steps)
{
    rl__sched *s = rl__sched_block_make(mode, max_steps);
    if (!s)
        return NULL;
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
    fill_step = -1;
    rl__tsan_watch(0);
}

rl__sched *rl__sched_cur(void)
{
    return S;
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

pid_t rl__sched_self_tid(void)
{
    return me_tid;
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
            i == me || a->thread)
            continue;
        if (!rl__sched_waits_for_children(S, i))
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

static void enter_as(int id, pid_t forked_from)
{
    me = id;
    me_pid = rl__pid();
    me_tid = me_pid;
    rl__sched_signals_enter(S, id, forked_from);
    noise_rng = (uint64_t)me_pid * 0x9e3779b97f4a7c15ULL ^ S->rng;
    rl__points_on = S->mode == RL__MODE_CONTROLLED || S->noise > 0;
    fill_step = -1;
    rl__tsan_watch(rl__points_on);
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

void rl__sched_child_enter(int id, pid_t forked_from)
{
    if (id < 0 || !rl__sched_get())
        return;
    S->actors[id].pid = rl__pid();
    enter_as(id, forked_from);
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

static void fill_store(void);

static void set_verdict_v(int verdict, const char *fmt, va_list ap)
{
    fill_store();
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

void rl__sched_checked_value(long actual, long expected)
{
    if (!rl__sched_get() || me < 0)
        return;
    spin_lock(&S->lock);
    S->has_checked_value = 1;
    S->checked_value = actual;
    S->checked_expected = expected;
    spin_unlock(&S->lock);
}

/* ---- the choice ---- */

static _Noreturn void deadlock(void)
{
    rl__stack_capture(S->actors[me].stack, sizeof S->actors[me].stack, 1);
    rl__sched_collect_stacks();
    char msg[RL__MSG_LEN];
    rl__explain_deadlock(S, msg, sizeof msg);
    rl__sched_verdict(RL_DEADLOCK, "%s", msg);
    rl__sched_halt();
}

static _Noreturn void livelock(void)
{
    rl__actor *a = &S->actors[me];
    rl__stack_capture(a->stack, sizeof a->stack, 1);
    char msg[RL__MSG_LEN];
    rl__explain_livelock(S, me, msg, sizeof msg);
    rl__sched_verdict(RL_LIVELOCK, "%s", msg);
    rl__sched_halt();
}

/* Every enabled actor spins and no actor made an effect since: no fair
 * schedule makes progress, so there is no point running to max_steps. */
static _Noreturn void spin_livelock(void)
{
    if (S->actors[me].state != RL__ACTOR_FINISHED)
        rl__stack_capture(S->actors[me].stack, sizeof S->actors[me].stack, 1);
    char msg[RL__MSG_LEN];
    rl__explain_spin_livelock(S, msg, sizeof msg);
    rl__sched_verdict(RL_LIVELOCK, "%s", msg);
    rl__sched_halt();
}

/* A replay token whose choice c at step k is not among the enabled actors
 * en: an ERROR verdict, never a silent different run. */
static _Noreturn void misfit(long k, int c, const rl__actorset *en)
{
    char msg[RL__MSG_LEN];
    rl__explain_misfit(S, k, c, en, msg, sizeof msg);
    rl__sched_verdict(RL_ERROR, "%s", msg);
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
    rl__actorset en = rl__actors_in(S, RL__ACTOR_RUNNABLE, 0);
    int timing_out = 0;
    if (!rl__set_empty(&en) && rl__fair_all_stuck(S, &en)) {
        /* Only time passes: waits with a timeout expire, else nothing
         * will ever change. */
        en = rl__actors_in(S, RL__ACTOR_BLOCKED, 1);
        if (rl__set_empty(&en))
            spin_livelock();
        timing_out = 1;
    }
    if (rl__set_empty(&en)) {
        /* Nothing can run: waits with a timeout expire now. */
        en = rl__actors_in(S, RL__ACTOR_BLOCKED, 1);
        timing_out = 1;
    }
    if (rl__set_empty(&en)) {
        rl__actorset blocked = rl__actors_in(S, RL__ACTOR_BLOCKED, 0);
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
        en = rl__fair_enabled(S, &en);
        unfair = memcmp(&all, &en, sizeof en) != 0;
    }
    long k = S->nsteps;
    int c;
    if (k < S->nprefix) {
        c = S->prefix[k];
        if (c >= S->nactors || !rl__set_has(&en, c))
            misfit(k, c, &en);
    } else {
        c = rl__strategy_pick(S, me, &en);
    }
    if (me >= 0 && c != me && rl__set_has(&en, me) && !timing_out)
        S->preemptions++;
    rl__actor *a = &S->actors[c];
    for (int i = 0; i < S->nactors; i++)
        rl__set_del(&S->actors[i].fair_wait, c);
    if (a->cas_size) {
        /* Nothing runs between this choice and the compare-exchange: one
         * that will find another value only reads. */
        if (rl__tsan_value(a->cas_addr, a->cas_size) != a->cas_expect)
            a->pending.op = RL_OP_LOAD;
        a->cas_size = 0;
    }
    if (!timing_out && rl__fair_is_effect(a->pending.op)) {
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

/* Gives the pending instrumented store its value: the actor has held the
 * token since, so the memory holds what it stored. */
static void fill_store(void)
{
    if (fill_step < 0 || !is_actor())
        return;
    if (fill_step < S->nsteps && S->steps[fill_step].actor == me &&
        S->steps[fill_step].obj == fill_addr) {
        rl__step *st = &S->steps[fill_step];
        st->has_value = fill_size <= 8;
        st->value = rl__tsan_value(fill_addr, fill_size);
    }
    fill_step = -1;
}

static void set_pending(int op, const void *obj, const char *label,
                        const char *file, int line)
{
    fill_store();
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
    if (rl__splitmix64(&noise_rng) % 1000000 >= (uint64_t)(S->noise * 1e6))
        return;
    if (rl__splitmix64(&noise_rng) & 1) {
        sched_yield();
    } else {
        struct timespec ts = {0, (long)(rl__splitmix64(&noise_rng) % 50000)};
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
    fill_store();
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

/* Whatever waited on an actor that ended (join, EOF) looks again. */
static void wake_all_blocked(void)
{
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *b = &S->actors[i];
        if (b->state == RL__ACTOR_BLOCKED) {
            b->state = RL__ACTOR_RUNNABLE;
            b->blocked_word = NULL;
        }
    }
}

/* The actors of process pid but actor skip end with it: its threads (an
 * expected end, as the kernel ends them), or the process's own actor
 * when one of its threads ended it, with status code. */
static void end_process_actors(pid_t pid, int skip, int code)
{
    for (int i = 0; i < S->nactors; i++) {
        rl__actor *t = &S->actors[i];
        if (i == skip || t->pid != pid || t->state == RL__ACTOR_FINISHED)
            continue;
        t->exit_code = t->thread ? 0 : code;
        t->killed = t->thread;
        t->settled = t->thread || rl__locks_held == 0;
        t->state = RL__ACTOR_FINISHED;
    }
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
    end_process_actors(me_pid, me, code);
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
    wake_all_blocked();
    schedule();
    rl__sched_on = 0;
    rl__points_on = 0;
    rl__tsan_watch(0);
}

void rl__sched_thread_enter(int id)
{
    if (id < 0 || !rl__sched_get())
        return;
    me = id;
    me_pid = rl__pid();
    me_tid = (pid_t)rl__sys(SYS_gettid, 0, 0, 0, 0, 0, 0);
    S->actors[id].tid = me_tid;
    noise_rng = (uint64_t)me_tid * 0x9e3779b97f4a7c15ULL ^ S->rng;
    fill_step = -1;
    if (S->mode == RL__MODE_CONTROLLED)
        wait_turn();
}

void rl__sched_thread_exit(void)
{
    if (is_actor()) {
        set_pending(RL_OP_EXIT, NULL, NULL, NULL, 0);
        schedule();
        rl__actor *a = &S->actors[me];
        a->exit_code = 0;
        a->settled = 1;
        a->state = RL__ACTOR_FINISHED;
        wake_all_blocked();
        schedule();
    }
    me = -1;
    me_pid = 0;
    me_tid = 0;
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
    end_process_actors(pid, id, -sig);
    wake_all_blocked();
}

/* ---- instrumented accesses, rl_yield ---- */

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
    rl__explain_note_private(S, me, op, (const void *)addr, what);
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
        rl__fair_spin_note(S, me, st, what, value);
}

int rl__tsan_step(int op, const void *addr, long size, const char *label,
                  uintptr_t pc, uint32_t pc_obj, int has_value, long value,
                  int cas_size, long cas_expect)
{
    if (!is_actor()) {
        if (S && S->noise > 0 && me >= 0)
            noise();
        return 0;
    }
    set_pending(op, addr, label, NULL, 0);
    rl__actor *a = &S->actors[me];
    rl__step *p = &a->pending;
    p->shared = 1;
    p->size = size > INT32_MAX ? INT32_MAX : (int)size;
    p->pc = pc;
    p->pc_obj = pc_obj;
    p->has_value = has_value;
    p->value = value;
    a->cas_addr = addr;
    a->cas_size = cas_size;
    a->cas_expect = cas_expect;
    schedule();
    if (op == RL_OP_STORE && !has_value) {
        fill_step = S->nsteps - 1;
        fill_addr = addr;
        fill_size = size;
    }
    return 1;
}

int rl_yield(const char *label)
{
    if (!is_actor()) {
        if (S && S->noise > 0 && me >= 0)
            noise();
        return 0;
    }
    set_pending(RL_OP_YIELD, NULL, label, NULL, 0);
    rl__fair_yield(S, me);
    schedule();
    return 0;
}
