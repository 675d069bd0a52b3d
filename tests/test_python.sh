#!/usr/bin/env bash
# test_python.sh: racelab run -- python3 PROGRAM over small Python
# multiprocessing programs (tests/python/*.py, which know nothing of
# racelab), each with its bug and its fix: a pipe held by the joining
# parent and a Queue joined before it is drained found as DEADLOCK with
# the holder or the blocked feeder thread named, two producers in the
# wrong order found and replayed exactly, a stop flag in a private copy
# found as LIVELOCK, locks, events and a Pool; Ctrl-C during a run, and
# nothing left behind. Skips when there is no python3.
set -u
BUILD=${BUILD:-build}
RL="$(cd "$(dirname "$BUILD/racelab")" && pwd)/racelab"
if [ ! -x "$RL" ] || [ ! -f "$BUILD/libracelab-intercept.so" ]; then
    echo "FAIL: build $BUILD/racelab and $BUILD/libracelab-intercept.so first"
    exit 1
fi
# The interpreter itself, never a version manager's shim (which starts
# processes of its own in every execution): /usr/bin/python3 when there
# is one, else what the python3 in PATH says it runs.
PY=""
if [ -x /usr/bin/python3 ]; then
    PY=/usr/bin/python3
elif command -v python3 >/dev/null; then
    PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
fi
if [ -z "$PY" ] || [ ! -x "$PY" ]; then
    echo "skip: no python3"
    exit 0
fi
SRC="$(cd "$(dirname "$0")/python" && pwd)"
dir=$(mktemp -d "${TMPDIR:-/tmp}/racelab-python.XXXXXX")
rl=""
# A racelab of the Ctrl-C case still running when this script is killed
# is ended with it.
trap '[ -n "$rl" ] && kill -KILL -- -"$rl" 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fails=0
# The scenario's name and the actors' names (the interpreter's) as
# regular expressions.
cmd="cmd:$(printf '%s' "$PY" | sed 's/[].[*^$]/\\&/g')"
name="$(basename "$PY" | sed 's/[0-9.]*$//')[0-9.]*"
# What multiprocessing leaves in /dev/shm when it is cut short between
# making and unlinking a semaphore or an arena's file.
mp_shm() { ls /dev/shm 2>/dev/null | grep -E '^(sem\.mp-|pym-)' | sort; }
shm_before=$(mp_shm)

ok() { echo "ok: $1"; }
bad() {
    echo "FAIL: $1"
    printf '%s\n' "$2" | sed 's/^/  /'
    fails=$((fails + 1))
}

# run EXPECTED-STATUS ARGS...: runs racelab, keeps its output in $out and
# says whether the exit status was the expected one.
run() {
    local want=$1
    shift
    out=$("$RL" "$@" 2>&1)
    status=$?
    [ "$status" = "$want" ]
}

# passes DESCRIPTION PROGRAM [RUN-OPTIONS...]: the fixed program passes
# with its bounded space exhausted.
passes() {
    local what=$1 prog=$2
    shift 2
    if run 0 run --jobs 2 --timeout 30 "$@" -- "$PY" "$SRC/$prog" &&
        grep -q "^ok  *$cmd  *PASS .*exhausted" <<<"$out"; then
        ok "$what: PASS, exhausted"
    else
        bad "$what (status $status)" "$out"
    fi
}

# A parent that joins its consumer while it still holds the pipe's write
# end: DEADLOCK on the first execution, the reader's wait and the holder
# named.
if run 1 run --jobs 1 -- "$PY" "$SRC/pipe_holder.py" &&
    grep -q "^UNEXPECTED $cmd  *DEADLOCK  *explore  *1 executions" <<<"$out" &&
    grep -q "is blocked in waitpid: waiting for actor [0-9]* ($name, pid" \
        <<<"$out" &&
    grep -q "($name, pid [0-9]*) is blocked in read(fd [0-9]*) of pipe [0-9]*: \
empty, and a write end is open" <<<"$out" &&
    grep -q "actor 0 ($name, pid [0-9]*) holds the write end as fd [0-9]*" \
        <<<"$out"; then
    ok "pipe held open by the joining parent: DEADLOCK, holder named"
