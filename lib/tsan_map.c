/* tsan_map.c: the process's own MAP_SHARED mappings as watched memory.
 * Besides the arena, memory the program mapped itself with MAP_SHARED
 * (mmap of an anonymous region or a file, shm_open and mmap) and writable
 * is shared with the processes it forks after: racelab's runtime defines
 * mmap and munmap, keeps the ranges of such mappings, and while the arena
 * is watched (the process is an actor of an execution) the accesses of
 * instrumented code to those ranges are schedule points too (tsan.c).
 * Every call goes to the kernel as the C library's would; the table costs
 * a compare per access while it is empty. Like tsan.c, this file must not
 * be built with -fsanitize=thread. */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "racelab.h"
#include "tsan.h"

/* The mappings kept; more are not watched. */
#define MAPS_MAX 32

typedef struct {
    uintptr_t lo, hi;
} range;

/* Every mapping kept, and those watched now: while watching, the kept
 * ones that are not the arena (its own mapping is one of them). */
static range maps[MAPS_MAX], active[MAPS_MAX];
static int nmaps;
static int watching;

int rl__tsan_nmaps;

/* Rebuilds the watched table from the kept one. */
static void refresh(void)
{
    int n = 0;
    for (int i = 0; watching && i < nmaps; i++) {
        if (maps[i].lo < rl__tsan_lo + rl__tsan_span &&
            maps[i].hi > rl__tsan_lo)
            continue;
        active[n++] = maps[i];
    }
    rl__tsan_nmaps = n;
}

void rl__tsan_maps_watch(int on)
{
    watching = on && rl__tsan_span > 0;
    refresh();
}

int rl__tsan_in_maps(uintptr_t a)
{
    for (int i = 0; i < rl__tsan_nmaps; i++)
        if (a - active[i].lo < active[i].hi - active[i].lo)
            return 1;
    return 0;
}

int rl__tsan_maps_meet(const void *a, unsigned long n, uintptr_t *lo,
                       uintptr_t *hi)
{
    uintptr_t p = (uintptr_t)a;
    for (int i = 0; n > 0 && i < rl__tsan_nmaps; i++) {
        if (p < active[i].hi && p + n > active[i].lo) {
            if (lo && hi) {
                *lo = active[i].lo;
                *hi = active[i].hi;
            }
            return 1;
        }
    }
    return 0;
}

/* Keeps [p, p + len) as a watched mapping. */
static void add(void *p, size_t len)
{
    if (nmaps >= MAPS_MAX || len == 0)
        return;
    uintptr_t lo = (uintptr_t)p;
    /* Pages: what the kernel mapped. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t hi = lo + ((len + page - 1) / page) * page;
    maps[nmaps].lo = lo;
    maps[nmaps].hi = hi;
    nmaps++;
    refresh();
}

/* Forgets every kept mapping that [p, p + len) unmaps, whole or in part
 * (a part left mapped is no longer watched). */
static void drop(void *p, size_t len)
{
    uintptr_t lo = (uintptr_t)p, hi = lo + len;
    for (int i = 0; i < nmaps;) {
        if (lo < maps[i].hi && hi > maps[i].lo)
            maps[i] = maps[--nmaps];
        else
            i++;
    }
    refresh();
}

/* The kernel's mmap, as the C library calls it: -1 and errno on failure
 * (no address the kernel gives is in the error range). */
static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                      off_t off)
{
    long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    return r == -1 ? MAP_FAILED : (void *)r;
}

static int is_shared(int prot, int flags)
{
    int type = flags & MAP_TYPE;
    return (type == MAP_SHARED || type == MAP_SHARED_VALIDATE) &&
           (prot & PROT_WRITE);
}

RL_API void *mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off)
{
    void *p = sys_mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && is_shared(prot, flags)) {
        /* MAP_FIXED replaces what was there. */
        drop(p, len);
        add(p, len);
    } else if (p != MAP_FAILED && (flags & MAP_FIXED)) {
        drop(p, len);
    }
    return p;
}

RL_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
                    off64_t off)
{
    return mmap(addr, len, prot, flags, fd, (off_t)off);
}

RL_API int munmap(void *addr, size_t len)
{
    int r = (int)syscall(SYS_munmap, addr, len);
    if (r == 0)
        drop(addr, len);
    return r;
}
