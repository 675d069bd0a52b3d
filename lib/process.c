/* process.c: child processes started by fork, by posix_spawn of
 * /proc/self/exe, or by a fork server, and the one exit path of a child. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "scheduler.h"

#ifdef RL_COVERAGE
extern void __gcov_dump(void);
#endif

extern char **environ;

/* The connection module is linked only into programs that use
 * connections; without it a process holds no connection ends, so weak
 * references let process.c work on its own. */
#pragma weak rl__conn_held_fds
#pragma weak rl__conn_adopt

#define BOOT_ENV "RACELAB_BOOT"
#define SERVER_ENV "RACELAB_FORKSERVER"
#define SERVER_COMM "rl-forkserver"

#define REC_PATH 1024
#define REC_FDS 252 /* SCM_RIGHTS carries at most 253 with the arena's */
#define REC_MSG 256
#define BUILD_ID_MAX 64

/* How long a launch waits for a spawned or forkserver child to report
 * that it booted: loading a large program on a loaded machine can take a
 * while, and a child that dies is noticed at once anyway. */
#define BOOT_TIMEOUT 120.0
/* Slice for waits that must also notice a child's death. */
#define SLICE 0.05

enum { BOOT_WAIT, BOOT_OK, BOOT_FAILED };
enum { ST_NEW, ST_RUNNING, ST_DONE, ST_LOST };

/* Per-child record in the arena: how a spawned or forkserver child finds
 * its entry, and the words its parent waits on (boot, exit). */
typedef struct {
    uint32_t word;    /* published when status or exiting changes */
    uint32_t status;  /* BOOT_* */
    uint32_t exiting; /* set by rl__exit just before _exit */
    int err;          /* negative errno of a failed boot */
    int actor;        /* its actor id in a controlled execution, or -1 */
    pid_t parent;     /* the expected parent, for the daemon race check */
    int daemon;
    void *arg;
    uintptr_t offset; /* of the entry from its object's load address */
    uint32_t build_id_len;
    unsigned char build_id[BUILD_ID_MAX];
    char comm[16];
    char object[REC_PATH]; /* "" = the main program */
    int nfds;
    int fds[REC_FDS];
    char msg[REC_MSG];
} boot_rec;

struct rl_process {
    rl_entry fn;
    void *arg;
    rl_start_method method;
    int daemon;
    int state;
    pid_t pid;
    pid_t owner;   /* the process that started it */
    int pidfd;     /* fork and spawn children, -1 otherwise */
    int code;      /* exit status or -signum once ST_DONE */
    unsigned gen;  /* forkserver generation that started it */
    int named;     /* the name came from the options */
    boot_rec *rec; /* in the arena, NULL when there was no room (fork) */
    int actor;     /* actor id under the harness, -1 otherwise */
    char *name;
};

/* This process is a daemon child: it may not start children. */
static int is_daemon;
/* This process's own record when it is a racelab child. */
static boot_rec *self_rec;
static unsigned long name_counter;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* Returns a pidfd for pid (close-on-exec by nature) or -1. */
static int pidfd_open_(pid_t pid)
{
    long fd = rl__sys(SYS_pidfd_open, pid, 0, 0, 0, 0, 0);
    if (fd < 0) {
        errno = (int)-fd;
        return -1;
    }
    return (int)fd;
}

/* Turns a wait status into an exit code or -signum. */
static int status_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return -WTERMSIG(st);
    return -1;
}

/* Sets the comm of the calling process. Async-signal-safe. */
static void set_comm(const char *name)
{
    if (name && *name)
        prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

/* Reads a decimal or hexadecimal field ending at sep; returns the next
 * position or NULL. */
static const char *parse_field(const char *s, int base, char sep,
                               unsigned long long *out)
{
    char *end;
    errno = 0;
    *out = strtoull(s, &end, base);
    if (errno || end == s || *end != sep)
        return NULL;
    return sep ? end + 1 : end;
}

/* ------------------------------------------------------------------ */
/* The exit path                                                       */
/* ------------------------------------------------------------------ */

static void fs_shutdown(void);

_Noreturn void rl__exit(int code)
{
    rl__flush_stdio();
#ifdef RL_COVERAGE
    /* Before the exit point: the last actor's exit ends the execution, and
     * the supervisor kills what is left at once. */
    __gcov_dump();
#endif
    /* Under a scheduler this is the exit's schedule point; the actor's
     * descriptors are closed and the token handed on before it returns,
     * so whoever waits for this process goes on deterministically. */
    rl__sched_actor_exit(code);
    fs_shutdown();
    if (self_rec) {
        __atomic_store_n(&self_rec->exiting, 1, __ATOMIC_RELEASE);
        rl__publish(&self_rec->word);
    }
    _exit(code);
}

/* ------------------------------------------------------------------ */
/* Finding the entry function by its object and offset                */
/* ------------------------------------------------------------------ */

#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((size_t)(a)-1))

/* Copies the GNU build id of a loaded object into out; returns its length,
 * 0 when the object has none. */
static uint32_t read_build_id(const struct dl_phdr_info *info,
                              unsigned char *out)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
        const char *end = p + ph->p_memsz;
        size_t align = ph->p_align == 8 ? 8 : 4;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const void *)p;
            size_t desc = ALIGN_UP(sizeof *n + n->n_namesz, align);
            size_t next = ALIGN_UP(desc + n->n_descsz, align);
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
                memcmp(p + sizeof *n, "GNU", 4) == 0 &&
                n->n_descsz <= BUILD_ID_MAX && p + desc + n->n_descsz <= end) {
                memcpy(out, p + desc, n->n_descsz);
                return n->n_descsz;
            }
            if (next == 0)
                break;
            p += next;
        }
    }
    return 0;
}

struct find_ctx {
    uintptr_t addr;
    boot_rec *rec;
    int found;
};

/* dl_iterate_phdr callback: the object whose PT_LOAD segment holds addr. */
static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct find_ctx *c = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD || c->addr < lo ||
            c->addr >= lo + ph->p_memsz)
            continue;
        const char *name = info->dlpi_name ? info->dlpi_name : "";
        if (strlen(name) >= REC_PATH)
            return -1;
        strcpy(c->rec->object, name);
        c->rec->offset = c->addr - info->dlpi_addr;
        c->rec->build_id_len = read_build_id(info, c->rec->build_id);
        c->found = 1;
        return 1;
    }
    return 0;
}

/* Records which loaded object holds fn. Returns 0 or -EINVAL. */
static int describe_entry(rl_entry fn, boot_rec *rec)
{
    struct find_ctx c = {(uintptr_t)fn, rec, 0};
    dl_iterate_phdr(find_cb, &c);
    if (!c.found)
        return rl__fail(-EINVAL,
                        "the entry function %p lies in no loaded "
                        "object, so a spawned child cannot find it",
                        (void *)(uintptr_t)fn);
    return 0;
}

