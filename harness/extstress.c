/* extstress.c: racelab stress -- CMD...: runs an unmodified program many
 * times in parallel, each run in a process group of its own, and
 * classifies every run. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "extstress.h"
#include "harness.h"

extern char **environ;

#define KEEP_BYTES 65536 /* output kept per stream of a run */
#define READ_CHUNK 16384

/* The tail of one output stream of a run. */
typedef struct {
    char *buf;
    size_t len, cap;
    int dropped; /* the head was dropped to keep the tail */
} tail_buf;

/* One run in flight. pid 0: the slot is free. */
typedef struct {
    pid_t pid;
    int pidfd;        /* -1: no pidfd, polled with WNOHANG */
    int out, err;     /* read ends, -1 when closed or unused */
    int captured;     /* its output goes to the tails */
    int separate_err; /* stderr has a pipe of its own */
    long run;         /* 1-based run number over all shards */
    double start, deadline;
    unsigned long long start_ticks; /* boot-time clock ticks at its start */
    int timed_out;
    tail_buf tout, terr;
} slot;

/* A kept output with the run it belongs to. */
typedef struct {
    long run;
    char *text;
} kept;

/* Everything one call works with. */
typedef struct {
    const rl__stress_opts *o;
    rl__result *r;
    char *const *argv;
    char path[PATH_MAX];
    int devnull;
    posix_spawnattr_t attr;
    char **envp;
    char *run_var;  /* RACELAB_RUN=..., rewritten per run */
    char *seed_var; /* RACELAB_NOISE_SEED=..., or NULL */
    slot *slots;
    int nslots, inflight;
    double timeout;
    size_t cap;
    kept keep[RL__KEPT_OUTPUTS];
    int nkept;
    long total;    /* runs of this shard */
    pid_t *groups; /* shared with the guard: the runs' process groups */
    pid_t guard;   /* the guard process, 0 without one */
    unsigned long long began; /* boot-time ticks when the first run began */
} ctx;

/* ---- small helpers ---- */

/* Appends up to n bytes read from fd to t, dropping the oldest half when
 * the buffer is full. Returns the read(2) result. */
static ssize_t tail_read(tail_buf *t, int fd)
{
    if (t->cap - t->len < READ_CHUNK / 4) {
        size_t drop = t->len - t->cap / 2;
        memmove(t->buf, t->buf + drop, t->len - drop);
        t->len -= drop;
        t->dropped = 1;
    }
    ssize_t n;
    do {
        n = read(fd, t->buf + t->len, t->cap - t->len);
    } while (n < 0 && errno == EINTR);
    if (n > 0)
        t->len += (size_t)n;
    return n;
}

/* Reads what fd holds now (it is non-blocking) and closes it when it
 * reached end of file, or always when final. */
static void drain(tail_buf *t, int *fd, int final)
{
    if (*fd < 0)
        return;
    ssize_t n;
    int rounds = 0;
    while ((n = tail_read(t, *fd)) > 0 && ++rounds < 64)
        if (!final)
            break;
    if (n == 0 || final || (n < 0 && errno != EAGAIN)) {
        close(*fd);
        *fd = -1;
    }
}

/* Length of s without its trailing newlines. */
static size_t trim_len(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == '\n')
        n--;
    return n;
}

/* The name of a signal, "SIGSEGV", in buf. */
static const char *sig_name(int sig, char *buf, size_t size)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, size, "SIG%s", abbrev);
    else
        snprintf(buf, size, "signal %d", sig);
    return buf;
}

/* Formats a non-negative number with six decimals without the locale. */
static void fmt_fixed(char *buf, size_t size, double v)
{
    long micro = (long)(v * 1e6 + 0.5);
    snprintf(buf, size, "%ld.%06ld", micro / 1000000, micro % 1000000);
}

/* Finds the program the way execvp would (PATH, default "/bin:/usr/bin")
 * once, so that runs do not search. Returns 0 or -ENOENT / -EACCES. */
