/* jobs.c: searches over several worker processes (--jobs): explore split
 * into disjoint subtrees of the decision tree, the sampled modes into
 * slices of their runs. The outcome does not depend on timing: the first
 * failure reported is the one of the lowest run, or for explore the one
 * that comes first in rounds of ROUND executions per subtree (the lowest
 * subtree among those that fail within the fewest rounds).
 *
 * Explore reports early: once a subtree fails in round r, the subtrees
 * after it stop after r - 1 rounds (they could only win in an earlier
 * round) and those before it after r rounds, so a failure ends the run
 * within r rounds of every subtree instead of waiting for the subtrees
 * before it to finish. Which subtree wins is fixed by the rounds, not
 * by which worker got there first. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "frontier.h"

/* Explore: executions per round of a subtree (see the top). */
#define ROUND 100

/* The options that run task t: its subtree or its slice of the runs. */
static rl__search_opts task_opts(const rl__search_opts *o, int jobs, rl__task *t)
{
    rl__search_opts to = *o;
    to.observe = NULL;
    if (o->mode == RL_MODE_EXPLORE) {
        to.root = t->prefix;
        to.nroot = t->nprefix;
        /* An execution limit is the scenario's, shared by its subtrees. */
        if (o->runs > 0 && t->nparts > 1)
            to.runs = (o->runs + t->nparts - 1) / t->nparts;
    } else {
        to.stride = jobs;
        to.offset = t->offset;
    }
    return to;
}

static void run_task(rl_scenario *const *scs, const rl__search_opts *o,
                     int jobs, rl__board *b, rl__task *t)
{
    rl__search_opts to = task_opts(o, jobs, t);
    to.stop = &b->stop;
    if (o->mode == RL_MODE_EXPLORE && !o->all_outcomes)
        to.budget = &t->budget;
    t->started = rl__now();
    rl__search_result r;
    t->err = rl__search(scs[t->scenario], &to, &r);
    t->ended = rl__now();
    t->verdict = r.verdict;
    t->exhausted = r.exhausted;
    t->executions = r.executions;
    t->failures = r.failures;
    t->first_failure_run = r.first_failure_run;
    t->nvalues = r.nvalues;
    memcpy(t->values, r.values, sizeof r.values);
    memcpy(t->counts, r.counts, sizeof r.counts);
    t->points = r.schedule_points;
    t->labels = r.labels_reached;
    t->pairs = r.pairs_interleaved;
    t->explored = r.space_explored;
    t->pct_depth = r.pct_depth;
    t->pct_actors = r.pct_actors;
    t->pct_steps = r.pct_steps;
    if (r.token)
        rl__board_put_token(b, t, r.token);
    snprintf(t->message, sizeof t->message, "%s", r.first.message);
    if (r.verdict != RL_PASS && r.first_failure_run > 0)
        rl__board_put_failure(b, t, &r.first);
    for (long i = 0; i < r.nraces && t->nraces < TASK_RACES; i++)
        if (!r.races[i].failing)
            t->races[t->nraces++] = r.races[i];
    rl__search_result_free(&r);
}

/* The executions of a round. */
static long round_len(const rl__search_opts *o)
{
    return o->round > 0 ? o->round : ROUND;
}

/* The round of an explore task's first failure (1-based). */
static long round_of(const rl__task *t, long len)
{
    return (t->first_failure_run + len - 1) / len;
}

