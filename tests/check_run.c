/* check_run.c: rl_run, running a program and capturing its output. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "racelab.h"
#include "testutil.h"

START_TEST(captures_stdout_and_stderr)
{
    const char *argv[] = {"sh", "-c", "printf out; printf err >&2; exit 3",
                          NULL};
    rl_run_result r;
    ck_assert_int_eq(rl_run(argv, NULL, &r), 0);
    ck_assert_int_eq(r.exit_code, 3);
    ck_assert_str_eq(r.out, "out");
    ck_assert_uint_eq(r.out_len, 3);
    ck_assert_str_eq(r.err, "err");
    ck_assert_uint_eq(r.err_len, 3);
    rl_run_result_free(&r);
    ck_assert_ptr_null(r.out);
    ck_assert_ptr_null(r.err);
    ck_assert_uint_eq(r.out_len, 0);
}
END_TEST

START_TEST(empty_output_is_empty_string)
{
    const char *argv[] = {"true", NULL};
    rl_run_result r;
    ck_assert_int_eq(rl_run(argv, NULL, &r), 0);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(r.out);
    ck_assert_str_eq(r.out, "");
    ck_assert_str_eq(r.err, "");
    rl_run_result_free(&r);
}
END_TEST

START_TEST(large_output_on_both_streams)
{
    /* 10 MiB on each stream at once: a reader that drains one stream
     * before the other would deadlock on the full pipe. */
    const char *argv[] = {"sh", "-c",
                          "head -c 10485760 /dev/zero | tr '\\0' a >&2 & "
                          "head -c 10485760 /dev/zero | tr '\\0' b; wait",
                          NULL};
    rl_run_opts o = {.timeout = 60};
    rl_run_result r;
    ck_assert_int_eq(rl_run(argv, &o, &r), 0);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_uint_eq(r.out_len, 10485760);
    ck_assert_uint_eq(r.err_len, 10485760);
    ck_assert_int_eq(r.out[0], 'b');
    ck_assert_int_eq(r.out[r.out_len - 1], 'b');
    ck_assert_int_eq(r.out[r.out_len], '\0');
    ck_assert_int_eq(r.err[r.err_len - 1], 'a');
    ck_assert_ptr_null(memchr(r.out, 'a', r.out_len));
    rl_run_result_free(&r);
}
END_TEST

START_TEST(input_reaches_stdin)
{
    const char *argv[] = {"cat", NULL};
    rl_run_opts o = {.input = "hello\nworld\n", .input_len = 12};
    rl_run_result r;
    ck_assert_int_eq(rl_run(argv, &o, &r), 0);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(r.out, "hello\nworld\n");
    rl_run_result_free(&r);
}
END_TEST

START_TEST(large_input_and_output_together)
{
    /* cat echoes while we still write: input and output must flow
     * concurrently or both pipes fill up. */
    size_t n = 4 << 20;
    char *in = malloc(n);
    for (size_t i = 0; i < n; i++)
        in[i] = (char)('a' + i % 26);
    const char *argv[] = {"cat", NULL};
    rl_run_opts o = {.input = in, .input_len = n, .timeout = 60};
    rl_run_result r;
    ck_assert_int_eq(rl_run(argv, &o, &r), 0);
    ck_assert_uint_eq(r.out_len, n);
    ck_assert_int_eq(memcmp(r.out, in, n), 0);
    rl_run_result_free(&r);
    free(in);
}
END_TEST

START_TEST(unread_input_neither_hangs_nor_kills)
{
    size_t n = 1 << 20; /* far more than a pipe buffer */
    char *in = calloc(1, n);
    const char *argv[] = {"true", NULL};
    rl_run_opts o = {.input = in, .input_len = n, .timeout = 20};
    rl_run_result r;
    double t0 = rl_test_now();
    ck_assert_int_eq(rl_run(argv, &o, &r), 0);
    ck_assert_double_lt(rl_test_now() - t0, 10);
    ck_assert_int_eq(r.exit_code, 0);
    rl_run_result_free(&r);
    /* No SIGPIPE was left pending or delivered: we are still here, and
     * a second run works the same. */
    sigset_t pending;
    sigpending(&pending);
    ck_assert(!sigismember(&pending, SIGPIPE));
    ck_assert_int_eq(rl_run(argv, &o, &r), 0);
    rl_run_result_free(&r);
    free(in);
}
END_TEST

