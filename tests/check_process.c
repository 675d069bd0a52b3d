/* check_process.c: child processes of every start method, their exit
 * codes, signals, timeouts, names, daemons and the fork server. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "racelab.h"
#include "testutil.h"

static const rl_start_method methods[] = {RL_START_FORK, RL_START_SPAWN,
                                          RL_START_FORKSERVER};
static const char *const method_names[] = {"fork", "spawn", "forkserver"};

/* Shared state between a test and its children. */
typedef struct {
    uint32_t ready; /* set by the child once it runs */
    uint32_t go;    /* set by the parent to let it finish */
    int value;
    int code;
    int sig;
    int method;
    pid_t pid;
    pid_t ppid;
    int codes[100];
} shared;

static shared *new_shared(void)
{
    shared *s = rl_shared_alloc(sizeof *s);
    ck_assert_ptr_nonnull(s);
    return s;
}

static void set_word(uint32_t *w)
{
    __atomic_store_n(w, 1, __ATOMIC_RELEASE);
    rl__futex_wake(w, INT32_MAX);
}

static void wait_word(uint32_t *w)
{
    while (!__atomic_load_n(w, __ATOMIC_ACQUIRE))
        rl__futex_wait(w, 0, rl__deadline(1.0));
}

static rl_process_opts opts_for(int i)
{
    rl_process_opts o = {.method = methods[i]};
    return o;
}

/* Starts fn(arg) with method i and returns the handle. */
static rl_process *start(int i, rl_entry fn, void *arg)
{
    rl_process_opts o = opts_for(i);
    rl_process *p = NULL;
    int r = rl_process_start(&p, fn, arg, &o);
    ck_assert_msg(r == 0, "%s start: %s: %s", method_names[i], rl_strerror(r),
                  rl_last_error());
    return p;
}

/* Joins p, checks the exit code and frees the handle. */
static void join_expect(rl_process *p, int want)
{
    ck_assert_int_eq(rl_process_join(p, 60), 0);
    int code = 12345;
    ck_assert_int_eq(rl_process_exitcode(p, &code), 0);
    ck_assert_int_eq(code, want);
    ck_assert_int_eq(rl_process_free(p), 0);
}

/* ---- entry functions ---- */

static int return_code(void *arg)
{
    return ((shared *)arg)->code;
}

static int raise_signal(void *arg)
{
    int sig = ((shared *)arg)->sig;
    signal(sig, SIG_DFL);
    raise(sig);
    return 99;
}

static int gated(void *arg)
{
    shared *s = arg;
    set_word(&s->ready);
    wait_word(&s->go);
    return 5;
}

static int forever(void *arg)
{
    shared *s = arg;
    /* A forked child inherits the test runner's SIGTERM handler. */
    signal(SIGTERM, SIG_DFL);
    set_word(&s->ready);
    for (;;)
        pause();
    return 0;
}

static int write_shared(void *arg)
{
    shared *s = arg;
    s->value = 1000 + s->method;
    s->pid = getpid();
    s->ppid = getppid();
    return 0;
}

static int return_int(void *arg)
{
    return *(int *)arg;
}

static int nothing(void *arg)
{
    (void)arg;
    return 0;
}

/* ---- exit codes and signals ---- */

START_TEST(exit_codes)
{
    shared *s = new_shared();
    s->code = 0;
    rl_process *p = start(_i, return_code, s);
    ck_assert_int_gt(rl_process_pid(p), 0);
    ck_assert_ptr_nonnull(strstr(rl_process_name(p), "process-"));
    join_expect(p, 0);
    s->code = 3;
    join_expect(start(_i, return_code, s), 3);
    s->code = 255;
    join_expect(start(_i, return_code, s), 255);
    join_expect(start(_i, nothing, NULL), 0);
}
END_TEST

START_TEST(death_by_signal)
{
    shared *s = new_shared();
    s->sig = SIGKILL;
    join_expect(start(_i, raise_signal, s), -SIGKILL);
    s->sig = SIGSEGV;
    join_expect(start(_i, raise_signal, s), -SIGSEGV);
    s->sig = SIGABRT;
    join_expect(start(_i, raise_signal, s), -SIGABRT);
}
END_TEST

/* ---- join timeouts, is_alive, terminate, kill ---- */

