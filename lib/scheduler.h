/* scheduler.h: the in-execution scheduler's control block, shared by lib/ and
 * the harness; not installed. */
#ifndef RL_SCHED_H
#define RL_SCHED_H

#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

#define RL__MAX_ACTORS 256
#define RL__REASON_LEN 200
#define RL__MSG_LEN 1024
#define RL__PRIVATE_STORES 64
#define RL__MAX_VALUES 64
/* The loads an actor remembers for spin detection, and the identical reads
 * of one of them, with no effect by any actor between them, that show it
 * cannot progress (see fair.c). */
#define RL__SPIN_POINTS 6
#define RL__SPIN_PROOF 4

/* A set of actor ids: a bitset, so an execution can hold RL__MAX_ACTORS
 * actors (actor ids fit the one byte a decision takes). */
typedef struct {
    uint64_t w[RL__MAX_ACTORS / 64];
} rl__actorset;

static inline void rl__set_add(rl__actorset *s, int i)
{
    s->w[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline void rl__set_del(rl__actorset *s, int i)
{
    s->w[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

static inline int rl__set_has(const rl__actorset *s, int i)
{
    return i >= 0 && i < RL__MAX_ACTORS && (s->w[i >> 6] >> (i & 63) & 1);
}

static inline int rl__set_count(const rl__actorset *s)
{
    int n = 0;
    for (int k = 0; k < RL__MAX_ACTORS / 64; k++)
        n += __builtin_popcountll(s->w[k]);
    return n;
}

/* The lowest member at or above from, -1 when there is none. */
static inline int rl__set_next(const rl__actorset *s, int from)
{
    for (int k = from >> 6; k < RL__MAX_ACTORS / 64 && from >= 0; k++) {
        uint64_t m = s->w[k];
        if (k == from >> 6)
            m &= ~(uint64_t)0 << (from & 63);
        if (m)
            return k * 64 + __builtin_ctzll(m);
    }
    return -1;
}

static inline int rl__set_lowest(const rl__actorset *s)
{
    return rl__set_next(s, 0);
}

static inline int rl__set_empty(const rl__actorset *s)
{
    return rl__set_lowest(s) < 0;
}

/* a minus b */
static inline rl__actorset rl__set_minus(rl__actorset a, const rl__actorset *b)
{
    for (int k = 0; k < RL__MAX_ACTORS / 64; k++)
        a.w[k] &= ~b->w[k];
    return a;
}

typedef enum {
    RL__MODE_FREE = 0,   /* no harness: primitives run for real */
    RL__MODE_CONTROLLED, /* one actor at a time, decisions by strategy */
    RL__MODE_STRESS      /* real parallel run under the supervisor */
} rl__mode;

typedef enum {
    RL__STRAT_DFS = 0, /* follow the prefix, then run without preempting */
    RL__STRAT_RANDOM,  /* uniformly random enabled actor */
    RL__STRAT_PCT      /* priorities with d-1 change points */
} rl__strategy;

#define RL__VERDICT_COUNT (RL_RACE + 1)

typedef enum {
    RL__ACTOR_UNUSED = 0,
    RL__ACTOR_RUNNABLE,
    RL__ACTOR_BLOCKED,
    RL__ACTOR_FINISHED
} rl__actor_state;

typedef struct {
    int actor;
    pid_t pid;
    int op;
    const void *obj;
    int shared; /* for loads and stores: 1 shared, 0 private */
    int size;   /* for loads and stores: the bytes accessed at obj */
    int has_value;
    long value;
    rl__actorset enabled; /* the actors that could have been chosen */
    char label[48];
    char file[40];
    int line;
    /* For an access of instrumented code (tsan.c): where it was made, as
     * the offset of the return address in its object and a hash of the
     * object's name (0: the main program). file and line stay empty until
     * rl__tsan_symbolize fills them for a reported trace; pc is 0 for
     * every other step. */
    uintptr_t pc;
    uint32_t pc_obj;
    /* For partial-order reduction (harness/dpor.c). key: the object whose
     * state the op reads or changes, the same for every handle of it (both
     * ends of a pipe, a condition and its lock); obj unless the point says
     * otherwise. target: for a join, 1 + the joined actor's id (0: not
     * known). global: the step did more than its op says (its wait timed
     * out, it signalled a process, it read an object without a schedule
     * point), so it counts as touching everything. */
    const void *key;
    int target; /* or RL__TARGET_EXCLUSIVE (internal.h) */
    int global;
    /* the step was an attempt that found its object not ready and
     * blocked, with no effect of its own (join, acquire, get, put, recv,
     * poll): the step that wakes it later does not race with it */
    int blocked;
    /* fairness left out an actor that could have run: the enabled set
     * depends on the history, which partial-order reduction does not
     * model (explore then searches without it) */
    int unfair;
} rl__step;

/* A load an actor made since its own last effect: where, what it read,
 * and how often it read the same value again. */
typedef struct {
    const void *obj;
    long value;
    long effects; /* the execution's effect count at the first such read */
    int repeats;  /* identical reads since, with no effect by anyone */
    int shared;
    int line;
    uintptr_t pc; /* an instrumented load's place (see rl__step) */
    char file[40];
    char what[48];
} rl__spin_point;

typedef struct {
    rl__step pending; /* what it does when it is chosen next */
    pid_t pid;
    /* A thread of process pid, not the process itself (threads of a
     * command run under the scheduler, intercept/thread.c): tid is its
     * thread id, 0 until it runs. */
    int thread;
    pid_t tid;
    int parent;
    int method;
    int state;
    int exit_code; /* status, or -signum */
    int killed;    /* ended by rl_process_kill/terminate: expected */
    int observed;  /* its exit code was read by its parent */
    int daemon;    /* ends (SIGTERM) when its parent actor ends */
    int settled;   /* finished, and the kernel has ended the process */
    uint32_t go;   /* the token: 1 while this actor may run */
    /* while blocked */
    const uint32_t *blocked_word;
    uint32_t blocked_seen;
    int timed;                /* the wait has a deadline: may time out */
    int timed_out;            /* chosen to time out */
    unsigned long holder_ino; /* for a pipe wait: the inode of the write side */
    int holder_is_pipe;
    char reason[RL__REASON_LEN];
    char name[32];
    /* livelock diagnosis: the last load this actor made */
    const void *last_load;
    char last_load_what[48];
    long last_load_value;
    uint64_t pct_priority;
    /* its stack when it failed, crashed, or was asked (deadlock, timeout):
     * raw from rl__stack_capture, formatted by the harness afterwards */
    char stack[2048];
    /* fairness (fair.c): the actors that must take a step before this
     * one may be chosen again, since it yielded or was seen spinning */
    rl__actorset fair_wait;
    rl__spin_point spin[RL__SPIN_POINTS]; /* its loads since its effect */
    int nspin;
    /* a pending compare-exchange of instrumented code (tsan.c): its
     * address, size (0: none) and expected value. The scheduler reads the
     * memory when it chooses the actor: one that will fail is a load */
    const void *cas_addr;
    int cas_size;
    long cas_expect;
    int stuck; /* 1 + the spin point that shows it cannot progress */
    long stuck_effects; /* ... as long as the effect count stays this */
} rl__actor;

typedef struct {
    const void *addr;
    int actor;
    long step;
    char what[48];
} rl__private_store;

typedef struct {
    long value;
    long count;
} rl__value_count;

typedef struct {
    int mode;
    int strategy;
    uint64_t rng; /* random and pct state */
    int pct_depth;
    long pct_changes[8]; /* steps at which the running actor is demoted */
    int npct_changes;
    uint64_t pct_next_low; /* the next low priority handed out */
    int nactors;
    int current;
    long nsteps;
    long max_steps;
    long nprefix;
    const uint8_t *prefix; /* forced choices, in the arena */
    rl__step *steps;       /* max_steps + 2 entries or more, in the arena */
    long preemptions;
    long effects; /* steps that stored, sent, released, ... (fairness) */
    /* the verdict, first one set wins */
    int verdict;
    char message[RL__MSG_LEN];
    long fail_step;
    int fail_actor;
    uint32_t done; /* futex word the supervisor can wait on */
    uint32_t lock; /* spin lock for verdict and values */
    int npstores;
    /* a load of a private address another actor stored to */
    int cross_found;
    rl__private_store cross_store;
    int cross_loader;
    long cross_step;
    /* values recorded by rl_check_eq, for stress histograms */
    int has_checked_value;
    long checked_value;
    long checked_expected;
    double noise;           /* stress: probability of noise at a point */
    uint32_t stack_replies; /* actors that answered a stack request */
    pid_t supervisor;       /* actors end themselves once it is gone */
    /* a crash seen by the signal handler of an actor */
    int crash_signal;
    int crash_actor;
    pid_t crash_pid;
    long crash_step;
    /* replay --stop-at (strategy.c and the harness): 1 + the step before
     * which every actor stops (0: none); the whole prefix, while nprefix
     * is cut short at that step so that the strategy sees it; the token
     * holder's word that it stopped there, and the supervisor's word to
     * go on (futex words) */
    long stop_before;
    long stop_nprefix;
    uint32_t stop_reached;
    uint32_t stop_go;
    /* The tables last: what every execution touches stays on the first
     * pages of the block. */
    rl__actor actors[RL__MAX_ACTORS];
    rl__private_store pstores[RL__PRIVATE_STORES];
} rl__sched;

/* The actors of s in the given state (RL__ACTOR_*); with timed_only, only
 * those whose wait has a deadline. */
static inline rl__actorset rl__actors_in(const rl__sched *s, int state,
                                         int timed_only)
{
    rl__actorset m = {{0}};
    for (int i = 0; i < s->nactors; i++) {
        const rl__actor *a = &s->actors[i];
        if (a->state == state && (!timed_only || a->timed))
            rl__set_add(&m, i);
    }
    return m;
}

/* The environment variable through which the root actor of a command
 * (harness/command.c) hands the arena to libracelab-intercept.so
 * (intercept/): "FD:ADDRESS:SIZE:OFFSET" in hex but FD, the memfd kept
 * across exec, the address every process maps it at, its size and the
 * offset of the control block in it. */
#define RL__INTERCEPT_ENV "RACELAB_INTERCEPT"

/* Called by the harness in the supervisor before forking the root actor:
 * makes a fresh control block in the arena. Returns it, or NULL. */
rl__sched *rl__sched_setup(int mode, long max_steps);

/* Forgets the control block in the supervisor once an execution is over. */
void rl__sched_detach(void);

/* The control block of this execution, or NULL outside the harness. */
rl__sched *rl__sched_get(void);

/* The control block this process uses now, NULL if none: unlike
 * rl__sched_get, never looks it up in the arena. */
rl__sched *rl__sched_cur(void);

/* 1 when actor i of S still waits for fork-server children of its own
 * that are actors which have not finished: its process cannot end before
 * they do (actors.c). */
int rl__sched_waits_for_children(const rl__sched *S, int i);

/* In the root actor, right after the fork: becomes actor 0 and waits for
 * the token. */
void rl__sched_root_enter(pid_t pid);

/* Process creation, called by the process module in the parent before the
 * child exists: returns the new actor id, or -1 when no scheduler runs or
 * the actor table is full (-1 with *err set). */
int rl__sched_actor_new(const char *name, int method, int *err);
void rl__sched_actor_pid(int id, pid_t pid);
void rl__sched_actor_daemon(int id);
void rl__sched_actor_failed(int id);

/* In a child, before its entry function runs: becomes actor id and waits
 * for the token. id -1 means no scheduler. forked_from: the pid of the
 * parent when the child is its fork (it inherits the parent's signal
 * handlers), else 0. */
void rl__sched_child_enter(int id, pid_t forked_from);

/* At the end of an actor (rl__exit): records the exit, closes the actor's
 * descriptors, hands the token on. Does not return the token. Every
 * other actor of the process (its threads) ends with it. */
void rl__sched_actor_exit(int code);

/* Threads as actors. rl__sched_actor_thread marks actor id, made by
 * rl__sched_actor_new in the creating thread, as a thread of the calling
 * process. In the new thread, rl__sched_thread_enter makes it actor id
 * and waits for the token; rl__sched_thread_exit is its exit step (the
 * process goes on), after which the thread is no actor. */
void rl__sched_actor_thread(int id);
void rl__sched_thread_enter(int id);
void rl__sched_thread_exit(void);

/* The actor of the process that actor id belongs to: id itself unless
 * it is a thread; -1 when unknown. */
int rl__sched_process_of(int id);

/* The id of the calling actor, -1 outside an execution. */
int rl__sched_self(void);

/* The actor of the process with this pid (never one of its threads), -1
 * if none. */
int rl__sched_find_pid(pid_t pid);

/* 1 when the actor finished in the interleaving but its process cannot end
 * yet: it waits for fork-server children that are unfinished actors. */
int rl__sched_actor_lingers(pid_t pid);

/* A process of the execution was killed by another (expected death). */
void rl__sched_actor_killed(pid_t pid, int sig);

/* The state of an actor for the process module's join in controlled mode:
 * 1 finished, 0 not. */
int rl__sched_actor_finished(pid_t pid);

/* Sets the verdict if none is set yet and wakes the supervisor. */
void rl__sched_verdict(int verdict, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the value a check compared (rl_check_eq) for the stress
 * histograms, when the caller is an actor of an execution. */
void rl__sched_checked_value(long actual, long expected);

/* Stops the calling actor for good after a verdict: the supervisor ends
 * the execution. */
_Noreturn void rl__sched_halt(void);

/* Installs the crash handlers of an actor (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, SIGABRT): they record the crash and let the signal kill it. */
void rl__sched_crash_handlers(void);

/* An actor's exit code was looked at by its parent: a non-zero exit is
 * then expected, not a crash. */
void rl__sched_exit_observed(pid_t pid);

/* Asks every live actor but the caller to write its stack into its
 * record (a signal each one answers from its handler) and waits up to a
 * second for the answers. Callable by an actor or by the supervisor. */
void rl__sched_collect_stacks(void);

/* Records the wait of a pipe reader for the deadlock report: the inode of
 * the object whose holders keep it from seeing EOF. */
void rl__sched_wait_holder(unsigned long ino, int is_pipe);

/* Marks the calling actor's current step as touching every object: what
 * it does next (a signal to another process, a look at an object without
 * a schedule point) is not what its op says. No-op outside a controlled
 * execution. */
static inline void rl__sched_step_global(void)
{
    rl__sched *s = rl__controlled() ? rl__sched_get() : NULL;
    if (s && s->nsteps > 0)
        s->steps[s->nsteps - 1].global = 1;
}

/* ---- compiler instrumentation (tsan.c) ---- */

/* Makes the pending step of the calling actor an access of instrumented
 * code to shared memory and runs it as a schedule point: op RL_OP_LOAD,
 * RL_OP_STORE or RL_OP_FETCH_ADD (every atomic read-modify-write), size
 * bytes at addr, pc and pc_obj as in rl__step, the value when known
 * before the access. A store without a value gets the value found at addr
 * at the actor's next schedule point. cas_size > 0 makes it a
 * compare-exchange expecting cas_expect. Returns 1 when the caller is an
 * actor of a controlled execution (it then holds the token and reports
 * what it read with rl__access_loaded), 0 otherwise (noise in stress). */
int rl__tsan_step(int op, const void *addr, long size, const char *label,
                  uintptr_t pc, uint32_t pc_obj, int has_value, long value,
                  int cas_size, long cas_expect);

/* The value of the size bytes at addr (1, 2, 4 or 8; narrower ones sign
 * extended); 0 for other sizes. */
long rl__tsan_value(const void *addr, long size);

/* Switches the hooks of instrumented code on (the arena's range is
 * watched) or off (nothing is). */
void rl__tsan_watch(int on);

/* Fills file and line of the steps made by instrumented code from their
 * pc, with addr2line over the objects of the calling process (the same
 * program as the actors'). For reported traces only: it runs a program. */
void rl__tsan_symbolize(rl__step *steps, long n);

/* 1 while a scheduler controls this process; the fast check. */
extern int rl__sched_on;

#endif /* RL_SCHED_H */
