/* hook.c: the scheduling hook every blocking or publishing primitive goes
 * through. Free-running, it waits on futexes in the arena. */
#include <errno.h>
#include <limits.h>

#include "internal.h"

static const char *const op_names[RL_OP_COUNT] = {
    [RL_OP_YIELD] = "yield",       [RL_OP_START] = "start",
    [RL_OP_JOIN] = "join",         [RL_OP_EXIT] = "exit",
    [RL_OP_ACQUIRE] = "acquire",   [RL_OP_RELEASE] = "release",
    [RL_OP_SET] = "set",           [RL_OP_CLEAR] = "clear",
    [RL_OP_WAIT] = "wait",         [RL_OP_NOTIFY] = "notify",
    [RL_OP_SEND] = "send",         [RL_OP_RECV] = "recv",
    [RL_OP_POLL] = "poll",         [RL_OP_CLOSE] = "close",
    [RL_OP_PUT] = "put",           [RL_OP_GET] = "get",
    [RL_OP_TASK_DONE] = "task_done", [RL_OP_SUBMIT] = "submit",
};

const char *rl__op_name(rl__op op)
{
    return (unsigned)op < RL_OP_COUNT ? op_names[op] : "?";
}

void rl__point(rl__op op, const void *obj, const char *label)
{
    (void)op;
    (void)obj;
    (void)label;
}

int rl__block(const void *obj, uint32_t *word, uint32_t seen,
              double deadline, const char *reason)
{
    (void)obj;
    (void)reason;
    if (rl__expired(deadline))
        return -ETIMEDOUT;
    return rl__futex_wait(word, seen, deadline);
}

void rl__publish(uint32_t *word)
{
    __atomic_add_fetch(word, 1, __ATOMIC_RELEASE);
    rl__futex_wake(word, INT_MAX);
}

int rl__controlled(void)
{
    return 0;
}
