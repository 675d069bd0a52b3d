/* bench_instrument.c: the costs of racelab's runtime for the compilers'
 * ThreadSanitizer instrumentation (lib/tsan.c), with the plain C counters
 * of tests/instrumented.c as built by each compiler installed.
 *
 *   instrumented_access_private_CC  ns per load of a private buffer by
 *                    instrumented code outside any execution (a chain of
 *                    dependent loads, which no compiler merges), against
 *                    the same loop built without instrumentation (no
 *                    target: the note gives the difference, the hook's
 *                    cost)
 *   instrumented_memcpy_private_CC  ns per 64-byte memcpy of private
 *                    memory called by instrumented code (racelab's
 *                    interposed memcpy, with the arena watched as in an
 *                    execution), against the same loop calling the C
 *                    library's function directly (no target: the note
 *                    gives the difference, the interposition's cost)
 *   instrumented_explore_rate_CC  executions per second exploring
 *                    counter.unlocked in plain C to exhaustion (bound 2,
 *                    past failures), against the annotated counter.unlocked
 *                    (ratio: annotated rate over instrumented, target <= 1.3)
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../harness/harness.h"
#include "bench.h"
#include "racelab.h"

#define MAX_REPS 32

long inst_chase_gcc(const long *a, long n) __attribute__((weak));
long inst_chase_clang(const long *a, long n) __attribute__((weak));
long inst_copy_gcc(char *d, const char *s, long n, long rounds)
    __attribute__((weak));
long inst_copy_clang(char *d, const char *s, long n, long rounds)
    __attribute__((weak));

typedef struct {
    const char *name;
    long (*chase)(const long *a, long n);
    long (*copy)(char *d, const char *s, long n, long rounds);
} compiler;

static const compiler compilers[] = {
    {"gcc", inst_chase_gcc, inst_copy_gcc},
    {"clang", inst_chase_clang, inst_copy_clang},
};

/* The C library's memcpy itself: memcpy in this program is racelab's
 * (lib/tsan_mem.c), and the baseline must not pay for it. */
extern void *libc_memcpy(void *d, const void *s, size_t n, size_t cap)
    __asm__("__memcpy_chk");

/* The baseline: the same loop, not instrumented, not inlined. */
static __attribute__((noinline)) long plain_chase(const long *a, long n)
{
    long j = 0;
    for (long i = 0; i < n; i++)
        j = a[j];
    return j;
}

#define BUF 4096

static int bench_access(const compiler *c, int smoke)
{
    static long buf[BUF];
    for (long i = 0; i < BUF; i++)
        buf[i] = (i + 1) % BUF;
    long rounds = smoke ? 10 : 20000;
    int reps = smoke ? 1 : 7;
    double inst[MAX_REPS], plain[MAX_REPS];
    volatile long sink = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        for (long k = 0; k < rounds; k++)
            sink += c->chase(buf, BUF);
        double t1 = bench_now();
        for (long k = 0; k < rounds; k++)
            sink += plain_chase(buf, BUF);
        double t2 = bench_now();
        inst[r] = (t1 - t0) / (double)(rounds * BUF) * 1e9;
        plain[r] = (t2 - t1) / (double)(rounds * BUF) * 1e9;
    }
    (void)sink;
    double mi = bench_median(inst, reps), mp = bench_median(plain, reps);
    char name[64], note[200];
    snprintf(name, sizeof name, "instrumented_access_private_%s", c->name);
    snprintf(note, sizeof note,
             "%s -fsanitize=thread against the loop built without it: "
             "%.2f ns more per access; medians of %d",
             c->name, mi - mp, reps);
    bench_metric(name, mi, "ns/access", "uninstrumented", mp, mi / mp, NULL,
                 note);
    return 0;
}

/* The baseline of the copies: the same loop, not instrumented, calling
 * the C library. */
static __attribute__((noinline)) long plain_copy(char *dst, const char *src,
                                                 long n, long rounds)
{
    for (long i = 0; i < rounds; i++)
        libc_memcpy(dst, src + (i & 7), (size_t)n, SIZE_MAX);
    return dst[0];
}

