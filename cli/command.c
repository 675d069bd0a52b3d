/* command.c: the "-- COMMAND [ARG...]" form of run, replay and minimize:
 * an unmodified program as the one scenario, under the scheduler. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

char **rl__cli_split_command(int *argc, char **argv)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            char **cmd = argv + i + 1;
            *argc = i;
            return cmd;
        }
    }
    return NULL;
}

int rl__cli_command_scenario(char **cmd, const rl__cli_args *a,
                             rl_scenario **sc)
{
    *sc = NULL;
    if (!cmd)
        return 0;
    if (!cmd[0])
        return rl__cli_usage_error("no COMMAND after --");
    int err = rl__command_scenario(cmd, a->expect_verdict, sc);
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", rl__cli_prog, rl_last_error());
        return EXIT_USAGE;
    }
    return 0;
}
