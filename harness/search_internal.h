/* search_internal.h: what the parts of the search share (tokens.c,
 * coverage.c, search.c, explore.c, sampled.c, minimize.c). Internal to the
 * harness; harness.h stays the harness's interface. */
#ifndef RL_SEARCH_INTERNAL_H
#define RL_SEARCH_INTERNAL_H

#include <stdint.h>

#include "harness.h"

/* The most decisions a token may hold, whatever its scenario's bound. */
#define RL__TOKEN_MAX_DECISIONS 10000000

/* rl__token_decode with a bound on the decisions: a token that holds more
 * than limit of them is refused as soon as its runs say so, before they
 * are expanded. Returns 0 with *name and *d malloc'd, or a negative errno
 * with the detail in rl_last_error(). */
int rl__token_decode_bounded(const char *token, long limit, char **name,
                             uint8_t **d, long *n);

/* What a replay chooses by itself at step i of a trace (see tokens.c). */
int rl__default_choice(const rl__step *steps, long i);

/* The token of an execution of sc: malloc'd, or NULL when out of memory. */
char *rl__token_of(const rl_scenario *sc, const rl__exec_result *e);

#define RL__COV_SLOTS 4096

/* What a search has covered: schedule points, preempted pairs and labels,
 * each a set of hashes. Zero-initialised is empty. */
typedef struct {
    uint64_t points[RL__COV_SLOTS];
    uint64_t pairs[RL__COV_SLOTS];
    uint64_t labels[RL__COV_SLOTS];
    long npoints, npairs, nlabels;
} rl__coverage;

/* Adds what the execution covered to c. */
void rl__cover(rl__coverage *c, const rl__exec_result *e);

/* The execution parameters every search starts from: controlled, with the
 * step bound and the timeout of the options, else the scenario's, else
 * the defaults. */
void rl__base_params(const rl_scenario *sc, const rl__search_opts *o,
                     rl__exec_params *p);

/* Counts an outcome value in the search's histogram. */
void rl__record_value(rl__search_result *r, long v);

/* Counts an execution in the search's result and keeps it as the first
 * failure if it is one; frees it otherwise. Returns 1 when the search
 * should stop. */
int rl__account(const rl_scenario *sc, rl__search_result *r, rl__exec_result *e,
                long run);

/* Gives each access of the first races of r's kept failure its stack
 * (races_stack.c): the failure runs again under its decisions, stopped
 * before each racing step while the process about to access is unwound.
 * Nothing when the search found no race or kept no failure. */
void rl__races_stacks(const rl_scenario *sc, rl__search_result *r);

/* Fills the duration and the coverage counts of a search begun at t0. */
void rl__search_finish(const rl_scenario *sc, rl__search_result *r,
                       rl__coverage *cov, double t0);

/* The systematic search (explore.c) and the sampled ones, PCT, random and
 * stress (sampled.c). Each returns 0 or a negative errno; r holds what
 * ran either way. */
int rl__explore(const rl_scenario *sc, const rl__search_opts *o,
                rl__search_result *r, rl__coverage *cov);
int rl__sampled(const rl_scenario *sc, const rl__search_opts *o,
                rl__search_result *r, rl__coverage *cov);

#endif /* RL_SEARCH_INTERNAL_H */
