/* toctou_create.c: two processes each check that a file does not exist
 * and then create it, each believing it now owns the file. Between the
 * check (access) and the use (open) the other process can do both: a time
 * of check to time of use race. The fix lets the kernel do both at once:
 * open with O_CREAT | O_EXCL fails with EEXIST for all but one. */
#include <fcntl.h>
#include <stddef.h>

#include "catalogue.h"

typedef struct {
    char path[128];
    int owners; /* processes that believe they created the file */
} claim;

/* Check, then create. The check and the create are two system calls, and
 * the scheduler cannot switch processes inside a system call: rl_yield
 * marks the window between them so that the explorer can put the other
 * process there. */
static int claim_check_then_create(void *arg)
{
    claim *c = arg;
    if (access(c->path, F_OK) != 0) {
        rl_yield("between access() and open()");
        int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            RL_FETCH_ADD(c->owners, 1);
            close(fd);
        }
    }
    return 0;
}

/* One atomic create: exactly one process gets the file. */
static int claim_exclusive(void *arg)
{
    claim *c = arg;
    rl_yield("before open(O_EXCL)");
    int fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        RL_FETCH_ADD(c->owners, 1);
        close(fd);
    }
    return 0;
}

static void run(rl_entry fn)
{
    claim *c = rl_shared_alloc(sizeof *c);
    cat_tmp_path(c->path, sizeof c->path, "toctou");
    rl_process *a = NULL, *b = NULL;
    rl_check(rl_process_start(&a, fn, c, NULL) == 0, "start a");
    rl_check(rl_process_start(&b, fn, c, NULL) == 0, "start b");
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
    unlink(c->path);
    rl_check_eq(c->owners, 1, "processes that own the file");
}

RL_SCENARIO(toctou_create_checked, "toctou_create.checked",
            .summary = "check that the file is absent, then create it: both "
                       "processes own it",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run(claim_check_then_create);
}

RL_SCENARIO(toctou_create_excl, "toctou_create.excl",
            .summary = "open with O_CREAT | O_EXCL: exactly one owner")
{
    run(claim_exclusive);
}
