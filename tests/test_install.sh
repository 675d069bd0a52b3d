#!/usr/bin/env bash
# test_install.sh: make install into two prefixes in a row, a DESTDIR
# staging of /usr and a real prefix with a multiarch LIBDIR; for each, a
# user's program built with pkg-config against the shared and the static
# library, a scenario in plain C built with racelab-instrument.pc, the
# installed racelab's stress --noise, the man page and the bash
# completion; then make uninstall with the same variables leaves no file
# behind.
set -u
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)
fails=0

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

ok() {
    echo "ok: $*"
}

mk() {
    make --no-print-directory -s BUILD="$BUILD" SANITIZE="${SANITIZE:-}" \
        COVERAGE="${COVERAGE:-}" "$@"
}

# The two installations: DESTDIR, PREFIX and the directory variables.
stage=$tmp/stage
opt=$tmp/opt
a_vars=(DESTDIR="$stage" PREFIX=/usr)
b_vars=(PREFIX="$opt" LIBDIR="$opt/lib/x86_64-linux-gnu"
        INCLUDEDIR="$opt/include/racelab" MANDIR="$opt/man")
b_libdir=$opt/lib/x86_64-linux-gnu

# Two installs in a row, without a build between them: the second must not
# carry anything of the first (racelab.pc, the library directory).
mk install "${a_vars[@]}" >"$tmp/install-a.log" 2>&1 ||
    { fail "make install ${a_vars[*]}"; tail -5 "$tmp/install-a.log"; }
mk install "${b_vars[@]}" >"$tmp/install-b.log" 2>&1 ||
    { fail "make install ${b_vars[*]}"; tail -5 "$tmp/install-b.log"; }

mkdir -p "$tmp/work"
cat >"$tmp/work/user.c" <<'EOC'
#include <racelab.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    if (argc > 1)
        return rl_main(argc, argv);
    long *p = rl_shared_alloc(sizeof *p);
    if (!p || !rl_is_shared(p))
        return 1;
    printf("%s\n", rl_strerror(RL_EOF));
    return 0;
}
EOC

# A library built with sanitizers (make asan) needs them in the program,
# and one built for coverage (make coverage) needs gcov's runtime.
san=""
if nm -D "$BUILD/libracelab.so" 2>/dev/null | grep __asan_init >/dev/null; then
    san="-fsanitize=address,undefined"
fi
if nm "$BUILD/libracelab.a" 2>/dev/null | grep ' U __gcov_init' >/dev/null; then
    san="$san --coverage"
fi

# noise_ok LIBDIR COMMAND...: runs COMMAND stress --noise over a shell that
# exits 0 only when libracelab-noise.so of LIBDIR is preloaded into it.
noise_ok() {
    local dir=$1
    shift
    # shellcheck disable=SC2016 # expanded by the inner shell
    "$@" stress --runs 2 --jobs 1 --noise 0.5 --seed 1 -- sh -c \
        'case "$LD_PRELOAD" in *"$0/libracelab-noise.so"*) exit 0 ;; esac
         echo "LD_PRELOAD=$LD_PRELOAD"; exit 1' "$dir" \
        >"$tmp/noise.out" 2>"$tmp/noise.err"
}

cat >"$tmp/work/inst.c" <<'EOC'
#include <racelab.h>
static int add(void *arg)
{
    long *n = arg;
    (*n)++;
    return 0;
}
RL_SCENARIO(inst_counter, "inst.counter", .expect = RL_EXPECT_BUG,
            .expect_verdict = RL_FAIL)
{
    long *n = rl_shared_alloc(sizeof *n);
    rl_process *a, *b;
    rl_process_start(&a, add, n, NULL);
    rl_process_start(&b, add, n, NULL);
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_check_eq(*n, 2, "counter");
}
int main(int argc, char **argv) { return rl_main(argc, argv); }
EOC

# check_instrument NAME ROOT LIBDIR WORK: a scenario in plain C built with
# racelab-instrument(-clang).pc for each compiler there is: compiled with
# -fsanitize=thread, linked without it (and without libtsan), and its
# lost update found.
check_instrument() {
    local name=$1 root=$2 libdir=$3 w=$4 cc mod
    local pcenv=(PKG_CONFIG_PATH="$root$libdir/pkgconfig")
    [ -n "$root" ] && pcenv+=(PKG_CONFIG_SYSROOT_DIR="$root")
    local cflags libs
    if ! libs=$(env "${pcenv[@]}" pkg-config --libs racelab-instrument) ||
        [[ $libs == *sanitize* ]] || [[ $libs != *-lracelab* ]]; then
        fail "$name: pkg-config --libs racelab-instrument: '$libs'"
        return
    fi
    for cc in gcc clang; do
        command -v $cc >/dev/null || { echo "skip: $name: no $cc"; continue; }
        mod=racelab-instrument
        [ $cc = clang ] && mod=racelab-instrument-clang
        if ! cflags=$(env "${pcenv[@]}" pkg-config --cflags $mod) ||
            [[ $cflags != *-fsanitize=thread* ]]; then
            fail "$name: pkg-config --cflags $mod: '$cflags'"
            continue
        fi
        # shellcheck disable=SC2086
        if $cc $san -g -c "$tmp/work/inst.c" -o "$w/inst-$cc.o" $cflags \
                2>"$w/inst.err" &&
            $cc $san "$w/inst-$cc.o" -o "$w/inst-$cc" $libs 2>"$w/inst.err"; then
            if ldd "$w/inst-$cc" | grep -q tsan; then
                fail "$name: the $cc program built with $mod needs libtsan"
            elif LD_LIBRARY_PATH="$root$libdir" "$w/inst-$cc" run \
                    --races off inst.counter >"$w/inst.out" 2>&1 &&
                grep -q 'FAIL' "$w/inst.out"; then
                ok "$name: plain C built by $cc with $mod: lost update found"
            else
                fail "$name: plain C built by $cc with $mod: lost update not found"
                head -5 "$w/inst.out"
            fi
        else
            fail "$name: building plain C with $cc and $mod"
            head -3 "$w/inst.err"
        fi
    done
}

