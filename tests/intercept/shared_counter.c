/* shared_counter.c: a parent and its child each add one to a counter in
 * a MAP_SHARED mapping without a lock. Built with the compiler's
 * ThreadSanitizer instrumentation (pkg-config racelab-instrument), its
 * accesses are seen under racelab run -- COMMAND: a data race on the
 * first execution, and the lost update with --races off. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void add(volatile int *c)
{
    int v = *c;
    *c = v + 1;
}

int main(void)
{
    int *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED)
        return 2;
    pid_t p = fork();
    if (p < 0)
        return 2;
    add(c);
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    if (*c != 2)
        fprintf(stderr, "shared_counter: %d, an update was lost\n", *c);
    return *c == 2 ? 0 : 1;
}
