/* explain.c: the words of the scheduler: the names of operations and
 * verdicts, the private stores that explain a value not shared across
 * processes, and the messages of deadlock, livelock and misfit verdicts. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "explain.h"

static const char *const op_names[RL_OP_COUNT] = {
    [RL_OP_YIELD] = "yield",
    [RL_OP_START] = "start",
    [RL_OP_JOIN] = "join",
    [RL_OP_EXIT] = "exit",
    [RL_OP_ACQUIRE] = "acquire",
    [RL_OP_RELEASE] = "release",
    [RL_OP_SET] = "set",
    [RL_OP_CLEAR] = "clear",
    [RL_OP_WAIT] = "wait",
    [RL_OP_NOTIFY] = "notify",
    [RL_OP_SEND] = "send",
    [RL_OP_RECV] = "recv",
    [RL_OP_POLL] = "poll",
    [RL_OP_CLOSE] = "close",
    [RL_OP_PUT] = "put",
    [RL_OP_GET] = "get",
    [RL_OP_TASK_DONE] = "task_done",
    [RL_OP_SUBMIT] = "submit",
    [RL_OP_LOAD] = "load",
    [RL_OP_STORE] = "store",
    [RL_OP_FETCH_ADD] = "fetch_add",
};

const char *rl__op_name(rl__op op)
{
    return (unsigned)op < RL_OP_COUNT ? op_names[op] : "?";
}

static const char *const verdict_names[RL__VERDICT_COUNT] = {
    "PASS",  "FAIL",    "DEADLOCK", "LIVELOCK",
    "CRASH", "TIMEOUT", "ERROR",    "RACE"};

const char *rl_verdict_name(int v)
{
    return v >= 0 && v < RL__VERDICT_COUNT ? verdict_names[v] : "?";
}

/* The actor of s with this pid, -1 if none. */
static int find_pid(const rl__sched *s, pid_t pid)
{
    for (int i = 0; i < s->nactors; i++)
        if (s->actors[i].pid == pid)
            return i;
    return -1;
}

void rl__explain_note_private(rl__sched *s, int me, int op, const void *addr,
                              const char *what)
{
    long step = s->nsteps - 1;
    if (op == RL_OP_STORE) {
        int n = s->npstores;
        for (int i = 0; i < s->npstores; i++)
            if (s->pstores[i].addr == addr && s->pstores[i].actor == me)
                n = i;
        if (n < RL__PRIVATE_STORES) {
            rl__private_store *ps = &s->pstores[n];
            ps->addr = addr;
            ps->actor = me;
            ps->step = step;
            rl__copy_str(ps->what, sizeof ps->what, what);
            if (n == s->npstores)
                s->npstores++;
        }
    } else if (op == RL_OP_LOAD && !s->cross_found) {
        for (int i = 0; i < s->npstores; i++) {
            if (s->pstores[i].addr == addr && s->pstores[i].actor != me) {
                s->cross_found = 1;
                s->cross_store = s->pstores[i];
                s->cross_loader = me;
                s->cross_step = step;
                break;
            }
        }
    }
}

static void append(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* The processes of this execution's process group that hold the inode
 * open (for a pipe: for writing), appended to buf. */
static void describe_holders(const rl__sched *s, char *buf, size_t cap,
                             unsigned long ino, int is_pipe)
{
    pid_t pgid = getpgid(0);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    char want[64];
    snprintf(want, sizeof want, "%s:[%lu]", is_pipe ? "pipe" : "socket", ino);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0 || getpgid(pid) != pgid)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", pid);
        DIR *fds = opendir(path);
        if (!fds)
            continue;
        struct dirent *f;
        while ((f = readdir(fds))) {
            if (f->d_name[0] == '.')
                continue;
            char link[300], target[80];
            snprintf(link, sizeof link, "/proc/%d/fd/%s", pid, f->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strcmp(target, want) != 0)
                continue;
            if (is_pipe) {
                char info[300], text[256];
                snprintf(info, sizeof info, "/proc/%d/fdinfo/%s", pid,
                         f->d_name);
                int fd = open(info, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                    continue;
                ssize_t m = read(fd, text, sizeof text - 1);
                close(fd);
                text[m > 0 ? m : 0] = '\0';
                char *fl = strstr(text, "flags:");
                unsigned long flags = fl ? strtoul(fl + 6, NULL, 8) : 0;
                if ((flags & O_ACCMODE) == O_RDONLY)
                    continue;
            }
            int id = find_pid(s, pid);
            char comm[32] = "?";
            snprintf(path, sizeof path, "/proc/%d/comm", pid);
            int cfd = open(path, O_RDONLY | O_CLOEXEC);
            if (cfd >= 0) {
                ssize_t m = read(cfd, comm, sizeof comm - 1);
                close(cfd);
                comm[m > 0 ? m : 0] = '\0';
                char *nl = strchr(comm, '\n');
                if (nl)
                    *nl = '\0';
            }
            if (id >= 0)
                append(buf, cap,
                       "%s actor %d (%s, pid %d) holds the write "
                       "end as fd %s",
                       found ? ";" : "", id, s->actors[id].name, pid,
                       f->d_name);
            else
                append(buf, cap,
                       "%s process %d (%s, not an actor) holds "
                       "the write end as fd %s",
                       found ? ";" : "", pid, comm, f->d_name);
            found = 1;
        }
        closedir(fds);
    }
    closedir(d);
}

