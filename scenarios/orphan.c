/* orphan.c: terminating a child does not end the children it started. The
 * grandchild is reparented and keeps running (holding whatever it held)
 * after the parent believes the whole job is gone. The fix: the parent
 * asks the child to stop instead of killing it, and the child ends its own
 * child (terminate and join) before it exits. */
#include <signal.h>
#include <stddef.h>

#include "catalogue.h"

typedef struct {
    int graceful; /* the parent asks; the child cleans up */
    pid_t grandchild;
    rl_event *started; /* the grandchild is up */
    rl_event *never;   /* nobody sets it: the grandchild's endless job */
    rl_event *stop;    /* the parent's request to the child */
} job;

static int grandchild(void *arg)
{
    job *j = arg;
    rl_event_set(j->started);
    rl_event_wait(j->never, -1);
    return 0;
}

/* Starts the grandchild and waits to be terminated. */
static int child(void *arg)
{
    job *j = arg;
    rl_process_opts o = {.name = "grandchild"};
    rl_process *g = NULL;
    if (rl_process_start(&g, grandchild, j, &o) != 0)
        return 1;
    j->grandchild = rl_process_pid(g);
    rl_event_wait(j->stop, -1);
    /* Asked to stop: end what it started before it ends. */
    rl_process_terminate(g);
    rl_process_join(g, -1);
    rl_process_free(g);
    return 0;
}

/* 1 while pid runs (a zombie or a missing process does not). */
static int running(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[2] != 'Z' && rp[2] != 'X';
}

static void run(int graceful)
{
    job *j = rl_shared_alloc(sizeof *j);
    j->graceful = graceful;
    j->started = rl_event_new();
    j->never = rl_event_new();
    j->stop = rl_event_new();
    rl_process *c = NULL;
    rl_process_opts o = {.name = "child"};
    rl_check(rl_process_start(&c, child, j, &o) == 0, "start");
    rl_event_wait(j->started, -1);
    if (graceful)
        rl_event_set(j->stop);
    else
        rl_process_terminate(c);
    rl_process_join(c, -1);
    rl_process_free(c);
    rl_check(!running(j->grandchild),
             "the grandchild (pid %d) outlives its terminated parent",
             (int)j->grandchild);
}

RL_SCENARIO(orphan_left, "orphan.left",
            .summary = "terminating a child leaves its own child running",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run(0);
}

RL_SCENARIO(orphan_stopped, "orphan.stopped",
            .summary = "the child is asked to stop and ends its own child "
                       "first")
{
    run(1);
}
