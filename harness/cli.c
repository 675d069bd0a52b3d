/* cli.c: rl_main, the racelab command line over the scenarios linked into
 * the program: list, run, replay, minimize. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../reports/report.h"
#include "extstress.h"
#include "harness.h"

#define EXIT_OK 0
#define EXIT_UNEXPECTED 1
#define EXIT_USAGE 2
#define EXIT_INTERNAL 3

static const char *prog = "racelab";
static int use_color;

static const char *color(const char *code)
{
    return use_color ? code : "";
}

static void setup_color(const char *mode)
{
    if (mode && strcmp(mode, "always") == 0)
        use_color = 1;
    else if (mode && strcmp(mode, "never") == 0)
        use_color = 0;
    else
        use_color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return EXIT_USAGE;
}

static void print_help(void)
{
    printf("usage: %s COMMAND [OPTIONS]\n"
           "\n"
           "Find, reproduce and explain races between processes.\n"
           "\n"
           "commands:\n"
           "  list [--json]                 the scenarios and what they "
           "expect\n"
           "  run [PATTERN...] [OPTIONS]    run scenarios (glob patterns; "
           "none = all)\n"
           "  replay TOKEN [--trace]        run exactly one interleaving "
           "again\n"
           "  minimize TOKEN                shrink a failing token\n"
           "  stress [OPTIONS] -- CMD...    run any program many times and "
           "classify the runs\n"
           "  report [--html F] [--junit F] RESULTS.json...   merge "
           "results (shards)\n"
           "\n"
           "run options:\n"
           "  --mode explore|pct|random|stress   (default explore)\n"
           "  --seed N            seed of pct, random and stress (default "
           "from the clock)\n"
           "  --runs N            executions of pct/random/stress (100); "
           "explore: limit\n"
           "  --preemptions K     explore bound (default 2, -1 "
           "unbounded)\n"
           "  --bound preemptions|delays   what the bound counts "
           "(default preemptions)\n"
           "  --reduction dpor|none   explore: skip reorderings of "
           "independent steps (dpor)\n"
           "  --depth D           pct depth (default 3)\n"
           "  --max-steps N       schedule points per execution "
           "(10000)\n"
           "  --timeout S         wall clock per execution in seconds "
           "(10)\n"
           "  --noise P           stress: noise probability at each "
           "point\n"
           "  --shard I/N         run the I-th of N slices of the runs\n"
           "  --jobs N            parallel executions (default: cores)\n"
           "  --json FILE  --junit FILE  --html FILE  --tap\n"
           "  --color=auto|always|never\n"
           "\n"
           "exit status: 0 as expected, 1 some scenario was not, 2 bad "
           "usage or input,\n"
           "3 internal error.\n",
           prog);
}

/* strtol, strtoull and strtod skip leading white space and take a sign
 * (strtoull negates "-1" into 2^64-1): a number given on the command line
 * starts with a digit, or a '-' and a digit where negatives are allowed. */
static int starts_numeric(const char *s, int negative)
{
    if (negative && s[0] == '-')
        s++;
    return isdigit((unsigned char)s[0]) ||
           (s[0] == '.' && isdigit((unsigned char)s[1]));
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    if (!starts_numeric(s, lo < 0))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    if (!starts_numeric(s, lo < 0))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* An option's number: 0 and *out, or prints "--NAME takes LO..HI" and
 * returns EXIT_USAGE. */
static int opt_long(const char *name, const char *arg, long lo, long hi,
                    long *out)
{
    if (parse_long(arg, lo, hi, out) < 0)
        return usage_error("--%s takes %ld..%ld, not '%s'", name, lo, hi, arg);
    return 0;
}

static int opt_double(const char *name, const char *arg, double lo, double hi,
                      double *out)
{
    if (parse_double(arg, lo, hi, out) < 0)
        return usage_error("--%s takes %g..%g, not '%s'", name, lo, hi, arg);
    return 0;
}

/* --shard I/N: 0 and fills *index, *count; or prints the error and
 * returns EXIT_USAGE. */
static int parse_shard(char *arg, long *index, long *count)
{
    long i, n;
    char *slash = strchr(arg, '/');
    if (!slash)
        return usage_error("--shard takes I/N, e.g. 0/4, not '%s'", arg);
    *slash = '\0';
    if (parse_long(arg, 0, 1000000, &i) < 0 ||
        parse_long(slash + 1, 1, 1000000, &n) < 0 || i >= n)
        return usage_error("--shard takes I/N with 0 <= I < N");
    *index = i;
    *count = n;
    return 0;
}

/* --seed N (decimal or 0x hex): 0, or prints the error and returns
 * EXIT_USAGE. */
static int parse_seed(const char *arg, uint64_t *seed)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 0);
    if (!starts_numeric(arg, 0) || errno || end == arg || *end)
        return usage_error("--seed takes a number from 0 to 2^64-1 "
                           "(decimal or 0x hex), not '%s'",
                           arg);
    *seed = v;
    return 0;
}

