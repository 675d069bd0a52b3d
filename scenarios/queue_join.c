/* queue_join.c: a producer puts more items into a bounded queue than it
 * holds. The parent joins the producer before draining the queue: the
 * producer waits for room, the parent waits for the producer. The fix
 * drains first and joins after. */
#include <stddef.h>

#include "racelab.h"

#define ITEMS 2

/* Puts ITEMS items into a queue of one: the second put waits for a get. */
static int produce(void *arg)
{
    rl_queue *q = arg;
    for (int i = 0; i < ITEMS; i++)
        rl_queue_put(q, &i, sizeof i, -1);
    return 0;
}

static long drain(rl_queue *q)
{
    long sum = 0;
    for (int i = 0; i < ITEMS; i++) {
        int v = 0;
        if (rl_queue_get(q, &v, sizeof v, -1) == (ssize_t)sizeof v)
            sum += v + 1;
    }
    return sum;
}

RL_SCENARIO(queue_join_early, "queue_join.early",
            .summary = "join a producer blocked on a full queue before "
                       "draining it",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_DEADLOCK)
{
    rl_queue *q = rl_queue_new(1, 0);
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, produce, q, NULL) == 0, "start");
    rl_process_join(p, -1);
    long sum = drain(q);
    rl_process_free(p);
    rl_check_eq(sum, 3, "sum of items");
}

RL_SCENARIO(queue_join_drained, "queue_join.drained",
            .summary = "drain the queue, then join the producer")
{
    rl_queue *q = rl_queue_new(1, 0);
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, produce, q, NULL) == 0, "start");
    long sum = drain(q);
    rl_process_join(p, -1);
    rl_process_free(p);
    rl_check_eq(sum, 3, "sum of items");
}
