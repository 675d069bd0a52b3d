#!/usr/bin/env bash
# test_bench_smoke.sh: runs every benchmark program in $BUILD/bench/ once
# with --smoke and checks that each prints well-formed metric lines, then
# that bench/run.sh collects them into a racelab-bench/1 document. No
# timing is asserted: the numbers of a smoke run mean nothing.
set -euo pipefail
BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
export RACELAB="$BUILD/racelab"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_lines='
import json, sys
need = ("name", "value", "unit", "baseline", "baseline_value", "ratio",
        "target", "note")
n = 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    missing = [k for k in need if k not in m]
    if missing:
        sys.exit("missing %s in %s" % (missing, line.strip()))
    if not isinstance(m["name"], str) or not m["name"]:
        sys.exit("no name in " + line.strip())
    for k in ("value", "baseline_value", "ratio"):
        if m[k] is not None and not isinstance(m[k], (int, float)):
            sys.exit("%s is not a number in %s" % (k, line.strip()))
    n += 1
if n == 0:
    sys.exit("no metric line")
print(n)
'

count=0
for b in "$BUILD"/bench/*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    name=$(basename "$b")
    if ! "$b" --smoke > "$tmp/$name.out" 2> "$tmp/$name.err"; then
        echo "FAIL: $name --smoke exited non-zero:"
        cat "$tmp/$name.err"
        exit 1
    fi
    if grep -v '^{' "$tmp/$name.out" | grep . >/dev/null; then
        echo "FAIL: $name printed something other than JSON lines:"
        grep -v '^{' "$tmp/$name.out"
        exit 1
    fi
    if ! n=$(python3 -c "$check_lines" "$tmp/$name.out"); then
        echo "FAIL: $name: bad metric lines"
        exit 1
    fi
    echo "ok $name: $n metrics"
    count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "FAIL: no benchmark program in $BUILD/bench"; exit 1; }

"$here/bench/run.sh" "$BUILD" --smoke --out "$tmp/results.json" \
    > "$tmp/table" 2> "$tmp/run.err" ||
    { echo "FAIL: bench/run.sh --smoke"; cat "$tmp/run.err"; exit 1; }
python3 - "$tmp/results.json" <<'EOF' || exit 1
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == "racelab-bench/1", doc["schema"]
assert doc["host"]["cores"] >= 1 and doc["host"]["kernel"], doc["host"]
names = {m["name"] for m in doc["metrics"]}
for want in ("handoff_ratio", "execution_ratio", "explore_rate",
             "explore_jobs_speedup", "pool_vs_python", "stress_vs_xargs",
             "time_to_detect"):
    assert want in names, "no metric " + want
for m in doc["metrics"]:
    assert m["met"] in (True, False, None), m
EOF
grep -q '^handoff_ratio ' "$tmp/table" ||
    { echo "FAIL: bench/run.sh printed no table"; cat "$tmp/table"; exit 1; }
echo "ok bench/run.sh: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["metrics"]))' "$tmp/results.json") metrics in racelab-bench/1"