static int find_program(const char *name, char *out, size_t size)
{
    if (!*name)
        return rl__fail(-ENOENT, "empty command name");
    if (strchr(name, '/')) {
        if (snprintf(out, size, "%s", name) >= (int)size)
            return rl__fail(-ENAMETOOLONG, "command path too long");
        /* Checked here too, for spawns that report exec errors late. */
        if (access(out, X_OK) != 0)
            return rl__fail(-errno, "cannot run '%s': %s", name,
                            strerror(errno));
        return 0;
    }
    const char *p = getenv("PATH");
    if (!p || !*p)
        p = "/bin:/usr/bin";
    int denied = 0;
    while (*p) {
        const char *e = strchr(p, ':');
        size_t dl = e ? (size_t)(e - p) : strlen(p);
        int n = dl ? snprintf(out, size, "%.*s/%s", (int)dl, p, name)
                   : snprintf(out, size, "%s", name);
        struct stat st;
        if (n < (int)size && stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            denied = 1;
        }
        p += dl;
        if (*p == ':')
            p++;
    }
    if (denied)
        return rl__fail(-EACCES, "cannot run '%s': permission denied", name);
    return rl__fail(-ENOENT, "cannot run '%s': command not found in PATH",
                    name);
}

#ifndef RL_TESTING
/* The LIBDIR make install puts libracelab-noise.so in, and the same
 * relative to BINDIR ("" when not both under PREFIX), from the file the
 * Makefile generates from them. */
extern const char rl__libdir[], rl__libdir_rel[];
#else
static const char rl__libdir[] = "", rl__libdir_rel[] = "";
#endif

/* Finds libracelab-noise.so next to this program (the build tree), where
 * LIBDIR is relative to BINDIR or in ../lib of it (a relocated or DESTDIR
 * installation), else in the configured LIBDIR (a copy of the program
 * elsewhere, a user's program built with libracelab).
 * Returns 0 with the absolute path in out (PATH_MAX bytes), or -ENOENT. */
static int find_noise_lib(const char *given, char *out)
{
    if (given) {
        if (!realpath(given, out) || access(out, R_OK) != 0)
            return rl__fail(-ENOENT, "noise library '%s' not found", given);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return rl__fail(-ENOENT, "noise library: cannot read "
                                 "/proc/self/exe");
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    const char *tries[][2] = {{exe, "."},
                              {exe, rl__libdir_rel},
                              {exe, "../lib"},
                              {rl__libdir, "."}};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        char cand[2 * PATH_MAX + 32];
        if (!*tries[i][0] || !*tries[i][1])
            continue;
        snprintf(cand, sizeof cand, "%s/%s/libracelab-noise.so", tries[i][0],
                 tries[i][1]);
        if (access(cand, R_OK) == 0 && realpath(cand, out))
            return 0;
    }
    return rl__fail(-ENOENT,
                    "noise library libracelab-noise.so not found "
                    "in %s, %s/../lib%s%s",
                    exe, exe, *rl__libdir ? " or " : "", rl__libdir);
}

/* True when an environment entry is one of the variables set per run. */
static int own_var(const char *e)
{
    static const char *names[] = {
        "RACELAB_RUN=", "RACELAB_NOISE=", "RACELAB_NOISE_SEED="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strncmp(e, names[i], strlen(names[i])))
            return 1;
    return 0;
}

/* Builds the child environment: the caller's, with RACELAB_RUN and, with
 * noise, LD_PRELOAD, RACELAB_NOISE and RACELAB_NOISE_SEED. Returns 0 or
 * -errno. */
static int build_env(ctx *c)
{
    const rl__stress_opts *o = c->o;
    char lib[PATH_MAX];
    if (o->noise > 0) {
        int err = find_noise_lib(o->noise_lib, lib);
        if (err < 0)
            return err;
    }
    size_t n = 0;
    while (environ && environ[n])
        n++;
    c->envp = calloc(n + 5, sizeof *c->envp);
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
    c->envp[k] = NULL;
    return 0;
}

/* Frees the environment built by build_env. */
static void free_env(ctx *c)
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

/* ---- runs ---- */

/* Makes a pipe whose read end is non-blocking. Returns 0 or -errno. */
static int make_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    return 0;
}

/* Starts run number `run` in slot s. Returns 0 or the spawn's -errno. */
static int start_run(ctx *c, slot *s, long run)
{
    const rl__stress_opts *o = c->o;
    int capture = c->nkept < RL__KEPT_OUTPUTS;
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
    s->tout.len = s->terr.len = 0;
    s->tout.dropped = s->terr.dropped = 0;
    c->inflight++;
    return 0;
}

