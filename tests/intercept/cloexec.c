/* cloexec.c: a child holds a pipe's write end with close-on-exec and
 * execs a program that waits for its parent; the parent reads that pipe
 * to its end of file, which the exec gives, and only then answers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc == 2) { /* the program exec'd: waits for the answer */
        char c;
        return read(atoi(argv[1]), &c, 1) == 1 && c == '!' ? 0 : 1;
    }
    int done[2], answer[2];
    if (pipe2(done, O_CLOEXEC) < 0 || pipe(answer) < 0)
        return 2;
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        close(done[0]);
        close(answer[1]);
        char fd[16];
        snprintf(fd, sizeof fd, "%d", answer[0]);
        execl(argv[0], argv[0], fd, (char *)NULL);
        _exit(127);
    }
    close(done[1]);
    close(answer[0]);
    char c;
    if (read(done[0], &c, 1) != 0) /* end of file once the child exec'd */
        return 1;
    if (write(answer[1], "!", 1) != 1)
        return 2;
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
