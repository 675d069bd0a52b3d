/* fork_lock.c: fork() copies only the calling thread. A mutex that another
 * thread of the parent holds at that moment is copied locked, and nobody
 * in the child will ever unlock it: the child hangs at its first lock.
 * The fix: fork before starting threads (or use pthread_atfork handlers
 * that take the lock around the fork). The hang is in the kernel, outside
 * the scheduler's control, so the verdict is TIMEOUT; the short timeout
 * keeps the catalogue fast. */
#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>

#include "catalogue.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t held, release;

/* A thread of the parent that holds the lock for a while. */
static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&table_lock);
    sem_post(&held);
    while (sem_wait(&release) < 0 && errno == EINTR)
        ;
    pthread_mutex_unlock(&table_lock);
    return NULL;
}

/* The child uses the lock, as any library call in it might. */
static int use_lock(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&table_lock);
    pthread_mutex_unlock(&table_lock);
    return 0;
}

RL_SCENARIO(fork_lock_threaded, "fork_lock.threaded",
            .summary = "fork while another thread holds a mutex: the child "
                       "hangs taking it",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_TIMEOUT, .timeout = 2)
{
    sem_init(&held, 0, 0);
    sem_init(&release, 0, 0);
    pthread_t t;
    rl_check(pthread_create(&t, NULL, holder, NULL) == 0, "thread");
    while (sem_wait(&held) < 0 && errno == EINTR)
        ;
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, use_lock, NULL, NULL) == 0, "start");
    sem_post(&release);
    pthread_join(t, NULL);
    rl_process_join(p, -1);
    rl_process_free(p);
}

RL_SCENARIO(fork_lock_before_threads, "fork_lock.before_threads",
            .summary = "fork first, then start threads")
{
    sem_init(&held, 0, 0);
    sem_init(&release, 0, 0);
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, use_lock, NULL, NULL) == 0, "start");
    pthread_t t;
    rl_check(pthread_create(&t, NULL, holder, NULL) == 0, "thread");
    while (sem_wait(&held) < 0 && errno == EINTR)
        ;
    sem_post(&release);
    pthread_join(t, NULL);
    rl_process_join(p, -1);
    rl_process_free(p);
}
