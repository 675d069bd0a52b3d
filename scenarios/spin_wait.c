/* spin_wait.c: a reader busy-waits on a ready flag in shared memory, then
 * reads the data the writer published with it. The writer must store the
 * data before the flag: the other way round, the reader can see the flag
 * and read the data before it is there. The spin itself is fine: under
 * fair scheduling a spin-wait lets the writer run, with or without a
 * yield in the loop. */
#include "catalogue.h"

typedef struct {
    long data;
    int ready;
} mailbox;

#define ANSWER 42

/* Spins on the flag until it is set, then reads the data. The flag is
 * atomic: its store orders the data stored before it with the reads after
 * the load that sees it. */
static int read_plain(void *arg)
{
    mailbox *m = arg;
    while (RL_LOAD_ATOMIC(m->ready) == 0)
        ;
    rl_check_eq(RL_LOAD(m->data), ANSWER, "the data the reader sees");
    return 0;
}

/* The same, saying at each round that it waits for another process. */
static int read_yield(void *arg)
{
    mailbox *m = arg;
    while (RL_LOAD_ATOMIC(m->ready) == 0)
        rl_yield("wait for the ready flag");
    rl_check_eq(RL_LOAD(m->data), ANSWER, "the data the reader sees");
    return 0;
}

/* Publishes the flag first: the bug. */
static int write_flag_first(void *arg)
{
    mailbox *m = arg;
    RL_STORE_ATOMIC(m->ready, 1);
    RL_STORE(m->data, ANSWER);
    return 0;
}

static int write_data_first(void *arg)
{
    mailbox *m = arg;
    RL_STORE(m->data, ANSWER);
    RL_STORE_ATOMIC(m->ready, 1);
    return 0;
}

/* Starts the reader, then the writer, and joins both. */
static void reader_and_writer(rl_entry reader, rl_entry writer)
{
    mailbox *m = rl_shared_alloc(sizeof *m);
    rl_process_opts ro = {.name = "reader"}, wo = {.name = "writer"};
    rl_process *r = NULL, *w = NULL;
    rl_check(rl_process_start(&r, reader, m, &ro) == 0, "start the reader");
    rl_check(rl_process_start(&w, writer, m, &wo) == 0, "start the writer");
    rl_process_join(r, -1);
    rl_process_join(w, -1);
    rl_process_free(r);
    rl_process_free(w);
}

RL_SCENARIO(spin_wait_flag_first, "spin_wait.flag_first",
            .summary = "the writer sets the ready flag before it stores the "
                       "data: the spinning reader can read the data too soon",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL,
            .max_steps = 500)
{
    reader_and_writer(read_plain, write_flag_first);
}

RL_SCENARIO(spin_wait_data_first, "spin_wait.data_first",
            .summary = "data, then the atomic ready flag; the reader spins "
                       "without yielding",
            .max_steps = 500)
{
    reader_and_writer(read_plain, write_data_first);
}

RL_SCENARIO(spin_wait_yield, "spin_wait.yield",
            .summary = "data, then the ready flag; the reader yields while "
                       "it waits",
            .max_steps = 500)
{
    reader_and_writer(read_yield, write_data_first);
}
