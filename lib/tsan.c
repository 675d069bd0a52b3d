/* tsan.c: racelab's runtime for the compiler's ThreadSanitizer
 * instrumentation. Code built with -fsanitize=thread calls a __tsan_* entry
 * point before every memory access; linked against libracelab instead of
 * the sanitizer's runtime, an access to the arena by an actor of a
 * controlled execution becomes a schedule point, recorded like RL_LOAD,
 * RL_STORE and RL_FETCH_ADD, and every other access costs one range check.
 *
 * This file must not itself be built with -fsanitize=thread, and nothing it
 * calls on the way to the scheduler may be instrumented code: a hook would
 * enter itself. */
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scheduler.h"
#include "tsan.h"

/* The watched range, [lo, lo + span): the arena while this process is an
 * actor of an execution, empty otherwise, so that the hooks of a program
 * that runs no execution cost a compare and a branch. */
uintptr_t rl__tsan_lo, rl__tsan_span;

#define WATCHED(a) RL__TSAN_WATCHED(a)

void rl__tsan_watch(int on)
{
    rl__tsan_span = 0;
    rl__tsan_lo = on ? (uintptr_t)rl__arena_base() : 0;
    rl__tsan_span = on && rl__tsan_lo ? rl__arena_size() : 0;
    rl__tsan_maps_watch(on);
}

long rl__tsan_value(const void *addr, long size)
{
    const volatile void *p = addr;
    switch (size) {
    case 1:
        return *(const volatile int8_t *)p;
    case 2:
        return *(const volatile int16_t *)p;
    case 4:
        return *(const volatile int32_t *)p;
    case 8:
        return (long)*(const volatile int64_t *)p;
    default:
        return 0;
    }
}

/* ---- where an access was made ---- */

/* The object that held the last return address looked up: the range of
 * its loaded segments, its load bias and the hash of its name. Looked up
 * again only when an access comes from another object. */
static uintptr_t obj_lo, obj_hi, obj_bias;
static uint32_t obj_hash;

/* FNV-1a of an object's name; 0 for the main program (its name is empty
 * in every process, whatever its address). */
static uint32_t name_hash(const char *name)
{
    if (!name || !*name)
        return 0;
    uint32_t h = 2166136261u;
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h ? h : 1;
}

typedef struct {
    uintptr_t pc;
    uint32_t hash; /* or, looking for a name: the hash wanted */
    int found;
    uintptr_t lo, hi, bias;
    char path[PATH_MAX];
} object_query;

static int find_pc(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    object_query *q = ctx;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (q->pc >= lo && q->pc < lo + ph->p_memsz) {
            q->found = 1;
            q->lo = lo;
            q->hi = lo + ph->p_memsz;
            q->bias = info->dlpi_addr;
            q->hash = name_hash(info->dlpi_name);
            return 1;
        }
    }
    return 0;
}

/* The place of an access: the offset of the return address ra in its
 * object (what addr2line takes) and, in *obj, its object's hash. */
static uintptr_t place(uintptr_t ra, uint32_t *obj)
{
    if (ra < obj_lo || ra >= obj_hi) {
        object_query q = {.pc = ra};
        dl_iterate_phdr(find_pc, &q);
        if (!q.found) {
            *obj = UINT32_MAX; /* unknown: left unresolved */
            return ra;
        }
        obj_lo = q.lo;
        obj_hi = q.hi;
        obj_bias = q.bias;
        obj_hash = q.hash;
    }
    *obj = obj_hash;
    return ra - obj_bias;
}

/* ---- the slow paths: an access to the watched range ---- */

#define RA() ((uintptr_t)__builtin_return_address(0))

static __attribute__((noinline)) void
shared_load(const void *a, long size, uintptr_t ra, const char *label)
{
    uint32_t obj;
    uintptr_t pc = place(ra, &obj);
    if (rl__tsan_step(RL_OP_LOAD, a, size, label, pc, obj, 0, 0, 0, 0) &&
        size <= 8)
        rl__access_loaded(a, label, rl__tsan_value(a, size));
}

