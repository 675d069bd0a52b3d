/* jsonread.c: results files (racelab-results/1) read back into the model,
 * over a small strict JSON parser of its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

#define SCHEMA "racelab-results/1"
#define MAX_DEPTH 64
/* The largest results file read: far beyond any real one (a run of
 * thousands of scenarios with long traces is a few MiB), small enough to
 * refuse a wrong file before reading it. */
#define MAX_FILE ((size_t)256 << 20)

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

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval jval;
struct jval {
    jtype t;
    int line, col;
    int b;         /* J_BOOL */
    int is_int;    /* J_NUM: no fraction, no exponent */
    const char *s; /* J_STR: decoded, NUL-terminated; J_NUM: text */
    size_t len;
    int n;             /* J_ARR, J_OBJ: number of items */
    jval **items;      /* elements, or the values of an object */
    const char **keys; /* J_OBJ */
};

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
__attribute__((format(printf, 2, 3))) static jval *perr(parser *ps,
                                                        const char *fmt, ...)
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

static jval *new_val(parser *ps, jtype t)
{
    jval *v = pool_alloc(ps->pl, sizeof *v);
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

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
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
        n += put_utf8(o + n, cp);
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

static jval *parse_number(parser *ps)
{
    jval *v = new_val(ps, J_NUM);
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
    jval **items;
    const char **keys;
    int n, cap;
} vec;

static int vec_push(vec *vc, const char *key, jval *item)
{
    if (vc->n == vc->cap) {
        int cap = vc->cap ? vc->cap * 2 : 8;
        jval **ni = realloc(vc->items, sizeof *ni * (size_t)cap);
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
static int vec_finish(parser *ps, vec *vc, jval *v)
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

static jval *parse_value(parser *ps);

/* Parses an array or object at ps->p (on '[' or '{'). */
static jval *parse_container(parser *ps, int is_obj)
{
    if (ps->depth >= MAX_DEPTH)
        return perr(ps, "nesting deeper than %d levels", MAX_DEPTH);
    jval *v = new_val(ps, is_obj ? J_OBJ : J_ARR);
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
        jval *item = parse_value(ps);
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

static jval *parse_literal(parser *ps, const char *word, jtype t, int b)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return perr(ps, "invalid literal (expected %s)", word);
    jval *v = new_val(ps, t);
    if (v) {
        v->b = b;
        ps->p += n;
    }
    return v;
}

/* Parses one value after optional white space. Returns it, or NULL with
 * the error recorded. */
static jval *parse_value(parser *ps)
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
        jval *v = new_val(ps, J_STR);
        if (!v || parse_string(ps, &v->s, &v->len) < 0)
            return NULL;
        return v;
    }
    case 't':
        return parse_literal(ps, "true", J_BOOL, 1);
    case 'f':
        return parse_literal(ps, "false", J_BOOL, 0);
    case 'n':
        return parse_literal(ps, "null", J_NULL, 0);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps);
        return perr(ps, "expected a JSON value, found %s",
                    found(ps, buf, sizeof buf));
    }
}

