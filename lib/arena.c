/* arena.c: the shared memory arena, one memfd mapped MAP_SHARED at the same
 * address in every process, and its allocator. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define ARENA_MAGIC 0x726c6172656e6131ULL /* "rlarena1" */
#define BLOCK_LIVE 0x4c495645u
#define BLOCK_FREE 0x46524545u
#define MIN_CLASS 5 /* 32-byte blocks: 16 header + 16 data */
#define MAX_CLASS 40
#define HDR_SIZE 16

#ifdef RL_TESTING
#define DEFAULT_SIZE ((size_t)64 << 20)
#else
#define DEFAULT_SIZE ((size_t)256 << 20)
#endif

/* Arenas are placed at a fixed, rarely used part of the address space so
 * that a spawned child (a fresh exec with its own random layout) almost
 * never finds the range taken, and addresses repeat from run to run. */
#define ARENA_HINT ((uintptr_t)0x1f0000000000ULL)
#define ARENA_TRIES 64

typedef struct {
    uint64_t magic;
    size_t size;
    pthread_mutex_t lock;
    size_t brk;                      /* offset of the first never-used byte */
    size_t free_head[MAX_CLASS + 1]; /* offsets of free blocks, 0 = none */
    size_t in_use;                   /* bytes of live blocks */
    void *roots[RL__ROOT_COUNT];
} arena_hdr;

typedef struct {
    uint32_t magic;
    uint32_t cls;
    uint64_t pad;
} block_hdr;

/* The offset of the first block: everything below is the header. */
#define FIRST_BLOCK ((sizeof(arena_hdr) + 63) & ~(size_t)63)

static arena_hdr *arena; /* this process's mapping, NULL before use */
static int arena_fd = -1;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t configured_size(void)
{
    const char *s = getenv("RACELAB_ARENA_SIZE");
    if (!s || !*s)
        return DEFAULT_SIZE;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K')
        v <<= 10;
    else if (*end == 'm' || *end == 'M')
        v <<= 20;
    else if (*end == 'g' || *end == 'G')
        v <<= 30;
    if (v < ((size_t)1 << 20))
        v = (size_t)1 << 20;
    return (size_t)v;
}

static int arena_create(void)
{
    size_t size = configured_size();
    int fd = memfd_create("racelab-arena", MFD_CLOEXEC);
    if (fd < 0)
        return rl__fail(-errno, "memfd_create for the arena: %s",
                        strerror(errno));
    if (ftruncate(fd, (off_t)size) < 0) {
        int e = errno;
        close(fd);
        return rl__fail(-e, "sizing the arena to %zu bytes: %s", size,
                        strerror(e));
    }
    void *p = MAP_FAILED;
    for (int i = 0; i < ARENA_TRIES && p == MAP_FAILED; i++) {
        void *want = (void *)(ARENA_HINT + (uintptr_t)i * size);
        p = mmap(want, size, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
        if (p != MAP_FAILED && p != want) {
            munmap(p, size);
            p = MAP_FAILED;
        }
    }
    if (p == MAP_FAILED)
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        return rl__fail(-e, "mapping the arena: %s", strerror(e));
    }
    arena_hdr *h = p;
    h->size = size;
    int r = rl__mutex_init(&h->lock, 0);
    if (r < 0) {
        munmap(p, size);
        close(fd);
        return rl__fail(r, "initialising the arena lock");
    }
    h->brk = FIRST_BLOCK;
    h->magic = ARENA_MAGIC;
    arena_fd = fd;
    __atomic_store_n(&arena, h, __ATOMIC_RELEASE);
    return 0;
}

int rl__arena_ensure(void)
{
    if (__atomic_load_n(&arena, __ATOMIC_ACQUIRE))
        return 0;
    pthread_mutex_lock(&init_lock);
    int r = arena ? 0 : arena_create();
    pthread_mutex_unlock(&init_lock);
    return r;
}

