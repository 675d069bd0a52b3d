/* pool_tally.c: pool tasks run in worker processes. A task that adds to a
 * global counter adds to the worker's private copy; the parent's counter
 * stays 0. The fix returns each task's result and lets the parent sum
 * them (or keeps the counter in shared memory). */
#include <stddef.h>

#include "racelab.h"

#define ITEMS 2

static long tally; /* a global: each process has its own copy */

/* Adds its input to the global tally: in the worker's copy. */
static int add_to_tally(const void *in, size_t in_len, void *out,
                        size_t *out_len)
{
    (void)in_len;
    (void)out;
    tally += *(const int *)in;
    *out_len = 0;
    return 0;
}

/* Returns its input as the result. */
static int return_value(const void *in, size_t in_len, void *out,
                        size_t *out_len)
{
    (void)in_len;
    *(long *)out = *(const int *)in;
    *out_len = sizeof(long);
    return 0;
}

static void run(int returned)
{
    rl_pool *pool = NULL;
    rl_pool_opts o = {.workers = 2};
    if (!rl_check(rl_pool_new(&pool, &o) == 0, "pool: %s", rl_last_error()))
        return;
    int in[ITEMS];
    long out[ITEMS] = {0};
    for (int i = 0; i < ITEMS; i++)
        in[i] = i + 1;
    int r = rl_pool_map(pool, returned ? return_value : add_to_tally, in,
                        sizeof in[0], ITEMS, out, sizeof out[0]);
    rl_check(r == 0, "map: %s", rl_last_error());
    rl_pool_close(pool);
    rl_pool_join(pool, -1);
    rl_pool_free(pool);
    long sum = tally;
    if (returned)
        for (int i = 0; i < ITEMS; i++)
            sum += out[i];
    rl_check_eq(sum, 3, "the parent's total");
}

RL_SCENARIO(pool_tally_global, "pool_tally.global",
            .summary = "pool tasks add to a global counter in each worker: "
                       "the parent sees 0",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run(0);
}

RL_SCENARIO(pool_tally_returned, "pool_tally.returned",
            .summary = "tasks return their results; the parent sums them")
{
    run(1);
}
