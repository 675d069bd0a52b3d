/* two_producers.c: two children each write one message to one pipe; the
 * parent assumes the first child's message comes first, which holds only
 * in some interleavings (with FIXED, it accepts either order). */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t producer(int fd, char tag)
{
    pid_t pid = fork();
    if (pid == 0) {
        char msg[2] = {tag, '\n'};
        _exit(write(fd, msg, 2) == 2 ? 0 : 1);
    }
    return pid;
}

int main(void)
{
    int fds[2];
    if (pipe(fds) < 0)
        return 2;
    pid_t a = producer(fds[1], 'a');
    pid_t b = producer(fds[1], 'b');
    close(fds[1]);
    char got[8];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof got &&
           (n = read(fds[0], got + len, sizeof got - len)) > 0)
        len += (size_t)n;
    waitpid(a, NULL, 0);
    waitpid(b, NULL, 0);
    if (len != 4)
        return 1;
#ifdef FIXED
    int ok = memcmp(got, "a\nb\n", 4) == 0 || memcmp(got, "b\na\n", 4) == 0;
#else
    int ok = memcmp(got, "a\nb\n", 4) == 0;
#endif
    if (!ok)
        fprintf(stderr, "two_producers: got %.4s in the wrong order\n", got);
    return ok ? 0 : 1;
}
