/* full_pipe.c: a child writes more than a pipe holds while its parent
 * waits for it before reading: the writer waits for room that never
 * comes (with FIXED, the parent reads first, after an hour's sleep that
 * passes in no time under the scheduler). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (256 * 1024)

int main(void)
{
    int fds[2];
    if (pipe(fds) < 0)
        return 2;
    pid_t writer = fork();
    if (writer < 0)
        return 2;
    if (writer == 0) {
        close(fds[0]);
        char *buf = calloc(1, SIZE);
        _exit(buf && write(fds[1], buf, SIZE) == SIZE ? 0 : 1);
    }
    close(fds[1]);
    int status = 0;
#ifndef FIXED
    waitpid(writer, &status, 0);
#else
    sleep(3600);
#endif
    static char buf[64 * 1024];
    long total = 0;
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        total += n;
#ifdef FIXED
    waitpid(writer, &status, 0);
#endif
    return total == SIZE && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0
                                                                          : 1;
}