START_TEST(join_timeout_leaves_it_running)
{
    shared *s = new_shared();
    rl_process *p = start(_i, gated, s);
    wait_word(&s->ready);
    ck_assert_int_eq(rl_process_join(p, 0), -ETIMEDOUT);
    double t0 = rl__now();
    ck_assert_int_eq(rl_process_join(p, 0.2), -ETIMEDOUT);
    ck_assert(rl__now() - t0 >= 0.19);
    ck_assert_int_eq(rl_process_is_alive(p), 1);
    int code;
    ck_assert_int_eq(rl_process_exitcode(p, &code), -EAGAIN);
    ck_assert_int_eq(rl_process_free(p), -EBUSY);
    ck_assert_int_eq(kill(rl_process_pid(p), 0), 0);
    set_word(&s->go);
    ck_assert_int_eq(rl_process_join(p, 60), 0);
    ck_assert_int_eq(rl_process_join(p, 0), 0);
    ck_assert_int_eq(rl_process_is_alive(p), 0);
    ck_assert_int_eq(rl_process_exitcode(p, &code), 0);
    ck_assert_int_eq(code, 5);
    ck_assert_int_eq(rl_process_free(p), 0);
}
END_TEST

/* A process that did not start p (here a plain forked helper) probes it:
 * an ended child that its parent has not reaped yet (a zombie) is not
 * alive. */
START_TEST(is_alive_from_another_process_sees_a_zombie_as_ended)
{
    rl_process *p = start(0, nothing, NULL);
    pid_t pid = rl_process_pid(p);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int w;
    do
        w = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
    while (w < 0 && errno == EINTR);
    ck_assert_int_eq(w, 0);
    fflush(NULL);
    pid_t helper = fork();
    ck_assert_int_ge(helper, 0);
    if (helper == 0)
        _exit(rl_process_is_alive(p) == 0 ? 0 : 1);
    int st;
    ck_assert_int_eq(waitpid(helper, &st, 0), helper);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "the helper saw the zombie alive");
    join_expect(p, 0);
}
END_TEST

START_TEST(is_alive_notices_the_end)
{
    shared *s = new_shared();
    rl_process *p = start(_i, gated, s);
    wait_word(&s->ready);
    ck_assert_int_eq(rl_process_is_alive(p), 1);
    set_word(&s->go);
    double deadline = rl__deadline(30 * rl_test_scale());
    while (rl_process_is_alive(p) && !rl__expired(deadline))
        rl_test_sleep(0.01);
    ck_assert_int_eq(rl_process_is_alive(p), 0);
    join_expect(p, 5);
}
END_TEST

START_TEST(terminate_and_kill)
{
    shared *s = new_shared();
    rl_process *p = start(_i, forever, s);
    wait_word(&s->ready);
    ck_assert_int_eq(rl_process_terminate(p), 0);
    join_expect(p, -SIGTERM);
    s->ready = 0;
    p = start(_i, forever, s);
    wait_word(&s->ready);
    ck_assert_int_eq(rl_process_kill(p), 0);
    ck_assert_int_eq(rl_process_join(p, 60), 0);
    /* Signalling a process that ended is not an error. */
    ck_assert_int_eq(rl_process_terminate(p), 0);
    ck_assert_int_eq(rl_process_kill(p), 0);
    int code;
    ck_assert_int_eq(rl_process_exitcode(p, &code), 0);
    ck_assert_int_eq(code, -SIGKILL);
    ck_assert_int_eq(rl_process_free(p), 0);
}
END_TEST

/* ---- names ---- */

static void read_comm(pid_t pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(buf, (int)cap, f));
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

START_TEST(names_show_in_comm)
{
    shared *s = new_shared();
    rl_process_opts o = {.method = methods[_i], .name = "worker7"};
    rl_process *p;
    ck_assert_int_eq(rl_process_start(&p, gated, s, &o), 0);
    ck_assert_str_eq(rl_process_name(p), "worker7");
    wait_word(&s->ready);
    char comm[32];
    read_comm(rl_process_pid(p), comm, sizeof comm);
    ck_assert_str_eq(comm, "worker7");
    set_word(&s->go);
    join_expect(p, 5);

    /* Without a name a child shows its parent's program name, never
     * "exe". */
    char mine[17] = {0};
    prctl(PR_GET_NAME, (unsigned long)mine, 0, 0, 0);
    s->ready = s->go = 0;
    p = start(_i, gated, s);
    wait_word(&s->ready);
    read_comm(rl_process_pid(p), comm, sizeof comm);
    ck_assert_str_eq(comm, mine);
    rl_process *q = start(_i, nothing, NULL);
    ck_assert_str_ne(rl_process_name(p), rl_process_name(q));
    join_expect(q, 0);
    set_word(&s->go);
    join_expect(p, 5);
}
END_TEST

