/* end_flag.c: a producer polls a stop flag that its parent sets. After a
 * fork each process has its own copy of every global and stack variable,
 * so a flag set in the parent's private copy is never seen by the child:
 * the producer runs forever. The fixes put the flag in shared memory or
 * use an event. */
#include <stddef.h>

#include "catalogue.h"

typedef struct {
    int stop;          /* the flag of the shared variant, in the arena */
    rl_event *stop_ev; /* the flag of the event variant */
    rl_sem *never;     /* released by nobody: the producer's pause */
    long produced;
} producer_state;

/* The flag of the buggy variant: an ordinary global. fork() copies it, so
 * parent and child each have their own. */
static int stop_private;

/* Produces until the private flag is set: it never is, in this process. */
static int produce_private(void *arg)
{
    producer_state *s = arg;
    while (!RL_LOAD(stop_private)) {
        s->produced++;
        cat_nap(s->never);
    }
    return 0;
}

/* Produces until the flag in shared memory is set: an atomic flag, which
 * two processes may read and write at once. */
static int produce_shared(void *arg)
{
    producer_state *s = arg;
    while (!RL_LOAD_ATOMIC(s->stop)) {
        s->produced++;
        cat_nap(s->never);
    }
    return 0;
}

/* Produces until the event is set; the timed wait is also the pause. */
static int produce_event(void *arg)
{
    producer_state *s = arg;
    while (rl_event_wait(s->stop_ev, 0.001) == 0)
        s->produced++;
    return 0;
}

static producer_state *setup(void)
{
    producer_state *s = rl_shared_alloc(sizeof *s);
    s->never = rl_sem_new(0, 0);
    s->stop_ev = rl_event_new();
    return s;
}

RL_SCENARIO(end_flag_private, "end_flag.private",
            .summary = "the parent sets a stop flag in its own private copy "
                       "after fork: the producer never stops",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_LIVELOCK,
            .max_steps = 200, .timeout = 5)
{
    producer_state *s = setup();
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, produce_private, s, NULL) == 0, "start");
    /* Stores to the parent's copy of the global; the child has its own. */
    RL_STORE(stop_private, 1);
    rl_process_join(p, -1);
    rl_process_free(p);
}

RL_SCENARIO(end_flag_shared, "end_flag.shared",
            .summary = "the stop flag lives in shared memory", .max_steps = 200)
{
    producer_state *s = setup();
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, produce_shared, s, NULL) == 0, "start");
    RL_STORE_ATOMIC(s->stop, 1);
    rl_process_join(p, -1);
    rl_process_free(p);
}

RL_SCENARIO(end_flag_event, "end_flag.event",
            .summary = "the stop flag is an event", .max_steps = 200)
{
    producer_state *s = setup();
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, produce_event, s, NULL) == 0, "start");
    rl_event_set(s->stop_ev);
    rl_process_join(p, -1);
    rl_process_free(p);
}
