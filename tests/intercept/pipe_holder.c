/* pipe_holder.c: a parent that waits for its consumer while it still
 * holds the pipe's write end: the consumer never sees end of file, so the
 * two wait for each other (with FIXED, the parent closes it first). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fds[2];
    if (pipe(fds) < 0) {
        perror("pipe");
        return 2;
    }
    pid_t consumer = fork();
    if (consumer < 0) {
        perror("fork");
        return 2;
    }
    if (consumer == 0) {
        close(fds[1]);
        char buf[64];
        long total = 0;
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0)
            total += n;
        _exit(total == 5 ? 0 : 1);
    }
    close(fds[0]);
    if (write(fds[1], "hello", 5) != 5) {
        perror("write");
        return 2;
    }
#ifdef FIXED
    close(fds[1]);
#endif
    int status;
    if (waitpid(consumer, &status, 0) != consumer) {
        perror("waitpid");
        return 2;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