/* ---- what outlives racelab ---- */

/* The guard: a small child that waits for this process to end and, if it
 * ends while runs are in flight (killed outright: SIGKILL leaves no
 * chance to clean up), kills their process groups, whose members would
 * otherwise run on under init. groups is shared memory holding the
 * leaders of the runs in flight (0: a free slot). Never returns. */
static _Noreturn void guard_main(pid_t *groups, int n, pid_t owner)
{
    rl__sys(SYS_setpgid, 0, 0, 0, 0, 0, 0);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_NAME, (unsigned long)"racelab-guard", 0, 0, 0);
    int fd = (int)syscall(SYS_pidfd_open, owner, 0);
    /* Nothing of the owner's is held open (a pipe's reader would wait
     * for this process too). */
    for (int i = 0; i < 1024; i++)
        if (i != fd)
            close(i);
    while (getppid() == owner) {
        if (fd >= 0) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, -1) > 0)
                break;
        } else {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < n; i++) {
            pid_t g = __atomic_load_n(&groups[i], __ATOMIC_ACQUIRE);
            if (g > 0)
                kill(-g, SIGKILL);
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    _exit(0);
}

/* Starts the guard of this call's runs. Without one (no memory, no
 * process left) the runs go on unguarded. */
static void guard_start(ctx *c)
{
    size_t size = sizeof *c->groups * (size_t)c->nslots;
    pid_t *g = mmap(NULL, size, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g == MAP_FAILED)
        return;
    pid_t owner = getpid();
    rl__flush_stdio();
    pid_t pid = fork();
    if (pid == 0)
        guard_main(g, c->nslots, owner);
    if (pid < 0) {
        munmap(g, size);
        return;
    }
    c->groups = g;
    c->guard = pid;
}

/* Ends the guard once no run is in flight, and reaps it. */
static void guard_stop(ctx *c)
{
    if (c->guard > 0) {
        kill(c->guard, SIGKILL);
        while (waitpid(c->guard, NULL, 0) < 0 && errno == EINTR)
            ;
        c->guard = 0;
    }
    if (c->groups)
        munmap(c->groups, sizeof *c->groups * (size_t)c->nslots);
    c->groups = NULL;
}

/* Kills and reaps the processes that left a finished run's process group
 * (setsid, setpgid) and came back to this process, their subreaper, as
 * orphans, so that they do not pile up until the end. An orphan is a
 * child that is neither a run's leader, nor in our own group, nor the
 * guard. It belongs to a finished run when it started before every run
 * still in flight began (and after the first run began); one that might
 * belong to a run in flight is left for the end of that run. */
static void reap_orphans(ctx *c)
{
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    unsigned long long oldest = ~0ULL;
    for (int i = 0; i < c->nslots; i++)
        if (c->slots[i].pid && c->slots[i].start_ticks < oldest)
            oldest = c->slots[i].start_ticks;
    pid_t mine = getpgrp();
    char *p = buf, *end;
    for (long v; (v = strtol(p, &end, 10)), end != p; p = end) {
        pid_t pid = (pid_t)v;
        int known = pid == c->guard;
        for (int i = 0; i < c->nslots && !known; i++)
            known = c->slots[i].pid == pid;
        if (known || getpgid(pid) == mine)
            continue;
        unsigned long long t = rl__proc_start_ticks(pid);
        if (t == 0 || t < c->began || t >= oldest)
            continue;
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
            ;
    }
}

/* Adds one exit code (or -signal) to the histogram. */
static void hist_add(rl__result *r, long v)
{
    for (int i = 0; i < r->nvalues; i++)
        if (r->values[i] == v) {
            r->counts[i]++;
            return;
        }
    if (r->nvalues < RL__HIST_MAX) {
        r->values[r->nvalues] = v;
        r->counts[r->nvalues++] = 1;
    }
}

/* Keeps the output of a failing run when it is among the lowest-numbered
 * failures seen so far. Takes ownership of text. */
