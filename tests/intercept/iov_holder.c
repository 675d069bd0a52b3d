/* iov_holder.c: pipe_holder.c with scattered and gathered I/O: the parent
 * writes "hello" with writev from two buffers and waits for its consumer
 * while it still holds the pipe's write end; the consumer reads with
 * readv into two buffers until end of file, which never comes (with
 * FIXED, the parent closes its end first). With MSG, the same over a
 * socket pair with sendmsg and recvmsg. The consumer checks the bytes. */
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Sends the gathered buffers on fd: writev, or sendmsg with MSG. */
static ssize_t put(int fd, struct iovec *iov, int cnt)
{
#ifdef MSG
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
    return sendmsg(fd, &m, 0);
#else
    return writev(fd, iov, cnt);
#endif
}

/* Receives into the scattered buffers from fd: readv, or recvmsg. */
static ssize_t get(int fd, struct iovec *iov, int cnt)
{
#ifdef MSG
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
    return recvmsg(fd, &m, 0);
#else
    return readv(fd, iov, cnt);
#endif
}

int main(void)
{
    int fds[2]; /* [0] the consumer's end, [1] the parent's */
#ifdef MSG
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        return 2;
#else
    if (pipe(fds) < 0)
        return 2;
#endif
    pid_t consumer = fork();
    if (consumer < 0)
        return 2;
    if (consumer == 0) {
        close(fds[1]);
        char got[64], head[2], tail[62];
        size_t total = 0;
        ssize_t n;
        struct iovec iov[2] = {{head, sizeof head}, {tail, sizeof tail}};
        while ((n = get(fds[0], iov, 2)) > 0) {
            /* What a short read left in the second buffer comes after
             * the first, as the bytes arrived. */
            size_t in_head = (size_t)n < sizeof head ? (size_t)n : sizeof head;
            if (total + (size_t)n > sizeof got)
                _exit(1);
            memcpy(got + total, head, in_head);
            memcpy(got + total + in_head, tail, (size_t)n - in_head);
            total += (size_t)n;
        }
        _exit(n == 0 && total == 5 && memcmp(got, "hello", 5) == 0 ? 0 : 1);
    }
    close(fds[0]);
    struct iovec out[2] = {{"hel", 3}, {"lo", 2}};
    if (put(fds[1], out, 2) != 5)
        return 2;
#ifdef FIXED
    close(fds[1]);
#endif
    int status;
    if (waitpid(consumer, &status, 0) != consumer)
        return 2;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