static __attribute__((noinline)) void shared_store(const void *a, long size,
                                                   uintptr_t ra,
                                                   const char *label,
                                                   int has_value, long value)
{
    uint32_t obj;
    uintptr_t pc = place(ra, &obj);
    rl__tsan_step(RL_OP_STORE, a, size, label, pc, obj, has_value, value, 0, 0);
}

/* An atomic read-modify-write: one step; returns 1 when it was one (the
 * caller then reports the old value with rl__access_loaded). */
static __attribute__((noinline)) int shared_rmw(const void *a, long size,
                                                uintptr_t ra, const char *label,
                                                long operand, int cas,
                                                long expect)
{
    uint32_t obj;
    uintptr_t pc = place(ra, &obj);
    return rl__tsan_step(RL_OP_FETCH_ADD, a, size, label, pc, obj, 1, operand,
                         cas ? (int)size : 0, expect);
}

/* ---- plain accesses ---- */

#define PLAIN(kind, n, slow)                                                   \
    RL_API void __tsan_##kind##n(void *a)                                      \
    {                                                                          \
        if (WATCHED(a))                                                        \
            slow;                                                              \
    }                                                                          \
    RL_API void __tsan_unaligned_##kind##n(void *a)                            \
    {                                                                          \
        if (WATCHED(a))                                                        \
            slow;                                                              \
    }                                                                          \
    RL_API void __tsan_volatile_##kind##n(void *a)                             \
    {                                                                          \
        if (WATCHED(a))                                                        \
            slow;                                                              \
    }                                                                          \
    RL_API void __tsan_##kind##n##_pc(void *a, void *pc)                       \
    {                                                                          \
        (void)pc;                                                              \
        if (WATCHED(a))                                                        \
            slow;                                                              \
    }

#define READS(n) PLAIN(read, n, shared_load(a, n, RA(), "plain"))
#define WRITES(n) PLAIN(write, n, shared_store(a, n, RA(), "plain", 0, 0))

/* The prototypes the compilers assume; declared here only to satisfy
 * -Wmissing-prototypes, as no header of racelab's declares them. */
#define PROTO(kind, n)                                                         \
    RL_API void __tsan_##kind##n(void *a);                                     \
    RL_API void __tsan_unaligned_##kind##n(void *a);                           \
    RL_API void __tsan_volatile_##kind##n(void *a);                            \
    RL_API void __tsan_##kind##n##_pc(void *a, void *pc);
PROTO(read, 1)
PROTO(read, 2)
PROTO(read, 4)
PROTO(read, 8)
PROTO(read, 16)
PROTO(write, 1)
PROTO(write, 2)
PROTO(write, 4)
PROTO(write, 8)
PROTO(write, 16)

READS(1)
READS(2)
READS(4)
READS(8)
READS(16)
WRITES(1)
WRITES(2)
WRITES(4)
WRITES(8)
WRITES(16)

RL_API void __tsan_read_range(void *a, unsigned long n);
RL_API void __tsan_write_range(void *a, unsigned long n);

/* A range that only partly lies in watched memory (the arena, else the
 * first watched mapping it meets) is recorded from where that memory
 * starts to where the range or the memory ends. */
static void clip(void **a, unsigned long *n)
{
    uintptr_t lo = (uintptr_t)*a, hi = lo + *n;
    uintptr_t wlo = rl__tsan_lo, whi = rl__tsan_lo + rl__tsan_span;
    if (!rl__tsan_meets_arena(*a, *n) &&
        !rl__tsan_maps_meet(*a, *n, &wlo, &whi))
        return;
    if (lo < wlo)
        lo = wlo;
    if (hi > whi)
        hi = whi;
    *a = (void *)lo;
    *n = hi - lo;
}