/* Parses a whole document. Returns the root, or NULL with ps->err set. */
static jval *parse_document(parser *ps)
{
    jval *v = parse_value(ps);
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

/* ---- from the tree to the model ---- */

typedef struct {
    const char *file;
    char path[160]; /* where in the document, "scenarios[2].name" */
    int err;        /* the first error, 0 while none */
} conv;

static const char *type_name(const jval *v)
{
    static const char *const names[] = {"null",     "a boolean", "a number",
                                        "a string", "an array",  "an object"};
    return names[v->t];
}

/* Records an error about v (the first one wins) and returns NULL. */
__attribute__((format(printf, 4, 5))) static void *
cerr(conv *c, const jval *v, const char *key, const char *fmt, ...)
{
    if (c->err)
        return NULL;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char where[220];
    snprintf(where, sizeof where, "%s%s%s", c->path,
             key && c->path[0] ? "." : "", key ? key : "");
    c->err = rl__fail(-EINVAL, "%s:%d:%d: %s%s%s", c->file, v->line, v->col,
                      where, where[0] ? ": " : "", msg);
    return NULL;
}

static void *oom(conv *c)
{
    if (!c->err)
        c->err = rl__fail(-ENOMEM, "%s: out of memory", c->file);
    return NULL;
}

/* Appends to the path; returns the old length for path_pop. */
__attribute__((format(printf, 2, 3))) static size_t
path_push(conv *c, const char *fmt, ...)
{
    size_t n = strlen(c->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->path + n, sizeof c->path - n, fmt, ap);
    va_end(ap);
    return n;
}

static void path_pop(conv *c, size_t n)
{
    c->path[n] = 0;
}

#define OPT 1      /* may be absent */
#define NULLABLE 2 /* may be null */

/* The value of key in the object obj. NULL when it is absent (an error
 * unless OPT) or null (an error unless NULLABLE). */
static const jval *field(conv *c, const jval *obj, const char *key, int flags)
{
    const jval *v = NULL;
    for (int i = 0; i < obj->n; i++) {
        if (strcmp(obj->keys[i], key) != 0)
            continue;
        if (v)
            return cerr(c, obj->items[i], key, "duplicate field");
        v = obj->items[i];
    }
    if (!v) {
        if (!(flags & OPT))
            cerr(c, obj, NULL, "missing field \"%s\"", key);
        return NULL;
    }
    if (v->t == J_NULL) {
        if (!(flags & NULLABLE))
            cerr(c, v, key, "must not be null");
        return NULL;
    }
    return v;
}

/* A field of a given type, or NULL (see field). */
static const jval *typed(conv *c, const jval *obj, const char *key, jtype t,
                         int flags)
{
    const jval *v = field(c, obj, key, flags);
    if (v && v->t != t) {
        static const char *const want[] = {"null",     "a boolean",
                                           "a number", "a string",
                                           "an array", "an object"};
        return cerr(c, v, key, "expected %s, found %s", want[t], type_name(v));
    }
    return v;
}

/* A string field without NUL characters, or NULL. */
static const char *get_str(conv *c, const jval *obj, const char *key, int flags)
{
    const jval *v = typed(c, obj, key, J_STR, flags);
    if (!v)
        return NULL;
    if (strlen(v->s) != v->len)
        return cerr(c, v, key, "the string contains a NUL character");
    return v->s;
}

/* An integer field in [min, max]; *isnull (if given) is set when the
 * field is null or absent, and the result is then 0. */
static long long get_int(conv *c, const jval *obj, const char *key,
                         long long min, long long max, int flags, int *isnull)
{
    const jval *v = typed(c, obj, key, J_NUM, flags);
    if (isnull)
        *isnull = !v;
    if (!v)
        return 0;
    if (!v->is_int) {
        cerr(c, v, key, "expected an integer, found %s", v->s);
        return 0;
    }
    errno = 0;
    long long x = strtoll(v->s, NULL, 10);
    if (errno == ERANGE || x < min || x > max) {
        cerr(c, v, key, "%s is out of range [%lld, %lld]", v->s, min, max);
        return 0;
    }
    return x;
}

static uint64_t get_u64(conv *c, const jval *obj, const char *key)
{
    const jval *v = typed(c, obj, key, J_NUM, 0);
    if (!v)
        return 0;
    errno = 0;
    unsigned long long x =
        v->is_int && v->s[0] != '-' ? strtoull(v->s, NULL, 10) : 0;
    if (!v->is_int || v->s[0] == '-' || errno == ERANGE) {
        cerr(c, v, key, "expected an unsigned 64-bit integer, found %s", v->s);
        return 0;
    }
    return x;
}

static double get_double(conv *c, const jval *obj, const char *key)
{
    const jval *v = typed(c, obj, key, J_NUM, 0);
    if (!v)
        return 0;
    double d = strtod(v->s, NULL);
    if (!(d >= 0 && d < 1e15)) {
        cerr(c, v, key, "%s is out of range", v->s);
        return 0;
    }
    return d;
}

/* A boolean field (0 or 1); -1 when null (with NULLABLE) or on error. */
static int get_bool(conv *c, const jval *obj, const char *key, int flags)
{
    const jval *v = typed(c, obj, key, J_BOOL, flags);
    return v ? v->b : -1;
}

#define COUNT_MAX ((long long)LONG_MAX)

/* A string field that must be one of the names name(0..count-1). Returns
 * the index; dflt when null (with NULLABLE) or on error. */
static int get_enum(conv *c, const jval *obj, const char *key, int flags,
                    const char *(*name)(int), int count, int dflt)
{
    const char *s = get_str(c, obj, key, flags);
    if (!s)
        return dflt;
    for (int i = 0; i < count; i++)
        if (strcmp(s, name(i)) == 0)
            return i;
    cerr(c, field(c, obj, key, 0), key, "unknown value \"%.40s\"", s);
    return dflt;
}

static const char *op_name(int op)
{
    return rl__op_name((rl__op)op);
}

static const char *expect_name(int e)
{
    return e == RL_EXPECT_BUG ? "bug" : "clean";
}

static const char *bound_kind_name(int k)
{
    return k == RL__BOUND_DELAYS ? "delays" : "preemptions";
}

static const char *reduction_name(int k)
{
    return k == RL__REDUCTION_NONE ? "none" : "dpor";
}

/* As reports/json.c writes them. */
static const char *state_name(int s)
{
    static const char *const names[] = {"unused", "runnable", "blocked",
                                        "finished"};
    return names[s];
}

static const char *method_name(int m)
{
    static const char *const names[] = {"fork", "spawn", "forkserver", "root"};
    return names[m];
}

static char *dup_or_oom(conv *c, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        oom(c);
    return d;
}

/* "0x..." (as %p writes it) back to the address. */
static const void *get_addr(conv *c, const jval *obj, const char *key)
{
    const char *s = get_str(c, obj, key, NULLABLE);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    int ok = n > 2 && n <= 18 && s[0] == '0' && s[1] == 'x';
    uintptr_t a = 0;
    for (size_t i = 2; ok && i < n; i++) {
        int h = hexval(s[i]);
        ok = h >= 0;
        a = a * 16 + (uintptr_t)(h < 0 ? 0 : h);
    }
    if (!ok)
        return cerr(c, field(c, obj, key, 0), key,
                    "expected an address like \"0x7f00\", found \"%.40s\"", s);
    return (const void *)a;
}

static void read_step(conv *c, const jval *o, rl__step *s)
{
    if (o->t != J_OBJ) {
        cerr(c, o, NULL, "expected an object, found %s", type_name(o));
        return;
    }
    get_int(c, o, "step", 0, COUNT_MAX, 0, NULL);
    s->actor = (int)get_int(c, o, "actor", 0, RL__MAX_ACTORS - 1, 0, NULL);
    s->pid = (pid_t)get_int(c, o, "pid", INT_MIN, INT_MAX, 0, NULL);
    s->op = get_enum(c, o, "op", 0, op_name, RL_OP_COUNT, 0);
    const void *obj = get_addr(c, o, "object");
    const void *addr = get_addr(c, o, "address");
    if (obj && addr)
        cerr(c, o, NULL, "both an object and an address");
    s->obj = obj ? obj : addr;
    int sh = get_bool(c, o, "shared", NULLABLE);
    s->shared = sh > 0;
    int isnull;
    s->value =
        (long)get_int(c, o, "value", LONG_MIN, LONG_MAX, NULLABLE, &isnull);
    s->has_value = !isnull;
    const char *label = get_str(c, o, "label", 0);
    snprintf(s->label, sizeof s->label, "%s", label ? label : "");
    const char *file = get_str(c, o, "file", NULLABLE);
    snprintf(s->file, sizeof s->file, "%s", file ? file : "");
    s->line = (int)get_int(c, o, "line", INT_MIN, INT_MAX, 0, NULL);
}

/* The frames of a stack (an array of strings) back into the text the
 * writer split at newlines: one frame a line, as many whole frames as fit
 * in size bytes. */
static void read_stack(conv *c, const jval *st, char *out, size_t size)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; st && i < st->n && !c->err; i++) {
        const jval *v = st->items[i];
        if (v->t != J_STR || strlen(v->s) != v->len) {
            size_t mark = path_push(c, ".stack[%d]", i);
            cerr(c, v, NULL, "expected a string without NUL, found %s",
                 type_name(v));
            path_pop(c, mark);
            return;
        }
        if (used + (used > 0) + v->len >= size)
            continue;
        if (used)
            out[used++] = '\n';
        for (size_t k = 0; k < v->len; k++)
            out[used++] = v->s[k] == '\n' ? ' ' : v->s[k];
        out[used] = 0;
    }
}