struct resolve_ctx {
    const boot_rec *rec;
    uintptr_t addr;
    int seen; /* the object was found (maybe with another build id) */
};

static int resolve_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct resolve_ctx *c = data;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (strcmp(name, c->rec->object) != 0)
        return 0;
    c->seen = 1;
    unsigned char id[BUILD_ID_MAX];
    uint32_t len = read_build_id(info, id);
    if (len != c->rec->build_id_len || memcmp(id, c->rec->build_id, len))
        return 0;
    c->addr = info->dlpi_addr + c->rec->offset;
    return 1;
}

/* In a child: finds the entry described by rec. Returns NULL and writes the
 * reason into rec->msg when it cannot. */
static rl_entry resolve_entry(boot_rec *rec)
{
    struct resolve_ctx c = {rec, 0, 0};
    dl_iterate_phdr(resolve_cb, &c);
    if (c.addr)
        return (rl_entry)c.addr;
    const char *obj = rec->object[0] ? rec->object : "the main program";
    if (c.seen)
        snprintf(rec->msg, sizeof rec->msg,
                 "%.160s in the child has another build id than in the parent "
                 "(was it rebuilt while running?)",
                 obj);
    else
        snprintf(rec->msg, sizeof rec->msg,
                 "%.160s, which holds the entry function, is not loaded in the "
                 "child (was it loaded with dlopen?)",
                 obj);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Booting a spawned or forkserver child                               */
/* ------------------------------------------------------------------ */

/* Reports a failed boot through the record and ends the child with 127. */
static _Noreturn void boot_fail(boot_rec *rec, int err)
{
    rec->err = err;
    __atomic_store_n(&rec->status, BOOT_FAILED, __ATOMIC_RELEASE);
    rl__publish(&rec->word);
    rl__flush_stdio();
    _exit(127);
}

/* Maps the arena anywhere to report through the record at rec_addr why
 * it could not be mapped at its own address, and ends the child. */
static _Noreturn void boot_unmapped(int fd, void *addr, size_t size,
                                    uintptr_t rec_addr, int err)
{
    char *alt = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (alt == MAP_FAILED)
        _exit(127);
    boot_rec *rec = (boot_rec *)(alt + (rec_addr - (uintptr_t)addr));
    snprintf(rec->msg, sizeof rec->msg,
             "the child could not map the "
             "arena: %s",
             rl_last_error());
    boot_fail(rec, err);
}

/* Makes the calling process the child described by rec (mapped already):
 * adopts connections, resolves the entry, runs it and exits. parent is the
 * process whose death must end a daemon. */
static _Noreturn void run_child(boot_rec *rec, pid_t parent)
{
    set_comm(rec->comm);
    for (int i = 0; i < rec->nfds; i++)
        fcntl(rec->fds[i], F_SETFD, FD_CLOEXEC);
    if (rl__conn_adopt)
        rl__conn_adopt(rec->fds, rec->nfds);
    rl_entry fn = resolve_entry(rec);
    if (!fn)
        boot_fail(rec, -ENOEXEC);
    if (rec->daemon) {
        is_daemon = 1;
        prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
        if (getppid() != parent)
            raise(SIGTERM);
    }
    self_rec = rec;
    __atomic_store_n(&rec->status, BOOT_OK, __ATOMIC_RELEASE);
    rl__publish(&rec->word);
    rl__sched_child_enter(rec->actor, 0);
    rl__exit(fn(rec->arg));
}

/* A spawned child: maps the arena behind fd and becomes the child its
 * record at rec_addr describes. Never returns. */
static _Noreturn void boot_child(int fd, void *addr, size_t size,
                                 uintptr_t rec_addr, pid_t parent)
{
    int r = rl__arena_attach(fd, addr, size);
    if (r < 0)
        boot_unmapped(fd, addr, size, rec_addr, r);
    run_child((boot_rec *)rec_addr, parent);
}

static void server_main(int sock, pid_t client);

/* Runs before main in every program that links this file: a spawned child
 * or a fork server takes over here and never returns to main. */
__attribute__((constructor)) static void process_boot(void)
{
    const char *s = getenv(BOOT_ENV);
    if (s) {
        unsigned long long fd, addr, size, rec, parent;
        if (!(s = parse_field(s, 10, ':', &fd)) ||
            !(s = parse_field(s, 16, ':', &addr)) ||
            !(s = parse_field(s, 16, ':', &size)) ||
            !(s = parse_field(s, 16, ':', &rec)) ||
            !(s = parse_field(s, 10, '\0', &parent)))
            _exit(127);
        unsetenv(BOOT_ENV);
        boot_child((int)fd, (void *)(uintptr_t)addr, (size_t)size,
                   (uintptr_t)rec, (pid_t)parent);
    }
    s = getenv(SERVER_ENV);
    if (s) {
        unsigned long long fd, client;
        if (!(s = parse_field(s, 10, ':', &fd)) ||
            !(s = parse_field(s, 10, '\0', &client)))
            _exit(127);
        unsetenv(SERVER_ENV);
        server_main((int)fd, (pid_t)client);
    }
}

/* ------------------------------------------------------------------ */
/* Handles                                                             */
/* ------------------------------------------------------------------ */

int rl_process_new(rl_process **p, rl_entry fn, void *arg,
                   const rl_process_opts *opts)
{
    static const rl_process_opts defaults;
    if (!opts)
        opts = &defaults;
    if (!p)
        return rl__fail(-EINVAL, "rl_process_new: the handle pointer is "
                                 "NULL");
    if (!fn)
        return rl__fail(-EINVAL, "rl_process_new: the entry function is "
                                 "NULL");
    if ((unsigned)opts->method > RL_START_FORKSERVER)
        return rl__fail(-EINVAL, "rl_process_new: unknown start method %d",
                        (int)opts->method);
    if (opts->method != RL_START_FORK && arg && !rl__in_arena(arg))
        return rl__fail(-EINVAL,
                        "rl_process_new: with the %s start method, arg %p "
                        "must be NULL or memory from rl_shared_alloc: the "
                        "child is a fresh program that sees only the shared "
                        "arena; copy the data into rl_shared_alloc memory "
                        "and pass that",
                        opts->method == RL_START_SPAWN ? "spawn" : "forkserver",
                        arg);
    /* malloc and an assignment rather than calloc, whose call into
     * memset is two more pages of the C library for every root to fault
     * in. */
    static const rl_process zero;
    rl_process *h = malloc(sizeof *h);
    if (!h)
        return rl__fail(-ENOMEM, "rl_process_new: out of memory");
    *h = zero;
    if (opts->name) {
        size_t len = 0;
        while (opts->name[len])
            len++;
        h->name = malloc(len + 1);
        if (h->name)
            rl__append(h->name, len + 1, 0, opts->name);
        h->named = 1;
    } else {
        unsigned long n =
            __atomic_add_fetch(&name_counter, 1, __ATOMIC_RELAXED);
        /* Formatted by hand: every execution starts processes, and
         * printf's machinery is a measurable share of a start. */
        char buf[32];
        size_t at = rl__append(buf, sizeof buf, 0, "process-");
        at = rl__append_long(buf, sizeof buf, at, (long)n);
        h->name = malloc(at + 1);
        if (h->name)
            rl__append(h->name, at + 1, 0, buf);
    }
    if (!h->name) {
        free(h);
        return rl__fail(-ENOMEM, "rl_process_new: out of memory");
    }
    h->fn = fn;
    h->arg = arg;
    h->method = opts->method;
    h->daemon = opts->daemon != 0;
    h->state = ST_NEW;
    h->pidfd = -1;
    h->actor = -1;
    *p = h;
    return 0;
}

/* Fills the fields of a child's record that every start method shares. */
static int fill_rec(rl_process *p, boot_rec *rec, int explicit_name)
{
    rec->arg = p->arg;
    rec->actor = p->actor;
    rec->daemon = p->daemon;
    rec->parent = rl__pid();
    if (explicit_name)
        snprintf(rec->comm, sizeof rec->comm, "%s", p->name);
    else
        rl__sys(SYS_prctl, PR_GET_NAME, (long)rec->comm, 0, 0, 0, 0);
    if (p->method == RL_START_FORK)
        return 0;
    int r = describe_entry(p->fn, rec);
    if (r < 0)
        return r;
    int n = rl__conn_held_fds ? rl__conn_held_fds(rec->fds, REC_FDS) : 0;
    if (n > REC_FDS)
        return rl__fail(-EMFILE,
                        "this process holds %d connection ends; a "
                        "spawned child can take at most %d",
                        n, REC_FDS);
    rec->nfds = n < 0 ? 0 : n;
    return 0;
}

/* Makes the record of a child in the arena. */
static boot_rec *new_rec(void)
{
    boot_rec *rec = rl_shared_alloc(sizeof *rec);
    if (rec)
        rec->err = 0;
    return rec;
}

/* ------------------------------------------------------------------ */
/* Fork                                                                */
/* ------------------------------------------------------------------ */

static void fs_forget(void);
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* In a child made by any fork: it is not the racelab child its parent was
 * (if any) and must not use its parent's fork server. */
static void atfork_child(void)
{
    self_rec = NULL;
    fs_forget();
}

static int atfork_registered;

static void atfork_register(void)
{
    pthread_atfork(NULL, NULL, atfork_child);
    __atomic_store_n(&atfork_registered, 1, __ATOMIC_RELEASE);
}

void rl__process_prepare(void)
{
    if (!__atomic_load_n(&atfork_registered, __ATOMIC_ACQUIRE))
        pthread_once(&atfork_once, atfork_register);
    rl__pid();
}

static int launch_fork(rl_process *p, int explicit_name)
{
    /* The record only serves the controlled join: without room in the
     * arena the child runs all the same, except under the scheduler,
     * where a join without it would wait in the kernel holding the
     * token. */
    boot_rec *rec = rl__arena_ensure() == 0 ? new_rec() : NULL;
    if (!rec && rl__sched_self() >= 0)
        return rl__fail(-ENOMEM,
                        "starting process %s: no room in the "
                        "shared arena for its record (%s)",
                        p->name, rl_last_error());
    if (rec)
        fill_rec(p, rec, explicit_name);
    pid_t parent = rl__pid();
    rl__flush_stdio();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        rl_shared_free(rec);
        return rl__fail(-e, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        if (explicit_name)
            set_comm(p->name);
        if (p->daemon) {
            is_daemon = 1;
            prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
            if (getppid() != parent)
                raise(SIGTERM);
        }
        self_rec = rec;
        if (rec) {
            __atomic_store_n(&rec->status, BOOT_OK, __ATOMIC_RELEASE);
            rl__publish(&rec->word);
        }
        rl__sched_child_enter(p->actor, parent);
        rl__exit(p->fn(p->arg));
    }
    p->pid = pid;
    p->rec = rec;
    p->pidfd = pidfd_open_(pid);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Waiting for a child to boot                                         */
/* ------------------------------------------------------------------ */

static int fs_poll_exit(rl_process *p, int *code);

/* Whether a spawn or forkserver child already ended, without blocking:
 * 1 (and *code) when it did, 0 when it runs, negative on error. */
static int child_ended(rl_process *p, int *code)
{
    if (p->method == RL_START_FORKSERVER)
        return fs_poll_exit(p, code);
    int st = 0;
    long w;
    do
        w = rl__sys(SYS_wait4, p->pid, (long)&st, WNOHANG, 0, 0, 0);
    while (w == -EINTR);
    if (w < 0)
        return rl__fail((int)w, "waitpid(%d): %s", (int)p->pid,
                        strerror((int)-w));
    if (w == 0)
        return 0;
    *code = status_code(st);
    return 1;
}

/* Waits until a spawned or forkserver child reports that it booted.
 * Returns 0, or a negative errno once the child is gone (reaped). */
static int wait_boot(rl_process *p)
{
    boot_rec *rec = p->rec;
    double deadline = rl__deadline(BOOT_TIMEOUT);
    for (;;) {
        uint32_t seen = __atomic_load_n(&rec->word, __ATOMIC_ACQUIRE);
        uint32_t st = __atomic_load_n(&rec->status, __ATOMIC_ACQUIRE);
        if (st == BOOT_OK)
            return 0;
        if (st == BOOT_FAILED)
            break;
        int code;
        int r = child_ended(p, &code);
        if (r < 0)
            return r;
        if (r > 0) {
            p->state = ST_DONE;
            p->code = code;
            return rl__fail(-ECHILD,
                            "process %s died before it booted "
                            "(exit code %d)",
                            p->name, code);
        }
        if (rl__expired(deadline)) {
            kill(p->pid, SIGKILL);
            break;
        }
        /* Booting is not an operation of the scenario: under a scheduler
         * the parent keeps the token while its child boots, so this is a
         * plain futex wait, not a schedule point. */
        double slice = rl__deadline(SLICE);
        rl__futex_wait(&rec->word, seen,
                       deadline >= 0 && deadline < slice ? deadline : slice);
    }
    /* It failed (and exits 127) or hung: reap it before reporting. */
    int code = 0;
    for (;;) {
        int r = child_ended(p, &code);
        if (r != 0)
            break;
        struct pollfd pf = {p->pidfd, POLLIN, 0};
        if (p->pidfd >= 0)
            poll(&pf, 1, 50);
        else
            usleep(10000);
    }
    p->state = ST_DONE;
    p->code = code;
    if (__atomic_load_n(&rec->status, __ATOMIC_ACQUIRE) == BOOT_FAILED)
        return rl__fail(rec->err < 0 ? rec->err : -ENOEXEC,
                        "process %s could not boot: %s", p->name, rec->msg);
    return rl__fail(-ETIMEDOUT, "process %s did not boot within %.0f s",
                    p->name, BOOT_TIMEOUT);
}

/* ------------------------------------------------------------------ */
/* Spawn                                                               */
/* ------------------------------------------------------------------ */

/* Reads this program's argv[0] into buf. */
static void own_argv0(char *buf, size_t cap)
{
    snprintf(buf, cap, "racelab-child");
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n;
    do
        n = read(fd, buf, cap - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n > 0)
        buf[n] = '\0';
    else
        snprintf(buf, cap, "racelab-child");
}

/* Builds environ plus one extra variable, dropping racelab's own. The
 * array is malloc'd; the strings are borrowed. */
static char **child_env(char *extra)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    char **env = malloc((n + 2) * sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, BOOT_ENV "=", sizeof BOOT_ENV) != 0 &&
            strncmp(*e, SERVER_ENV "=", sizeof SERVER_ENV) != 0)
            env[k++] = *e;
    env[k++] = extra;
    env[k] = NULL;
    return env;
}

