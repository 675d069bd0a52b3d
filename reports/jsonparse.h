/* jsonparse.h: a small strict JSON parser (RFC 8259) into a tree, and
 * typed access to the tree that reports where a document is wrong;
 * internal to racelab. Knows nothing of what the documents mean. */
#ifndef RL_JSONPARSE_H
#define RL_JSONPARSE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RL__JSON_NULL,
    RL__JSON_BOOL,
    RL__JSON_NUM,
    RL__JSON_STR,
    RL__JSON_ARR,
    RL__JSON_OBJ
} rl__json_type;

/* A value of the tree; line and col (1-based, bytes) say where it
 * starts. */
typedef struct rl__json rl__json;
struct rl__json {
    rl__json_type t;
    int line, col;
    int b;         /* RL__JSON_BOOL */
    int is_int;    /* RL__JSON_NUM: no fraction, no exponent */
    const char *s; /* RL__JSON_STR: decoded, NUL-terminated (it may hold
                      NUL itself: see len); RL__JSON_NUM: its text */
    size_t len;
    int n;             /* RL__JSON_ARR, RL__JSON_OBJ: number of items */
    rl__json **items;  /* elements, or the values of an object */
    const char **keys; /* RL__JSON_OBJ, in document order */
};

/* A parsed document: owns every value of its tree. */
typedef struct {
    void *pool;
    rl__json *root;
} rl__json_doc;

/* Reads the regular file path, of at most max bytes, and parses it as one
 * JSON value. \u escapes (surrogate pairs too) are decoded to UTF-8;
 * other bytes from 0x80 up are kept as they are. At most 64 levels of
 * nesting. Returns 0 with doc filled (free with rl__json_doc_free); -EINVAL
 * for malformed JSON or a file that is not regular, with rl_last_error
 * "PATH:LINE:COL: what is wrong"; -EFBIG, -ENOMEM or -errno of the
 * read. */
int rl__json_load(const char *path, size_t max, rl__json_doc *doc);

/* Frees the tree; harmless on an emptied doc. */
void rl__json_doc_free(rl__json_doc *doc);

/* ---- typed access, with the path of the value for messages ---- */

/* Where a reader is in a document and its first error. */
typedef struct {
    const char *file;
    char path[160]; /* where in the document, e.g. "scenarios[2].name" */
    int err;        /* the first error (a negative errno), 0 while none */
} rl__json_reader;

#define RL__JSON_OPT 1      /* the field may be absent */
#define RL__JSON_NULLABLE 2 /* the field may be null */

/* "null", "a boolean", "a number", "a string", "an array", "an object". */
const char *rl__json_type_name(rl__json_type t);

/* Records an error about v (or its field key, when not NULL) as
 * "FILE:LINE:COL: PATH.KEY: message" in rl_last_error; the first error
 * wins. Returns NULL. */
void *rl__json_error(rl__json_reader *c, const rl__json *v, const char *key,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records running out of memory. Returns NULL. */
void *rl__json_oom(rl__json_reader *c);

/* Appends to the path; returns what rl__json_path_pop needs to undo
 * it. */
size_t rl__json_path_push(rl__json_reader *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rl__json_path_pop(rl__json_reader *c, size_t mark);

/* The value of key in the object obj. NULL when it is absent (an error
 * unless RL__JSON_OPT) or null (an error unless RL__JSON_NULLABLE); a
 * key given twice is an error. */
const rl__json *rl__json_field(rl__json_reader *c, const rl__json *obj,
                               const char *key, int flags);

/* The field of the given type, or NULL (see rl__json_field; another type
 * is an error). */
const rl__json *rl__json_typed(rl__json_reader *c, const rl__json *obj,
                               const char *key, rl__json_type t, int flags);

/* A string field without NUL characters, or NULL. */
const char *rl__json_get_str(rl__json_reader *c, const rl__json *obj,
                             const char *key, int flags);

/* An integer field (no fraction, no exponent) in [min, max]; *isnull (if
 * given) is set when it is null or absent, and the result is then 0. */
long long rl__json_get_int(rl__json_reader *c, const rl__json *obj,
                           const char *key, long long min, long long max,
                           int flags, int *isnull);

/* An unsigned 64-bit integer field (required). */
uint64_t rl__json_get_u64(rl__json_reader *c, const rl__json *obj,
                          const char *key);

/* A number field in [min, max) (required). */
double rl__json_get_double(rl__json_reader *c, const rl__json *obj,
                           const char *key, double min, double max);

/* A boolean field: 0 or 1; -1 when null or absent (as flags allow) or on
 * error. */
int rl__json_get_bool(rl__json_reader *c, const rl__json *obj, const char *key,
                      int flags);

/* A string field that must be one of name(0..count-1): its index; dflt
 * when null or absent (as flags allow) or on error. */
int rl__json_get_enum(rl__json_reader *c, const rl__json *obj, const char *key,
                      int flags, const char *(*name)(int), int count, int dflt);

/* A malloc'd copy of s (NULL for NULL), recording running out of
 * memory. */
char *rl__json_dup(rl__json_reader *c, const char *s);

#endif /* RL_JSONPARSE_H */