static void keep_output(ctx *c, long run, char *text)
{
    if (c->nkept < RL__KEPT_OUTPUTS) {
        c->keep[c->nkept].run = run;
        c->keep[c->nkept++].text = text;
        return;
    }
    int hi = 0;
    for (int i = 1; i < c->nkept; i++)
        if (c->keep[i].run > c->keep[hi].run)
            hi = i;
    if (c->keep[hi].run > run) {
        free(c->keep[hi].text);
        c->keep[hi].run = run;
        c->keep[hi].text = text;
    } else {
        free(text);
    }
}

/* Builds "run K: HEADER\n" followed by the captured output. */
static char *kept_text(const slot *s, const char *header)
{
    size_t len = strlen(header) + 64 + s->tout.len + s->terr.len;
    char *t = malloc(len);
    if (!t)
        return NULL;
    size_t n = (size_t)snprintf(t, len, "run %ld: %s\n%s", s->run, header,
                                s->tout.dropped ? "[...]\n" : "");
    memcpy(t + n, s->tout.buf, s->tout.len);
    n += s->tout.len;
    if (s->separate_err && s->terr.len) {
        n += (size_t)snprintf(t + n, len - n, "%s[stderr]\n%s",
                              n && t[n - 1] != '\n' ? "\n" : "",
                              s->terr.dropped ? "[...]\n" : "");
        memcpy(t + n, s->terr.buf, s->terr.len);
        n += s->terr.len;
    }
    t[n] = '\0';
    return t;
}

/* Classifies a finished run (already reaped with status st), records it
 * and frees the slot. */
static void finish_run(ctx *c, slot *s, int st)
{
    const rl__stress_opts *o = c->o;
    rl__result *r = c->r;
    int cls;
    char header[160], msg[RL__RESULT_MSG_LEN], sname[32];
    if (s->timed_out) {
        cls = RL__RUN_TIMEOUT;
        snprintf(header, sizeof header, "timeout after %.3g s", c->timeout);
        snprintf(msg, sizeof msg,
                 "run %ld: timed out after %.3g s; its "
                 "process group was killed",
                 s->run, c->timeout);
    } else if (WIFSIGNALED(st)) {
        cls = RL__RUN_SIGNAL;
        int sig = WTERMSIG(st);
        hist_add(r, -sig);
        sig_name(sig, sname, sizeof sname);
        snprintf(header, sizeof header, "signal %s", sname);
        snprintf(msg, sizeof msg, "run %ld: killed by %s (%s)", s->run, sname,
                 strsignal(sig));
    } else {
        int code = WEXITSTATUS(st);
        hist_add(r, code);
        cls = RL__RUN_OK;
        if (code != o->expect_exit) {
            cls = RL__RUN_WRONG_EXIT;
            snprintf(header, sizeof header, "exit %d", code);
            snprintf(msg, sizeof msg,
                     "run %ld: exit status %d, expected "
                     "%d",
                     s->run, code, o->expect_exit);
        } else if (o->expect_stdout) {
            size_t el = trim_len(o->expect_stdout, strlen(o->expect_stdout));
            size_t gl = trim_len(s->tout.buf, s->tout.len);
            if (s->tout.dropped || gl != el ||
                memcmp(s->tout.buf, o->expect_stdout, el) != 0) {
                cls = RL__RUN_WRONG_OUTPUT;
                snprintf(header, sizeof header, "wrong output (exit %d)", code);
                size_t nl = 0;
                while (nl < gl && nl < 60 && s->tout.buf[nl] != '\n')
                    nl++;
                snprintf(msg, sizeof msg,
                         "run %ld: stdout differs from "
                         "the expected text (%zu bytes, begins \"%.*s\")",
                         s->run, s->tout.len, (int)nl, s->tout.buf);
            }
        }
    }
    r->classes[cls]++;
    r->executions++;
    if (cls != RL__RUN_OK) {
        r->failures++;
        if (r->first_failure_run == 0 || s->run < r->first_failure_run) {
            r->first_failure_run = s->run;
            r->verdict = cls == RL__RUN_SIGNAL    ? RL_CRASH
                         : cls == RL__RUN_TIMEOUT ? RL_TIMEOUT
                                                  : RL_FAIL;
            snprintf(r->failure.message, sizeof r->failure.message, "%s", msg);
        }
        if (s->captured) {
            char *t = kept_text(s, header);
            if (t)
                keep_output(c, s->run, t);
        }
    }
    if (s->out >= 0)
        close(s->out);
    if (s->err >= 0)
        close(s->err);
    if (s->pidfd >= 0)
        close(s->pidfd);
    s->out = s->err = s->pidfd = -1;
    if (c->groups)
        __atomic_store_n(&c->groups[s - c->slots], 0, __ATOMIC_RELEASE);
    s->pid = 0;
    c->inflight--;
    reap_orphans(c);
    if (o->progress)
        o->progress(r->executions, c->total, r->failures, o->progress_ctx);
}