/* Text from a scenario or a command (names, messages, captured output)
 * for the terminal: control bytes, ESC among them, and C1 controls are
 * shown as \xNN, so they cannot move the cursor, retitle the window or
 * hide text. A backslash stays as it is; newline and tab stay when
 * lines is set. Returns s escaped in a static buffer (one of four in
 * turn, so a printf may take several), cut at 4 KiB. */
static const char *term(const char *s, int lines)
{
    static char bufs[4][4096 + 8];
    static int next;
    char *out = bufs[next];
    next = (next + 1) % 4;
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    for (; *p && n < 4096; p++) {
        int c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
        if ((*p < 0x20 && !(lines && (*p == '\n' || *p == '\t'))) ||
            *p == 0x7f || c1) {
            n += (size_t)snprintf(out + n, 8, "\\x%02x", *p);
            if (c1)
                n += (size_t)snprintf(out + n, 8, "\\x%02x", *++p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n] = '\0';
    return out;
}

static int cmd_list(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: %s list [--json]\n", prog);
            return EXIT_OK;
        } else
            return usage_error("list: unknown option '%s'", argv[i]);
    }
    if (json)
        printf("[");
    int first = 1;
    for (rl_scenario *s = rl__scenarios(); s; s = s->next) {
        const char *exp = s->expect == RL_EXPECT_BUG ? "bug" : "clean";
        if (json) {
            printf("%s\n  {\"name\": ", first ? "" : ",");
            rl__json_string(stdout, s->name);
            printf(", \"expect\": \"%s\", \"expect_verdict\": \"%s\", "
                   "\"summary\": ",
                   exp,
                   s->expect == RL_EXPECT_BUG && s->expect_verdict
                       ? rl_verdict_name(s->expect_verdict)
                       : "");
            rl__json_string(stdout, s->summary);
            printf("}");
        } else {
            char e[32];
            snprintf(e, sizeof e, "%s%s%s", exp,
                     s->expect == RL_EXPECT_BUG && s->expect_verdict ? ":" : "",
                     s->expect == RL_EXPECT_BUG && s->expect_verdict
                         ? rl_verdict_name(s->expect_verdict)
                         : "");
            printf("%-28s %-15s %s\n", term(s->name, 0), e,
                   term(s->summary, 0));
        }
        first = 0;
    }
    if (json)
        printf("\n]\n");
    return EXIT_OK;
}

static void print_trace(const rl__exec_result *e)
{
    printf("%5s %5s %7s  %-10s %-18s %-12s %s\n", "step", "actor", "pid", "op",
           "object", "value", "where");
    for (long i = 0; i < e->nsteps; i++) {
        const rl__step *s = &e->steps[i];
        char obj[32] = "", val[24] = "", where[96] = "";
        if (s->obj)
            snprintf(obj, sizeof obj, "%p%s", s->obj,
                     s->op == RL_OP_LOAD || s->op == RL_OP_STORE ||
                             s->op == RL_OP_FETCH_ADD
                         ? (s->shared ? "" : " priv")
                         : "");
        if (s->has_value)
            snprintf(val, sizeof val, "%ld", s->value);
        if (s->file[0])
            snprintf(where, sizeof where, "%s %s:%d", s->label, s->file,
                     s->line);
        else
            snprintf(where, sizeof where, "%s", s->label);
        snprintf(where, sizeof where, "%s", term(where, 0));
        printf("%5ld %5d %7d  %-10s %-18s %-12s %s\n", i, s->actor, s->pid,
               rl__op_name((rl__op)s->op), obj, val, where);
    }
}