START_TEST(no_input_means_empty_stdin)
{
    const char *argv[] = {"sh", "-c", "cat; echo done", NULL};
    rl_run_result r;
    ck_assert_int_eq(rl_run(argv, NULL, &r), 0);
    ck_assert_str_eq(r.out, "done\n");
    rl_run_result_free(&r);
}
END_TEST

START_TEST(timeout_kills_the_group)
{
    const char *argv[] = {"sh", "-c", "sleep 30 & echo $!; sleep 30", NULL};
    rl_run_opts o = {.timeout = 0.5};
    rl_run_result r;
    double t0 = rl_test_now();
    ck_assert_int_eq(rl_run(argv, &o, &r), -ETIMEDOUT);
    double took = rl_test_now() - t0;
    ck_assert_double_ge(took, 0.45);
    ck_assert_double_lt(took, 10);
    ck_assert_int_eq(r.exit_code, -SIGKILL);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "killed"));
    /* What it printed before the timeout is kept. */
    pid_t grandchild = (pid_t)atoi(r.out);
    ck_assert_int_gt(grandchild, 0);
    /* The grandchild was in the group: it goes too (its new parent may
     * take a moment to reap it, so a zombie counts as gone). */
    double until = rl_test_now() + 10;
    while (rl_test_alive(grandchild) && rl_test_now() < until)
        rl_test_sleep(0.01);
    ck_assert(!rl_test_alive(grandchild));
    ck_assert_int_eq(rl_test_zombie_children(), 0);
    rl_run_result_free(&r);
}
END_TEST

START_TEST(timeout_after_closing_output)
{
    /* It closes its output but keeps running: the wait for its exit is
     * bounded by the timeout too. */
    const char *argv[] = {"sh", "-c", "exec >&- 2>&-; sleep 30", NULL};
    rl_run_opts o = {.timeout = 0.5};
    rl_run_result r;
    double t0 = rl_test_now();
    ck_assert_int_eq(rl_run(argv, &o, &r), -ETIMEDOUT);
    ck_assert_double_lt(rl_test_now() - t0, 10);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
    rl_run_result_free(&r);
}
END_TEST

START_TEST(fast_program_under_timeout)
{
    const char *argv[] = {"echo", "hi", NULL};
    rl_run_opts o = {.timeout = 30};
    rl_run_result r;
    ck_assert_int_eq(rl_run(argv, &o, &r), 0);
    ck_assert_str_eq(r.out, "hi\n");
    rl_run_result_free(&r);
}
END_TEST

START_TEST(exit_codes_and_signals)
{
    const char *a1[] = {"sh", "-c", "exit 42", NULL};
    const char *a2[] = {"sh", "-c", "kill -TERM $$", NULL};
    const char *a3[] = {"false", NULL};
    rl_run_result r;
    ck_assert_int_eq(rl_run(a1, NULL, &r), 0);
    ck_assert_int_eq(r.exit_code, 42);
    rl_run_result_free(&r);
    ck_assert_int_eq(rl_run(a2, NULL, &r), 0);
    ck_assert_int_eq(r.exit_code, -SIGTERM);
    rl_run_result_free(&r);
    ck_assert_int_eq(rl_run(a3, NULL, &r), 0);
    ck_assert_int_eq(r.exit_code, 1);
    rl_run_result_free(&r);
}
END_TEST

START_TEST(missing_program_is_enoent)
{
    const char *a1[] = {"racelab-no-such-program", NULL};
    const char *a2[] = {"/nonexistent/dir/prog", NULL};
    rl_run_result r;
    ck_assert_int_eq(rl_run(a1, NULL, &r), -ENOENT);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "racelab-no-such"));
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_null(r.out);
    rl_run_result_free(&r);
    ck_assert_int_eq(rl_run(a2, NULL, &r), -ENOENT);
    rl_run_result_free(&r);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

