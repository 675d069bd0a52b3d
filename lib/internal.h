/* internal.h: declarations shared between lib/ modules; not installed. */
#ifndef RL_INTERNAL_H
#define RL_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <unistd.h>

#include "mix.h"
#include "racelab.h"

/* ---- errors (error.c) ---- */

/* Records the formatted message as the calling thread's last error and
 * returns err unchanged, so callers write `return rl__fail(-EINVAL, ...)`. */
int rl__fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- system calls ---- */

/* A system call made in line, without the C library's syscall(): that
 * function's code lies on a page of libc's text of its own, which every
 * new process of an execution would fault in. Returns what the kernel
 * returns: -errno on failure. */
static inline long rl__sys(long n, long a, long b, long c, long d, long e,
                           long f)
{
#if defined(__x86_64__)
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
                       "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
#else
    long r = syscall(n, a, b, c, d, e, f);
    return r < 0 ? -errno : r;
#endif
}

/* ---- the seeded PRNG: rl__splitmix64, rl__mix64 (mix.h) ---- */

/* ---- time and deadlines (util.c) ---- */

/* Monotonic clock in seconds. */
double rl__now(void);

/* Turns a relative timeout into an absolute monotonic deadline: negative
 * timeouts give -1 (forever), others now + timeout. */
double rl__deadline(double timeout);

/* Milliseconds left until the deadline, rounded up, for poll(): -1 for
 * forever, 0 once it passed. */
int rl__remaining_ms(double deadline);

/* True once a finite deadline has passed. */
int rl__expired(double deadline);

/* ---- small helpers on hot paths (util.c) ---- */

/* This process's pid without a system call each time: cached, and
 * forgotten in the child of every fork() (a pthread_atfork handler).
 * Not for signal handlers. */
pid_t rl__pid(void);

/* Copies src (NULL as "") into dst of cap bytes, truncated and always
 * terminated: snprintf(dst, cap, "%s", src) without the formatter, which
 * is a lot of code for a new process to fault in. */
void rl__copy_str(char *dst, size_t cap, const char *src);

/* Appends src (a decimal v) to the string of dst that ends at offset at,
 * truncating to cap; returns the new end. */
size_t rl__append(char *dst, size_t cap, size_t at, const char *src);
size_t rl__append_long(char *dst, size_t cap, size_t at, long v);

/* fflush(NULL), before a fork or an exit, without touching the C
 * library's locks when no stream has output waiting. */
void rl__flush_stdio(void);

/* Registers what a forked child of this process needs (the fork handlers
 * of the process module, the pid cache) once, here, so that the harness's
 * execution roots inherit it instead of each doing it again. */
void rl__process_prepare(void);

/* ---- internal process-shared mutexes (util.c) ---- */

/* Initialises a robust, process-shared mutex. Returns 0 or -errno. */
int rl__mutex_init(pthread_mutex_t *m, int recursive);

/* Locks an internal state mutex. Internal mutexes are held only for a few
 * instructions, so a holder that died leaves consistent state: the mutex
 * is marked consistent and the call succeeds. */
void rl__mutex_lock(pthread_mutex_t *m);
void rl__mutex_unlock(pthread_mutex_t *m);

/* ---- futex words (util.c) ---- */

/* Waits while *word == seen, until the absolute monotonic deadline (-1:
 * forever). Returns 0 on wake (or when the value already differs) and
 * -ETIMEDOUT. Retries EINTR internally. */
int rl__futex_wait(uint32_t *word, uint32_t seen, double deadline);

/* The same for at most `seconds` from now, without reading the clock;
 * EINTR ends the wait early (returns 0): callers loop. */
int rl__futex_wait_for(uint32_t *word, uint32_t seen, long seconds);

/* Wakes up to n waiters (INT32_MAX for all). */
void rl__futex_wake(uint32_t *word, int n);

/* ---- the arena (arena.c) ---- */

/* Makes the arena of this process if there is none yet. Returns 0 or
 * -errno. Every object allocator calls it through rl_shared_alloc. */
int rl__arena_ensure(void);

/* Maps an existing arena memfd at the given address (a spawned or
 * forkserver child). Returns 0 or -errno. */
int rl__arena_attach(int fd, void *addr, size_t size);

/* Switches this process to the arena of executions (made on first use)
 * and back to its own arena. The harness runs every execution in the
 * former, so a program's own shared objects are never touched. */
int rl__arena_use_exec(void);
void rl__arena_use_own(void);

/* In a forked worker of the harness: drops the inherited arena of
 * executions, so that the worker makes its own. */
void rl__arena_forget_exec(void);

/* Empties the arena for a new execution, keeping its address. Only the
 * harness calls it, once every process of the previous execution is gone.
 * Returns 0 or -errno. */
int rl__arena_fresh(void);

/* The same, except for the blocks below offset keep (a value of
 * rl__arena_mark taken when they were the only blocks), which the caller
 * has made as new itself; the roots are all cleared. What lay above is
 * zeroed in place when it was little, so that its pages stay in memory
 * from one execution to the next. Returns 0 or -errno. */
int rl__arena_fresh_above(size_t keep);

/* The offset where the next new block would start. */
size_t rl__arena_mark(void);

/* The arena's memfd (-1 when there is none), base address and size. */
int rl__arena_fd(void);
void *rl__arena_base(void);
size_t rl__arena_size(void);

/* True when p lies in the arena. */
int rl__in_arena(const void *p);

/* Root pointers kept in the arena header, one per module that needs to
 * find its objects from any process (e.g. the connection registry; the
 * table of libracelab-intercept.so, intercept/). */
