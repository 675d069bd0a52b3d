/* lock_owner_death.c: a process dies while it holds a lock, in the middle
 * of an update. With an ordinary process-shared mutex nobody can ever take
 * the lock again: the next acquirer waits forever. The fix is a robust
 * lock (rl_lock): the next acquire returns -EOWNERDEAD with the lock held,
 * and the caller repairs the half-done update before releasing it. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include "catalogue.h"

typedef struct {
    pthread_mutex_t plain; /* process-shared, not robust */
    rl_lock *robust;
    long debit, credit; /* invariant: debit == credit */
    rl_event *holding;  /* the victim holds the lock, mid-update */
    rl_event *never;
} account;

/* Takes the plain mutex, does half a transfer and waits to be killed. */
static int victim_plain(void *arg)
{
    account *a = arg;
    pthread_mutex_lock(&a->plain);
    a->debit += 10;
    rl_event_set(a->holding);
    rl_event_wait(a->never, -1);
    return 0;
}

static int victim_robust(void *arg)
{
    account *a = arg;
    rl_lock_acquire(a->robust, -1);
    RL_STORE(a->debit, a->debit + 10);
    rl_event_set(a->holding);
    rl_event_wait(a->never, -1);
    return 0;
}

static account *setup(void)
{
    account *a = rl_shared_alloc(sizeof *a);
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&a->plain, &at);
    pthread_mutexattr_destroy(&at);
    a->robust = rl_lock_new();
    a->holding = rl_event_new();
    a->never = rl_event_new();
    return a;
}

static void kill_victim(account *a, rl_entry fn)
{
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, fn, a, NULL) == 0, "start");
    rl_event_wait(a->holding, -1);
    rl_process_kill(p);
    rl_process_join(p, -1);
    rl_process_free(p);
}

RL_SCENARIO(lock_owner_death_plain, "lock_owner_death.plain",
            .summary = "the holder of a plain shared mutex is killed: the "
                       "next acquirer waits forever",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_TIMEOUT, .timeout = 2)
{
    account *a = setup();
    kill_victim(a, victim_plain);
    /* Blocks in the kernel for good: nobody will ever unlock it. */
    pthread_mutex_lock(&a->plain);
    rl_check_eq(a->debit, a->credit, "debit - credit");
    pthread_mutex_unlock(&a->plain);
}

RL_SCENARIO(lock_owner_death_robust, "lock_owner_death.robust",
            .summary = "a robust lock: -EOWNERDEAD, the update is repaired")
{
    account *a = setup();
    kill_victim(a, victim_robust);
    int r = rl_lock_acquire(a->robust, -1);
    if (r == -EOWNERDEAD) {
        /* We hold the lock; the dead holder left a half-done transfer.
         * Roll it back to restore the invariant. */
        RL_STORE(a->debit, a->credit);
    } else {
        rl_check(r == 0, "acquire: %s", rl_strerror(r));
    }
    rl_check_eq(RL_LOAD(a->debit), a->credit, "debit after recovery");
    rl_lock_release(a->robust);
}
