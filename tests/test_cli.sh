#!/usr/bin/env bash
# test_cli.sh: end-to-end tests of the racelab command line: every command,
# the exit codes, bad input, sharding, reports and Ctrl-C.
set -u
BUILD=${BUILD:-build}
RL="$BUILD/racelab"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect CODE DESCRIPTION -- COMMAND...: runs the command, checks its exit
# status, keeps stdout in $tmp/out and stderr in $tmp/err.
expect() {
    local want=$1 what=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit $got, expected $want"
        sed 's/^/  out: /' "$tmp/out" | head -5
        sed 's/^/  err: /' "$tmp/err" | head -5
        fails=$((fails + 1))
    else
        echo "ok: $what (exit $got)"
    fi
}

# has FILE TEXT DESCRIPTION: the file contains the text.
has() {
    if grep -qF -- "$2" "$1"; then
        echo "ok: $3"
    else
        echo "FAIL: $3: '$2' not in $1"
        head -5 "$1" | sed 's/^/  /'
        fails=$((fails + 1))
    fi
}

check() {
    if eval "$1"; then
        echo "ok: $2"
    else
        echo "FAIL: $2 ($1)"
        fails=$((fails + 1))
    fi
}

# ---- help, version, list
expect 0 "--version" -- "$RL" --version
has "$tmp/out" "racelab " "version printed"
expect 0 "--help" -- "$RL" --help
has "$tmp/out" "replay TOKEN" "help lists the commands"
cp "$tmp/out" "$tmp/global-help"
has "$tmp/global-help" "COMMAND --help" "help points to each command's help"
# Every command's own help: its usage, each option it takes on a line of
# its own, and not the global help.
declare -A takes=(
    [list]="json help"
    [run]="mode seed runs preemptions bound reduction races depth max-steps
           timeout noise shard jobs expect-verdict json junit html tap color
           help"
    [replay]="expect-verdict trace timeout stop-at races json junit html tap
              help"
    [minimize]="expect-verdict timeout races json junit html tap help"
    [stress]="runs jobs timeout expect-exit expect-stdout until-failure
              duration failure-dir keep-hung noise seed shard json junit html
              tap help"
    [report]="json junit html tap help")
for c in list run replay minimize stress report; do
    expect 0 "$c --help" -- "$RL" "$c" --help
    has "$tmp/out" "usage: racelab $c" "$c --help gives the usage of $c"
    check "! cmp -s '$tmp/out' '$tmp/global-help'" \
        "$c --help is not the global help"
    missing=
    for o in ${takes[$c]}; do
        grep -qE -- "^  --$o( |\[|\$)" "$tmp/out" || missing="$missing --$o"
        grep -qF -- "[--$o" "$tmp/out" || [ "$o" = help ] ||
            missing="$missing [--$o]"
    done
    check "[ -z '$missing' ]" "$c --help lists its options${missing:+ (lacks$missing)}"
    listed=$(grep -cE '^  --' "$tmp/out")
    check "[ $listed -eq $(echo ${takes[$c]} | wc -w) ]" \
        "$c --help lists only its options ($listed)"
    cp "$tmp/out" "$tmp/help-$c"
    expect 0 "help $c" -- "$RL" help "$c"
    check "cmp -s '$tmp/out' '$tmp/help-$c'" "help $c prints $c --help"
done
has "$tmp/help-stress" "--expect-exit C" "stress --help explains --expect-exit"
has "$tmp/help-run" "(default 10000)" "run --help shows the step bound's default"
expect 2 "help of an unknown command" -- "$RL" help frobnicate
expect 2 "no command" -- "$RL"
expect 2 "unknown command" -- "$RL" frobnicate
has "$tmp/err" "unknown command 'frobnicate'" "unknown command named"
expect 0 "list" -- "$RL" list
has "$tmp/out" "counter.unlocked" "list shows scenarios"
expect 0 "list --json" -- "$RL" list --json
check "python3 -c 'import json,sys; d=json.load(open(\"$tmp/out\")); assert any(s[\"name\"]==\"counter.unlocked\" and s[\"expect\"]==\"bug\" for s in d)'" \
    "list --json is valid JSON with expectations"

# ---- run: bad usage is 2
expect 2 "pattern matching nothing" -- "$RL" run 'nosuch.*'
has "$tmp/err" "no scenario matches 'nosuch.*'" "pattern error names the pattern"
expect 2 "unknown option" -- "$RL" run --frob
expect 2 "bad mode" -- "$RL" run --mode fast counter.locked
expect 2 "runs out of range" -- "$RL" run --runs 0 counter.locked
expect 2 "preemptions out of range" -- "$RL" run --preemptions 5000 counter.locked
expect 2 "depth out of range" -- "$RL" run --depth 0 counter.locked
expect 2 "bad shard" -- "$RL" run --shard 3/2 counter.locked
expect 2 "bad noise" -- "$RL" run --noise 1.5 counter.locked
expect 2 "bad timeout" -- "$RL" run --timeout -1 counter.locked
expect 2 "bad color" -- "$RL" run --color=sometimes counter.locked
# strtoull takes " -1" as 2^64-1 and strtol skips blanks: both refused.
for seed in ' -1' '-1' ' 5' '+5' '5x' ''; do
    expect 2 "seed '$seed' refused" -- "$RL" run --seed "$seed" counter.atomic