else
    bad "pipe held open by the joining parent (status $status)" "$out"
fi
passes "pipe closed before the join" pipe_holder_fixed.py --preemptions 1

# A producer's Queue feeder thread blocked writing a large item into a
# full pipe while the parent joins the producer: DEADLOCK on the first
# execution, the feeder thread's write named.
if run 1 run --jobs 1 --timeout 20 -- "$PY" "$SRC/queue_feeder.py" &&
    grep -q "^UNEXPECTED $cmd  *DEADLOCK  *explore  *1 executions" <<<"$out" &&
    grep -q "($name, pid [0-9]*) is blocked in waitpid" <<<"$out" &&
    grep -q "($name thread [0-9]*, pid [0-9]*) is blocked in \
write(fd [0-9]*) to pipe [0-9]*: full" <<<"$out"; then
    ok "Queue joined before it is drained: DEADLOCK, the feeder's write named"
else
    bad "Queue joined before it is drained (status $status)" "$out"
fi
passes "Queue drained before the join" queue_feeder_fixed.py --preemptions 0

# Two producers, a consumer that assumes an order: found by explore, and
# the token replays the same trace 20 times out of 20.
if run 1 run --jobs 1 -- "$PY" "$SRC/two_producers.py" &&
    grep -q "^UNEXPECTED $cmd  *FAIL  *explore" <<<"$out" &&
    grep -q 'the command exited with status 1' <<<"$out"; then
    ok "two producers in the wrong order: FAIL found by explore"
else
    bad "two producers in the wrong order (status $status)" "$out"
fi
token=$(sed -n "s/^ *replay: .* replay '\(.*\)'$/\1/p" <<<"$out" | head -1)
# The trace without pids and addresses, which differ from run to run (and
# with them the width of the table's columns): each address is named by
# its first appearance.
trace() {
    "$RL" replay --trace "$token" -- "$PY" "$SRC/two_producers.py" \
        2>/dev/null |
        sed -E 's/pid [0-9]+/pid N/g; s/^( *[0-9]+ +[0-9]+ +)[0-9]+/\1N/
                s/ +/ /g' |
        awk '{ for (k = 1; k <= NF; k++)
                   if ($k ~ /^0x[0-9a-f]+$/) {
                       if (!($k in seen)) seen[$k] = "obj" (++n)
                       $k = seen[$k]
                   }
               print }'
}
first=$(trace)
same=0
other=""
for _ in $(seq 1 20); do
    this=$(trace)
    if [ "$this" = "$first" ]; then
        same=$((same + 1))
    elif [ -z "$other" ]; then
        other=$(diff <(echo "$first") <(echo "$this") | head -20)
    fi
done
if [ -n "$token" ] && [ "$same" = 20 ] && grep -q '^FAIL' <<<"$first" &&
    grep -q ' send .*write(fd [0-9]*)' <<<"$first"; then
    ok "the token $token replays identically 20 of 20"
else
    bad "replay of '$token': $same of 20 identical" "$(head -5 <<<"$first")
$other"
fi
# Bound 0 is enough: the bug above is found without a preemption.
passes "two producers, either order accepted" two_producers_fixed.py \
    --preemptions 0

# A stop flag set in the parent's own copy: the producer never stops,
# passing schedule point after schedule point while the parent waits.
if run 1 run --jobs 1 --timeout 20 -- "$PY" "$SRC/stop_flag.py" &&
    grep -q "^UNEXPECTED $cmd  *LIVELOCK  *explore  *1 executions" <<<"$out" &&
    grep -q "actor 1 ($name) passed [0-9]* schedule points without the \
execution ending" <<<"$out"; then
    ok "stop flag in a private copy: LIVELOCK, the producer never stops"
else
    bad "stop flag in a private copy (status $status)" "$out"
fi
passes "stop flag in a multiprocessing Event" stop_flag_fixed.py \
    --preemptions 1

# A shared Value under its lock; without the lock, the sleep between the
# read and the write (a yield, no time) shows the lost update.
passes "Value updated under its lock" lock_counter.py --preemptions 0
if run 1 run --jobs 1 -- "$PY" "$SRC/lock_counter.py" unlocked &&
    grep -q "^UNEXPECTED $cmd  *FAIL" <<<"$out" &&
    grep -q 'the command exited with status 1' <<<"$out"; then
    ok "the same Value without its lock: FAIL"
