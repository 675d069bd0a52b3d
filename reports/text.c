/* text.c: the text every writer shares: text from scenarios and commands
 * cleaned for reports, UTF-8, XML, HTML and JSON escaping, shell quoting
 * and the C locale for numbers. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* Skips the ANSI escape sequence that starts at p (an ESC byte): CSI
 * (ESC [ ... final), string commands (OSC, DCS, PM, APC: up to BEL or
 * ESC \) and two-byte escapes. Returns the first byte after it. */
static const unsigned char *skip_escape(const unsigned char *p)
{
    p++;
    if (*p == '[') {
        p++;
        while (*p >= 0x20 && *p <= 0x3f)
            p++;
        if (*p >= 0x40 && *p <= 0x7e)
            p++;
    } else if (*p == ']' || *p == 'P' || *p == '^' || *p == '_') {
        p++;
        while (*p && *p != 0x07 && !(p[0] == 0x1b && p[1] == '\\'))
            p++;
        if (*p == 0x07)
            p++;
        else if (*p == 0x1b)
            p += 2;
    } else {
        while (*p >= 0x20 && *p <= 0x2f)
            p++;
        if (*p >= 0x30 && *p <= 0x7e)
            p++;
    }
    return p;
}

uint32_t rl__report_next_char(const char **sp)
{
    const unsigned char *p = (const unsigned char *)*sp;
    for (;;) {
        if (!*p)
            break;
        if (*p == 0x1b) {
            p = skip_escape(p);
            continue;
        }
        if (*p < 0x80) {
            uint32_t c = *p++;
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                continue;
            *sp = (const char *)p;
            return c;
        }
        int n;
        uint32_t c, min;
        if ((*p & 0xe0) == 0xc0) {
            n = 1, c = *p & 0x1f, min = 0x80;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 2, c = *p & 0x0f, min = 0x800;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 3, c = *p & 0x07, min = 0x10000;
        } else {
            *sp = (const char *)(p + 1);
            return 0xfffd;
        }
        int i;
        for (i = 1; i <= n && (p[i] & 0xc0) == 0x80; i++)
            c = c << 6 | (p[i] & 0x3f);
        if (i <= n) {
            *sp = (const char *)(p + 1);
            return 0xfffd;
        }
        p += n + 1;
        if (c >= 0x80 && c <= 0x9f)
            continue; /* C1 controls */
        *sp = (const char *)p;
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
            c == 0xfffe || c == 0xffff)
            return 0xfffd;
        return c;
    }
    *sp = (const char *)p;
    return 0;
}

size_t rl__utf8_encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3f));
    out[2] = (char)(0x80 | (c >> 6 & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

void rl__report_put_char(FILE *f, uint32_t c)
{
    char b[4];
    fwrite(b, 1, rl__utf8_encode(c, b), f);
}

void rl__report_xml_text(FILE *f, const char *s, int attr)
{
    if (!s)
        return;
    uint32_t c;
    while ((c = rl__report_next_char(&s))) {
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        case '\n':
            fputs(attr ? "&#10;" : "\n", f);
            break;
        case '\t':
            fputs(attr ? "&#9;" : "\t", f);
            break;
        default:
            rl__report_put_char(f, c);
        }
    }
}

void rl__json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;
         p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

char *rl__report_shell_quote(const char *s)
{
    size_t n = 3;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *out = malloc(n);
    if (!out)
        return NULL;
    char *o = out;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

char *rl__report_program(const char *command_line)
{
    const char *s = command_line ? command_line : "";
    while (*s == ' ')
        s++;
    const char *e = s;
    int quoted = 0;
    for (; *e && (quoted || *e != ' '); e++)
        if (*e == '\'')
            quoted = !quoted;
    if (e == s || quoted)
        return strdup("racelab");
    return strndup(s, (size_t)(e - s));
}

void *rl__report_c_locale(void)
{
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c == (locale_t)0)
        return NULL;
    locale_t old = uselocale(c);
    /* Both are returned through one pointer: the caller gives it back to
     * rl__report_restore_locale. */
    locale_t *pair = malloc(2 * sizeof *pair);
    if (!pair) {
        uselocale(old);
        freelocale(c);
        return NULL;
    }
    pair[0] = old;
    pair[1] = c;
    return pair;
}

void rl__report_restore_locale(void *saved)
{
    locale_t *pair = saved;
    if (!pair)
        return;
    uselocale(pair[0]);
    freelocale(pair[1]);
    free(pair);
}