void rl__explain_deadlock(const rl__sched *s, char *msg, size_t cap)
{
    msg[0] = '\0';
    append(msg, cap, "no actor can run:");
    for (int i = 0; i < s->nactors; i++) {
        const rl__actor *a = &s->actors[i];
        if (a->state != RL__ACTOR_BLOCKED)
            continue;
        append(msg, cap, " actor %d (%s, pid %d) is blocked in %s", i, a->name,
               a->pid, a->reason[0] ? a->reason : rl__op_name(a->pending.op));
        if (a->holder_ino) {
            append(msg, cap, ":");
            describe_holders(s, msg, cap, a->holder_ino, a->holder_is_pipe);
        }
        append(msg, cap, ".");
    }
}

/* The private-copy diagnosis of a livelock, appended to msg. */
static void explain_private(const rl__sched *s, char *msg, size_t cap)
{
    if (!s->cross_found)
        return;
    const rl__private_store *ps = &s->cross_store;
    append(msg, cap,
           ". actor %d reads %s at %p (private copy, not shared): "
           "actor %d's store at step %ld went to its own copy",
           s->cross_loader, ps->what, ps->addr, ps->actor, ps->step);
}

/* What the spinning actor keeps reading and what would end it. */
static void explain_spin(const rl__sched *s, char *msg, size_t cap, int i)
{
    const rl__actor *a = &s->actors[i];
    const rl__spin_point *sp = &a->spin[a->stuck - 1];
    if (sp->file[0])
        append(msg, cap, " actor %d (%s) spins at %s:%d reading %s (value %ld)",
               i, a->name, sp->file, sp->line, sp->what, sp->value);
    else /* instrumented code: its place is in the trace */
        append(msg, cap, " actor %d (%s) spins reading %p (%s, value %ld)", i,
               a->name, sp->obj, sp->what, sp->value);
    if (sp->shared)
        append(msg, cap, ": only a store to %s by another actor would end it",
               sp->what);
    else
        append(msg, cap,
               ": %s is private to its process, so no other actor's "
               "store can end it",
               sp->what);
}

void rl__explain_livelock(const rl__sched *s, int me, char *msg, size_t cap)
{
    const rl__actor *a = &s->actors[me];
    msg[0] = '\0';
    append(msg, cap,
           "actor %d (%s) passed %ld schedule points without the "
           "execution ending, under a fair schedule",
           me, a->name, s->max_steps);
    if (a->last_load)
        append(msg, cap, "; it keeps reading %s at %p (value %ld)",
               a->last_load_what, a->last_load, a->last_load_value);
    explain_private(s, msg, cap);
}

void rl__explain_spin_livelock(const rl__sched *s, char *msg, size_t cap)
{
    msg[0] = '\0';
    append(msg, cap,
           "no actor can progress: nobody stored, sent or released "
           "anything while");
    int first = 1;
    for (int i = 0; i < s->nactors; i++) {
        const rl__actor *a = &s->actors[i];
        if (a->state == RL__ACTOR_RUNNABLE && a->stuck) {
            append(msg, cap, "%s", first ? "" : ";");
            explain_spin(s, msg, cap, i);
            first = 0;
        }
    }
    for (int i = 0; i < s->nactors; i++) {
        const rl__actor *a = &s->actors[i];
        if (a->state == RL__ACTOR_BLOCKED)
            append(msg, cap, "; actor %d (%s) is blocked in %s", i, a->name,
                   a->reason[0] ? a->reason : rl__op_name(a->pending.op));
    }
    explain_private(s, msg, cap);
}

void rl__explain_misfit(const rl__sched *s, long k, int c,
                        const rl__actorset *en, char *msg, size_t cap)
{
    char list[160] = "";
    for (int i = 0; i < s->nactors; i++)
        if (rl__set_has(en, i))
            append(list, sizeof list, "%s%d", *list ? "," : "", i);
    snprintf(msg, cap,
             "the token does not fit: at step %ld it "
             "chooses actor %d, which %s (enabled: %s)",
             k, c, c >= s->nactors ? "does not exist" : "cannot run there",
             list);
}