# check NAME ROOT PREFIX LIBDIR INCLUDEDIR MANDIR: the files of one
# installation under ROOT (its DESTDIR), a user's program against it, the
# installed racelab and the man page.
check() {
    local name=$1 root=$2 prefix=$3 libdir=$4 incdir=$5 mandir=$6
    local f missing=0
    for f in "$incdir/racelab.h" "$libdir/libracelab.a" \
             "$libdir/libracelab.so" "$libdir/libracelab.so.0" \
             "$libdir/libracelab-noise.so" "$libdir/libracelab-intercept.so" \
             "$libdir/pkgconfig/racelab.pc" \
             "$libdir/pkgconfig/racelab-instrument.pc" \
             "$libdir/pkgconfig/racelab-instrument-clang.pc" \
             "$prefix/bin/racelab" "$mandir/man1/racelab.1" \
             "$prefix/share/bash-completion/completions/racelab" \
             "$prefix/share/zsh/site-functions/_racelab"; do
        [ -e "$root$f" ] || { fail "$name: install did not create $f"; missing=1; }
    done
    [ $missing = 0 ] && ok "$name: every file installed"

    local pc=$root$libdir/pkgconfig/racelab.pc
    if grep -qx "Requires.private: libunwind-ptrace libunwind-generic libunwind" \
            "$pc" 2>/dev/null; then
        ok "$name: racelab.pc requires libunwind's modules"
    else
        fail "$name: racelab.pc does not require libunwind's pkg-config modules"
    fi
    if grep -q '^Libs.private:.*-lunwind' "$pc" 2>/dev/null; then
        fail "$name: racelab.pc lists libunwind in Libs.private"
    fi

    local w=$tmp/work/$name pcenv=(PKG_CONFIG_PATH="$root$libdir/pkgconfig")
    mkdir -p "$w"
    [ -n "$root" ] && pcenv+=(PKG_CONFIG_SYSROOT_DIR="$root")
    local cflags="" libs="" slibs=""
    if ! { cflags=$(env "${pcenv[@]}" pkg-config --cflags racelab) &&
           libs=$(env "${pcenv[@]}" pkg-config --libs racelab) &&
           slibs=$(env "${pcenv[@]}" pkg-config --static --libs racelab); }; then
        fail "$name: pkg-config racelab"
    fi
    # shellcheck disable=SC2086
    if cc $san "$tmp/work/user.c" -o "$w/user-shared" $cflags $libs \
            2>"$w/cc.err" &&
        LD_LIBRARY_PATH="$root$libdir" "$w/user-shared" | grep -q 'end of file'; then
        ok "$name: a program built with pkg-config --cflags --libs runs"
    else
        fail "$name: a program built with pkg-config --cflags --libs racelab"
        head -3 "$w/cc.err"
    fi
    # The static library: the archive itself, then what
    # pkg-config --static adds for it (libunwind, pthread, m).
    # shellcheck disable=SC2086
    if cc $san "$tmp/work/user.c" -o "$w/user-archive" $cflags \
            "$root$libdir/libracelab.a" ${slibs//-lracelab /} 2>"$w/cc.err" &&
        "$w/user-archive" | grep -q 'end of file'; then
        ok "$name: a program built with the archive and pkg-config --static runs"
    else
        fail "$name: a program built with the archive and pkg-config --static"
        head -3 "$w/cc.err"
    fi
    if ldd "$w/user-archive" 2>/dev/null | grep -q racelab; then
        fail "$name: the build with the archive still needs libracelab.so"
    fi
    # Wholly static: everything the archive needs must come from racelab.pc
    # (the sanitizers have no static runtime).
    if [[ $san != *sanitize* ]]; then
        # shellcheck disable=SC2086
        if cc -static $san "$tmp/work/user.c" -o "$w/user-static" $cflags \
                $slibs 2>"$w/cc.err" &&
            "$w/user-static" | grep -q 'end of file'; then
            ok "$name: a program built with cc -static and pkg-config --static runs"
        else
            fail "$name: a program built with cc -static and pkg-config --static"
            head -3 "$w/cc.err"
        fi
    fi

    check_instrument "$name" "$root" "$libdir" "$w"

    if noise_ok "$(cd "$root$libdir" 2>/dev/null && pwd -P)" \
            "$root$prefix/bin/racelab"; then
        ok "$name: the installed racelab runs stress --noise"
    else
        fail "$name: the installed racelab's stress --noise"
        head -3 "$tmp/noise.out" "$tmp/noise.err"
    fi

    # The installed bash completion completes the installed racelab's
    # commands, options and scenario names.
    local comp=$root$prefix/share/bash-completion/completions/racelab got
    # shellcheck disable=SC2016 # expanded by the inner bash
    got=$(bash -c 'source "$1"; COMP_WORDS=("$2" ru); COMP_CWORD=1
        _racelab; printf "%s;" "${COMPREPLY[@]}"
        COMP_WORDS=("$2" stress --keep); COMP_CWORD=2; _racelab
        printf "%s;" "${COMPREPLY[@]}"
        COMP_WORDS=("$2" run counter.unl); COMP_CWORD=2; _racelab
        printf "%s;" "${COMPREPLY[@]}"' _ "$comp" "$root$prefix/bin/racelab" 2>&1)
    if [ "$got" = "run;--keep-hung;counter.unlocked;" ]; then
        ok "$name: the installed bash completion completes racelab"
    else
        fail "$name: the installed bash completion gives '$got'"
    fi

    # The installed racelab finds its libracelab-intercept.so: a program
    # whose exit status says whether that one was preloaded into it.
    local want
    want="$(cd "$root$libdir" 2>/dev/null && pwd -P)/libracelab-intercept.so"
    if "$root$prefix/bin/racelab" run --jobs 1 -- sh -c \
            'case "$LD_PRELOAD" in "$0") exit 0 ;; esac; exit 1' "$want" \
            >"$tmp/intercept.out" 2>&1; then
        ok "$name: the installed racelab runs -- COMMAND"
    else
        fail "$name: the installed racelab's run -- COMMAND"
        head -5 "$tmp/intercept.out"
    fi

    local man=$root$mandir/man1/racelab.1
    if ! command -v groff >/dev/null; then
        echo "skip: $name: no groff to render the man page"
    elif [ -s "$man" ]; then
        local warn
        warn=$(groff -man -ww -z "$man" 2>&1)
        if [ -z "$warn" ]; then
            ok "$name: racelab.1 renders without warnings"
        else
            fail "$name: groff -man -ww on racelab.1:"
            echo "$warn" | head -5
        fi
        if command -v man >/dev/null; then
            MANWIDTH=80 man --warnings -l "$man" >"$w/man.txt" 2>"$w/man.err"
            if [ -s "$w/man.err" ]; then
                fail "$name: man --warnings -l racelab.1:"
                head -5 "$w/man.err"
            fi
            if grep -q 'racelab stress' "$w/man.txt" &&
                grep -q -- '--noise' "$w/man.txt"; then
                ok "$name: man -l racelab.1 shows the commands and options"
            else
                fail "$name: man -l racelab.1 lacks 'racelab stress' or '--noise'"
            fi
        fi
    fi
}

check stage "$stage" /usr /usr/lib /usr/include /usr/share/man
check opt "" "$opt" "$b_libdir" "$opt/include/racelab" "$opt/man"

# Found by the LIBDIR racelab was configured with, where nothing relative to
# the program leads: a copy of the binary elsewhere, the user's programs.
mkdir -p "$tmp/elsewhere"
cp "$opt/bin/racelab" "$tmp/elsewhere/" 2>/dev/null
for p in "$tmp/elsewhere/racelab" "$tmp/work/opt/user-shared" \
         "$tmp/work/opt/user-archive" "$tmp/work/opt/user-static"; do
    # No wholly static program with the sanitizers.
    [[ $p == */user-static && $san == *sanitize* ]] && continue
    if LD_LIBRARY_PATH="$b_libdir" noise_ok "$b_libdir" "$p"; then
        ok "stress --noise of ${p#"$tmp/"} finds the noise library in LIBDIR"
    else
        fail "stress --noise of ${p#"$tmp/"} does not find it in LIBDIR"
        head -3 "$tmp/noise.out" "$tmp/noise.err"
    fi
done

# make uninstall with the same variables removes every file install made.
mk uninstall "${a_vars[@]}" >/dev/null 2>&1 || fail "make uninstall ${a_vars[*]}"
mk uninstall "${b_vars[@]}" >/dev/null 2>&1 || fail "make uninstall ${b_vars[*]}"
for root in "$stage" "$opt"; do
    left=$(find "$root" ! -type d 2>/dev/null)
    if [ -n "$left" ]; then
        fail "make uninstall left files in ${root#"$tmp/"}:"
        echo "${left//"$tmp/"/  }"
    else
        ok "make uninstall left no file in ${root#"$tmp/"}"
    fi
done

if [ $fails -gt 0 ]; then
    echo "test_install: $fails failed"
    exit 1
fi
echo "install: two prefixes, pkg-config (shared and static), stress --noise," \
    "man page and uninstall work"
