/* pass_fd.c: a pipe made after the fork reaches the child as a
 * descriptor passed over a socket pair (sendmsg with SCM_RIGHTS); the
 * child reads it to end of file while the parent writes "hello" and
 * closes its end. With HOLD, the parent waits for the child before it
 * closes the write end, and the two wait for each other. */
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 2;
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        close(sv[0]);
        char byte;
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int))];
        } ctl;
        struct iovec iov = {&byte, 1};
        struct msghdr m = {.msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = ctl.buf,
                           .msg_controllen = sizeof ctl.buf};
        if (recvmsg(sv[1], &m, 0) != 1)
            _exit(1);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        if (!c || c->cmsg_type != SCM_RIGHTS)
            _exit(1);
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        char got[64];
        size_t total = 0;
        ssize_t n;
        while ((n = read(fd, got + total, sizeof got - total)) > 0)
            total += (size_t)n;
        _exit(n == 0 && total == 5 && memcmp(got, "hello", 5) == 0 ? 0 : 1);
    }
    close(sv[1]);
    int fds[2];
    if (pipe(fds) < 0)
        return 2;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {"p", 1};
    struct msghdr m = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl.buf,
                       .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fds[0], sizeof(int));
    if (sendmsg(sv[0], &m, 0) != 1)
        return 2;
    close(fds[0]);
    if (write(fds[1], "hello", 5) != 5)
        return 2;
#ifndef HOLD
    close(fds[1]);
#endif
    int status;
    if (waitpid(child, &status, 0) != child)
        return 2;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
