/* barrier_broken.c: three parties meet at a barrier, but one of them fails
 * and leaves before it gets there. The others wait for it forever. The
 * fix: the failing party aborts the barrier, and the waiters treat the
 * broken barrier (-EPIPE) as an error to handle. */
#include <errno.h>
#include <stddef.h>

#include "racelab.h"

typedef struct {
    rl_barrier *barrier;
    int broken_seen; /* waiters that got -EPIPE */
} meeting;

/* A party whose setup failed: it leaves without reaching the barrier. */
static int fail_and_leave(void *arg)
{
    (void)arg;
    return 0;
}

/* The same failure, but it breaks the barrier for the others first. */
static int fail_and_abort(void *arg)
{
    meeting *m = arg;
    rl_barrier_abort(m->barrier);
    return 0;
}

static int wait_at_barrier(void *arg)
{
    meeting *m = arg;
    if (rl_barrier_wait(m->barrier, -1) == -EPIPE)
        RL_FETCH_ADD(m->broken_seen, 1);
    return 0;
}

static void run(rl_entry failing)
{
    meeting *m = rl_shared_alloc(sizeof *m);
    m->barrier = rl_barrier_new(3);
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, wait_at_barrier, m, NULL) == 0, "start");
    rl_check(rl_process_start(&b, failing, m, NULL) == 0, "start");
    if (rl_barrier_wait(m->barrier, -1) == -EPIPE)
        RL_FETCH_ADD(m->broken_seen, 1);
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
    rl_check_eq(m->broken_seen, 2, "waiters that saw the broken barrier");
}

RL_SCENARIO(barrier_broken_left, "barrier_broken.left",
            .summary = "one party exits before the barrier: the others "
                       "wait forever",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_DEADLOCK)
{
    run(fail_and_leave);
}

RL_SCENARIO(barrier_broken_aborted, "barrier_broken.aborted",
            .summary = "the failing party aborts the barrier; the others "
                       "see it broken")
{
    run(fail_and_abort);
}
