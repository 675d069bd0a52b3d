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

#endif