/* posix_spawn of /proc/self/exe with the given extra environment variable
 * and the descriptors in keep[] open under the same numbers. */
static int spawn_self(pid_t *pid, char *extra, const int *keep, int nkeep,
                      int clean)
{
    char argv0[PATH_MAX];
    own_argv0(argv0, sizeof argv0);
    char *argv[] = {argv0, NULL};
    char **env = child_env(extra);
    if (!env)
        return rl__fail(-ENOMEM, "spawn: out of memory");
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    int r = 0;
    for (int i = 0; i < nkeep && !r; i++)
        r = posix_spawn_file_actions_adddup2(&fa, keep[i], keep[i]);
    if (!r && clean) {
        /* A fork server starts from a clean state: no blocked or ignored
         * signals inherited from whatever its client was doing. */
        sigset_t none, dfl;
        sigemptyset(&none);
        sigemptyset(&dfl);
        const int sigs[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGPIPE, SIGALRM,
                            SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
            sigaddset(&dfl, sigs[i]);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &dfl);
        r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETSIGDEF);
    }
    if (!r) {
        rl__flush_stdio();
        r = posix_spawn(pid, "/proc/self/exe", &fa, &at, argv, env);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(env);
    if (r)
        return rl__fail(-r, "posix_spawn of /proc/self/exe: %s", strerror(r));
    return 0;
}

