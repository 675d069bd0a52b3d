/* stack_remote.c: the stack of another process, through ptrace and
 * libunwind-ptrace: the fallback for processes that cannot unwind
 * themselves (signals blocked, not an actor, stuck). */
#include <errno.h>
#include <libunwind-ptrace.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define MAX_FRAMES 40

/* Finds the file mapping of pid holding ip: its path and the offset of ip
 * in the file. */
static int object_of(FILE *maps, unsigned long ip, char *path, size_t cap,
                     unsigned long *off)
{
    char line[512];
    rewind(maps);
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi, foff;
        char perms[8], name[400] = "";
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %399s", &lo, &hi, perms,
                   &foff, name) < 4)
            continue;
        if (ip >= lo && ip < hi && name[0] == '/') {
            snprintf(path, cap, "%s", name);
            *off = ip - lo + foff;
            return 1;
        }
    }
    return 0;
}

int rl__stack_capture_remote(pid_t pid, char *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0)
        return rl__fail(-errno, "ptrace(SEIZE, %d): %s", (int)pid,
                        strerror(errno));
    int frames = 0;
    if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0)
        goto detach;
    int st;
    pid_t w;
    do
        w = waitpid(pid, &st, __WALL);
    while (w < 0 && errno == EINTR);
    if (w != pid || !WIFSTOPPED(st))
        goto detach;
    unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
    void *ui = as ? _UPT_create(pid) : NULL;
    char mpath[64];
    snprintf(mpath, sizeof mpath, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(mpath, "re");
    unw_cursor_t cur;
    if (ui && unw_init_remote(&cur, as, ui) == 0) {
        size_t len = 0;
        do {
            unw_word_t ip, off = 0;
            if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0)
                break;
            char name[160];
            if (unw_get_proc_name(&cur, name, sizeof name, &off) != 0)
                snprintf(name, sizeof name, "??");
            char path[400] = "";
            unsigned long objoff = 0;
            /* Return addresses point after the call, but not the first
             * frame's, which is where the process stopped. */
            unsigned long look = frames ? ip - 1 : ip;
            int found =
                maps && object_of(maps, look, path, sizeof path, &objoff);
            int n =
                found ? snprintf(buf + len, cap - len, "%s+0x%lx\t%s\t0x%lx\n",
                                 name, (unsigned long)off, path, objoff)
                      : snprintf(buf + len, cap - len, "%s+0x%lx\t\n", name,
                                 (unsigned long)off);
            if (n < 0 || (size_t)n >= cap - len)
                break;
            len += (size_t)n;
            frames++;
        } while (frames < MAX_FRAMES && unw_step(&cur) > 0);
    }
    if (maps)
        fclose(maps);
    if (ui)
        _UPT_destroy(ui);
    if (as)
        unw_destroy_addr_space(as);
detach:
    ptrace(PTRACE_DETACH, pid, 0, 0);
    return frames;
}
