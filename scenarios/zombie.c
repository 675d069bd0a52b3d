/* zombie.c: a child that has ended stays in the process table as a zombie
 * until its parent reaps it. A parent that never joins its finished
 * children piles up zombies (and, long-running, exhausts the pid space).
 * The fix joins every child it starts. */
#include <stddef.h>

#include "catalogue.h"

/* Counts the zombies whose parent is this process, from /proc. Writes the
 * pid of one of them to *one. */
static int count_zombies(pid_t *one)
{
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid = atoi(e->d_name);
        if (pid <= 0)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        const char *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 &&
            state == 'Z' && ppid == getpid()) {
            n++;
            *one = pid;
        }
    }
    closedir(d);
    return n;
}

/* The state letter of pid in /proc (R, S, Z, ...), or 0 when it is gone. */
static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp ? rp[2] : 0;
}

static int work(void *arg)
{
    (void)arg;
    return 0;
}

static void run(int join)
{
    rl_sem *never = rl_sem_new(0, 0);
    rl_process *p = NULL;
    rl_check(rl_process_start(&p, work, NULL, NULL) == 0, "start");
    /* Wait until it has ended, without reaping it (rl_process_is_alive
     * would reap it, as a poll does in Python). Under the scheduler the
     * nap times out only once the child cannot run any more. */
    while (proc_state(rl_process_pid(p)) != 'Z')
        cat_nap(never);
    if (join) {
        rl_process_join(p, -1);
        rl_process_free(p);
    }
    pid_t z = 0;
    int n = count_zombies(&z);
    rl_check(n == 0,
             "%d zombie child left in /proc (pid %d): a finished "
             "child was never joined",
             n, (int)z);
}

RL_SCENARIO(zombie_unjoined, "zombie.unjoined",
            .summary = "a finished child is never joined: a zombie stays",
            .expect = RL_EXPECT_BUG, .expect_verdict = RL_FAIL)
{
    run(0);
}

RL_SCENARIO(zombie_joined, "zombie.joined", .summary = "every child is joined")
{
    run(1);
}