static void print_result(const rl__result *r, uint64_t seed)
{
    int ok = rl__result_as_expected(r);
    const char *mark = r->interrupted ? "INTERRUPTED"
                       : ok           ? "ok"
                                      : "UNEXPECTED";
    const char *col = r->interrupted ? "\033[33m"
                      : ok           ? "\033[32m"
                                     : "\033[31m";
    /* Stopped before the search ended: no PASS, the counts so far. */
    const char *verdict = r->interrupted && r->verdict == RL_PASS
                              ? "-"
                              : rl_verdict_name(r->verdict);
    printf("%s%-10s%s %-28s %-9s %-8s %6ld executions %8.3fs", color(col), mark,
           color("\033[0m"), term(r->name, 0), verdict, rl__mode_name(r->mode),
           r->executions, r->duration);
    if (r->interrupted)
        printf("  interrupted: the counts so far");
    else if (r->mode == RL_MODE_EXPLORE && r->verdict == RL_PASS) {
        const char *kind =
            r->bound_kind == RL__BOUND_DELAYS ? "delay" : "preemption";
        char bound[32];
        if (r->bound >= 0)
            snprintf(bound, sizeof bound, "%s bound %d", kind, r->bound);
        else
            snprintf(bound, sizeof bound, "no %s bound", kind);
        printf("  %s, %s, no failure",
               r->exhausted ? "exhausted" : "execution limit reached", bound);
    } else if (r->mode == RL_MODE_EXPLORE) {
        /* Cheaper schedules were all tried first: none has fewer. */
        const char *kind =
            r->bound_kind == RL__BOUND_DELAYS ? "delay" : "preemption";
        printf("  found with %ld %s%s", r->found_cost, kind,
               r->found_cost == 1 ? "" : "s");
    }
    if (r->mode == RL_MODE_PCT && r->pct_depth > 0)
        printf("  depth %d: each run finds a depth-%d bug with p >= "
               "1/(%d*%ld^%d) = %.3g; %ld runs for 95%%",
               r->pct_depth, r->pct_depth, r->pct_actors, r->pct_steps,
               r->pct_depth - 1,
               rl__pct_probability(r->pct_depth, r->pct_actors, r->pct_steps),
               rl__pct_runs_for_95(r->pct_depth, r->pct_actors, r->pct_steps));
    if (r->mode == RL_MODE_STRESS) {
        double lo, hi;
        rl__wilson(r->failures, r->executions, &lo, &hi);
        printf("  failures %ld/%ld rate %.3f [%.3f, %.3f]", r->failures,
               r->executions,
               r->executions ? (double)r->failures / (double)r->executions
                             : 0.0,
               lo, hi);
        if (r->first_failure_run)
            printf(", first at run %ld", r->first_failure_run);
    }
    printf("\n");
    if (r->mode == RL_MODE_STRESS && r->nvalues > 0) {
        /* The histogram of the values rl_check_eq saw, most frequent
         * first. */
        int order[RL__HIST_MAX];
        for (int i = 0; i < r->nvalues; i++)
            order[i] = i;
        for (int i = 1; i < r->nvalues; i++)
            for (int j = i;
                 j > 0 && r->counts[order[j]] > r->counts[order[j - 1]]; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        printf("    checked values:");
        for (int i = 0; i < r->nvalues && i < 12; i++)
            printf("%s %ld in %ld run%s", i ? "," : "", r->values[order[i]],
                   r->counts[order[i]], r->counts[order[i]] == 1 ? "" : "s");
        printf("%s\n", r->nvalues > 12 ? " ..." : "");
    }
    if (r->verdict != RL_PASS) {
        const rl__result_failure *f = &r->failure;
        printf("    %s\n", term(f->message, 1));
        if (f->token)
            printf("    replay: %s replay '%s'\n", prog, term(f->token, 0));
        if (f->minimized_token && f->token &&
            strcmp(f->minimized_token, f->token) != 0)
            printf("    minimized: %s replay '%s'\n", prog,
                   term(f->minimized_token, 0));
    }
    (void)seed;
}

static char *join_args(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 3;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        int quote = strpbrk(argv[i], " \t*?[") != NULL;
        if (quote)
            strcat(s, "'");
        strcat(s, argv[i]);
        if (quote)
            strcat(s, "'");
    }
    return s;
}

static char *full_argv_line;
static volatile sig_atomic_t interrupted; /* the signal, or 0 */

/* The reason the first flush of stdout failed, for stdout_failed. */
static int stdout_errno;

/* Flushes stdout (each result shows as soon as it is known). */
static void flush_stdout(void)
{
    errno = 0;
    if (fflush(stdout) != 0 && !stdout_errno)
        stdout_errno = errno ? errno : EIO;
}

/* Where run, stress and report write their results. */
typedef struct {
    const char *json, *junit, *html;
    int tap;
} outputs;

/* Records one of --json, --junit, --html (with its file) or --tap. */
static void set_output(outputs *out, int opt, const char *arg)
{
    switch (opt) {
    case 'J':
        out->json = arg;
        break;
    case 'U':
        out->junit = arg;
        break;
    case 'H':
        out->html = arg;
        break;
    default:
        out->tap = 1;
    }
}

/* Writes the requested report files (atomically) and TAP on stdout.
 * Returns 0, or 1 when a file could not be written. */
static int write_outputs(const outputs *out, const rl__report *rep)
{
    int bad = 0;
    struct {
        const char *path;
        int (*writer)(FILE *, const rl__report *);
    } files[] = {{out->json, rl__report_json},
                 {out->junit, rl__report_junit},
                 {out->html, rl__report_html}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (!files[i].path)
            continue;
        if (rl__report_to_file(files[i].path, rep, files[i].writer) < 0) {
            fprintf(stderr, "%s: %s\n", prog, rl_last_error());
            bad = 1;
        }
    }
    if (out->tap)
        rl__report_tap(stdout, rep);
    return bad;
}