static void read_actor(conv *c, const jval *o, rl__actor *a)
{
    if (o->t != J_OBJ) {
        cerr(c, o, NULL, "expected an object, found %s", type_name(o));
        return;
    }
    get_int(c, o, "id", 0, RL__MAX_ACTORS - 1, 0, NULL);
    const char *name = get_str(c, o, "name", 0);
    snprintf(a->name, sizeof a->name, "%s", name ? name : "");
    a->pid = (pid_t)get_int(c, o, "pid", INT_MIN, INT_MAX, 0, NULL);
    int m = get_enum(c, o, "start_method", 0, method_name, 4, 0);
    a->method = m == 3 ? RL_START_FORK : m;
    a->state = get_enum(c, o, "state", 0, state_name, 4, 0);
    const char *reason = get_str(c, o, "wait_reason",
                                 a->state == RL__ACTOR_BLOCKED ? 0 : NULLABLE);
    snprintf(a->reason, sizeof a->reason, "%s", reason ? reason : "");
    a->exit_code =
        (int)get_int(c, o, "exit", INT_MIN, INT_MAX,
                     a->state == RL__ACTOR_FINISHED ? 0 : NULLABLE, NULL);
    const jval *st = typed(c, o, "stack", J_ARR, OPT);
    read_stack(c, st, a->stack, sizeof a->stack);
}

