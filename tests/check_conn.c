/* check_conn.c: connections: framing, EOF, errors, timeouts, the registry
 * of held descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "racelab.h"
#include "testutil.h"

#define BIG ((size_t)64 << 20)

/* Ends shared with the forked children of a test (fork copies them). */
static rl_conn *ra, *rb;

/* Forks a child that runs fn and exits with its return value. */
static pid_t fork_child(int (*fn)(void))
{
    fflush(NULL);
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0)
        _exit(fn());
    return p;
}

/* Waits for the child; returns its exit status, or 128 + signal. */
static int reap(pid_t p)
{
    int st;
    while (waitpid(p, &st, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static uint64_t checksum(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

/* ---- framing ---- */

static int send_numbered(void)
{
    rl_conn_close(ra);
    char msg[64];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(msg, sizeof msg, "message %d", i);
        if (rl_conn_send(rb, msg, (size_t)n) != 0)
            return 1;
    }
    return rl_conn_close(rb) == 0 ? 0 : 2;
}

static void check_numbered(void)
{
    pid_t p = fork_child(send_numbered);
    ck_assert_int_eq(rl_conn_close(rb), 0);
    char buf[64], want[64];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(want, sizeof want, "message %d", i);
        ssize_t got = rl_conn_recv(ra, buf, sizeof buf, 10);
        ck_assert_int_eq(got, n);
        ck_assert(memcmp(buf, want, (size_t)n) == 0);
    }
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 10), RL_EOF);
    ck_assert_int_eq(reap(p), 0);
}

START_TEST(messages_arrive_in_order_pipe)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    check_numbered();
}
END_TEST

START_TEST(messages_arrive_in_order_duplex)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 1), 0);
    check_numbered();
}
END_TEST

START_TEST(empty_messages_count)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    char buf[8] = "zzzzzzz";
    ck_assert_int_eq(rl_conn_send(rb, "", 0), 0);
    ck_assert_int_eq(rl_conn_send(rb, NULL, 0), 0);
    ck_assert_int_eq(rl_conn_send(rb, "ab", 2), 0);
    ck_assert_int_eq(rl_conn_send(rb, "", 0), 0);
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 1), 0);
    ck_assert_int_eq(rl_conn_recv(ra, NULL, 0, 1), 0);
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 1), 2);
    ck_assert(memcmp(buf, "ab", 2) == 0);
    ck_assert_int_eq(rl_conn_recv(ra, buf, 0, 1), 0);
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 0), -EAGAIN);
}
END_TEST

#define SMALL_COUNT 2000

static int send_small(void)
{
    rl_conn_close(ra);
    char msg[16];
    for (int i = 0; i < SMALL_COUNT; i++) {
        size_t n = (size_t)(i % 13);
        memset(msg, 'a' + i % 26, n);
        if (rl_conn_send(rb, msg, n) != 0)
            return 1;
    }
    return 0;
}

START_TEST(small_messages_are_never_merged)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    pid_t p = fork_child(send_small);
    rl_conn_close(rb);
    /* Let the sender fill the pipe so that many frames sit together. */
    ck_assert_int_eq(rl_conn_poll(ra, 10), 1);
    char buf[64];
    for (int i = 0; i < SMALL_COUNT; i++) {
        ssize_t n = rl_conn_recv(ra, buf, sizeof buf, 10);
        ck_assert_int_eq(n, i % 13);
        for (ssize_t k = 0; k < n; k++)
            ck_assert_int_eq(buf[k], 'a' + i % 26);
    }
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 10), RL_EOF);
    ck_assert_int_eq(reap(p), 0);
}
END_TEST

static int send_big(void)
{
    rl_conn_close(ra);
    unsigned char *m = malloc(BIG);
    if (!m)
        return 3;
    fill(m, BIG, 7);
    int r = rl_conn_send(rb, m, BIG);
    free(m);
    return r == 0 ? 0 : 1;
}

