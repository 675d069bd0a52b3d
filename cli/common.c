/* common.c: what the commands of the command line share: usage errors,
 * the command line as a string, stdout's failures, stop signals and the
 * report files. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const char *rl__cli_prog = "racelab";
const char *rl__cli_invoked = "racelab";
char *rl__cli_argv_line;
volatile sig_atomic_t rl__cli_interrupted;

/* The reason the first flush of stdout failed, for stdout_failed. */
static int stdout_errno;

int rl__cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", rl__cli_prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return EXIT_USAGE;
}

char *rl__cli_join_args(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 3;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        int quote = strpbrk(argv[i], " \t*?[") != NULL;
        if (quote)
            strcat(s, "'");
        strcat(s, argv[i]);
        if (quote)
            strcat(s, "'");
    }
    return s;
}

void rl__cli_flush_stdout(void)
{
    errno = 0;
    if (fflush(stdout) != 0 && !stdout_errno)
        stdout_errno = errno ? errno : EIO;
}

int rl__cli_stdout_failed(void)
{
    errno = 0;
    int flush_failed = fflush(stdout) != 0;
    int e = flush_failed ? errno : stdout_errno;
    if (!flush_failed && !ferror(stdout))
        return 0;
    struct stat st;
    if (e == EPIPE || (!e && fstat(STDOUT_FILENO, &st) == 0 &&
                       (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))))
        return 0;
    fprintf(stderr, "%s: writing to standard output failed: %s\n", rl__cli_prog,
            e ? strerror(e) : "a write error");
    return 1;
}

static void on_stop_signal(int sig)
{
    rl__cli_interrupted = sig;
}

void rl__cli_catch_interrupts(struct sigaction old[3])
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    rl__cli_interrupted = 0;
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
    sigaction(SIGHUP, &sa, &old[2]);
}

void rl__cli_release_interrupts(struct sigaction old[3])
{
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
    sigaction(SIGHUP, &old[2], NULL);
}

int rl__cli_write_outputs(const rl__cli_outputs *out, const rl__report *rep)
{
    int bad = 0;
    struct {
        const char *path;
        int (*writer)(FILE *, const rl__report *);
    } files[] = {{out->json, rl__report_json},
                 {out->junit, rl__report_junit},
                 {out->html, rl__report_html}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (!files[i].path)
            continue;
        if (rl__report_to_file(files[i].path, rep, files[i].writer) < 0) {
            fprintf(stderr, "%s: %s\n", rl__cli_prog, rl_last_error());
            bad = 1;
        }
    }
    if (out->tap) {
        rl__report tap = *rep;
        tap.tap_version = out->tap;
        rl__report_tap(stdout, &tap);
    }
    return bad;
}

void rl__cli_started_at(char buf[32])
{
    time_t now = time(NULL);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
}

void rl__cli_progress(const rl__term *t, long done, long total, long bad,
                      const char *what, double t0)
{
    rl__term named = *t;
    named.prog = rl__cli_prog;
    rl__term_progress(&named, done, total, bad, what, t0);
}
