/* spawn.c: posix_spawn and posix_spawnp of a command under the scheduler.
 * The new process is an actor, as a fork's child is: the parent's call is
 * the start step, and the program it runs becomes the actor once the
 * library is loaded in it (core.c), told its id through the environment. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intercept.h"

/* 1 when environment env loads this library into the new program and
 * hands it the execution: only then can it become an actor (one that
 * never did would hold up the execution). */
static int env_attaches(char *const env[])
{
    const char *pre = getenv("LD_PRELOAD"), *ic = getenv(RL__INTERCEPT_ENV);
    int has_pre = 0, has_ic = 0;
    size_t ln = strlen(RL__INTERCEPT_ENV);
    for (int i = 0; env && env[i]; i++) {
        if (pre && strncmp(env[i], "LD_PRELOAD=", 11) == 0)
            has_pre = strcmp(env[i] + 11, pre) == 0;
        else if (ic && strncmp(env[i], RL__INTERCEPT_ENV, ln) == 0 &&
                 env[i][ln] == '=')
            has_ic = strcmp(env[i] + ln + 1, ic) == 0;
    }
    return has_pre && has_ic;
}

/* env with RL__IC_ACTOR_ENV=id in front (any such entry dropped), in
 * memory from malloc; NULL when there is none. */
static char **env_with_actor(char *const env[], int id, char *var, size_t cap)
{
    size_t n = 0, ln = strlen(RL__IC_ACTOR_ENV);
    while (env[n])
        n++;
    char **out = malloc((n + 2) * sizeof *out);
    if (!out)
        return NULL;
    snprintf(var, cap, "%s=%d", RL__IC_ACTOR_ENV, id);
    size_t k = 0;
    out[k++] = var;
    for (size_t i = 0; i < n; i++)
        if (strncmp(env[i], RL__IC_ACTOR_ENV, ln) != 0 || env[i][ln] != '=')
            out[k++] = env[i];
    out[k] = NULL;
    return out;
}

typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]);

static int spawn(spawn_fn *real, const char *what, pid_t *pid,
                 const char *path, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[],
                 char *const envp[])
{
    if (!rl__ic_on() || !env_attaches(envp))
        return real(pid, path, fa, attr, argv, envp);
    rl__ic_enter();
    rl__sched *s = rl__sched_get();
    int me = rl__sched_self();
    rl__point_key(RL_OP_START, NULL, NULL, -1, what);
    const char *base = strrchr(path, '/');
    int err;
    int id = rl__sched_actor_new(base ? base + 1 : path, RL_START_FORK, &err);
    if (id < 0) {
        rl__sched_verdict(RL_ERROR,
                          "an execution holds at most %d processes; the "
                          "%s of actor %d (%s) is one too many",
                          RL__MAX_ACTORS, what, me, s->actors[me].name);
        rl__sched_halt();
    }
    char var[64];
    char **env = env_with_actor(envp, id, var, sizeof var);
    pid_t child = 0;
    int r = env ? real(&child, path, fa, attr, argv, env) : ENOMEM;
    free(env);
    if (r != 0)
        rl__sched_actor_failed(id);
    else
        rl__sched_actor_pid(id, child);
    if (r == 0 && pid)
        *pid = child;
    rl__ic_leave();
    return r;
}

int posix_spawn(pid_t *pid, const char *path,
                const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *attr, char *const argv[],
                char *const envp[])
{
    RL__IC_REAL(posix_spawn);
    return spawn(real_posix_spawn, "posix_spawn", pid, path, fa, attr, argv,
                 envp);
}

int posix_spawnp(pid_t *pid, const char *file,
                 const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[],
                 char *const envp[])
{
    RL__IC_REAL(posix_spawnp);
    return spawn(real_posix_spawnp, "posix_spawnp", pid, file, fa, attr, argv,
                 envp);
}
