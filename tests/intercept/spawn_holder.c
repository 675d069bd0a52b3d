/* spawn_holder.c: a parent starts a reader of a pipe with posix_spawn
 * (the reader is cat, whose stdin is the pipe) and waits for it while it
 * still holds the pipe's write end, so cat never sees end of file. FIXED
 * closes the write end before the wait. */
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
    int fds[2];
    if (pipe(fds) < 0)
        return 2;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    char *argv[] = {"cat", NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "cat", &fa, NULL, argv, environ) != 0)
        return 2;
    close(fds[0]);
    if (write(fds[1], "hello\n", 6) != 6)
        return 2;
#ifdef FIXED
    close(fds[1]);
#endif
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 1;
    return 0;
}
