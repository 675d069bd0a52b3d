/* error.c: names of return codes and the per-thread last error message. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char last_error[512];

const char *rl_strerror(int err)
{
    if (err == RL_EOF)
        return "end of file: every sending end is closed";
    if (err == 0)
        return "success";
    if (err > 0)
        return "not an error code (positive value)";
    if (err < -4095)
        return "unknown error code";
    /* strerrordesc_np returns static text and is thread-safe. */
    const char *s = strerrordesc_np(-err);
    return s ? s : "unknown error code";
}

const char *rl_last_error(void)
{
    return last_error;
}

int rl__fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return err;
}