done
has "$tmp/err" "--seed takes a number" "a bad seed is explained"
expect 2 "stress seed ' -1' refused" -- "$RL" stress --seed ' -1' --runs 1 -- true
expect 2 "runs ' 5' refused" -- "$RL" run --runs ' 5' counter.atomic
expect 2 "runs '+5' refused" -- "$RL" run --runs '+5' counter.atomic
expect 2 "jobs ' 1' refused" -- "$RL" run --jobs ' 1' counter.atomic
expect 2 "timeout ' 1' refused" -- "$RL" run --timeout ' 1' counter.atomic
expect 2 "noise '+0.5' refused" -- "$RL" run --noise '+0.5' counter.atomic
expect 2 "shard ' 0/2' refused" -- "$RL" run --shard ' 0/2' counter.atomic
expect 2 "stress expect-exit ' 1' refused" -- "$RL" stress --expect-exit ' 1' --runs 1 -- true
expect 0 "seed in hex accepted" -- "$RL" run --seed 0x10 counter.atomic
expect 0 "preemptions -1 accepted" -- "$RL" run --preemptions -1 counter.atomic
expect 0 "timeout .5 accepted" -- "$RL" run --timeout .5 counter.atomic

# ---- run: results, exit 0 and 1, outputs
expect 0 "run counter.* as expected" -- "$RL" run --jobs 2 'counter.*' \
    --json "$tmp/r.json" --junit "$tmp/r.xml" --html "$tmp/r.html"
has "$tmp/out" "replay 'counter.unlocked@" "run prints the replay command"
has "$tmp/err" "seed" "run prints its seed"
has "$tmp/err" "reproduce with:" "run prints how to reproduce it"
check "python3 -c 'import json; d=json.load(open(\"$tmp/r.json\")); assert d[\"schema\"]==\"racelab-results/1\"; assert len(d[\"scenarios\"])==3'" \
    "JSON results written"
check "xmllint --noout '$tmp/r.xml'" "JUnit is well-formed XML"
check "grep -q 'class=\"timeline\"' '$tmp/r.html'" "HTML report written"
check "! ls '$tmp' | grep -q tmp" "no temporary report file left"
# Without races (the first execution has one) and without preemptions,
# counter.unlocked loses no update.
expect 1 "a bug not found is unexpected" -- "$RL" run counter.unlocked --preemptions 0 --races off
has "$tmp/out" "UNEXPECTED" "the unexpected result is marked"
expect 0 "NO_COLOR and --color=never give plain text" -- env NO_COLOR=1 "$RL" run counter.atomic --color=never
check "! grep -q $'\\033' '$tmp/out'" "no escape sequences without colour"
expect 0 "--color=always" -- "$RL" run counter.atomic --color=always
check "grep -q $'\\033' '$tmp/out'" "escape sequences with --color=always"
expect 0 "--tap" -- "$RL" run 'counter.*' --tap
has "$tmp/out" "TAP version 13" "TAP on stdout, version 13"
has "$tmp/out" "1..3" "TAP plan"
# Perl's TAP::Harness (Debian 12: 3.44) fails any stream saying 14.
if command -v prove >/dev/null; then
    cp "$tmp/out" "$tmp/run.tap"
    check "prove --exec cat '$tmp/run.tap' >'$tmp/prove.out' 2>&1 &&
           grep -q 'Result: PASS' '$tmp/prove.out'" "prove reads the TAP and passes"
else
    echo "skip: prove is not installed"
fi
expect 0 "--tap=14" -- "$RL" run counter.atomic --tap=14
has "$tmp/out" "TAP version 14" "TAP version 14 on request"
expect 2 "--tap=15" -- "$RL" run counter.atomic --tap=15
expect 3 "unwritable results file" -- "$RL" run counter.atomic --json /nonexistent/dir/r.json

# ---- the bounds and modes take effect
# Below the steps the producer's spin needs to prove a livelock by itself.
expect 0 "--max-steps bounds an execution" -- "$RL" run end_flag.private --max-steps 5
has "$tmp/out" "passed 5 schedule points" "the livelock names the bound"
# A step bound the arena cannot hold is bad input, in this process or in
# job workers alike: said once, exit 2, and no result line that passes.
for j in 1 2; do
    expect 2 "--max-steps beyond the arena (--jobs $j)" -- "$RL" run --jobs $j \
        counter.locked --max-steps 5000000
    has "$tmp/err" "does not fit the arena" "the bound that does not fit is named (--jobs $j)"
    check "! grep -q PASS '$tmp/out'" "no PASS line for a search that could not run (--jobs $j)"
done
expect 0 "--timeout bounds an execution" -- "$RL" run fork_lock.threaded --timeout 0.5
has "$tmp/out" "(the 0.5 s timeout)" "the timeout is the one given"
expect 0 "pct with --depth" -- "$RL" run --mode pct --depth 2 --runs 50 --seed 1 counter.unlocked
has "$tmp/out" "pct" "pct mode reported"
expect 0 "stress with --noise and a histogram" -- "$RL" run --mode stress --runs 30 --noise 0.3 --seed 1 counter.locked --json "$tmp/n.json"
check "python3 -c 'import json; s=json.load(open(\"$tmp/n.json\"))[\"scenarios\"][0][\"stress\"]; assert s[\"runs\"]==30 and s[\"values\"]==[{\"value\": 4, \"count\": 30}], s'" \
    "stress histogram of the checked values"
