/* racelab.h: the public API of racelab, multi-process primitives with a
 * scheduling hook, for finding and reproducing races between processes. */
#ifndef RACELAB_H
#define RACELAB_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RL_VERSION "0.1.0"

/* Marks what libracelab.so exports: the library is built with
 * -fvisibility=hidden, so the declarations of this header are all that a
 * program linking it sees. */
#define RL_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* Every call returns 0 (or a length) on success and a negative errno value
 * on failure. RL_EOF is the one extra code: a connection whose every write
 * end is closed and that holds no more data. It is distinct from every
 * -errno value. */
#define RL_EOF (-10000)

/* Returns a static, human-readable name for a return code of this API
 * (a negative errno value or RL_EOF). Never returns NULL. */
RL_API const char *rl_strerror(int err);

/* Returns the detailed message of the calling thread's last failed racelab
 * call, or "" when there was none. The text stays valid until the next
 * failing racelab call from the same thread. */
RL_API const char *rl_last_error(void);

/* ------------------------------------------------------------------ */
/* Shared memory                                                       */
/* ------------------------------------------------------------------ */

/* Allocates size bytes of zeroed memory in the arena: one MAP_SHARED memfd
 * mapping that sits at the same address in every process of the execution,
 * whatever their start method. The arena is made on first use. Safe from
 * any process and any thread. Returns NULL when the arena is full or size
 * is 0 (rl_last_error says which). */
RL_API void *rl_shared_alloc(size_t size);

/* Releases memory from rl_shared_alloc. NULL is ignored; a pointer that was
 * not allocated from the arena, or that was already freed, is ignored and
 * recorded in rl_last_error, never a crash. */
RL_API void rl_shared_free(void *p);

/* Returns 1 when addr lies in memory shared with other processes (the arena
 * or any other MAP_SHARED mapping), 0 for private memory (stack, heap,
 * globals, MAP_PRIVATE) and for unmapped addresses. */
RL_API int rl_is_shared(const void *addr);

/* ------------------------------------------------------------------ */
/* Processes                                                           */
/* ------------------------------------------------------------------ */

typedef struct rl_process rl_process;

/* The entry function of a child process; its return value is the exit
 * code. */
typedef int (*rl_entry)(void *arg);

typedef enum {
    RL_START_FORK = 0,  /* fork(): the child is a copy of the parent */
    RL_START_SPAWN,     /* posix_spawn of /proc/self/exe: a fresh program */
    RL_START_FORKSERVER /* forked by a server started from a clean state */
} rl_start_method;

/* Options; all zero means: fork, no name, not a daemon. */
typedef struct {
    rl_start_method method;
    const char *name; /* shown in reports and as the process comm */
    int daemon;       /* terminated when its parent exits */
} rl_process_opts;

/* Creates a process handle that runs fn(arg) once launched. opts may be
 * NULL. With spawn and forkserver, arg must be NULL or point into shared
 * memory (-EINVAL otherwise). Returns 0 and sets *p, or a negative errno;
 * *p is left untouched on failure. */
RL_API int rl_process_new(rl_process **p, rl_entry fn, void *arg,
                          const rl_process_opts *opts);

/* Starts a handle made by rl_process_new. -EINVAL if it was started
 * already; -EPERM if the caller is a daemon process (daemons may not have
 * children). */
RL_API int rl_process_launch(rl_process *p);

/* rl_process_new followed by rl_process_launch. On failure nothing is left
 * to free and *p is untouched. */
RL_API int rl_process_start(rl_process **p, rl_entry fn, void *arg,
                            const rl_process_opts *opts);

/* Waits for the process to end and reaps it. timeout in seconds, negative
 * waits forever, 0 checks once. Returns 0 once it ended (again 0 on later
 * calls), -ETIMEDOUT if it is still running (it is left running), -EINVAL
 * if it was never started. Only the process that started it may join. */
RL_API int rl_process_join(rl_process *p, double timeout);

/* Send SIGTERM / SIGKILL. 0 also when it already ended; -EINVAL if it was
 * never started. */
RL_API int rl_process_terminate(rl_process *p);
RL_API int rl_process_kill(rl_process *p);

/* Returns 1 while the process runs, 0 once it ended or before launch. */
RL_API int rl_process_is_alive(rl_process *p);

