/* bench_pool.c: rl_pool_map throughput against Python's
 * multiprocessing.Pool.map on the same work (x*x over ints, 2 workers). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "racelab.h"

/* The task: squares one int. */
static int square(const void *in, size_t in_len, void *out, size_t *out_len)
{
    (void)in_len;
    int x;
    memcpy(&x, in, sizeof x);
    x *= x;
    memcpy(out, &x, sizeof x);
    *out_len = sizeof x;
    return 0;
}

/* One timed rl_pool_map over n ints; returns seconds, or -1 on error. */
static double time_ours(rl_pool *pool, int *in, int *out, size_t n)
{
    double t0 = bench_now();
    int r = rl_pool_map(pool, square, in, sizeof(int), n, out, sizeof(int));
    double t = bench_now() - t0;
    if (r < 0) {
        fprintf(stderr, "bench_pool: rl_pool_map: %s\n", rl_last_error());
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (out[i] != in[i] * in[i]) {
            fprintf(stderr, "bench_pool: wrong result at %zu\n", i);
            return -1;
        }
    return t;
}

/* One timed Pool.map in Python (timing inside Python, pool made before
 * the clock starts, as ours is). Returns seconds, or -1 when Python is
 * missing or failed. */
static double time_python(size_t n)
{
    char prog[512];
    snprintf(prog, sizeof prog,
             "import multiprocessing as mp, time\n"
             "def f(x):\n    return x * x\n"
             "if __name__ == '__main__':\n"
             "    with mp.Pool(2) as p:\n"
             "        p.map(f, range(10))\n"
             "        t = time.perf_counter()\n"
             "        r = p.map(f, range(%zu))\n"
             "        print(time.perf_counter() - t)\n",
             n);
    const char *argv[] = {"python3", "-c", prog, NULL};
    rl_run_opts o = {.timeout = 300};
    rl_run_result res;
    int r = rl_run(argv, &o, &res);
    double t = -1;
    if (r == 0 && res.exit_code == 0)
        t = atof(res.out);
    else
        fprintf(stderr, "bench_pool: python3: %s %s\n",
                r < 0 ? rl_last_error() : "", res.err ? res.err : "");
    rl_run_result_free(&res);
    return t;
}

/* Prints pool_vs_python: items per second of rl_pool_map over those of
 * multiprocessing.Pool.map, both with 2 workers, interleaved repetitions,
 * medians. --smoke: one repetition over 10,000 items. Returns 0, or 1 when
 * our pool failed. */
int main(int argc, char **argv)
{
    int smoke = bench_smoke(argc, argv);
    size_t n = smoke ? 10000 : 100000;
    int reps = smoke ? 1 : 7;
    int *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    if (!in || !out)
        return 1;
    for (size_t i = 0; i < n; i++)
        in[i] = (int)(i % 40000);
    rl_pool_opts o = {.workers = 2};
    rl_pool *pool;
    if (rl_pool_new(&pool, &o) < 0) {
        fprintf(stderr, "bench_pool: rl_pool_new: %s\n", rl_last_error());
        return 1;
    }
    time_ours(pool, in, out, 10); /* warm the workers */
    double ours[16], py[16];
    int npy = 0;
    for (int i = 0; i < reps; i++) {
        /* Interleaved, so that drift in the machine's load hits both. */
        ours[i] = time_ours(pool, in, out, n);
        if (ours[i] < 0)
            return 1;
        double t = time_python(n);
        if (t > 0)
            py[npy++] = t;
    }
    rl_pool_free(pool);
    double mo = bench_median(ours, reps);
    double mp = bench_median(py, npy);
    char note[200];
    snprintf(note, sizeof note,
             "%zu ints squared, 2 workers, medians of %d interleaved runs: "
             "rl_pool_map %.4f s, Pool.map %.4f s%s",
             n, reps, mo, npy ? mp : NAN,
             npy ? "" : " (python3 not available)");
    bench_metric("pool_vs_python", (double)n / mo, "items/s",
                 "python3 multiprocessing.Pool(2).map",
                 npy ? (double)n / mp : NAN, npy ? mp / mo : NAN, ">= 20",
                 note);
    free(in);
    free(out);
    return 0;
}