expect 0 "explore without a bound" -- "$RL" run counter.atomic --preemptions -1
has "$tmp/out" "exhausted" "unbounded explore exhausts a small space"

# ---- the same seed gives the same executions
"$RL" run --mode random --runs 30 --seed 99 --jobs 1 counter.unlocked >"$tmp/a" 2>/dev/null
"$RL" run --mode random --runs 30 --seed 99 --jobs 2 counter.unlocked >"$tmp/b" 2>/dev/null
check "[ \"\$(grep -o \"replay '.*'\" $tmp/a)\" = \"\$(grep -o \"replay '.*'\" $tmp/b)\" ]" \
    "same seed, same failure, whatever --jobs"

# ---- replay and minimize
token=$(grep -o 'counter.unlocked@[^"]*' "$tmp/r.json" | head -1)
expect 0 "replay" -- "$RL" replay "$token"
has "$tmp/out" "RACE" "replay reproduces the verdict"
expect 0 "replay --trace" -- "$RL" replay "$token" --trace
has "$tmp/out" "step actor" "trace table printed"
has "$tmp/out" "c->value counter.c:" "trace shows file:line"
expect 0 "minimize" -- "$RL" minimize "$token"
has "$tmp/out" "minimized: counter.unlocked@" "minimize prints the token"
expect 2 "malformed token" -- "$RL" replay 'counter.unlocked@zz'
has "$tmp/err" "malformed token" "malformed token explained"
expect 2 "token of an unknown scenario" -- "$RL" replay 'nosuch.x@0x1'
expect 2 "token that does not fit" -- "$RL" replay 'counter.unlocked@0x3.7x1'
has "$tmp/out" "at step 3" "the unfitting step is named"
expect 2 "minimize of a passing token" -- "$RL" minimize 'counter.locked@-'
# A 14-byte token of ten million decisions is refused before it is
# expanded, naming the scenario's step bound.
expect 2 "token longer than the step bound" -- "$RL" replay 'counter.unlocked@3x10000000'
has "$tmp/err" "more than 10000 decisions, the step bound (max_steps)" "the bound is named"
expect 2 "minimize of a token longer than the step bound" -- "$RL" minimize 'counter.unlocked@0x10001'
has "$tmp/err" "step bound (max_steps)" "minimize names the bound too"
# replay exits 1 when the verdict is not what the scenario expects.
expect 1 "replay of a bug's token that passes is unexpected" -- "$RL" replay 'counter.unlocked@-' --races off
has "$tmp/err" "unexpected: counter.unlocked expects a bug" "the expectation is named"
expect 0 "replay of a clean scenario that passes" -- "$RL" replay 'counter.locked@-'
# Replay and minimize write the same reports as run: one scenario, the
# replayed (or minimized) execution its failure.
for c in replay minimize; do
    rm -f "$tmp/$c.json" "$tmp/$c.xml" "$tmp/$c.html"
    expect 0 "$c --json --junit --html" -- "$RL" $c "$token" \
        --json "$tmp/$c.json" --junit "$tmp/$c.xml" --html "$tmp/$c.html"
    check "python3 -m json.tool '$tmp/$c.json' >/dev/null" \
        "$c --json writes valid JSON"
    check "python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = d[\"scenarios\"]