/* The record of a spawn or forkserver child, filled, and the descriptors
 * it must receive: the arena's first, then its connection ends. Returns 0
 * or a negative errno (nothing left allocated). */
static int prepare_rec(rl_process *p, int explicit_name, boot_rec **out,
                       int fds[REC_FDS + 1])
{
    int r = rl__arena_ensure();
    if (r < 0)
        return r;
    boot_rec *rec = new_rec();
    if (!rec)
        return -ENOMEM;
    r = fill_rec(p, rec, explicit_name);
    if (r < 0) {
        rl_shared_free(rec);
        return r;
    }
    fds[0] = rl__arena_fd();
    memcpy(fds + 1, rec->fds, (size_t)rec->nfds * sizeof *fds);
    *out = rec;
    return 0;
}

static int launch_spawn(rl_process *p, int explicit_name)
{
    boot_rec *rec;
    int keep[REC_FDS + 1];
    int r = prepare_rec(p, explicit_name, &rec, keep);
    if (r < 0)
        return r;
    char extra[160];
    snprintf(extra, sizeof extra, BOOT_ENV "=%d:%lx:%zx:%lx:%d", keep[0],
             (unsigned long)(uintptr_t)rl__arena_base(), rl__arena_size(),
             (unsigned long)(uintptr_t)rec, (int)rl__pid());
    pid_t pid;
    r = spawn_self(&pid, extra, keep, rec->nfds + 1, 0);
    if (r < 0) {
        rl_shared_free(rec);
        return r;
    }
    p->pid = pid;
    p->rec = rec;
    p->pidfd = pidfd_open_(pid);
    r = wait_boot(p);
    if (r < 0) {
        if (p->pidfd >= 0)
            close(p->pidfd);
        p->pidfd = -1;
        p->rec = NULL;
        p->pid = 0;
        p->state = ST_NEW;
        rl_shared_free(rec);
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* The fork server                                                     */
/* ------------------------------------------------------------------ */

enum { MSG_START = 1, MSG_STARTED, MSG_EXITED };

/* One message on the server socket, in either direction. */
typedef struct {
    int32_t type;
    int32_t pid;    /* STARTED, EXITED */
    int32_t status; /* EXITED: wait status; STARTED: 0 or -errno */
    int32_t daemon; /* START */
    int32_t nfds;   /* START: connection fds after the arena's */
    int32_t minfd;  /* START: above every target descriptor number */
    uint64_t rec;   /* START */
    uint64_t base;
    uint64_t size;
} fs_msg;

typedef struct {
    pid_t pid;
    int daemon;
} server_child;

/* Sends one message, optionally with descriptors. Returns 0 or -errno. */
static int send_msg(int sock, const fs_msg *m, const int *fds, int nfds)
{
    struct iovec iov = {(void *)m, sizeof *m};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int) * (REC_FDS + 1))];
        struct cmsghdr align;
    } u;
    if (nfds > 0) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return 0;
}

/* Receives one message and its descriptors (close-on-exec). Returns 1, 0
 * at EOF, or -errno (-EAGAIN when flags has MSG_DONTWAIT and nothing is
 * there). */
