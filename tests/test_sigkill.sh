#!/usr/bin/env bash
# test_sigkill.sh: nothing of racelab survives racelab killed with SIGKILL:
# job workers, actors (waiting for the token, blocked in the kernel or
# running freely), helpers and the processes of stressed commands. Each
# case runs in a fresh PID namespace, so that whatever is left is easy to
# see and dies with the namespace.
set -u
BUILD=${BUILD:-build}
RL="$(cd "$(dirname "$BUILD/racelab")" && pwd)/racelab"
if ! unshare -fp --mount-proc true 2>/dev/null; then
    echo "skip: unshare -fp --mount-proc is not permitted here"
    exit 0
fi
fails=0

# The shell that runs as pid 1 of the namespace: starts racelab, waits
# until an execution really runs (racelab has a grandchild), kills it
# with SIGKILL and waits up to 5 s for every other process to end. Only
# processes named sh (this shell and its command substitutions) are not
# counted.
inner='
"$@" >/dev/null 2>&1 &
rl=$!
started=0
for _ in $(seq 1 200); do
    for c in $(pgrep -P "$rl"); do
        if pgrep -P "$c" >/dev/null; then started=1; fi
    done
    [ "$started" = 1 ] && break
    sleep 0.05
done
if [ "$started" != 1 ]; then
    echo "never started an execution"
    kill -9 "$rl"
    exit 1
fi
kill -9 "$rl"
wait "$rl" 2>/dev/null
for _ in $(seq 1 100); do
    left=$(pgrep -v -x sh)
    [ -z "$left" ] && exit 0
    sleep 0.05
done
echo "left 5 s after the SIGKILL:"
ps -o pid=,ppid=,stat=,comm= -p "$(echo $left | tr " " ,)"
exit 1
'

# case DESCRIPTION -- COMMAND...
case_() {
    local what=$1
    shift 2
    local t0=$SECONDS
    if out=$(unshare -fp --mount-proc sh -c "$inner" sh "$@" 2>&1); then
        echo "ok: $what ($((SECONDS - t0)) s)"
    else
        echo "FAIL: $what"
        echo "$out" | sed 's/^/  /'
        fails=$((fails + 1))
    fi
}

for jobs in 1 2; do
    case_ "run explore --jobs $jobs" -- \
        "$RL" run --jobs $jobs --timeout 30 fork_lock.threaded 'counter.*'
    case_ "run pct --jobs $jobs" -- \
        "$RL" run --jobs $jobs --mode pct --runs 100000 --timeout 30 fork_lock.threaded
    case_ "run random --jobs $jobs" -- \
        "$RL" run --jobs $jobs --mode random --runs 100000 --timeout 30 fork_lock.threaded
    case_ "run stress --jobs $jobs, actors blocked for good" -- \
        "$RL" run --jobs $jobs --mode stress --runs 100 --timeout 30 \
        barrier_broken.left
done
case_ "replay of a hang (raw fork child of a threaded actor)" -- \
    "$RL" replay 'fork_lock.threaded@-'
case_ "stress -- CMD with a background child" -- \
    "$RL" stress --runs 100 --timeout 60 -- bash -c 'sleep 30 & sleep 0.2'
case_ "stress -- CMD --jobs 2" -- \
    "$RL" stress --runs 1000 --jobs 2 --timeout 60 -- \
    bash -c 'sleep 30 & sleep 0.05'

if [ "$fails" -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all cases passed"
