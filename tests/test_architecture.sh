#!/usr/bin/env bash
# test_architecture.sh: the structure docs/architecture.md promises holds:
# layers include only downwards, no file over 800 lines, no function over
# 120 lines (tools/checkarch.py).
set -u
cd "$(dirname "$0")/.."
if out=$(python3 tools/checkarch.py .); then
    echo "ok: layers, file and function sizes"
    exit 0
fi
echo "$out" | sed 's/^/FAIL: /'
exit 1
