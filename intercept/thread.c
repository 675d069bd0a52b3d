/* thread.c: the threads of a command under the scheduler. A thread an
 * actor makes with pthread_create is an actor of its own: it runs only
 * with the token, its start and end are steps, pthread_join waits for it
 * in the scheduler, and it ends with its process. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intercept.h"

/* The live actors among this process's threads, and the threads it made
 * (for their names). Only the token holder changes them. */
static int live = 1;
static int made;

/* The threads this process made that are actors, by handle: what
 * pthread_join and pthread_setname_np look up. */
#define KNOWN 1024
static struct {
    pthread_t th;
    int id;
} known[KNOWN];
static int nknown;

int rl__ic_threads(void)
{
    return live;
}

void rl__ic_threads_forked(void)
{
    live = 1;
    made = 0;
    nknown = 0;
}

/* The actor id of thread th, -1 when it is none this process knows. */
static int known_id(pthread_t th)
{
    if (pthread_equal(th, pthread_self()))
        return rl__sched_self();
    for (int i = 0; i < nknown; i++)
        if (pthread_equal(known[i].th, th))
            return known[i].id;
    return -1;
}

static void forget(pthread_t th)
{
    for (int i = 0; i < nknown; i++)
        if (pthread_equal(known[i].th, th)) {
            known[i] = known[--nknown];
            return;
        }
}

/* The end of the calling thread, when it is an actor that is a thread:
 * its exit step; the thread is no actor afterwards. */
static void thread_end(void)
{
    if (!rl__ic_on())
        return;
    rl__ic_enter();
    rl__sched *s = rl__sched_get();
    if (s->actors[rl__sched_self()].thread) {
        live--;
        rl__publish(&rl__ic->exits);
        rl__sched_thread_exit();
    }
    rl__ic_leave();
}

typedef struct {
    void *(*fn)(void *);
    void *arg;
    int id;
} start_rec;

/* A new thread that is actor rec->id: waits for the token, runs the
 * program's function, makes its exit step. */
static void *thread_start(void *p)
{
    start_rec rec = *(start_rec *)p;
    free(p);
    rl__sched_thread_enter(rec.id);
    void *ret = rec.fn(rec.arg);
    thread_end();
    return ret;
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr,
                   void *(*fn)(void *), void *arg)
{
    RL__IC_REAL(pthread_create);
    if (!rl__ic_on())
        return real_pthread_create(th, attr, fn, arg);
    rl__ic_enter();
    rl__sched *s = rl__sched_get();
    rl__point_key(RL_OP_START, NULL, NULL, -1, "pthread_create");
    char name[32];
    snprintf(name, sizeof name, "%s thread %d", program_invocation_short_name,
             made + 1);
    int err;
    int id = rl__sched_actor_new(name, RL_START_FORK, &err);
    start_rec *rec = id >= 0 ? malloc(sizeof *rec) : NULL;
    if (!rec) {
        int me = rl__sched_self();
        rl__sched_verdict(RL_ERROR,
                          "an execution holds at most %d actors; the thread "
                          "actor %d (%s) makes is one too many",
                          RL__MAX_ACTORS, me, s->actors[me].name);
        rl__sched_halt();
    }
    rl__sched_actor_thread(id);
    *rec = (start_rec){fn, arg, id};
    made++;
    live++;
    int r = real_pthread_create(th, attr, thread_start, rec);
    if (r != 0) {
        live--;
        free(rec);
        rl__sched_actor_failed(id);
    } else if (nknown < KNOWN) {
        known[nknown].th = *th;
        known[nknown++].id = id;
    }
    rl__ic_leave();
    return r;
}

/* The wait reason handed to rl__block (see pipe.c). */
static char reason[RL__REASON_LEN];

int pthread_join(pthread_t th, void **ret)
{
    RL__IC_REAL(pthread_join);
    int id = rl__ic_on() ? known_id(th) : -1;
    if (id < 0 || id == rl__sched_self())
        return real_pthread_join(th, ret);
    rl__ic_enter();
    rl__sched *s = rl__sched_get();
    rl__point_key(RL_OP_JOIN, NULL, NULL, id + 1, "pthread_join");
    for (;;) {
        uint32_t seen = __atomic_load_n(&rl__ic->exits, __ATOMIC_ACQUIRE);
        if (s->actors[id].state == RL__ACTOR_FINISHED)
            break;
        snprintf(reason, sizeof reason,
                 "pthread_join: waiting for actor %d (%s) to end", id,
                 s->actors[id].name);
        rl__block(&rl__ic->exits, &rl__ic->exits, seen, -1, reason);
    }
    forget(th);
    /* Past its exit step the thread ends without the token. */
    int r = real_pthread_join(th, ret);
    rl__ic_leave();
    return r;
}

void pthread_exit(void *ret)
{
    RL__IC_REAL(pthread_exit);
    thread_end();
    real_pthread_exit(ret);
    __builtin_unreachable();
}

int pthread_setname_np(pthread_t th, const char *name)
{
    RL__IC_REAL(pthread_setname_np);
    int id = rl__ic_on() ? known_id(th) : -1;
    rl__sched *s = rl__sched_get();
    if (id >= 0 && s->actors[id].thread)
        rl__copy_str(s->actors[id].name, sizeof s->actors[id].name, name);
    return real_pthread_setname_np(th, name);
}
