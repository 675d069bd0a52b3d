/* kill_child.c: a parent ends a child that would run forever with
 * SIGTERM and checks, from its wait, that the signal ended it. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        for (;;)
            sleep(1);
    }
    if (kill(child, SIGTERM) < 0)
        return 2;
    int status = 0;
    if (waitpid(child, &status, 0) != child)
        return 2;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? 0 : 1;
}