static int recv_msg(int sock, fs_msg *m, int *fds, int *nfds, int flags)
{
    struct iovec iov = {m, sizeof *m};
    union {
        char buf[CMSG_SPACE(sizeof(int) * (REC_FDS + 1))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    ssize_t n;
    do
        n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    int got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *in = (int *)CMSG_DATA(c);
        for (int i = 0; i < k; i++) {
            if (fds && got < REC_FDS + 1)
                fds[got++] = in[i];
            else
                close(in[i]);
        }
    }
    if (nfds)
        *nfds = got;
    if (n == 0)
        return 0;
    if ((size_t)n != sizeof *m) {
        for (int i = 0; i < got; i++)
            close(fds[i]);
        return -EPROTO;
    }
    return 1;
}

/* The server's child: closes the server's descriptors, lifts the received
 * ones above every target number, maps the arena, moves the connection
 * descriptors to the numbers the record lists and runs the entry. */
static _Noreturn void server_child_run(int *fds, int n, const fs_msg *m,
                                       int sock, int sigfd, pid_t server)
{
    close(sock);
    close(sigfd);
    for (int i = 0; i < n; i++) {
        int nfd = fcntl(fds[i], F_DUPFD_CLOEXEC, m->minfd);
        if (nfd < 0)
            _exit(127);
        if (nfd != fds[i])
            close(fds[i]);
        fds[i] = nfd;
    }
    void *base = (void *)(uintptr_t)m->base;
    int r = rl__arena_attach(fds[0], base, (size_t)m->size);
    if (r < 0)
        boot_unmapped(fds[0], base, (size_t)m->size, (uintptr_t)m->rec, r);
    boot_rec *rec = (boot_rec *)(uintptr_t)m->rec;
    if (rec->nfds != n - 1) {
        snprintf(rec->msg, sizeof rec->msg,
                 "the fork server passed %d "
                 "connection descriptors, the record lists %d",
                 n - 1, rec->nfds);
        boot_fail(rec, -EPROTO);
    }
    for (int i = 1; i < n; i++) {
        int target = rec->fds[i - 1];
        if (dup3(fds[i], target, O_CLOEXEC) < 0) {
            int e = errno;
            snprintf(rec->msg, sizeof rec->msg, "dup3 to %d: %s", target,
                     strerror(e));
            boot_fail(rec, -e);
        }
        close(fds[i]);
    }
    run_child(rec, server);
}

/* The fork server's loop: forks children on request, reports their exit
 * and ends once its client is gone and its children have ended. */
static void server_main(int sock, pid_t client)
{
    set_comm(SERVER_COMM);
    fcntl(sock, F_SETFD, FD_CLOEXEC);
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != client)
        _exit(0);
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, &old);
    int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0)
        _exit(1);
    pid_t self = rl__pid();
    server_child *kids = NULL;
    size_t nkids = 0, cap = 0;
    int client_gone = 0, termed = 0;
    for (;;) {
        if (client_gone && !termed) {
            /* Daemon children end with their parent's session. */
            for (size_t i = 0; i < nkids; i++)
                if (kids[i].daemon)
                    kill(kids[i].pid, SIGTERM);
            termed = 1;
        }
        if (client_gone && nkids == 0)
            _exit(0);
        struct pollfd pf[2] = {{sigfd, POLLIN, 0}, {sock, POLLIN, 0}};
        int r = poll(pf, client_gone ? 1 : 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            _exit(1);
        if (pf[0].revents) {
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
                if (si.ssi_signo == SIGTERM)
                    client_gone = 1;
            int st;
            pid_t w;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
                for (size_t i = 0; i < nkids; i++)
                    if (kids[i].pid == w) {
                        kids[i] = kids[--nkids];
                        break;
                    }
                if (!client_gone) {
                    fs_msg m = {.type = MSG_EXITED, .pid = w, .status = st};
                    send_msg(sock, &m, NULL, 0);
                }
            }
        }
        if (client_gone || !(pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        fs_msg m;
        int fds[REC_FDS + 1];
        int n = 0;
        r = recv_msg(sock, &m, fds, &n, 0);
        if (r <= 0 || m.type != MSG_START || n < 1) {
            for (int i = 0; i < n; i++)
                close(fds[i]);
            if (r <= 0 && r != -EAGAIN)
                client_gone = 1;
            continue;
        }
        if (nkids == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            server_child *nk = realloc(kids, ncap * sizeof *nk);
            if (!nk) {
                for (int i = 0; i < n; i++)
                    close(fds[i]);
                fs_msg rep = {.type = MSG_STARTED, .status = -ENOMEM};
                send_msg(sock, &rep, NULL, 0);
                continue;
            }
            kids = nk;
            cap = ncap;
        }
        pid_t pid = fork();
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            free(kids);
            server_child_run(fds, n, &m, sock, sigfd, self);
        }
        int e = errno;
        for (int i = 0; i < n; i++)
            close(fds[i]);
        fs_msg rep = {.type = MSG_STARTED,
                      .pid = pid > 0 ? pid : 0,
                      .status = pid > 0 ? 0 : -e};
        if (pid > 0)
            kids[nkids++] = (server_child){pid, m.daemon};
        send_msg(sock, &rep, NULL, 0);
    }
}

/* ---- the client side of the fork server ---- */

typedef struct {
    pid_t pid;
    int status;
    unsigned gen; /* of the server that reported it */
} fs_exit;

static struct {
    pthread_mutex_t lock;
    pid_t owner; /* the process the connection belongs to, 0 = none */
    pid_t server;
    int sock;
    int pidfd;
    unsigned gen; /* bumped each time a server is started */
    int atfork_done;
    fs_exit *exits; /* statuses read for children nobody waited on yet */
    size_t nexits, cap;
} fs = {PTHREAD_MUTEX_INITIALIZER, 0, 0, -1, -1, 0, 0, NULL, 0, 0};

/* Drops the connection without waiting: for a forked child, which must
 * not use its parent's server. */
static void fs_forget(void)
{
    if (fs.sock >= 0)
        close(fs.sock);
    if (fs.pidfd >= 0)
        close(fs.pidfd);
    fs.sock = fs.pidfd = -1;
    fs.owner = 0;
    fs.server = 0;
    if (fs.exits)
        free(fs.exits);
    fs.exits = NULL;
    fs.nexits = fs.cap = 0;
    /* What pthread_mutex_init does, without its code in every child. */
    fs.lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}

/* Closes this process's connection to its server and waits for the server
 * to end, so that no server outlives its client unreaped. The server
 * terminates daemon children and waits for the others first. */
static void fs_shutdown(void)
{
    if (fs.owner != rl__pid() || fs.sock < 0)
        return;
    close(fs.sock);
    fs.sock = -1;
    int st;
    while (waitpid(fs.server, &st, 0) < 0 && errno == EINTR)
        ;
    if (fs.pidfd >= 0)
        close(fs.pidfd);
    fs.pidfd = -1;
    fs.owner = 0;
}

static void fs_atexit(void)
{
    fs_shutdown();
}

/* Marks the server dead and reaps it. Called with the lock held. */
static void fs_dead(void)
{
    if (fs.sock >= 0)
        close(fs.sock);
    fs.sock = -1;
    int st;
    kill(fs.server, SIGKILL);
    while (waitpid(fs.server, &st, 0) < 0 && errno == EINTR)
        ;
    if (fs.pidfd >= 0)
        close(fs.pidfd);
    fs.pidfd = -1;
    fs.owner = 0;
}

/* Whether the server is still up; reaps it when it is not. Lock held. */
static int fs_alive(void)
{
    if (fs.owner != rl__pid() || fs.sock < 0)
        return 0;
    if (fs.pidfd >= 0) {
        struct pollfd pf = {fs.pidfd, POLLIN, 0};
        if (poll(&pf, 1, 0) > 0) {
            fs_dead();
            return 0;
        }
    }
    return 1;
}

