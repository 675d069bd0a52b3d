/* poll.c: poll, ppoll, select, pselect and the epoll waits of a command
 * under the scheduler. A call whose descriptors are all the execution's
 * pipes and socket pairs (pipe.c) is a schedule point: the kernel is asked
 * without blocking, and when nothing is ready the actor waits in the
 * scheduler, not in the kernel, until a pipe changes; a finite timeout is
 * virtual time, over only when nothing else can run. A call on any other
 * descriptor goes straight to the C library. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>

#include "../lib/fair.h"
#include "intercept.h"

/* The descriptors one call waits on, with what it waits for, and how the
 * kernel is asked about them. */
#define LISTED 64
typedef struct {
    const char *what; /* the call, for the label and the wait's reason */
    int n;            /* descriptors */
    int fds[LISTED];  /* the first of them, for the reason */
    rl__ic_pipe *one; /* the pipe all of them are ends of, or NULL */
    int several;      /* they are ends of more than one pipe */
    int in_fd;        /* the first one waited on for input, or -1 */
    rl__ic_pipe *in_pipe;
    /* The real call with a zero timeout: > 0 ready, 0 none, < 0 an
     * error with errno set. */
    int (*ask)(void *arg);
    void *arg;
} waitset;

static void set_init(waitset *w, const char *what)
{
    memset(w, 0, sizeof *w);
    w->what = what;
    w->in_fd = -1;
}

/* Adds descriptor fd, waited on for input when input is set. Returns 0
 * when fd is none of the execution's pipes: the call is then left to the
 * kernel. */
static int set_add(waitset *w, int fd, int input)
{
    rl__ic_pipe *p = rl__ic_pipe_fd(fd, NULL);
    if (!p)
        return 0;
    if (w->n < LISTED)
        w->fds[w->n] = fd;
    if (w->n++ == 0)
        w->one = p;
    else if (w->one != p)
        w->several = 1;
    if (input && w->in_fd < 0) {
        w->in_fd = fd;
        w->in_pipe = p;
    }
    return 1;
}

/* "3, 5, 7" into buf: the descriptors of w, cut short with "..." when
 * they do not fit. */
static const char *fd_list(char *buf, size_t cap, const waitset *w)
{
    size_t at = 0;
    buf[0] = '\0';
    int listed = w->n < LISTED ? w->n : LISTED;
    for (int i = 0; i < listed; i++) {
        char one[16];
        snprintf(one, sizeof one, "%s%d", i ? ", " : "", w->fds[i]);
        if (at + strlen(one) + 5 >= cap || (i == LISTED - 1 && w->n > LISTED)) {
            rl__append(buf, cap, at, ", ...");
            break;
        }
        at = rl__append(buf, cap, at, one);
    }
    return buf;
}

/* The label of the call's step: "poll(fd 3)", "select(fds 3, 5)". */
static const char *label_of(char *buf, size_t cap, const waitset *w)
{
    char list[40];
    if (w->n == 0)
        snprintf(buf, cap, "%s(no fds)", w->what);
    else
        snprintf(buf, cap, "%s(fd%s %s)", w->what, w->n > 1 ? "s" : "",
                 fd_list(list, sizeof list, w));
    return buf;
}

/* The wait reason handed to rl__block: it stays valid while the actor
 * waits (see pipe.c). */
static char reason[RL__REASON_LEN];

static void set_reason(const waitset *w)
{
    char list[120];
    if (w->n == 0)
        snprintf(reason, sizeof reason, "%s: no descriptors", w->what);
    else if (w->n == 1)
        snprintf(reason, sizeof reason, "%s: fd %d of %s %lu is not ready",
                 w->what, w->fds[0], w->one->ino2 ? "socket pair" : "pipe",
                 w->one->ino);
    else
        snprintf(reason, sizeof reason, "%s: none of fds %s is ready", w->what,
                 fd_list(list, sizeof list, w));
}

/* Records for the deadlock report who keeps the first descriptor waited
 * on for input from its end of file: the holders of the pipe's write
 * end, or of the pair's other socket (as pipe.c's reads do). */
static void set_holder(const waitset *w)
{
    rl__ic_pipe *p = w->in_pipe;
    int end;
    if (!p || !rl__ic_pipe_fd(w->in_fd, &end) || end == RL__IC_END_WRITE)
        return;
    unsigned long holder = p->ino;
    struct stat st;
    if (p->ino2 && fstat(w->in_fd, &st) == 0)
        holder = (unsigned long)st.st_ino == p->ino ? p->ino2 : p->ino;
    rl__sched_wait_holder(holder, !p->ino2);
}