/* Sets *code to the exit status, or -signum when a signal ended it.
 * Returns 0, or -EAGAIN while it runs (or has not been joined) and -EINVAL
 * when it was never started. */
RL_API int rl_process_exitcode(const rl_process *p, int *code);

/* The pid, or 0 before launch. */
RL_API pid_t rl_process_pid(const rl_process *p);

/* The name given in the options, or "process-N". Never NULL. */
RL_API const char *rl_process_name(const rl_process *p);

/* Releases the handle. Returns 0, or -EBUSY (and keeps the handle valid)
 * while the process still runs or has not been reaped by a join. NULL is
 * ignored. */
RL_API int rl_process_free(rl_process *p);

/* ------------------------------------------------------------------ */
/* Synchronisation objects (they live in the arena)                    */
/* ------------------------------------------------------------------ */

/* Timeouts below are seconds: negative waits forever, 0 tries once (and a
 * try that would block returns -EAGAIN), positive waits at most that long
 * (-ETIMEDOUT). The constructors return NULL when the arena is full. */

typedef struct rl_lock rl_lock;
typedef struct rl_rlock rl_rlock;
typedef struct rl_sem rl_sem;
typedef struct rl_event rl_event;
typedef struct rl_cond rl_cond;
typedef struct rl_barrier rl_barrier;

/* A robust process-shared lock. When its holder dies, the next acquire
 * returns -EOWNERDEAD and holds the lock: the caller repairs the protected
 * state and releases it. Releasing a lock the caller does not hold is
 * -EPERM. */
RL_API rl_lock *rl_lock_new(void);
RL_API int rl_lock_acquire(rl_lock *l, double timeout);
RL_API int rl_lock_release(rl_lock *l);
RL_API void rl_lock_free(rl_lock *l);

/* A re-entrant lock: its owner (a thread of some process) may acquire it
 * again; it is free after as many releases. Release by another thread or
 * process is -EPERM. Robust like rl_lock. */
RL_API rl_rlock *rl_rlock_new(void);
RL_API int rl_rlock_acquire(rl_rlock *l, double timeout);
RL_API int rl_rlock_release(rl_rlock *l);
RL_API void rl_rlock_free(rl_rlock *l);

/* A counting semaphore. A bounded one refuses to be released above its
 * initial value: -EOVERFLOW. */
RL_API rl_sem *rl_sem_new(unsigned value, int bounded);
RL_API int rl_sem_acquire(rl_sem *s, double timeout);
RL_API int rl_sem_release(rl_sem *s);
RL_API int rl_sem_value(rl_sem *s);
RL_API void rl_sem_free(rl_sem *s);

/* An event flag. rl_event_wait returns 1 once the flag is set, 0 when the
 * timeout passed first (0 also for a try-once that found it clear). */
RL_API rl_event *rl_event_new(void);
RL_API int rl_event_set(rl_event *e);
RL_API int rl_event_clear(rl_event *e);
RL_API int rl_event_is_set(rl_event *e);
RL_API int rl_event_wait(rl_event *e, double timeout);
RL_API void rl_event_free(rl_event *e);

/* A condition variable bound to a lock. wait releases the lock, waits for a
 * notify and takes the lock again before it returns (also on timeout):
 * 1 when notified, 0 when the timeout passed. wait, notify and notify_all
 * without holding the lock are -EPERM. notify wakes at most n waiters, in
 * the order they started waiting. */
RL_API rl_cond *rl_cond_new(rl_lock *lock);
RL_API int rl_cond_wait(rl_cond *c, double timeout);
RL_API int rl_cond_notify(rl_cond *c, unsigned n);
RL_API int rl_cond_notify_all(rl_cond *c);
RL_API void rl_cond_free(rl_cond *c);

/* A barrier for a fixed number of parties. wait returns the arrival index
 * 0..parties-1 once all have arrived. A wait that times out, or an abort,
 * breaks the barrier: every current and later waiter gets -EPIPE until
 * reset. reset breaks the current round for its waiters and makes the
 * barrier usable again. */
RL_API rl_barrier *rl_barrier_new(unsigned parties);
RL_API int rl_barrier_wait(rl_barrier *b, double timeout);
RL_API int rl_barrier_abort(rl_barrier *b);
RL_API int rl_barrier_reset(rl_barrier *b);
RL_API int rl_barrier_broken(rl_barrier *b);
RL_API void rl_barrier_free(rl_barrier *b);

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

