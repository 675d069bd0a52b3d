/* core.c: libracelab-intercept.so's start in every process of a command
 * run under the scheduler: it maps the execution's arena, becomes the
 * process's actor, and turns the command's end into the actor's exit. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "intercept.h"

rl__ic_table *rl__ic;

/* Depth of wrappers on this thread. Whether the thread is an actor is
 * the scheduler's business (a thread the program made while no actor is
 * none). */
static __thread __attribute__((tls_model("initial-exec"))) int depth;

void rl__ic_enter(void)
{
    depth++;
}

void rl__ic_leave(void)
{
    depth--;
}

int rl__ic_inside(void)
{
    return depth;
}

int rl__ic_on(void)
{
    return rl__ic && !depth && rl__controlled();
}

void *rl__ic_next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        static const char msg[] = "racelab: libracelab-intercept.so: the C "
                                  "library has no function ";
        rl__sys(SYS_write, 2, (long)msg, sizeof msg - 1, 0, 0, 0);
        rl__sys(SYS_write, 2, (long)name, (long)strlen(name), 0, 0, 0);
        rl__sys(SYS_write, 2, (long)"\n", 1, 0, 0, 0);
        rl__sys(SYS_exit_group, 127, 0, 0, 0, 0, 0);
    }
    return f;
}

rl__ic_pipe *rl__ic_pipe_of(unsigned long ino, unsigned long ino2, int create)
{
    if (!rl__ic)
        return NULL;
    for (int i = 0; i < rl__ic->npipes; i++)
        if (rl__ic->pipes[i].ino == ino ||
            (rl__ic->pipes[i].ino2 && rl__ic->pipes[i].ino2 == ino))
            return &rl__ic->pipes[i];
    if (!create || rl__ic->npipes >= RL__IC_PIPES)
        return NULL;
    rl__ic_pipe *p = &rl__ic->pipes[rl__ic->npipes++];
    p->ino = ino;
    p->ino2 = ino2;
    p->word = 0;
    return p;
}

rl__ic_sync *rl__ic_sync_of(const void *key, pid_t owner)
{
    if (!rl__ic || !key)
        return NULL;
    /* Open addressing over a table that only grows: an object's entry
     * stays its own for the execution (a freed object's address that is
     * used again finds the same entry, which only wakes waiters more). */
    uintptr_t h = ((uintptr_t)key >> 3) ^ ((uintptr_t)owner * 0x9e3779b1u);
    h ^= h >> 17;
    for (unsigned n = 0; n < RL__IC_SYNCS; n++) {
        rl__ic_sync *e = &rl__ic->syncs[(h + n) & (RL__IC_SYNCS - 1)];
        if (e->key == key && e->owner == owner)
            return e;
        if (e->key)
            continue;
        if (rl__ic->nsyncs >= RL__IC_SYNCS - RL__IC_SYNCS / 8)
            return NULL;
        rl__ic->nsyncs++;
        e->key = key;
        e->owner = owner;
        e->word = 0;
        return e;
    }
    return NULL;
}

/* ---- the end of a process ---- */

static int exit_code;  /* what exit() or main's return said */
static int exit_known; /* ... once one of them did */
static int exit_made;  /* the exit step is behind this process */

/* 1 when this process is the actor whose id it carries: not a raw fork
 * child (stress, a fork of another thread), which inherits the id. */
static int is_own_actor(void)
{
    rl__sched *s = rl__sched_get();
    int id = rl__sched_self();
    return s && id >= 0 && s->actors[id].pid == rl__pid();
}

void rl__ic_exit_step(int code)
{
    if (exit_made || !rl__ic || !is_own_actor())
        return;
    exit_made = 1;
    rl__ic_enter();
    /* The command's own check failed: its exit status says so. The
     * actor stops there, as a failed check does, so that the trace ends
     * at the same step in every replay (an exit step made while the
     * supervisor already copies the trace out would come and go). Its
     * streams are flushed; the supervisor ends it. */
    if (rl__sched_process_of(rl__sched_self()) == 0 && code != 0) {
        rl__sched_verdict(RL_FAIL, "the command exited with status %d", code);
        rl__sched_halt();
    }
    /* The kernel still has things to hand over when the process really
     * ends: pipe ends on descriptors 0 to 2 (the exit step closes only
     * those above), process-shared mutexes it holds. Counted as a lock
     * held, the actor that runs next waits for that end first. */
    rl__locks_held = 1;
    rl__sched_actor_exit(code);
    rl__ic_leave();
}

/* Registered first, so it runs after every exit handler of the program:
 * the exit step comes once the program has done all it does on exit but
 * flushing its streams, which this does first so that what it printed is
 * out before any other actor runs. */
static void at_exit(void)
{
    if (exit_made)
        return;
    rl__ic_enter(); /* the exit step wakes every waiter anyway */
    fflush(NULL);
    rl__ic_leave();
    rl__ic_exit_step(exit_known ? exit_code : 0);
}