/* ---- shared memory and arg checks ---- */

START_TEST(child_writes_shared_memory)
{
    shared *s = new_shared();
    s->method = _i;
    rl_process *p = start(_i, write_shared, s);
    pid_t pid = rl_process_pid(p);
    join_expect(p, 0);
    ck_assert_int_eq(s->value, 1000 + _i);
    ck_assert_int_eq(s->pid, pid);
}
END_TEST

START_TEST(private_arg_is_refused)
{
    static shared priv; /* a global: private to each process */
    rl_process *p = NULL;
    for (int i = 1; i < 3; i++) {
        rl_process_opts o = opts_for(i);
        ck_assert_int_eq(rl_process_start(&p, write_shared, &priv, &o),
                         -EINVAL);
        ck_assert_ptr_null(p);
        ck_assert_ptr_nonnull(strstr(rl_last_error(), "rl_shared_alloc"));
        ck_assert_ptr_nonnull(strstr(rl_last_error(), "NULL"));
        ck_assert_int_eq(rl_process_new(&p, write_shared, &priv, &o), -EINVAL);
        ck_assert_ptr_null(p);
    }
    /* A forked child has a copy: allowed, and the parent's copy stays. */
    priv.method = 0;
    join_expect(start(0, write_shared, &priv), 0);
    ck_assert_int_eq(priv.value, 0);
}
END_TEST

START_TEST(entry_outside_any_object_is_refused)
{
    void *heap = malloc(64);
    rl_process_opts o = {.method = RL_START_SPAWN};
    rl_process *p = NULL;
    ck_assert_int_eq(rl_process_start(&p, (rl_entry)(uintptr_t)heap, NULL, &o),
                     -EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "no loaded object"));
    free(heap);
}
END_TEST

/* ---- daemons ---- */

/* Waits for every child of this process (orphans come here: the test is a
 * subreaper) and returns the wait status of pid, or -1 when it was not
 * among them. */
static int reap_all(pid_t pid)
{
    int found = -1, st;
    pid_t w;
    while ((w = waitpid(-1, &st, 0)) > 0 || errno == EINTR)
        if (w == pid)
            found = st;
    return found;
}

