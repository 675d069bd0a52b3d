/* poll_wait.c: a parent that waits with poll (select with SELECT, epoll
 * with EPOLL) for a pipe (a socket pair with PAIR) that its child writes
 * after a sleep of a second, with a timeout of five. With HOLD the child
 * writes nothing and the parent, which still holds the write end itself,
 * waits with no timeout: nobody ever writes. With TIMEOUT the child waits
 * for the parent, whose wait of an hour must time out (in no time: the
 * timeout is virtual, over when nothing else can run). With BUSY the
 * parent asks again and again with a timeout of zero. */
#include <poll.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Waits up to ms milliseconds (< 0: for ever) for input on fd. Returns 1
 * when there is some (or end of file), 0 on a timeout, -1 on an error. */
static int wait_in(int fd, int ms)
{
#if defined(SELECT)
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    struct timeval tv = {ms / 1000, ms % 1000 * 1000};
    int n = select(fd + 1, &rd, NULL, NULL, ms < 0 ? NULL : &tv);
    return n < 0 ? -1 : n > 0 && FD_ISSET(fd, &rd);
#elif defined(EPOLL)
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd}, got;
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    int n = epoll_wait(ep, &got, 1, ms);
    close(ep);
    return n < 0 ? -1 : n > 0 && got.data.fd == fd;
#else
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, ms);
    return n < 0 ? -1 : n > 0 && (p.revents & (POLLIN | POLLHUP));
#endif
}

int main(void)
{
    int ch[2], go[2];
#ifdef PAIR
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, ch) < 0 || pipe(go) < 0)
        return 2;
#else
    if (pipe(ch) < 0 || pipe(go) < 0)
        return 2;
#endif
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        close(ch[0]);
        close(go[1]);
#if defined(TIMEOUT)
        char c;
        _exit(read(go[0], &c, 1) == 1 ? 0 : 1);
#elif defined(HOLD)
        _exit(0);
#else
        sleep(1);
        _exit(write(ch[1], "x", 1) == 1 ? 0 : 1);
#endif
    }
    close(go[0]);
#if !defined(TIMEOUT) && !defined(HOLD)
    close(ch[1]);
#endif
#if defined(TIMEOUT)
    int ok = wait_in(ch[0], 3600 * 1000) == 0 && write(go[1], "g", 1) == 1;
#elif defined(HOLD)
    int ok = wait_in(ch[0], -1) == 1;
#else
    int n;
#ifdef BUSY
    while ((n = wait_in(ch[0], 0)) == 0)
        ;
#else
    n = wait_in(ch[0], 5000);
#endif
    char c = 0;
    int ok = n == 1 && read(ch[0], &c, 1) == 1 && c == 'x';
#endif
    if (!ok)
        fprintf(stderr, "poll_wait: the wait did not see what it should\n");
    int status;
    if (waitpid(child, &status, 0) != child)
        return 2;
    return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
