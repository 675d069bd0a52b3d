#!/usr/bin/env bash
# test_exports.sh: libracelab.so exports exactly the names lib/racelab.h
# declares (RL_API) and the compilers' __tsan_* entry points, nothing of
# lib/, harness/ or reports/ internals; a
# program using the public API links against it and runs (fork, spawn and
# forkserver children included), and one naming an internal symbol does
# not link.
set -euo pipefail
BUILD=${BUILD:-build}
make --no-print-directory -s BUILD="$BUILD" SANITIZE="${SANITIZE:-}" \
    COVERAGE="${COVERAGE:-}" "$BUILD/libracelab.so" >/dev/null
so=$(cd "$(dirname "$BUILD/libracelab.so")" && pwd)/libracelab.so
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The declared names: each RL_API declaration, joined up to its ';', gives
# the identifier before its parameter list (a function) or before the ';'
# (a variable).
awk '/^RL_API/ { decl = "" ; on = 1 }
     on { decl = decl " " $0 }
     on && /;/ {
         on = 0
         if (match(decl, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/))
             name = substr(decl, RSTART, RLENGTH)
         else if (match(decl, /[A-Za-z_][A-Za-z0-9_]*[ \t]*;/))
             name = substr(decl, RSTART, RLENGTH)
         gsub(/[ \t(;]/, "", name)
         print name
     }' lib/racelab.h | sort -u >"$stage/public"
[ "$(wc -l <"$stage/public")" -gt 50 ] ||
    { echo "FAIL: found only $(wc -l <"$stage/public") RL_API names in lib/racelab.h"; exit 1; }

# What the toolchain itself may add to a shared library (linker markers,
# and the runtimes of make coverage and make asan) is not ours.
nm -D --defined-only "$so" | awk '{ print $NF }' |
    grep -Ev '^(_init|_fini|_edata|_end|__bss_start|__gcov.*|__asan.*|__ubsan.*|__sanitizer.*|__llvm.*)$' |
    sort -u >"$stage/all-exported"
# The entry points of the compilers' ThreadSanitizer instrumentation
# (lib/tsan.c) are an ABI of the compilers, declared by no header: they
# are exported besides the header's names, and must be.
# So are the C library's copies, which that code calls by their own names
# (lib/tsan_mem.c interposes them), and mmap and munmap, which tell which
# mappings are shared (lib/tsan_map.c).
grep -Ev '^(__tsan_.*|memcpy|memmove|memset|mmap|mmap64|munmap)$' \
    "$stage/all-exported" >"$stage/exported" || true
for name in __tsan_init __tsan_func_entry __tsan_read8 __tsan_write8 \
    __tsan_read_range __tsan_write_range __tsan_atomic64_fetch_add \
    __tsan_atomic32_compare_exchange_strong __tsan_memcpy memcpy memset \
    memmove mmap munmap; do
    grep -qx "$name" "$stage/all-exported" ||
        { echo "FAIL: libracelab.so does not export $name"; exit 1; }
done
extra=$(comm -23 "$stage/exported" "$stage/public")
if [ -n "$extra" ]; then
    echo "FAIL: libracelab.so exports $(echo "$extra" | wc -l) names that lib/racelab.h does not declare:"
    echo "$extra" | head -20 | sed 's/^/    /'
    exit 1
fi
missing=$(comm -13 "$stage/exported" "$stage/public")
if [ -n "$missing" ]; then
    echo "FAIL: lib/racelab.h declares names libracelab.so does not export:"
    echo "$missing" | sed 's/^/    /'
    exit 1
fi

# A program of the public API only, against the shared library, found
# under its soname.
ln -s "$so" "$stage/libracelab.so"
ln -s "$so" "$stage/libracelab.so.0"
cat >"$stage/user.c" <<'EOC'
#include <racelab.h>
#include <stdio.h>
#include <string.h>

static int child(void *arg)
{
    return (int)*(long *)arg + 1;
}

int main(void)
{
    long *n = rl_shared_alloc(sizeof *n);
    if (!n || !rl_is_shared(n))
        return 1;
    const rl_start_method methods[] = {RL_START_FORK, RL_START_SPAWN,
                                       RL_START_FORKSERVER};
    for (int i = 0; i < 3; i++) {
        *n = 40 + i;
        rl_process_opts o = {.method = methods[i]};
        rl_process *p;
        int code = -1;
        if (rl_process_start(&p, child, n, &o) < 0 ||
            rl_process_join(p, 60) < 0 || rl_process_exitcode(p, &code) < 0) {
            fprintf(stderr, "method %d: %s\n", i, rl_last_error());
            return 1;
        }
        rl_process_free(p);
        printf("%d\n", code);
    }
    rl_lock *l = rl_lock_new();
    if (!l || rl_lock_acquire(l, -1) < 0 || rl_lock_release(l) < 0)
        return 1;
    printf("%s\n", rl_strerror(RL_EOF));
    return 0;
}
EOC
# A library built with sanitizers (make asan) needs them in the program,
# one built for coverage (make coverage) gcov's runtime.
san=""
if nm -D "$so" 2>/dev/null | grep __asan_init >/dev/null; then
    san="-fsanitize=address,undefined"
fi
if nm -D "$so" 2>/dev/null | grep ' U __gcov' >/dev/null; then
    san="$san --coverage"
fi
cc $san -Ilib "$stage/user.c" -o "$stage/user" -L"$stage" -lracelab ||
    { echo "FAIL: a program of the public API does not link against libracelab.so"; exit 1; }
out=$(LD_LIBRARY_PATH="$stage" "$stage/user") ||
    { echo "FAIL: the program linked against libracelab.so failed"; exit 1; }
if [ "$(echo "$out" | head -3 | tr '\n' ' ')" != "41 42 43 " ] ||
    ! echo "$out" | tail -1 | grep -q 'end of file'; then
    echo "FAIL: the program linked against libracelab.so printed:"
    echo "$out" | sed 's/^/    /'
    exit 1
fi

# Internal names stay out of reach of a program linked against the
# shared library.
cat >"$stage/internal.c" <<'EOC'
#include <sys/types.h>
pid_t rl__pid(void);
int main(void)
{
    return rl__pid() > 0 ? 0 : 1;
}
EOC
if cc $san "$stage/internal.c" -o "$stage/internal" -L"$stage" -lracelab \
    2>/dev/null; then
    echo "FAIL: a program naming the internal rl__pid links against libracelab.so"
    exit 1
fi
echo "exports: libracelab.so exports the $(wc -l <"$stage/public") names of lib/racelab.h, $(grep -c '^__tsan_' "$stage/all-exported") __tsan_* entry points and nothing else"
