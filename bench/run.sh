#!/usr/bin/env bash
# run.sh: runs every benchmark program in BUILD/bench/, collects their JSON
# metric lines with the host's description into BUILD/bench/results.json
# (schema racelab-bench/1) and prints a table.
#
#   bench/run.sh BUILD [--smoke] [--out FILE]
#
# --smoke runs each program once on tiny inputs (numbers meaningless);
# --out writes the results elsewhere. Exit status 0 when every program ran,
# 1 when one failed (its metrics are missing), 2 on bad usage. Missed
# targets are reported, never an error.
set -u
export LC_ALL=C

usage() {
    echo "usage: $0 BUILD [--smoke] [--out FILE]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
build=$1
shift
smoke=()
out="$build/bench/results.json"
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) smoke=(--smoke) ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift ;;
    *) usage ;;
    esac
    shift
done
[ -d "$build/bench" ] || { echo "$0: no $build/bench (make first)" >&2; exit 2; }
command -v python3 >/dev/null ||
    { echo "$0: python3 is needed to write the results" >&2; exit 2; }

export RACELAB="$build/racelab"
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
failed=()
for b in "$build"/bench/*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    name=$(basename "$b")
    echo "== $name ${smoke[*]}" >&2
    # Only the JSON lines count; anything else on stdout goes to stderr.
    if ! "$b" "${smoke[@]}" > "$lines.one"; then
        failed+=("$name")
    fi
    grep '^{' "$lines.one" >> "$lines"
    grep -v '^{' "$lines.one" >&2
    rm -f "$lines.one"
done

cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
kernel=$(uname -sr)
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo |
    head -n 1)
[ -n "$cpu" ] || cpu=$(uname -m)

mkdir -p "$(dirname "$out")"
python3 - "$lines" "$out" "$cores" "$kernel" "$cpu" "${#smoke[@]}" \
    "${failed[*]:-}" <<'EOF'
import json, os, sys, time

lines, out, cores, kernel, cpu, smoke, failed = sys.argv[1:8]
metrics = []
for line in open(lines):
    m = json.loads(line)
    t, r = m.get("target"), m.get("ratio")
    met = None
    if t and r is not None:
        op, v = t.split()
        met = r <= float(v) if op == "<=" else r >= float(v)
    m["met"] = met
    metrics.append(m)
doc = {
    "schema": "racelab-bench/1",
    "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "smoke": smoke != "0",
    "host": {"cores": int(cores), "kernel": kernel, "cpu": cpu},
    "failed_programs": failed.split(),
    "metrics": metrics,
}
tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(tmp, out)

def num(v):
    if v is None:
        return "-"
    if abs(v) >= 1e5:
        return "%.3g" % v
    return "%.4g" % v

print("racelab benchmarks on %s cores, %s, %s%s" %
      (cores, cpu, kernel, " (--smoke: numbers meaningless)"
       if smoke != "0" else ""))
rows = [("metric", "value", "unit", "baseline", "ratio", "target", "met?")]
for m in metrics:
    met = {True: "yes", False: "NO", None: "-"}[m["met"]]
    rows.append((m["name"], num(m["value"]), m["unit"] or "",
                 num(m["baseline_value"]), num(m["ratio"]),
                 m["target"] or "-", met))
w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
for r in rows:
    print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
print()
for m in metrics:
    if m.get("note"):
        print("%s: %s" % (m["name"], m["note"]))
print("\nresults: %s" % out)
EOF
rc=$?
[ $rc -eq 0 ] || exit 1
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
exit 0
