#!/usr/bin/env bash
# test_intercept.sh: racelab run -- COMMAND over small unmodified C programs
# (tests/intercept/*.c, which include no racelab header): a pipe that never
# reaches end of file found as DEADLOCK naming its holder, two producers
# in the wrong order found and replayed exactly, process-shared mutexes
# and semaphores, static binaries and missing commands refused, and
# nothing left behind; readv, writev, sendmsg and recvmsg as schedule
# points, and a pipe end passed with SCM_RIGHTS; poll, select and epoll
# waiting in the scheduler (Python multiprocessing's Connection.poll too).
set -u
BUILD=${BUILD:-build}
RL="$(cd "$(dirname "$BUILD/racelab")" && pwd)/racelab"
if [ ! -x "$RL" ] || [ ! -f "$BUILD/libracelab-intercept.so" ]; then
    echo "FAIL: build $BUILD/racelab and $BUILD/libracelab-intercept.so first"
    exit 1
fi
SRC="$(cd "$(dirname "$0")/intercept" && pwd)"
dir=$(mktemp -d "${TMPDIR:-/tmp}/racelab-intercept.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fails=0

ok() { echo "ok: $1"; }
bad() {
    echo "FAIL: $1"
    printf '%s\n' "$2" | sed 's/^/  /'
    fails=$((fails + 1))
}

# prog NAME SOURCE [CFLAGS...]: builds tests/intercept/SOURCE.c as NAME.
prog() {
    local name=$1 src=$2
    shift 2
    if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 "$@" -o "$name" \
        "$SRC/$src.c" -lpthread; then
        echo "FAIL: cannot build $name"
        exit 1
    fi
}
prog pipe_holder pipe_holder
prog pipe_holder_fixed pipe_holder -DFIXED
prog two_producers two_producers
prog two_producers_fixed two_producers -DFIXED
prog mutex_counter mutex_counter
prog mutex_counter_unlocked mutex_counter -DUNLOCKED
prog sem_handshake sem_handshake
prog full_pipe full_pipe
prog stdio_pipe stdio_pipe
prog cloexec cloexec
prog kill_child kill_child
prog socket_holder socket_holder
prog socket_holder_fixed socket_holder -DFIXED
prog full_pipe_fixed full_pipe -DFIXED
prog iov_holder iov_holder
prog iov_holder_fixed iov_holder -DFIXED
prog msg_holder iov_holder -DMSG
prog msg_holder_fixed iov_holder -DMSG -DFIXED
prog pass_fd pass_fd
prog pass_fd_hold pass_fd -DHOLD
prog virtual_time virtual_time
prog spawn_holder spawn_holder
prog spawn_holder_fixed spawn_holder -DFIXED
prog poll_wait poll_wait
prog pair_poll_wait poll_wait -DPAIR
prog select_wait poll_wait -DSELECT
prog epoll_wait poll_wait -DEPOLL
prog poll_busy poll_wait -DBUSY
prog select_busy poll_wait -DSELECT -DBUSY
prog poll_hold poll_wait -DHOLD
prog epoll_hold poll_wait -DEPOLL -DHOLD
prog poll_timeout poll_wait -DTIMEOUT
prog select_timeout poll_wait -DSELECT -DTIMEOUT
prog epoll_timeout poll_wait -DEPOLL -DTIMEOUT
prog poll_order poll_order
prog select_order poll_order -DSELECT
prog epoll_order poll_order -DEPOLL
prog poll_order_fixed poll_order -DFIXED
prog epoll_order_fixed poll_order -DEPOLL -DFIXED
prog select_order_hold poll_order -DSELECT -DHOLD

# run EXPECTED-STATUS ARGS...: runs racelab, keeps its output in $out and
# says whether the exit status was the expected one.
run() {
    local want=$1
    shift
    out=$("$RL" "$@" 2>&1)
    status=$?
    [ "$status" = "$want" ]
}

# A parent that waits for its consumer while it still holds the write end:
# DEADLOCK on the first execution, the reader's wait and the holder named.
if run 1 run --jobs 1 -- ./pipe_holder &&
    grep -q '^UNEXPECTED cmd:./pipe_holder  *DEADLOCK  *explore  *1 executions' \
        <<<"$out" &&
    grep -q 'actor 1 (pipe_holder, pid [0-9]*) is blocked in read(fd 3) of pipe' \
        <<<"$out" &&
    grep -q 'actor 0 (pipe_holder, pid [0-9]*) holds the write end as fd 4' \
        <<<"$out"; then
    ok "pipe held open by the waiting parent: DEADLOCK, holder named"
else
    bad "pipe held open by the waiting parent (status $status)" "$out"
fi
if run 0 run --jobs 1 --expect-verdict DEADLOCK -- ./pipe_holder &&
    grep -q '^ok  *cmd:./pipe_holder  *DEADLOCK' <<<"$out"; then
    ok "--expect-verdict DEADLOCK: the deadlock is as expected"
else
    bad "--expect-verdict DEADLOCK (status $status)" "$out"
fi
# The fixed variant, over two job workers: the bounded space exhausted.
if run 0 run --jobs 2 -- ./pipe_holder_fixed &&
    grep -q '^ok  *cmd:./pipe_holder_fixed  *PASS .*exhausted' <<<"$out"; then
    ok "pipe closed before the wait: PASS, exhausted"
else
    bad "pipe closed before the wait (status $status)" "$out"
fi

# The same over a socket pair, with send and recv: the holder of the
# other socket named.
if run 1 run --jobs 1 -- ./socket_holder &&
    grep -q '^UNEXPECTED cmd:./socket_holder  *DEADLOCK  *explore  *1 executions' \
        <<<"$out" &&
    grep -q 'is blocked in recv(fd 4) of socket [0-9]*: empty, and its peer' \
        <<<"$out" &&
    grep -q 'actor 0 (socket_holder, pid [0-9]*) holds .* as fd 3' <<<"$out"; then
    ok "socket held open by the waiting parent: DEADLOCK, holder named"
else
    bad "socket held open by the waiting parent (status $status)" "$out"
fi
if run 0 run --jobs 1 -- ./socket_holder_fixed &&
    grep -q '^ok  *cmd:./socket_holder_fixed  *PASS .*exhausted' <<<"$out"; then
    ok "socket closed before the wait: PASS, exhausted"
else
    bad "socket closed before the wait (status $status)" "$out"
fi

# The same with gathered and scattered I/O: writev and readv on a pipe,
# sendmsg and recvmsg on a socket pair, each waiting in the scheduler.
if run 1 run --jobs 1 -- ./iov_holder &&
    grep -q '^UNEXPECTED cmd:./iov_holder  *DEADLOCK  *explore  *1 executions' \
        <<<"$out" &&
    grep -q '(iov_holder, pid [0-9]*) is blocked in readv(fd 3) of pipe' \
        <<<"$out" &&
    grep -q 'actor 0 (iov_holder, pid [0-9]*) holds the write end as fd 4' \
        <<<"$out"; then
    ok "writev/readv, pipe held by the waiting parent: DEADLOCK, holder named"
else
    bad "writev/readv, pipe held open by the waiting parent (status $status)" \
        "$out"
fi
if run 0 run --jobs 1 -- ./iov_holder_fixed &&
    grep -q '^ok  *cmd:./iov_holder_fixed  *PASS .*exhausted' <<<"$out"; then
    ok "writev/readv, pipe closed before the wait: PASS, exhausted"
else
    bad "writev/readv, pipe closed before the wait (status $status)" "$out"
fi
if run 1 run --jobs 1 -- ./msg_holder &&
    grep -q '^UNEXPECTED cmd:./msg_holder  *DEADLOCK  *explore  *1 executions' \
        <<<"$out" &&
    grep -q 'blocked in recvmsg(fd 3) of socket [0-9]*: empty, and its peer' \
        <<<"$out" &&
    grep -q 'actor 0 (msg_holder, pid [0-9]*) holds .* as fd 4' <<<"$out"; then
    ok "sendmsg/recvmsg, socket held open by the waiting parent: DEADLOCK"
else
    bad "sendmsg/recvmsg, socket held by the waiting parent (status $status)" \
        "$out"
fi
if run 0 run --jobs 1 -- ./msg_holder_fixed &&
    grep -q '^ok  *cmd:./msg_holder_fixed  *PASS .*exhausted' <<<"$out"; then
    ok "sendmsg/recvmsg, socket closed before the wait: PASS, exhausted"
else
    bad "sendmsg/recvmsg, socket closed before the wait (status $status)" "$out"
fi

# A pipe made after the fork, its read end passed to the child with
# SCM_RIGHTS: the child's reads of it are schedule points too. (Without
# --reduction none, a read racelab did not see would also be missing from
# the reduction's view, which then never tries it on an empty pipe.)
if run 0 run --jobs 1 --reduction none -- ./pass_fd &&
    grep -q '^ok  *cmd:./pass_fd  *PASS .*exhausted' <<<"$out"; then
    ok "a pipe end passed with SCM_RIGHTS: PASS, exhausted"
else
    bad "a pipe end passed with SCM_RIGHTS (status $status)" "$out"
fi
if run 1 run --jobs 1 -- ./pass_fd_hold &&
    grep -q '^UNEXPECTED cmd:./pass_fd_hold  *DEADLOCK  *explore  *1 exec' \
        <<<"$out" &&
    grep -q 'blocked in read(fd [0-9]*) of pipe [0-9]*: empty, and a write' \
        <<<"$out" &&
    grep -q 'actor 0 (pass_fd_hold, pid [0-9]*) holds the write end' \
        <<<"$out"; then
    ok "a passed pipe end whose writer waits first: DEADLOCK, holder named"
else
    bad "a passed pipe end whose writer waits first (status $status)" "$out"
fi

# poll, select and epoll_wait on a pipe (a socket pair) that a child
# writes after sleep(1), with a timeout of 5 s: the wait is in the
# scheduler, so the child runs (in the kernel the wait would hold the
# token until its timeout, and find nothing).
for p in poll_wait pair_poll_wait select_wait epoll_wait; do
    if run 0 run --jobs 1 -- ./$p &&
        grep -q "^ok  *cmd:./$p  *PASS .*exhausted" <<<"$out"; then
        ok "$p on a pipe written after sleep(1): PASS, exhausted"
    else
        bad "$p on a pipe written after sleep(1) (status $status)" "$out"
    fi
done
# A loop of waits with a timeout of zero: each one that finds nothing
# lets the others run first, so the child writes (no LIVELOCK).
for p in poll_busy select_busy; do
    if run 0 run --jobs 1 -- ./$p &&
        grep -q "^ok  *cmd:./$p  *PASS .*exhausted" <<<"$out"; then
        ok "$p: a loop of waits with a zero timeout: PASS, exhausted"
    else
        bad "$p: a loop of waits with a zero timeout (status $status)" "$out"
    fi
done
# The poller itself holds the write end and nobody writes: DEADLOCK, the
# wait and the holder named.
for p in poll_hold epoll_hold; do
    what=poll
    [ $p = epoll_hold ] && what=epoll_wait
    if run 1 run --jobs 1 -- ./$p &&
        grep -q "^UNEXPECTED cmd:./$p  *DEADLOCK  *explore  *1 executions" \
            <<<"$out" &&
        grep -q "($p, pid [0-9]*) is blocked in $what: fd 3 of pipe [0-9]* is" \
            <<<"$out" &&
        grep -q "not ready: actor 0 ($p, pid [0-9]*) holds the write end as" \
            <<<"$out"; then
        ok "$p: a wait on a pipe only the poller can write: DEADLOCK"
    else
        bad "$p: a wait on a pipe only the poller can write (status $status)" \
            "$out"
    fi
done
# A timeout of an hour on a pipe nobody writes while the child waits for
# the poller: virtual time, over at once when nothing else can run.
for p in poll_timeout select_timeout epoll_timeout; do
    if run 0 run --jobs 1 -- ./$p &&
        grep -q "^ok  *cmd:./$p  *PASS .*exhausted" <<<"$out"; then
        ok "$p: a timeout of an hour nobody ends: PASS, exhausted"
    else
        bad "$p: a timeout of an hour nobody ends (status $status)" "$out"
    fi
done
# One wait on two pipes that two children write: the parent assumes the
# first child's is ready first, which explore shows wrong (the wait's
# steps look at both pipes); either order accepted passes.
for p in poll_order select_order epoll_order; do
    if run 1 run --jobs 1 -- ./$p &&
        grep -q "^UNEXPECTED cmd:./$p  *FAIL  *explore" <<<"$out" &&
        grep -q 'poll_order: child b was first' <<<"$out"; then
        ok "$p: a wait on two pipes, the wrong one assumed first: FAIL"
    else
        bad "$p: a wait on two pipes, the wrong one assumed first" \
            "(status $status) $out"
    fi
done
for p in poll_order_fixed epoll_order_fixed; do
    if run 0 run --jobs 1 --preemptions 1 -- ./$p &&
        grep -q "^ok  *cmd:./$p  *PASS .*exhausted" <<<"$out"; then
        ok "$p: a wait on two pipes, either first: PASS, exhausted"
    else
        bad "$p: a wait on two pipes, either first (status $status)" "$out"
    fi
done
# The same wait while the poller holds both write ends and nobody
# writes: DEADLOCK, the descriptors and a holder named.
p=select_order_hold
if run 1 run --jobs 1 -- ./$p &&
    grep -q "^UNEXPECTED cmd:./$p  *DEADLOCK  *explore  *1 executions" \
        <<<"$out" &&
    grep -q "($p, pid [0-9]*) is blocked in select: none of fds 3, 5 is ready" \
        <<<"$out" &&
    grep -q "is ready: actor 0 ($p, pid [0-9]*) holds the write end as fd 4" \
        <<<"$out"; then
    ok "$p: a wait on two pipes nobody writes: DEADLOCK"
else
    bad "$p: a wait on two pipes nobody writes (status $status)" "$out"
fi
# Python's multiprocessing: Connection.poll(5) on a pipe a child process
# writes after time.sleep(1), then Process.join(5) (both a poll()).
if [ ! -x /usr/bin/python3 ]; then
    echo "skip: no /usr/bin/python3"
elif run 0 run --jobs 1 --preemptions 1 -- /usr/bin/python3 \
    "$SRC/conn_poll.py" &&
    grep -q '^ok  *cmd:/usr/bin/python3  *PASS .*exhausted' <<<"$out"; then
    ok "python3 multiprocessing Connection.poll(5), join(5): PASS, exhausted"
else
    bad "python3 multiprocessing Connection.poll(5), join(5) (status $status)" \
        "$out"
fi

# A writer that fills the pipe while its reader waits for it: the write
# waits in the scheduler. The fixed variant sleeps an hour first, which
# passes in no time (a real sleep would end as TIMEOUT).
if run 1 run --jobs 1 -- ./full_pipe &&
    grep -q '^UNEXPECTED cmd:./full_pipe  *DEADLOCK  *explore  *1 executions' \
        <<<"$out" &&
    grep -q 'is blocked in write(fd 4) to pipe [0-9]*: full, [0-9]* of 262144' \
        <<<"$out"; then
    ok "a full pipe nobody reads: DEADLOCK in the write"
else
    bad "a full pipe nobody reads (status $status)" "$out"
fi
if run 0 run --jobs 1 -- ./full_pipe_fixed &&
    grep -q '^ok  *cmd:./full_pipe_fixed  *PASS .*exhausted' <<<"$out"; then
    ok "a full pipe read after sleep(3600): PASS, exhausted"
else
    bad "a full pipe read after sleep(3600) (status $status)" "$out"
fi

# A line printed into a pipe through stdio reaches its reader at fflush,
# whose write is the C library's own: no reader is left waiting for it.
if run 0 run --jobs 1 -- ./stdio_pipe &&
    grep -q '^ok  *cmd:./stdio_pipe  *PASS .*exhausted' <<<"$out"; then
    ok "a pipe written through stdio and fflush: PASS, exhausted"
else
    bad "a pipe written through stdio and fflush (status $status)" "$out"
fi

# A pipe end closed by an exec (close-on-exec) gives its reader end of
# file: the exec'd program is the same actor and waits for that reader.
if run 0 run --jobs 1 -- ./cloexec &&
    grep -q '^ok  *cmd:./cloexec  *PASS .*exhausted' <<<"$out"; then
    ok "a write end closed by exec: PASS, exhausted"
else
    bad "a write end closed by exec (status $status)" "$out"
fi

# A child ended with kill on purpose: its parent's wait sees the signal,
# and the end is no crash.
if run 0 run --jobs 1 --reduction none -- ./kill_child &&
    grep -q '^ok  *cmd:./kill_child  *PASS .*exhausted' <<<"$out"; then
    ok "a child ended by kill(SIGTERM): PASS, exhausted"
else
    bad "a child ended by kill(SIGTERM) (status $status)" "$out"
fi

# A real program: bash's command substitution (fork, pipe, dup2 onto
# stdout, the child's end of file at its real end, waitpid).
if ! command -v bash >/dev/null; then
    echo "skip: no bash"
elif run 0 run --jobs 1 -- bash -c 'x=$(echo hi); test "$x" = hi' &&
    grep -q '^ok  *cmd:bash  *PASS .*exhausted' <<<"$out"; then
    ok "bash -c 'x=\$(echo hi)': PASS, exhausted"
else
    bad "bash -c 'x=\$(echo hi)' (status $status)" "$out"
fi

# Two producers, a consumer that assumes an order: found by explore, and
# the token replays the same trace 20 times out of 20.
if run 1 run --jobs 1 -- ./two_producers &&
    grep -q '^UNEXPECTED cmd:./two_producers  *FAIL  *explore' <<<"$out" &&
    grep -q 'the command exited with status 1' <<<"$out"; then
    ok "two producers in the wrong order: FAIL found by explore"
else
    bad "two producers in the wrong order (status $status)" "$out"
fi
token=$(sed -n "s/^ *replay: .* replay '\(.*\)'$/\1/p" <<<"$out" | head -1)
# The trace without pids, which differ from run to run (and with them the
# width of the table's columns).
trace() {
    "$RL" replay --trace "$token" -- ./two_producers 2>&1 |
        sed -E 's/pid [0-9]+/pid N/g; s/^( *[0-9]+ +[0-9]+ +)[0-9]+/\1N/;
                s/ +/ /g'
}
first=$(trace)
same=0
other=""
for _ in $(seq 1 20); do
    this=$(trace)
    if [ "$this" = "$first" ]; then
        same=$((same + 1))
    elif [ -z "$other" ]; then
        other=$(diff <(echo "$first") <(echo "$this"))
    fi
done
if [ -n "$token" ] && [ "$same" = 20 ] && grep -q '^FAIL' <<<"$first" &&
    grep -q 'send .*write(fd 4)' <<<"$first"; then
    ok "the token $token replays identically 20 of 20"
else
    bad "replay of '$token': $same of 20 identical" "$first
$other"
fi
if run 0 run --jobs 1 -- ./two_producers_fixed &&
    grep -q '^ok  *cmd:./two_producers_fixed  *PASS .*exhausted' <<<"$out"; then
    ok "two producers, either order accepted: PASS, exhausted"
else
    bad "two producers, either order accepted (status $status)" "$out"
fi

# A process-shared mutex over MAP_SHARED memory; without it, the sleep
# inside the update (a yield, no time) shows the lost update.
if run 0 run --jobs 1 -- ./mutex_counter &&
    grep -q '^ok  *cmd:./mutex_counter  *PASS .*exhausted' <<<"$out"; then
    ok "process-shared mutex over a shared counter: PASS, exhausted"
else
    bad "process-shared mutex over a shared counter (status $status)" "$out"
fi
if run 1 run --jobs 1 -- ./mutex_counter_unlocked &&
    grep -q '^UNEXPECTED cmd:./mutex_counter_unlocked  *FAIL' <<<"$out"; then
    ok "the same counter without the mutex: FAIL"
else
    bad "the same counter without the mutex (status $status)" "$out"
fi

# A reader started with posix_spawnp (cat, its stdin the pipe) is an
# actor: the parent that waits for it while holding the write end is a
# DEADLOCK naming cat's read and the holder; closed first, PASS.
if run 1 run --jobs 1 -- ./spawn_holder &&
    grep -q 'actor 1 (cat, pid [0-9]*) is blocked in read(fd 0) of pipe' \
        <<<"$out" &&
    grep -q 'actor 0 (spawn_holder, pid [0-9]*) holds the write end as fd 4' \
        <<<"$out"; then
    ok "a reader started by posix_spawnp: DEADLOCK, holder named"
else
    bad "a reader started by posix_spawnp (status $status)" "$out"
fi
if run 0 run --jobs 1 -- ./spawn_holder_fixed &&
    grep -q '^ok  *cmd:./spawn_holder_fixed  *PASS .*exhausted' <<<"$out"; then
    ok "the write end closed before waiting for the spawned reader: PASS"
else
    bad "the spawned reader with the write end closed (status $status)" "$out"
fi

# A program built with the compiler's instrumentation and linked with
# libracelab (as pkg-config racelab-instrument says): its plain accesses
# to a MAP_SHARED counter are seen through libracelab-intercept.so, which
# the loader puts first: a RACE on the first execution, the lost update
# with --races off.
# (Not in a sanitizer or coverage build, whose libracelab.so needs its
# runtime.)
BUILD_ABS="$(cd "$(dirname "$RL")" && pwd)"
ln -sf "$BUILD_ABS/libracelab.so" libracelab.so.0
if [ -n "${SANITIZE:-}${COVERAGE:-}" ]; then
    echo "skip: instrumented program in a sanitizer or coverage build"
elif ${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -fsanitize=thread -c \
    "$SRC/shared_counter.c" -o shared_counter.o &&
    ${CC:-cc} -o shared_counter shared_counter.o -L"$BUILD_ABS" -lracelab \
        -Wl,-rpath,"$dir"; then
    if run 1 run --jobs 1 -- ./shared_counter &&
        grep -q '^UNEXPECTED cmd:./shared_counter  *RACE  *explore  *1 executions' \
            <<<"$out" &&
        grep -q 'data race: actor [01] (shared_counter, pid [0-9]*) write 4 bytes' \
            <<<"$out"; then
        ok "instrumented accesses to a MAP_SHARED counter: RACE at once"
    else
        bad "instrumented accesses to a MAP_SHARED counter (status $status)" \
            "$out"
    fi
    if run 1 run --jobs 1 --races off -- ./shared_counter &&
        grep -q '^UNEXPECTED cmd:./shared_counter  *FAIL' <<<"$out"; then
        ok "the same counter with --races off: the lost update found"
    else
        bad "the instrumented counter with --races off (status $status)" "$out"
    fi
else
    bad "cannot build the instrumented shared_counter" ""
fi

# An hour of sleeps, a timed semaphore wait and a poll that time out:
# the clocks the program reads reach every deadline, and the run takes
# no time (the cap of --timeout 60 is far below an hour).
if run 0 run --jobs 1 --timeout 60 -- ./virtual_time &&
    grep -q '^ok  *cmd:./virtual_time  *PASS .*exhausted' <<<"$out"; then
    ok "sleeps and timeouts in virtual time: the clocks reach each deadline"
else
    bad "sleeps and timeouts in virtual time (status $status)" "$out"
fi

# A named and an unnamed process-shared semaphore; the program unlinks
# the named one, and no execution leaves one behind.
if run 0 run --jobs 1 --reduction none -- ./sem_handshake &&
    grep -q '^ok  *cmd:./sem_handshake  *PASS .*exhausted' <<<"$out" &&
    ! ls /dev/shm | grep -q '^sem\.racelab-test-handshake-'; then
    ok "semaphores, named and unnamed: PASS, nothing left in /dev/shm"
else
    bad "semaphores, named and unnamed (status $status)" \
        "$out$(ls /dev/shm | grep racelab-test)"
fi

# What cannot run is refused with status 2 and a reason.
if ${CC:-cc} -static -o hello_static "$SRC/hello.c" 2>/dev/null; then
    if run 2 run -- ./hello_static &&
        grep -q 'hello_static is statically linked: racelab cannot interpose' \
            <<<"$out"; then
        ok "a static binary: refused, status 2"
    else
        bad "a static binary (status $status)" "$out"
    fi
else
    echo "skip: no static C library to build a static binary with"
fi
if run 2 run -- ./no-such-program &&
    grep -q "cannot run './no-such-program': No such file or directory" \
        <<<"$out" &&
    run 2 run -- racelab-no-such-command &&
    grep -q "cannot run 'racelab-no-such-command': command not found" <<<"$out" &&
    run 2 replay 'cmd:./x@-' -- &&
    grep -q 'no COMMAND after --' <<<"$out"; then
    ok "a missing command: refused, status 2"
else
    bad "a missing command (status $status)" "$out"
fi

# Nothing of the runs is left: no process working in this directory.
left=""
for p in /proc/[0-9]*; do
    [ "$(readlink "$p/cwd" 2>/dev/null)" = "$dir" ] &&
        [ "${p#/proc/}" != "$$" ] && left="$left ${p#/proc/}"
done
if [ -z "$left" ]; then
    ok "no process of the runs is left"
else
    bad "processes left" "$(ps -o pid=,stat=,args= -p "${left# }" 2>&1)"
fi

if [ "$fails" -gt 0 ]; then
    echo "$fails case(s) failed"
    exit 1
fi
exit 0
