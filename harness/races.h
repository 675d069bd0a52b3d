/* races.h: the happens-before data-race detector over the step log of one
 * controlled execution. Internal to the harness. */
#ifndef RL_RACES_H
#define RL_RACES_H

#include <stdint.h>
#include <sys/types.h>

#include "scheduler.h"

/* What an execution does about races (--races). Zero is the default. */
enum {
    RL__RACES_FAIL = 0, /* a race turns a passing execution into RACE */
    RL__RACES_REPORT,   /* races are listed, the verdict stays */
    RL__RACES_OFF,      /* races are not looked for */
    RL__RACES_COUNT
};

/* The most races one execution reports (distinct pairs of places). */
#define RL__RACES_MAX 64

/* One of the two accesses of a race, as its step recorded it. */
typedef struct {
    long step; /* its index in the execution's trace */
    int actor;
    pid_t pid;
    int write;  /* a store or read-modify-write */
    int atomic; /* a fetch-add or an atomic of instrumented code */
    uintptr_t addr;
    int size;
    char label[48];
    char file[40]; /* "" when not known (yet: see rl__races_refresh) */
    int line;
    uintptr_t pc; /* instrumented code: its place (see rl__step) */
    uint32_t pc_obj;
    /* the stack of the process at the access, one frame a line, no
     * newline at the end; "" when not captured (see rl__races_stacks) */
    char stack[1024];
} rl__race_access;

/* A data race: two accesses to overlapping shared bytes by different
 * actors, at least one a write, not both atomic, neither happening before
 * the other. first comes earlier in the trace. */
typedef struct {
    rl__race_access first, second;
    int failing; /* a search's: it is a race of the failure it kept */
} rl__race;

/* Finds the data races of steps[0..n), an execution's trace, with
 * happens-before from vector clocks (Lamport, "Time, clocks, and the
 * ordering of events in a distributed system", CACM 1978; Fidge 1988 and
 * Mattern 1989 for vector clocks; the per-place epoch check follows
 * FastTrack, Flanagan and Freund, PLDI 2009). Each pair of source places
 * is reported once, at most RL__RACES_MAX pairs, in the order of their
 * second access. Pure: it reads only steps. Returns the number of races
 * with *out malloc'd (NULL when there are none), or -ENOMEM with *out
 * NULL. */
long rl__races_find(const rl__step *steps, long n, rl__race **out);

/* Fills file and line of each access from the steps they index (after
 * rl__tsan_symbolize gave instrumented steps their place). */
void rl__races_refresh(rl__race *races, long n, const rl__step *steps,
                       long nsteps);

/* Whether two races are at the same pair of source places (in either
 * order): a search reports such races once. */
int rl__races_same_places(const rl__race *a, const rl__race *b);

/* Writes "actor 1 (name, pid 42) write 8 bytes at 0x7f.. (file.c:12)" for
 * one access into buf (size bytes, always terminated). name may be
 * NULL. */
void rl__race_access_describe(const rl__race_access *x, const char *name,
                              char *buf, size_t size);

/* The name of a races setting ("fail", "report", "off"); "?" out of
 * range. And its value by name, -1 when unknown. */
const char *rl__races_name(int races);
int rl__races_parse(const char *name);

#endif /* RL_RACES_H */