static void check_big(int duplex)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, duplex), 0);
    unsigned char *want = malloc(BIG), *got = malloc(BIG);
    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(got);
    fill(want, BIG, 7);
    pid_t p = fork_child(send_big);
    rl_conn_close(rb);
    ck_assert_int_eq(rl_conn_recv(ra, got, BIG, 60), (ssize_t)BIG);
    ck_assert(checksum(got, BIG) == checksum(want, BIG));
    ck_assert(memcmp(got, want, BIG) == 0);
    ck_assert_int_eq(rl_conn_recv(ra, got, BIG, 10), RL_EOF);
    ck_assert_int_eq(reap(p), 0);
    free(want);
    free(got);
}

START_TEST(large_message_crosses_intact_pipe)
{
    check_big(0);
}
END_TEST

START_TEST(large_message_crosses_intact_duplex)
{
    check_big(1);
}
END_TEST

#define MIX_EACH 300
#define MIX_LEN 5000

/* Sends messages longer than a pipe's atomic write size, so that frames of
 * two senders would interleave without the send lock. */
static int send_mixed(unsigned char tag)
{
    rl_conn_close(ra);
    unsigned char m[MIX_LEN];
    for (int i = 0; i < MIX_EACH; i++) {
        memset(m, tag, sizeof m);
        m[0] = (unsigned char)i;
        if (rl_conn_send(rb, m, sizeof m) != 0)
            return 1;
    }
    return 0;
}

static int send_mixed_1(void)
{
    return send_mixed(1);
}

static int send_mixed_2(void)
{
    return send_mixed(2);
}

START_TEST(concurrent_senders_keep_frames_whole)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    pid_t p1 = fork_child(send_mixed_1);
    pid_t p2 = fork_child(send_mixed_2);
    rl_conn_close(rb);
    int next[3] = {0, 0, 0};
    unsigned char m[MIX_LEN + 10];
    for (int i = 0; i < 2 * MIX_EACH; i++) {
        ck_assert_int_eq(rl_conn_recv(ra, m, sizeof m, 20), MIX_LEN);
        unsigned char tag = m[1];
        ck_assert(tag == 1 || tag == 2);
        for (int k = 1; k < MIX_LEN; k++)
            ck_assert_int_eq(m[k], tag);
        ck_assert_int_eq(m[0], (unsigned char)next[tag]);
        next[tag]++;
    }
    ck_assert_int_eq(rl_conn_recv(ra, m, sizeof m, 10), RL_EOF);
    ck_assert_int_eq(reap(p1), 0);
    ck_assert_int_eq(reap(p2), 0);
}
END_TEST

START_TEST(too_small_buffer_keeps_the_message)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 1), 0);
    char msg[100], buf[200];
    fill((unsigned char *)msg, sizeof msg, 3);
    ck_assert_int_eq(rl_conn_send(rb, msg, sizeof msg), 0);
    ck_assert_int_eq(rl_conn_send(rb, "next", 4), 0);
    ck_assert_int_eq(rl_conn_recv(ra, buf, 10, 1), -EMSGSIZE);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "100 bytes"));
    ck_assert_int_eq(rl_conn_recv(ra, buf, 99, 1), -EMSGSIZE);
    ck_assert_int_eq(rl_conn_poll(ra, 0), 1);
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 1), 100);
    ck_assert(memcmp(buf, msg, sizeof msg) == 0);
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 1), 4);
    ck_assert(memcmp(buf, "next", 4) == 0);
}
END_TEST

/* ---- EOF and broken senders ---- */

static int ctl[2];

/* Sends one message, then keeps its write end until the parent closes the
 * control pipe. */
static int send_then_hold(void)
{
    rl_conn_close(ra);
    close(ctl[1]);
    if (rl_conn_send(rb, "held", 4) != 0)
        return 1;
    char c;
    while (read(ctl[0], &c, 1) < 0 && errno == EINTR)
        ;
    return rl_conn_close(rb) == 0 ? 0 : 2;
}

START_TEST(eof_only_after_every_write_end_closes)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    ck_assert_int_eq(pipe2(ctl, O_CLOEXEC), 0);
    pid_t p = fork_child(send_then_hold);
    close(ctl[0]);
    char buf[16];
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 10), 4);
    /* The parent and the child both hold a write end: no EOF. */
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 0.2), -ETIMEDOUT);
    ck_assert_int_eq(rl_conn_close(rb), 0);
    /* The child still holds one. */
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 0.2), -ETIMEDOUT);
    ck_assert_int_eq(rl_conn_poll(ra, 0), 0);
    close(ctl[1]);
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 10), RL_EOF);
    ck_assert_int_eq(rl_conn_poll(ra, 0), 1);
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 0), RL_EOF);
    ck_assert_int_eq(reap(p), 0);
}
END_TEST