/* Lowers *budget to at most v. */
static void lower_budget(volatile long *budget, long v)
{
    long cur = __atomic_load_n(budget, __ATOMIC_ACQUIRE);
    while (v < cur &&
           !__atomic_compare_exchange_n(budget, &cur, v, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
        ;
}

/* Explore task k failed: the other subtrees of its scenario need to run
 * only as far as they could still come first (see the top). */
static void limit_others(rl__board *b, long k, long len)
{
    const rl__task *t = &b->tasks[k];
    long r = round_of(t, len);
    for (long i = 0; i < b->ntasks; i++) {
        rl__task *u = &b->tasks[i];
        if (i == k || u->scenario != t->scenario)
            continue;
        lower_budget(&u->budget, (i < k ? r : r - 1) * len);
    }
}

/* The worker loop: takes tasks in order; an explore task that may run
 * no execution any more (a failure elsewhere came first) is skipped. */
static _Noreturn void worker(rl_scenario *const *scs, const rl__search_opts *in,
                             int jobs, rl__board *b, int index)
{
    signal(SIGINT, SIG_IGN);
    rl__execute_forget();
    /* Each worker's executions keep to a CPU of their own. */
    rl__search_opts local = *in;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (local.cpu == 0 && ncpu > 0)
        local.cpu = 1 + (int)(index % ncpu);
    const rl__search_opts *o = &local;
    for (;;) {
        if (b->stop)
            break;
        long k = __atomic_fetch_add(&b->next, 1, __ATOMIC_ACQ_REL);
        if (k >= b->ntasks)
            break;
        rl__task *t = &b->tasks[k];
        if (o->mode == RL_MODE_EXPLORE &&
            __atomic_load_n(&t->budget, __ATOMIC_ACQUIRE) == 0) {
            __atomic_store_n(&t->state, T_SKIPPED, __ATOMIC_RELEASE);
            continue;
        }
        t->worker = index;
        __atomic_store_n(&t->state, T_RUNNING, __ATOMIC_RELEASE);
        run_task(scs, o, jobs, b, t);
        if (o->mode == RL_MODE_EXPLORE && !o->all_outcomes && t->err == 0 &&
            t->verdict != RL_PASS && t->first_failure_run > 0)
            limit_others(b, k, round_len(o));
        __atomic_store_n(&t->state, T_DONE, __ATOMIC_RELEASE);
    }
    rl__flush_stdio();
    _exit(0);
}

static void add_values(rl__search_result *r, const rl__task *t)
{
    for (int i = 0; i < t->nvalues; i++) {
        int k = 0;
        while (k < r->nvalues && r->values[k] != t->values[i])
            k++;
        if (k == r->nvalues) {
            if (r->nvalues == RL__HIST_MAX)
                continue;
            r->values[r->nvalues++] = t->values[i];
        }
        r->counts[k] += t->counts[i];
    }
}

/* The token of a failing task: from the board, or, when it did not fit
 * there, by running the task again here (it is deterministic). Returns a
 * malloc'd string or NULL. */
static char *token_of_task(rl_scenario *sc, const rl__search_opts *o, int jobs,
                           rl__board *b, const rl__task *t)
{
    if (t->has_token)
        return rl__board_token(b, t);
    if (!t->token_overflow)
        return NULL;
    rl__search_opts to = task_opts(o, jobs, (rl__task *)t);
    rl__search_result x;
    char *tok = NULL;
    if (rl__search(sc, &to, &x) == 0 && x.token)
        tok = strdup(x.token);
    rl__search_result_free(&x);
    return tok;
}

/* Adds the counts of a finished task to r: executions, failures, values,
 * coverage (the largest part's), the PCT figures, the explored share. */
static void add_task(rl__search_result *r, const rl__task *t)
{
    r->executions += t->executions;
    r->failures += t->failures;
    r->exhausted &= t->exhausted;
    add_values(r, t);
    if (t->points > r->schedule_points)
        r->schedule_points = t->points;
    if (t->labels > r->labels_reached)
        r->labels_reached = t->labels;
    if (t->pairs > r->pairs_interleaved)
        r->pairs_interleaved = t->pairs;
    /* Every part measures the same run without preemptions. */
    if (t->pct_depth > 0) {
        r->pct_depth = t->pct_depth;
        r->pct_actors = t->pct_actors;
        r->pct_steps = t->pct_steps;
    }
    /* Subtrees count as equal parts of the tree. */
    if (t->explored >= 0)
        r->space_explored += t->explored;
}

/* Puts the failure of task best, the chosen one of scenario s, into r:
 * its verdict, its place in the whole search (explore counts the
 * subtrees before it, each up to cap executions), its message, its token
 * and the failing execution as the worker found it. */
static void take_failure(rl_scenario *sc, const rl__search_opts *o, int jobs,
                         rl__board *b, int s, const rl__task *best, long cap,
                         rl__search_result *r)
{
    r->verdict = best->verdict;
    r->first_failure_run = best->first_failure_run;
    /* Explore counts the executions of the subtrees before the
     * failing one too: its place in the whole exploration. */
    if (o->mode == RL_MODE_EXPLORE)
        for (const rl__task *t = b->tasks; t < best; t++)
            if (t->scenario == s && t->state == T_DONE)
                r->first_failure_run +=
                    t->executions < cap ? t->executions : cap;
    snprintf(r->first.message, sizeof r->first.message, "%s", best->message);
    char *tok = token_of_task(sc, o, jobs, b, best);
    rl__exec_result e;
    if (rl__board_failure(b, best, &e) == 0) {
        r->found_cost = rl__trace_cost(e.steps, e.nsteps, o->bound_kind);
        r->first = e;
        rl__merge_races(r, &r->first, 1);
    } else if (tok) {
        /* The worker could not keep the details (a trace larger than its
         * slot): replay the failure here. */
        rl__search_result x;
        rl__search_opts ro = *o;
        ro.observe = NULL;
        if (rl__replay(tok, &ro, &x) == 0 && x.verdict == best->verdict) {
            r->found_cost =
                rl__trace_cost(x.first.steps, x.first.nsteps, o->bound_kind);
            r->first = x.first;
            r->races = x.races;
            r->nraces = x.nraces;
            x.first.steps = NULL;
            x.first.actors = NULL;
            x.first.races = NULL;
            x.first.nraces = 0;
            x.races = NULL;
            x.nraces = 0;
            x.first.nsteps = 0;
            x.first.nactors = 0;
        }
        rl__search_result_free(&x);
    }
    r->token = tok;
}

/* Puts the tasks of scenario s together into r. */
static int combine(rl_scenario *sc, const rl__search_opts *o, int jobs,
                   rl__board *b, int s, rl__search_result *r)
{
    memset(r, 0, sizeof *r);
    r->sc = sc;
    r->mode = o->mode;
    r->seed = o->seed;
    r->exhausted = 1;
    r->bound = o->preemptions;
    r->bound_kind = o->bound_kind;
    r->reduction = o->reduction;
    r->space_explored = o->mode == RL_MODE_EXPLORE ? 0 : -1;
    long parts = 0;
    const rl__task *best = NULL;
    double t0 = 0, t1 = 0;
    int any = 0, err = 0;
    for (long k = 0; k < b->ntasks; k++) {
        const rl__task *t = &b->tasks[k];
        if (t->scenario != s)
            continue;
        if (t->state == T_SKIPPED) {
            r->exhausted = 0;
            continue;
        }
        if (t->state != T_DONE) {
            r->exhausted = 0;
            err = -EINTR;
            continue;
        }
        if (t->err < 0)
            err = t->err;
        if (!any || t->started < t0)
            t0 = t->started;
        if (!any || t->ended > t1)
            t1 = t->ended;
        any = 1;
        add_task(r, t);
        parts++;
        if (t->verdict == RL_PASS)
            continue;
        if (!best ||
            (o->mode != RL_MODE_EXPLORE &&
             t->first_failure_run < best->first_failure_run) ||
            (o->mode == RL_MODE_EXPLORE &&
             round_of(t, round_len(o)) < round_of(best, round_len(o))))
            best = t;
    }
    if (o->mode != RL_MODE_EXPLORE || best)
        r->exhausted = o->mode == RL_MODE_EXPLORE ? 0 : r->exhausted;
    r->duration = any ? t1 - t0 : 0;
    /* Explore that found a bug counts the rounds up to the failing one
     * in the subtrees up to the failing one only: how far the others got
     * depends on timing. */
    long cap = best ? round_of(best, round_len(o)) * round_len(o) : 0;
    if (o->mode == RL_MODE_EXPLORE && best) {
        r->executions = 0;
        r->failures = 0;
        for (const rl__task *t = b->tasks; t <= best; t++) {
            if (t->scenario != s || t->state != T_DONE)
                continue;
            if (t == best) {
                r->executions += t->executions;
                r->failures += t->failures;
            } else {
                r->executions += t->executions < cap ? t->executions : cap;
            }
        }
    }
    if (r->space_explored >= 0) {
        long all = 0;
        for (long k = 0; k < b->ntasks; k++)
            all += b->tasks[k].scenario == s;
        r->space_explored = r->exhausted ? 1.0
                            : all        ? r->space_explored / (double)all
                                         : 0;
    }
    (void)parts;
    if (best)
        take_failure(sc, o, jobs, b, s, best, cap, r);
    /* Then the races of passing executions, in task order. */
    for (long k = 0; k < b->ntasks; k++) {
        const rl__task *t = &b->tasks[k];
        if (t->scenario != s || t->state != T_DONE || !t->nraces)
            continue;
        rl__exec_result e;
        memset(&e, 0, sizeof e);
        e.races = (rl__race *)t->races;
        e.nraces = t->nraces;
        rl__merge_races(r, &e, 0);
    }
    return err;
}

/* Forks worker number index. Returns its pid, or -1. */
static pid_t start_worker(rl_scenario *const *scs, const rl__search_opts *o,
                          int jobs, rl__board *b, int index)
{
    pid_t parent = getpid();
    rl__flush_stdio();
    pid_t pid = fork();
    if (pid == 0) {
        /* A worker must not outlive the command that started it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        worker(scs, o, jobs, b, index);
    }
    return pid;
}

/* Worker index ended with status st (or, WIFSTOPPED, was stopped and
 * then killed). Normally it ran out of work; when it
 * died instead (killed from outside, out of memory), the task it held
 * ends as an ERROR that says so, and nothing waits for it. Returns 1 when
 * the worker died. */
static int worker_ended(rl__board *b, int index, pid_t pid, int st)
{
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    for (long k = 0; k < b->ntasks; k++) {
        rl__task *t = &b->tasks[k];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != T_RUNNING ||
            t->worker != index)
            continue;
        t->verdict = RL_ERROR;
        t->err = 0;
        t->exhausted = 0;
        t->has_token = 0;
        t->token_overflow = 0;
        t->first_failure_run = t->executions;
        if (WIFSTOPPED(st))
            snprintf(t->message, sizeof t->message,
                     "job worker %d (pid %d) was stopped by signal SIG%s "
                     "while it ran part of this search and did not go on; "
                     "it was killed and that part is not covered",
                     index, (int)pid,
                     sigabbrev_np(WSTOPSIG(st)) ? sigabbrev_np(WSTOPSIG(st))
                                                : "?");
        else if (WIFSIGNALED(st))
            snprintf(t->message, sizeof t->message,
                     "job worker %d (pid %d) was killed by signal SIG%s "
                     "while it ran part of this search; that part is "
                     "not covered",
                     index, (int)pid,
                     sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st))
                                                : "?");
        else
            snprintf(t->message, sizeof t->message,
                     "job worker %d (pid %d) exited with status %d while "
                     "it ran part of this search; that part is not covered",
                     index, (int)pid, WEXITSTATUS(st));
        __atomic_store_n(&t->state, T_DONE, __ATOMIC_RELEASE);
    }
    return 1;
}

/* Kills the first worker seen stopped (stopped[i], when) more than a
 * second ago that is stopped still, and reaps it. Returns its pid with
 * the status it was stopped with in *st, or 0 when there is none. */
static pid_t kill_long_stopped(pid_t *pids, double *stopped, int *stop_st,
                               int nworkers, int *st)
{
    for (int i = 0; i < nworkers; i++) {
        if (!stopped[i] || pids[i] <= 0 || rl__now() - stopped[i] < 1.0)
            continue;
        stopped[i] = 0;
        if (rl__proc_state(pids[i], NULL) != 'T')
            continue;
        kill(pids[i], SIGKILL);
        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
            ;
        *st = stop_st[i];
        return pids[i];
    }
    return 0;
}

/* Worker pid w ended with status st: its slot is freed, its task ended
 * (see worker_ended), and a dead worker is replaced while work remains.
 * Counts in *alive, *replaced and *died. */
static void worker_gone(rl_scenario *const *scs, const rl__search_opts *o,
                        int jobs, rl__board *b, pid_t *pids, double *stopped,
                        int nworkers, pid_t w, int st, int *alive,
                        int *replaced, int *died)
{
    for (int i = 0; i < nworkers; i++) {
        if (pids[i] != w)
            continue;
        if (stopped)
            stopped[i] = 0;
        pids[i] = 0;
        (*alive)--;
        /* A dead worker is replaced while work remains (a few
         * times at most: something may be killing them). */
        int dead = worker_ended(b, i, w, st);
        *died += dead;
        if (dead && !b->stop && *replaced < 2 * nworkers &&
            __atomic_load_n(&b->next, __ATOMIC_ACQUIRE) < b->ntasks) {
            pid_t pid = start_worker(scs, o, jobs, b, i);
            if (pid > 0) {
                pids[i] = pid;
                (*alive)++;
                (*replaced)++;
            }
        }
    }
}

/* 1 when every task of scenario s is done or skipped. */
static int scenario_complete(rl__board *b, int s)
{
    int complete = 1;
    for (long k = 0; k < b->ntasks; k++) {
        int st = __atomic_load_n(&b->tasks[k].state, __ATOMIC_ACQUIRE);
        if (b->tasks[k].scenario == s && st != T_DONE && st != T_SKIPPED)
            complete = 0;
    }
    return complete;
}

/* Combines and reports, in order, the scenarios from reported on whose
 * tasks are all complete; the first error goes to *err unless one is
 * there already. Returns the number reported so far. */
static int report_complete(rl_scenario *const *scs, int n,
                           const rl__search_opts *o, int jobs, rl__board *b,
                           int reported, rl__search_result *results,
                           void (*done)(rl__search_result *r, void *ctx),
                           void *ctx, int *err)
{
    while (reported < n) {
        if (!scenario_complete(b, reported))
            break;
        int e =
            combine(scs[reported], o, jobs, b, reported, &results[reported]);
        if (e < 0 && !*err)
            *err = e;
        /* A search that could not run (bad input in a worker) has no
         * result to show: the error says why. */
        if (done && (e >= 0 || e == -EINTR))
            done(&results[reported], ctx);
        reported++;
    }
    return reported;
}

/* Plans the tasks of the searches: per scenario, one for a lone sampled
 * search, jobs slices of a sampled one, or the subtrees of explore's
 * frontier (those of this shard). Returns 0 with *out malloc'd and
 * *ntasks set, or a negative errno. */
static int plan_tasks(rl_scenario *const *scs, int n, const rl__search_opts *o,
                      int jobs, rl__task **out, long *ntasks_out)
{
    long ntasks = 0, cap = 64;
    rl__task *plan = calloc((size_t)cap, sizeof *plan);
    if (!plan)
        return -ENOMEM;
    int err = 0;
    for (int s = 0; s < n && !err; s++) {
        long parts = 1;
        uint8_t **pre = NULL;
        long *len = NULL;
        /* Explore is sharded by subtrees: shard I takes the subtrees k
         * with k mod N = I of a frontier every shard computes alike. */
        long shards = o->mode == RL_MODE_EXPLORE && o->shard_count > 1
                          ? o->shard_count
                          : 1;
        if ((jobs > 1 || shards > 1) && o->mode == RL_MODE_EXPLORE) {
            /* Sharded, the frontier must not depend on --jobs, which may
             * differ from shard to shard. */
            long want = shards > 1 ? 16L * shards : 4L * jobs;
            parts = rl__frontier(scs[s], o, want < 4096 ? want : 4096, &pre,
                                 &len);
            if (parts < 0) {
                err = (int)parts;
                break;
            }
        } else if (jobs > 1) {
            parts = jobs;
        }
        for (long k = 0; k < parts; k++) {
            if (k % shards != (shards > 1 ? o->shard_index : 0))
                continue;
            if (ntasks == cap) {
                cap *= 2;
                rl__task *np = realloc(plan, sizeof *plan * (size_t)cap);
                if (!np) {
                    err = -ENOMEM;
                    break;
                }
                plan = np;
            }
            rl__task *t = &plan[ntasks++];
            memset(t, 0, sizeof *t);
            t->scenario = s;
            t->nparts = (parts + shards - 1) / shards;
            t->offset = k;
            t->budget = LONG_MAX;
            if (pre) {
                t->nprefix = len[k];
                memcpy(t->prefix, pre[k], (size_t)len[k]);
            }
        }
        if (pre)
            for (long k = 0; k < parts; k++)
                free(pre[k]);
        free(pre);
        free(len);
    }
    if (err) {
        free(plan);
        return err;
    }
    *out = plan;
    *ntasks_out = ntasks;
    return 0;
}

int rl__search_many(rl_scenario *const *scs, int n, const rl__search_opts *o,
                    int jobs, rl__search_result *results,
                    void (*done)(rl__search_result *r, void *ctx), void *ctx)
{
    if (jobs < 1)
        jobs = 1;
    long ntasks;
    rl__task *plan;
    int err = plan_tasks(scs, n, o, jobs, &plan, &ntasks);
    if (err)
        return err;
    /* A failing execution of any of the scenarios fits a task's slot. */
    long longest = 0;
    for (int i = 0; i < n; i++) {
        long m = o->max_steps > 0      ? o->max_steps
                 : scs[i]->max_steps > 0 ? scs[i]->max_steps
                                         : rl__default.max_steps;
        if (m > longest)
            longest = m;
    }
    rl__board *b = rl__board_make(plan, ntasks, longest);
    free(plan);
    if (!b)
        return -ENOMEM;
    int nworkers = jobs < ntasks ? jobs : (int)ntasks;
    if (nworkers < 1)
        nworkers = 1; /* a shard without tasks: a worker with nothing to do */
    pid_t *pids = calloc((size_t)nworkers + 1, sizeof *pids);
    /* When each worker was seen stopped (SIGSTOP, SIGTSTP), 0 if not. */
    double *stopped = calloc((size_t)nworkers + 1, sizeof *stopped);
    int *stop_st = calloc((size_t)nworkers + 1, sizeof *stop_st);
    if (!pids || !stopped || !stop_st) {
        rl__board_free(b);
        free(pids);
        free(stopped);
        free(stop_st);
        return rl__fail(-ENOMEM, "no memory for the job workers");
    }
    int alive = 0, replaced = 0, died = 0;
    /* Should a worker die, its execution's processes come back here. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    unsigned long long started = rl__ticks_now();
    for (int w = 0; w < nworkers; w++) {
        pid_t pid = start_worker(scs, o, jobs, b, w);
        if (pid > 0) {
            pids[w] = pid;
            alive++;
        }
    }
    if (alive == 0) {
        rl__board_free(b);
        free(pids);
        free(stopped);
        free(stop_st);
        return rl__fail(-EAGAIN, "cannot start job workers: %s",
                        strerror(errno));
    }
    /* Report scenarios in order as they complete. */
    int reported = 0;
    while (reported < n) {
        if (o->stop && *o->stop)
            b->stop = 1;
        reported = report_complete(scs, n, o, jobs, b, reported, results, done,
                                   ctx, &err);
        if (reported >= n)
            break;
        if (alive == 0) {
            /* Workers ended with tasks undone: interrupted. */
            for (; reported < n; reported++)
                combine(scs[reported], o, jobs, b, reported,
                        &results[reported]);
            if (!err)
                err = -EINTR;
            break;
        }
        int st;
        pid_t w = waitpid(-1, &st, WNOHANG | WUNTRACED);
        if (w > 0 && WIFSTOPPED(st)) {
            /* A stopped worker makes no progress and nothing waits for it
             * to go on: unless it goes on within a second (a stop of the
             * whole terminal job stops this process too, and a SIGCONT
             * resumes them together), it counts as dead. */
            for (int i = 0; i < nworkers; i++)
                if (pids[i] == w) {
                    stopped[i] = rl__now();
                    stop_st[i] = st;
                }
            continue;
        }
        if (w <= 0)
            w = kill_long_stopped(pids, stopped, stop_st, nworkers, &st);
        if (w > 0) {
            worker_gone(scs, o, jobs, b, pids, stopped, nworkers, w, st, &alive,
                        &replaced, &died);
            continue;
        }
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    b->stop = 1;
    for (int i = 0; i < nworkers; i++)
        if (pids[i] > 0)
            while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                ;
    /* The processes of an execution whose worker died came back to this
     * process (a subreaper) or are on their way out: none stays. */
    if (died > 0)
        rl__reap_strays(started);
    free(pids);
    free(stopped);
    free(stop_st);
    rl__board_free(b);
    return err;
}