/* Progress on stderr: a bar redrawn in place on a terminal, a plain line
 * per step otherwise. */
static void progress(long done, long total, long bad, const char *what,
                     double t0)
{
    double el = rl__now() - t0;
    if (isatty(STDERR_FILENO)) {
        int width = 30, fill = total ? (int)(width * done / total) : width;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r[%s] %ld/%ld, %ld %s, %.1fs%s", bar, done, total,
                bad, what, el, done == total ? "\n" : "");
    } else {
        fprintf(stderr, "%s: %ld/%ld done, %ld %s, %.1fs\n", prog, done, total,
                bad, what, el);
    }
}

typedef struct {
    long done, total, failing;
    double t0;
    int quiet; /* TAP owns stdout: no result lines there */
    const rl__search_opts *opts;
    /* the results, their results model, and which of them ended before
     * a stop signal */
    const rl__search_result *results;
    rl__result *model;
    char *ended;
} run_progress;

static void on_sigint(int sig)
{
    interrupted = sig;
}

/* Ctrl-C (and SIGTERM, as a CI timeout sends, or SIGHUP) stop the search
 * cleanly: executions are killed, results so far written. */
static void catch_interrupts(struct sigaction old[3])
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    interrupted = 0;
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
    sigaction(SIGHUP, &sa, &old[2]);
}

static void release_interrupts(struct sigaction old[3])
{
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
    sigaction(SIGHUP, &old[2], NULL);
}

static void print_done(rl__search_result *r, void *ctx)
{
    run_progress *pg = ctx;
    if (interrupted)
        return;
    rl__search_minimize(r, pg->opts);
    rl__result *m = &pg->model[r - pg->results];
    if (rl__result_from_search(r, m) < 0)
        return; /* no name: left out, an internal error */
    if (!pg->quiet)
        print_result(m, m->seed);
    flush_stdout();
    pg->done++;
    pg->ended[r - pg->results] = 1;
    /* A catalogue bug found is a success: count what was not expected. */
    pg->failing += !rl__result_as_expected(m);
    progress(pg->done, pg->total, pg->failing, "unexpected", pg->t0);
}

