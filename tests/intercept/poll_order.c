/* poll_order.c: two children write one byte each to a pipe of their own;
 * the parent waits for both pipes at once with poll (select with SELECT,
 * epoll with EPOLL) and assumes the first child's is the one ready first
 * (with FIXED it takes either). With HOLD the children write nothing and
 * the parent keeps both write ends open: nobody ever writes. */
#include <poll.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

/* Waits for input on a or b. Returns the one ready first (a when both
 * are), -1 on an error. */
static int first_ready(int a, int b)
{
#if defined(SELECT)
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(a, &rd);
    FD_SET(b, &rd);
    if (select((a > b ? a : b) + 1, &rd, NULL, NULL, NULL) <= 0)
        return -1;
    return FD_ISSET(a, &rd) ? a : b;
#elif defined(EPOLL)
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ea = {.events = EPOLLIN, .data.fd = a};
    struct epoll_event eb = {.events = EPOLLIN, .data.fd = b}, got[2];
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, a, &ea) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, b, &eb) < 0)
        return -1;
    int n = epoll_wait(ep, got, 2, -1);
    close(ep);
    if (n <= 0)
        return -1;
    return n == 2 || got[0].data.fd == a ? a : b;
#else
    struct pollfd p[2] = {{.fd = a, .events = POLLIN},
                          {.fd = b, .events = POLLIN}};
    if (poll(p, 2, -1) <= 0)
        return -1;
    return p[0].revents ? a : b;
#endif
}

int main(void)
{
    int pa[2], pb[2];
    if (pipe(pa) < 0 || pipe(pb) < 0)
        return 2;
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] < 0)
            return 2;
        if (kids[k] == 0) {
            int *mine = k == 0 ? pa : pb;
            close(pa[0]);
            close(pb[0]);
            close(k == 0 ? pb[1] : pa[1]);
#ifdef HOLD
            (void)mine;
            _exit(0);
#else
            _exit(write(mine[1], k == 0 ? "a" : "b", 1) == 1 ? 0 : 1);
#endif
        }
    }
#ifndef HOLD
    close(pa[1]);
    close(pb[1]);
#endif
    int first = first_ready(pa[0], pb[0]);
    char c = 0;
    int ok = first >= 0 && read(first, &c, 1) == 1;
#ifndef FIXED
    if (ok && c != 'a') {
        fprintf(stderr, "poll_order: child b was first\n");
        ok = 0;
    }
#endif
    int other = first == pa[0] ? pb[0] : pa[0];
    char d = 0;
    ok = ok && read(other, &d, 1) == 1 && c != d;
    for (int k = 0; k < 2; k++) {
        int status;
        if (waitpid(kids[k], &status, 0) != kids[k] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            ok = 0;
    }
    return ok ? 0 : 1;
}