static void read_failure(conv *c, const jval *ff, rl__search_result *r)
{
    rl__exec_result *e = &r->first;
    e->verdict = get_enum(c, ff, "verdict", 0, rl_verdict_name,
                          RL__VERDICT_COUNT, r->verdict);
    if (!c->err && e->verdict != r->verdict)
        cerr(c, field(c, ff, "verdict", 0), "verdict",
             "%s differs from the scenario's verdict %s",
             rl_verdict_name(e->verdict), rl_verdict_name(r->verdict));
    const char *msg = get_str(c, ff, "message", 0);
    snprintf(e->message, sizeof e->message, "%s", msg ? msg : "");
    r->token = dup_or_oom(c, get_str(c, ff, "token", NULLABLE));
    r->minimized_token =
        dup_or_oom(c, get_str(c, ff, "minimized_token", NULLABLE));
    const jval *steps = typed(c, ff, "steps", J_ARR, 0);
    const jval *actors = typed(c, ff, "actors", J_ARR, 0);
    if (c->err)
        return;
    if (actors->n > RL__MAX_ACTORS) {
        cerr(c, actors, "actors", "more than %d actors", RL__MAX_ACTORS);
        return;
    }
    if (steps->n) {
        e->steps = calloc((size_t)steps->n, sizeof *e->steps);
        if (!e->steps) {
            oom(c);
            return;
        }
    }
    e->nsteps = steps->n;
    if (actors->n) {
        e->actors = calloc((size_t)actors->n, sizeof *e->actors);
        if (!e->actors) {
            oom(c);
            return;
        }
    }
    e->nactors = actors->n;
    for (int i = 0; i < steps->n && !c->err; i++) {
        size_t mark = path_push(c, ".steps[%d]", i);
        read_step(c, steps->items[i], &e->steps[i]);
        if (!c->err && e->steps[i].actor >= e->nactors)
            cerr(c, steps->items[i], "actor",
                 "actor %d is not in the actor table (%d actors)",
                 e->steps[i].actor, e->nactors);
        path_pop(c, mark);
    }
    for (int i = 0; i < actors->n && !c->err; i++) {
        size_t mark = path_push(c, ".actors[%d]", i);
        read_actor(c, actors->items[i], &e->actors[i]);
        path_pop(c, mark);
    }
}

static void read_stress(conv *c, const jval *st, rl__search_result *r)
{
    const jval *vals = typed(c, st, "values", J_ARR, 0);
    if (!vals)
        return;
    if (vals->n > RL__HIST_MAX) {
        cerr(c, vals, "values", "more than %d values", RL__HIST_MAX);
        return;
    }
    for (int i = 0; i < vals->n && !c->err; i++) {
        const jval *o = vals->items[i];
        size_t mark = path_push(c, ".values[%d]", i);
        if (o->t != J_OBJ) {
            cerr(c, o, NULL, "expected an object, found %s", type_name(o));
        } else {
            r->values[i] =
                (long)get_int(c, o, "value", LONG_MIN, LONG_MAX, 0, NULL);
            r->counts[i] = (long)get_int(c, o, "count", 0, COUNT_MAX, 0, NULL);
        }
        path_pop(c, mark);
    }
    r->nvalues = vals->n;
}

