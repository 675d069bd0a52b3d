/* stdio_pipe.c: a child prints a line into a pipe through stdio and waits
 * for its parent's answer on another pipe; the parent reads the line and
 * answers. The line reaches the pipe through fflush, whose write the C
 * library makes itself. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int up[2], down[2];
    if (pipe(up) < 0 || pipe(down) < 0)
        return 2;
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        close(up[0]);
        close(down[1]);
        FILE *out = fdopen(up[1], "w");
        if (!out)
            _exit(2);
        fprintf(out, "ready\n");
        fflush(out);
        char c;
        int answered = read(down[0], &c, 1) == 1 && c == '!';
        fclose(out);
        _exit(answered ? 0 : 1);
    }
    close(up[1]);
    close(down[0]);
    char line[16] = "";
    ssize_t n = read(up[0], line, sizeof line - 1);
    int ok = n == 6 && memcmp(line, "ready\n", 6) == 0;
    if (write(down[1], "!", 1) != 1)
        return 2;
    int status = 0;
    waitpid(child, &status, 0);
    return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
