/* boot.c: the child side of a start: the record a spawned or forkserver
 * child boots from, finding its entry function by object and offset, the
 * spawn of /proc/self/exe, and the one exit path of every child. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "boot.h"
#include "scheduler.h"

#ifdef RL_COVERAGE
extern void __gcov_dump(void);
#endif

extern char **environ;

/* The connection module is linked only into programs that use
 * connections; without it a process holds no connection ends, so weak
 * references let a child boot without it. */
#pragma weak rl__conn_held_fds
#pragma weak rl__conn_adopt

/* This process is a daemon child: it may not start children. */
static int is_daemon;
/* This process's own record when it is a racelab child. */
static rl__boot_rec *self_rec;
/* What rl__exit runs before the process ends (rl__boot_on_exit). */
static void (*exit_hook)(void);

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

int rl__pidfd_open(pid_t pid)
{
    long fd = rl__sys(SYS_pidfd_open, pid, 0, 0, 0, 0, 0);
    if (fd < 0) {
        errno = (int)-fd;
        return -1;
    }
    return (int)fd;
}

void rl__set_comm(const char *name)
{
    if (name && *name)
        prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

const char *rl__parse_field(const char *s, int base, char sep,
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

void rl__boot_on_exit(void (*fn)(void))
{
    exit_hook = fn;
}

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
    if (exit_hook)
        exit_hook();
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
                n->n_descsz <= RL__BUILD_ID_MAX &&
                p + desc + n->n_descsz <= end) {
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
    rl__boot_rec *rec;
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
        if (strlen(name) >= RL__REC_PATH)
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
static int describe_entry(rl_entry fn, rl__boot_rec *rec)
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
    const rl__boot_rec *rec;
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
    unsigned char id[RL__BUILD_ID_MAX];
    uint32_t len = read_build_id(info, id);
    if (len != c->rec->build_id_len || memcmp(id, c->rec->build_id, len))
        return 0;
    c->addr = info->dlpi_addr + c->rec->offset;
    return 1;
}

/* In a child: finds the entry described by rec. Returns NULL and writes the
 * reason into rec->msg when it cannot. */
static rl_entry resolve_entry(rl__boot_rec *rec)
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
/* The record                                                          */
/* ------------------------------------------------------------------ */

rl__boot_rec *rl__boot_new_rec(void)
{
    rl__boot_rec *rec = rl_shared_alloc(sizeof *rec);
    if (rec)
        rec->err = 0;
    return rec;
}

int rl__boot_fill(rl__boot_rec *rec, rl_entry fn, void *arg, int actor,
                  int daemon, const char *comm, int spawned)
{
    rec->arg = arg;
    rec->actor = actor;
    rec->daemon = daemon;
    rec->parent = rl__pid();
    if (comm)
        snprintf(rec->comm, sizeof rec->comm, "%s", comm);
    else
        rl__sys(SYS_prctl, PR_GET_NAME, (long)rec->comm, 0, 0, 0, 0);
    if (!spawned)
        return 0;
    int r = describe_entry(fn, rec);
    if (r < 0)
        return r;
    int n = rl__conn_held_fds ? rl__conn_held_fds(rec->fds, RL__REC_FDS) : 0;
    if (n > RL__REC_FDS)
        return rl__fail(-EMFILE,
                        "this process holds %d connection ends; a "
                        "spawned child can take at most %d",
                        n, RL__REC_FDS);
    rec->nfds = n < 0 ? 0 : n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Booting a spawned or forkserver child                               */
/* ------------------------------------------------------------------ */

_Noreturn void rl__boot_fail(rl__boot_rec *rec, int err)
{
    rec->err = err;
    __atomic_store_n(&rec->status, RL__BOOT_FAILED, __ATOMIC_RELEASE);
    rl__publish(&rec->word);
    rl__flush_stdio();
    _exit(127);
}

_Noreturn void rl__boot_unmapped(int fd, void *addr, size_t size,
                                 uintptr_t rec_addr, int err)
{
    char *alt = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (alt == MAP_FAILED)
        _exit(127);
    rl__boot_rec *rec = (rl__boot_rec *)(alt + (rec_addr - (uintptr_t)addr));
    snprintf(rec->msg, sizeof rec->msg,
             "the child could not map the "
             "arena: %s",
             rl_last_error());
    rl__boot_fail(rec, err);
}

void rl__boot_become(rl__boot_rec *rec, int daemon, pid_t parent)
{
    if (daemon) {
        is_daemon = 1;
        prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
        if (getppid() != parent)
            raise(SIGTERM);
    }
    self_rec = rec;
    if (rec) {
        __atomic_store_n(&rec->status, RL__BOOT_OK, __ATOMIC_RELEASE);
        rl__publish(&rec->word);
    }
}

int rl__boot_is_daemon(void)
{
    return is_daemon;
}

void rl__boot_forget_self(void)
{
    self_rec = NULL;
}

_Noreturn void rl__boot_run(rl__boot_rec *rec, pid_t parent)
{
    rl__set_comm(rec->comm);
    for (int i = 0; i < rec->nfds; i++)
        fcntl(rec->fds[i], F_SETFD, FD_CLOEXEC);
    if (rl__conn_adopt)
        rl__conn_adopt(rec->fds, rec->nfds);
    rl_entry fn = resolve_entry(rec);
    if (!fn)
        rl__boot_fail(rec, -ENOEXEC);
    rl__boot_become(rec, rec->daemon, parent);
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
        rl__boot_unmapped(fd, addr, size, rec_addr, r);
    rl__boot_run((rl__boot_rec *)rec_addr, parent);
}

/* Runs before main in every program that links this file: a spawned child
 * takes over here and never returns to main (a fork server does the same
 * in forkserver.c). */
__attribute__((constructor)) static void process_boot(void)
{
    const char *s = getenv(RL__BOOT_ENV);
    if (s) {
        unsigned long long fd, addr, size, rec, parent;
        if (!(s = rl__parse_field(s, 10, ':', &fd)) ||
            !(s = rl__parse_field(s, 16, ':', &addr)) ||
            !(s = rl__parse_field(s, 16, ':', &size)) ||
            !(s = rl__parse_field(s, 16, ':', &rec)) ||
            !(s = rl__parse_field(s, 10, '\0', &parent)))
            _exit(127);
        unsetenv(RL__BOOT_ENV);
        boot_child((int)fd, (void *)(uintptr_t)addr, (size_t)size,
                   (uintptr_t)rec, (pid_t)parent);
    }
}

/* ------------------------------------------------------------------ */
/* Spawning a fresh copy of the program                               */
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
        if (strncmp(*e, RL__BOOT_ENV "=", sizeof RL__BOOT_ENV) != 0 &&
            strncmp(*e, RL__SERVER_ENV "=", sizeof RL__SERVER_ENV) != 0)
            env[k++] = *e;
    env[k++] = extra;
    env[k] = NULL;
    return env;
}

int rl__spawn_self(pid_t *pid, char *extra, const int *keep, int nkeep,
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
