/* file.c: atomic report files (temporary file, then rename). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

const char *rl__mode_name(int m)
{
    static const char *const names[] = {"explore", "pct", "random", "stress",
                                        "replay"};
    return m >= 0 && m <= RL_MODE_REPLAY ? names[m] : "?";
}

int rl__report_to_file(const char *path, const rl__report *rep,
                       int (*writer)(FILE *, const rl__report *))
{
    /* Only a plain file is replaced atomically. A device, a FIFO or a
     * symbolic link (/dev/null, /dev/stdout, a pipe) is written in place:
     * renaming over it would replace it with a plain file. */
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return rl__fail(-EISDIR, "cannot write %s: it is a directory",
                            path);
        FILE *f = fopen(path, "we");
        if (!f)
            return rl__fail(-errno, "cannot write %s: %s", path,
                            strerror(errno));
        int bad = writer(f, rep) < 0;
        bad |= fflush(f) != 0;
        int e = errno;
        bad |= fclose(f) != 0;
        if (bad)
            return rl__fail(-(e ? e : EIO), "writing %s failed: %s", path,
                            strerror(e ? e : EIO));
        return 0;
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 32);
    if (!tmp)
        return -ENOMEM;
    snprintf(tmp, len + 32, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "we");
    if (!f) {
        int e = errno;
        free(tmp);
        return rl__fail(-e, "cannot write %s: %s", path, strerror(e));
    }
    int bad = writer(f, rep) < 0;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0 && errno != EINVAL;
    int e = errno;
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(tmp);
        free(tmp);
        return rl__fail(-(e ? e : EIO), "writing %s failed: %s", path,
                        strerror(e ? e : EIO));
    }
    if (rename(tmp, path) < 0) {
        e = errno;
        unlink(tmp);
        free(tmp);
        return rl__fail(-e, "cannot rename the report to %s: %s", path,
                        strerror(e));
    }
    free(tmp);
    return 0;
}
