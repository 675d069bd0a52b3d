/* append_log.c: two processes append a record to one log file by seeking
 * to its end and writing there. Each has its own open file (and offset):
 * both can seek to the same end before either writes, and the second
 * write lands on the first record. O_APPEND makes the seek and the write
 * one atomic step in the kernel. */
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>

#include "catalogue.h"

#define RECORD_LEN 8

typedef struct {
    char path[128];
    int append; /* open with O_APPEND */
} log_file;

/* Appends one record of RECORD_LEN bytes: "A......\n" or "B......\n". */
static void append_record(log_file *lf, char tag)
{
    char rec[RECORD_LEN];
    memset(rec, tag, sizeof rec);
    rec[RECORD_LEN - 1] = '\n';
    int flags = O_WRONLY | O_CLOEXEC | (lf->append ? O_APPEND : 0);
    int fd = open(lf->path, flags);
    if (!rl_check(fd >= 0, "open %s", lf->path))
        return;
    if (!lf->append)
        lseek(fd, 0, SEEK_END);
    /* The window: lseek and write are two system calls, and the scheduler
     * only switches processes at schedule points. rl_yield marks the spot
     * where the other process may append. With O_APPEND the kernel moves
     * to the end inside the write itself, so the window is harmless. */
    rl_yield("between lseek(SEEK_END) and write()");
    ssize_t n = write(fd, rec, sizeof rec);
    rl_check(n == (ssize_t)sizeof rec, "write");
    close(fd);
}

static int writer_a(void *arg)
{
    append_record(arg, 'A');
    return 0;
}

static int writer_b(void *arg)
{
    append_record(arg, 'B');
    return 0;
}

static void run(int append)
{
    log_file *lf = rl_shared_alloc(sizeof *lf);
    lf->append = append;
    cat_tmp_path(lf->path, sizeof lf->path, "append_log");
    int fd = open(lf->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    rl_check(fd >= 0, "create %s", lf->path);
    close(fd);
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, writer_a, lf, NULL) == 0, "start a");
    rl_check(rl_process_start(&b, writer_b, lf, NULL) == 0, "start b");
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
    struct stat st;
    int r = stat(lf->path, &st);
    unlink(lf->path);
    rl_check(r == 0, "stat %s", lf->path);
    rl_check_eq(st.st_size / RECORD_LEN, 2, "records in the log");
}

RL_SCENARIO(append_log_seek, "append_log.seek",
            .summary = "lseek(SEEK_END) then write: one record overwrites "
                       "the other",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run(0);
}

RL_SCENARIO(append_log_append, "append_log.append",
            .summary = "O_APPEND: the kernel appends atomically")
{
    run(1);
}