RL_API void __tsan_read_range(void *a, unsigned long n)
{
    if (rl__tsan_meets(a, n)) {
        clip(&a, &n);
        shared_load(a, (long)n, RA(), "range");
    }
}

RL_API void __tsan_write_range(void *a, unsigned long n)
{
    if (rl__tsan_meets(a, n)) {
        clip(&a, &n);
        shared_store(a, (long)n, RA(), "range", 0, 0);
    }
}

/* ---- the C library's copies, as newer compilers emit them ---- */

RL_API void *__tsan_memcpy(void *d, const void *s, unsigned long n);
RL_API void *__tsan_memmove(void *d, const void *s, unsigned long n);
RL_API void *__tsan_memset(void *d, int c, unsigned long n);

/* One step for the source, one for the destination, each only when it
 * lies in shared memory: a copy between two shared buffers is no more
 * atomic than a load followed by a store. */
void rl__tsan_copy(void *d, const void *s, unsigned long n, uintptr_t ra,
                   const char *label)
{
    if (rl__tsan_meets(s, n)) {
        void *a = (void *)s;
        unsigned long m = n;
        clip(&a, &m);
        shared_load(a, (long)m, ra, label);
    }
    if (rl__tsan_meets(d, n)) {
        clip(&d, &n);
        shared_store(d, (long)n, ra, label, 0, 0);
    }
}

RL_API void *__tsan_memcpy(void *d, const void *s, unsigned long n)
{
    rl__tsan_copy(d, s, n, RA(), "memcpy");
    return rl__libc_memcpy(d, s, n, SIZE_MAX);
}

RL_API void *__tsan_memmove(void *d, const void *s, unsigned long n)
{
    rl__tsan_copy(d, s, n, RA(), "memmove");
    return rl__libc_memmove(d, s, n, SIZE_MAX);
}

void rl__tsan_fill(void *d, unsigned long n, uintptr_t ra)
{
    if (rl__tsan_meets(d, n)) {
        clip(&d, &n);
        shared_store(d, (long)n, ra, "memset", 0, 0);
    }
}

RL_API void *__tsan_memset(void *d, int c, unsigned long n)
{
    rl__tsan_fill(d, n, RA());
    return rl__libc_memset(d, c, n, SIZE_MAX);
}

/* ---- initialisation, C++ vtables ---- */

RL_API void __tsan_init(void);
RL_API void __tsan_vptr_update(void **vptr, void *value);
RL_API void __tsan_vptr_read(void **vptr);

RL_API void __tsan_init(void)
{
}

RL_API void __tsan_vptr_update(void **vptr, void *value)
{
    if (WATCHED(vptr) && *vptr != value)
        shared_store(vptr, sizeof *vptr, RA(), "vptr", 1, (long)value);
}

RL_API void __tsan_vptr_read(void **vptr)
{
    if (WATCHED(vptr))
        shared_load(vptr, sizeof *vptr, RA(), "vptr");
}

/* ---- atomics ---- */

/* Every atomic is done sequentially consistent, whatever order the
 * program asked for: stronger is always allowed, and in a controlled
 * execution only one actor runs anyway. */
#define SC __ATOMIC_SEQ_CST

typedef int8_t a8;
typedef int16_t a16;
typedef int32_t a32;
typedef int64_t a64;

RL_API void __tsan_atomic_thread_fence(int mo);
RL_API void __tsan_atomic_signal_fence(int mo);

RL_API void __tsan_atomic_thread_fence(int mo)
{
    (void)mo;
    __atomic_thread_fence(SC);
}

RL_API void __tsan_atomic_signal_fence(int mo)
{
    (void)mo;
    __atomic_signal_fence(SC);
}

/* load, store, the read-modify-writes that return the old value, and the
 * three compare-exchanges, for one width. */
