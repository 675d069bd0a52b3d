/* locate.c: where racelab finds the programs it runs (PATH, as execvp
 * would) and its runtime libraries (libracelab-noise.so for stress
 * --noise, libracelab-intercept.so for run -- COMMAND). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#ifndef RL_TESTING
/* The LIBDIR make install puts the runtime libraries in, and the same
 * relative to BINDIR ("" when not both under PREFIX), from the file the
 * Makefile generates from them. */
extern const char rl__libdir[], rl__libdir_rel[];
#else
static const char rl__libdir[] = "", rl__libdir_rel[] = "";
#endif

int rl__find_program(const char *name, char *out, size_t size)
{
    if (!*name)
        return rl__fail(-ENOENT, "empty command name");
    if (strchr(name, '/')) {
        if (snprintf(out, size, "%s", name) >= (int)size)
            return rl__fail(-ENAMETOOLONG, "command path too long");
        /* Checked here too, for spawns that report exec errors late. */
        if (access(out, X_OK) != 0)
            return rl__fail(-errno, "cannot run '%s': %s", name,
                            strerror(errno));
        return 0;
    }
    const char *p = getenv("PATH");
    if (!p || !*p)
        p = "/bin:/usr/bin";
    int denied = 0;
    while (*p) {
        const char *e = strchr(p, ':');
        size_t dl = e ? (size_t)(e - p) : strlen(p);
        int n = dl ? snprintf(out, size, "%.*s/%s", (int)dl, p, name)
                   : snprintf(out, size, "%s", name);
        struct stat st;
        if (n < (int)size && stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            denied = 1;
        }
        p += dl;
        if (*p == ':')
            p++;
    }
    if (denied)
        return rl__fail(-EACCES, "cannot run '%s': permission denied", name);
    return rl__fail(-ENOENT, "cannot run '%s': command not found in PATH",
                    name);
}

int rl__find_runtime_lib(const char *file, const char *given, char *out)
{
    if (given && *given) {
        if (!realpath(given, out) || access(out, R_OK) != 0)
            return rl__fail(-ENOENT, "%s: '%s' not found", file, given);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return rl__fail(-ENOENT, "%s: cannot read /proc/self/exe", file);
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    const char *tries[][2] = {
        {exe, "."}, {exe, rl__libdir_rel}, {exe, "../lib"}, {rl__libdir, "."}};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        char cand[2 * PATH_MAX + 64];
        if (!*tries[i][0] || !*tries[i][1])
            continue;
        snprintf(cand, sizeof cand, "%s/%s/%s", tries[i][0], tries[i][1],
                 file);
        if (access(cand, R_OK) == 0 && realpath(cand, out))
            return 0;
    }
    return rl__fail(-ENOENT, "%s not found in %s, %s/../lib%s%s", file, exe,
                    exe, *rl__libdir ? " or " : "", rl__libdir);
}
