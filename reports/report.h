/* report.h: the writers over the results model (JSON, JUnit, TAP, HTML),
 * the reader of results files and their merge; internal to racelab. The
 * writers know the results model (harness/results.h) and nothing else of
 * racelab. */
#ifndef RL_REPORT_H
#define RL_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../harness/results.h"
#include "text.h"

/* One run of the command line: its results and what describes it. */
typedef struct {
    const rl__result *results;
    int n;
    uint64_t seed;
    const char *started_at; /* ISO 8601, UTC */
    const char *command_line;
    int tap_version; /* 13 (also for 0) or 14 */
} rl__report;

/* Writes the results as JSON (schema racelab-results/1). Returns 0, or -1
 * when writing failed. */
int rl__report_json(FILE *f, const rl__report *rep);

/* Writes the report to path atomically: a temporary file in the same
 * directory (a random name, created exclusively, never through a symbolic
 * link), given the mode and owner of the file it replaces (a new file:
 * 0666 less the umask), renamed over path once complete. The temporary is
 * removed on every failure, and by a stop signal (SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT whose action is the default) that arrives meanwhile. A device,
 * FIFO or symbolic link that exists at path is written in place. writer is
 * one of the rl__report_* functions. Returns 0 or -errno (message in
 * rl_last_error). */
int rl__report_to_file(const char *path, const rl__report *rep,
                       int (*writer)(FILE *, const rl__report *));

/* ---- results files read back and merged (jsonread.c, merge.c) ---- */

/* A results model read from a file or merged from several: owns every
 * result and every string. */
typedef struct {
    rl__result *results;
    int n;
    uint64_t seed;
    char *started_at;
    char *command_line;
    char *path; /* the file it was read from; NULL when merged */
    /* merged: a remark for the user (different seeds), or NULL */
    char *note;
} rl__loaded;

/* Reads one results file (schema racelab-results/1) into out. Unknown
 * fields are ignored; a missing required field, a wrong type or value, a
 * wrong schema or malformed JSON is an error. Returns 0; -EINVAL when the
 * file is not valid results (rl_last_error names the file, line:column
 * and what is wrong); -errno when it cannot be read. On error out is
 * left empty (rl__loaded_free on it is harmless). */
int rl__results_read(const char *path, rl__loaded *out);

/* Frees what a loaded model owns and empties it. */
void rl__loaded_free(rl__loaded *l);

/* Merges shards: one result per scenario name (counts and durations
 * summed, the first failure with the fewest runs to it, coverage the
 * maximum), in name order. out is independent of files. Returns 0,
 * -EINVAL when the parts cannot be merged (message in rl_last_error) or
 * -ENOMEM. */
int rl__results_merge(rl__loaded *files, int nfiles, rl__loaded *out);

/* The report over a loaded model, for the writers; valid while l is. */
rl__report rl__loaded_report(const rl__loaded *l);

/* ---- JUnit, TAP and HTML (junit.c, tap.c, html.c) ---- */

/* Writes the results as JUnit XML: one testsuite per scenario family (the
 * name before the first '.'), one testcase per scenario. A scenario that
 * behaved as expected passes; an unexpected CRASH, TIMEOUT or ERROR is an
 * error, any other unexpected outcome a failure. Returns 0, or -1 when
 * writing failed. */
int rl__report_junit(FILE *f, const rl__report *rep);

/* Writes the results as TAP version 14: the plan, then one test point per
 * scenario with a YAML block. Returns 0, or -1 when writing failed. */
int rl__report_tap(FILE *f, const rl__report *rep);

/* Writes the results as one self-contained HTML page (inline CSS and SVG,
 * no script, no network). Returns 0, or -1 when writing failed. */
int rl__report_html(FILE *f, const rl__report *rep);

/* How a result goes wrong for a test report: 0 as expected, 2 an error
 * (unexpected CRASH, TIMEOUT or ERROR), 1 any other unexpected outcome
 * (a failure). */
int rl__report_unexpected_kind(const rl__result *r);

#endif
