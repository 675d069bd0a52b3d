/* stack.c: stack traces. Capture is libunwind local unwinding and is
 * async-signal-safe; resolving file:line happens later, outside the
 * failing process, with addr2line. */
#define UNW_LOCAL_ONLY
#include <errno.h>
#include <fcntl.h>
#include <libunwind.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define MAX_FRAMES 40

/* Appends s to buf (async-signal-safe). */
static void put(char *buf, size_t cap, size_t *len, const char *s)
{
    while (*s && *len + 1 < cap)
        buf[(*len)++] = *s++;
    buf[*len] = '\0';
}

static void put_hex(char *buf, size_t cap, size_t *len, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v && n < 20);
    char out[24] = "0x";
    int k = 2;
    while (n > 0)
        out[k++] = tmp[--n];
    out[k] = '\0';
    put(buf, cap, len, out);
}

static unsigned long parse_hex(const char **p)
{
    unsigned long v = 0;
    for (;; (*p)++) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (unsigned long)(c - 'a' + 10);
        else
            return v;
    }
}

/* Finds the file mapping holding ip in the text of /proc/self/maps and
 * writes its path and the offset of ip in the file. */
static int find_object(const char *maps, unsigned long ip, char *path,
                       size_t pcap, unsigned long *off)
{
    const char *p = maps;
    while (*p) {
        const char *line = p;
        unsigned long lo = parse_hex(&p);
        if (*p++ != '-')
            break;
        unsigned long hi = parse_hex(&p);
        /* " perms offset dev inode path" */
        while (*p == ' ')
            p++;
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
        unsigned long foff = parse_hex(&p);
        for (int field = 0; field < 2 && *p; field++) {
            while (*p == ' ')
                p++;
            while (*p && *p != ' ')
                p++;
        }
        while (*p == ' ')
            p++;
        const char *name = p;
        while (*p && *p != '\n')
            p++;
        if (ip >= lo && ip < hi && *name == '/') {
            size_t n = (size_t)(p - name);
            if (n >= pcap)
                n = pcap - 1;
            memcpy(path, name, n);
            path[n] = '\0';
            *off = ip - lo + foff;
            return 1;
        }
        if (*p == '\n')
            p++;
        (void)line;
    }
    return 0;
}

int rl__stack_capture(char *buf, size_t cap, int names)
{
    size_t len = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    static char maps[65536];
    /* maps is static: a handler that interrupts another capture in the
     * same process would share it, which costs at worst a missing file
     * name, never a crash. */
    static volatile sig_atomic_t busy;
    size_t mlen = 0;
    /* A capture interrupted by another one (a crash in a stack request)
     * leaves the buffer alone: the inner one goes without object names. */
    int mine = !busy;
    busy = 1;
    int fd = mine ? open("/proc/self/maps", O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        ssize_t n;
        while (mlen + 1 < sizeof maps &&
               ((n = read(fd, maps + mlen, sizeof maps - 1 - mlen)) > 0 ||
                (n < 0 && errno == EINTR)))
            if (n > 0)
                mlen += (size_t)n;
        close(fd);
    }
    char none[1] = "";
    char *text = mine ? maps : none;
    if (mine)
        maps[mlen] = '\0';
    unw_context_t ctx;
    unw_cursor_t cur;
    if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0) {
        if (mine)
            busy = 0;
        return 0;
    }
    int frames = 0;
    while (frames < MAX_FRAMES && unw_step(&cur) > 0) {
        unw_word_t ip, off = 0;
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        char name[128];
        if (unw_is_signal_frame(&cur) > 0)
            strcpy(name, "__restore_rt");
        else if (!names ||
                 unw_get_proc_name(&cur, name, sizeof name, &off) != 0)
            strcpy(name, "??");
        char path[256];
        unsigned long objoff = 0;
        put(buf, cap, &len, name);
        put(buf, cap, &len, "+");
        put_hex(buf, cap, &len, off);
        put(buf, cap, &len, "\t");
        /* The return address points after the call: look up ip - 1. */
        if (find_object(text, ip - 1, path, sizeof path, &objoff)) {
            put(buf, cap, &len, path);
            put(buf, cap, &len, "\t");
            put_hex(buf, cap, &len, objoff);
        }
        put(buf, cap, &len, "\n");
        frames++;
    }
    if (mine)
        busy = 0;
    return frames;
}

/* Frames of racelab itself, folded away by default: names with the rl_
 * prefix, and any function whose source file is one of racelab's. */
static int racelab_frame(const char *name, const char *file)
{
    static const char *const sources[] = {
        "arena.c",   "boot.c",       "check.c",    "conn.c",       "error.c",
        "explain.c", "fair.c",       "fnref.c",    "forkserver.c", "lock.c",
        "pool.c",    "process.c",    "procfs.c",   "queue.c",      "run.c",
        "sched.c",   "schedblock.c", "stack.c",    "strategy.c",   "sync.c",
        "tsan.c",    "tsan_mem.c",   "tsan_map.c", "util.c",       "execute.c",
        "search.c",  "jobs.c",       "cli.c",      "api.c",        NULL};
    if (strncmp(name, "rl_", 3) == 0 || strcmp(name, "__restore_rt") == 0)
        return 1;
    size_t n = strcspn(file, ":");
    for (int i = 0; sources[i]; i++)
        if (strlen(sources[i]) == n && strncmp(file, sources[i], n) == 0)
            return 1;
    return 0;
}

/* Resolves one object's offsets to file:line with addr2line. lines[i]
 * receives "file:line" or "". */
