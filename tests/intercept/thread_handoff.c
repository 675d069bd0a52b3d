/* thread_handoff.c: two threads hand a count back and forth under a
 * private mutex and condition variable, then a child forked by one of the
 * threads reports the total through a pipe after that thread has ended.
 * UNLOCKED lets the two threads change the count without the turn, which
 * a preemption between the read and the write can lose (the pipe write
 * between them is a schedule point). */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 2

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static int turn, count;
static int log_fds[2];
static pid_t child;

static void *player(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < ROUNDS; i++) {
#ifndef UNLOCKED
        pthread_mutex_lock(&m);
        while (turn != me)
            pthread_cond_wait(&turn_changed, &m);
#endif
        int seen = count;
        (void)!write(log_fds[1], "x", 1); /* a step between read and write */
        count = seen + 1;
#ifndef UNLOCKED
        turn = 1 - me;
        pthread_cond_broadcast(&turn_changed);
        pthread_mutex_unlock(&m);
#endif
    }
    if (me == 1) {
        /* A child forked by a thread that ends before the child does. */
        int total = count;
        child = fork();
        if (child == 0) {
            (void)!write(log_fds[1], total == 2 * ROUNDS ? "ok" : "no", 2);
            _exit(0);
        }
    }
    return NULL;
}

int main(void)
{
    if (pipe(log_fds) < 0)
        return 2;
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, player, (void *)i) != 0)
            return 2;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    waitpid(child, NULL, 0);
    close(log_fds[1]);
    char buf[64];
    ssize_t n, got = 0;
    while ((n = read(log_fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += n;
    buf[got] = '\0';
    if (count != 2 * 2 || got < 2 || buf[got - 2] != 'o' || buf[got - 1] != 'k') {
        fprintf(stderr, "thread_handoff: count %d, log '%s'\n", count, buf);
        return 1;
    }
    return 0;
}