START_TEST(daemon_ends_with_its_parent)
{
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    shared *s = new_shared();
    pid_t mid = fork();
    ck_assert_int_ge(mid, 0);
    if (mid == 0) {
        rl_process_opts o = {.method = methods[_i], .daemon = 1};
        rl_process *p;
        if (rl_process_start(&p, forever, s, &o) != 0)
            _exit(1);
        wait_word(&s->ready);
        s->pid = rl_process_pid(p);
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(mid, &st, 0), mid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    pid_t d = s->pid;
    ck_assert_int_gt(d, 0);
    int dst = reap_all(d);
    ck_assert_int_eq(kill(d, 0), -1);
    if (methods[_i] != RL_START_FORKSERVER) {
        /* Its own parent died: it came to this subreaper. */
        ck_assert_int_ne(dst, -1);
        ck_assert(WIFSIGNALED(dst) && WTERMSIG(dst) == SIGTERM);
    }
}
END_TEST

static int start_grandchild(void *arg)
{
    shared *s = arg;
    rl_process *p = NULL;
    s->value = rl_process_start(&p, nothing, NULL, NULL);
    s->code = strstr(rl_last_error(), "daemon") != NULL;
    if (s->value == 0) {
        /* Allowed: leave no orphan behind. */
        int joined = rl_process_join(p, 60) == 0;
        rl_process_free(p);
        return joined ? 2 : 3;
    }
    return s->value == -EPERM && !p ? 0 : 1;
}

START_TEST(daemon_may_not_start_children)
{
    shared *s = new_shared();
    rl_process_opts o = {.method = methods[_i], .daemon = 1};
    rl_process *p;
    ck_assert_int_eq(rl_process_start(&p, start_grandchild, s, &o), 0);
    join_expect(p, 0);
    ck_assert_int_eq(s->value, -EPERM);
    ck_assert_int_eq(s->code, 1);
    /* A non-daemon child may. */
    s->value = 1;
    p = start(_i, start_grandchild, s);
    join_expect(p, 2);
    ck_assert_int_eq(s->value, 0);
}
END_TEST

/* ---- many children, zombies, descriptors ---- */

START_TEST(hundred_children_no_zombie)
{
    enum { N = 100 };
    rl_process *ps[N];
    shared *s = new_shared();
    for (int k = 0; k < N; k++) {
        s->codes[k] = k;
        ps[k] = start(_i, return_int, &s->codes[k]);
    }
    /* Joined in reverse order: most have ended long before. */
    for (int k = N - 1; k >= 0; k--)
        join_expect(ps[k], k);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

START_TEST(no_fd_leak)
{
    shared *s = new_shared();
    s->code = 1;
    /* The first start makes the arena (and the fork server). */
    join_expect(start(_i, return_code, s), 1);
    int before = rl_test_fd_count();
    for (int k = 0; k < 30; k++) {
        rl_process *p = start(_i, return_code, s);
        if (k % 3 == 0)
            ck_assert_int_eq(rl_process_is_alive(p) >= 0, 1);
        join_expect(p, 1);
    }
    /* A handle freed without ever launching holds nothing either. */
    rl_process *p;
    rl_process_opts o = opts_for(_i);
    ck_assert_int_eq(rl_process_new(&p, nothing, NULL, &o), 0);
    ck_assert_int_eq(rl_process_free(p), 0);
    ck_assert_int_eq(rl_test_fd_count(), before);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

/* ---- EINTR ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int sleep_then_nine(void *arg)
{
    (void)arg;
    rl_test_sleep(0.5);
    return 9;
}

START_TEST(join_survives_signals)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm; /* no SA_RESTART: syscalls see EINTR */
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {{0, 20000}, {0, 20000}};
    alarms = 0;
    ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);

    rl_process *p = start(_i, sleep_then_nine, NULL);
    int before = alarms;
    ck_assert_int_eq(rl_process_join(p, -1), 0);
    ck_assert_int_gt(alarms, before);
    int code;
    ck_assert_int_eq(rl_process_exitcode(p, &code), 0);
    ck_assert_int_eq(code, 9);
    rl_process_free(p);

    shared *s = new_shared();
    p = start(_i, gated, s);
    double t0 = rl__now();
    before = alarms;
    ck_assert_int_eq(rl_process_join(p, 0.4), -ETIMEDOUT);
    ck_assert(rl__now() - t0 >= 0.39);
    ck_assert_int_gt(alarms, before);
    set_word(&s->go);
    ck_assert_int_eq(rl_process_join(p, 60), 0);

    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    ck_assert_int_eq(rl_process_exitcode(p, &code), 0);
    ck_assert_int_eq(code, 5);
    rl_process_free(p);
}
END_TEST

/* ---- the fork server ---- */

static int is_my_server(const rl_test_proc *p, void *ctx)
{
    (void)ctx;
    return p->ppid == getpid() && p->state != 'Z' &&
           strcmp(p->comm, "rl-forkserver") == 0;
}

/* The pid of this process's child named rl-forkserver, or 0. */
static pid_t find_server(void)
{
    pid_t found = 0;
    rl_test_procs(is_my_server, NULL, &found);
    return found;
}

/* Waits until pid is a zombie or gone. */
static void wait_dead(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    for (;;) {
        FILE *f = fopen(path, "re");
        if (!f)
            return;
        char buf[512];
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *rp = strrchr(buf, ')');
        if (!rp || rp[2] == 'Z' || rp[2] == 'X')
            return;
        rl_test_sleep(0.005);
    }
}

START_TEST(forkserver_restarts_after_death)
{
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    shared *s = new_shared();
    s->code = 2;
    join_expect(start(2, return_code, s), 2);
    pid_t server = find_server();
    ck_assert_int_gt(server, 0);
    char comm[32];
    read_comm(server, comm, sizeof comm);
    ck_assert_str_eq(comm, "rl-forkserver");

    rl_process *lost = start(2, gated, s);
    wait_word(&s->ready);
    pid_t lost_pid = rl_process_pid(lost);
    ck_assert_int_eq(kill(server, SIGKILL), 0);
    wait_dead(server);
    ck_assert_int_eq(rl_process_join(lost, 10), -ECHILD);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "fork server"));
    int code;
    ck_assert_int_eq(rl_process_exitcode(lost, &code), -ECHILD);
    ck_assert_int_eq(rl_process_is_alive(lost), 1);
    /* Its orphan came to this subreaper: let it end and reap it here. */
    set_word(&s->go);
    int st;
    ck_assert_int_eq(waitpid(lost_pid, &st, 0), lost_pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 5);
    ck_assert_int_eq(rl_process_is_alive(lost), 0);
    ck_assert_int_eq(rl_process_free(lost), 0);

    s->code = 4;
    join_expect(start(2, return_code, s), 4);
    pid_t again = find_server();
    ck_assert_int_gt(again, 0);
    ck_assert_int_ne(again, server);
    ck_assert_int_eq(rl_test_zombie_children(), 0);

    /* Killed while idle, it is noticed at the next start too. */
    ck_assert_int_eq(kill(again, SIGKILL), 0);
    wait_dead(again);
    join_expect(start(2, return_code, s), 4);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