/* Starts a server for this process. Lock held. */
static int fs_start(void)
{
    if (fs.owner && fs.owner != rl__pid())
        fs_forget();
    if (!fs.atfork_done) {
        atexit(fs_atexit);
        fs.atfork_done = 1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return rl__fail(-errno, "socketpair for the fork server: %s",
                        strerror(errno));
    char extra[64];
    snprintf(extra, sizeof extra, SERVER_ENV "=%d:%d", sv[1], (int)rl__pid());
    pid_t pid;
    int r = spawn_self(&pid, extra, &sv[1], 1, 1);
    close(sv[1]);
    if (r < 0) {
        close(sv[0]);
        return r;
    }
    fs.sock = sv[0];
    fs.server = pid;
    fs.pidfd = pidfd_open_(pid);
    fs.owner = rl__pid();
    fs.gen++;
    return 0;
}

/* Keeps a status read for some child. Lock held. */
static void fs_keep(pid_t pid, int status)
{
    if (fs.nexits == fs.cap) {
        size_t ncap = fs.cap ? fs.cap * 2 : 16;
        fs_exit *n = realloc(fs.exits, ncap * sizeof *n);
        if (!n)
            return;
        fs.exits = n;
        fs.cap = ncap;
    }
    fs.exits[fs.nexits++] = (fs_exit){pid, status, fs.gen};
}

/* Takes the kept status of pid. Returns 1 when there was one. Lock held. */
static int fs_take(pid_t pid, unsigned gen, int *status)
{
    for (size_t i = 0; i < fs.nexits; i++)
        if (fs.exits[i].pid == pid && fs.exits[i].gen == gen) {
            *status = fs.exits[i].status;
            fs.exits[i] = fs.exits[--fs.nexits];
            return 1;
        }
    return 0;
}

/* Reads the messages from the server, keeping exit statuses. With started
 * NULL, reads what is there without blocking; otherwise blocks until the
 * server's STARTED reply and returns it through *started. Returns 0, or
 * -EPIPE once the server went away (it is then reaped). Lock held. */
static int fs_drain(fs_msg *started)
{
    for (;;) {
        fs_msg m;
        int r = recv_msg(fs.sock, &m, NULL, NULL, started ? 0 : MSG_DONTWAIT);
        if (r == -EAGAIN)
            return 0;
        if (r <= 0) {
            fs_dead();
            return -EPIPE;
        }
        if (m.type == MSG_EXITED)
            fs_keep(m.pid, m.status);
        else if (m.type == MSG_STARTED && started) {
            *started = m;
            return 0;
        }
    }
}

/* Child status through the server, without blocking: 1 and *code when it
 * ended, 0 while it runs, -ECHILD when its server died. */
static int fs_poll_exit(rl_process *p, int *code)
{
    pthread_mutex_lock(&fs.lock);
    int st, r = 0;
    if (fs_take(p->pid, p->gen, &st))
        r = 1;
    else if (fs.gen != p->gen || fs.owner != rl__pid() || fs.sock < 0)
        r = -ECHILD;
    else {
        /* A server that died has closed its socket already, so reading to
         * EOF also tells of its death, after its last reports. */
        int d = fs_drain(NULL);
        if (fs_take(p->pid, p->gen, &st))
            r = 1;
        else if (d < 0)
            r = -ECHILD;
    }
    pthread_mutex_unlock(&fs.lock);
    if (r == 1)
        *code = status_code(st);
    if (r == -ECHILD) {
        p->state = ST_LOST;
        return rl__fail(-ECHILD,
                        "the fork server that started process %s "
                        "(pid %d) died, so its exit status is lost",
                        p->name, (int)p->pid);
    }
    return r;
}

static int launch_forkserver(rl_process *p, int explicit_name)
{
    boot_rec *rec;
    int fds[REC_FDS + 1];
    int r = prepare_rec(p, explicit_name, &rec, fds);
    if (r < 0)
        return r;
    int minfd = 3;
    for (int i = 0; i < rec->nfds + 1; i++)
        if (fds[i] >= minfd)
            minfd = fds[i] + 1;
    fs_msg m = {.type = MSG_START,
                .daemon = p->daemon,
                .nfds = rec->nfds,
                .minfd = minfd,
                .rec = (uintptr_t)rec,
                .base = (uintptr_t)rl__arena_base(),
                .size = rl__arena_size()};
    fs_msg rep = {0};
    rl__flush_stdio();
    pthread_mutex_lock(&fs.lock);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!fs_alive() && (r = fs_start()) < 0)
            break;
        r = send_msg(fs.sock, &m, fds, rec->nfds + 1);
        if (r == 0)
            r = fs_drain(&rep);
        if (r == 0)
            break;
        if (r != -EPIPE && r != -ECONNRESET) {
            r = rl__fail(r, "talking to the fork server: %s", strerror(-r));
            break;
        }
        fs_dead();
        r = rl__fail(-EPIPE, "the fork server died");
    }
    unsigned gen = fs.gen;
    pthread_mutex_unlock(&fs.lock);
    if (r == 0 && rep.status < 0)
        r = rl__fail(rep.status, "the fork server could not fork: %s",
                     strerror(-rep.status));
    if (r < 0) {
        rl_shared_free(rec);
        return r;
    }
    p->pid = rep.pid;
    p->rec = rec;
    p->gen = gen;
    r = wait_boot(p);
    if (r < 0) {
        /* A child lost with its server may still write to its record. */
        if (p->state == ST_DONE)
            rl_shared_free(rec);
        p->rec = NULL;
        p->pid = 0;
        p->state = ST_NEW;
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* The public calls                                                    */
/* ------------------------------------------------------------------ */

int rl_process_launch(rl_process *p)
{
    if (!p)
        return rl__fail(-EINVAL, "rl_process_launch: NULL handle");
    if (p->state != ST_NEW)
        return rl__fail(-EINVAL,
                        "rl_process_launch: process %s was "
                        "started already",
                        p->name);
    if (is_daemon)
        return rl__fail(-EPERM, "rl_process_launch: a daemon process may "
                                "not start children");
    /* Handles are private memory, whose addresses differ from run to run:
     * traces name the process instead. */
    /* target -1: the parent's side of a start, which takes the next
     * actor id (the child's own first step is also a START). */
    rl__point_key(RL_OP_START, NULL, NULL, -1, p->name);
    int serr;
    p->actor = rl__sched_actor_new(p->name, p->method, &serr);
    if (p->actor < 0 && serr < 0) {
        /* A limit of racelab's, not a bug of the scenario's. */
        if (serr == -EAGAIN)
            rl__sched_verdict(RL_ERROR,
                              "an execution holds at most %d processes; "
                              "process %s is one too many",
                              RL__MAX_ACTORS, p->name);
        return serr;
    }
    if (p->daemon)
        rl__sched_actor_daemon(p->actor);
    /* A default name is only a handle name: the child keeps its parent's
     * program name, so `ps` shows the program, not "exe". */
    int explicit_name = p->named;
    int r;
    if (!__atomic_load_n(&atfork_registered, __ATOMIC_ACQUIRE))
        pthread_once(&atfork_once, atfork_register);
    p->state = ST_RUNNING;
    p->owner = rl__pid();
    switch (p->method) {
    case RL_START_FORK:
        r = launch_fork(p, explicit_name);
        break;
    case RL_START_SPAWN:
        r = launch_spawn(p, explicit_name);
        break;
    default:
        r = launch_forkserver(p, explicit_name);
        break;
    }
    if (r < 0) {
        if (r == -EAGAIN)
            rl__fork_limit_verdict(p->name);
        rl__sched_actor_failed(p->actor);
        p->state = ST_NEW;
        p->pid = 0;
    } else {
        rl__sched_actor_pid(p->actor, p->pid);
    }
    return r;
}

int rl_process_start(rl_process **p, rl_entry fn, void *arg,
                     const rl_process_opts *opts)
{
    if (!p)
        return rl__fail(-EINVAL, "rl_process_start: the handle pointer is "
                                 "NULL");
    rl_process *h;
    int r = rl_process_new(&h, fn, arg, opts);
    if (r < 0)
        return r;
    r = rl_process_launch(h);
    if (r < 0) {
        free(h->name);
        free(h);
        return r;
    }
    *p = h;
    return 0;
}

/* Records the end of a child and releases what watched it. */
static void mark_done(rl_process *p, int code)
{
    p->state = ST_DONE;
    p->code = code;
    if (p->pidfd >= 0)
        rl__sys(SYS_close, p->pidfd, 0, 0, 0, 0, 0);
    p->pidfd = -1;
    rl_shared_free(p->rec);
    p->rec = NULL;
}

void rl__fork_limit_verdict(const char *what)
{
    struct rlimit rl;
    char limit[48] = "unlimited";
    if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snprintf(limit, sizeof limit, "%llu",
                 (unsigned long long)rl.rlim_cur);
    rl__sched_verdict(RL_ERROR,
                      "cannot fork %s: the process limit (RLIMIT_NPROC %s, "
                      "ulimit -u; or the system's pid or thread limit) is "
                      "reached",
                      what, limit);
}

/* Common checks of join, kill and friends. */
static int check_started(const rl_process *p, const char *what)
{
    if (!p)
        return rl__fail(-EINVAL, "%s: NULL handle", what);
    if (p->state == ST_NEW)
        return rl__fail(-EINVAL, "%s: process %s was never started", what,
                        p->name);
    return 0;
}

/* One non-blocking look at the child: 1 when it ended (and is recorded),
 * 0 while it runs, negative on error. */
static int poll_once(rl_process *p)
{
    int code;
    int r = child_ended(p, &code);
    if (r > 0)
        mark_done(p, code);
    return r;
}

/* Join of a fork or spawn child outside the scheduler's control. */
static int join_pidfd(rl_process *p, double deadline)
{
    for (;;) {
        int r = poll_once(p);
        if (r != 0)
            return r < 0 ? r : 0;
        if (rl__expired(deadline))
            return -ETIMEDOUT;
        if (p->pidfd >= 0) {
            struct pollfd pf = {p->pidfd, POLLIN, 0};
            r = poll(&pf, 1, rl__remaining_ms(deadline));
            if (r < 0 && errno != EINTR)
                return rl__fail(-errno, "poll on a pidfd: %s", strerror(errno));
            if (r == 0)
                return -ETIMEDOUT;
        } else {
            int ms = rl__remaining_ms(deadline);
            usleep(ms < 0 || ms > 10 ? 10000 : (useconds_t)ms * 1000);
        }
    }
}

/* Join of a forkserver child: statuses come over the server socket. */
static int join_server(rl_process *p, double deadline)
{
    for (;;) {
        int r = poll_once(p);
        if (r != 0)
            return r < 0 ? r : 0;
        if (rl__expired(deadline))
            return -ETIMEDOUT;
        /* Another thread may read our status into the kept list, so
         * look again at least every slice. */
        pthread_mutex_lock(&fs.lock);
        int sock = fs.sock;
        pthread_mutex_unlock(&fs.lock);
        int ms = rl__remaining_ms(deadline);
        if (ms < 0 || ms > 100)
            ms = 100;
        struct pollfd pf[2] = {{sock, POLLIN, 0}, {fs.pidfd, POLLIN, 0}};
        r = poll(pf, 2, ms);
        if (r < 0 && errno != EINTR)
            return rl__fail(-errno, "poll on the fork server: %s",
                            strerror(errno));
    }
}

/* Join under a scheduler: never blocks in the kernel except for the last
 * instant of a child that announced its exit. */
static int join_controlled(rl_process *p, double deadline)
{
    /* A try-once join (timeout 0) looks and returns: it is not a wait the
     * scheduler could make last. */
    int try_once = deadline >= 0 && rl__expired(deadline);
    for (;;) {
        boot_rec *rec = p->rec;
        uint32_t seen = __atomic_load_n(&rec->word, __ATOMIC_ACQUIRE);
        int r;
        /* Only the scheduler's view counts here, never the kernel's: a
         * child may already be gone in the kernel while, in the
         * interleaving being run, it has not finished yet. The scheduler
         * marks the actor finished before it hands the token on; what is
         * left of it then is its last instant in the kernel. */
        /* A finished child that still waits for its fork server's
         * children (actors that need the token) is waited for through the
         * scheduler: their exits will wake this join. */
        if (rl__sched_actor_finished(p->pid) &&
            !rl__sched_actor_lingers(p->pid)) {
            /* Finished in the interleaving: the join succeeds, whatever
             * its timeout, so it waits for that last instant whatever the
             * timeout says (a process past its exit point ends at once). */
            if (p->method != RL_START_FORKSERVER) {
                /* Most often it has ended already. */
                int ended = poll_once(p);
                if (ended != 0)
                    return ended < 0 ? ended : 0;
            }
            /* No deadline: a process past its exit point always ends,
             * and on a loaded machine that may take a while. */
            double last = -1.0;
            return p->method == RL_START_FORKSERVER ? join_server(p, last)
                                                    : join_pidfd(p, last);
        }
        if (try_once)
            return -ETIMEDOUT;
        /* Put together by hand: a join that waits is in every execution,
         * and printf's code would be faulted into each root. */
        char reason[96];
        size_t at = rl__append(reason, sizeof reason, 0, "join: waiting for ");
        at = rl__append(reason, sizeof reason, at, p->name);
        at = rl__append(reason, sizeof reason, at, " (pid ");
        at = rl__append_long(reason, sizeof reason, at, p->pid);
        rl__append(reason, sizeof reason, at, ") to exit");
        r = rl__block(rec, &rec->word, seen, deadline, reason);
        if (r == -ETIMEDOUT)
            return r;
    }
}

int rl_process_join(rl_process *p, double timeout)
{
    int r = check_started(p, "rl_process_join");
    if (r < 0)
        return r;
    if (p->state == ST_DONE)
        return 0;
    if (p->state == ST_LOST)
        return rl__fail(-ECHILD,
                        "the fork server that started process %s "
                        "died, so its exit status is lost",
                        p->name);
    if (p->owner != rl__pid())
        return rl__fail(-ECHILD,
                        "rl_process_join: only the process that "
                        "started %s (pid %d) may join it",
                        p->name, (int)p->owner);
    rl__point_key(RL_OP_JOIN, NULL, NULL,
                  p->rec && p->actor >= 0 ? p->actor + 1 : 0, p->name);
    double deadline = rl__deadline(timeout);
    if (rl__controlled() && p->rec && p->actor >= 0)
        r = join_controlled(p, deadline);
    else if (p->method == RL_START_FORKSERVER)
        r = join_server(p, deadline);
    else
        r = join_pidfd(p, deadline);
    if (r == -ETIMEDOUT)
        return rl__fail(-ETIMEDOUT, "process %s (pid %d) is still running",
                        p->name, (int)p->pid);
    return r;
}

static int signal_ends(pid_t pid, int sig);

/* Under a scheduler the victim is parked waiting for the token: wait until
 * the kernel has really ended it (its robust locks released, its
 * descriptors closed), so that what follows does not depend on timing,
 * then tell the scheduler. A SIGTERM that a handler caught leaves it
 * alive after a second. */
static void wait_killed(rl_process *p, int sig)
{
    /* A signal that ends it ends it, however long the kernel takes on a
     * loaded machine: no deadline then. */
    double deadline = rl__deadline(signal_ends(p->pid, sig) ? -1.0 : 1.0);
    while (!rl__expired(deadline)) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)p->pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            break;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        const char *rp = strrchr(buf, ')');
        if (!rp || rp[2] == 'Z' || rp[2] == 'X')
            break;
        usleep(500);
    }
    if (!rl__expired(deadline))
        rl__sched_actor_killed(p->pid, sig);
}