typedef struct rl_conn rl_conn;

/* Makes a connected pair. duplex: both ends send and receive (a socket
 * pair). One-way: *a receives and *b sends (a pipe); the wrong direction is
 * -EBADF. Both ends live in the arena, so they can be handed to a child of
 * any start method; each process closes its own copies. */
RL_API int rl_pipe(rl_conn **a, rl_conn **b, int duplex);

/* Sends one framed message of len bytes (len 0 is a message too). Returns
 * 0, -EPIPE when no process holds a receiving end any more, -EBADF when
 * this end is closed in this process or cannot send. */
RL_API int rl_conn_send(rl_conn *c, const void *buf, size_t len);

/* Receives one message into buf. Returns its length; RL_EOF once every
 * sending end in every process is closed and nothing is left; -EMSGSIZE
 * when the message is longer than cap (it is kept for a later call with a
 * larger buffer, and rl_last_error gives its size); -ETIMEDOUT or, with a
 * zero timeout, -EAGAIN; -EPROTO when the sender vanished in the middle of
 * a message. */
RL_API ssize_t rl_conn_recv(rl_conn *c, void *buf, size_t cap, double timeout);

/* Returns 1 when a recv would not block (a message or EOF is there), 0
 * when the timeout passed. Never consumes anything. */
RL_API int rl_conn_poll(rl_conn *c, double timeout);

/* Closes this process's copy of the end. Closing twice is -EBADF. The
 * object itself stays valid for other processes. */
RL_API int rl_conn_close(rl_conn *c);

/* ------------------------------------------------------------------ */
/* Queues                                                              */
/* ------------------------------------------------------------------ */

typedef struct rl_queue rl_queue;

/* A multi-producer multi-consumer FIFO of byte messages in the arena.
 * maxsize 0 means unbounded, within the queue's memory cap (a put that
 * would pass it waits like a put to a full queue). joinable enables
 * task_done and join. NULL when the arena is full. */
RL_API rl_queue *rl_queue_new(size_t maxsize, int joinable);

/* Appends a copy of the len bytes. Returns 0; -EAGAIN (timeout 0) or
 * -ETIMEDOUT when it stayed full; -EPIPE once the queue is closed;
 * -EMSGSIZE when one message is larger than the queue's memory cap. */
RL_API int rl_queue_put(rl_queue *q, const void *buf, size_t len,
                        double timeout);

/* Removes the oldest message into buf and returns its length. -EMSGSIZE
 * keeps it when cap is too small; -EAGAIN / -ETIMEDOUT when it stayed
 * empty; -EPIPE when the queue is closed and empty. */
RL_API ssize_t rl_queue_get(rl_queue *q, void *buf, size_t cap, double timeout);

/* The number of messages in the queue right now. */
RL_API ssize_t rl_queue_size(rl_queue *q);

/* Joinable queues: every get is matched by one task_done (-EINVAL for an
 * extra one, or on a queue that is not joinable); join waits until every
 * message put has been marked done. */
RL_API int rl_queue_task_done(rl_queue *q);
RL_API int rl_queue_join(rl_queue *q, double timeout);

/* Closes the queue for every process: later puts are -EPIPE; gets drain
 * what is left and then return -EPIPE; blocked callers wake up. */
RL_API int rl_queue_close(rl_queue *q);

/* Releases the queue and its messages. Only once no process uses it. */
RL_API void rl_queue_free(rl_queue *q);

/* ------------------------------------------------------------------ */
/* Process pool                                                        */
/* ------------------------------------------------------------------ */

typedef struct rl_pool rl_pool;
typedef struct rl_future rl_future;

/* A task: reads in_len bytes of input, writes at most *out_len bytes of
 * output (on entry *out_len is the room there is; the task sets the length
 * it wrote). Returns 0 or a negative errno, which becomes the task's
 * result. Runs in a worker process. */
typedef int (*rl_task)(const void *in, size_t in_len, void *out,
                       size_t *out_len);

/* Runs once in each worker when it starts; a non-zero return ends the
 * worker (its tasks go to another). */
typedef int (*rl_pool_init)(void *arg);