enum {
    RL__ROOT_CONN,
    RL__ROOT_PROC,
    RL__ROOT_SCHED,
    RL__ROOT_INTERCEPT,
    RL__ROOT_COUNT
};
void **rl__arena_root(int which);

/* The arena-wide lock guarding the roots and registries. */
pthread_mutex_t *rl__arena_lock(void);

/* ---- the scheduling hook (sched.c) ---- */

/* Operations that are schedule points. */
typedef enum {
    RL_OP_YIELD,
    RL_OP_START,
    RL_OP_JOIN,
    RL_OP_EXIT,
    RL_OP_ACQUIRE,
    RL_OP_RELEASE,
    RL_OP_SET,
    RL_OP_CLEAR,
    RL_OP_WAIT,
    RL_OP_NOTIFY,
    RL_OP_SEND,
    RL_OP_RECV,
    RL_OP_POLL,
    RL_OP_CLOSE,
    RL_OP_PUT,
    RL_OP_GET,
    RL_OP_TASK_DONE,
    RL_OP_SUBMIT,
    RL_OP_LOAD,
    RL_OP_STORE,
    RL_OP_FETCH_ADD,
    RL_OP_COUNT
} rl__op;

/* The name of an operation, for traces (explain.c). */
const char *rl__op_name(rl__op op);

/* A schedule point: called by every primitive before it publishes
 * something or may block. In free-running mode it costs one branch. */
void rl__point(rl__op op, const void *obj, const char *label);

/* A schedule point whose step names the object the op touches (key, see
 * rl__step) when obj alone does not, and for a join the joined actor
 * (target: 1 + its id, 0 unknown). */
void rl__point_key(rl__op op, const void *obj, const void *key, int target,
                   const char *label);

/* The target of the acquire and release of a lock that one actor holds at
 * a time (rl_lock, rl_rlock; not a semaphore): no other actor's acquire
 * comes between them. */
#define RL__TARGET_EXCLUSIVE (-2)

/* The target of a barrier's wait: every arrival happens before every
 * departure of its round (harness/races.c), unlike an event's wait, which
 * only receives. */
#define RL__TARGET_BARRIER (-3)

/* True while a scheduler controls this execution (then only one actor
 * runs at a time and nothing may block in the kernel). Primitives that wait
 * on kernel objects (pipes, child exit) check without blocking in this mode
 * and wait through rl__block on a word that the other side publishes. */
int rl__controlled(void);

/* Blocks the caller on an object until *word differs from seen or the
 * deadline passes. Every primitive that would block waits through this
 * one call, so a scheduler can take it over. reason says what the caller
 * waits for (kept for deadlock reports). Returns 0 or -ETIMEDOUT. */
int rl__block(const void *obj, uint32_t *word, uint32_t seen, double deadline,
              const char *reason);

/* Publishes a change of an object: bumps *word and wakes every process
 * blocked on it through rl__block. */
void rl__publish(uint32_t *word);

/* True when a timed wait of a primitive has run out. Under the scheduler
 * only the scheduler decides (told: rl__block returned -ETIMEDOUT), so a
 * replay gives the same verdict on any machine; free-running, the
 * deadline decides. */
static inline int rl__wait_over(double deadline, int told)
{
    if (rl__controlled())
        return told;
    return told || rl__expired(deadline);
}

/* How many rl_lock and rl_rlock objects the calling process holds (lock.c
 * counts them). An actor that ends holding none has nothing the kernel
 * still has to hand over, so nobody needs to wait for its last instant. */
extern int rl__locks_held;

/* ---- connections (conn.c) ---- */

/* Fills fds with the descriptors this process holds open for connection
 * ends, so spawn and forkserver can hand them to a child under the same
 * numbers. Returns how many there are (possibly more than cap). */
int rl__conn_held_fds(int *fds, int cap);

/* In a spawned or forkserver child: the connection ends whose descriptors
 * are in fds are open in this process, all others closed. */
void rl__conn_adopt(const int *fds, int n);

/* ---- stack traces (stack.c) ---- */

/* Writes the calling thread's stack into buf, one frame per line
 * ("name+0xoff\tobject\t0xoffset"). Without names, no symbol lookup is
 * done (it may take the loader's lock): use that from a crash handler, and
 * rl__stack_format finds the names later. Returns the number of frames. */
int rl__stack_capture(char *buf, size_t cap, int names);

/* The stack of another process (same format), through ptrace: for a
 * process that cannot answer a request itself. The caller must be allowed
 * to trace pid (an ancestor, or root). Returns the number of frames, or a
 * negative errno. */
int rl__stack_capture_remote(pid_t pid, char *buf, size_t cap);

/* Turns a captured stack into readable lines "#N name+0xoff (file:line)",
 * file:line from addr2line when the object has debug information. With
 * fold, racelab's own frames are left out. Returns the frames shown. Not
 * async-signal-safe: runs in the harness, after the fact. */
int rl__stack_format(const char *raw, char *out, size_t cap, int fold);

/* ---- processes (boot.c, process.c) ---- */

/* The one way a child process of racelab ends: flushes stdio, dumps gcov
 * counters in coverage builds, and calls _exit(code). */
_Noreturn void rl__exit(int code);

/* Inside an execution, makes a fork that failed with EAGAIN (what names
 * the process) an ERROR verdict naming the process limit: the scenario
 * could not run, it did not fail. Outside, does nothing. */
void rl__fork_limit_verdict(const char *what);

#endif /* RL_INTERNAL_H */