/* Reaps the members of a killed run's group that became this process's
 * children (it is a subreaper while it runs commands), so that no zombie
 * is left behind. The group's SIGKILL makes this wait short. */
static void reap_group(pid_t pgid)
{
    for (;;) {
        pid_t w = waitpid(-pgid, NULL, __WALL);
        if (w < 0 && errno != EINTR)
            return;
    }
}

/* Reaps a run whose leader has ended (or, with nohang, may have): kills
 * what is left of its group while the leader's zombie still holds the
 * group id, collects its output and classifies it. Returns 1 when the run
 * was finished. */
static int reap_run(ctx *c, slot *s, int nohang)
{
    int st;
    if (nohang) {
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
            si.si_pid == 0)
            return 0;
    }
    kill(-s->pid, SIGKILL);
    pid_t w;
    do {
        w = waitpid(s->pid, &st, 0);
    } while (w < 0 && errno == EINTR);
    if (w < 0)
        st = 0; /* reaped by someone else (SIGCHLD ignored): unknown */
    reap_group(s->pid);
    drain(&s->tout, &s->out, 1);
    drain(&s->terr, &s->err, 1);
    finish_run(c, s, st);
    return 1;
}

/* Kills and reaps every run in flight without counting them. */
static void abandon_all(ctx *c)
{
    for (int i = 0; i < c->nslots; i++) {
        slot *s = &c->slots[i];
        if (!s->pid)
            continue;
        kill(-s->pid, SIGKILL);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        reap_group(s->pid);
        if (s->out >= 0)
            close(s->out);
        if (s->err >= 0)
            close(s->err);
        if (s->pidfd >= 0)
            close(s->pidfd);
        s->out = s->err = s->pidfd = -1;
        if (c->groups)
            __atomic_store_n(&c->groups[i], 0, __ATOMIC_RELEASE);
        s->pid = 0;
        c->inflight--;
    }
}

/* Waits for the next events of the runs in flight (output, an ended
 * leader, a deadline) and handles them. */
static void wait_events(ctx *c, struct pollfd *pfd, int *owner, int *kind)
{
    int n = 0, nopidfd = 0;
    double next_deadline = -1;
    for (int i = 0; i < c->nslots; i++) {
        slot *s = &c->slots[i];
        if (!s->pid)
            continue;
        if (s->pidfd >= 0) {
            pfd[n] = (struct pollfd){s->pidfd, POLLIN, 0};
            owner[n] = i;
            kind[n++] = 0;
        } else {
            nopidfd = 1;
        }
        if (s->out >= 0) {
            pfd[n] = (struct pollfd){s->out, POLLIN, 0};
            owner[n] = i;
            kind[n++] = 1;
        }
        if (s->err >= 0) {
            pfd[n] = (struct pollfd){s->err, POLLIN, 0};
            owner[n] = i;
            kind[n++] = 2;
        }
        if (s->deadline >= 0 &&
            (next_deadline < 0 || s->deadline < next_deadline))
            next_deadline = s->deadline;
    }
    int ms = rl__remaining_ms(next_deadline);
    if (nopidfd && (ms < 0 || ms > 2))
        ms = 2;
    if (c->o->stop && (ms < 0 || ms > 100))
        ms = 100;
    int rc = poll(pfd, (nfds_t)n, ms);
    if (rc < 0 && errno != EINTR)
        rc = 0;
    /* Output first, so that a run's last words are read before its end
     * is handled in the same round. */
    for (int j = 0; rc > 0 && j < n; j++) {
        slot *s = &c->slots[owner[j]];
        if (kind[j] == 1 && pfd[j].revents)
            drain(&s->tout, &s->out, 0);
        else if (kind[j] == 2 && pfd[j].revents)
            drain(&s->terr, &s->err, 0);
    }
    for (int j = 0; rc > 0 && j < n; j++)
        if (kind[j] == 0 && pfd[j].revents && c->slots[owner[j]].pid)
            reap_run(c, &c->slots[owner[j]], 0);
    double now = rl__now();
    for (int i = 0; i < c->nslots; i++) {
        slot *s = &c->slots[i];
        if (!s->pid)
            continue;
        if (s->pidfd < 0 && reap_run(c, s, 1))
            continue;
        if (s->deadline >= 0 && now >= s->deadline && !s->timed_out) {
            kill(-s->pid, SIGKILL);
            s->timed_out = 1;
            s->deadline = -1;
        }
    }
}