static void resolve(const char *path, unsigned long *offs, int n,
                    char (*lines)[96], char (*funcs)[96])
{
    for (int i = 0; i < n; i++) {
        lines[i][0] = '\0';
        funcs[i][0] = '\0';
    }
    if (access("/usr/bin/addr2line", X_OK) != 0)
        return;
    const char *argv[4 + MAX_FRAMES + 1];
    char addrs[MAX_FRAMES][24];
    int k = 0;
    argv[k++] = "addr2line";
    argv[k++] = "-f";
    argv[k++] = "-e";
    argv[k++] = path;
    for (int i = 0; i < n && i < MAX_FRAMES; i++) {
        snprintf(addrs[i], sizeof addrs[i], "0x%lx", offs[i]);
        argv[k++] = addrs[i];
    }
    argv[k] = NULL;
    rl_run_result res;
    rl_run_opts o = {.timeout = 10};
    if (rl_run(argv, &o, &res) == 0 && res.exit_code == 0 && res.out) {
        /* Two lines per address: the function, then file:line. */
        char *save = NULL, *line = strtok_r(res.out, "\n", &save);
        for (int i = 0; i < n && line; i++) {
            if (line[0] != '?')
                snprintf(funcs[i], sizeof funcs[i], "%.90s", line);
            line = strtok_r(NULL, "\n", &save);
            if (!line)
                break;
            const char *slash = strrchr(line, '/');
            const char *file = slash ? slash + 1 : line;
            if (file[0] != '?')
                snprintf(lines[i], sizeof lines[i], "%.90s", file);
            line = strtok_r(NULL, "\n", &save);
        }
    }
    rl_run_result_free(&res);
}

int rl__stack_format(const char *raw, char *out, size_t cap, int fold)
{
    char name[MAX_FRAMES][160];
    char path[MAX_FRAMES][256];
    unsigned long off[MAX_FRAMES];
    int n = 0;
    const char *p = raw;
    while (*p && n < MAX_FRAMES) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        char *t1 = strchr(line, '\t');
        path[n][0] = '\0';
        off[n] = 0;
        if (t1) {
            *t1 = '\0';
            char *t2 = strchr(t1 + 1, '\t');
            if (t2) {
                *t2 = '\0';
                snprintf(path[n], sizeof path[n], "%.250s", t1 + 1);
                off[n] = strtoul(t2 + 1, NULL, 16);
            }
        }
        snprintf(name[n], sizeof name[n], "%.150s", line);
        n++;
        p = nl ? nl + 1 : p + len;
    }
    /* Resolve file:line per object, in one addr2line call each. */
    char lines[MAX_FRAMES][96];
    for (int i = 0; i < n; i++)
        lines[i][0] = '\0';
    int done[MAX_FRAMES] = {0};
    for (int i = 0; i < n; i++) {
        if (done[i] || !path[i][0])
            continue;
        unsigned long offs[MAX_FRAMES];
        int idx[MAX_FRAMES], m = 0;
        for (int j = i; j < n; j++) {
            if (!done[j] && strcmp(path[j], path[i]) == 0) {
                offs[m] = off[j];
                idx[m++] = j;
                done[j] = 1;
            }
        }
        char res[MAX_FRAMES][96], fns[MAX_FRAMES][96];
        resolve(path[i], offs, m, res, fns);
        for (int k = 0; k < m; k++) {
            memcpy(lines[idx[k]], res[k], sizeof res[k]);
            /* A stack taken where symbol lookup is unsafe (a crash) has
             * no names: addr2line's are used. */
            if (strncmp(name[idx[k]], "??", 2) == 0 && fns[k][0])
                snprintf(name[idx[k]], sizeof name[idx[k]], "%.150s", fns[k]);
        }
    }
    /* What to show: the user's frames. Frames of the C library are shown
     * only where they are what the user called (raise, abort) and not the
     * inside of a racelab wait. */
    int keep[MAX_FRAMES], rl[MAX_FRAMES], libc[MAX_FRAMES], user = n;
    for (int i = 0; i < n; i++) {
        char fn[160];
        snprintf(fn, sizeof fn, "%.150s", name[i]);
        char *plus = strrchr(fn, '+');
        if (plus)
            *plus = '\0';
        /* The wrappers of an unmodified program (racelab run --) too. */
        rl[i] = racelab_frame(fn, lines[i]) ||
                strstr(path[i], "libracelab-intercept.so") != NULL;
        libc[i] = strstr(path[i], "/libc.so") || strstr(path[i], "/ld-linux") ||
                  strstr(path[i], "/libpthread") || !path[i][0];
        if (strncmp(fn, "__libc_start", 12) == 0 ||
            strcmp(fn, "__libc_init_first") == 0 || strcmp(fn, "_start") == 0)
            rl[i] = 1;
        if (user == n && !rl[i] && !libc[i])
            user = i;
        keep[i] = strcmp(fn, "??") != 0 && (!fold || !rl[i]);
    }
    for (int i = 0; fold && i < user && i < n; i++) {
        if (!libc[i] || rl[i])
            continue;
        for (int j = i + 1; j < user; j++)
            if (rl[j])
                keep[i] = 0;
    }
    size_t len = 0;
    out[0] = '\0';
    int shown = 0, folded = 0;
    for (int i = 0; i < n; i++) {
        if (!keep[i]) {
            folded++;
            continue;
        }
        char frame[400];
        if (lines[i][0])
            snprintf(frame, sizeof frame, "#%d %.150s (%.90s)\n", shown,
                     name[i], lines[i]);
        else
            snprintf(frame, sizeof frame, "#%d %.150s\n", shown, name[i]);
        put(out, cap, &len, frame);
        shown++;
    }
    if (folded && fold) {
        char note[64];
        snprintf(note, sizeof note, "(%d racelab frame%s folded)\n", folded,
                 folded == 1 ? "" : "s");
        put(out, cap, &len, note);
    }
    return shown;
}
