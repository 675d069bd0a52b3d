/* mix.h: splitmix64, racelab's one seeded generator, header-only so the
 * library, the noise interposer and the tests share the same code. */
#ifndef RL_MIX_H
#define RL_MIX_H

#include <stdint.h>

/* The finaliser of splitmix64 (Steele, Lea and Flood, OOPSLA 2014): mixes
 * z into a well-distributed value. */
static inline uint64_t rl__mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64: advances *state and returns its next number. Small, fast
 * and good enough to pick among actors and to derive seeds; all of
 * racelab's randomness comes from it, seeded explicitly. */
static inline uint64_t rl__splitmix64(uint64_t *state)
{
    return rl__mix64(*state += 0x9e3779b97f4a7c15ULL);
}

#endif