/* Sorts the histogram by value and the kept outputs by run. */
static void finish_result(ctx *c)
{
    rl__result *r = c->r;
    for (int i = 1; i < r->nvalues; i++)
        for (int j = i; j > 0 && r->values[j - 1] > r->values[j]; j--) {
            long v = r->values[j], k = r->counts[j];
            r->values[j] = r->values[j - 1];
            r->counts[j] = r->counts[j - 1];
            r->values[j - 1] = v;
            r->counts[j - 1] = k;
        }
    for (int i = 1; i < c->nkept; i++)
        for (int j = i; j > 0 && c->keep[j - 1].run > c->keep[j].run; j--) {
            kept t = c->keep[j];
            c->keep[j] = c->keep[j - 1];
            c->keep[j - 1] = t;
        }
    for (int i = 0; i < c->nkept; i++)
        r->kept_output[i] = c->keep[i].text;
    c->nkept = 0;
}

/* Describes the command as a clean scenario named "stress:ARGV...". */
static int name_scenario(char *const argv[], rl__result *r)
{
    size_t len = 8;
    for (int i = 0; argv[i]; i++)
        len += strlen(argv[i]) + 1;
    char *name = malloc(len);
    if (!name)
        return rl__fail(-ENOMEM, "out of memory");
    size_t n = (size_t)snprintf(name, len, "stress:");
    for (int i = 0; argv[i]; i++)
        n += (size_t)snprintf(name + n, len - n, "%s%s", i ? " " : "", argv[i]);
    r->name = name;
    r->summary = strdup("external command");
    if (!r->summary)
        return rl__fail(-ENOMEM, "out of memory");
    r->expect = RL_EXPECT_CLEAN;
    return 0;
}

/* Gives every slot of c its empty state and its output buffers. Returns
 * 0, or -ENOMEM at the first slot whose buffers cannot be allocated (the
 * buffers allocated are freed with the slots). */
static int init_slots(ctx *c)
{
    for (int i = 0; i < c->nslots; i++) {
        slot *s = &c->slots[i];
        s->out = s->err = s->pidfd = -1;
        s->tout.cap = s->terr.cap = c->cap;
        s->tout.buf = malloc(c->cap);
        s->terr.buf = malloc(c->cap);
        if (!s->tout.buf || !s->terr.buf)
            return rl__fail(-ENOMEM, "out of memory");
    }
    return 0;
}

/* The spawn attributes of every run: its own process group, no blocked
 * signal, and the default action for the signals this process may handle
 * or ignore, so that the program starts as it would from a shell. */
static void init_spawn_attr(posix_spawnattr_t *attr)
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
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP |
                                       POSIX_SPAWN_SETSIGMASK |
                                       POSIX_SPAWN_SETSIGDEF);
}

/* Runs this shard's runs (ishard, ishard + nshard, ... below runs) over
 * the slots until all have ended or the stop flag is raised. Returns 0,
 * or the negative errno of a run that could not start (the runs in flight
 * are then abandoned). */
