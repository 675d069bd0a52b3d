/* report.h: the writers over the results model (terminal, JSON); internal
 * to racelab. */
#ifndef RL_REPORT_H
#define RL_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../harness/harness.h"

/* One run of the command line: its results and what describes it. */
typedef struct {
    const rl__search_result *results;
    int n;
    uint64_t seed;
    const char *started_at;   /* ISO 8601, UTC */
    const char *command_line;
} rl__report;

/* Writes the results as JSON (schema racelab-results/1). Returns 0, or -1
 * when writing failed. */
int rl__report_json(FILE *f, const rl__report *rep);

/* Writes the report to path atomically: a temporary file in the same
 * directory, renamed over path once complete. writer is one of the
 * rl__report_* functions. Returns 0 or -errno (message in
 * rl_last_error). */
int rl__report_to_file(const char *path, const rl__report *rep,
                       int (*writer)(FILE *, const rl__report *));

/* The name of a search mode ("explore", "pct", ...). */
const char *rl__mode_name(int mode);

/* ---- results files read back and merged (jsonread.c, merge.c) ---- */

/* A results model read from a file or merged from several: owns every
 * result, its scenario (a malloc'd copy with malloc'd strings) and its
 * first failure. */
typedef struct {
    rl__search_result *results;
    int n;
    uint64_t seed;
    char *started_at;
    char *command_line;
    char *path;          /* the file it was read from; NULL when merged */
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

#endif
