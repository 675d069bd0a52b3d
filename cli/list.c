/* list.c: racelab list: the scenarios linked into the program and what
 * they expect, as text or JSON. */
#include <stdio.h>

#include "../reports/text.h"
#include "cli.h"

/* The verdict a bug shows, or "" (a clean scenario, or a bug with any
 * failing verdict). */
static const char *expected_verdict(const rl_scenario *s)
{
    return s->expect == RL_EXPECT_BUG && s->expect_verdict
               ? rl_verdict_name(s->expect_verdict)
               : "";
}

int rl__cli_list(int argc, char **argv)
{
    rl__cli_args a;
    int err = rl__cli_parse(RL__CMD_LIST, argc, argv, &a);
    if (err)
        return err == 1 ? EXIT_OK : err;
    if (a.next < argc)
        return rl__cli_usage_error("list: unknown option '%s'", argv[a.next]);
    if (a.json_list)
        printf("[");
    int first = 1;
    for (rl_scenario *s = rl__scenarios(); s; s = s->next) {
        const char *exp = s->expect == RL_EXPECT_BUG ? "bug" : "clean";
        const char *verdict = expected_verdict(s);
        if (a.json_list) {
            printf("%s\n  {\"name\": ", first ? "" : ",");
            rl__json_string(stdout, s->name);
            printf(", \"expect\": \"%s\", \"expect_verdict\": \"%s\", "
                   "\"summary\": ",
                   exp, verdict);
            rl__json_string(stdout, s->summary);
            printf("}");
        } else {
            char e[32];
            snprintf(e, sizeof e, "%s%s%s", exp, verdict[0] ? ":" : "",
                     verdict);
            printf("%-28s %-15s %s\n", rl__term_text(s->name, 0), e,
                   rl__term_text(s->summary, 0));
        }
        first = 0;
    }
    if (a.json_list)
        printf("\n]\n");
    return EXIT_OK;
}
