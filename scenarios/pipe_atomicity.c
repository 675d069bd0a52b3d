/* pipe_atomicity.c: two writers send records through one pipe. The kernel
 * writes at most PIPE_BUF bytes atomically; a larger write can be split,
 * and another writer's bytes can land in the middle: the reader gets a
 * corrupt record. The fixes: a lock around each record, or records of at
 * most PIPE_BUF bytes written with one write().
 *
 * Under the scheduler only one process runs at a time, so a single large
 * write() is never interleaved here. The scenario models the split the
 * kernel may make: a large record is written in two halves with a schedule
 * point (rl_yield) between them, which is exactly where the kernel may let
 * the other writer in. */
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>

#include "catalogue.h"

#define BIG (2 * PIPE_BUF)   /* not atomic */
#define SMALL (PIPE_BUF / 2) /* atomic */

typedef struct {
    int fds[2];
    size_t len;    /* the record length */
    rl_lock *lock; /* NULL: no lock */
} channel;

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void send_record(channel *ch, char tag)
{
    static char rec[BIG];
    memset(rec, tag, ch->len);
    if (ch->lock)
        rl_lock_acquire(ch->lock, -1);
    if (ch->len > PIPE_BUF) {
        /* What the kernel may do with a write larger than PIPE_BUF. */
        write_all(ch->fds[1], rec, ch->len / 2);
        rl_yield("inside a write larger than PIPE_BUF");
        write_all(ch->fds[1], rec + ch->len / 2, ch->len - ch->len / 2);
    } else {
        rl_yield("before an atomic write");
        write_all(ch->fds[1], rec, ch->len);
    }
    if (ch->lock)
        rl_lock_release(ch->lock);
}

static int writer_a(void *arg)
{
    send_record(arg, 'A');
    return 0;
}

static int writer_b(void *arg)
{
    send_record(arg, 'B');
    return 0;
}

static void run(size_t len, int locked)
{
    channel *ch = rl_shared_alloc(sizeof *ch);
    ch->len = len;
    if (locked)
        ch->lock = rl_lock_new();
    rl_check(pipe2(ch->fds, O_CLOEXEC) == 0, "pipe2");
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, writer_a, ch, NULL) == 0, "start a");
    rl_check(rl_process_start(&b, writer_b, ch, NULL) == 0, "start b");
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
    close(ch->fds[1]);
    /* Both records are in the pipe (it holds far more than two): read
     * them back and check that each is made of one writer's bytes. */
    static char buf[2 * BIG];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(ch->fds[0], buf + got, 2 * len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(ch->fds[0]);
    rl_check_eq(got, 2 * len, "bytes read");
    for (int r = 0; r < 2; r++) {
        const char *rec = buf + (size_t)r * len;
        for (size_t i = 1; i < len; i++)
            if (!rl_check(rec[i] == rec[0],
                          "record %d is corrupt: byte %zu is '%c' in a "
                          "record of '%c'",
                          r, i, rec[i], rec[0]))
                return;
    }
}

RL_SCENARIO(pipe_atomicity_big, "pipe_atomicity.big",
            .summary = "two writers send records larger than PIPE_BUF: "
                       "their bytes interleave",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run(BIG, 0);
}

RL_SCENARIO(pipe_atomicity_locked, "pipe_atomicity.locked",
            .summary = "a lock around each large record")
{
    run(BIG, 1);
}

RL_SCENARIO(pipe_atomicity_small, "pipe_atomicity.small",
            .summary = "records of at most PIPE_BUF bytes, one write each")
{
    run(SMALL, 0);
}
