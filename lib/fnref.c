/* fnref.c: a function named by its loaded object and offset, so that a
 * fresh exec of the same binary (a pool's spawned worker) finds it. */
#include <errno.h>
#include <link.h>
#include <string.h>

#include "fnref.h"
#include "internal.h"

typedef struct {
    rl__fnref *ref;
    int found;
} find_ctx;

static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    find_ctx *c = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (c->ref->addr >= lo && c->ref->addr < lo + ph->p_memsz) {
            c->ref->off = c->ref->addr - info->dlpi_addr;
            const char *name = info->dlpi_name ? info->dlpi_name : "";
            if (strlen(name) >= sizeof c->ref->obj)
                return 0;
            strcpy(c->ref->obj, name);
            c->found = 1;
            return 1;
        }
    }
    return 0;
}

int rl__fnref_make(rl__fnref *ref, uintptr_t fn)
{
    memset(ref, 0, sizeof *ref);
    ref->addr = fn;
    find_ctx c = {ref, 0};
    dl_iterate_phdr(find_cb, &c);
    if (!c.found)
        return rl__fail(-EINVAL,
                        "pool: function %p lies in no loaded "
                        "object",
                        (void *)fn);
    return 0;
}

typedef struct {
    const rl__fnref *ref;
    uintptr_t addr;
} resolve_ctx;

static int resolve_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    resolve_ctx *c = data;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (strcmp(name, c->ref->obj) != 0)
        return 0;
    c->addr = info->dlpi_addr + c->ref->off;
    return 1;
}

uintptr_t rl__fnref_resolve(int forked, const rl__fnref *ref)
{
    if (forked)
        return ref->addr;
    static rl__fnref last;
    static uintptr_t last_addr;
    if (last_addr && last.off == ref->off && strcmp(last.obj, ref->obj) == 0)
        return last_addr;
    resolve_ctx c = {ref, 0};
    dl_iterate_phdr(resolve_cb, &c);
    if (c.addr) {
        last = *ref;
        last_addr = c.addr;
    }
    return c.addr;
}
