#!/bin/bash
# test_load.sh: verdicts do not depend on how busy the machine is. Busy
# loops keep every core occupied while the harness's verdict tests and a
# part of the catalogue run several times, once pinned to a single CPU
# with taskset; not one verdict may differ from what the scenario
# expects. Correct code reported as CRASH or TIMEOUT because a process was
# scheduled late is the failure this looks for.
#
# RACELAB_LOAD_ROUNDS (default 2) sets how many catalogue rounds run;
# `make soak` runs the whole catalogue many more times (tests/soak.sh).
set -u

BUILD=${BUILD:-build}
RL="$BUILD/racelab"
rounds=${RACELAB_LOAD_ROUNDS:-2}
out=$(mktemp /tmp/racelab-test-load-XXXXXX)
busy=()
stop_busy() {
    for pid in "${busy[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${busy[@]}"; do
        wait "$pid" 2>/dev/null
    done
    busy=()
}
trap 'stop_busy; rm -f "$out"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# One more busy loop than there are cores: every process of an execution
# waits for a CPU now and then, at any point of its run.
ncpu=$(nproc 2>/dev/null || echo 2)
for _ in $(seq 0 "$ncpu"); do
    sh -c 'while :; do :; done' &
    busy+=($!)
done
echo "$((ncpu + 1)) busy loops on $ncpu cores"

# The scenarios that were seen to turn CRASH under load, and bugs whose
# verdict depends on processes ending (zombie, orphan, a pipe's EOF, a
# killed lock holder).
scenarios=(counter.atomic counter.locked counter.unlocked
    barrier_broken.aborted barrier_broken.left pipe_atomicity.locked
    pipe_eof.closed pipe_eof.open zombie.joined zombie.unjoined
    orphan.stopped lock_owner_death.robust queue_join.drained
    end_flag.shared end_flag.private)

# run LABEL COMMAND...: one catalogue round; every result line must say ok.
run_round() {
    local label=$1
    shift
    "$@" run --color never --runs 60 "${scenarios[@]}" >"$out" 2>&1
    local status=$?
    local bad
    bad=$(grep -A2 '^UNEXPECTED' "$out")
    local n
    n=$(grep -c '^ok' "$out")
    echo "round $label: exit $status, $n of ${#scenarios[@]} as expected"
    [ -z "$bad" ] || fail "round $label: $bad"
    [ "$status" -eq 0 ] || fail "round $label: exit status $status"
    [ "$n" -eq ${#scenarios[@]} ] || fail "round $label: $n results"
}

for r in $(seq 1 "$rounds"); do
    run_round "$r" "$RL"
done
if command -v taskset >/dev/null; then
    # Everything on one CPU: the supervisor, every actor and a busy loop
    # take turns.
    taskset -c 0 sh -c 'while :; do :; done' &
    busy+=($!)
    run_round "pinned" taskset -c 0 "$RL"
else
    echo "taskset not found: the pinned round is skipped"
fi

# The harness suite's verdict tests, under the same load.
if [ -x "$BUILD/tests/check_harness" ]; then
    echo "harness verdict tests under load"
    CK_RUN_CASE=verdicts "$BUILD/tests/check_harness" >"$out" 2>&1 ||
        fail "check_harness (verdicts) under load: $(tail -n 5 "$out")"
    tail -n 1 "$out"
fi

stop_busy
if [ "$failures" -gt 0 ]; then
    echo "$failures failure(s) under load"
    exit 1
fi
echo "every verdict as expected under load"
