/* terminal.h: the terminal writer: result lines, the trace table, the
 * stress summary, the progress bar and colour; internal to racelab. */
#ifndef RL_TERMINAL_H
#define RL_TERMINAL_H

#include <stdio.h>

#include "../harness/harness.h"

/* When to colour: the indices of the words of --color. */
enum { RL__COLOR_AUTO, RL__COLOR_ALWAYS, RL__COLOR_NEVER };

/* Where and how the terminal writer writes. */
typedef struct {
    FILE *out;        /* results (stdout) */
    FILE *err;        /* progress (stderr) */
    int color;        /* ANSI colours on out */
    const char *prog; /* the program's name, in hints and progress lines */
} rl__term;

/* A writer on stdout and stderr for the program prog, coloured as when
 * says (RL__COLOR_*); auto: when stdout is a terminal and NO_COLOR is not
 * set. */
rl__term rl__term_open(int when, const char *prog);

/* Text from a scenario or a command (names, messages, captured output)
 * for the terminal: control bytes, ESC among them, and C1 controls are
 * shown as \xNN, so they cannot move the cursor, retitle the window or
 * hide text. A backslash stays as it is; newline and tab stay when lines
 * is set. Returns s escaped in a static buffer (one of four in turn, so a
 * printf may take several), cut at 4 KiB. */
const char *rl__term_text(const char *s, int lines);

/* One scenario's result line (mark, name, verdict, mode, counts and what
 * the mode adds), the stress histogram, and for a failure its message and
 * the replay commands. */
void rl__term_result(const rl__term *t, const rl__result *r);

/* The trace of one execution as a table: step, actor, pid, operation,
 * object, value and where. */
void rl__term_trace(const rl__term *t, const rl__exec_result *e);

/* The verdict of a replay, coloured, and its message. */
void rl__term_replay(const rl__term *t, const rl__search_result *r);

/* What minimize found: the verdict, the minimized token and how to replay
 * it. */
void rl__term_minimized(const rl__term *t, const rl__search_result *r);

/* The summary of an external command's stress: runs, failures and their
 * rate with its 95% interval, the runs per class, the first failure and
 * the output kept of the first failing runs. */
void rl__term_stress(const rl__term *t, const rl__result *r);

/* Progress on t->err: a bar redrawn in place when it is a terminal, a
 * plain line per call otherwise. bad counts the runs that are what
 * names; t0 is when the work started (rl__now). */
void rl__term_progress(const rl__term *t, long done, long total, long bad,
                       const char *what, double t0);

#endif /* RL_TERMINAL_H */