/* Finds the descriptors of the newest pair: the two held fds that were not
 * held before. */
static void new_fds(const int *before, int nbefore, int out[2])
{
    int now[64];
    int n = rl__conn_held_fds(now, 64);
    int k = 0;
    for (int i = 0; i < n; i++) {
        int old = 0;
        for (int j = 0; j < nbefore; j++)
            old |= now[i] == before[j];
        if (!old && k < 2)
            out[k++] = now[i];
    }
    ck_assert_int_eq(k, 2);
}

static int raw_wfd;
static const void *raw_bytes;
static size_t raw_len;

static int write_raw(void)
{
    rl_conn_close(ra);
    return write(raw_wfd, raw_bytes, raw_len) == (ssize_t)raw_len ? 0 : 1;
}

static void check_partial(const void *bytes, size_t len)
{
    int before[64], fds[2];
    int nb = rl__conn_held_fds(before, 64);
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    new_fds(before, nb, fds);
    raw_wfd =
        (fcntl(fds[0], F_GETFL) & O_ACCMODE) == O_WRONLY ? fds[0] : fds[1];
    raw_bytes = bytes;
    raw_len = len;
    pid_t p = fork_child(write_raw);
    ck_assert_int_eq(rl_conn_close(rb), 0);
    ck_assert_int_eq(reap(p), 0);
    char buf[200];
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 10), -EPROTO);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "vanished"));
}

START_TEST(sender_dying_mid_payload_is_eproto)
{
    unsigned char frame[8 + 10];
    uint64_t len = 100;
    memcpy(frame, &len, 8);
    memset(frame + 8, 'x', 10);
    check_partial(frame, sizeof frame);
}
END_TEST

START_TEST(sender_dying_mid_header_is_eproto)
{
    check_partial("\x05\x00\x00", 3);
}
END_TEST

/* ---- errors ---- */

START_TEST(wrong_direction_is_ebadf)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    char buf[4];
    ck_assert_int_eq(rl_conn_send(ra, "x", 1), -EBADF);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "only receives"));
    ck_assert_int_eq(rl_conn_recv(rb, buf, sizeof buf, 0), -EBADF);
    ck_assert_int_eq(rl_conn_poll(rb, 0), -EBADF);
    ck_assert_int_eq(rl_conn_send(NULL, "x", 1), -EINVAL);
    int local;
    ck_assert_int_eq(rl_conn_recv((rl_conn *)&local, buf, 4, 0), -EINVAL);
}
END_TEST

START_TEST(closed_end_is_ebadf)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 1), 0);
    char buf[4];
    ck_assert_int_eq(rl_conn_close(ra), 0);
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 0), -EBADF);
    ck_assert_int_eq(rl_conn_send(ra, "x", 1), -EBADF);
    ck_assert_int_eq(rl_conn_poll(ra, 0), -EBADF);
    ck_assert_int_eq(rl_conn_close(ra), -EBADF);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "closed"));
    ck_assert_int_eq(rl_conn_close(rb), 0);
    ck_assert_int_eq(rl_conn_close(rb), -EBADF);
}
END_TEST

static void check_epipe(int duplex)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, duplex), 0);
    ck_assert_int_eq(rl_conn_close(ra), 0);
    /* Default SIGPIPE disposition: a raw write would kill the process. */
    signal(SIGPIPE, SIG_DFL);
    ck_assert_int_eq(rl_conn_send(rb, "x", 1), -EPIPE);
    ck_assert_int_eq(rl_conn_send(rb, "", 0), -EPIPE);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "receiving end"));
    sigset_t pend;
    sigpending(&pend);
    ck_assert(!sigismember(&pend, SIGPIPE));
    /* The caller's signal mask is unchanged. */
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    ck_assert(!sigismember(&mask, SIGPIPE));
}

START_TEST(send_without_reader_is_epipe_pipe)
{
    check_epipe(0);
}
END_TEST