/* 1 when sig will end pid: SIGKILL always, another signal when pid
 * neither catches nor ignores it (from /proc/PID/status). */
static int signal_ends(pid_t pid, int sig)
{
    if (sig == SIGKILL)
        return 1;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *ign = strstr(buf, "SigIgn:"), *cgt = strstr(buf, "SigCgt:");
    if (!ign || !cgt)
        return 0;
    unsigned long long mask =
        strtoull(ign + 7, NULL, 16) | strtoull(cgt + 7, NULL, 16);
    return !(mask >> (sig - 1) & 1);
}

/* Under a scheduler, records that the victim dies on purpose before the
 * signal lands: the supervisor looks for actors that died outside their
 * exit path and must not find this one dead first and call it a crash. */
static void mark_killed(rl_process *p, int sig)
{
    rl__sched *S = rl__sched_get();
    int id = rl__sched_find_pid(p->pid);
    if (S && id >= 0 && signal_ends(p->pid, sig))
        __atomic_store_n(&S->actors[id].killed, 1, __ATOMIC_RELEASE);
}

/* Sends sig unless the process already ended. */
static int send_signal(rl_process *p, int sig, const char *what)
{
    int r = check_started(p, what);
    if (r < 0)
        return r;
    if (p->state != ST_RUNNING)
        return 0;
    if (p->method == RL_START_FORKSERVER && p->owner == rl__pid() &&
        poll_once(p) == 1)
        return 0;
    /* The signal ends or disturbs another actor in the middle of this
     * step, whatever its op. */
    rl__sched_step_global();
    if (p->actor >= 0 && rl__controlled())
        mark_killed(p, sig);
    if (kill(p->pid, sig) < 0 && errno != ESRCH)
        return rl__fail(-errno, "%s: kill(%d): %s", what, (int)p->pid,
                        strerror(errno));
    if (p->actor >= 0 && rl__controlled())
        wait_killed(p, sig);
    else if (p->actor >= 0)
        rl__sched_actor_killed(p->pid, 0);
    return 0;
}

