/* extstress.c: racelab stress -- CMD...: runs an unmodified program many
 * times in parallel, each run in a process group of its own, and
 * classifies every run: the loop over the runs and their outcomes (how a
 * run starts is extspawn.c, what outlives it extguard.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "extstress_internal.h"

/* ---- small helpers ---- */

/* Appends up to n bytes read from fd to t, dropping the oldest half when
 * the buffer is full. Returns the read(2) result. */
static ssize_t tail_read(rl__ext_tail *t, int fd)
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
static void drain(rl__ext_tail *t, int *fd, int final)
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

/* ---- the runs' outcomes ---- */

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
static void keep_output(rl__ext_ctx *c, long run, char *text)
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
static char *kept_text(const rl__ext_slot *s, const char *header)
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
static void finish_run(rl__ext_ctx *c, rl__ext_slot *s, int st)
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
                 "process group %s",
                 s->run, c->timeout,
                 s->hung_kept ? "is left stopped for a debugger"
                              : "was killed");
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
        if (o->failure_dir)
            rl__ext_log_failure(c, s, msg);
        if (s->captured) {
            char *t = kept_text(s, header);
            if (t)
                keep_output(c, s->run, t);
        }
        if (o->until_failure)
            c->no_more = 1;
    }
    rl__ext_release_slot(c, s);
    rl__ext_reap_orphans(c);
    if (o->progress)
        o->progress(r->executions, c->unbounded ? 0 : c->total, r->failures,
                    o->progress_ctx);
}

/* Reaps a run whose leader has ended (or, with nohang, may have): kills
 * what is left of its group while the leader's zombie still holds the
 * group id, collects its output and classifies it. Returns 1 when the run
 * was finished. */
static int reap_run(rl__ext_ctx *c, rl__ext_slot *s, int nohang)
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
    rl__ext_reap_group(s->pid);
    drain(&s->tout, &s->out, 1);
    drain(&s->terr, &s->err, 1);
    finish_run(c, s, st);
    return 1;
}

/* Waits for the next events of the runs in flight (output, an ended
 * leader, a deadline) and handles them. */
static void wait_events(rl__ext_ctx *c, struct pollfd *pfd, int *owner,
                        int *kind)
{
    int n = 0, nopidfd = 0;
    double next_deadline = -1;
    for (int i = 0; i < c->nslots; i++) {
        rl__ext_slot *s = &c->slots[i];
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
    /* --duration: wake up when no run may start any more. */
    if (c->end > 0 && !c->no_more &&
        (next_deadline < 0 || c->end < next_deadline))
        next_deadline = c->end;
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
        rl__ext_slot *s = &c->slots[owner[j]];
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
        rl__ext_slot *s = &c->slots[i];
        if (!s->pid)
            continue;
        if (s->pidfd < 0 && reap_run(c, s, 1))
            continue;
        if (s->deadline >= 0 && now >= s->deadline && !s->timed_out) {
            s->timed_out = 1;
            s->deadline = -1;
            if (c->o->keep_hung && rl__ext_keep_hung(c, s) == 0) {
                /* Its output so far, and it counts now: nobody waits
                 * for a stopped run. */
                s->hung_kept = 1;
                drain(&s->tout, &s->out, 1);
                drain(&s->terr, &s->err, 1);
                finish_run(c, s, 0);
                continue;
            }
            kill(-s->pid, SIGKILL);
        }
    }
}

/* Sorts the histogram by value and the kept outputs by run. */
static void finish_result(rl__ext_ctx *c)
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
            rl__ext_kept t = c->keep[j];
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
static int init_slots(rl__ext_ctx *c)
{
    for (int i = 0; i < c->nslots; i++) {
        rl__ext_slot *s = &c->slots[i];
        s->out = s->err = s->pidfd = -1;
        s->tout.cap = s->terr.cap = c->cap;
        s->tout.buf = malloc(c->cap);
        s->terr.buf = malloc(c->cap);
        if (!s->tout.buf || !s->terr.buf)
            return rl__fail(-ENOMEM, "out of memory");
    }
    return 0;
}

/* Runs this shard's runs (ishard, ishard + nshard, ... below runs) over
 * the slots until all have ended or the stop flag is raised. Returns 0,
 * or the negative errno of a run that could not start (the runs in flight
 * are then abandoned). */
static int run_all(rl__ext_ctx *c, long ishard, long nshard, long runs,
                   struct pollfd *pfd, int *owner, int *kind)
{
    const rl__stress_opts *o = c->o;
    int err = 0;
    long next = ishard; /* 0-based index of the next run to start */
    while (err == 0) {
        if (o->stop && *o->stop) {
            rl__ext_abandon_all(c);
            break;
        }
        if (c->end > 0 && rl__now() >= c->end)
            c->no_more = 1;
        while (!c->no_more && c->inflight < c->nslots && next < runs) {
            rl__ext_slot *s = NULL;
            for (int i = 0; i < c->nslots && !s; i++)
                if (!c->slots[i].pid)
                    s = &c->slots[i];
            int e = rl__ext_start_run(c, s, next + 1);
            if (e == -EAGAIN && c->inflight > 0)
                break; /* retry once a run has ended */
            if (e < 0) {
                err = e;
                break;
            }
            next += nshard;
        }
        if (err < 0) {
            rl__ext_abandon_all(c);
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
    int unbounded = o->runs <= 0 && (o->until_failure || o->duration > 0);
    long runs = o->runs > 0 ? o->runs
                : unbounded ? LONG_MAX / 2
                            : rl__default.runs;
    long nshard = o->shard_count > 1 ? o->shard_count : 1;
    long ishard = nshard > 1 ? o->shard_index : 0;
    if (ishard < 0 || ishard >= nshard)
        return rl__fail(-EINVAL,
                        "shard %ld/%ld: the index must be below "
                        "the count",
                        ishard, nshard);
    rl__ext_ctx c = {.o = o, .r = r, .argv = argv, .devnull = -1};
    c.unbounded = unbounded;
    c.timeout = o->timeout == 0 ? rl__default.timeout : o->timeout;
    int err = name_scenario(argv, r);
    if (err < 0)
        return err;
    if ((err = rl__find_program(argv[0], c.path, sizeof c.path)) < 0)
        return err;
    if (o->failure_dir && (err = rl__ext_log_dir(o->failure_dir)) < 0)
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

    if ((err = rl__ext_build_env(&c)) < 0)
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
    rl__ext_spawn_attr(&c.attr, o->keep_hung);
    /* Orphans of a run come to this process, so that they can be reaped
     * once their group is killed. */
    int was_subreaper = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper);
    if (!was_subreaper)
        prctl(PR_SET_CHILD_SUBREAPER, 1);
    rl__ext_guard_start(&c);
    c.began = rl__ticks_now();
    rl__flush_stdio();

    double t0 = rl__now();
    if (o->duration > 0)
        c.end = t0 + o->duration;
    if (err == 0)
        err = run_all(&c, ishard, nshard, runs, pfd, owner, kind);
    r->duration = rl__result_duration(rl__now() - t0);
    rl__ext_guard_stop(&c);
    /* What left a run's group (setsid) and came back to us as an orphan
     * dies now, before this process stops being their subreaper. */
    rl__ext_reap_strays(&c);
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
    free(c.hung);
    if (c.devnull >= 0)
        close(c.devnull);
    rl__ext_free_env(&c);
    return err;
}
