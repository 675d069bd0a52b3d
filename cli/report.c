/* report.c: racelab report RESULTS.json...: results files read back,
 * merged (shards) and written again as the reports asked for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Reads the n files of paths and merges them into *merged. Returns 0, or
 * the exit status after saying what went wrong. */
static int read_merged(char **paths, int n, rl__loaded *merged)
{
    memset(merged, 0, sizeof *merged);
    rl__loaded *files = calloc((size_t)n, sizeof *files);
    if (!files)
        return EXIT_INTERNAL;
    for (int i = 0; i < n; i++) {
        int err = rl__results_read(paths[i], &files[i]);
        if (err < 0) {
            fprintf(stderr, "%s: %s\n", rl__cli_prog, rl_last_error());
            for (int k = 0; k <= i; k++)
                rl__loaded_free(&files[k]);
            free(files);
            return err == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
        }
    }
    int err = rl__results_merge(files, n, merged);
    for (int i = 0; i < n; i++)
        rl__loaded_free(&files[i]);
    free(files);
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", rl__cli_prog, rl_last_error());
        rl__loaded_free(merged);
        return err == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
    }
    return 0;
}

int rl__cli_report(int argc, char **argv)
{
    rl__cli_args a;
    int code = rl__cli_parse(RL__CMD_REPORT, argc, argv, &a);
    if (code)
        return code == 1 ? EXIT_OK : code;
    int n = argc - a.next;
    if (n < 1)
        return rl__cli_usage_error("report needs at least one RESULTS.json");
    rl__loaded merged;
    if ((code = read_merged(argv + a.next, n, &merged)) != 0)
        return code;
    if (merged.note)
        fprintf(stderr, "%s: %s\n", rl__cli_prog, merged.note);
    rl__term t = rl__term_open(RL__COLOR_AUTO, rl__cli_invoked);
    int unexpected = 0;
    for (int i = 0; i < merged.n; i++) {
        if (!a.out.tap)
            rl__term_result(&t, &merged.results[i]);
        unexpected |= !rl__result_as_expected(&merged.results[i]);
    }
    rl__report rep = rl__loaded_report(&merged);
    if (rl__cli_write_outputs(&a.out, &rep))
        code = EXIT_INTERNAL;
    else if (unexpected)
        code = EXIT_UNEXPECTED;
    rl__loaded_free(&merged);
    return code;
}
