/* extlog.c: the failure logs of racelab stress -- CMD --failure-dir: one
 * file per failing run with what it takes to look into it again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extstress_internal.h"

int rl__ext_log_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0777) < 0 && errno != EEXIST)
        return rl__fail(-errno, "--failure-dir %s: %s", dir, strerror(errno));
    if (stat(dir, &st) < 0)
        return rl__fail(-errno, "--failure-dir %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return rl__fail(-ENOTDIR, "--failure-dir %s: not a directory", dir);
    if (access(dir, W_OK | X_OK) < 0)
        return rl__fail(-errno, "--failure-dir %s: %s", dir, strerror(errno));
    return 0;
}

/* Writes the n bytes of an output stream, "[...]" first when its head
 * was dropped, ending with a newline. */
static void put_stream(FILE *f, const char *title, const rl__ext_tail *t)
{
    fprintf(f, "--- %s%s\n", title, t->dropped ? " (the last bytes only)" : "");
    if (t->dropped)
        fputs("[...]\n", f);
    fwrite(t->buf, 1, t->len, f);
    if (t->len && t->buf[t->len - 1] != '\n')
        fputc('\n', f);
}

int rl__ext_log_failure(rl__ext_ctx *c, const rl__ext_slot *s, const char *msg)
{
    const rl__stress_opts *o = c->o;
    char path[PATH_MAX];
    int fd = -1;
    errno = ENAMETOOLONG;
    if (snprintf(path, sizeof path, "%s/run-%ld.log", o->failure_dir, s->run) <
        (int)sizeof path)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                  0666);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        char note[PATH_MAX + 128];
        snprintf(note, sizeof note, "cannot write the log of run %ld, %s: %s",
                 s->run, path, strerror(e));
        if (o->note)
            o->note(1, note, o->note_ctx);
        return -e;
    }
    /* Integers only: the log reads the same in every locale. */
    fprintf(f, "run: %ld\n", s->run);
    fprintf(f, "command:");
    for (int i = 0; c->argv[i]; i++)
        fprintf(f, " %s", c->argv[i]);
    fprintf(f, "\nseed: %llu\n", (unsigned long long)o->seed);
    if (c->seed_var)
        fprintf(f, "noise seed: %llu (RACELAB_NOISE_SEED)\n",
                (unsigned long long)(o->seed + (uint64_t)s->run));
    fprintf(f, "environment: RACELAB_RUN=%ld\n", s->run);
    fprintf(f, "outcome: %s\n", msg);
    fprintf(f, "duration_ms: %ld\n",
            (long)((rl__now() - s->start) * 1000.0 + 0.5));
    if (!s->captured) {
        fputs("--- output not captured\n", f);
    } else {
        put_stream(f, s->separate_err ? "stdout" : "stdout and stderr",
                   &s->tout);
        if (s->separate_err)
            put_stream(f, "stderr", &s->terr);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        char note[PATH_MAX + 128];
        snprintf(note, sizeof note, "cannot write the log of run %ld, %s",
                 s->run, path);
        if (o->note)
            o->note(1, note, o->note_ctx);
        return -EIO;
    }
    return 0;
}
