/* pipe_eof.c: a consumer reads a pipe until end of file. EOF comes only
 * once every process has closed its copy of the write end; a parent that
 * forked the consumer and keeps its own copy open while it waits for the
 * consumer to end waits forever, and so does the consumer. */
#include <stddef.h>

#include "racelab.h"

typedef struct {
    rl_conn *rd;
    rl_conn *wr;
    long received;
} channel;

/* Reads messages until EOF. Its own inherited copy of the write end is
 * closed first, as it must be. */
static int consume(void *arg)
{
    channel *ch = arg;
    char buf[64];
    rl_conn_close(ch->wr);
    for (;;) {
        ssize_t n = rl_conn_recv(ch->rd, buf, sizeof buf, -1);
        if (n < 0)
            break;
        ch->received++;
    }
    rl_conn_close(ch->rd);
    return 0;
}

static void run(int close_before_join)
{
    channel *ch = rl_shared_alloc(sizeof *ch);
    rl_check(rl_pipe(&ch->rd, &ch->wr, 0) == 0, "pipe");
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, consume, ch, NULL) == 0, "start");
    rl_conn_close(ch->rd);
    rl_conn_send(ch->wr, "item", 4);
    /* The fix: the parent's copy of the write end is the last one; the
     * consumer sees EOF only once it is closed. */
    if (close_before_join)
        rl_conn_close(ch->wr);
    rl_process_join(p, -1);
    rl_process_free(p);
    rl_check_eq(ch->received, 1, "messages received");
}

RL_SCENARIO(pipe_eof_open, "pipe_eof.open",
            .summary = "the parent joins the consumer while it still holds "
                       "the write end: no EOF, both wait",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_DEADLOCK)
{
    run(0);
}

RL_SCENARIO(pipe_eof_closed, "pipe_eof.closed",
            .summary = "the parent closes its write end after starting the "
                       "consumer")
{
    run(1);
}