else
    bad "the same Value without its lock (status $status)" "$out"
fi

passes "an Event set and waited for" event.py --preemptions 1
# A Pool has three threads in the parent and two workers, which block and
# wake each other at many points: its space is far larger than a test
# can exhaust, so 12 executions of explore (a few more with two jobs)
# and 12 random ones.
if run 0 run --jobs 2 --timeout 30 --runs 12 -- "$PY" "$SRC/pool.py" &&
    grep -q "^ok  *$cmd  *PASS  *explore .*execution limit reached" \
        <<<"$out" &&
    run 0 run --jobs 2 --timeout 30 --mode random --runs 12 -- "$PY" \
        "$SRC/pool.py" &&
    grep -q "^ok  *$cmd  *PASS  *random  *12 executions" <<<"$out"; then
    ok "Pool(2).map: PASS in 12 explored and 12 random executions"
else
    bad "Pool(2).map (status $status)" "$out"
fi

# Ctrl-C during a search (SIGINT to racelab's process group, as a
# terminal sends it): status 130, the results so far written and marked
# interrupted, and nothing of the run left: no process, no temporary
# file, no /dev/shm entry. (Cut short in its first execution, the search
# has no result to write: the JSON then lists no scenario.)
mkdir -p "$dir/int/tmp"
(cd "$dir/int" && TMPDIR="$dir/int/tmp" exec setsid "$RL" run --jobs 1 \
    --json r.json -- "$PY" "$SRC/two_producers_fixed.py" >out 2>&1) &
rl=$!
# Waits until an execution runs: a Python process in racelab's session
# (its actors have process groups of their own, in that session).
started=0
for _ in $(seq 1 1200); do
    pgrep -s "$rl" -f "^$PY " >/dev/null && started=1 && break
    kill -0 "$rl" 2>/dev/null || break
    sleep 0.05
done
kill -INT -- -"$rl" 2>/dev/null
wait "$rl"
istatus=$?
left=""
for _ in $(seq 1 100); do
    left=$(pgrep -s "$rl")
    [ -z "$left" ] && break
    sleep 0.05
done
rl=""
iout=$(cat "$dir/int/out")
if [ "$started" = 1 ] && [ "$istatus" = 130 ] && [ -z "$left" ] &&
    grep -q '^racelab: interrupted; results so far are written' <<<"$iout" &&
    "$PY" -c 'import json, sys
s = json.load(open(sys.argv[1]))["scenarios"]
sys.exit(0 if all(x["interrupted"] for x in s) else 1)' "$dir/int/r.json" &&
    [ -z "$(ls -A "$dir/int/tmp")" ] &&
    [ "$(ls "$dir/int" | tr '\n' ' ')" = "out r.json tmp " ]; then
    ok "Ctrl-C during a Python run: status 130, interrupted, nothing left"
else
    bad "Ctrl-C during a Python run (started $started, status $istatus)" \
        "$iout
left: $([ -n "$left" ] && ps -o pid=,stat=,args= -p "$(echo $left | tr ' ' ,)")
files: $(ls -A "$dir/int" "$dir/int/tmp")"
fi

# Nothing of the runs is left: no process working in this directory, no
# semaphore or arena file of multiprocessing in /dev/shm.
left=""
for p in /proc/[0-9]*; do
    case $(readlink "$p/cwd" 2>/dev/null) in
    "$dir" | "$dir"/*) [ "${p#/proc/}" != "$$" ] && left="$left ${p#/proc/}" ;;
    esac
done
if [ -z "$left" ]; then
    ok "no process of the runs is left"
else
    bad "processes left" "$(ps -o pid=,stat=,args= -p "${left# }" 2>&1)"
fi
shm_new=$(comm -13 <(echo "$shm_before") <(mp_shm))
if [ -z "$shm_new" ]; then
    ok "no /dev/shm entry of multiprocessing is left"
else
    bad "/dev/shm entries left" "$shm_new"
fi

if [ "$fails" -gt 0 ]; then
    echo "$fails case(s) failed"
    exit 1
fi
exit 0
