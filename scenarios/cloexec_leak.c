/* cloexec_leak.c: a pipe's descriptors made without O_CLOEXEC are
 * inherited by every program the process starts. A helper program started
 * while the write end is open keeps a copy of it for as long as it runs,
 * so the reader never sees end of file, even after the writer closed its
 * own copy. The fix: O_CLOEXEC on every descriptor (rl_pipe always sets
 * it).
 *
 * rl_pipe never makes a leaking descriptor, so the buggy variant takes the
 * close-on-exec flag off the write end it just made, which leaves it as a
 * plain pipe(2) would. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "catalogue.h"

extern char **environ;

#define MAX_FD 256

/* Marks the descriptors open now in open[]. */
static void open_fds(char open[MAX_FD])
{
    for (int fd = 0; fd < MAX_FD; fd++)
        open[fd] = fcntl(fd, F_GETFD) >= 0;
}

/* The write end of a pipe opened since open_fds filled before, or -1. */
static int new_pipe_write_end(const char before[MAX_FD])
{
    for (int fd = 0; fd < MAX_FD; fd++) {
        struct stat st;
        if (before[fd] || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
            continue;
        if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY)
            return fd;
    }
    return -1;
}

/* Waits (at most 5 s) until pid's command name is comm. */
static void wait_exec(pid_t pid, const char *comm)
{
    char path[64], buf[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    for (int i = 0; i < 5000; i++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        buf[n > 0 ? n : 0] = '\0';
        if (strncmp(buf, comm, strlen(comm)) == 0)
            return;
        usleep(1000);
    }
}

static void run(int leak)
{
    rl_conn *rd = NULL, *wr = NULL;
    static char before[MAX_FD];
    open_fds(before);
    rl_check(rl_pipe(&rd, &wr, 0) == 0, "pipe");
    if (leak) {
        int fd = new_pipe_write_end(before);
        rl_check(fd >= 0, "find the write end");
        fcntl(fd, F_SETFD, 0);
    }
    /* A helper program, started while the write end is open. */
    pid_t helper;
    char *argv[] = {"sleep", "30", NULL};
    int r = posix_spawnp(&helper, "sleep", NULL, NULL, argv, environ);
    rl_check(r == 0, "spawn sleep: %s", strerror(r));
    /* posix_spawn returns once the helper's exec has begun, but the kernel
     * closes close-on-exec descriptors a moment later, and nobody tells the
     * scheduler when. Wait until the helper runs its program (its name is
     * set after the close), so that the reader's poll sees the truth. */
    wait_exec(helper, "sleep");
    rl_conn_send(wr, "done", 4);
    rl_conn_close(wr);
    /* Read to EOF: it comes once every copy of the write end is closed. */
    char buf[16];
    long messages = 0;
    while (rl_conn_recv(rd, buf, sizeof buf, -1) >= 0)
        messages++;
    rl_conn_close(rd);
    kill(helper, SIGKILL);
    while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
        ;
    rl_check_eq(messages, 1, "messages");
}

RL_SCENARIO(cloexec_leak_inherited, "cloexec_leak.inherited",
            .summary = "a helper program inherits the write end: the reader "
                       "never sees EOF",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_DEADLOCK)
{
    run(1);
}

RL_SCENARIO(cloexec_leak_cloexec, "cloexec_leak.cloexec",
            .summary = "the pipe is O_CLOEXEC: the helper gets no copy")
{
    run(0);
}
