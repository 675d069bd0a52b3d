#!/usr/bin/env bash
# run-tests.sh: runs every test program given, each in a session of its
# own, then checks that none of them left a process, a zombie or a
# /dev/shm entry behind.
set -u
failed=()
sessions=()
sidfile=$(mktemp)
trap 'rm -f "$sidfile"' EXIT
for t in "$@"; do
    name=$(basename "$t")
    echo "== $name"
    # The session id is the pid of the shell that execs the test, so every
    # process the test leaves behind can be found by it, whoever reaped it.
    if ! setsid -w sh -c 'echo $$ >"$1"; exec "$0"' "$t" "$sidfile"; then
        failed+=("$name")
    fi
    sessions+=("$(cat "$sidfile")")
done

# Children that were asked to stop get a moment to go.
leftover=""
for _ in $(seq 1 60); do
    leftover=$(ps -eo sid=,pid=,ppid=,stat=,comm= |
        awk -v list=" ${sessions[*]} " 'index(list, " " $1 " ") > 0')
    [ -z "$leftover" ] && break
    sleep 0.05
done
if [ -n "$leftover" ]; then
    echo "FAIL: processes left behind by the tests (sid pid ppid stat comm):"
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
