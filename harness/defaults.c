/* defaults.c: the values of the defaults declared in defaults.h. */
#include "defaults.h"

const rl__defaults rl__default = {
    .max_steps = 10000,
    .timeout = 10.0,
    .preemptions = 2,
    .depth = 3,
    .runs = 100,
    .explore_limit = 1000000,
    .minimize_budget = 500,
};
