/* fnref.h: a function named so that a fresh exec of the same binary finds
 * it (pool.c); not installed. */
#ifndef RL_FNREF_H
#define RL_FNREF_H

#include <stdint.h>

/* A function named so that a fresh exec of the same binary finds it: the
 * loaded object's name and the offset inside it. addr is the address in
 * the process that made the reference, valid as is in forked children. */
typedef struct {
    uintptr_t addr;
    uintptr_t off;
    char obj[232];
} rl__fnref;

/* Names fn by its loaded object and offset. Returns 0, or -EINVAL (with
 * rl_last_error) when fn lies in no loaded object (a JIT or a mangled
 * pointer). */
int rl__fnref_make(rl__fnref *ref, uintptr_t fn);

/* The address of ref's function in this process, or 0 when its object is
 * not loaded here. forked: the caller is a fork of the process that made
 * ref, and uses the address as is. */
uintptr_t rl__fnref_resolve(int forked, const rl__fnref *ref);

#endif /* RL_FNREF_H */