void exit(int code)
{
    exit_code = code;
    exit_known = 1;
    RL__IC_REAL(exit);
    real_exit(code);
    __builtin_unreachable();
}

void _exit(int code)
{
    rl__ic_exit_step(code);
    RL__IC_REAL(_exit);
    real__exit(code);
    __builtin_unreachable();
}

void _Exit(int code)
{
    rl__ic_exit_step(code);
    RL__IC_REAL(_Exit);
    real__Exit(code);
    __builtin_unreachable();
}

typedef int (*main_fn)(int, char **, char **);
static main_fn program_main;

/* The program's main, whose return value exit() then sees. */
static int main_of_program(int argc, char **argv, char **envp)
{
    exit(program_main(argc, argv, envp));
}

/* The C library's start of a program: main is wrapped so that a return
 * from it is seen with its status, which the C library's own call of
 * exit would hide from the wrapper above. */
int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void),
                      void *stack_end);

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void),
                      void *stack_end)
{
    RL__IC_REAL(__libc_start_main);
    program_main = main;
    return real___libc_start_main(main_of_program, argc, argv, init, fini,
                                  rtld_fini, stack_end);
}

/* ---- the start of a process ---- */

/* The arena could not be mapped where the execution has it: the verdict
 * ERROR is written through a mapping anywhere (soff: the offset of the
 * scheduler's block in the arena), and the process ends. */
static _Noreturn void attach_failed(int fd, void *addr, size_t size,
                                    size_t soff)
{
    char msg[RL__MSG_LEN];
    int taken = errno == EEXIST;
    snprintf(msg, sizeof msg,
             "libracelab-intercept.so cannot map the execution's arena "
             "at %p in %s (pid %d): %s%s",
             addr, program_invocation_short_name, (int)getpid(),
             rl_last_error(),
             taken ? " (something the program loaded lies there)" : "");
    fprintf(stderr, "racelab: %s\n", msg);
    char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED && soff + sizeof(rl__sched) <= size) {
        rl__sched *s = (rl__sched *)(m + soff);
        int none = RL_PASS;
        rl__copy_str(s->message, sizeof s->message, msg);
        __atomic_compare_exchange_n(&s->verdict, &none, RL_ERROR, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
        __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
        rl__futex_wake(&s->done, 1 << 30);
    }
    rl__sys(SYS_exit_group, 127, 0, 0, 0, 0, 0);
    __builtin_unreachable();
}

/* In every process that loads the library: with the execution's variable
 * set, maps the arena and, when the process is an actor (the root after
 * its exec, a forked child after one), becomes it. A process no actor
 * knows (started by posix_spawn or system) runs on its own. */
__attribute__((constructor)) static void intercept_start(void)
{
    const char *v = getenv(RL__INTERCEPT_ENV);
    if (!v)
        return;
    int fd;
    unsigned long addr, size, soff;
    if (sscanf(v, "%d:%lx:%lx:%lx", &fd, &addr, &size, &soff) != 4) {
        fprintf(stderr,
                "racelab: libracelab-intercept.so: %s='%s' is not "
                "FD:ADDRESS:SIZE:OFFSET\n",
                RL__INTERCEPT_ENV, v);
        return;
    }
    rl__ic_enter();
    int err = rl__arena_attach(fd, (void *)addr, size);
    if (err < 0) {
        errno = -err;
        attach_failed(fd, (void *)addr, size, soff);
    }
    /* Kept across exec: the processes the command execs attach too. */
    fcntl(fd, F_SETFD, 0);
    rl__sched *s = rl__sched_get();
    int id = s ? rl__sched_find_pid(getpid()) : -1;
    /* A process posix_spawn started is told its id: its parent may not
     * have its pid yet. */
    const char *given = getenv(RL__IC_ACTOR_ENV);
    if (given) {
        int g = atoi(given);
        if (id < 0 && s && g > 0 && g < s->nactors && !s->actors[g].thread &&
            (s->actors[g].pid == 0 || s->actors[g].pid == getpid()))
            id = g;
        unsetenv(RL__IC_ACTOR_ENV);
    }
    if (id < 0) {
        rl__ic_leave();
        return;
    }
    rl__ic_table **root = (rl__ic_table **)rl__arena_root(RL__ROOT_INTERCEPT);
    if (!*root && id == 0) {
        rl__ic_table *t = rl_shared_alloc(sizeof *t);
        if (!t) {
            rl__sched_verdict(RL_ERROR, "no room in the arena for the table of "
                                        "libracelab-intercept.so");
            rl__sys(SYS_exit_group, 127, 0, 0, 0, 0, 0);
        }
        memset(t, 0, sizeof *t);
        *root = t;
    }
    rl__ic = *root;
    rl__copy_str(s->actors[id].name, sizeof s->actors[id].name,
                 program_invocation_short_name);
    rl__ic_fds_scan();
    atexit(at_exit);
    if (id == 0)
        rl__sched_root_enter(getpid());
    else
        rl__sched_child_enter(id, 0);
    rl__ic_leave();
}
