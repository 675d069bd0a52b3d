#!/usr/bin/env bash
# test_threads.sh: racelab run -- COMMAND over small unmodified C programs
# with threads (tests/intercept/thread_*.c): a thread is an actor of its
# own, a join that can never end is a DEADLOCK naming the thread and what
# it waits for, private mutexes and condition variables wait in the
# scheduler, a lost update between threads is found and replayed, and a
# child forked by a thread outlives that thread.
set -u
BUILD=${BUILD:-build}
RL="$(cd "$(dirname "$BUILD/racelab")" && pwd)/racelab"
if [ ! -x "$RL" ] || [ ! -f "$BUILD/libracelab-intercept.so" ]; then
    echo "FAIL: build $BUILD/racelab and $BUILD/libracelab-intercept.so first"
    exit 1
fi
SRC="$(cd "$(dirname "$0")/intercept" && pwd)"
dir=$(mktemp -d "${TMPDIR:-/tmp}/racelab-threads.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fails=0

ok() { echo "ok: $1"; }
bad() {
    echo "FAIL: $1"
    printf '%s\n' "$2" | sed 's/^/  /'
    fails=$((fails + 1))
}

prog() {
    local name=$1 src=$2
    shift 2
    if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 "$@" -o "$name" \
        "$SRC/$src.c" -lpthread; then
        echo "FAIL: cannot build $name"
        exit 1
    fi
}
prog thread_holder thread_holder
prog thread_holder_fixed thread_holder -DFIXED
prog thread_handoff thread_handoff
prog thread_handoff_unlocked thread_handoff -DUNLOCKED

run() {
    local want=$1
    shift
    out=$("$RL" "$@" 2>&1)
    status=$?
    [ "$status" = "$want" ]
}

# The main thread joins a reader thread while it holds the pipe's write
# end: DEADLOCK on the first execution, the thread named as the program
# named it, its read and the holder of the write end.
if run 1 run --jobs 1 -- ./thread_holder &&
    grep -q '^UNEXPECTED cmd:./thread_holder  *DEADLOCK  *explore  *1 executions' \
        <<<"$out" &&
    grep -q 'actor 0 (thread_holder, pid [0-9]*) is blocked in pthread_join: waiting for actor 1 (reader) to end' \
        <<<"$out" &&
    grep -q 'actor 1 (reader, pid [0-9]*) is blocked in read(fd 3) of pipe' \
        <<<"$out" &&
    grep -q 'actor 0 (thread_holder, pid [0-9]*) holds the write end as fd 4' \
        <<<"$out"; then
    ok "a thread joined while its pipe is held open: DEADLOCK, thread and holder named"
else
    bad "a thread joined while its pipe is held open (status $status)" "$out"
fi

if run 0 run --jobs 1 -- ./thread_holder_fixed &&
    grep -q '^ok  *cmd:./thread_holder_fixed  *PASS .*exhausted' <<<"$out"; then
    ok "the write end closed before the join: PASS, exhausted"
else
    bad "the write end closed before the join (status $status)" "$out"
fi

# Two threads take turns under a private mutex and condition variable;
# the thread that forks a child ends before the child reports: PASS over
# the whole bounded space (the child is not killed when its forking
# thread ends).
if run 0 run --jobs 1 --preemptions 1 -- ./thread_handoff &&
    grep -q '^ok  *cmd:./thread_handoff  *PASS .*exhausted' <<<"$out"; then
    ok "turns under a private mutex and condition: PASS, exhausted"
else
    bad "turns under a private mutex and condition (status $status)" "$out"
fi

# Without the turns, a preemption between a thread's read and write of
# the count loses an update: FAIL, and the token replays it every time.
token=
if run 1 run --jobs 1 -- ./thread_handoff_unlocked &&
    grep -q '^UNEXPECTED cmd:./thread_handoff_unlocked  *FAIL' <<<"$out" &&
    grep -q 'the command exited with status 1' <<<"$out"; then
    token=$(sed -n "s/.*replay: .* replay '\([^']*\)'.*/\1/p" <<<"$out" | head -1)
    ok "a lost update between threads: FAIL found ($token)"
else
    bad "a lost update between threads (status $status)" "$out"
fi
if [ -n "$token" ]; then
    # The trace without its pid column, which differs from run to run.
    first=$("$RL" replay "$token" --trace -- ./thread_handoff_unlocked 2>&1 |
        grep -v '^racelab' | awk '{ $3 = ""; print }')
    same=0
    for i in 1 2 3 4 5; do
        again=$("$RL" replay "$token" --trace -- ./thread_handoff_unlocked 2>&1 |
            grep -v '^racelab' | awk '{ $3 = ""; print }')
        [ "$again" = "$first" ] && same=$((same + 1))
    done
    if [ "$same" = 5 ] && grep -q '^FAIL' <<<"$first"; then
        ok "the token replays the lost update identically 5 of 5"
    else
        bad "the token replays identically ($same of 5)" "$first"
    fi
fi

left=$(pgrep -f "$dir/" || true)
if [ -z "$left" ]; then
    ok "no process of the runs is left"
else
    bad "processes left behind" "$(ps -o pid,args -p $left)"
fi
if [ "$fails" -gt 0 ]; then
    echo "$fails case(s) failed"
    exit 1
fi
exit 0
