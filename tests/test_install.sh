#!/usr/bin/env bash
# test_install.sh: make install into a staging directory, then build a
# user's program with pkg-config, both against the shared and the static
# library, and run it.
set -euo pipefail
BUILD=${BUILD:-build}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make --no-print-directory -s BUILD="$BUILD" SANITIZE="${SANITIZE:-}" \
    COVERAGE="${COVERAGE:-}" install DESTDIR="$stage" PREFIX=/usr >/dev/null
for f in usr/include/racelab.h usr/lib/libracelab.a usr/lib/libracelab.so \
         usr/lib/libracelab.so.0 usr/lib/pkgconfig/racelab.pc; do
    [ -e "$stage/$f" ] || { echo "FAIL: install did not create $f"; exit 1; }
done
cat > "$stage/user.c" <<'EOC'
#include <racelab.h>
#include <stdio.h>
int main(void)
{
    long *p = rl_shared_alloc(sizeof *p);
    if (!p || !rl_is_shared(p))
        return 1;
    printf("%s\n", rl_strerror(RL_EOF));
    return 0;
}
EOC
export PKG_CONFIG_PATH="$stage/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
# A library built with sanitizers (make asan) needs them in the program.
san=""
if nm -D "$stage/usr/lib/libracelab.so" 2>/dev/null | grep __asan_init >/dev/null; then
    san="-fsanitize=address,undefined"
fi
# A library built for coverage (make coverage) needs gcov's runtime.
if nm "$stage/usr/lib/libracelab.a" 2>/dev/null | grep ' U __gcov_init' >/dev/null; then
    san="$san --coverage"
fi
cc $san "$stage/user.c" -o "$stage/user-shared" $(pkg-config --cflags --libs racelab)
LD_LIBRARY_PATH="$stage/usr/lib" "$stage/user-shared" | grep 'end of file' >/dev/null ||
    { echo "FAIL: program linked with the shared library"; exit 1; }
cc $san "$stage/user.c" -o "$stage/user-static" $(pkg-config --cflags racelab) \
    "$stage/usr/lib/libracelab.a" $(pkg-config --static --libs-only-l racelab | sed 's/-lracelab//')
"$stage/user-static" | grep 'end of file' >/dev/null ||
    { echo "FAIL: program linked with the static library"; exit 1; }
if ldd "$stage/user-static" | grep racelab >/dev/null; then
    echo "FAIL: static build still needs libracelab.so"; exit 1
fi
echo "install: header, libraries and racelab.pc work (shared and static)"
