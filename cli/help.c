/* help.c: the program's help and every command's help, made from the
 * command and option tables, so that what the help says and what the
 * parser takes cannot differ. tools/mkman makes the man page, and
 * tools/mkcompletion the shell completion, from the same tables. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define WIDTH 79  /* the last column a help line may use */
#define COLUMN 22 /* where the options' and commands' texts start */

/* Prints text word by word from column col on, breaking lines before
 * WIDTH and starting each new line at column indent; ends with a
 * newline. */
static void wrap(const char *text, int col, int indent)
{
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (col > indent && col + 1 + (int)len > WIDTH) {
            printf("\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            putchar(' ');
            col++;
        }
        printf("%.*s", (int)len, p);
        col += (int)len;
        p += len;
        while (*p == ' ')
            p++;
    }
    putchar('\n');
}

/* Whether option o is one a command shows in its help and usage. */
static int shown(const rl__cli_option *o, int cmd)
{
    return (o->commands & cmd) && strcmp(o->name, "help") != 0;
}

/* " ARG", or "[=ARG]" for an optional one, after an option's name. */
static const char *arg_of(const rl__cli_option *o, char *buf, size_t size)
{
    if (!o->arg)
        snprintf(buf, size, "%s", "");
    else if (o->type == RL__ARG_VERSION)
        snprintf(buf, size, "[=%s]", o->arg);
    else
        snprintf(buf, size, " %s", o->arg);
    return buf;
}

/* "[--name ARG]" for the usage line, into buf. */
static void bracketed(const rl__cli_option *o, char *buf, size_t size)
{
    char arg[48];
    snprintf(buf, size, "[--%s%s]", o->name, arg_of(o, arg, sizeof arg));
}

const char rl__cli_tagline[] =
    "Find, reproduce and explain races between processes.";

const char rl__cli_exit_status[] =
    "exit status: 0 as expected, 1 some scenario was not, 2 bad usage or "
    "input, 3 internal error.";

int rl__cli_operands_last(const rl__cli_command *c)
{
    return strncmp(c->operands, "--", 2) == 0;
}

void rl__cli_option_default(const rl__cli_option *o, char *buf, size_t size)
{
    if (o->def && o->type == RL__ARG_DOUBLE)
        snprintf(buf, size, "%g", *(const double *)o->def);
    else if (o->def)
        snprintf(buf, size, "%ld", *(const long *)o->def);
    else if (o->def_text)
        snprintf(buf, size, "%s", o->def_text);
    else
        snprintf(buf, size, "%s", "");
}

/* A command as the list of commands shows it: its name, the operands and
 * its one option or [OPTIONS]; into buf. */
static void brief(const rl__cli_command *c, char *buf, size_t size)
{
    const rl__cli_option *one = NULL;
    int n = 0;
    for (const rl__cli_option *o = rl__cli_options; o->name; o++)
        if (shown(o, c->id)) {
            one = o;
            n++;
        }
    char opts[64] = "";
    if (n == 1)
        bracketed(one, opts, sizeof opts);
    else if (n > 1)
        snprintf(opts, sizeof opts, "[OPTIONS]");
    const char *first = rl__cli_operands_last(c) ? opts : c->operands;
    const char *second = rl__cli_operands_last(c) ? c->operands : opts;
    snprintf(buf, size, "%s%s%s%s%s", c->name, first[0] ? " " : "", first,
             second[0] ? " " : "", second);
}

/* The usage lines of command c: every option it takes in brackets. */
static void usage(const rl__cli_command *c)
{
    int col = printf("usage: %s %s", rl__cli_prog, c->name);
    char word[96];
    if (!rl__cli_operands_last(c) && c->operands[0])
        col += printf(" %s", c->operands);
    for (const rl__cli_option *o = rl__cli_options; o->name; o++) {
        if (!shown(o, c->id))
            continue;
        bracketed(o, word, sizeof word);
        if (col + 1 + (int)strlen(word) > WIDTH)
            col = printf("\n      ") - 1;
        col += printf(" %s", word);
    }
    if (rl__cli_operands_last(c)) {
        if (col + 1 + (int)strlen(c->operands) > WIDTH)
            col = printf("\n      ") - 1;
        printf(" %s", c->operands);
    }
    putchar('\n');
}

/* One option's lines in a command's help: its name and argument, its
 * text, and its default. */
static void option_help(const rl__cli_option *o)
{
    char head[64], text[400], def[48];
    char arg[48];
    snprintf(head, sizeof head, "  --%s%s", o->name,
             arg_of(o, arg, sizeof arg));
    rl__cli_option_default(o, def, sizeof def);
    snprintf(text, sizeof text, "%s%s%s%s", o->help, def[0] ? " (default " : "",
             def, def[0] ? ")" : "");
    int col = printf("%s", head);
    if (col + 2 > COLUMN) {
        printf("\n");
        col = 0;
    }
    printf("%*s", COLUMN - col, "");
    wrap(text, COLUMN, COLUMN);
}

/* The help of the program: the commands and what each does. */
static void program_help(void)
{
    printf("usage: %s COMMAND [OPTIONS]\n\n%s\n\ncommands:\n", rl__cli_prog,
           rl__cli_tagline);
    for (const rl__cli_command *c = rl__cli_commands; c->name; c++) {
        char b[96];
        brief(c, b, sizeof b);
        int col = printf("  %s", b);
        if (col + 2 > COLUMN + 10) {
            printf("\n");
            col = 0;
        }
        printf("%*s%s\n", COLUMN + 10 - col, "", c->summary);
    }
    printf("\n");
    char more[96];
    snprintf(more, sizeof more,
             "%s COMMAND --help prints the options of "
             "a command.",
             rl__cli_prog);
    wrap(more, 0, 0);
    printf("\n");
    wrap(rl__cli_exit_status, 0, 0);
}

void rl__cli_help(int cmd)
{
    const rl__cli_command *c = rl__cli_commands;
    while (c->name && c->id != cmd)
        c++;
    if (!c->name) {
        program_help();
        return;
    }
    usage(c);
    printf("\n");
    wrap(c->description, 0, 0);
    printf("\noptions:\n");
    for (const rl__cli_option *o = rl__cli_options; o->name; o++)
        if (o->commands & cmd)
            option_help(o);
}