static void read_scenario(conv *c, const jval *o, rl__search_result *r,
                          uint64_t seed)
{
    r->seed = seed;
    if (o->t != J_OBJ) {
        cerr(c, o, NULL, "expected an object, found %s", type_name(o));
        return;
    }
    rl_scenario *sc = calloc(1, sizeof *sc);
    if (!sc) {
        oom(c);
        return;
    }
    r->sc = sc;
    sc->name = dup_or_oom(c, get_str(c, o, "name", 0));
    sc->summary = dup_or_oom(c, get_str(c, o, "summary", 0));
    sc->expect = get_enum(c, o, "expect", 0, expect_name, 2, 0);
    sc->expect_verdict = get_enum(c, o, "expect_verdict", NULLABLE,
                                  rl_verdict_name, RL__VERDICT_COUNT, 0);
    r->mode = get_enum(c, o, "mode", 0, rl__mode_name, RL_MODE_REPLAY + 1, 0);
    r->verdict =
        get_enum(c, o, "verdict", 0, rl_verdict_name, RL__VERDICT_COUNT, 0);
    r->as_expected = get_bool(c, o, "as_expected", 0) > 0;
    r->exhausted = get_bool(c, o, "exhausted", 0) > 0;
    r->interrupted = get_bool(c, o, "interrupted", OPT) > 0;
    r->executions = (long)get_int(c, o, "executions", 0, COUNT_MAX, 0, NULL);
    r->failures = (long)get_int(c, o, "failures", 0, COUNT_MAX, 0, NULL);
    r->first_failure_run =
        (long)get_int(c, o, "runs_to_first_failure", 0, COUNT_MAX, 0, NULL);
    r->duration = get_double(c, o, "duration_s");
    r->bound = 2;
    /* Older files have no "explore" object. */
    const jval *ex = typed(c, o, "explore", J_OBJ, NULLABLE | OPT);
    if (ex) {
        size_t mark = path_push(c, ".explore");
        r->bound = (int)get_int(c, ex, "bound", -1, 1000, 0, NULL);
        r->bound_kind = get_enum(c, ex, "bound_kind", 0, bound_kind_name, 2,
                                 RL__BOUND_PREEMPTIONS);
        r->reduction = get_enum(c, ex, "reduction", 0, reduction_name, 2,
                                RL__REDUCTION_DPOR);
        int isnull = 0;
        long fc = (long)get_int(c, ex, "found_at_bound", 0, COUNT_MAX, NULLABLE,
                                &isnull);
        r->found_cost = isnull ? 0 : fc;
        path_pop(c, mark);
    }
    const jval *pc = typed(c, o, "pct", J_OBJ, NULLABLE | OPT);
    if (pc) {
        size_t mark = path_push(c, ".pct");
        r->pct_depth = (int)get_int(c, pc, "depth", 1, 64, 0, NULL);
        r->pct_actors =
            (int)get_int(c, pc, "actors", 1, RL__MAX_ACTORS, 0, NULL);
        r->pct_steps = (long)get_int(c, pc, "steps", 1, COUNT_MAX, 0, NULL);
        path_pop(c, mark);
    }
    const jval *ff = typed(c, o, "first_failure", J_OBJ, NULLABLE);
    const jval *st = typed(c, o, "stress", J_OBJ,
                           r->mode == RL_MODE_STRESS ? 0 : NULLABLE | OPT);
    const jval *cov = typed(c, o, "coverage", J_OBJ, 0);
    if (c->err)
        return;
    if (r->failures > r->executions)
        cerr(c, field(c, o, "failures", 0), "failures",
             "%ld failures in %ld executions", r->failures, r->executions);
    if (!ff && r->verdict != RL_PASS)
        cerr(c, o, "first_failure", "null, but the verdict is %s",
             rl_verdict_name(r->verdict));
    if (ff && r->verdict == RL_PASS)
        cerr(c, ff, "first_failure", "given, but the verdict is PASS");
    if (ff && !c->err) {
        size_t mark = path_push(c, ".first_failure");
        read_failure(c, ff, r);
        path_pop(c, mark);
    }
    if (st && r->mode == RL_MODE_STRESS && !c->err) {
        size_t mark = path_push(c, ".stress");
        read_stress(c, st, r);
        path_pop(c, mark);
    }
    if (!c->err) {
        size_t mark = path_push(c, ".coverage");
        r->schedule_points =
            (long)get_int(c, cov, "schedule_points", 0, COUNT_MAX, 0, NULL);
        r->labels_reached =
            (long)get_int(c, cov, "labels_reached", 0, COUNT_MAX, 0, NULL);
        r->pairs_interleaved = (long)get_int(c, cov, "label_pairs_interleaved",
                                             0, COUNT_MAX, 0, NULL);
        /* Optional: files of older writers do not have it. */
        const jval *sx = field(c, cov, "space_explored", OPT | NULLABLE);
        r->space_explored = -1;
        if (sx && sx->t == J_NUM) {
            double d = strtod(sx->s, NULL);
            if (d >= 0 && d <= 1)
                r->space_explored = d;
        }
        path_pop(c, mark);
    }
}