/* Never published: what a wait on no descriptor at all blocks on. */
static uint32_t no_word;

/* The call of w under the scheduler; timeout in ns: < 0 none, 0 none to
 * wait, > 0 a finite one (virtual time: it runs out when nothing else can
 * run, and moves the clocks on by its length). The step is a look at the pipe (op
 * poll, the pipe's word as key, as its reads and writes have), or, over
 * several pipes, at everything: the step has one key, and a look that
 * does not depend on the writes of each pipe it saw would let the
 * reduction drop orders that change what the call returns. Returns what
 * the real call returns, with errno. */
static int wait_set(waitset *w, int64_t timeout)
{
    rl__ic_enter();
    int64_t start = rl__ic_clock_now(CLOCK_MONOTONIC);
    uint32_t *word = w->several ? &rl__ic->pipes_word
                     : w->one   ? &w->one->word
                                : &no_word;
    const void *obj = w->several ? (const void *)rl__ic
                      : w->one   ? (const void *)w->one
                                 : (const void *)&no_word;
    char label[48];
    rl__point_key(RL_OP_POLL, obj, word, 0, label_of(label, sizeof label, w));
    if (w->several)
        rl__sched_step_global();
    int r, e;
    for (;;) {
        uint32_t seen = __atomic_load_n(word, __ATOMIC_ACQUIRE);
        r = w->ask(w->arg);
        e = errno;
        if (r != 0 || timeout == 0)
            break;
        set_reason(w);
        set_holder(w);
        if (rl__block(obj, word, seen, timeout > 0 ? 0 : -1, reason) < 0) {
            /* Chosen to time out: nothing else could run. The kernel is
             * asked once more, for what the others did before they all
             * came to wait too. */
            rl__ic_clock_reach(CLOCK_MONOTONIC, start + timeout);
            r = w->ask(w->arg);
            e = errno;
            break;
        }
        if (w->several)
            rl__sched_step_global();
    }
    /* A look that found nothing, in a loop that keeps looking: the
     * others run before this actor's next step, as after a yield. */
    if (r == 0 && timeout == 0 && rl__sched_self() >= 0)
        rl__fair_yield(rl__sched_get(), rl__sched_self());
    rl__ic_leave();
    errno = e;
    return r;
}

/* A timeout in ns from a timespec: -1 for none (NULL). */
static int64_t timeout_of(const struct timespec *ts)
{
    return ts ? rl__ic_ts_ns(ts) : -1;
}

/* A timeout in ns from one in ms: -1 for none (< 0). */
static int64_t timeout_ms(int ms)
{
    return ms < 0 ? -1 : (int64_t)ms * 1000000;
}

static const struct timespec zero_ts;

/* ---- poll, ppoll ---- */

typedef struct {
    struct pollfd *fds;
    nfds_t n;
    const sigset_t *mask;
    int p; /* ppoll */
} poll_args;

static int ask_poll(void *arg)
{
    RL__IC_REAL(poll);
    RL__IC_REAL(ppoll);
    poll_args *a = arg;
    return a->p ? real_ppoll(a->fds, a->n, &zero_ts, a->mask)
                : real_poll(a->fds, a->n, 0);
}

/* poll and ppoll: -2 when the call is left to the C library. */
static int poll_common(poll_args *a, int64_t timeout, const char *what)
{
    if (!rl__ic_on())
        return -2;
    waitset w;
    set_init(&w, what);
    for (nfds_t i = 0; i < a->n; i++)
        if (a->fds[i].fd >= 0 &&
            !set_add(&w, a->fds[i].fd,
                     a->fds[i].events & (POLLIN | POLLRDNORM | POLLPRI)))
            return -2;
    w.ask = ask_poll;
    w.arg = a;
    return wait_set(&w, timeout);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    RL__IC_REAL(poll);
    poll_args a = {fds, n, NULL, 0};
    int r = poll_common(&a, timeout_ms(timeout), "poll");
    return r == -2 ? real_poll(fds, n, timeout) : r;
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
          const sigset_t *mask)
{
    RL__IC_REAL(ppoll);
    poll_args a = {fds, n, mask, 1};
    int r = poll_common(&a, timeout_of(ts), "ppoll");
    return r == -2 ? real_ppoll(fds, n, ts, mask) : r;
}