START_TEST(send_without_reader_is_epipe_duplex)
{
    check_epipe(1);
}
END_TEST

/* ---- poll, duplex, timeouts ---- */

START_TEST(poll_does_not_consume)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    ck_assert_int_eq(rl_conn_poll(ra, 0), 0);
    ck_assert_int_eq(rl_conn_send(rb, "one", 3), 0);
    ck_assert_int_eq(rl_conn_poll(ra, 0), 1);
    ck_assert_int_eq(rl_conn_poll(ra, 1), 1);
    ck_assert_int_eq(rl_conn_poll(ra, -1), 1);
    char buf[8];
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 0), 3);
    ck_assert_int_eq(rl_conn_poll(ra, 0), 0);
}
END_TEST

static int echo_upper(void)
{
    char buf[64];
    rl_conn_close(ra);
    for (;;) {
        ssize_t n = rl_conn_recv(rb, buf, sizeof buf, 10);
        if (n == RL_EOF)
            return 0;
        if (n < 0)
            return 1;
        for (ssize_t i = 0; i < n; i++)
            buf[i] = (char)(buf[i] - 'a' + 'A');
        if (rl_conn_send(rb, buf, (size_t)n) != 0)
            return 2;
    }
}

START_TEST(duplex_works_both_ways)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 1), 0);
    pid_t p = fork_child(echo_upper);
    ck_assert_int_eq(rl_conn_close(rb), 0);
    char buf[64];
    const char *words[] = {"abc", "hello", "", "xyz"};
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(words[i]);
        ck_assert_int_eq(rl_conn_send(ra, words[i], n), 0);
        ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 10), (ssize_t)n);
        for (size_t k = 0; k < n; k++)
            ck_assert_int_eq(buf[k], words[i][k] - 'a' + 'A');
    }
    ck_assert_int_eq(rl_conn_close(ra), 0);
    ck_assert_int_eq(reap(p), 0);
}
END_TEST

START_TEST(timeouts)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    char buf[8];
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 0), -EAGAIN);
    double t0 = rl__now();
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 0.2), -ETIMEDOUT);
    ck_assert_double_ge(rl__now() - t0, 0.19);
    t0 = rl__now();
    ck_assert_int_eq(rl_conn_poll(ra, 0.2), 0);
    ck_assert_double_ge(rl__now() - t0, 0.19);
}
END_TEST

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void start_alarms(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls see EINTR */
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {{0, 10000}, {0, 10000}};
    ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void stop_alarms(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static int send_late(void)
{
    rl_conn_close(ra);
    rl_test_sleep(0.3);
    return rl_conn_send(rb, "late", 4) == 0 ? 0 : 1;
}

START_TEST(signals_do_not_break_a_blocking_recv)
{
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    start_alarms();
    char buf[8];
    double t0 = rl__now();
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 0.3), -ETIMEDOUT);
    ck_assert_double_ge(rl__now() - t0, 0.29);
    ck_assert_int_gt(alarms, 0);
    /* The child sends a little later; the recv waits as long as it takes,
     * with the signals still coming. */
    pid_t p = fork_child(send_late);
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, -1), 4);
    ck_assert_int_eq(rl_conn_poll(ra, 0.1), 0);
    stop_alarms();
    ck_assert_int_eq(reap(p), 0);
}
END_TEST

/* ---- the registry of held descriptors ---- */

static int has(const int *fds, int n, int fd)
{
    for (int i = 0; i < n; i++)
        if (fds[i] == fd)
            return 1;
    return 0;
}

static int adopt_fds[2];
static rl_conn *rc, *rd;

/* Behaves like a spawned child that was given only the read end of the
 * first pair. */
static int adopt_only_a(void)
{
    rl__conn_adopt(adopt_fds, 1);
    int fds[64];
    int n = rl__conn_held_fds(fds, 64);
    if (n != 1 || fds[0] != adopt_fds[0])
        return 1;
    char buf[8];
    if (rl_conn_send(rb, "x", 1) != -EBADF)
        return 2;
    if (rl_conn_recv(rc, buf, sizeof buf, 0) != -EBADF)
        return 3;
    if (rl_conn_recv(ra, buf, sizeof buf, 5) != 2)
        return 4;
    /* A pair made after the adoption is held. */
    rl_conn *e, *f;
    if (rl_pipe(&e, &f, 1) != 0 || rl__conn_held_fds(fds, 64) != 3)
        return 5;
    return 0;
}

