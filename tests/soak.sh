#!/bin/bash
# soak.sh: the whole catalogue, many times, under CPU contention (busy
# loops on every core, one more than there are cores); prints the number
# of unexpected verdicts and exits 1 when there is any.
#
# Usage: tests/soak.sh [BUILD] [ROUNDS]   (default build, 50 rounds)
set -u

BUILD=${1:-${BUILD:-build}}
rounds=${2:-${RACELAB_SOAK_ROUNDS:-50}}
RL="$BUILD/racelab"
out=$(mktemp /tmp/racelab-soak-XXXXXX)
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
trap 'exit 130' INT TERM

ncpu=$(nproc 2>/dev/null || echo 2)
for _ in $(seq 0 "$ncpu"); do
    sh -c 'while :; do :; done' &
    busy+=($!)
done
echo "soak: $rounds rounds of the catalogue, $((ncpu + 1)) busy loops on $ncpu cores"

unexpected=0
results=0
start=$(date +%s)
for r in $(seq 1 "$rounds"); do
    "$RL" run --color never >"$out" 2>&1
    status=$?
    n=$(grep -c '^UNEXPECTED' "$out")
    k=$(grep -c -E '^(ok|UNEXPECTED) ' "$out")
    results=$((results + k))
    unexpected=$((unexpected + n))
    echo "round $r: exit $status, $k results, $n unexpected ($(($(date +%s) - start)) s so far)"
    grep -A2 '^UNEXPECTED' "$out"
    if [ "$status" -ne 0 ] && [ "$n" -eq 0 ]; then
        echo "round $r: racelab exited $status without an unexpected verdict:"
        tail -n 5 "$out"
        unexpected=$((unexpected + 1))
    fi
done
echo "soak: $unexpected unexpected verdict(s) in $results results of $rounds rounds"
[ "$unexpected" -eq 0 ]
