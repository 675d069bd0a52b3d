/* sem_handshake.c: a parent and a child hand a value over through shared
 * memory, ordered by a named semaphore one way and an unnamed
 * process-shared one the other way; the parent unlinks the named one. */
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
    sem_t ack;
    int value;
    int acked;
};

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "/racelab-test-handshake-%d", (int)getpid());
    sem_t *ready = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    if (ready == SEM_FAILED) {
        perror("sem_open");
        return 2;
    }
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED || sem_init(&s->ack, 1, 0) < 0)
        return 2;
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        s->value = 42;
        sem_post(ready);
        sem_wait(&s->ack);
        _exit(s->acked == 1 ? 0 : 1);
    }
    int ok = sem_wait(ready) == 0 && s->value == 42;
    s->acked = 1;
    sem_post(&s->ack);
    int status = 0;
    waitpid(child, &status, 0);
    sem_close(ready);
    sem_unlink(name);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok)
        fprintf(stderr, "sem_handshake: the value or the ack was lost\n");
    return ok ? 0 : 1;
}
