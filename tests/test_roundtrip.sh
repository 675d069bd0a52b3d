#!/usr/bin/env bash
# test_roundtrip.sh: `racelab report FILE.json` renders the same HTML, JUnit
# and TAP as the run that wrote FILE.json: the results file holds
# everything a report shows.
set -u
BUILD=${BUILD:-build}
RL="$BUILD/racelab"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# roundtrip NAME -- ARGS...: runs racelab with ARGS writing $tmp/NAME/r.json,
# r.html, r.xml and TAP on stdout, then renders the JSON again with racelab
# report and compares the pages byte for byte. The run must end with 0 or
# 1 (whether a stress run sees its bug is chance), and report with the
# same status.
roundtrip() {
    local name=$1
    shift 2
    local d="$tmp/$name"
    mkdir -p "$d/again"
    # The outputs go right after the command word: stress takes its
    # options before "--".
    "$RL" "$1" --json "$d/r.json" --html "$d/r.html" --junit "$d/r.xml" \
        --tap "${@:2}" >"$d/r.tap" 2>"$d/err"
    local want=$?
    if [ "$want" -gt 1 ]; then
        echo "FAIL: $name: the run exited $want"
        sed 's/^/  err: /' "$d/err" | tail -5
        fails=$((fails + 1))
        return
    fi
    "$RL" report --html "$d/again/r.html" --junit "$d/again/r.xml" \
        --json "$d/again/r.json" --tap "$d/r.json" >"$d/again/r.tap" \
        2>"$d/again/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $name: report exited $got, expected $want"
        sed 's/^/  err: /' "$d/again/err" | tail -5
        fails=$((fails + 1))
    fi
    # Nothing is normalised: the pages hold no clock or host of their own
    # (started_at, the durations and the seed come from the file), so a
    # report of the file must write exactly what the run wrote.
    for f in r.html r.xml r.tap; do
        if cmp -s "$d/$f" "$d/again/$f"; then
            echo "ok: $name: $f of report equals the run's"
        else
            echo "FAIL: $name: $f of report differs from the run's"
            diff "$d/$f" "$d/again/$f" | head -20 | sed 's/^/  /'
            fails=$((fails + 1))
        fi
    done
    # The JSON written again holds the same results (tool and host
    # describe the racelab that wrote it and are the same here too).
    if cmp -s "$d/r.json" "$d/again/r.json"; then
        echo "ok: $name: r.json of report equals the run's"
    else
        echo "FAIL: $name: r.json of report differs from the run's"
        diff "$d/r.json" "$d/again/r.json" | head -20 | sed 's/^/  /'
        fails=$((fails + 1))
    fi
}

# Explore with a bound of 2 that finds the bug (and a clean scenario of the
# same family, so the suite sums two cases), one bounded by delays, PCT,
# stress of scenarios, and stress of an external command.
roundtrip explore -- run --preemptions 2 --jobs 1 'counter.unlocked' \
    'counter.locked'
roundtrip delays -- run --bound delays --preemptions 2 --jobs 1 \
    --reduction none 'counter.unlocked'
roundtrip explore-jobs -- run --preemptions 2 --jobs 2 'pipe_eof.*' \
    'lost_wakeup.predicate'
roundtrip pct -- run --mode pct --seed 7 --runs 30 --jobs 1 \
    'counter.unlocked'
roundtrip stress -- run --mode stress --seed 3 --runs 20 --jobs 2 \
    'counter.unlocked' 'counter.atomic'
roundtrip command -- stress --seed 5 --runs 12 --jobs 2 \
    -- tests/data/sometimes.sh

if [ "$fails" -gt 0 ]; then
    echo "test_roundtrip: $fails failed"
    exit 1
fi
echo "test_roundtrip: all passed"
