/* jsonget.c: typed access to a parsed JSON tree (jsonparse.h) for the
 * readers of results files: fields by key and type, each error naming the
 * path of the value it is about. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* rl__fail */
#include "jsonparse.h"

const char *rl__json_type_name(rl__json_type t)
{
    static const char *const names[] = {"null",     "a boolean", "a number",
                                        "a string", "an array",  "an object"};
    return t <= RL__JSON_OBJ ? names[t] : "?";
}

void *rl__json_error(rl__json_reader *c, const rl__json *v, const char *key,
                     const char *fmt, ...)
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

void *rl__json_oom(rl__json_reader *c)
{
    if (!c->err)
        c->err = rl__fail(-ENOMEM, "%s: out of memory", c->file);
    return NULL;
}

size_t rl__json_path_push(rl__json_reader *c, const char *fmt, ...)
{
    size_t n = strlen(c->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->path + n, sizeof c->path - n, fmt, ap);
    va_end(ap);
    return n;
}

void rl__json_path_pop(rl__json_reader *c, size_t mark)
{
    c->path[mark] = 0;
}

const rl__json *rl__json_field(rl__json_reader *c, const rl__json *obj,
                               const char *key, int flags)
{
    const rl__json *v = NULL;
    for (int i = 0; i < obj->n; i++) {
        if (strcmp(obj->keys[i], key) != 0)
            continue;
        if (v)
            return rl__json_error(c, obj->items[i], key, "duplicate field");
        v = obj->items[i];
    }
    if (!v) {
        if (!(flags & RL__JSON_OPT))
            rl__json_error(c, obj, NULL, "missing field \"%s\"", key);
        return NULL;
    }
    if (v->t == RL__JSON_NULL) {
        if (!(flags & RL__JSON_NULLABLE))
            rl__json_error(c, v, key, "must not be null");
        return NULL;
    }
    return v;
}

const rl__json *rl__json_typed(rl__json_reader *c, const rl__json *obj,
                               const char *key, rl__json_type t, int flags)
{
    const rl__json *v = rl__json_field(c, obj, key, flags);
    if (v && v->t != t)
        return rl__json_error(c, v, key, "expected %s, found %s",
                              rl__json_type_name(t), rl__json_type_name(v->t));
    return v;
}

const char *rl__json_get_str(rl__json_reader *c, const rl__json *obj,
                             const char *key, int flags)
{
    const rl__json *v = rl__json_typed(c, obj, key, RL__JSON_STR, flags);
    if (!v)
        return NULL;
    if (strlen(v->s) != v->len)
        return rl__json_error(c, v, key, "the string contains a NUL character");
    return v->s;
}

long long rl__json_get_int(rl__json_reader *c, const rl__json *obj,
                           const char *key, long long min, long long max,
                           int flags, int *isnull)
{
    const rl__json *v = rl__json_typed(c, obj, key, RL__JSON_NUM, flags);
    if (isnull)
        *isnull = !v;
    if (!v)
        return 0;
    if (!v->is_int) {
        rl__json_error(c, v, key, "expected an integer, found %s", v->s);
        return 0;
    }
    errno = 0;
    long long x = strtoll(v->s, NULL, 10);
    if (errno == ERANGE || x < min || x > max) {
        rl__json_error(c, v, key, "%s is out of range [%lld, %lld]", v->s, min,
                       max);
        return 0;
    }
    return x;
}

uint64_t rl__json_get_u64(rl__json_reader *c, const rl__json *obj,
                          const char *key)
{
    const rl__json *v = rl__json_typed(c, obj, key, RL__JSON_NUM, 0);
    if (!v)
        return 0;
    errno = 0;
    unsigned long long x =
        v->is_int && v->s[0] != '-' ? strtoull(v->s, NULL, 10) : 0;
    if (!v->is_int || v->s[0] == '-' || errno == ERANGE) {
        rl__json_error(c, v, key,
                       "expected an unsigned 64-bit integer, found %s", v->s);
        return 0;
    }
    return x;
}

double rl__json_get_double(rl__json_reader *c, const rl__json *obj,
                           const char *key, double min, double max)
{
    const rl__json *v = rl__json_typed(c, obj, key, RL__JSON_NUM, 0);
    if (!v)
        return 0;
    double d = strtod(v->s, NULL);
    if (!(d >= min && d < max)) {
        rl__json_error(c, v, key, "%s is out of range", v->s);
        return 0;
    }
    return d;
}

int rl__json_get_bool(rl__json_reader *c, const rl__json *obj, const char *key,
                      int flags)
{
    const rl__json *v = rl__json_typed(c, obj, key, RL__JSON_BOOL, flags);
    return v ? v->b : -1;
}

int rl__json_get_enum(rl__json_reader *c, const rl__json *obj, const char *key,
                      int flags, const char *(*name)(int), int count, int dflt)
{
    const char *s = rl__json_get_str(c, obj, key, flags);
    if (!s)
        return dflt;
    for (int i = 0; i < count; i++)
        if (strcmp(s, name(i)) == 0)
            return i;
    rl__json_error(c, rl__json_field(c, obj, key, 0), key,
                   "unknown value \"%.40s\"", s);
    return dflt;
}

char *rl__json_dup(rl__json_reader *c, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        rl__json_oom(c);
    return d;
}

