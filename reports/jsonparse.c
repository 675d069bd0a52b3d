/* jsonparse.c: a small strict JSON parser into a tree owned by one bump
 * allocator, and the loading of a JSON file (typed access to the tree is
 * jsonget.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h" /* rl__fail */
#include "jsonparse.h"
#include "text.h"

#define MAX_DEPTH 64

/* ---- a bump allocator that owns the whole parse tree ---- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

typedef struct {
    chunk *head;
} pool;

/* Returns size bytes (aligned, not zeroed) owned by the pool, or NULL. */
static void *pool_alloc(pool *pl, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    chunk *c = pl->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > 65536 ? size : 65536;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = pl->head;
        pl->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    return p;
}

/* Frees everything the pool handed out. */
static void pool_free(pool *pl)
{
    while (pl->head) {
        chunk *n = pl->head->next;
        free(pl->head);
        pl->head = n;
    }
}

/* ---- the JSON tree ---- */

typedef struct {
    const char *p, *end, *line_start;
    int line;
    int depth;
    pool *pl;
    int eline, ecol; /* where the error is */
    char err[200];   /* empty: none */
} parser;

static int col_of(const parser *ps, const char *at)
{
    return (int)(at - ps->line_start) + 1;
}

/* Records a syntax error at the current position (the first one wins). */
__attribute__((format(printf, 2, 3))) static rl__json *
perr(parser *ps, const char *fmt, ...)
{
    if (ps->err[0])
        return NULL;
    ps->eline = ps->line;
    ps->ecol = col_of(ps, ps->p);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err, sizeof ps->err, fmt, ap);
    va_end(ap);
    if (!ps->err[0])
        snprintf(ps->err, sizeof ps->err, "invalid JSON");
    return NULL;
}

/* What is at the current position, for messages. */
static const char *found(const parser *ps, char *buf, size_t n)
{
    if (ps->p >= ps->end)
        return "the end of the input";
    unsigned char ch = (unsigned char)*ps->p;
    if (ch > 0x20 && ch < 0x7f)
        snprintf(buf, n, "'%c'", ch);
    else
        snprintf(buf, n, "byte 0x%02x", ch);
    return buf;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end) {
        char ch = *ps->p;
        if (ch == '\n') {
            ps->line++;
            ps->line_start = ps->p + 1;
        } else if (ch != ' ' && ch != '\t' && ch != '\r') {
            return;
        }
        ps->p++;
    }
}

static rl__json *new_val(parser *ps, rl__json_type t)
{
    rl__json *v = pool_alloc(ps->pl, sizeof *v);
    if (!v)
        return perr(ps, "out of memory");
    memset(v, 0, sizeof *v);
    v->t = t;
    v->line = ps->line;
    v->col = col_of(ps, ps->p);
    return v;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits of a \u escape at ps->p (just after the u).
 * Returns the code unit, or -1 with the error recorded. */
static long hex4(parser *ps)
{
    long u = 0;
    for (int i = 0; i < 4; i++) {
        int h = ps->p + i < ps->end ? hexval(ps->p[i]) : -1;
        if (h < 0) {
            ps->p += i;
            perr(ps, "invalid \\u escape: expected 4 hex digits");
            return -1;
        }
        u = u * 16 + h;
    }
    ps->p += 4;
    return u;
}

/* Parses a string at ps->p (on the opening quote) into a pool buffer.
 * Bytes from 0x80 up are kept as they are: the writer copies them from
 * C strings without checking UTF-8, so checking here would refuse files
 * racelab itself wrote. Returns 0 or -1 with the error recorded. */
static int parse_string(parser *ps, const char **out, size_t *outlen)
{
    const char *q = ps->p + 1;
    while (q < ps->end && *q != '"') {
        if (*q == '\\' && q + 1 < ps->end)
            q++;
        q++;
    }
    /* Escapes only shrink: the raw length bounds the decoded one. */
    size_t cap = (size_t)(q - ps->p);
    char *o = pool_alloc(ps->pl, cap + 1);
    if (!o) {
        perr(ps, "out of memory");
        return -1;
    }
    size_t n = 0;
    ps->p++;
    for (;;) {
        if (ps->p >= ps->end) {
            perr(ps, "unterminated string");
            return -1;
        }
        unsigned char ch = (unsigned char)*ps->p;
        if (ch == '"') {
            ps->p++;
            break;
        }
        if (ch < 0x20) {
            perr(ps,
                 "control character 0x%02x in a string (must be "
                 "escaped)",
                 ch);
            return -1;
        }
        if (ch != '\\') {
            o[n++] = (char)ch;
            ps->p++;
            continue;
        }
        ps->p++;
        if (ps->p >= ps->end) {
            perr(ps, "unterminated string");
            return -1;
        }
        char e = *ps->p;
        const char *map = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", e);
        if (e && map && (map - "\"\"\\\\//b\bf\fn\nr\rt\t") % 2 == 0) {
            o[n++] = map[1];
            ps->p++;
            continue;
        }
        if (e != 'u') {
            ps->p--;
            if ((unsigned char)e > 0x20 && (unsigned char)e < 0x7f)
                perr(ps, "invalid escape \\%c in a string", e);
            else
                perr(ps,
                     "invalid escape in a string: byte 0x%02x after "
                     "the backslash",
                     (unsigned char)e);
            return -1;
        }
        const char *esc = ps->p - 1;
        ps->p++;
        long u = hex4(ps);
        if (u < 0)
            return -1;
        unsigned long cp = (unsigned long)u;
        if (u >= 0xdc00 && u <= 0xdfff) {
            ps->p = esc;
            perr(ps, "invalid \\u escape: low surrogate without a high one");
            return -1;
        }
        if (u >= 0xd800 && u <= 0xdbff) {
            if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                ps->p = esc;
                perr(ps, "invalid \\u escape: high surrogate without a "
                         "low one");
                return -1;
            }
            ps->p += 2;
            long lo = hex4(ps);
            if (lo < 0)
                return -1;
            if (lo < 0xdc00 || lo > 0xdfff) {
                ps->p = esc;
                perr(ps, "invalid \\u escape: high surrogate without a "
                         "low one");
                return -1;
            }
            cp = 0x10000 + (((unsigned long)u - 0xd800) << 10) +
                 ((unsigned long)lo - 0xdc00);
        }
        n += rl__utf8_encode((uint32_t)cp, o + n);
    }
    o[n] = 0;
    *out = o;
    *outlen = n;
    return 0;
}

