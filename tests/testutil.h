/* testutil.h: helpers shared by the Check suites. */
#ifndef RL_TESTUTIL_H
#define RL_TESTUTIL_H

#include <check.h>
#include <sys/types.h>

/* Every timeout in the tests scales with CK_TIMEOUT_MULTIPLIER (the variable
 * Check itself reads for its per-test timeouts), so a slow or loaded
 * machine can stretch them all at once. */
double rl_test_scale(void);

/* A test case with a timeout of seconds * the scale. */
TCase *rl_test_tcase(const char *name, double seconds);

/* Runs the suite in Check's fork mode and returns the exit status for main:
 * 0 when every test passed. */
int rl_test_main(Suite *s);

/* The number of open descriptors of this process. */
int rl_test_fd_count(void);

/* One process as /proc/PID/stat shows it. */
typedef struct {
    pid_t pid, ppid, pgrp;
    char state; /* 'R', 'S', 'Z', ... */
    char comm[32];
} rl_test_proc;

/* Calls match for every process; returns how many it accepted (returned
 * non-zero for). The first accepted pid goes to *first when not NULL. */
int rl_test_procs(int (*match)(const rl_test_proc *p, void *ctx), void *ctx,
                  pid_t *first);

/* The number of zombie children of this process. */
int rl_test_zombie_children(void);

/* The monotonic clock in seconds. */
double rl_test_now(void);

/* 1 while pid names a live process (not a zombie). */
int rl_test_alive(pid_t pid);

/* Sleeps for seconds (not scaled). */
void rl_test_sleep(double seconds);

#endif
