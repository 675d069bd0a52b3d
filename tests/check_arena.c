/* check_arena.c: the shared memory arena and its allocator. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "racelab.h"
#include "testutil.h"

void *rl__arena_base(void); /* lib/internal.h */

START_TEST(alloc_is_zeroed_and_reused_zeroed)
{
    unsigned char *p = rl_shared_alloc(100);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(p[i], 0);
    memset(p, 0xab, 100);
    rl_shared_free(p);
    unsigned char *q = rl_shared_alloc(100);
    ck_assert_ptr_nonnull(q);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(q[i], 0);
    ck_assert_uint_eq((uintptr_t)q % 16, 0);
}
END_TEST

START_TEST(zero_size_and_huge_fail_cleanly)
{
    ck_assert_ptr_null(rl_shared_alloc(0));
    ck_assert_ptr_null(rl_shared_alloc((size_t)1 << 45));
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "too large"));
}
END_TEST

START_TEST(exhaustion_is_null_with_message)
{
    void *ps[4096];
    int n = 0;
    while (n < 4096 && (ps[n] = rl_shared_alloc(1 << 20)))
        n++;
    ck_assert_int_lt(n, 4096);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "RACELAB_ARENA_SIZE"));
    for (int i = 0; i < n; i++)
        rl_shared_free(ps[i]);
    ck_assert_ptr_nonnull(rl_shared_alloc(1 << 20));
}
END_TEST

START_TEST(bad_free_is_ignored)
{
    int local;
    rl_shared_free(&local);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "not shared memory"));
    char *p = rl_shared_alloc(10);
    rl_shared_free(p);
    rl_shared_free(p);
    ck_assert_ptr_nonnull(strstr(rl_last_error(), "already freed"));
    rl_shared_free(NULL);
}
END_TEST

START_TEST(sizes_near_size_max_do_not_wrap)
{
    size_t sizes[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 15, SIZE_MAX - 16,
                      SIZE_MAX - 31};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        ck_assert_ptr_null(rl_shared_alloc(sizes[i]));
        ck_assert_ptr_nonnull(strstr(rl_last_error(), "too large"));
    }
    ck_assert_ptr_nonnull(rl_shared_alloc(16));
}
END_TEST

START_TEST(free_inside_the_arena_header_is_ignored)
{
    char *first = rl_shared_alloc(16);
    ck_assert_ptr_nonnull(first);
    char *base = rl__arena_base();
    ck_assert_ptr_nonnull(base);
    /* A fresh arena (each test runs in its own process): first is the
     * first block. Every 16-byte-aligned address of the header, and the
     * base itself, whose would-be block header lies before the mapping. */
    for (char *p = base; p < first; p += 16) {
        rl_shared_free(p);
        ck_assert_ptr_nonnull(strstr(rl_last_error(), "rl_shared_free"));
    }
    /* The allocator still works and hands out distinct blocks. */
    char *a = rl_shared_alloc(16), *b = rl_shared_alloc(16);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert(a >= first && b >= first);
}
END_TEST

static int global_var;

START_TEST(is_shared_tells_shared_from_private)
{
    int local = 0;
    int *heap = malloc(sizeof *heap);
    ck_assert_int_eq(rl_is_shared(rl_shared_alloc(8)), 1);
    ck_assert_int_eq(rl_is_shared(&local), 0);
    ck_assert_int_eq(rl_is_shared(heap), 0);
    ck_assert_int_eq(rl_is_shared(&global_var), 0);
    ck_assert_int_eq(rl_is_shared(NULL), 0);
    void *anon_shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    void *anon_private = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_int_eq(rl_is_shared(anon_shared), 1);
    ck_assert_int_eq(rl_is_shared((char *)anon_shared + 4095), 1);
    ck_assert_int_eq(rl_is_shared(anon_private), 0);
    munmap(anon_shared, 4096);
    munmap(anon_private, 4096);
    free(heap);
}
END_TEST

START_TEST(children_allocate_and_parent_sees_it)
{
    void **slots = rl_shared_alloc(8 * sizeof(void *));
    for (int i = 0; i < 8; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int k = 0; k < 200; k++) {
                long *p = rl_shared_alloc(sizeof(long) * (1 + k % 7));
                if (!p)
                    _exit(1);
                *p = i;
                if (k < 199)
                    rl_shared_free(p);
                else
                    slots[i] = p;
            }
            _exit(0);
        }
        ck_assert_int_gt(pid, 0);
    }
    for (int i = 0; i < 8; i++) {
        int st;
        ck_assert_int_gt(wait(&st), 0);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    for (int i = 0; i < 8; i++) {
        ck_assert_ptr_nonnull(slots[i]);
        ck_assert_int_eq(*(long *)slots[i], i);
        for (int j = 0; j < i; j++)
            ck_assert_ptr_ne(slots[i], slots[j]);
    }
}
END_TEST

START_TEST(strerror_names_codes)
{
    ck_assert_str_eq(rl_strerror(-ETIMEDOUT), "Connection timed out");
    ck_assert_ptr_nonnull(strstr(rl_strerror(RL_EOF), "end of file"));
    ck_assert_str_eq(rl_strerror(-99999), "unknown error code");
    for (int e = 1; e < 134; e++)
        ck_assert_int_ne(-e, RL_EOF);
}
END_TEST

static Suite *arena_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = rl_test_tcase("alloc", 10);
    tcase_add_test(tc, alloc_is_zeroed_and_reused_zeroed);
    tcase_add_test(tc, zero_size_and_huge_fail_cleanly);
    tcase_add_test(tc, exhaustion_is_null_with_message);
    tcase_add_test(tc, bad_free_is_ignored);
    tcase_add_test(tc, sizes_near_size_max_do_not_wrap);
    tcase_add_test(tc, free_inside_the_arena_header_is_ignored);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("is_shared", 10);
    tcase_add_test(tc, is_shared_tells_shared_from_private);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("processes", 20);
    tcase_add_test(tc, children_allocate_and_parent_sees_it);
    suite_add_tcase(s, tc);
    tc = rl_test_tcase("errors", 5);
    tcase_add_test(tc, strerror_names_codes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rl_test_main(arena_suite());
}