START_TEST(held_fds_and_adopt)
{
    int before[64], fds[64], ab[2], cd[2];
    int nb = rl__conn_held_fds(before, 64);
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    new_fds(before, nb, ab);
    nb = rl__conn_held_fds(before, 64);
    ck_assert_int_eq(rl_pipe(&rc, &rd, 1), 0);
    new_fds(before, nb, cd);
    int n = rl__conn_held_fds(fds, 64);
    ck_assert_int_eq(n, nb + 2);
    /* cap smaller than the count still returns the count */
    ck_assert_int_eq(rl__conn_held_fds(fds, 1), n);
    int afd = (fcntl(ab[0], F_GETFL) & O_ACCMODE) == O_RDONLY ? ab[0] : ab[1];
    ck_assert_int_eq(rl_conn_close(rd), 0);
    n = rl__conn_held_fds(fds, 64);
    ck_assert_int_eq(n, nb + 1);
    ck_assert(has(fds, n, ab[0]) && has(fds, n, ab[1]));
    ck_assert(has(fds, n, cd[0]) + has(fds, n, cd[1]) == 1);
    adopt_fds[0] = afd;
    ck_assert_int_eq(rl_conn_send(rb, "hi", 2), 0);
    pid_t p = fork_child(adopt_only_a);
    ck_assert_int_eq(reap(p), 0);
    /* The child's adoption changed nothing here. */
    ck_assert_int_eq(rl__conn_held_fds(fds, 64), n);
}
END_TEST

START_TEST(no_descriptor_leaks)
{
    /* Make the arena and the registry first. */
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    ck_assert_int_eq(rl_conn_close(ra), 0);
    ck_assert_int_eq(rl_conn_close(rb), 0);
    int before = rl_test_fd_count();
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(rl_pipe(&ra, &rb, i % 2), 0);
        ck_assert_int_eq(rl_conn_send(rb, "x", 1), 0);
        ck_assert_int_eq(rl_conn_close(rb), 0);
        ck_assert_int_eq(rl_conn_close(ra), 0);
    }
    ck_assert_int_eq(rl_test_fd_count(), before);
    int fds[8];
    ck_assert_int_eq(rl__conn_held_fds(fds, 8), 0);
    /* Every descriptor is close-on-exec. */
    ck_assert_int_eq(rl_pipe(&ra, &rb, 1), 0);
    ck_assert_int_eq(rl__conn_held_fds(fds, 8), 2);
    ck_assert(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    ck_assert(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
}
END_TEST

START_TEST(full_arena_is_enomem_without_leaks)
{
    /* Make the registry first, then fill the arena. */
    ck_assert_int_eq(rl_pipe(&ra, &rb, 0), 0);
    int before = rl_test_fd_count();
    static void *blocks[1 << 16];
    int nb = 0;
    for (size_t sz = (size_t)1 << 20; sz >= 16; sz /= 2)
        while (nb < (1 << 16) && (blocks[nb] = rl_shared_alloc(sz)))
            nb++;
    rl_conn *c = NULL, *d = NULL;
    ck_assert_int_eq(rl_pipe(&c, &d, 1), -ENOMEM);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "RACELAB_ARENA_SIZE"));
    ck_assert_ptr_null(c);
    ck_assert_int_eq(rl_test_fd_count(), before);
    ck_assert_int_eq(rl_pipe(&c, &d, 0), -ENOMEM);
    ck_assert_int_eq(rl_test_fd_count(), before);
    /* The existing pair still works. */
    ck_assert_int_eq(rl_conn_send(rb, "ok", 2), 0);
    char buf[4];
    ck_assert_int_eq(rl_conn_recv(ra, buf, sizeof buf, 1), 2);
    for (int i = 0; i < nb; i++)
        rl_shared_free(blocks[i]);
}
END_TEST

/* ---- every start method ---- */

typedef struct {
    rl_conn *a, *b;
} ends;