static int fork_a_forkserver_child(void *arg)
{
    shared *s = arg;
    rl_process_opts o = {.method = RL_START_FORKSERVER};
    rl_process *p;
    if (rl_process_start(&p, write_shared, s, &o) != 0)
        return 1;
    if (rl_process_join(p, 60) != 0)
        return 2;
    int code = -1;
    rl_process_exitcode(p, &code);
    rl_process_free(p);
    return code == 0 ? 0 : 3;
}

START_TEST(forked_child_uses_its_own_server)
{
    shared *s = new_shared();
    s->code = 0;
    join_expect(start(2, return_code, s), 0);
    pid_t server = find_server();
    /* A forked child must not talk to its parent's server. */
    rl_process *p = start(0, fork_a_forkserver_child, s);
    join_expect(p, 0);
    ck_assert_int_eq(s->value, 1000);
    ck_assert_int_gt(s->ppid, 1);
    ck_assert_int_ne(s->ppid, server);
    ck_assert_int_eq(find_server(), server);
    join_expect(start(2, return_code, s), 0);
}
END_TEST

/* ---- misuse ---- */

START_TEST(misuse_gives_defined_errors)
{
    ck_assert_int_eq(rl_process_join(NULL, 0), -EINVAL);
    ck_assert_int_eq(rl_process_launch(NULL), -EINVAL);
    ck_assert_int_eq(rl_process_terminate(NULL), -EINVAL);
    ck_assert_int_eq(rl_process_kill(NULL), -EINVAL);
    ck_assert_int_eq(rl_process_is_alive(NULL), 0);
    ck_assert_int_eq(rl_process_pid(NULL), 0);
    ck_assert_str_eq(rl_process_name(NULL), "");
    ck_assert_int_eq(rl_process_free(NULL), 0);
    int code;
    ck_assert_int_eq(rl_process_exitcode(NULL, &code), -EINVAL);

    rl_process *p = NULL;
    ck_assert_int_eq(rl_process_new(NULL, nothing, NULL, NULL), -EINVAL);
    ck_assert_int_eq(rl_process_new(&p, NULL, NULL, NULL), -EINVAL);
    /* No child is started (and left behind) for a NULL handle pointer. */
    ck_assert_int_eq(rl_process_start(NULL, nothing, NULL, NULL), -EINVAL);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
    rl_process_opts bad = {.method = (rl_start_method)7};
    ck_assert_int_eq(rl_process_new(&p, nothing, NULL, &bad), -EINVAL);
    ck_assert_ptr_null(p);

    shared *s = new_shared();
    rl_process_opts o = opts_for(_i);
    ck_assert_int_eq(rl_process_new(&p, gated, s, &o), 0);
    ck_assert_int_eq(rl_process_join(p, 0), -EINVAL);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "never started"));
    ck_assert_int_eq(rl_process_terminate(p), -EINVAL);
    ck_assert_int_eq(rl_process_exitcode(p, &code), -EINVAL);
    ck_assert_int_eq(rl_process_is_alive(p), 0);
    ck_assert_int_eq(rl_process_pid(p), 0);
    ck_assert_int_eq(rl_process_launch(p), 0);
    ck_assert_int_eq(rl_process_launch(p), -EINVAL);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "already"));
    ck_assert_int_eq(rl_process_free(p), -EBUSY);
    set_word(&s->go);
    ck_assert_int_eq(rl_process_join(p, 60), 0);
    ck_assert_int_eq(rl_process_launch(p), -EINVAL);
    ck_assert_int_eq(rl_process_free(p), 0);
}
END_TEST