/* Options; all zero means: one worker per CPU, unlimited tasks per worker,
 * fork, no initializer, default chunking. */
typedef struct {
    int workers;             /* 0: number of CPUs */
    int max_tasks_per_child; /* 0: unlimited */
    rl_start_method method;
    rl_pool_init initializer;
    void *initarg; /* NULL or shared memory for spawn/forkserver */
    int chunksize; /* rl_pool_map items per task; 0: automatic */
} rl_pool_opts;

/* Starts a pool of worker processes. opts may be NULL. -EINVAL for negative
 * counts. */
RL_API int rl_pool_new(rl_pool **pool, const rl_pool_opts *opts);

/* Applies fn to n items of item_in bytes each, writing results of at most
 * item_out bytes each to out, in input order. Returns 0 once every item is
 * done, or the first failing item's error after the whole map finished
 * (rl_last_error names the item). n = 0 returns at once. */
RL_API int rl_pool_map(rl_pool *pool, rl_task fn, const void *in,
                       size_t item_in, size_t n, void *out, size_t item_out);

/* Queues one task; *f receives a future to wait on. -EPIPE after close or
 * terminate. */
RL_API int rl_pool_submit(rl_pool *pool, rl_task fn, const void *in, size_t len,
                          rl_future **f);

/* Waits for the task's result and copies it into out. Returns its length,
 * the task's negative error, -EMSGSIZE when cap is too small, -ECHILD when
 * the worker died running it, -ECANCELED when the pool was terminated, or
 * -ETIMEDOUT with the future still usable. */
RL_API ssize_t rl_future_get(rl_future *f, void *out, size_t cap,
                             double timeout);

/* 1 once the result is there, 0 before. */
RL_API int rl_future_done(rl_future *f);

/* Releases a future (also one that is still pending). */
RL_API void rl_future_free(rl_future *f);

/* close: no new tasks; workers exit once the queued ones are done.
 * terminate: workers are killed now; pending futures fail with -ECANCELED.
 * join waits for the workers after close or terminate (-EINVAL before).
 * free terminates if needed, joins and releases everything. */
RL_API int rl_pool_close(rl_pool *pool);
RL_API int rl_pool_terminate(rl_pool *pool);
RL_API int rl_pool_join(rl_pool *pool, double timeout);
RL_API void rl_pool_free(rl_pool *pool);

/* ------------------------------------------------------------------ */
/* Subprocess                                                          */
/* ------------------------------------------------------------------ */

/* Options; all zero means: no timeout, the current directory, no input. */
typedef struct {
    double timeout; /* seconds; 0 or negative: no timeout */
    const char *cwd;
    const char *input; /* bytes written to the program's stdin */
    size_t input_len;
} rl_run_opts;

typedef struct {
    int exit_code; /* exit status, or -signum */
    char *out;     /* captured stdout, NUL-terminated */
    size_t out_len;
    char *err; /* captured stderr, NUL-terminated */
    size_t err_len;
} rl_run_result;

/* Runs argv[0] (searched in PATH) with posix_spawn and captures stdout and
 * stderr. Returns 0 when the program ran, whatever its exit; -ETIMEDOUT
 * after killing and reaping it and its process group (what it printed is
 * kept in result); -ENOENT, -EACCES, ... when it could not start. opts may
 * be NULL. result is always initialised; free it with rl_run_result_free. */
RL_API int rl_run(const char *const argv[], const rl_run_opts *opts,
                  rl_run_result *result);
RL_API void rl_run_result_free(rl_run_result *result);

/* ------------------------------------------------------------------ */
/* Scenarios, schedule points and checks                               */
/* ------------------------------------------------------------------ */

/* Verdicts of one execution. */
typedef enum {
    RL_PASS = 0, /* every check held, every process ended */
    RL_FAIL,     /* a check failed */
    RL_DEADLOCK, /* processes remain and none can run */
    RL_LIVELOCK, /* the execution passed its step bound */
    RL_CRASH,    /* a process died by a signal or exited non-zero */
    RL_TIMEOUT,  /* the wall clock ran out: blocked outside the scheduler */
    RL_ERROR,    /* the scenario could not be run (setup, token) */
    RL_RACE      /* every check held, but two processes raced: they made
                    unordered accesses to the same shared memory */
} rl_verdict;

