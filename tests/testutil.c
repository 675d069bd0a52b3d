/* testutil.c: helpers shared by the Check suites. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

double rl_test_scale(void)
{
    const char *s = getenv("CK_TIMEOUT_MULTIPLIER");
    double v = s ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

TCase *rl_test_tcase(const char *name, double seconds)
{
    TCase *tc = tcase_create(name);
    /* Check multiplies by CK_TIMEOUT_MULTIPLIER itself. */
    tcase_set_timeout(tc, seconds);
    return tc;
}

int rl_test_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int rl_test_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

int rl_test_procs(int (*match)(const rl_test_proc *p, void *ctx), void *ctx,
                  pid_t *first)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
        rl_test_proc p = {.pid = (pid_t)atoi(e->d_name)};
        int ppid, pgrp;
        if (!lp || !rp ||
            sscanf(rp + 1, " %c %d %d", &p.state, &ppid, &pgrp) != 3)
            continue;
        p.ppid = ppid;
        p.pgrp = pgrp;
        snprintf(p.comm, sizeof p.comm, "%.*s", (int)(rp - lp - 1), lp + 1);
        if (match(&p, ctx)) {
            if (n == 0 && first)
                *first = p.pid;
            n++;
        }
    }
    closedir(d);
    return n;
}

static int zombie_child(const rl_test_proc *p, void *ctx)
{
    (void)ctx;
    return p->state == 'Z' && p->ppid == getpid();
}

int rl_test_zombie_children(void)
{
    return rl_test_procs(zombie_child, NULL, NULL);
}

void rl_test_sleep(double seconds)
{
    struct timespec ts = {(time_t)seconds,
                          (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

double rl_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int rl_test_alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}
