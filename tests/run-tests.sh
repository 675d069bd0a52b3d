#!/usr/bin/env bash
# run-tests.sh: runs every test binary given, then checks that none of them
# left a process, a zombie or a /dev/shm entry behind.
set -u
failed=()
for t in "$@"; do
    name=$(basename "$t")
    echo "== $name"
    if ! "$t"; then
        failed+=("$name")
    fi
done

# Children that were asked to stop get a moment to go.
leftover=""
for _ in $(seq 1 40); do
    leftover=$(ps -eo pid=,ppid=,stat=,comm= |
        awk '$4 ~ /^(check_|racelab|bench_|rl-)/ || ($3 ~ /^Z/ && $4 ~ /^(check_|racelab|bench_|rl-|exe)/)')
    [ -z "$leftover" ] && break
    sleep 0.05
done
if [ -n "$leftover" ]; then
    echo "FAIL: processes left behind by the tests:"
    echo "$leftover"
    failed+=("leak-check")
fi
shm=$(ls /dev/shm 2>/dev/null | grep -i racelab || true)
if [ -n "$shm" ]; then
    echo "FAIL: /dev/shm entries left behind: $shm"
    failed+=("shm-check")
fi

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all $# test programs passed; no process, zombie or /dev/shm entry left"