START_TEST(non_executable_is_eacces)
{
    char path[] = "/tmp/racelab-run-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
    close(fd);
    chmod(path, 0644);
    const char *argv[] = {path, NULL};
    rl_run_result r;
    int rc = rl_run(argv, NULL, &r);
    unlink(path);
    ck_assert_int_eq(rc, -EACCES);
    rl_run_result_free(&r);
}
END_TEST

START_TEST(bad_cwd_is_an_error)
{
    const char *argv[] = {"pwd", NULL};
    rl_run_opts o = {.cwd = "/nonexistent/racelab-dir"};
    rl_run_result r;
    int rc = rl_run(argv, &o, &r);
    ck_assert_int_eq(rc, -ENOENT);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "racelab-dir"));
    ck_assert_ptr_null(r.out);
    rl_run_result_free(&r);
    ck_assert_int_eq(rl_test_zombie_children(), 0);
}
END_TEST

START_TEST(cwd_is_used)
{
    const char *argv[] = {"pwd", NULL};
    rl_run_opts o = {.cwd = "/tmp"};
    rl_run_result r;
    ck_assert_int_eq(rl_run(argv, &o, &r), 0);
    ck_assert_str_eq(r.out, "/tmp\n");
    rl_run_result_free(&r);
}
END_TEST

START_TEST(bad_arguments)
{
    const char *empty[] = {NULL};
    rl_run_result r;
    ck_assert_int_eq(rl_run(empty, NULL, &r), -EINVAL);
    ck_assert_int_eq(rl_run(NULL, NULL, &r), -EINVAL);
    ck_assert_int_eq(rl_run(empty, NULL, NULL), -EINVAL);
    rl_run_result_free(&r);
    rl_run_result_free(NULL);
}
END_TEST

START_TEST(no_descriptor_leaks)
{
    int before = rl_test_fd_count();
    const char *argv[] = {"ls", "-l", "/proc/self/fd", NULL};
    rl_run_opts o = {.input = "x", .input_len = 1, .timeout = 30};
    rl_run_result r;
    ck_assert_int_eq(rl_run(argv, &o, &r), 0);
    /* Every descriptor above 2 that the program holds is one it inherited
     * from this process (the test runner's own), never one of the pipes
     * rl_run made: those are closed here now, so they would not match. */
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        int fd;
        char target[256], mine[256], path[64];
        char *arrow = strstr(line, " -> ");
        if (!arrow)
            continue;
        *arrow = '\0';
        char *num = strrchr(line, ' ');
        if (!num || sscanf(num, "%d", &fd) != 1 ||
            sscanf(arrow + 4, "%255[^\n]", target) != 1 || fd <= 2 ||
            strncmp(target, "/proc/", 6) == 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, mine, sizeof mine - 1);
        ck_assert_msg(n > 0, "the program holds fd %d (%s) that is not ours",
                      fd, target);
        mine[n] = '\0';
        ck_assert_str_eq(mine, target);
    }
    rl_run_result_free(&r);
    ck_assert_int_eq(rl_test_fd_count(), before);
}
END_TEST

static Suite *run_suite(void)
{
    Suite *s = suite_create("run");
    TCase *tc = rl_test_tcase("capture", 60);
    tcase_add_test(tc, captures_stdout_and_stderr);
    tcase_add_test(tc, empty_output_is_empty_string);
    tcase_add_test(tc, large_output_on_both_streams);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("input", 60);
    tcase_add_test(tc, input_reaches_stdin);
    tcase_add_test(tc, large_input_and_output_together);
    tcase_add_test(tc, unread_input_neither_hangs_nor_kills);
    tcase_add_test(tc, no_input_means_empty_stdin);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("timeout", 30);
    tcase_add_test(tc, timeout_kills_the_group);
    tcase_add_test(tc, timeout_after_closing_output);
    tcase_add_test(tc, fast_program_under_timeout);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("exit", 10);
    tcase_add_test(tc, exit_codes_and_signals);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("start_errors", 10);
    tcase_add_test(tc, missing_program_is_enoent);
    tcase_add_test(tc, non_executable_is_eacces);
    tcase_add_test(tc, bad_cwd_is_an_error);
    tcase_add_test(tc, cwd_is_used);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("fds", 10);
    tcase_add_test(tc, no_descriptor_leaks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(run_suite());
}