/* The name of a verdict ("PASS", "FAIL", ...). */
RL_API const char *rl_verdict_name(int verdict);

/* A schedule point: in a controlled execution the scheduler may let
 * another process run here. label names the point in traces. Returns 0.
 * Outside an execution it costs a branch (or injects noise in stress). */
RL_API int rl_yield(const char *label);

/* Records a failed check when cond is false: in an execution the verdict
 * becomes FAIL with the message, the file and line, and the execution
 * ends there. Returns 1 when cond holds, 0 otherwise (outside an
 * execution, the message goes to rl_last_error). */
RL_API int rl_check(int cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* rl_check(actual == expected) that also records actual, for the
 * histograms of stress runs. */
RL_API int rl_check_eq(long actual, long expected, const char *what);

/* Internal parts of the macros below; not for direct use. */
RL_API extern int rl__points_on;
RL_API void rl__access(int kind, const volatile void *addr, unsigned long size,
                       const char *what, const char *file, int line,
                       long value);
RL_API void rl__access_loaded(const volatile void *addr, const char *what,
                              long value);
RL_API int rl__check(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
RL_API int rl__check_eq(long actual, long expected, const char *what,
                        const char *file, int line);

#define rl_check(cond, ...) rl__check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define rl_check_eq(actual, expected, what)                                    \
    rl__check_eq((long)(actual), (long)(expected), (what), __FILE__, __LINE__)

/* Instrumented loads and stores of integer lvalues: each is a schedule
 * point that records the address, the size, the value, whether the memory
 * is shared with the other processes, and file:line. Each argument is
 * evaluated exactly once, so RL_LOAD(a[RL_LOAD(i)]) makes two schedule
 * points and reads i once. */
#define RL__CAT_(a, b) a##b
#define RL__CAT(a, b) RL__CAT_(a, b)
#ifdef RL_PLAIN_ACCESSES
/* Built with the compiler's instrumentation (pkg-config racelab-instrument)
 * and -DRL_PLAIN_ACCESSES, the annotations are plain C accesses (volatile,
 * so that a spin-wait still loads each time) and the instrumentation makes
 * them schedule points: the same program, unannotated. */
#define RL_LOAD(lv) (*(volatile __typeof__(lv) *)&(lv))
#define RL_STORE(lv, v) (*(volatile __typeof__(lv) *)&(lv) = (v))
#define RL_FETCH_ADD(lv, delta)                                                \
    __atomic_fetch_add(&(lv), (delta), __ATOMIC_SEQ_CST)
#else
#define RL_LOAD(lv) RL__LOAD_(lv, #lv, RL__CAT(rl_p_, __COUNTER__))
#define RL__LOAD_(lv, what, p_)                                                \
    __extension__({                                                            \
        __typeof__(lv) *p_ = &(lv);                                            \
        if (rl__points_on)                                                     \
            rl__access(0, p_, sizeof *p_, what, __FILE__, __LINE__, 0);        \
        __typeof__(lv) RL__CAT(p_, v_) = *(volatile __typeof__(lv) *)p_;       \
        if (rl__points_on)                                                     \
            rl__access_loaded(p_, what, (long)RL__CAT(p_, v_));                \
        RL__CAT(p_, v_);                                                       \
    })
#define RL_STORE(lv, v) RL__STORE_(lv, v, #lv, RL__CAT(rl_p_, __COUNTER__))
#define RL__STORE_(lv, v, what, p_)                                            \
    __extension__({                                                            \
        __typeof__(lv) *p_ = &(lv);                                            \
        __typeof__(lv) RL__CAT(p_, v_) = (v);                                  \
        if (rl__points_on)                                                     \
            rl__access(1, p_, sizeof *p_, what, __FILE__, __LINE__,            \
                       (long)RL__CAT(p_, v_));                                 \
        *(volatile __typeof__(lv) *)p_ = RL__CAT(p_, v_);                      \
    })
#define RL_FETCH_ADD(lv, delta)                                                \
    RL__FETCH_ADD_(lv, delta, #lv, RL__CAT(rl_p_, __COUNTER__))
#define RL__FETCH_ADD_(lv, delta, what, p_)                                    \
    __extension__({                                                            \
        __typeof__(lv) *p_ = &(lv);                                            \
        __typeof__(lv) RL__CAT(p_, d_) = (delta);                              \
        if (rl__points_on)                                                     \
            rl__access(2, p_, sizeof *p_, what, __FILE__, __LINE__,            \
                       (long)RL__CAT(p_, d_));                                 \
        __typeof__(lv) RL__CAT(p_, o_) =                                       \
            __atomic_fetch_add(p_, RL__CAT(p_, d_), __ATOMIC_SEQ_CST);         \
        if (rl__points_on)                                                     \
            rl__access_loaded(p_, what, (long)RL__CAT(p_, o_));                \
        RL__CAT(p_, o_);                                                       \
    })
#endif /* RL_PLAIN_ACCESSES */

/* Atomic loads and stores (sequentially consistent), schedule points like
 * RL_LOAD and RL_STORE. Two processes may use them on the same memory at
 * once without a data race, and an atomic store orders what its process
 * did before it with what a process does after an atomic load that reads
 * it (a flag that publishes data). Their label starts with "atomic ". */
#ifdef RL_PLAIN_ACCESSES
#define RL_LOAD_ATOMIC(lv) __atomic_load_n(&(lv), __ATOMIC_SEQ_CST)
#define RL_STORE_ATOMIC(lv, v) __atomic_store_n(&(lv), (v), __ATOMIC_SEQ_CST)
#else
#define RL_LOAD_ATOMIC(lv)                                                     \
    RL__LOAD_ATOMIC_(lv, "atomic " #lv, RL__CAT(rl_p_, __COUNTER__))
#define RL__LOAD_ATOMIC_(lv, what, p_)                                         \
    __extension__({                                                            \
        __typeof__(lv) *p_ = &(lv);                                            \
        if (rl__points_on)                                                     \
            rl__access(0, p_, sizeof *p_, what, __FILE__, __LINE__, 0);        \
        __typeof__(lv) RL__CAT(p_, v_) =                                       \
            __atomic_load_n(p_, __ATOMIC_SEQ_CST);                             \
        if (rl__points_on)                                                     \
            rl__access_loaded(p_, what, (long)RL__CAT(p_, v_));                \
        RL__CAT(p_, v_);                                                       \
    })
#define RL_STORE_ATOMIC(lv, v)                                                 \
    RL__STORE_ATOMIC_(lv, v, "atomic " #lv, RL__CAT(rl_p_, __COUNTER__))
#define RL__STORE_ATOMIC_(lv, v, what, p_)                                     \
    __extension__({                                                            \
        __typeof__(lv) *p_ = &(lv);                                            \
        __typeof__(lv) RL__CAT(p_, v_) = (v);                                  \
        if (rl__points_on)                                                     \
            rl__access(1, p_, sizeof *p_, what, __FILE__, __LINE__,            \
                       (long)RL__CAT(p_, v_));                                 \
        __atomic_store_n(p_, RL__CAT(p_, v_), __ATOMIC_SEQ_CST);               \
    })
#endif /* RL_PLAIN_ACCESSES */

typedef enum { RL_EXPECT_CLEAN = 0, RL_EXPECT_BUG = 1 } rl_expect;

/* A scenario: a function run as actor 0 of every execution. Zero fields
 * mean defaults. */
typedef struct rl_scenario {
    const char *name; /* "family.variant" */
    const char *summary;
    int expect;         /* RL_EXPECT_CLEAN (default) or RL_EXPECT_BUG */
    int expect_verdict; /* with RL_EXPECT_BUG: the verdict the bug must
                           produce; 0 accepts any failing verdict */
    double timeout;     /* wall clock per execution, seconds; 0: 10 */
    long max_steps;     /* schedule points per execution; 0: 10000 */
    void (*body)(void);
    const char *file;
    struct rl_scenario *next;
} rl_scenario;

/* Adds a scenario to the list rl_main runs; RL_SCENARIO calls it at load
 * time. */
RL_API void rl_register(rl_scenario *s);

/* The racelab command line (list, run, replay, minimize) over the
 * scenarios linked into the calling program: a user's main can be just
 * `return rl_main(argc, argv);`. Returns the exit status: 0 every scenario
 * behaved as expected, 1 some did not, 2 bad usage or input, 3 internal
 * error. */
RL_API int rl_main(int argc, char **argv);

/* Defines and registers a scenario; the block after it is its body:
 *   RL_SCENARIO(counter_unlocked, "counter.unlocked",
 *               .summary = "...", .expect = RL_EXPECT_BUG) { ... } */
#define RL_SCENARIO(ident, sname, ...)                                         \
    static void ident(void);                                                   \
    static rl_scenario ident##_rl_scenario = {                                 \
        .name = sname, .body = ident, .file = __FILE__, __VA_ARGS__};          \
    __attribute__((constructor)) static void ident##_rl_register(void)         \
    {                                                                          \
        rl_register(&ident##_rl_scenario);                                     \
    }                                                                          \
    static void ident(void)

/* ------------------------------------------------------------------ */
/* Running scenarios from C                                            */
/* ------------------------------------------------------------------ */

typedef enum {
    RL_EXPLORE = 0, /* every interleaving up to the preemption bound */
    RL_PCT,         /* seeded PCT */
    RL_RANDOM,      /* seeded uniformly random choices */
    RL_STRESS       /* real parallel runs, no scheduler */
} rl_search_mode;

#define RL_UNBOUNDED (-1)     /* preemptions: no bound */
#define RL_NO_PREEMPTION (-2) /* preemptions: a bound of 0 */

/* What the explore bound counts: preemptions (switching away from an
 * actor that could go on) or delays (passing over actors that could run,
 * Emmi, Qadeer and Rakamaric, POPL 2011). */
typedef enum { RL_BOUND_PREEMPTIONS = 0, RL_BOUND_DELAYS } rl_bound_kind;

/* Whether explore skips schedules that only reorder independent steps
 * (dynamic partial-order reduction, the default) or runs them all. */
typedef enum { RL_REDUCTION_DPOR = 0, RL_REDUCTION_NONE } rl_reduction;

/* What a data race between processes does in a controlled execution: it
 * turns a passing execution into RL_RACE (the default), it is only
 * recorded, or it is not looked for. */
typedef enum { RL_RACES_FAIL = 0, RL_RACES_REPORT, RL_RACES_OFF } rl_races;

/* Options; all zero means: explore with a preemption bound of 2, the
 * scenario's own step bound and timeout, seed 0. */
typedef struct {
    rl_search_mode mode;
    unsigned long long seed;
    long runs;       /* pct/random/stress executions (100); explore: limit */
    int preemptions; /* 0: 2; RL_UNBOUNDED; RL_NO_PREEMPTION */
    int depth;       /* pct depth, 0: 3 */
    long max_steps;  /* 0: the scenario's */
    double timeout;  /* seconds per execution, 0: the scenario's */
    double noise;    /* stress: noise probability at each point */
    rl_bound_kind bound_kind; /* explore: what the bound counts */
    rl_reduction reduction;   /* explore: partial-order reduction or not */
    rl_races races;           /* what a data race does */
} rl_search_opts;

/* What a search found. Free with rl_outcome_free. */
typedef struct {
    int verdict;     /* of the first failure, or RL_PASS */
    int as_expected; /* the scenario's expectation was met */
    int exhausted;   /* explore visited the whole bounded space */
    long executions;
    long failures;
    long found_at_bound;   /* explore: the preemptions (or delays) of the
                              failure found: no schedule has fewer */
    char *message;         /* the first failure's diagnosis, or "" */
    char *token;           /* its replay token, or NULL */
    char *minimized_token; /* the same failure with fewer preemptions */
} rl_outcome;

/* Runs the search over the scenario registered under name (a scenario of
 * the calling program, see RL_SCENARIO). The executions run in an arena of
 * their own and leave no process behind. opts may be NULL. Returns 0 and
 * fills out; -ENOENT for an unknown name, other negative errno values when
 * the search could not run. */
RL_API int rl_search(const char *name, const rl_search_opts *opts,
                     rl_outcome *out);

/* Runs the one interleaving a token names. Returns 0 and fills out (an
 * unfitting token gives verdict RL_ERROR); -EINVAL for a malformed token,
 * -ENOENT for an unknown scenario. */
RL_API int rl_replay(const char *token, rl_outcome *out);

RL_API void rl_outcome_free(rl_outcome *out);

#ifdef __cplusplus
}
#endif

#endif /* RACELAB_H */