int rl__arena_attach(int fd, void *addr, size_t size)
{
    void *p = mmap(addr, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
    if (p == MAP_FAILED)
        return rl__fail(-errno, "mapping the arena at %p: %s", addr,
                        strerror(errno));
    if (p != addr) {
        munmap(p, size);
        return rl__fail(-EEXIST, "the arena address %p is taken", addr);
    }
    arena_hdr *h = p;
    if (h->magic != ARENA_MAGIC || h->size != size) {
        munmap(p, size);
        return rl__fail(-EINVAL, "the mapped memory is not a racelab arena");
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    arena_fd = fd;
    __atomic_store_n(&arena, h, __ATOMIC_RELEASE);
    return 0;
}

int rl__arena_fd(void)
{
    return arena ? arena_fd : -1;
}

void *rl__arena_base(void)
{
    return arena;
}

size_t rl__arena_size(void)
{
    return arena ? arena->size : 0;
}

int rl__in_arena(const void *p)
{
    const char *a = (const char *)__atomic_load_n(&arena, __ATOMIC_ACQUIRE);
    return a && (const char *)p >= a && (const char *)p < a + arena->size;
}

void **rl__arena_root(int which)
{
    if (rl__arena_ensure() < 0 || which < 0 || which >= RL__ROOT_COUNT)
        return NULL;
    return &arena->roots[which];
}

pthread_mutex_t *rl__arena_lock(void)
{
    if (rl__arena_ensure() < 0)
        return NULL;
    return &arena->lock;
}

static int size_class(size_t size)
{
    size_t need = size + HDR_SIZE;
    int c = MIN_CLASS;
    while (c <= MAX_CLASS && ((size_t)1 << c) < need)
        c++;
    return c;
}

void *rl_shared_alloc(size_t size)
{
    if (size == 0) {
        rl__fail(-EINVAL, "rl_shared_alloc: size 0");
        return NULL;
    }
    if (size > SIZE_MAX - HDR_SIZE) {
        rl__fail(-ENOMEM, "rl_shared_alloc: %zu bytes is too large", size);
        return NULL;
    }
    if (rl__arena_ensure() < 0)
        return NULL;
    int c = size_class(size);
    if (c > MAX_CLASS) {
        rl__fail(-ENOMEM, "rl_shared_alloc: %zu bytes is too large", size);
        return NULL;
    }
    size_t bsize = (size_t)1 << c;
    char *base = (char *)arena;
    block_hdr *b = NULL;
    int reused = 0;
    rl__mutex_lock(&arena->lock);
    if (arena->free_head[c]) {
        b = (block_hdr *)(base + arena->free_head[c]);
        arena->free_head[c] = *(size_t *)(b + 1);
        reused = 1;
    } else if (arena->brk + bsize <= arena->size) {
        b = (block_hdr *)(base + arena->brk);
        arena->brk += bsize;
    }
    if (b) {
        b->magic = BLOCK_LIVE;
        b->cls = (uint32_t)c;
        arena->in_use += bsize;
    }
    rl__mutex_unlock(&arena->lock);
    if (!b) {
        rl__fail(-ENOMEM,
                 "the shared arena (%zu bytes) is full; set "
                 "RACELAB_ARENA_SIZE to make it larger",
                 arena->size);
        return NULL;
    }
    /* Fresh memfd pages are zero already; a reused block is not. */
    if (reused)
        memset(b + 1, 0, bsize - HDR_SIZE);
    return b + 1;
}

void rl_shared_free(void *p)
{
    if (!p)
        return;
    if (!rl__in_arena(p) || ((uintptr_t)p & 15) != 0) {
        rl__fail(-EINVAL,
                 "rl_shared_free: %p is not shared memory from "
                 "rl_shared_alloc",
                 p);
        return;
    }
    size_t off = (size_t)((char *)p - (char *)arena);
    block_hdr *b = (block_hdr *)p - 1;
    rl__mutex_lock(&arena->lock);
    if (off < FIRST_BLOCK + HDR_SIZE || off >= arena->brk ||
        b->magic != BLOCK_LIVE || b->cls < MIN_CLASS || b->cls > MAX_CLASS) {
        rl__mutex_unlock(&arena->lock);
        rl__fail(-EINVAL,
                 "rl_shared_free: %p was already freed or is not "
                 "the start of an allocation",
                 p);
        return;
    }
    b->magic = BLOCK_FREE;
    *(size_t *)(b + 1) = arena->free_head[b->cls];
    arena->free_head[b->cls] = (size_t)((char *)b - (char *)arena);
    arena->in_use -= (size_t)1 << b->cls;
    rl__mutex_unlock(&arena->lock);
}

/* Looks the address up in /proc/self/maps: shared mappings show an 's' in
 * the fourth permission column. */
static int maps_say_shared(uintptr_t a)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[8192];
    size_t have = 0;
    int found = 0, done = 0;
    while (!done) {
        ssize_t n;
        do
            n = read(fd, buf + have, sizeof buf - 1 - have);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            unsigned long lo, hi;
            char perms[5];
            if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && a >= lo &&
                a < hi) {
                found = perms[3] == 's';
                done = 1;
                break;
            }
            line = nl + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
    }
    close(fd);
    return found;
}