static int cmd_run(int argc, char **argv)
{
    outputs out = {0};
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    o.mode = RL_MODE_EXPLORE;
    o.preemptions = 2;
    o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    const char *color_mode = "auto";
    int seed_given = 0;
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    static const struct option opts[] = {
        {"mode", required_argument, 0, 'm'},
        {"seed", required_argument, 0, 's'},
        {"runs", required_argument, 0, 'r'},
        {"preemptions", required_argument, 0, 'p'},
        {"bound", required_argument, 0, 'B'},
        {"reduction", required_argument, 0, 'R'},
        {"depth", required_argument, 0, 'd'},
        {"max-steps", required_argument, 0, 'M'},
        {"timeout", required_argument, 0, 't'},
        {"noise", required_argument, 0, 'n'},
        {"shard", required_argument, 0, 'S'},
        {"jobs", required_argument, 0, 'j'},
        {"color", required_argument, 0, 'c'},
        {"json", required_argument, 0, 'J'},
        {"junit", required_argument, 0, 'U'},
        {"html", required_argument, 0, 'H'},
        {"tap", no_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (strcmp(optarg, "explore") == 0)
                o.mode = RL_MODE_EXPLORE;
            else if (strcmp(optarg, "pct") == 0)
                o.mode = RL_MODE_PCT;
            else if (strcmp(optarg, "random") == 0)
                o.mode = RL_MODE_RANDOM;
            else if (strcmp(optarg, "stress") == 0)
                o.mode = RL_MODE_STRESS;
            else
                return usage_error("--mode must be explore, pct, random or "
                                   "stress, not '%s'",
                                   optarg);
            break;
        case 's':
            if (parse_seed(optarg, &o.seed))
                return EXIT_USAGE;
            seed_given = 1;
            break;
        case 'r':
            if (opt_long("runs", optarg, 1, 100000000, &v))
                return EXIT_USAGE;
            o.runs = v;
            break;
        case 'p':
            if (opt_long("preemptions", optarg, -1, 1000, &v))
                return EXIT_USAGE;
            o.preemptions = (int)v;
            break;
        case 'B':
            if (strcmp(optarg, "preemptions") == 0)
                o.bound_kind = RL__BOUND_PREEMPTIONS;
            else if (strcmp(optarg, "delays") == 0)
                o.bound_kind = RL__BOUND_DELAYS;
            else
                return usage_error("--bound must be preemptions or delays, "
                                   "not '%s'",
                                   optarg);
            break;
        case 'R':
            if (strcmp(optarg, "dpor") == 0)
                o.reduction = RL__REDUCTION_DPOR;
            else if (strcmp(optarg, "none") == 0)
                o.reduction = RL__REDUCTION_NONE;
            else
                return usage_error("--reduction must be dpor or none, not "
                                   "'%s'",
                                   optarg);
            break;
        case 'd':
            if (opt_long("depth", optarg, 1, 8, &v))
                return EXIT_USAGE;
            o.depth = (int)v;
            break;
        case 'M':
            if (opt_long("max-steps", optarg, 1, 10000000, &v))
                return EXIT_USAGE;
            o.max_steps = v;
            break;
        case 't':
            if (opt_double("timeout", optarg, 0.001, 86400, &o.timeout))
                return EXIT_USAGE;
            break;
        case 'n':
            if (opt_double("noise", optarg, 0, 1, &o.noise))
                return EXIT_USAGE;
            break;
        case 'S':
            if (parse_shard(optarg, &o.shard_index, &o.shard_count))
                return EXIT_USAGE;
            break;
        case 'j':
            if (opt_long("jobs", optarg, 1, 1024, &v))
                return EXIT_USAGE;
            jobs = v;
            break;
        case 'c':
            color_mode = optarg;
            if (strcmp(optarg, "auto") && strcmp(optarg, "always") &&
                strcmp(optarg, "never"))
                return usage_error("--color takes auto, always or never");
            break;
        case 'J':
        case 'U':
        case 'H':
        case 'T':
            set_output(&out, c, optarg);
            break;
        case 'h':
            print_help();
            return EXIT_OK;
        default:
            return usage_error("run: unknown or incomplete option '%s' "
                               "(see %s --help)",
                               argv[optind - 1], prog);
        }
    }
    setup_color(color_mode);
    int npat = argc - optind;
    char **pats = argv + optind;
    int *used = calloc((size_t)npat + 1, sizeof *used);
    int selected = 0;
    for (rl_scenario *s = rl__scenarios(); s; s = s->next) {
        int take = npat == 0;
        for (int i = 0; i < npat; i++)
            if (fnmatch(pats[i], s->name, 0) == 0)
                take = used[i] = 1;
        selected += take;
    }
    for (int i = 0; i < npat; i++) {
        if (!used[i]) {
            free(used);
            return usage_error("no scenario matches '%s' (%s list shows "
                               "them)",
                               pats[i], prog);
        }
    }
    free(used);
    if (selected == 0)
        return usage_error("no scenarios are linked into this program");
    fprintf(stderr, "%s: mode %s, seed %" PRIu64 ", %d scenario%s\n", prog,
            rl__mode_name(o.mode), o.seed, selected, selected == 1 ? "" : "s");
    int unexpected = 0, internal = 0, nres = 0, bad_input = 0;
    rl__search_result *results = calloc((size_t)selected, sizeof *results);
    rl__result *model = calloc((size_t)selected, sizeof *model);
    rl_scenario **list = calloc((size_t)selected, sizeof *list);
    if (!results || !model || !list)
        return EXIT_INTERNAL;
    char started[32];
    time_t now = time(NULL);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    for (rl_scenario *s = rl__scenarios(); s; s = s->next) {
        int take = npat == 0;
        for (int i = 0; i < npat; i++)
            if (fnmatch(pats[i], s->name, 0) == 0)
                take = 1;
        if (take)
            list[nres++] = s;
    }
    struct sigaction old_int[3];
    catch_interrupts(old_int);
    o.stop = &interrupted;
    char *ended = calloc((size_t)nres + 1, 1);
    if (!ended)
        return EXIT_INTERNAL;
    run_progress pg = {0,  nres,    0,     rl__now(), out.tap,
                       &o, results, model, ended};
    /* Explore shards by subtrees, which the job machinery plans. */
    if (jobs > 1 || (o.mode == RL_MODE_EXPLORE && o.shard_count > 1)) {
        int err = rl__search_many(list, nres, &o, (int)jobs, results,
                                  print_done, &pg);
        if (err < 0 && !interrupted) {
            fprintf(stderr, "%s: %s\n", prog,
                    rl_last_error()[0] ? rl_last_error() : rl_strerror(err));
            if (err == -EINVAL)
                bad_input = 1;
            else
                internal = 1;
        }
    } else {
        for (int i = 0; i < nres && !interrupted; i++) {
            int err = rl__search(list[i], &o, &results[i]);
            if (err < 0) {
                fprintf(stderr, "%s: %s: %s\n", prog, list[i]->name,
                        rl_last_error()[0] ? rl_last_error()
                                           : rl_strerror(err));
                if (err == -EINVAL)
                    bad_input = 1;
                else
                    internal = 1;
                continue;
            }
            print_done(&results[i], &pg);
        }
    }
    release_interrupts(old_int);
    /* After Ctrl-C, the scenarios that never ran are not results; those
     * that ran but did not end are marked: counts so far, no verdict of
     * their own. */
    int ran = 0;
    for (int i = 0; i < nres; i++) {
        if (!results[i].sc ||
            (interrupted && results[i].executions == 0 && !ended[i])) {
            rl__search_result_free(&results[i]);
            continue;
        }
        if (interrupted && !ended[i]) {
            results[i].interrupted = 1;
            if (rl__result_from_search(&results[i], &model[i]) == 0 && !out.tap)
                print_result(&model[i], model[i].seed);
        }
        rl__search_result_free(&results[i]);
        if (!model[i].name) {
            internal = 1; /* out of memory */
            continue;
        }
        if (ran != i) {
            model[ran] = model[i];
            memset(&model[i], 0, sizeof model[i]);
        }
        ran++;
    }
    nres = ran;
    free(ended);
    for (int i = 0; i < nres; i++)
        unexpected |= !rl__result_as_expected(&model[i]);
    free(list);
    {
        rl__report rep = {model, nres, o.seed, started, full_argv_line};
        internal |= write_outputs(&out, &rep);
    }
    for (int i = 0; i < nres; i++)
        rl__result_free(&model[i]);
    free(model);
    free(results);
    if (seed_given)
        fprintf(stderr, "%s: reproduce with: %s\n", prog, full_argv_line);
    else
        fprintf(stderr, "%s: reproduce with: %s --seed %" PRIu64 "\n", prog,
                full_argv_line, o.seed);
    if (interrupted) {
        fprintf(stderr, "%s: interrupted; results so far are written\n", prog);
        return 128 + interrupted;
    }
    if (bad_input)
        return EXIT_USAGE;
    if (internal)
        return EXIT_INTERNAL;
    return unexpected ? EXIT_UNEXPECTED : EXIT_OK;
}

