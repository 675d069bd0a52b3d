/* board.h: the job board, the memory the command line shares with its job
 * workers (jobs.c): the tasks and their results, each failing task's
 * token and failing execution. Not installed. */
#ifndef RL_BOARD_H
#define RL_BOARD_H

#include <signal.h>

#include "frontier.h"
#include "harness.h"

enum { T_PENDING, T_RUNNING, T_DONE, T_SKIPPED };

/* The races of passing executions a task hands back. */
#define TASK_RACES 8

/* One task: a subtree of a scenario's exploration or a slice of its
 * sampled runs, and what its worker found there. */
typedef struct {
    int scenario;
    long nparts; /* tasks of this scenario */
    long nprefix;
    uint8_t prefix[RL__MAX_PREFIX];
    long offset; /* sampled slice */
    /* explore: the executions it may still run up to (LONG_MAX: all),
     * lowered by the workers as failures are found */
    volatile long budget;
    /* results */
    int state;
    int worker; /* the index of the worker that runs or ran it */
    int err;
    int verdict;
    int exhausted;
    long executions, failures, first_failure_run;
    double started, ended;
    int nvalues;
    long values[RL__HIST_MAX], counts[RL__HIST_MAX];
    long points, labels, pairs;
    double explored;
    int pct_depth, pct_actors;
    long pct_steps;
    int has_token;
    int token_overflow;
    char message[RL__MSG_LEN];
    /* the races of its passing executions (--races report) */
    int nraces;
    rl__race races[TASK_RACES];
} rl__task;

typedef struct {
    char *tokens;  /* ntasks token slots, shared */
    char *details; /* ntasks failure slots of slot bytes, shared, or NULL */
    size_t slot;
    size_t size; /* of this mapping */
    long next;   /* the next task to take */
    volatile sig_atomic_t stop;
    long ntasks;
    rl__task tasks[];
} rl__board;

/* Maps a board shared with processes forked later, holding the ntasks
 * tasks of plan (copied), with room for each task's token and for a
 * failing execution of up to max_steps steps. Returns the board, or NULL
 * with the detail in rl_last_error(). */
rl__board *rl__board_make(const rl__task *plan, long ntasks, long max_steps);

/* Unmaps a board made by rl__board_make (NULL: nothing). */
void rl__board_free(rl__board *b);

/* Keeps task t's token (worker side); a token too long for its slot
 * marks the task token_overflow instead. */
void rl__board_put_token(rl__board *b, rl__task *t, const char *token);

/* Task t's token as its worker kept it: a malloc'd copy, or NULL (none,
 * or it overflowed: see token_overflow). */
char *rl__board_token(const rl__board *b, const rl__task *t);

/* Keeps task t's failing execution e (worker side), its trace, actors
 * and races included, when it fits the task's slot. */
void rl__board_put_failure(rl__board *b, const rl__task *t,
                           const rl__exec_result *e);

/* Task t's failing execution as its worker kept it, into *e (malloc'd
 * copies of the trace and actors, freed by rl__exec_result_free).
 * Returns 0, or -1 when the worker kept none. */
int rl__board_failure(const rl__board *b, const rl__task *t,
                      rl__exec_result *e);

#endif /* RL_BOARD_H */