static int is_digit(const parser *ps)
{
    return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static rl__json *parse_number(parser *ps)
{
    rl__json *v = new_val(ps, RL__JSON_NUM);
    if (!v)
        return NULL;
    const char *start = ps->p;
    v->is_int = 1;
    if (*ps->p == '-')
        ps->p++;
    if (!is_digit(ps))
        return perr(ps, "invalid number: expected a digit");
    if (*ps->p == '0') {
        ps->p++;
        if (is_digit(ps))
            return perr(ps, "invalid number: leading zero");
    } else {
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        v->is_int = 0;
        ps->p++;
        if (!is_digit(ps))
            return perr(ps, "invalid number: expected a digit after '.'");
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        v->is_int = 0;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!is_digit(ps))
            return perr(ps, "invalid number: expected a digit in the "
                            "exponent");
        while (is_digit(ps))
            ps->p++;
    }
    size_t len = (size_t)(ps->p - start);
    char *text = pool_alloc(ps->pl, len + 1);
    if (!text)
        return perr(ps, "out of memory");
    memcpy(text, start, len);
    text[len] = 0;
    v->s = text;
    v->len = len;
    return v;
}

/* A growable list of item pointers while an array or object is read. */
typedef struct {
    rl__json **items;
    const char **keys;
    int n, cap;
} vec;

static int vec_push(vec *vc, const char *key, rl__json *item)
{
    if (vc->n == vc->cap) {
        int cap = vc->cap ? vc->cap * 2 : 8;
        rl__json **ni = realloc(vc->items, sizeof *ni * (size_t)cap);
        if (!ni)
            return -1;
        vc->items = ni;
        const char **nk = realloc(vc->keys, sizeof *nk * (size_t)cap);
        if (!nk)
            return -1;
        vc->keys = nk;
        vc->cap = cap;
    }
    vc->items[vc->n] = item;
    vc->keys[vc->n++] = key;
    return 0;
}

/* Moves the list into the pool. */
static int vec_finish(parser *ps, vec *vc, rl__json *v)
{
    v->n = vc->n;
    if (vc->n) {
        v->items = pool_alloc(ps->pl, sizeof *v->items * (size_t)vc->n);
        v->keys = pool_alloc(ps->pl, sizeof *v->keys * (size_t)vc->n);
        if (!v->items || !v->keys) {
            perr(ps, "out of memory");
            return -1;
        }
        memcpy(v->items, vc->items, sizeof *v->items * (size_t)vc->n);
        memcpy(v->keys, vc->keys, sizeof *v->keys * (size_t)vc->n);
    }
    return 0;
}

static rl__json *parse_value(parser *ps);

/* Parses an array or object at ps->p (on '[' or '{'). */
static rl__json *parse_container(parser *ps, int is_obj)
{
    if (ps->depth >= MAX_DEPTH)
        return perr(ps, "nesting deeper than %d levels", MAX_DEPTH);
    rl__json *v = new_val(ps, is_obj ? RL__JSON_OBJ : RL__JSON_ARR);
    if (!v)
        return NULL;
    char close = is_obj ? '}' : ']';
    char buf[16];
    vec vc = {0};
    ps->depth++;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        goto done;
    }
    for (;;) {
        const char *key = NULL;
        skip_ws(ps);
        if (is_obj) {
            size_t klen;
            if (ps->p >= ps->end || *ps->p != '"') {
                perr(ps, "expected a string key in an object, found %s",
                     found(ps, buf, sizeof buf));
                goto fail;
            }
            if (parse_string(ps, &key, &klen) < 0)
                goto fail;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                perr(ps, "expected ':' after a key, found %s",
                     found(ps, buf, sizeof buf));
                goto fail;
            }
            ps->p++;
        }
        rl__json *item = parse_value(ps);
        if (!item)
            goto fail;
        if (vec_push(&vc, key, item) < 0) {
            perr(ps, "out of memory");
            goto fail;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == close) {
                perr(ps, "trailing comma before '%c'", close);
                goto fail;
            }
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            break;
        }
        perr(ps, "expected ',' or '%c' in %s, found %s", close,
             is_obj ? "an object" : "an array", found(ps, buf, sizeof buf));
        goto fail;
    }