static void read_top(conv *c, const jval *root, rl__loaded *out)
{
    if (root->t != J_OBJ) {
        cerr(c, root, NULL,
             "not racelab results: expected an object at "
             "the top level, found %s",
             type_name(root));
        return;
    }
    const char *schema = get_str(c, root, "schema", 0);
    if (c->err)
        return;
    if (strcmp(schema, SCHEMA) != 0) {
        cerr(c, field(c, root, "schema", 0), "schema",
             "not racelab results: \"%.60s\", expected \"" SCHEMA "\"", schema);
        return;
    }
    out->seed = get_u64(c, root, "seed");
    out->started_at = dup_or_oom(c, get_str(c, root, "started_at", 0));
    out->command_line = dup_or_oom(c, get_str(c, root, "command_line", 0));
    const jval *sc = typed(c, root, "scenarios", J_ARR, 0);
    if (c->err)
        return;
    if (sc->n) {
        out->results = calloc((size_t)sc->n, sizeof *out->results);
        if (!out->results) {
            oom(c);
            return;
        }
    }
    for (int i = 0; i < sc->n && !c->err; i++) {
        out->n = i + 1;
        size_t mark = path_push(c, "scenarios[%d]", i);
        read_scenario(c, sc->items[i], &out->results[i], out->seed);
        path_pop(c, mark);
    }
}

/* Reads a whole file into a malloc'd buffer. Returns 0 or -errno. */
static int read_all(const char *path, char **buf, size_t *len)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. Only a
     * regular file of at most MAX_FILE bytes is read: a FIFO would block
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
                        "%s: not a regular file (a results file "
                        "is read from a file, not a %s)",
                        path,
                        S_ISFIFO(st.st_mode)   ? "pipe"
                        : S_ISSOCK(st.st_mode) ? "socket"
                                               : "device");
    }
    if ((uint64_t)st.st_size > MAX_FILE) {
        close(fd);
        return rl__fail(-EFBIG,
                        "%s: larger than %zu MiB, the most a "
                        "results file may be",
                        path, MAX_FILE >> 20);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    size_t n = 0, cap = 0;
    char *b = NULL;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                free(b);
                close(fd);
                return rl__fail(-EFBIG,
                                "%s: larger than %zu MiB, the most a "
                                "results file may be",
                                path, MAX_FILE >> 20);
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

int rl__results_read(const char *path, rl__loaded *out)
{
    memset(out, 0, sizeof *out);
    char *buf = NULL;
    size_t len = 0;
    int err = read_all(path, &buf, &len);
    if (err < 0)
        return err;
    pool pl = {0};
    parser ps = {
        .p = buf, .end = buf + len, .line_start = buf, .line = 1, .pl = &pl};
    jval *root = parse_document(&ps);
    if (!root) {
        err = rl__fail(strcmp(ps.err, "out of memory") ? -EINVAL : -ENOMEM,
                       "%s:%d:%d: %s", path, ps.eline, ps.ecol, ps.err);
    } else {
        conv c = {.file = path};
        read_top(&c, root, out);
        err = c.err;
        if (!err && !(out->path = strdup(path)))
            err = rl__fail(-ENOMEM, "%s: out of memory", path);
    }
    pool_free(&pl);
    free(buf);
    if (err < 0)
        rl__loaded_free(out);
    return err;
}

void rl__loaded_free(rl__loaded *l)
{
    for (int i = 0; i < l->n; i++) {
        rl__search_result *r = &l->results[i];
        rl_scenario *sc = (rl_scenario *)r->sc;
        rl__search_result_free(r);
        if (sc) {
            free((char *)sc->name);
            free((char *)sc->summary);
            free(sc);
        }
    }
    free(l->results);
    free(l->started_at);
    free(l->command_line);
    free(l->path);
    free(l->note);
    memset(l, 0, sizeof *l);
}

rl__report rl__loaded_report(const rl__loaded *l)
{
    rl__report rep = {.results = l->results,
                      .n = l->n,
                      .seed = l->seed,
                      .started_at = l->started_at,
                      .command_line = l->command_line};
    return rep;
}
