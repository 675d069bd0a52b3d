#!/bin/bash
# test_catalogue.sh: runs the scenario catalogue once and checks that every
# buggy variant is found with its verdict and diagnosis, that every fixed
# variant passes over the whole bounded space, and that a token replays.
set -u

BUILD=${BUILD:-build}
RL="$BUILD/racelab"
out=$(mktemp /tmp/racelab-test-catalogue-XXXXXX)
trap 'rm -f "$out"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

echo "running $RL run (the whole catalogue)"
start=$(date +%s)
"$RL" run --color never >"$out" 2>&1
status=$?
echo "  took $(($(date +%s) - start)) s, exit status $status"
[ "$status" -eq 0 ] || fail "racelab run exited $status, expected 0"

# The result line of a scenario and the indented lines under it.
block() {
    awk -v name="$1" '
        $2 == name && ($1 == "ok" || $1 == "UNEXPECTED") { on = 1; print; next }
        on && /^    / { print; next }
        { on = 0 }' "$out"
}

# expect_bug NAME VERDICT TEXT: found, as expected, with that verdict and
# a diagnosis containing TEXT.
expect_bug() {
    local b
    b=$(block "$1")
    echo "check $1: $2, diagnosis contains \"$3\""
    if [ -z "$b" ]; then
        fail "$1: no result"
        return
    fi
    local line
    line=$(head -n 1 <<<"$b")
    [[ $line == ok* ]] || fail "$1: not as expected: $line"
    [ "$(awk '{print $3}' <<<"$line")" = "$2" ] ||
        fail "$1: verdict $(awk '{print $3}' <<<"$line"), expected $2"
    grep -qF -- "$3" <<<"$b" || fail "$1: diagnosis lacks \"$3\": $b"
    grep -q "replay: .* replay '$1@" <<<"$b" || fail "$1: no replay token"
}

# expect_clean NAME: PASS over the whole bounded space.
expect_clean() {
    local line
    line=$(block "$1" | head -n 1)
    echo "check $1: PASS, exhausted"
    if [ -z "$line" ]; then
        fail "$1: no result"
        return
    fi
    [[ $line == ok* ]] || fail "$1: not as expected: $line"
    [ "$(awk '{print $3}' <<<"$line")" = PASS ] || fail "$1: $line"
    [[ $line == *"  exhausted,"* ]] || fail "$1: space not exhausted: $line"
}

# The unlocked counter races on its first execution, before an update is
# lost; --races report below goes on to the lost update.
expect_bug counter.unlocked RACE "data race: actor 1"
expect_clean counter.locked
expect_clean counter.atomic
expect_bug end_flag.private LIVELOCK "not shared"
grep -qF "spins at end_flag.c:" <<<"$(block end_flag.private)" ||
    fail "end_flag.private: the diagnosis does not name the spin"
expect_clean end_flag.shared
expect_clean end_flag.event
expect_bug pipe_eof.open DEADLOCK "holds the write end"
expect_clean pipe_eof.closed
expect_bug queue_join.early DEADLOCK "put on a full queue"
expect_clean queue_join.drained
expect_bug pool_tally.global FAIL "the parent's total is 0, expected 3"
expect_clean pool_tally.returned
expect_bug fork_lock.threaded TIMEOUT "blocked outside the scheduler"
expect_clean fork_lock.before_threads
expect_bug stdio_dup.unflushed FAIL "the header appears 2 times"
expect_clean stdio_dup.flushed
expect_bug append_log.seek FAIL "records in the log is 1, expected 2"
expect_clean append_log.append
expect_bug zombie.unjoined FAIL "zombie child left in /proc"
expect_clean zombie.joined
expect_bug orphan.left FAIL "outlives its terminated parent"
expect_clean orphan.stopped
expect_bug lock_owner_death.plain TIMEOUT "blocked outside the scheduler"
expect_clean lock_owner_death.robust
expect_bug barrier_broken.left DEADLOCK "wait at barrier"
expect_clean barrier_broken.aborted
expect_bug lost_wakeup.blind DEADLOCK "wait on condition"
expect_clean lost_wakeup.predicate
expect_bug toctou_create.checked FAIL "processes that own the file is 2"
expect_clean toctou_create.excl
expect_bug pipe_atomicity.big FAIL "is corrupt"
expect_clean pipe_atomicity.locked
expect_clean pipe_atomicity.small
expect_bug cloexec_leak.inherited DEADLOCK "(sleep, not an actor) holds the write end"
expect_clean cloexec_leak.cloexec
expect_bug spin_wait.flag_first RACE "(spin_wait.c:"
expect_clean spin_wait.data_first
expect_clean spin_wait.yield

# Every scenario in the output was checked above.
n=$(grep -cE '^(ok|UNEXPECTED) ' "$out")
echo "check: $n results, none unexpected"
grep -q '^UNEXPECTED ' "$out" && fail "unexpected results: $(grep '^UNEXPECTED ' "$out")"

# A found token replays to the same verdict.
token=$(block append_log.seek | sed -n "s/.*replay '\(.*\)'.*/\1/p")
echo "check: replay '$token' gives FAIL"
if [ -z "$token" ]; then
    fail "no token for append_log.seek"
else
    rout=$("$RL" replay "$token" 2>&1)
    [[ $rout == FAIL* ]] || fail "replay of $token: $rout"
fi

# With --races report the races are listed and the failures they lead to
# are found.
echo "running $RL run counter.unlocked spin_wait.flag_first --races report"
"$RL" run --color never --races report counter.unlocked spin_wait.flag_first \
    >"$out" 2>&1 || fail "racelab run --races report exited $?, expected 0"
expect_bug counter.unlocked FAIL "counter is"
expect_bug spin_wait.flag_first FAIL "the data the reader sees is 0, expected 42"
grep -q "^    race 1: actor . (pid [0-9]*) write 8 bytes .*counter.c:" \
    <<<"$(block counter.unlocked)" ||
    fail "counter.unlocked: --races report lists no race: $(cat "$out")"

if [ "$failures" -ne 0 ]; then
    echo "test_catalogue: $failures check(s) failed; the run's output:"
    cat "$out"
    exit 1
fi
echo "test_catalogue: all checks passed"
