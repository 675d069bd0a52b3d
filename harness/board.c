/* board.c: the job board (board.h). Everything in it is a shared
 * anonymous mapping made before the workers fork; untouched pages cost
 * nothing, so every task has a slot for a token and one for a failing
 * execution, used only by the tasks that fail. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "board.h"

/* Room for one task's token; a longer token is recomputed by the parent
 * (jobs.c, token_of_task). */
#define TOKEN_MAX 65536

/* The head of a failure slot. The steps, the actors and the races follow
 * it; its own pointers mean nothing. */
typedef struct {
    int valid;
    rl__exec_result head;
} failure_head;

static size_t slots(long ntasks)
{
    return (size_t)(ntasks > 0 ? ntasks : 1);
}

rl__board *rl__board_make(const rl__task *plan, long ntasks, long max_steps)
{
    size_t size = sizeof(rl__board) + sizeof(rl__task) * (size_t)ntasks;
    rl__board *b = mmap(NULL, size, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED) {
        rl__fail(-errno, "mapping the job board: %s", strerror(errno));
        return NULL;
    }
    b->size = size;
    b->ntasks = ntasks;
    memcpy(b->tasks, plan, sizeof(rl__task) * (size_t)ntasks);
    b->tokens = mmap(NULL, slots(ntasks) * TOKEN_MAX, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b->tokens == MAP_FAILED) {
        munmap(b, size);
        rl__fail(-ENOMEM, "no memory for the job board");
        return NULL;
    }
    /* A failure slot that cannot be had only costs a replay per failure
     * in the parent. */
    b->slot = sizeof(failure_head) +
              sizeof(rl__step) * (size_t)(max_steps + 2) +
              sizeof(rl__actor) * RL__MAX_ACTORS +
              sizeof(rl__race) * RL__RACES_MAX;
    b->slot = (b->slot + 4095) & ~(size_t)4095;
    b->details = mmap(NULL, slots(ntasks) * b->slot, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (b->details == MAP_FAILED)
        b->details = NULL;
    return b;
}

void rl__board_free(rl__board *b)
{
    if (!b)
        return;
    munmap(b->tokens, slots(b->ntasks) * TOKEN_MAX);
    if (b->details)
        munmap(b->details, slots(b->ntasks) * b->slot);
    munmap(b, b->size);
}

void rl__board_put_token(rl__board *b, rl__task *t, const char *token)
{
    size_t len = strlen(token);
    if (len < TOKEN_MAX) {
        memcpy(b->tokens + (t - b->tasks) * TOKEN_MAX, token, len + 1);
        t->has_token = 1;
    } else {
        t->token_overflow = 1;
    }
}

char *rl__board_token(const rl__board *b, const rl__task *t)
{
    if (!t->has_token)
        return NULL;
    return strdup(b->tokens + (t - b->tasks) * TOKEN_MAX);
}

void rl__board_put_failure(rl__board *b, const rl__task *t,
                           const rl__exec_result *e)
{
    size_t steps = sizeof(rl__step) * (size_t)e->nsteps;
    size_t actors = sizeof(rl__actor) * (size_t)e->nactors;
    size_t races = sizeof(rl__race) * (size_t)e->nraces;
    if (!b->details ||
        sizeof(failure_head) + steps + actors + races > b->slot)
        return;
    failure_head *d =
        (failure_head *)(b->details + (size_t)(t - b->tasks) * b->slot);
    d->head = *e;
    d->head.steps = NULL;
    d->head.actors = NULL;
    d->head.races = NULL;
    char *p = (char *)(d + 1);
    if (steps)
        memcpy(p, e->steps, steps);
    if (actors)
        memcpy(p + steps, e->actors, actors);
    if (races)
        memcpy(p + steps + actors, e->races, races);
    __atomic_store_n(&d->valid, 1, __ATOMIC_RELEASE);
}

int rl__board_failure(const rl__board *b, const rl__task *t,
                      rl__exec_result *e)
{
    if (!b->details)
        return -1;
    const failure_head *d =
        (const failure_head *)(b->details + (size_t)(t - b->tasks) * b->slot);
    if (!__atomic_load_n(&d->valid, __ATOMIC_ACQUIRE))
        return -1;
    *e = d->head;
    size_t steps = sizeof(rl__step) * (size_t)e->nsteps;
    size_t actors = sizeof(rl__actor) * (size_t)e->nactors;
    size_t races = sizeof(rl__race) * (size_t)e->nraces;
    e->steps = steps ? malloc(steps) : NULL;
    e->actors = actors ? malloc(actors) : NULL;
    e->races = races ? malloc(races) : NULL;
    if ((steps && !e->steps) || (actors && !e->actors) ||
        (races && !e->races)) {
        rl__exec_result_free(e);
        return -1;
    }
    const char *p = (const char *)(d + 1);
    if (steps)
        memcpy(e->steps, p, steps);
    if (actors)
        memcpy(e->actors, p + steps, actors);
    if (races)
        memcpy(e->races, p + steps + actors, races);
    return 0;
}
