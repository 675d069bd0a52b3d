/* extspawn.c: how a run of racelab stress -- CMD starts: the program
 * found once in PATH, the environment of every run (its number, the noise
 * library and its settings), the spawn in a process group of its own with
 * its output captured. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "extstress_internal.h"

extern char **environ;

/* Formats a non-negative number with six decimals without the locale. */
static void fmt_fixed(char *buf, size_t size, double v)
{
    long micro = (long)(v * 1e6 + 0.5);
    snprintf(buf, size, "%ld.%06ld", micro / 1000000, micro % 1000000);
}


/* True when an environment entry is one of the variables set per run. */
static int own_var(const char *e)
{
    static const char *names[] = {"RACELAB_RUN=", "RACELAB_NOISE=",
                                  "RACELAB_NOISE_SEED=", RL__EXT_OWNER_VAR};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strncmp(e, names[i], strlen(names[i])))
            return 1;
    return 0;
}

/* Builds the child environment: the caller's, with RACELAB_RUN and, with
 * noise, LD_PRELOAD, RACELAB_NOISE and RACELAB_NOISE_SEED. Returns 0 or
 * -errno. */
int rl__ext_build_env(rl__ext_ctx *c)
{
    const rl__stress_opts *o = c->o;
    char lib[PATH_MAX];
    if (o->noise > 0) {
        int err = rl__find_runtime_lib("libracelab-noise.so", o->noise_lib, lib);
        if (err < 0)
            return err;
    }
    size_t n = 0;
    while (environ && environ[n])
        n++;
    c->envp = calloc(n + 6, sizeof *c->envp);
    c->run_var = malloc(48);
    if (!c->envp || !c->run_var)
        return rl__fail(-ENOMEM, "out of memory");
    size_t k = 0;
    const char *preload = NULL;
    for (size_t i = 0; i < n; i++) {
        if (own_var(environ[i]))
            continue;
        if (o->noise > 0 && !strncmp(environ[i], "LD_PRELOAD=", 11)) {
            preload = environ[i] + 11;
            continue;
        }
        c->envp[k++] = environ[i];
    }
    c->envp[k++] = c->run_var;
    if (o->noise > 0) {
        size_t len = strlen(lib) + (preload ? strlen(preload) : 0) + 16;
        char *pre = malloc(len);
        char *nv = malloc(64);
        c->seed_var = malloc(64);
        if (!pre || !nv || !c->seed_var) {
            free(pre);
            free(nv);
            return rl__fail(-ENOMEM, "out of memory");
        }
        if (preload && *preload)
            snprintf(pre, len, "LD_PRELOAD=%s:%s", preload, lib);
        else
            snprintf(pre, len, "LD_PRELOAD=%s", lib);
        char num[40];
        fmt_fixed(num, sizeof num, o->noise > 1 ? 1 : o->noise);
        snprintf(nv, 64, "RACELAB_NOISE=%s", num);
        c->envp[k++] = pre;
        c->envp[k++] = nv;
        c->envp[k++] = c->seed_var;
    }
    /* Every process of a run carries it: the guard finds by it a run
     * that started after its group was written down (see extguard.c). */
    static char owner[64];
    snprintf(owner, sizeof owner, RL__EXT_OWNER_VAR "%d", (int)getpid());
    c->envp[k++] = owner;
    c->envp[k] = NULL;
    return 0;
}

/* Frees the environment built by build_env. */
void rl__ext_free_env(rl__ext_ctx *c)
{
    if (c->envp && c->o->noise > 0) {
        size_t k = 0;
        while (c->envp[k] && c->envp[k] != c->run_var)
            k++;
        if (c->envp[k]) {
            free(c->envp[k + 1]);
            free(c->envp[k + 2]);
        }
    }
    free(c->seed_var);
    free(c->run_var);
    free(c->envp);
}

/* Makes a pipe whose read end is non-blocking. Returns 0 or -errno. */
static int make_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    return 0;
}

/* Starts run number `run` in slot s. Returns 0 or the spawn's -errno. */
int rl__ext_start_run(rl__ext_ctx *c, rl__ext_slot *s, long run)
{
    const rl__stress_opts *o = c->o;
    int capture = c->nkept < RL__KEPT_OUTPUTS || o->failure_dir;
    int want_out = capture || o->expect_stdout;
    int sep_err = capture && o->expect_stdout;
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    int err = 0;
    if (want_out && (err = make_pipe(po)) < 0)
        return rl__fail(err, "pipe: %s", strerror(-err));
    if (sep_err && (err = make_pipe(pe)) < 0) {
        close(po[0]);
        close(po[1]);
        return rl__fail(err, "pipe: %s", strerror(-err));
    }
    snprintf(c->run_var, 48, "RACELAB_RUN=%ld", run);
    if (c->seed_var)
        snprintf(c->seed_var, 64, "RACELAB_NOISE_SEED=%llu",
                 (unsigned long long)(o->seed + (uint64_t)run));

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, c->devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, want_out ? po[1] : c->devnull, 1);
    posix_spawn_file_actions_adddup2(&fa,
                                     sep_err   ? pe[1]
                                     : capture ? po[1]
                                               : c->devnull,
                                     2);
    pid_t pid;
    int rc = posix_spawn(&pid, c->path, &fa, &c->attr, c->argv, c->envp);
    posix_spawn_file_actions_destroy(&fa);
    if (po[1] >= 0)
        close(po[1]);
    if (pe[1] >= 0)
        close(pe[1]);
    if (rc != 0) {
        if (po[0] >= 0)
            close(po[0]);
        if (pe[0] >= 0)
            close(pe[0]);
        return rl__fail(-rc, "cannot run '%s': %s", c->argv[0], strerror(rc));
    }
    s->pid = pid;
    if (c->groups)
        __atomic_store_n(&c->groups[s - c->slots], pid, __ATOMIC_RELEASE);
    s->start_ticks = rl__ticks_now();
    s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    s->out = po[0];
    s->err = pe[0];
    s->captured = capture;
    s->separate_err = sep_err;
    s->run = run;
    s->start = rl__now();
    s->deadline = c->timeout < 0 ? -1 : s->start + c->timeout;
    s->timed_out = 0;
    s->hung_kept = 0;
    s->tout.len = s->terr.len = 0;
    s->tout.dropped = s->terr.dropped = 0;
    c->inflight++;
    return 0;
}

/* The spawn attributes of every run: its own process group, no blocked
 * signal, and the default action for the signals this process may handle
 * or ignore, so that the program starts as it would from a shell. */
void rl__ext_spawn_attr(posix_spawnattr_t *attr, int own_session)
{
    posix_spawnattr_init(attr);
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    int defaults[] = {SIGPIPE, SIGINT,  SIGQUIT, SIGTERM, SIGHUP,
                      SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP,
                      SIGTTIN, SIGTTOU, SIGXFSZ};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        sigaddset(&dfl, defaults[i]);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &dfl);
    posix_spawnattr_setpgroup(attr, 0);
    posix_spawnattr_setflags(
        attr, (own_session ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP) |
                  POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}