/* What a program built with _FORTIFY_SOURCE calls when the compiler
 * knows the size of the array: checked here as the C library checks it,
 * then the wrappers above. */
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t len);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
                const sigset_t *mask, size_t len);

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t len)
{
    RL__IC_REAL(__poll_chk);
    if (len / sizeof *fds < n)
        return real___poll_chk(fds, n, timeout, len); /* fails */
    return poll(fds, n, timeout);
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
                const sigset_t *mask, size_t len)
{
    RL__IC_REAL(__ppoll_chk);
    if (len / sizeof *fds < n)
        return real___ppoll_chk(fds, n, ts, mask, len); /* fails */
    return ppoll(fds, n, ts, mask);
}

/* ---- select, pselect ---- */

typedef struct {
    int nfds;
    fd_set *sets[3]; /* the caller's read, write and except sets */
    fd_set asked[3]; /* what it asked for */
    const sigset_t *mask;
    int p; /* pselect */
} select_args;

/* Asks with copies of the sets the caller passed, which then receive
 * the answer (emptied when nothing is ready, as the kernel does). */
static int ask_select(void *arg)
{
    RL__IC_REAL(select);
    RL__IC_REAL(pselect);
    select_args *a = arg;
    fd_set got[3];
    fd_set *use[3];
    for (int k = 0; k < 3; k++) {
        got[k] = a->asked[k];
        use[k] = a->sets[k] ? &got[k] : NULL;
    }
    struct timeval tv = {0, 0};
    int r =
        a->p ? real_pselect(a->nfds, use[0], use[1], use[2], &zero_ts, a->mask)
             : real_select(a->nfds, use[0], use[1], use[2], &tv);
    if (r >= 0)
        for (int k = 0; k < 3; k++)
            if (a->sets[k])
                *a->sets[k] = got[k];
    return r;
}

/* select and pselect: -2 when the call is left to the C library. */
static int select_common(select_args *a, int64_t timeout,
                         const char *what)
{
    if (!rl__ic_on() || a->nfds < 0 || a->nfds > FD_SETSIZE)
        return -2;
    waitset w;
    set_init(&w, what);
    for (int k = 0; k < 3; k++)
        if (a->sets[k])
            a->asked[k] = *a->sets[k];
    for (int fd = 0; fd < a->nfds; fd++) {
        int in = a->sets[0] && FD_ISSET(fd, a->sets[0]);
        int any = in || (a->sets[1] && FD_ISSET(fd, a->sets[1])) ||
                  (a->sets[2] && FD_ISSET(fd, a->sets[2]));
        if (any && !set_add(&w, fd, in))
            return -2;
    }
    w.ask = ask_select;
    w.arg = a;
    return wait_set(&w, timeout);
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
    RL__IC_REAL(select);
    select_args a = {.nfds = nfds, .sets = {rd, wr, ex}};
    int64_t timeout =
        tv ? (int64_t)tv->tv_sec * 1000000000 + tv->tv_usec * 1000 : -1;
    int r = select_common(&a, timeout, "select");
    if (r == -2)
        return real_select(nfds, rd, wr, ex, tv);
    if (r == 0 && tv)
        *tv = (struct timeval){0, 0}; /* Linux: the time left */
    return r;
}

int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
            const struct timespec *ts, const sigset_t *mask)
{
    RL__IC_REAL(pselect);
    select_args a = {.nfds = nfds, .sets = {rd, wr, ex}, .mask = mask, .p = 1};
    int r = select_common(&a, timeout_of(ts), "pselect");
    return r == -2 ? real_pselect(nfds, rd, wr, ex, ts, mask) : r;
}

/* ---- epoll ---- */

/* What this process registered in its epoll instances (epoll_ctl): the
 * kernel keeps the interest list, which it does not show. An instance
 * this process did not make (inherited across an exec) or with more
 * descriptors than fit is unknown, and its waits go to the kernel. A fork
 * copies the table with the instances. */
#define EP_SETS 64
#define EP_FDS 64
typedef struct {
    int epfd; /* -1: a free entry */
    int full; /* more descriptors than fit: unknown */
    int n;
    int fds[EP_FDS];
    uint8_t input[EP_FDS];
} ep_set;
static ep_set eps[EP_SETS];
static int neps;

/* The entry of instance epfd; made (empty) when create is set. NULL when
 * there is none or no room. */