static int cmd_replay(int argc, char **argv, int minimize)
{
    int trace = 0;
    const char *token = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trace") == 0 && !minimize)
            trace = 1;
        else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: %s %s TOKEN%s\n", prog,
                   minimize ? "minimize" : "replay",
                   minimize ? "" : " [--trace]");
            return EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1])
            return usage_error("unknown option '%s'", argv[i]);
        else if (token)
            return usage_error("one token at a time");
        else
            token = argv[i];
    }
    if (!token)
        return usage_error("%s needs a TOKEN such as counter.unlocked@0x3.1x2",
                           minimize ? "minimize" : "replay");
    rl__search_opts o;
    memset(&o, 0, sizeof o);
    rl__search_result r;
    struct sigaction old_int[3];
    catch_interrupts(old_int);
    o.stop = &interrupted;
    int err =
        minimize ? rl__minimize(token, &o, &r) : rl__replay(token, &o, &r);
    release_interrupts(old_int);
    if (interrupted) {
        rl__search_result_free(&r);
        fprintf(stderr, "%s: interrupted\n", prog);
        return 128 + interrupted;
    }
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", prog, rl_last_error());
        rl__search_result_free(&r);
        return err == -EINVAL || err == -ENOENT ? EXIT_USAGE : EXIT_INTERNAL;
    }
    setup_color("auto");
    if (minimize) {
        printf("%s %s\n", rl_verdict_name(r.verdict), term(r.first.message, 1));
        printf("minimized: %s (%ld executions tried)\n", r.minimized_token,
               r.executions);
        printf("replay: %s replay '%s'\n", prog, r.minimized_token);
    } else {
        printf("%s%s%s %s\n",
               color(r.verdict == RL_PASS ? "\033[32m" : "\033[31m"),
               rl_verdict_name(r.verdict), color("\033[0m"),
               term(r.first.message, 1));
        if (trace)
            print_trace(&r.first);
    }
    /* As with run: 1 when the verdict is not what the scenario expects
     * (a clean scenario that fails, a bug's token that passes). */
    int code = EXIT_OK;
    if (r.verdict == RL_ERROR)
        code = EXIT_USAGE;
    else if (!minimize &&
             !rl__expectation_met(r.sc->expect, r.sc->expect_verdict, r.verdict,
                                  RL_MODE_REPLAY)) {
        code = EXIT_UNEXPECTED;
        fprintf(stderr, "%s: unexpected: %s expects %s\n", prog, r.sc->name,
                r.sc->expect == RL_EXPECT_BUG ? "a bug" : "no failure");
    }
    rl__search_result_free(&r);
    return code;
}

static void stress_progress(long done, long total, long failures, void *ctx)
{
    double *t0 = ctx;
    /* Once every 5% is enough for a plain log. */
    long step = total / 20 > 0 ? total / 20 : 1;
    if (done == total || done % step == 0 || isatty(STDERR_FILENO))
        progress(done, total, failures, "failing", *t0);
}