done:
    ps->depth--;
    if (vec_finish(ps, &vc, v) < 0)
        v = NULL;
    free(vc.items);
    free(vc.keys);
    return v;
fail:
    free(vc.items);
    free(vc.keys);
    return NULL;
}

static rl__json *parse_literal(parser *ps, const char *word, rl__json_type t,
                               int b)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return perr(ps, "invalid literal (expected %s)", word);
    rl__json *v = new_val(ps, t);
    if (v) {
        v->b = b;
        ps->p += n;
    }
    return v;
}

/* Parses one value after optional white space. Returns it, or NULL with
 * the error recorded. */
static rl__json *parse_value(parser *ps)
{
    char buf[16];
    skip_ws(ps);
    if (ps->p >= ps->end)
        return perr(ps, "unexpected end of input, expected a JSON value");
    switch (*ps->p) {
    case '{':
        return parse_container(ps, 1);
    case '[':
        return parse_container(ps, 0);
    case '"': {
        rl__json *v = new_val(ps, RL__JSON_STR);
        if (!v || parse_string(ps, &v->s, &v->len) < 0)
            return NULL;
        return v;
    }
    case 't':
        return parse_literal(ps, "true", RL__JSON_BOOL, 1);
    case 'f':
        return parse_literal(ps, "false", RL__JSON_BOOL, 0);
    case 'n':
        return parse_literal(ps, "null", RL__JSON_NULL, 0);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps);
        return perr(ps, "expected a JSON value, found %s",
                    found(ps, buf, sizeof buf));
    }
}

/* Parses a whole document. Returns the root, or NULL with ps->err set. */
static rl__json *parse_document(parser *ps)
{
    rl__json *v = parse_value(ps);
    if (!v)
        return NULL;
    skip_ws(ps);
    if (ps->p < ps->end) {
        char buf[16];
        return perr(ps, "unexpected %s after the JSON value",
                    found(ps, buf, sizeof buf));
    }
    return v;
}

/* ---- files ---- */

static int read_all(const char *path, size_t max, char **buf, size_t *len)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. Only a
     * regular file of at most max bytes is read: a FIFO would block
     * and a device such as /dev/zero never ends. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return rl__fail(-e, "cannot read %s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return rl__fail(-e, "cannot read %s: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return rl__fail(-EISDIR, "cannot read %s: %s", path, strerror(EISDIR));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return rl__fail(-EINVAL,
                        "%s: not a regular file (JSON is read from a "
                        "file, not a %s)",
                        path,
                        S_ISFIFO(st.st_mode)   ? "pipe"
                        : S_ISSOCK(st.st_mode) ? "socket"
                                               : "device");
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return rl__fail(-EFBIG,
                        "%s: larger than %zu MiB, the most a JSON "
                        "file may be",
                        path, max >> 20);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    size_t n = 0, cap = 0;
    char *b = NULL;
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                free(b);
                close(fd);
                return rl__fail(-EFBIG,
                                "%s: larger than %zu MiB, the most a "
                                "JSON file may be",
                                path, max >> 20);
            }
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                close(fd);
                return rl__fail(-ENOMEM, "%s: out of memory", path);
            }
            b = nb;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(b);
            close(fd);
            return rl__fail(-e, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = n;
    return 0;
}

int rl__json_load(const char *path, size_t max, rl__json_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    char *buf = NULL;
    size_t len = 0;
    int err = read_all(path, max, &buf, &len);
    if (err < 0)
        return err;
    pool *pl = calloc(1, sizeof *pl);
    if (!pl) {
        free(buf);
        return rl__fail(-ENOMEM, "%s: out of memory", path);
    }
    parser ps = {
        .p = buf, .end = buf + len, .line_start = buf, .line = 1, .pl = pl};
    rl__json *root = parse_document(&ps);
    free(buf);
    if (!root) {
        pool_free(pl);
        free(pl);
        return rl__fail(strcmp(ps.err, "out of memory") ? -EINVAL : -ENOMEM,
                        "%s:%d:%d: %s", path, ps.eline, ps.ecol, ps.err);
    }
    doc->pool = pl;
    doc->root = root;
    return 0;
}

void rl__json_doc_free(rl__json_doc *doc)
{
    if (doc->pool) {
        pool_free(doc->pool);
        free(doc->pool);
    }
    memset(doc, 0, sizeof *doc);
}
