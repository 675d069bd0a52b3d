/* socket_holder.c: pipe_holder.c over a socket pair: the parent sends a
 * message and waits for its consumer while still holding its socket, so
 * the consumer never sees end of file (with FIXED, the parent closes its
 * socket first). The consumer answers with recv, the parent with send. */
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 2;
    pid_t consumer = fork();
    if (consumer < 0)
        return 2;
    if (consumer == 0) {
        close(sv[0]);
        char buf[64];
        long total = 0;
        ssize_t n;
        while ((n = recv(sv[1], buf, sizeof buf, 0)) > 0)
            total += n;
        _exit(total == 5 ? 0 : 1);
    }
    close(sv[1]);
    if (send(sv[0], "hello", 5, 0) != 5)
        return 2;
#ifdef FIXED
    close(sv[0]);
#endif
    int status;
    if (waitpid(consumer, &status, 0) != consumer)
        return 2;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