#define ATOMICS(n)                                                             \
    RL_API a##n __tsan_atomic##n##_load(const volatile a##n *a, int mo);       \
    RL_API a##n __tsan_atomic##n##_load(const volatile a##n *a, int mo)        \
    {                                                                          \
        (void)mo;                                                              \
        if (WATCHED(a))                                                        \
            shared_load((const void *)a, n / 8, RA(), "atomic load");          \
        return __atomic_load_n(a, SC);                                         \
    }                                                                          \
    RL_API void __tsan_atomic##n##_store(volatile a##n *a, a##n v, int mo);    \
    RL_API void __tsan_atomic##n##_store(volatile a##n *a, a##n v, int mo)     \
    {                                                                          \
        (void)mo;                                                              \
        if (WATCHED(a))                                                        \
            shared_store((const void *)a, n / 8, RA(), "atomic store", 1,      \
                         (long)v);                                             \
        __atomic_store_n(a, v, SC);                                            \
    }                                                                          \
    RMW(n, exchange, __atomic_exchange_n)                                      \
    RMW(n, fetch_add, __atomic_fetch_add)                                      \
    RMW(n, fetch_sub, __atomic_fetch_sub)                                      \
    RMW(n, fetch_and, __atomic_fetch_and)                                      \
    RMW(n, fetch_or, __atomic_fetch_or)                                        \
    RMW(n, fetch_xor, __atomic_fetch_xor)                                      \
    RMW(n, fetch_nand, __atomic_fetch_nand)                                    \
    CAS(n, strong)                                                             \
    CAS(n, weak)                                                               \
    RL_API a##n __tsan_atomic##n##_compare_exchange_val(                       \
        volatile a##n *a, a##n c, a##n v, int mo, int fmo);                    \
    RL_API a##n __tsan_atomic##n##_compare_exchange_val(                       \
        volatile a##n *a, a##n c, a##n v, int mo, int fmo)                     \
    {                                                                          \
        (void)mo;                                                              \
        (void)fmo;                                                             \
        int step = WATCHED(a) &&                                               \
                   shared_rmw((const void *)a, n / 8, RA(),                    \
                              "atomic compare_exchange", (long)v, 1, (long)c); \
        __atomic_compare_exchange_n(a, &c, v, 0, SC, SC);                      \
        if (step)                                                              \
            rl__access_loaded(a, "atomic compare_exchange", (long)c);          \
        return c;                                                              \
    }