int rl_process_terminate(rl_process *p)
{
    return send_signal(p, SIGTERM, "rl_process_terminate");
}

int rl_process_kill(rl_process *p)
{
    return send_signal(p, SIGKILL, "rl_process_kill");
}

/* Whether process pid runs, for a process this one cannot wait for: a
 * zombie (or one being reaped) counts as ended, which kill(pid, 0) cannot
 * tell. Falls back to kill when /proc cannot say. */
static int pid_alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ESRCH)
            return 0;
        return kill(pid, 0) == 0;
    }
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return 0; /* it ended between the open and the read */
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    if (!rp || rp[1] == '\0' || rp[2] == '\0')
        return kill(pid, 0) == 0;
    return rp[2] != 'Z' && rp[2] != 'X' && rp[2] != 'x';
}

int rl_process_is_alive(rl_process *p)
{
    if (!p || p->state == ST_NEW || p->state == ST_DONE)
        return 0;
    rl__sched_step_global(); /* a look without a schedule point */
    if (p->actor >= 0 && rl__controlled())
        return !rl__sched_actor_finished(p->pid);
    /* A child lost with its server, or one this process did not start,
     * can only be probed. */
    if (p->state == ST_LOST || p->owner != rl__pid())
        return pid_alive(p->pid);
    return poll_once(p) == 0;
}

int rl_process_exitcode(const rl_process *p, int *code)
{
    int r = check_started(p, "rl_process_exitcode");
    if (r < 0)
        return r;
    if (!code)
        return rl__fail(-EINVAL, "rl_process_exitcode: code is NULL");
    if (p->state == ST_LOST)
        return rl__fail(-ECHILD,
                        "the exit status of process %s is lost "
                        "with its fork server",
                        p->name);
    if (p->state != ST_DONE)
        return rl__fail(-EAGAIN, "process %s has not been joined", p->name);
    *code = p->code;
    rl__sched_exit_observed(p->pid);
    return 0;
}

pid_t rl_process_pid(const rl_process *p)
{
    return p ? p->pid : 0;
}

const char *rl_process_name(const rl_process *p)
{
    return p && p->name ? p->name : "";
}

int rl_process_free(rl_process *p)
{
    if (!p)
        return 0;
    if (p->state == ST_RUNNING && p->owner == rl__pid())
        return rl__fail(-EBUSY,
                        "rl_process_free: process %s (pid %d) runs "
                        "or has not been joined",
                        p->name, (int)p->pid);
    /* A copy inherited through fork leaves the record to its owner, and a
     * child lost with its server may still write to its record. */
    if (p->owner == rl__pid() && p->state != ST_LOST)
        rl_shared_free(p->rec);
    if (p->pidfd >= 0)
        close(p->pidfd);
    free(p->name);
    free(p);
    return 0;
}