/* Runs in a child of any start method: echoes one message back reversed
 * over the duplex pair, then reports which ends it holds. */
static int child_echo(void *arg)
{
    ends *e = arg;
    if (rl_conn_close(e->a) != 0)
        return 1;
    if (rl_conn_close(e->a) != -EBADF)
        return 2;
    char buf[64];
    ssize_t n = rl_conn_recv(e->b, buf, sizeof buf, 20);
    if (n < 0)
        return 3;
    char out[64];
    for (ssize_t i = 0; i < n; i++)
        out[i] = buf[n - 1 - i];
    if (rl_conn_send(e->b, out, (size_t)n) != 0)
        return 4;
    int fds[16];
    return rl__conn_held_fds(fds, 16) == 1 ? 0 : 5;
}

static void check_method(rl_start_method m)
{
    ends *e = rl_shared_alloc(sizeof *e);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(rl_pipe(&e->a, &e->b, 1), 0);
    rl_process *p;
    rl_process_opts o = {.method = m};
    ck_assert_int_eq(rl_process_start(&p, child_echo, e, &o), 0);
    ck_assert_int_eq(rl_conn_close(e->b), 0);
    ck_assert_int_eq(rl_conn_send(e->a, "racelab", 7), 0);
    char buf[64];
    ck_assert_int_eq(rl_conn_recv(e->a, buf, sizeof buf, 20), 7);
    ck_assert(memcmp(buf,
                     "baleca"
                     "r",
                     7) == 0);
    /* The child's copy of b goes with it: then EOF. */
    ck_assert_int_eq(rl_conn_recv(e->a, buf, sizeof buf, 20), RL_EOF);
    ck_assert_int_eq(rl_process_join(p, 20), 0);
    int code = -1;
    ck_assert_int_eq(rl_process_exitcode(p, &code), 0);
    ck_assert_int_eq(code, 0);
    ck_assert_int_eq(rl_process_free(p), 0);
}

START_TEST(ends_pass_to_a_forked_child)
{
    check_method(RL_START_FORK);
}
END_TEST

START_TEST(ends_pass_to_a_spawned_child)
{
    check_method(RL_START_SPAWN);
}
END_TEST

START_TEST(ends_pass_to_a_forkserver_child)
{
    check_method(RL_START_FORKSERVER);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = rl_test_tcase("framing", 60);
    tcase_add_test(tc, messages_arrive_in_order_pipe);
    tcase_add_test(tc, messages_arrive_in_order_duplex);
    tcase_add_test(tc, empty_messages_count);
    tcase_add_test(tc, small_messages_are_never_merged);
    tcase_add_test(tc, large_message_crosses_intact_pipe);
    tcase_add_test(tc, large_message_crosses_intact_duplex);
    tcase_add_test(tc, concurrent_senders_keep_frames_whole);
    tcase_add_test(tc, too_small_buffer_keeps_the_message);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("eof", 20);
    tcase_add_test(tc, eof_only_after_every_write_end_closes);
    tcase_add_test(tc, sender_dying_mid_payload_is_eproto);
    tcase_add_test(tc, sender_dying_mid_header_is_eproto);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("errors", 10);
    tcase_add_test(tc, wrong_direction_is_ebadf);
    tcase_add_test(tc, closed_end_is_ebadf);
    tcase_add_test(tc, send_without_reader_is_epipe_pipe);
    tcase_add_test(tc, send_without_reader_is_epipe_duplex);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("waiting", 20);
    tcase_add_test(tc, poll_does_not_consume);
    tcase_add_test(tc, duplex_works_both_ways);
    tcase_add_test(tc, timeouts);
    tcase_add_test(tc, signals_do_not_break_a_blocking_recv);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("registry", 20);
    tcase_add_test(tc, held_fds_and_adopt);
    tcase_add_test(tc, no_descriptor_leaks);
    tcase_add_test(tc, full_arena_is_enomem_without_leaks);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("start methods", 30);
    tcase_add_test(tc, ends_pass_to_a_forked_child);
    tcase_add_test(tc, ends_pass_to_a_spawned_child);
    tcase_add_test(tc, ends_pass_to_a_forkserver_child);
    suite_add_tcase(s, tc);
    return rl_test_main(s);
}