int rl_is_shared(const void *addr)
{
    if (rl__in_arena(addr))
        return 1;
    return maps_say_shared((uintptr_t)addr);
}

/* The harness runs executions in an arena of their own, so that a
 * program's own shared objects survive the executions it runs. */
static arena_hdr *exec_arena, *saved_arena;
static int exec_fd = -1, saved_fd = -1;

int rl__arena_use_exec(void)
{
    pthread_mutex_lock(&init_lock);
    saved_arena = arena;
    saved_fd = arena_fd;
    int r = 0;
    if (exec_arena) {
        arena = exec_arena;
        arena_fd = exec_fd;
    } else {
        arena = NULL;
        arena_fd = -1;
        r = arena_create();
        if (r == 0) {
            exec_arena = arena;
            exec_fd = arena_fd;
        } else {
            arena = saved_arena;
            arena_fd = saved_fd;
        }
    }
    pthread_mutex_unlock(&init_lock);
    return r;
}

void rl__arena_forget_exec(void)
{
    pthread_mutex_lock(&init_lock);
    if (exec_arena && arena != exec_arena) {
        munmap(exec_arena, exec_arena->size);
        close(exec_fd);
        exec_arena = NULL;
        exec_fd = -1;
    }
    pthread_mutex_unlock(&init_lock);
}

void rl__arena_use_own(void)
{
    pthread_mutex_lock(&init_lock);
    arena = saved_arena;
    arena_fd = saved_fd;
    pthread_mutex_unlock(&init_lock);
}

/* Above this many bytes, what an execution used is punched out rather
 * than written over: writing zeros would cost more than the page faults
 * of fresh pages. */
#define ZERO_IN_PLACE ((size_t)64 << 10)

size_t rl__arena_mark(void)
{
    return arena ? arena->brk : 0;
}

/* Zeroes [p, p + n) where its pages are in memory; a page that is not
 * reads as zero already, and writing to it would only make one. */
static void zero_resident(char *p, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *first = (char *)((uintptr_t)p / page * page), *end = p + n;
    size_t pages = (size_t)(end - first + (ptrdiff_t)page - 1) / page;
    unsigned char vec[ZERO_IN_PLACE / 4096 + 2];
    if (pages > sizeof vec || mincore(first, (size_t)(end - first), vec) < 0) {
        memset(p, 0, n);
        return;
    }
    for (size_t i = 0; i < pages; i++) {
        if (!(vec[i] & 1))
            continue;
        char *a = first + i * page, *b = a + page;
        if (a < p)
            a = p;
        if (b > end)
            b = end;
        memset(a, 0, (size_t)(b - a));
    }
}

static int punch(size_t from, size_t to)
{
    if (to <= from)
        return 0;
    if (fallocate(arena_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)from, (off_t)(to - from)) < 0)
        return rl__fail(-errno, "clearing the arena: %s", strerror(errno));
    return 0;
}

int rl__arena_fresh_above(size_t keep)
{
    if (rl__arena_ensure() < 0)
        return -ENOMEM;
    arena_hdr *h = arena;
    size_t size = h->size, used = h->brk;
    if (keep < FIRST_BLOCK || keep > used) {
        /* Punching the whole file gives zero pages back, at the same
         * address, without a new mapping: addresses repeat from one
         * execution to the next. */
        int r = punch(0, size);
        if (r < 0)
            return r;
        keep = FIRST_BLOCK;
    } else if (used - keep <= ZERO_IN_PLACE) {
        zero_resident((char *)h + keep, used - keep);
    } else {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t from = (keep + page - 1) / page * page;
        memset((char *)h + keep, 0, from - keep);
        int r = punch(from, (used + page - 1) / page * page);
        if (r < 0)
            return r;
    }
    h->size = size;
    int r = rl__mutex_init(&h->lock, 0);
    if (r < 0)
        return r;
    memset(h->free_head, 0, sizeof h->free_head);
    memset(h->roots, 0, sizeof h->roots);
    /* Blocks are laid end to end from the first one: below keep, all are
     * live. */
    h->in_use = keep - FIRST_BLOCK;
    h->brk = keep;
    h->magic = ARENA_MAGIC;
    return 0;
}

int rl__arena_fresh(void)
{
    return rl__arena_fresh_above(0);
}