/* ---- stdio ---- */

static int print_b(void *arg)
{
    (void)arg;
    printf("B\n");
    return 0;
}

START_TEST(stdout_is_flushed_before_start)
{
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    fflush(NULL);
    pid_t helper = fork();
    ck_assert_int_ge(helper, 0);
    if (helper == 0) {
        close(pfd[0]);
        dup2(pfd[1], 1);
        close(pfd[1]);
        setvbuf(stdout, NULL, _IOFBF, 4096);
        printf("A\n");
        rl_process_opts o = opts_for(_i);
        rl_process *p;
        if (rl_process_start(&p, print_b, NULL, &o) != 0 ||
            rl_process_join(p, 60) != 0)
            _exit(1);
        printf("C\n");
        exit(0);
    }
    close(pfd[1]);
    char buf[256];
    size_t have = 0;
    ssize_t n;
    while ((n = read(pfd[0], buf + have, sizeof buf - 1 - have)) > 0 ||
           (n < 0 && errno == EINTR))
        if (n > 0)
            have += (size_t)n;
    close(pfd[0]);
    buf[have] = '\0';
    int st;
    ck_assert_int_eq(waitpid(helper, &st, 0), helper);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_str_eq(buf, "A\nB\nC\n");
}
END_TEST

/* ---- connections handed to children ---- */

static int send_hello(void *arg)
{
    rl_conn *c = arg;
    return rl_conn_send(c, "hello", 5) == 0 ? 0 : 1;
}

START_TEST(connection_end_reaches_child)
{
    rl_conn *a, *b;
    ck_assert_int_eq(rl_pipe(&a, &b, 0), 0);
    rl_process *p = start(_i, send_hello, b);
    char buf[16];
    ck_assert_int_eq(rl_conn_recv(a, buf, sizeof buf, 60), 5);
    ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
    join_expect(p, 0);
    /* The child's copy is gone with it: after closing ours, EOF. */
    ck_assert_int_eq(rl_conn_close(b), 0);
    ck_assert_int_eq(rl_conn_recv(a, buf, sizeof buf, 60), RL_EOF);
    ck_assert_int_eq(rl_conn_close(a), 0);
}
END_TEST

static Suite *process_suite(void)
{
    Suite *s = suite_create("process");
    TCase *tc = rl_test_tcase("exit", 30);
    tcase_add_loop_test(tc, exit_codes, 0, 3);
    tcase_add_loop_test(tc, death_by_signal, 0, 3);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("join", 30);
    tcase_add_loop_test(tc, join_timeout_leaves_it_running, 0, 3);
    tcase_add_loop_test(tc, is_alive_notices_the_end, 0, 3);
    tcase_add_test(tc, is_alive_from_another_process_sees_a_zombie_as_ended);
    tcase_add_loop_test(tc, terminate_and_kill, 0, 3);
    tcase_add_loop_test(tc, join_survives_signals, 0, 3);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("names", 30);
    tcase_add_loop_test(tc, names_show_in_comm, 0, 3);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("shared", 30);
    tcase_add_loop_test(tc, child_writes_shared_memory, 0, 3);
    tcase_add_test(tc, private_arg_is_refused);
    tcase_add_test(tc, entry_outside_any_object_is_refused);
    tcase_add_loop_test(tc, connection_end_reaches_child, 0, 3);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("daemon", 30);
    tcase_add_loop_test(tc, daemon_ends_with_its_parent, 0, 3);
    tcase_add_loop_test(tc, daemon_may_not_start_children, 0, 3);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("resources", 90);
    tcase_add_loop_test(tc, hundred_children_no_zombie, 0, 3);
    tcase_add_loop_test(tc, no_fd_leak, 0, 3);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("forkserver", 30);
    tcase_add_test(tc, forkserver_restarts_after_death);
    tcase_add_test(tc, forked_child_uses_its_own_server);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("misuse", 30);
    tcase_add_loop_test(tc, misuse_gives_defined_errors, 0, 3);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("stdio", 30);
    tcase_add_loop_test(tc, stdout_is_flushed_before_start, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(process_suite());
}