assert len(s) == 1 and s[0][\"name\"] == \"counter.unlocked\"
assert s[0][\"mode\"] == \"replay\" and s[0][\"verdict\"] == \"RACE\"
assert s[0][\"first_failure\"][\"steps\"]' '$tmp/$c.json'" \
        "$c --json holds the scenario and its failing execution"
    if command -v xmllint >/dev/null; then
        check "xmllint --noout --schema tests/junit.xsd '$tmp/$c.xml' 2>/dev/null" \
            "$c --junit is valid JUnit"
    fi
    has "$tmp/$c.html" "counter.unlocked" "$c --html writes the page"
    expect 0 "$c --tap" -- "$RL" $c "$token" --tap
    has "$tmp/out" "ok 1 - counter.unlocked" "$c --tap gives the TAP stream"
    check "! grep -q '^minimized:\\|^FAIL\\|^RACE' '$tmp/out'" \
        "$c --tap prints only TAP on stdout"
done
check "grep -q '\"minimized_token\": \"counter.unlocked@' '$tmp/minimize.json'" \
    "minimize --json holds the minimized token"

# ---- --races: what a data race does
expect 0 "a race is a found bug" -- "$RL" run counter.unlocked --color never
has "$tmp/out" "RACE" "the race is the verdict (--races fail, the default)"
has "$tmp/out" "race 1: actor 1 (pid" "the race's accesses are listed"
expect 0 "--races report" -- "$RL" run counter.unlocked --races report --color never
has "$tmp/out" "FAIL" "--races report keeps the verdict"
has "$tmp/out" "race 1: actor" "--races report lists the races"
expect 0 "--races off" -- "$RL" run counter.unlocked --races off --color never
has "$tmp/out" "FAIL" "--races off: the lost update"
check "! grep -q 'race 1:' '$tmp/out'" "--races off lists no race"
expect 1 "replay --races report (a bug that passes)" -- "$RL" replay 'counter.unlocked@-' --races report
has "$tmp/out" "PASS" "replay with --races report keeps PASS"
expect 2 "--races with a wrong value" -- "$RL" run counter.unlocked --races sometimes
has "$tmp/err" "--races must be fail, report or off" "the wrong value is explained"

# ---- sharding: the union of the shards is the whole
"$RL" run --mode random --runs 40 --seed 5 counter.locked --json "$tmp/all.json" >/dev/null 2>&1
"$RL" run --mode random --runs 40 --seed 5 --shard 0/2 counter.locked --json "$tmp/s0.json" >/dev/null 2>&1
"$RL" run --mode random --runs 40 --seed 5 --shard 1/2 counter.locked --json "$tmp/s1.json" >/dev/null 2>&1
expect 0 "report merges shards" -- "$RL" report "$tmp/s0.json" "$tmp/s1.json" --json "$tmp/merged.json" --junit "$tmp/merged.xml"
check "python3 -c '
import json
a=json.load(open(\"$tmp/all.json\"))[\"scenarios\"][0]
m=json.load(open(\"$tmp/merged.json\"))[\"scenarios\"][0]
s=[json.load(open(\"$tmp/s%d.json\"%i))[\"scenarios\"][0][\"executions\"] for i in (0,1)]
assert s[0]==20 and s[1]==20, s
assert m[\"executions\"]==a[\"executions\"]==40, (m[\"executions\"], a[\"executions\"])
'" "shards 0/2 and 1/2 add up to the whole run"
check "xmllint --noout '$tmp/merged.xml'" "merged JUnit is well-formed"
# Without reduction the subtrees partition the very executions of one
# search; with it, each subtree is reduced on its own.
"$RL" run counter.locked --reduction none --json "$tmp/e.json" >/dev/null 2>&1
"$RL" run counter.locked --reduction none --shard 0/2 --jobs 1 --json "$tmp/e0.json" >/dev/null 2>&1
"$RL" run counter.locked --reduction none --shard 1/2 --jobs 3 --json "$tmp/e1.json" >/dev/null 2>&1
expect 0 "report merges explore shards" -- "$RL" report "$tmp/e0.json" "$tmp/e1.json" --json "$tmp/em.json"
check "python3 -c '
import json
a=json.load(open(\"$tmp/e.json\"))[\"scenarios\"][0]
m=json.load(open(\"$tmp/em.json\"))[\"scenarios\"][0]
assert m[\"executions\"]==a[\"executions\"] and m[\"exhausted\"] and a[\"exhausted\"], (m[\"executions\"], a[\"executions\"])
'" "explore shards are disjoint subtrees that add up to the whole"
"$RL" run counter.locked --shard 0/2 --json "$tmp/d0.json" >/dev/null 2>&1
"$RL" run counter.locked --shard 1/2 --json "$tmp/d1.json" >/dev/null 2>&1
expect 0 "report merges reduced explore shards" -- "$RL" report "$tmp/d0.json" "$tmp/d1.json" --json "$tmp/dm.json"
check "python3 -c '
import json
m=json.load(open(\"$tmp/dm.json\"))[\"scenarios\"][0]
assert m[\"exhausted\"] and m[\"verdict\"]==\"PASS\" and m[\"explore\"][\"reduction\"]==\"dpor\", m
'" "reduced explore shards together exhaust the space"
printf '{"schema": "racelab-results/1", "scenarios": [' >"$tmp/corrupt.json"
expect 2 "corrupt results JSON" -- "$RL" report "$tmp/corrupt.json"
has "$tmp/err" "corrupt.json" "the corrupt file is named"
expect 2 "missing results file" -- "$RL" report "$tmp/none.json"
echo '{"schema": "other/1"}' >"$tmp/other.json"
expect 2 "results of another schema" -- "$RL" report "$tmp/other.json"
mkfifo "$tmp/fifo.json"
expect 2 "a FIFO is refused, not waited on" -- timeout 60 "$RL" report "$tmp/fifo.json"
has "$tmp/err" "not a regular file" "the FIFO is named as not a regular file"
rm -f "$tmp/fifo.json"
expect 2 "a device is refused before it is read" -- timeout 60 "$RL" report /dev/zero
has "$tmp/err" "/dev/zero: not a regular file" "the device is named"

# ---- external-command stress
expect 0 "stress of a command that never fails" -- "$RL" stress --runs 20 --jobs 2 -- tests/data/never.sh
has "$tmp/out" "20 runs, 0 failed" "never: counted"
# Waiting for events, not for time: each waits until what it looks for
# happens and gives up only after ten minutes (a machine can be that slow
# under load; the caller's check then fails).
# wait_for FILE TEXT: until the file holds TEXT.
wait_for() {
    for _ in $(seq 1 6000); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# wait_gone PID...: until none of the processes exists (zombies included).
wait_gone() {
    for _ in $(seq 1 6000); do
        local left=0
        for p in "$@"; do
            kill -0 "$p" 2>/dev/null && left=1
        done
        [ $left -eq 0 ] && return 0
        sleep 0.1
    done
    return 1
}
# wait_session_empty SID: until no process of the session is left.
wait_session_empty() {
    for _ in $(seq 1 6000); do
        [ -z "$(ps -eo sid=,pid= | awk -v s="$1" '$1==s')" ] && return 0
        sleep 0.1
    done
    return 1
}

expect 1 "stress of a command that fails sometimes" -- "$RL" stress --runs 30 --jobs 2 --json "$tmp/st.json" --junit "$tmp/st.xml" -- tests/data/sometimes.sh
has "$tmp/out" "30 runs, 10 failed" "sometimes: every third run fails"
has "$tmp/out" "first failure at run 3" "runs to first failure"
check "xmllint --noout '$tmp/st.xml'" "stress JUnit is well-formed"
expect 1 "stress of a command that always fails" -- "$RL" stress --runs 5 -- tests/data/always.sh
has "$tmp/out" "5 failed" "always: all fail"
: >"$tmp/hang.pids"
expect 1 "stress of a command that hangs" -- "$RL" stress --runs 2 --jobs 2 --timeout 0.5 -- tests/data/hang.sh "$tmp/hang.pids"
has "$tmp/out" "timeout: 2" "hanging runs counted as timeouts"
check "wait_gone $(cat "$tmp/hang.pids" | tr '\n' ' ')" "hung runs and their background children are killed"
expect 0 "--expect-stdout" -- "$RL" stress --runs 3 --expect-stdout hello -- echo hello
expect 1 "--expect-stdout mismatch" -- "$RL" stress --runs 3 --expect-stdout bye -- echo hello
has "$tmp/out" "wrong output: 3" "wrong output classified"
expect 1 "--expect-exit" -- "$RL" stress --runs 3 --expect-exit 3 -- true
# Escape and control bytes from a command never reach the terminal raw.
expect 1 "stress of a command printing escape sequences" -- "$RL" stress --runs 2 \
    --expect-exit 1 --json "$tmp/esc.json" -- printf $'\033]0;pwned\007\033[2Jhi'
check "! grep -q $'\\x1b' '$tmp/out'" "no raw ESC in the terminal output"
has "$tmp/out" '\x1b]0;pwned\x07\x1b[2Jhi' "escape bytes are shown as \\xNN"
check "grep -qF '\\u001b' '$tmp/esc.json'" "JSON escapes them"
expect 1 "report of results holding escape bytes" -- "$RL" report "$tmp/esc.json"
check "! grep -q $'\\x1b' '$tmp/out'" "report prints no raw ESC"
has "$tmp/out" '\x1b' "report shows them as \\xNN"
expect 1 "report --tap of results holding escape bytes" -- "$RL" report --tap "$tmp/esc.json"
check "! grep -q $'\\x1b' '$tmp/out'" "TAP holds no raw ESC"
expect 2 "stress of a missing command" -- "$RL" stress --runs 3 -- /nonexistent/cmd
expect 2 "stress without a command" -- "$RL" stress --runs 3
expect 2 "stress with a bad option" -- "$RL" stress --runs x -- true

# Like Go's stress: until the first failure, for a time, a log per
# failing run, hung runs left stopped for a debugger.
expect 1 "stress --until-failure" -- "$RL" stress --jobs 1 --until-failure -- tests/data/sometimes.sh
has "$tmp/out" "3 runs, 1 failed" "--until-failure stops at the first failure"
has "$tmp/err" "runs until the first failure" "--until-failure is said"
expect 0 "stress --duration 1s" -- "$RL" stress --jobs 2 --duration 1s -- true
has "$tmp/out" "stress:true: " "--duration runs"
expect 0 "stress --duration 0.01m (minutes)" -- "$RL" stress --jobs 2 --duration 0.01m -- true
expect 2 "--duration with a unit it does not know" -- "$RL" stress --duration 10x -- true
has "$tmp/err" "--duration takes seconds or a number with s, m or h" "a bad duration is explained"
expect 2 "--duration of nothing" -- "$RL" stress --duration m -- true
expect 1 "stress --failure-dir" -- "$RL" stress --runs 6 --jobs 2 --seed 5 \
    --failure-dir "$tmp/fails" -- tests/data/sometimes.sh
check "[ \"\$(ls '$tmp/fails')\" = \"\$(printf 'run-3.log\\nrun-6.log')\" ]" \
    "--failure-dir: one log per failing run"
has "$tmp/fails/run-3.log" "oops in run 3" "the log holds the run's output"
has "$tmp/fails/run-6.log" "seed: 5" "the log holds the seed"
has "$tmp/fails/run-6.log" "outcome: run 6: exit status 1, expected 0" "the log says how it ended"
: >"$tmp/fails-file"
expect 2 "--failure-dir that is a file" -- "$RL" stress --runs 1 --failure-dir "$tmp/fails-file" -- true
: >"$tmp/kept.pids"
expect 1 "stress --keep-hung" -- "$RL" stress --runs 1 --timeout 0.3 --keep-hung -- tests/data/hang.sh "$tmp/kept.pids"
read -r ksh kbg <"$tmp/kept.pids"
has "$tmp/err" "run 1 hung: its process group $ksh is stopped" "--keep-hung prints the group"
has "$tmp/err" " $kbg" "--keep-hung prints every pid"
kst=$(sed 's/.*) //' "/proc/$ksh/stat" 2>/dev/null | cut -d' ' -f1)
bst=$(sed 's/.*) //' "/proc/$kbg/stat" 2>/dev/null | cut -d' ' -f1)
check "[ '$kst' = T ] && [ '$bst' = T ]" "--keep-hung: racelab exited, the run's processes are stopped ($kst $bst)"
kill -KILL -"$ksh" 2>/dev/null
# ---- Ctrl-C: results so far written, exit 130, nothing left
setsid "$RL" run --mode stress --runs 1000000 --jobs 2 'counter.*' \
    --json "$tmp/int.json" >"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
wait_for "$tmp/int.err" "racelab: mode stress"
pgid=$(ps -o pgid= -p "$pid" | tr -d ' ')
kill -INT "$pid"
wait "$pid"
code=$?
check "[ $code -eq 130 ]" "Ctrl-C exits 130 (got $code)"
check "python3 -c 'import json; json.load(open(\"$tmp/int.json\"))'" "results so far written on Ctrl-C"
check "python3 -c '
import json
d=json.load(open(\"$tmp/int.json\"))[\"scenarios\"]
assert all(s[\"interrupted\"] and not s[\"as_expected\"] for s in d), d
'" "every scenario cut short by Ctrl-C is marked interrupted"
check "wait_session_empty $pgid" "no process left after Ctrl-C"

# ---- replay and minimize stop cleanly too; a closed stdout is no crash
timeout --preserve-status -s INT 1 "$RL" replay 'fork_lock.threaded@-' >/dev/null 2>&1
code=$?
check "[ $code -eq 130 ]" "Ctrl-C of a replay exits 130 (got $code)"
timeout --preserve-status -s TERM 1 "$RL" minimize 'fork_lock.threaded@0x1.1x1' >/dev/null 2>&1
code=$?
check "[ $code -eq 143 ]" "SIGTERM of a minimize exits 143 (got $code)"
"$RL" list | head -n 1 >/dev/null
code=${PIPESTATUS[0]}
check "[ $code -eq 0 ]" "list into a pipe closed early exits 0 (got $code)"
# Results that cannot be written to stdout are an internal error (3).
"$RL" report --tap "$tmp/r.json" >/dev/full 2>"$tmp/full.err"
code=$?
check "[ $code -eq 3 ]" "report --tap into /dev/full exits 3 (got $code)"
has "$tmp/full.err" "writing to standard output failed" "the lost output is explained"
"$RL" list >/dev/full 2>/dev/null
code=$?
check "[ $code -eq 3 ]" "list into /dev/full exits 3 (got $code)"
"$RL" run --jobs 1 counter.atomic counter.unlocked >/dev/full 2>"$tmp/full.err"
code=$?
check "[ $code -eq 3 ]" "run's result lines into /dev/full exit 3 (got $code)"
has "$tmp/full.err" "No space left on device" "the reason is named"
"$RL" run counter.atomic --json /dev/stdout >"$tmp/devout" 2>/dev/null
check "grep -q racelab-results/1 '$tmp/devout'" "--json /dev/stdout writes in place"

# ---- Ctrl-C in the middle of one of several scenarios, in this process:
# the signal goes once the first scenario is reported done (the second,
# unbounded without reduction, runs thousands of executions).
for sig in INT TERM HUP; do
    setsid "$RL" run --jobs 1 --preemptions -1 --reduction none \
        cloexec_leak.cloexec counter.locked \
        --json "$tmp/int1.json" >"$tmp/int1.out" 2>"$tmp/int1.err" &
    pid=$!
    wait_for "$tmp/int1.err" "1/2 done"
    kill -$sig "$pid"
    wait "$pid"
    code=$?
    want=$((128 + $(kill -l $sig)))
    check "[ $code -eq $want ]" "SIG$sig of an in-process run exits $want (got $code)"
    check "python3 -c '
import json
d=json.load(open(\"$tmp/int1.json\"))[\"scenarios\"]
names=[s[\"name\"] for s in d]
# On a slow machine counter.locked may not have ended one execution.
assert names in ([\"cloexec_leak.cloexec\", \"counter.locked\"], [\"cloexec_leak.cloexec\"]), names
assert not d[0][\"interrupted\"], d[0]
for s in d[1:]:
    assert s[\"interrupted\"] and s[\"verdict\"]==\"PASS\" and not s[\"exhausted\"] and not s[\"as_expected\"], s
'" "SIG$sig: the scenario that ended is whole, the one cut short is marked interrupted"
done
if grep -q '"counter.locked"' "$tmp/int1.json"; then
    has "$tmp/int1.out" "INTERRUPTED" "the terminal marks the scenario cut short"
    check "! grep -q 'counter.locked .*PASS' '$tmp/int1.out'" "the scenario cut short is not shown as PASS"
    expect 1 "report of interrupted results is not as expected" -- \
        "$RL" report "$tmp/int1.json" --json "$tmp/int1r.json" --junit "$tmp/int1r.xml"
    has "$tmp/out" "INTERRUPTED" "report keeps the mark on the terminal"
    check "python3 -c '
import json
d=json.load(open(\"$tmp/int1r.json\"))[\"scenarios\"]
assert [s[\"interrupted\"] for s in d]==[False, True], d
'" "report keeps the mark in the JSON"
    check "grep -q '<skipped message=\"interrupted after' '$tmp/int1r.xml'" "report marks it skipped in JUnit"
    expect 1 "report --tap of interrupted results" -- "$RL" report --tap "$tmp/int1.json"
    has "$tmp/out" "# SKIP interrupted after" "report marks it in TAP"
fi

# ---- replay --stop-at: every actor stopped, its pid printed, and the rest
# of the schedule runs to the same verdict once continued
tok='counter.unlocked@0x3.1x4.2x1'
expect 0 "replay --timeout 0 (no wall clock)" -- "$RL" replay "$tok" --timeout 0
cp "$tmp/out" "$tmp/plain-replay"
has "$tmp/out" "FAIL counter is 2, expected 4" "replay --timeout 0 gives the verdict"
# stop_at_replay HOW: replays stopped before step 4, checks that every
# printed pid is a stopped process, then continues HOW: "racelab" (SIGCONT
# to racelab) or "actors" (SIGCONT to each actor).
stop_at_replay() {
    : >"$tmp/stop.err"
    "$RL" replay "$tok" --stop-at 4 </dev/null >"$tmp/stop.out" 2>"$tmp/stop.err" &
    local pid=$! stopped=0 total=0 p st
    wait_for "$tmp/stop.err" "continue with: kill -CONT $pid"
    has "$tmp/stop.err" "stopped before step 4, which actor 1 (process-1) takes" \
        "--stop-at names the step and who takes it ($1)"
    local pids
    pids=$(sed -n 's/.* pid \([0-9][0-9]*\).*/\1/p' "$tmp/stop.err")
    for p in $pids; do
        total=$((total + 1))
        st=$(sed 's/.*) //' "/proc/$p/stat" | cut -d' ' -f1)
        [ "$st" = T ] && stopped=$((stopped + 1))
    done
    check "[ $total -eq 3 ] && [ $stopped -eq $total ]" \
        "--stop-at: the $total actors printed are stopped processes ($stopped in state T)"
    if [ "$1" = racelab ]; then
        kill -CONT "$pid"
    else
        kill -CONT $pids
    fi
    wait "$pid"
    local code=$?
    check "[ $code -eq 0 ]" "--stop-at continued by SIGCONT to the $1: exit $code"
    check "cmp -s '$tmp/stop.out' '$tmp/plain-replay'" \
        "--stop-at continued by SIGCONT to the $1: the same verdict"
    has "$tmp/stop.err" "continuing from step 4" "the replay says it goes on ($1)"
    for p in $pids; do
        check "[ ! -e /proc/$p ]" "actor $p is gone once the replay ended ($1)"
    done
}
stop_at_replay racelab
stop_at_replay actors
expect 0 "replay --stop-at past the end" -- "$RL" replay "$tok" --stop-at 1000
has "$tmp/err" "before step 1000: it never stopped" "a stop never reached is said"
expect 2 "replay --stop-at of a negative step" -- "$RL" replay "$tok" --stop-at -1
expect 2 "minimize takes no --stop-at" -- "$RL" minimize "$tok" --stop-at 3

# ---- bash completion, made from the option table: commands, options,
# their values and scenario names (from the program's list)
comp="$BUILD/completion/racelab.bash"
# complete WORD...: what _racelab offers for the last word.
complete_words() {
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _racelab; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@" 2>&1 |
        sort | tr '\n' ' ' | sed 's/ $//'
}
if [ -f "$comp" ]; then
    check "[ \"\$(complete_words '$RL' ru)\" = run ]" "completion of a command"
    check "[ \"\$(complete_words '$RL' re)\" = 'replay report' ]" "completion of commands"
    check "[ \"\$(complete_words '$RL' run --mo)\" = --mode ]" "completion of an option"
    check "[ \"\$(complete_words '$RL' run --mode '')\" = 'explore pct random stress' ]" \
        "completion of an option's values"
    check "[ \"\$(complete_words '$RL' stress --unt)\" = --until-failure ]" \
        "completion of a command's own option"
    check "[ -z \"\$(complete_words '$RL' list --unt)\" ]" \
        "no completion of an option the command does not take"
    check "[ \"\$(complete_words '$RL' run counter.un)\" = counter.unlocked ]" \
        "completion of a scenario name"
    check "[ \"\$(complete_words '$RL' replay counter.unl)\" = counter.unlocked@ ]" \
        "completion of a token's scenario"
    check "[ \"\$(complete_words '$RL' help mi)\" = minimize ]" "completion after help"
    missing=
    for o in $("$RL" run --help | sed -n 's/^  --\([a-z-]*\).*/\1/p'); do
        complete_words "$RL" run "--$o" | grep -qx -- "--$o" || missing="$missing --$o"
    done
    check "[ -z '$missing' ]" "every option of run --help completes${missing:+ (not$missing)}"
    if command -v zsh >/dev/null; then
        check "zsh -n '$BUILD/completion/_racelab'" "the zsh completion parses"
    fi
else
    echo "FAIL: no $comp (make completion)"
    fails=$((fails + 1))
fi

# ---- a user's own program calling rl_main names itself, and leaves its
# locale alone
san=""
if nm "$BUILD/libracelab.a" 2>/dev/null | grep -q ' U __asan_init\| U __asan_report'; then
    san="-fsanitize=address,undefined"
fi
if nm "$BUILD/libracelab.a" 2>/dev/null | grep -q ' U __gcov_init'; then
    san="$san --coverage"
fi
mkdir -p "$tmp/user"
# shellcheck disable=SC2086 # san holds several flags or none
if ${CC:-cc} -std=c11 -D_GNU_SOURCE -Ilib $san -o "$tmp/user/bank" tests/data/bank.c \
    "$BUILD/libracelab.a" -lunwind-ptrace -lunwind-generic -lunwind -lpthread -lm \
    2>"$tmp/user/cc.err"; then
    expect 0 "bank --version" -- "$tmp/user/bank" --version
    has "$tmp/out" "bank (built with racelab " "a user's program names itself in --version"
    expect 0 "bank run --help" -- "$tmp/user/bank" run --help
    check "head -1 '$tmp/out' | grep -q '^usage: bank run '" "a user's program names itself in the usage"
    expect 0 "bank --help" -- "$tmp/user/bank" --help
    has "$tmp/out" "bank COMMAND --help prints the options" "a user's program names itself in the help"
    expect 2 "bank with an unknown command" -- "$tmp/user/bank" frobnicate
    has "$tmp/err" "bank: unknown command 'frobnicate' (see bank --help)" "a user's program names itself in messages"
    (cd "$tmp/user" && ./bank run --jobs 1 >out 2>err)
    check "[ $? -eq 0 ]" "bank run finds its bug"
    has "$tmp/user/out" "replay: ./bank replay 'bank.racy@" "the replay hint runs the program as it was run"
    has "$tmp/user/err" "bank: reproduce with: ./bank run --jobs 1 --seed" "so does reproduce with"
    hint=$(sed -n "s/^ *replay: \(.*\)$/\1/p" "$tmp/user/out" | head -1)
    (cd "$tmp/user" && eval "$hint" >replay.out 2>&1)
    check "[ $? -eq 0 ] && grep -q '^RACE data race: .*(bank.c:17)' '$tmp/user/replay.out'" \
        "the hinted command replays the failure (the race)"
    # rl_main formats in the C locale without changing the program's.
    BANK_LOCALE=C.UTF-8 "$tmp/user/bank" list >/dev/null 2>"$tmp/user/loc.err"
    check "[ $? -eq 0 ]" "rl_main leaves LC_NUMERIC as the program set it"
    has "$tmp/user/loc.err" "LC_NUMERIC is C.UTF-8" "the program's locale after rl_main"
    mkdir -p "$tmp/loc"
    if command -v localedef >/dev/null &&
        localedef -i de_DE -f UTF-8 "$tmp/loc/de_DE.UTF-8" >/dev/null 2>&1; then
        LOCPATH="$tmp/loc" BANK_LOCALE=de_DE.UTF-8 "$tmp/user/bank" run --jobs 1 \
            --json "$tmp/user/de.json" >"$tmp/user/de.out" 2>"$tmp/user/de.err"
        check "[ $? -eq 0 ]" "a program in a comma locale runs (exit 0)"
        has "$tmp/user/de.err" "1.5 prints as 1,5" "its own numbers keep its locale"
        check "python3 -m json.tool '$tmp/user/de.json' >/dev/null" "its JSON is valid"
        check "grep -q '\"duration_s\": [0-9]*\\.[0-9]' '$tmp/user/de.json'" \
            "its JSON numbers have a decimal point"
        check "grep -q ' [0-9]*\\.[0-9]*s ' '$tmp/user/de.out'" \
            "its result lines have a decimal point"
    else
        echo "skip: no de_DE locale can be made here (localedef)"
    fi
else
    echo "FAIL: a user's program does not build against $BUILD/libracelab.a"
    sed 's/^/  /' "$tmp/user/cc.err" | head -5
    fails=$((fails + 1))
fi

# ---- the process limit: named, not a bare EAGAIN
if [ "$(id -u)" = 0 ] && command -v su >/dev/null && id nobody >/dev/null 2>&1; then
    cp "$RL" "$tmp/rl-nproc" && chmod 755 "$tmp" "$tmp/rl-nproc"
    su nobody -s /bin/bash -c "ulimit -u 1 && exec '$tmp/rl-nproc' run counter.locked --jobs 1" >"$tmp/out" 2>&1
    st=$?
    [ "$st" -eq 1 ] && echo "ok: a fork past ulimit -u (exit 1)" ||
        { echo "FAIL: a fork past ulimit -u exited $st"; fails=$((fails + 1)); }
    has "$tmp/out" "the process limit (RLIMIT_NPROC 1, ulimit -u" "the process limit is named"
    check "grep -q '^UNEXPECTED counter.locked *ERROR' '$tmp/out'" "the scenario's verdict is ERROR"
else
    echo "skip: the process-limit check needs root, su and the user nobody"
fi

if [ "$fails" -gt 0 ]; then
    echo "test_cli: $fails check(s) failed"
    exit 1
fi
echo "test_cli: all checks passed"
