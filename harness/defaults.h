/* defaults.h: the defaults of a search, each written once: the engine
 * applies them to options left at zero, and the command line shows them in
 * its help. */
#ifndef RL_DEFAULTS_H
#define RL_DEFAULTS_H

/* Numbers are long or double, so that the help can show each through a
 * pointer of one of two types. */
typedef struct {
    long max_steps;       /* schedule points per execution */
    double timeout;       /* wall clock per execution (or run), seconds */
    long preemptions;     /* explore's bound */
    long depth;           /* pct's depth */
    long runs;            /* pct, random and stress executions; runs of
                             an external command */
    long explore_limit;   /* explore's executions when no limit is given */
    long minimize_budget; /* the executions minimize may try */
} rl__defaults;

/* The one set of defaults; read-only, valid in every process. */
extern const rl__defaults rl__default;

#endif /* RL_DEFAULTS_H */