static int cmd_stress(int argc, char **argv)
{
    rl__stress_opts so;
    memset(&so, 0, sizeof so);
    so.runs = 100;
    so.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    outputs out = {0};
    int seed_given = 0;
    static const struct option opts[] = {
        {"runs", required_argument, 0, 'r'},
        {"jobs", required_argument, 0, 'j'},
        {"timeout", required_argument, 0, 't'},
        {"expect-exit", required_argument, 0, 'e'},
        {"expect-stdout", required_argument, 0, 'o'},
        {"noise", required_argument, 0, 'n'},
        {"seed", required_argument, 0, 's'},
        {"shard", required_argument, 0, 'S'},
        {"json", required_argument, 0, 'J'},
        {"junit", required_argument, 0, 'U'},
        {"html", required_argument, 0, 'H'},
        {"tap", no_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    long v;
    double d;
    /* '+': the command after "--" keeps its own options. */
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (opt_long("runs", optarg, 1, 100000000, &v))
                return EXIT_USAGE;
            so.runs = v;
            break;
        case 'j':
            if (opt_long("jobs", optarg, 1, 1024, &v))
                return EXIT_USAGE;
            so.jobs = (int)v;
            break;
        case 't':
            if (opt_double("timeout", optarg, 0.001, 86400, &d))
                return EXIT_USAGE;
            so.timeout = d;
            break;
        case 'e':
            if (opt_long("expect-exit", optarg, 0, 255, &v))
                return EXIT_USAGE;
            so.expect_exit = (int)v;
            break;
        case 'o':
            so.expect_stdout = optarg;
            break;
        case 'n':
            if (opt_double("noise", optarg, 0, 1, &d))
                return EXIT_USAGE;
            so.noise = d;
            break;
        case 's':
            if (parse_seed(optarg, &so.seed))
                return EXIT_USAGE;
            seed_given = 1;
            break;
        case 'S':
            if (parse_shard(optarg, &so.shard_index, &so.shard_count))
                return EXIT_USAGE;
            break;
        case 'J':
        case 'U':
        case 'H':
        case 'T':
            set_output(&out, c, optarg);
            break;
        case 'h':
            printf("usage: %s stress [--runs N] [--jobs N] [--timeout S] "
                   "[--expect-exit C]\n"
                   "       [--expect-stdout TEXT] [--noise P] [--seed N] "
                   "[--shard I/N]\n"
                   "       [--json FILE] [--junit FILE] [--html FILE] "
                   "[--tap] -- COMMAND [ARG...]\n",
                   prog);
            return EXIT_OK;
        default:
            return usage_error("stress: unknown or incomplete option '%s' "
                               "(see %s stress --help)",
                               argv[optind - 1], prog);
        }
    }
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    if (optind >= argc)
        return usage_error("stress needs a command: %s stress [OPTIONS] -- "
                           "COMMAND [ARG...]",
                           prog);
    double t0 = rl__now();
    so.progress = stress_progress;
    so.progress_ctx = &t0;
    struct sigaction old_int[3];
    catch_interrupts(old_int);
    so.stop = &interrupted;
    fprintf(stderr, "%s: stress, seed %" PRIu64 ", %ld runs\n", prog, so.seed,
            so.runs);
    char started[32];
    time_t now = time(NULL);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    rl__result r;
    int err = rl__stress_command(argv + optind, &so, &r);
    release_interrupts(old_int);
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", prog, rl_last_error());
        rl__result_free(&r);
        return err == -ENOENT || err == -EACCES || err == -EINVAL
                   ? EXIT_USAGE
                   : EXIT_INTERNAL;
    }
    static const char *const class_names[RL__RUN_CLASSES] = {
        "as expected", "wrong exit", "wrong output", "signal", "timeout"};
    double lo, hi;
    rl__wilson(r.failures, r.executions, &lo, &hi);
    if (!out.tap) {
        printf("%s: %ld runs, %ld failed, rate %.3f (95%% CI %.3f-%.3f)",
               term(r.name, 0), r.executions, r.failures,
               r.executions ? (double)r.failures / (double)r.executions : 0.0,
               lo, hi);
        if (r.first_failure_run)
            printf(", first failure at run %ld", r.first_failure_run);
        printf("\n  ");
        for (int k = 0; k < RL__RUN_CLASSES; k++)
            printf("%s%s: %ld", k ? ", " : "", class_names[k], r.classes[k]);
        printf("\n");
        if (r.failures)
            printf("  first failure: %s\n", term(r.failure.message, 1));
        for (int k = 0; k < RL__KEPT_OUTPUTS && r.kept_output[k]; k++) {
            size_t len = strlen(r.kept_output[k]);
            while (len && r.kept_output[k][len - 1] == '\n')
                len--;
            char *cut = strndup(r.kept_output[k], len);
            printf("  --- %s\n", term(cut ? cut : "", 1));
            free(cut);
        }
    }
    r.interrupted = interrupted != 0;
    rl__report rep = {&r, 1, so.seed, started, full_argv_line};
    int bad = write_outputs(&out, &rep);
    if (!seed_given) {
        /* The seed goes before "--": after it, it would be the command's. */
        char *rest = join_args(argc - 1, argv + 1);
        fprintf(stderr, "%s: reproduce with: %s stress --seed %" PRIu64 " %s\n",
                prog, prog, so.seed, rest ? rest : "");
        free(rest);
    }
    int failed = !rl__result_as_expected(&r);
    rl__result_free(&r);
    if (interrupted)
        return 128 + interrupted;
    if (bad)
        return EXIT_INTERNAL;
    return failed ? EXIT_UNEXPECTED : EXIT_OK;
}

