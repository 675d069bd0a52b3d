/* stdio_dup.c: stdio buffers output in the process's memory. A raw fork()
 * copies the buffer, so text written before the fork but not yet flushed
 * is written twice: once by the parent, once by the child. The fix
 * flushes before forking (rl_process_start does fflush(NULL) itself). */
#include <fcntl.h>
#include <stddef.h>
#include <sys/wait.h>

#include "catalogue.h"

static void run(int flush)
{
    char path[128];
    cat_tmp_path(path, sizeof path, "stdio_dup");
    FILE *f = fopen(path, "we");
    if (!rl_check(f != NULL, "fopen %s", path))
        return;
    /* A regular file is fully buffered: this stays in memory for now. */
    fprintf(f, "header\n");
    if (flush)
        fflush(f);
    /* Not a race: the duplicate comes in every interleaving. The schedule
     * point only gives the execution a step, and a found failure a
     * replay token. */
    rl_yield("before fork()");
    pid_t pid = fork();
    if (pid == 0) {
        /* The child's copy of f still holds "header" unless it was
         * flushed; fclose writes it out. */
        fprintf(f, "child\n");
        fclose(f);
        _exit(0);
    }
    rl_check(pid > 0, "fork");
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    fprintf(f, "parent\n");
    fclose(f);
    /* Read the file back and count the headers. */
    char buf[256] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    unlink(path);
    buf[n > 0 ? n : 0] = '\0';
    /* Shown on one line in the report: lines separated by '|'. */
    for (char *p = buf; (p = strchr(p, '\n')); p++)
        *p = '|';
    int headers = 0;
    for (const char *p = buf; (p = strstr(p, "header")); p++)
        headers++;
    rl_check(headers == 1, "the header appears %d times in the output: %s",
             headers, buf);
}

RL_SCENARIO(stdio_dup_unflushed, "stdio_dup.unflushed",
            .summary = "buffered output written before a raw fork() appears "
                       "twice",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run(0);
}

RL_SCENARIO(stdio_dup_flushed, "stdio_dup.flushed",
            .summary = "flushed before fork, as rl_process_start does")
{
    run(1);
}