static int run_all(ctx *c, long ishard, long nshard, long runs,
                   struct pollfd *pfd, int *owner, int *kind)
{
    const rl__stress_opts *o = c->o;
    int err = 0;
    long next = ishard; /* 0-based index of the next run to start */
    while (err == 0) {
        if (o->stop && *o->stop) {
            abandon_all(c);
            break;
        }
        while (c->inflight < c->nslots && next < runs) {
            slot *s = NULL;
            for (int i = 0; i < c->nslots && !s; i++)
                if (!c->slots[i].pid)
                    s = &c->slots[i];
            int e = start_run(c, s, next + 1);
            if (e == -EAGAIN && c->inflight > 0)
                break; /* retry once a run has ended */
            if (e < 0) {
                err = e;
                break;
            }
            next += nshard;
        }
        if (err < 0) {
            abandon_all(c);
            break;
        }
        if (c->inflight == 0)
            break;
        wait_events(c, pfd, owner, kind);
    }
    return err;
}

int rl__stress_command(char *const argv[], const rl__stress_opts *o,
                       rl__result *r)
{
    memset(r, 0, sizeof *r);
    r->space_explored = -1;
    r->external = 1;
    r->mode = RL_MODE_STRESS;
    r->seed = o->seed;
    if (!argv || !argv[0])
        return rl__fail(-EINVAL, "stress: no command given");
    long runs = o->runs > 0 ? o->runs : rl__default.runs;
    long nshard = o->shard_count > 1 ? o->shard_count : 1;
    long ishard = nshard > 1 ? o->shard_index : 0;
    if (ishard < 0 || ishard >= nshard)
        return rl__fail(-EINVAL,
                        "shard %ld/%ld: the index must be below "
                        "the count",
                        ishard, nshard);
    ctx c = {.o = o, .r = r, .argv = argv, .devnull = -1};
    c.timeout = o->timeout == 0 ? rl__default.timeout : o->timeout;
    int err = name_scenario(argv, r);
    if (err < 0)
        return err;
    if ((err = find_program(argv[0], c.path, sizeof c.path)) < 0)
        return err;
    c.total = ishard < runs ? (runs - ishard + nshard - 1) / nshard : 0;
    c.nslots = o->jobs > 0 ? o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (c.nslots < 1)
        c.nslots = 1;
    if (c.nslots > c.total)
        c.nslots = c.total > 0 ? (int)c.total : 1;
    c.cap = KEEP_BYTES;
    if (o->expect_stdout && strlen(o->expect_stdout) + 4096 > c.cap)
        c.cap = strlen(o->expect_stdout) + 4096;

    if ((err = build_env(&c)) < 0)
        goto out;
    c.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    c.slots = calloc((size_t)c.nslots, sizeof *c.slots);
    struct pollfd *pfd = calloc((size_t)c.nslots * 3, sizeof *pfd);
    int *owner = calloc((size_t)c.nslots * 3, sizeof *owner);
    int *kind = calloc((size_t)c.nslots * 3, sizeof *kind);
    if (c.devnull < 0 || !c.slots || !pfd || !owner || !kind) {
        err = c.devnull < 0 ? rl__fail(-errno, "/dev/null: %s", strerror(errno))
                            : rl__fail(-ENOMEM, "out of memory");
        free(pfd);
        free(owner);
        free(kind);
        goto out;
    }
    err = init_slots(&c);
    init_spawn_attr(&c.attr);
    /* Orphans of a run come to this process, so that they can be reaped
     * once their group is killed. */
    int was_subreaper = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper);
    if (!was_subreaper)
        prctl(PR_SET_CHILD_SUBREAPER, 1);
    guard_start(&c);
    c.began = rl__ticks_now();
    rl__flush_stdio();

    double t0 = rl__now();
    if (err == 0)
        err = run_all(&c, ishard, nshard, runs, pfd, owner, kind);
    r->duration = rl__result_duration(rl__now() - t0);
    guard_stop(&c);
    /* What left a run's group (setsid) and came back to us as an orphan
     * dies now, before this process stops being their subreaper. */
    rl__reap_strays(0);
    if (!was_subreaper)
        prctl(PR_SET_CHILD_SUBREAPER, 0);
    posix_spawnattr_destroy(&c.attr);
    free(pfd);
    free(owner);
    free(kind);
    finish_result(&c);
out:
    for (int i = 0; c.slots && i < c.nslots; i++) {
        free(c.slots[i].tout.buf);
        free(c.slots[i].terr.buf);
    }
    for (int i = 0; i < c.nkept; i++)
        free(c.keep[i].text);
    free(c.slots);
    if (c.devnull >= 0)
        close(c.devnull);
    free_env(&c);
    return err;
}