static int cmd_report(int argc, char **argv)
{
    outputs out = {0};
    static const struct option opts[] = {{"json", required_argument, 0, 'J'},
                                         {"junit", required_argument, 0, 'U'},
                                         {"html", required_argument, 0, 'H'},
                                         {"tap", no_argument, 0, 'T'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'J':
        case 'U':
        case 'H':
        case 'T':
            set_output(&out, c, optarg);
            break;
        case 'h':
            printf("usage: %s report [--html FILE] [--junit FILE] [--json "
                   "FILE] [--tap] RESULTS.json...\n",
                   prog);
            return EXIT_OK;
        default:
            return usage_error("report: unknown or incomplete option '%s'",
                               argv[optind - 1]);
        }
    }
    int n = argc - optind;
    if (n < 1)
        return usage_error("report needs at least one RESULTS.json");
    rl__loaded *files = calloc((size_t)n, sizeof *files);
    if (!files)
        return EXIT_INTERNAL;
    int code = EXIT_OK;
    for (int i = 0; i < n; i++) {
        int err = rl__results_read(argv[optind + i], &files[i]);
        if (err < 0) {
            fprintf(stderr, "%s: %s\n", prog, rl_last_error());
            code = err == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
            for (int k = 0; k <= i; k++)
                rl__loaded_free(&files[k]);
            free(files);
            return code;
        }
    }
    rl__loaded merged;
    memset(&merged, 0, sizeof merged);
    int err = rl__results_merge(files, n, &merged);
    for (int i = 0; i < n; i++)
        rl__loaded_free(&files[i]);
    free(files);
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", prog, rl_last_error());
        rl__loaded_free(&merged);
        return err == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
    }
    if (merged.note)
        fprintf(stderr, "%s: %s\n", prog, merged.note);
    setup_color("auto");
    int unexpected = 0;
    for (int i = 0; i < merged.n; i++) {
        if (!out.tap)
            print_result(&merged.results[i], merged.seed);
        unexpected |= !rl__result_as_expected(&merged.results[i]);
    }
    rl__report rep = rl__loaded_report(&merged);
    if (write_outputs(&out, &rep))
        code = EXIT_INTERNAL;
    else if (unexpected)
        code = EXIT_UNEXPECTED;
    rl__loaded_free(&merged);
    return code;
}

/* Whether the results written to stdout were lost: a write or the final
 * flush failed (a full disk, /dev/full, an I/O error). A pipe or socket
 * whose reader has gone (racelab list | head -1) only ends the output.
 * Prints the reason on stderr. */
static int stdout_failed(void)
{
    errno = 0;
    int flush_failed = fflush(stdout) != 0;
    int e = flush_failed ? errno : stdout_errno;
    if (!flush_failed && !ferror(stdout))
        return 0;
    struct stat st;
    if (e == EPIPE || (!e && fstat(STDOUT_FILENO, &st) == 0 &&
                       (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))))
        return 0;
    fprintf(stderr, "%s: writing to standard output failed: %s\n", prog,
            e ? strerror(e) : "a write error");
    return 1;
}

static int dispatch(int argc, char **argv);

int rl_main(int argc, char **argv)
{
    int code = dispatch(argc, argv);
    /* Results that never reached stdout are no success. */
    if (stdout_failed() && (code == EXIT_OK || code == EXIT_UNEXPECTED))
        code = EXIT_INTERNAL;
    return code;
}

static int dispatch(int argc, char **argv)
{
    setlocale(LC_NUMERIC, "C");
    /* A closed stdout (racelab list | head -1) ends the output, not the
     * program: executions and reports still finish. The scenarios get the
     * default back (see rl__execute). */
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);
    rl__cli_ignores_sigpipe = old_pipe.sa_handler == SIG_DFL;
    free(full_argv_line);
    full_argv_line = join_args(argc, argv);
    if (argc < 2) {
        print_help();
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        print_help();
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("racelab %s\n", RL_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(argc - 1, argv + 1, 0);
    if (strcmp(cmd, "minimize") == 0)
        return cmd_replay(argc - 1, argv + 1, 1);
    if (strcmp(cmd, "stress") == 0)
        return cmd_stress(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    return usage_error("unknown command '%s' (see %s --help)", cmd, prog);
}
