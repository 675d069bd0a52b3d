/* check.c: rl_check and rl_check_eq, the invariants a scenario asserts:
 * a failed check is the execution's FAIL verdict. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scheduler.h"

/* A check failed: records the message as the last error and, inside an
 * execution, makes it the FAIL verdict with the actor's stack and stops
 * the actor. Outside an execution it returns. */
static void check_failed(const char *file, int line, const char *fmt,
                         va_list ap)
{
    char text[RL__MSG_LEN - 128];
    vsnprintf(text, sizeof text, fmt, ap);
    rl__fail(-EINVAL, "check failed: %s", text);
    rl__sched *s = rl__sched_get();
    int me = rl__sched_self();
    if (!s || me < 0)
        return;
    const char *slash = file ? strrchr(file, '/') : NULL;
    rl__stack_capture(s->actors[me].stack, sizeof s->actors[me].stack, 1);
    rl__sched_verdict(RL_FAIL, "%s (actor %d at %s:%d)", text, me,
                      slash  ? slash + 1
                      : file ? file
                             : "?",
                      line);
    rl__sched_halt();
}

int rl__check(int cond, const char *file, int line, const char *fmt, ...)
{
    if (cond)
        return 1;
    va_list ap;
    va_start(ap, fmt);
    check_failed(file, line, fmt, ap);
    va_end(ap);
    return 0;
}

static void fail_fmt(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_fmt(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_failed(file, line, fmt, ap);
    va_end(ap);
}

int rl__check_eq(long actual, long expected, const char *what, const char *file,
                 int line)
{
    rl__sched_checked_value(actual, expected);
    if (actual == expected)
        return 1;
    fail_fmt(file, line, "%s is %ld, expected %ld", what, actual, expected);
    return 0;
}

int(rl_check)(int cond, const char *fmt, ...)
{
    if (cond)
        return 1;
    va_list ap;
    va_start(ap, fmt);
    check_failed(NULL, 0, fmt, ap);
    va_end(ap);
    return 0;
}

int(rl_check_eq)(long actual, long expected, const char *what)
{
    return rl__check_eq(actual, expected, what, NULL, 0);
}