static ep_set *ep_of(int epfd, int create)
{
    ep_set *free_one = NULL;
    for (int i = 0; i < neps; i++) {
        if (eps[i].epfd == epfd)
            return &eps[i];
        if (eps[i].epfd < 0 && !free_one)
            free_one = &eps[i];
    }
    if (!create)
        return NULL;
    if (!free_one && neps < EP_SETS)
        free_one = &eps[neps++];
    if (free_one) {
        memset(free_one, 0, sizeof *free_one);
        free_one->epfd = epfd;
    }
    return free_one;
}

/* A new instance on descriptor epfd: whatever an earlier one on the same
 * number registered is forgotten. */
static int ep_made(int epfd)
{
    if (epfd >= 0 && rl__ic && !ep_of(epfd, 1)) {
        /* No room: the oldest entry gives way, and is unknown. */
        memset(&eps[0], 0, sizeof eps[0]);
        eps[0].epfd = -1;
        ep_of(epfd, 1);
    }
    return epfd;
}

int epoll_create(int size)
{
    RL__IC_REAL(epoll_create);
    return ep_made(real_epoll_create(size));
}

int epoll_create1(int flags)
{
    RL__IC_REAL(epoll_create1);
    return ep_made(real_epoll_create1(flags));
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    RL__IC_REAL(epoll_ctl);
    int r = real_epoll_ctl(epfd, op, fd, ev);
    ep_set *s = r == 0 && rl__ic ? ep_of(epfd, 0) : NULL;
    if (!s || s->full)
        return r;
    int at = -1;
    for (int i = 0; i < s->n; i++)
        if (s->fds[i] == fd)
            at = i;
    if (op == EPOLL_CTL_DEL && at >= 0) {
        s->fds[at] = s->fds[--s->n];
        s->input[at] = s->input[s->n];
    } else if (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) {
        if (at < 0 && s->n == EP_FDS) {
            s->full = 1;
            return r;
        }
        if (at < 0)
            at = s->n++;
        s->fds[at] = fd;
        s->input[at] = ev && (ev->events & (EPOLLIN | EPOLLRDNORM | EPOLLPRI));
    }
    return r;
}

typedef struct {
    int epfd;
    struct epoll_event *events;
    int max;
    const sigset_t *mask;
} epoll_args;

static int ask_epoll(void *arg)
{
    RL__IC_REAL(epoll_pwait);
    epoll_args *a = arg;
    return real_epoll_pwait(a->epfd, a->events, a->max, 0, a->mask);
}

/* The epoll waits: -2 when the call is left to the C library. */
static int epoll_common(epoll_args *a, int64_t timeout, const char *what)
{
    if (!rl__ic_on())
        return -2;
    ep_set *s = ep_of(a->epfd, 0);
    if (!s || s->full)
        return -2;
    waitset w;
    set_init(&w, what);
    for (int i = 0; i < s->n;) {
        /* A descriptor closed since left the kernel's list with it. */
        if (fcntl(s->fds[i], F_GETFD) < 0) {
            s->fds[i] = s->fds[--s->n];
            s->input[i] = s->input[s->n];
            continue;
        }
        if (!set_add(&w, s->fds[i], s->input[i]))
            return -2;
        i++;
    }
    w.ask = ask_epoll;
    w.arg = a;
    return wait_set(&w, timeout);
}

int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    RL__IC_REAL(epoll_wait);
    epoll_args a = {epfd, events, max, NULL};
    int r = epoll_common(&a, timeout_ms(timeout), "epoll_wait");
    return r == -2 ? real_epoll_wait(epfd, events, max, timeout) : r;
}

int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
                const sigset_t *mask)
{
    RL__IC_REAL(epoll_pwait);
    epoll_args a = {epfd, events, max, mask};
    int r = epoll_common(&a, timeout_ms(timeout), "epoll_pwait");
    return r == -2 ? real_epoll_pwait(epfd, events, max, timeout, mask) : r;
}

int epoll_pwait2(int epfd, struct epoll_event *events, int max,
                 const struct timespec *ts, const sigset_t *mask)
{
    RL__IC_REAL(epoll_pwait2);
    epoll_args a = {epfd, events, max, mask};
    int r = epoll_common(&a, timeout_of(ts), "epoll_pwait2");
    return r == -2 ? real_epoll_pwait2(epfd, events, max, ts, mask) : r;
}
