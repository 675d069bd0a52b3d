/* text.h: the text every writer shares: cleaning of scenario and command
 * text, UTF-8, escaping for XML, HTML and JSON, shell quoting and the C
 * locale; internal to racelab. */
#ifndef RL_TEXT_H
#define RL_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The next character of *s for a text report, as a code point; 0 at the
 * end. ANSI escape sequences and control characters other than newline
 * and tab are skipped; a byte that is not UTF-8 becomes U+FFFD. Advances
 * *s past what it consumed. */
uint32_t rl__report_next_char(const char **s);

/* Writes code point c (at most U+10FFFF) as UTF-8 into out, which has
 * room for 4 bytes. Returns the bytes written. The one UTF-8 encoder of
 * racelab. */
size_t rl__utf8_encode(uint32_t c, char *out);

/* Writes code point c as UTF-8. */
void rl__report_put_char(FILE *f, uint32_t c);

/* Writes s cleaned (rl__report_next_char) and escaped for XML and HTML
 * (& < > " '). attr: for an attribute value, newline and tab as character
 * references. NULL writes nothing. */
void rl__report_xml_text(FILE *f, const char *s, int attr);

/* Writes s as a JSON string, quotes included: '"' and '\' escaped,
 * newline, tab and carriage return as \n, \t and \r, other bytes below
 * 0x20 and 0x7f as \u00XX, bytes from 0x80 up as they are. NULL is
 * written as "". The one JSON string escaper of racelab. */
void rl__json_string(FILE *f, const char *s);

/* s quoted for a POSIX shell ('...'), malloc'd; NULL when out of
 * memory. */
char *rl__report_shell_quote(const char *s);

/* The program a report's hints should run (replay, minimize): the first
 * word of the command line that made the results, as the shell read it
 * (quotes kept), so that a user's own program built with rl_main names
 * itself; "racelab" without a command line. Malloc'd; NULL when out of
 * memory. */
char *rl__report_program(const char *command_line);

/* Switches this thread to the C locale for numbers; returns what
 * rl__report_restore_locale needs to switch back (NULL: nothing was
 * changed). */
void *rl__report_c_locale(void);
void rl__report_restore_locale(void *saved);

#endif /* RL_TEXT_H */