#define RMW(n, name, builtin)                                                  \
    RL_API a##n __tsan_atomic##n##_##name(volatile a##n *a, a##n v, int mo);   \
    RL_API a##n __tsan_atomic##n##_##name(volatile a##n *a, a##n v, int mo)    \
    {                                                                          \
        (void)mo;                                                              \
        int step = WATCHED(a) && shared_rmw((const void *)a, n / 8, RA(),      \
                                            "atomic " #name, (long)v, 0, 0);   \
        a##n old = builtin(a, v, SC);                                          \
        if (step)                                                              \
            rl__access_loaded(a, "atomic " #name, (long)old);                  \
        return old;                                                            \
    }

/* A weak compare-exchange never fails spuriously here: the same schedule
 * must give the same outcome every time. */
#define CAS(n, kind)                                                           \
    RL_API int __tsan_atomic##n##_compare_exchange_##kind(                     \
        volatile a##n *a, a##n *c, a##n v, int mo, int fmo);                   \
    RL_API int __tsan_atomic##n##_compare_exchange_##kind(                     \
        volatile a##n *a, a##n *c, a##n v, int mo, int fmo)                    \
    {                                                                          \
        (void)mo;                                                              \
        (void)fmo;                                                             \
        int step = WATCHED(a) && shared_rmw((const void *)a, n / 8, RA(),      \
                                            "atomic compare_exchange",         \
                                            (long)v, 1, (long)*c);             \
        a##n expect = *c;                                                      \
        int ok = __atomic_compare_exchange_n(a, c, v, 0, SC, SC);              \
        if (step)                                                              \
            rl__access_loaded(a, "atomic compare_exchange",                    \
                              (long)(ok ? expect : *c));                       \
        return ok;                                                             \
    }

ATOMICS(8)
ATOMICS(16)
ATOMICS(32)
ATOMICS(64)

#if defined(__x86_64__) && defined(__SIZEOF_INT128__)
/* 16-byte atomics (gcc sends them here; clang calls libatomic) through
 * cmpxchg16b, so that libracelab needs no libatomic. Their steps carry no
 * value: it does not fit the step's. */
typedef __int128 a128;

#define CX16 __attribute__((target("cx16")))

static CX16 a128 cas128(volatile a128 *a, a128 expect, a128 v)
{
    return __sync_val_compare_and_swap(a, expect, v);
}

static a128 load128(volatile a128 *a)
{
    return cas128(a, 0, 0);
}

RL_API a128 __tsan_atomic128_load(const volatile a128 *a, int mo);
RL_API a128 __tsan_atomic128_load(const volatile a128 *a, int mo)
{
    (void)mo;
    if (WATCHED(a))
        shared_load((const void *)a, 16, RA(), "atomic load");
    return load128((volatile a128 *)a);
}

RL_API void __tsan_atomic128_store(volatile a128 *a, a128 v, int mo);
RL_API void __tsan_atomic128_store(volatile a128 *a, a128 v, int mo)
{
    (void)mo;
    if (WATCHED(a))
        shared_store((const void *)a, 16, RA(), "atomic store", 0, 0);
    a128 old = load128(a), seen;
    while ((seen = cas128(a, old, v)) != old)
        old = seen;
}

#define RMW128(name, expr)                                                     \
    RL_API a128 __tsan_atomic128_##name(volatile a128 *a, a128 v, int mo);     \
    RL_API a128 __tsan_atomic128_##name(volatile a128 *a, a128 v, int mo)      \
    {                                                                          \
        (void)mo;                                                              \
        if (WATCHED(a))                                                        \
            shared_rmw((const void *)a, 16, RA(), "atomic " #name, 0, 0, 0);   \
        a128 old = load128(a), seen;                                           \
        while ((seen = cas128(a, old, (expr))) != old)                         \
            old = seen;                                                        \
        return old;                                                            \
    }

RMW128(exchange, v)
RMW128(fetch_add, old + v)
RMW128(fetch_sub, old - v)
RMW128(fetch_and, old &v)
RMW128(fetch_or, old | v)
RMW128(fetch_xor, old ^ v)
RMW128(fetch_nand, ~(old &v))

RL_API a128 __tsan_atomic128_compare_exchange_val(volatile a128 *a, a128 c,
                                                  a128 v, int mo, int fmo);
RL_API a128 __tsan_atomic128_compare_exchange_val(volatile a128 *a, a128 c,
                                                  a128 v, int mo, int fmo)
{
    (void)mo;
    (void)fmo;
    if (WATCHED(a))
        shared_rmw((const void *)a, 16, RA(), "atomic compare_exchange", 0, 0,
                   0);
    return cas128(a, c, v);
}

#define CAS128(kind)                                                           \
    RL_API int __tsan_atomic128_compare_exchange_##kind(                       \
        volatile a128 *a, a128 *c, a128 v, int mo, int fmo);                   \
    RL_API int __tsan_atomic128_compare_exchange_##kind(                       \
        volatile a128 *a, a128 *c, a128 v, int mo, int fmo)                    \
    {                                                                          \
        (void)mo;                                                              \
        (void)fmo;                                                             \
        if (WATCHED(a))                                                        \
            shared_rmw((const void *)a, 16, RA(), "atomic compare_exchange",   \
                       0, 0, 0);                                               \
        a128 seen = cas128(a, *c, v);                                          \
        if (seen == *c)                                                        \
            return 1;                                                          \
        *c = seen;                                                             \
        return 0;                                                              \
    }

CAS128(strong)
CAS128(weak)
#endif

/* ---- file:line of the steps, for reported traces ---- */

typedef struct {
    uint32_t hash;
    char path[PATH_MAX];
    int found;
} name_query;

static int find_name(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    name_query *q = ctx;
    if (q->hash == 0 || name_hash(info->dlpi_name) != q->hash)
        return 0;
    rl__copy_str(q->path, sizeof q->path, info->dlpi_name);
    q->found = 1;
    return 1;
}

/* The path of the object with this hash in the calling process. */
static int object_path(uint32_t hash, char *path, size_t cap)
{
    if (hash == 0) {
        ssize_t n = readlink("/proc/self/exe", path, cap - 1);
        if (n <= 0)
            return 0;
        path[n] = '\0';
        return 1;
    }
    name_query q = {.hash = hash};
    dl_iterate_phdr(find_name, &q);
    if (q.found)
        rl__copy_str(path, cap, q.path);
    return q.found;
}

#define SYMBOLIZE_MAX 256

/* Resolves the distinct places of one object, then fills every step
 * of it. */
static void symbolize_object(rl__step *steps, long n, uint32_t hash)
{
    uintptr_t pcs[SYMBOLIZE_MAX];
    int npcs = 0;
    for (long i = 0; i < n; i++) {
        rl__step *st = &steps[i];
        if (!st->pc || st->file[0] || st->pc_obj != hash)
            continue;
        int k = 0;
        while (k < npcs && pcs[k] != st->pc)
            k++;
        if (k == npcs && npcs < SYMBOLIZE_MAX)
            pcs[npcs++] = st->pc;
    }
    char path[PATH_MAX];
    if (npcs == 0 || !object_path(hash, path, sizeof path) ||
        access("/usr/bin/addr2line", X_OK) != 0)
        return;
    const char **argv = calloc((size_t)npcs + 4, sizeof *argv);
    char(*addrs)[24] = calloc((size_t)npcs, sizeof *addrs);
    if (!argv || !addrs) {
        free(argv);
        free(addrs);
        return;
    }
    int k = 0;
    argv[k++] = "addr2line";
    argv[k++] = "-e";
    argv[k++] = path;
    for (int i = 0; i < npcs; i++) {
        /* A return address: the call is the instruction before it. */
        snprintf(addrs[i], sizeof addrs[i], "0x%lx",
                 (unsigned long)(pcs[i] - 1));
        argv[k++] = addrs[i];
    }
    argv[k] = NULL;
    rl_run_result res;
    rl_run_opts o = {.timeout = 30};
    if (rl_run(argv, &o, &res) == 0 && res.exit_code == 0 && res.out) {
        char *save = NULL, *line = strtok_r(res.out, "\n", &save);
        for (int i = 0; i < npcs && line; i++) {
            /* "dir/file.c:12" or "dir/file.c:12 (discriminator 1)" */
            char *colon = strrchr(line, ':');
            char *slash = strrchr(line, '/');
            const char *file = slash ? slash + 1 : line;
            if (colon && file[0] != '?') {
                *colon = '\0';
                int ln = atoi(colon + 1);
                for (long j = 0; j < n; j++) {
                    rl__step *st = &steps[j];
                    if (st->pc == pcs[i] && st->pc_obj == hash &&
                        !st->file[0]) {
                        rl__copy_str(st->file, sizeof st->file, file);
                        st->line = ln;
                    }
                }
            }
            line = strtok_r(NULL, "\n", &save);
        }
    }
    rl_run_result_free(&res);
    free(argv);
    free(addrs);
}

void rl__tsan_symbolize(rl__step *steps, long n)
{
    uint32_t done[16];
    int ndone = 0;
    for (long i = 0; i < n && ndone < 16; i++) {
        rl__step *st = &steps[i];
        if (!st->pc || st->file[0] || st->pc_obj == UINT32_MAX)
            continue;
        int k = 0;
        while (k < ndone && done[k] != st->pc_obj)
            k++;
        if (k < ndone)
            continue;
        done[ndone++] = st->pc_obj;
        symbolize_object(steps, n, st->pc_obj);
    }
}