static int bench_copy(const compiler *c, int smoke)
{
    static char src[256], dst[256];
    memset(src, 1, sizeof src);
    long rounds = smoke ? 100 : 2000000;
    int reps = smoke ? 1 : 7;
    double inst[MAX_REPS], plain[MAX_REPS];
    volatile long sink = 0;
    /* As in an execution: the arena is watched, the copies are not in
     * it. */
    if (!rl_shared_alloc(64))
        return -1;
    rl__tsan_watch(1);
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        sink += c->copy(dst, src, 64, rounds);
        double t1 = bench_now();
        sink += plain_copy(dst, src, 64, rounds);
        double t2 = bench_now();
        inst[r] = (t1 - t0) / (double)rounds * 1e9;
        plain[r] = (t2 - t1) / (double)rounds * 1e9;
    }
    rl__tsan_watch(0);
    (void)sink;
    double mi = bench_median(inst, reps), mp = bench_median(plain, reps);
    char name[64], note[200];
    snprintf(name, sizeof name, "instrumented_memcpy_private_%s", c->name);
    snprintf(note, sizeof note,
             "64-byte memcpy of private memory from %s -fsanitize=thread "
             "code, arena watched, against the C library's memcpy called "
             "directly: %.2f ns more per copy; medians of %d",
             c->name, mi - mp, reps);
    bench_metric(name, mi, "ns/copy", "libc memcpy", mp, mi / mp, NULL, note);
    return 0;
}

/* Executions per second of explore over name, to exhaustion past
 * failures; *execs the executions of the search. */
static double explore_rate(const char *name, long limit, long *execs)
{
    rl_scenario *sc = rl__scenario_find(name);
    if (!sc) {
        fprintf(stderr, "bench_instrument: no scenario %s\n", name);
        return NAN;
    }
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.mode = RL_MODE_EXPLORE;
    o.preemptions = 2;
    o.all_outcomes = 1;
    o.runs = limit;
    rl__search_result r;
    if (rl__search(sc, &o, &r) < 0) {
        fprintf(stderr, "bench_instrument: %s: %s\n", name, rl_last_error());
        return NAN;
    }
    /* The search's own time: the stacks of its races, found after it,
     * are for the report. */
    double t = r.duration;
    *execs = r.executions;
    double rate = (double)r.executions / t;
    rl__search_result_free(&r);
    return rate;
}

static int bench_rate(const compiler *c, int smoke)
{
    char inst[64];
    snprintf(inst, sizeof inst, "inst.%s.counter.unlocked", c->name);
    int reps = smoke ? 1 : 5;
    long limit = smoke ? 10 : 0;
    double ri[MAX_REPS], ra[MAX_REPS];
    long ei = 0, ea = 0;
    /* Interleaved, so that a change of the machine's load hits both. */
    for (int r = 0; r < reps; r++) {
        ra[r] = explore_rate("counter.unlocked", limit, &ea);
        ri[r] = explore_rate(inst, limit, &ei);
        if (isnan(ra[r]) || isnan(ri[r]))
            return -1;
    }
    double mi = bench_median(ri, reps), ma = bench_median(ra, reps);
    char name[64], note[200];
    snprintf(name, sizeof name, "instrumented_explore_rate_%s", c->name);
    snprintf(note, sizeof note,
             "explore bound 2 past failures: %ld executions in plain C "
             "(%s), %ld annotated; ratio annotated/instrumented rate, "
             "medians of %d",
             ei, c->name, ea, reps);
    bench_metric(name, mi, "executions/s", "annotated counter.unlocked", ma,
                 ma / mi, "<= 1.3", note);
    return 0;
}

int main(int argc, char **argv)
{
    int smoke = bench_smoke(argc, argv);
    int bad = 0, any = 0;
    for (size_t k = 0; k < sizeof compilers / sizeof compilers[0]; k++) {
        const compiler *c = &compilers[k];
        if (!c->chase)
            continue;
        any = 1;
        char name[64];
        snprintf(name, sizeof name, "instrumented_access_private_%s", c->name);
        if (bench_wanted(argc, argv, name))
            bad |= bench_access(c, smoke) < 0;
        snprintf(name, sizeof name, "instrumented_memcpy_private_%s",
                 c->name);
        if (c->copy && bench_wanted(argc, argv, name))
            bad |= bench_copy(c, smoke) < 0;
        snprintf(name, sizeof name, "instrumented_explore_rate_%s", c->name);
        if (bench_wanted(argc, argv, name))
            bad |= bench_rate(c, smoke) < 0;
    }
    if (!any)
        fprintf(stderr, "bench_instrument: no compiler built the "
                        "instrumented counters\n");
    return bad || !any;
}
