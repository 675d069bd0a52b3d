#!/usr/bin/env bash
# test_plain_catalogue.sh: the catalogue built without its annotations
# (RL_LOAD/RL_STORE as plain C accesses, made schedule points by the
# compiler's instrumentation: build/racelab-plain) finds the same bugs as
# the annotated catalogue: the same verdict and the same "as expected" for
# every scenario whose source the build changes (the families that use
# RL_LOAD, RL_STORE or RL_FETCH_ADD), explored with the same options.
set -u
BUILD=${BUILD:-build}
RL=$BUILD/racelab
PLAIN=$BUILD/racelab-plain
if [ ! -x "$PLAIN" ]; then
    echo "SKIP: $PLAIN not built (no gcc or clang with -fsanitize=thread)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

families=()
for f in $(grep -lE 'RL_(LOAD|STORE|FETCH_ADD)\(' scenarios/*.c); do
    families+=("$(basename "$f" .c).*")
done
if [ ${#families[@]} -lt 5 ]; then
    echo "FAIL: only ${#families[@]} annotated families found in scenarios/"
    exit 1
fi
"$RL" run --jobs 2 --seed 1 --json "$tmp/annotated.json" "${families[@]}" \
    >/dev/null 2>&1
a=$?
"$PLAIN" run --jobs 2 --seed 1 --json "$tmp/plain.json" "${families[@]}" \
    >"$tmp/plain.out" 2>&1
p=$?
fails=0
if [ $a -ne 0 ] || [ $p -ne 0 ]; then
    echo "FAIL: exit codes: annotated $a, plain $p (0 expected: every"
    echo "      scenario as expected)"
    cat "$tmp/plain.out"
    fails=1
fi
python3 - "$tmp/annotated.json" "$tmp/plain.json" <<'PY' || fails=1
import json, sys
a = {s["name"]: s for s in json.load(open(sys.argv[1]))["scenarios"]}
p = {s["name"]: s for s in json.load(open(sys.argv[2]))["scenarios"]}
bad = 0
if sorted(a) != sorted(p):
    print("FAIL: the scenarios differ:", sorted(set(a) ^ set(p)))
    bad = 1
for name in sorted(set(a) & set(p)):
    x, y = a[name], p[name]
    if (x["verdict"], x["as_expected"]) != (y["verdict"], y["as_expected"]):
        print(f"FAIL: {name}: annotated {x['verdict']} "
              f"(as expected: {x['as_expected']}), plain {y['verdict']} "
              f"(as expected: {y['as_expected']})")
        bad = 1
if not bad:
    bugs = sum(1 for s in p.values() if s["verdict"] != "PASS")
    print(f"ok: {len(p)} scenarios, the same verdicts unannotated "
          f"({bugs} bugs found)")
sys.exit(bad)
PY
exit $fails
