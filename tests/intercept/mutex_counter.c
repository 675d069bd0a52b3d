/* mutex_counter.c: two children add one each to a counter in a MAP_SHARED
 * mapping under a process-shared mutex; the parent checks the sum. With
 * UNLOCKED the mutex is left out and the sleep inside the update lets the
 * other child in between the read and the write (a lost update). */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
    pthread_mutex_t lock;
    int counter;
};

static void add_one(struct shared *s)
{
#ifndef UNLOCKED
    pthread_mutex_lock(&s->lock);
#endif
    int v = s->counter;
    usleep(1000); /* the window of the read-modify-write */
    s->counter = v + 1;
#ifndef UNLOCKED
    pthread_mutex_unlock(&s->lock);
#endif
}

int main(void)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        return 2;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->lock, &a);
    s->counter = 0;
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] < 0)
            return 2;
        if (kids[i] == 0) {
            add_one(s);
            _exit(0);
        }
    }
    for (int i = 0; i < 2; i++)
        waitpid(kids[i], NULL, 0);
    if (s->counter != 2) {
        fprintf(stderr, "mutex_counter: counter is %d, not 2\n", s->counter);
        return 1;
    }
    return 0;
}
