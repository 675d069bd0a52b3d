#!/usr/bin/env bash
# test_html_render.sh: renders an HTML report of the counter scenarios
# with headless Chromium and checks that the screenshot shows a page.
# Skips (exit 0) when no browser is installed.
set -u
BUILD=${BUILD:-build}

browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then
        browser=$b
        break
    fi
done
if [ -z "$browser" ]; then
    echo "SKIP: no chromium"
    exit 0
fi

dir=$(mktemp -d)
profile=$(mktemp -d)
cleanup() {
    rm -rf "$dir" "$profile"
}
trap cleanup EXIT
html=$dir/report.html
png=$dir/report.png

# The real binary when it has --html; until then the hand-built report of
# check_reports, which writes it on request.
if "$BUILD/racelab" run --help 2>/dev/null | grep -- '--html' >/dev/null; then
    "$BUILD/racelab" run 'counter.*' --seed 1 --html "$html" >/dev/null 2>&1
    st=$?
    if [ $st -ne 0 ] && [ $st -ne 1 ]; then
        echo "FAIL: racelab run --html exited with $st"
        exit 1
    fi
    echo "report of: racelab run 'counter.*' --html"
else
    RL_HTML_OUT=$html CK_RUN_CASE=html "$BUILD/tests/check_reports" \
        >/dev/null 2>&1
    echo "report of: the hand-built model of check_reports" \
         "(racelab run has no --html yet)"
fi
if [ ! -s "$html" ]; then
    echo "FAIL: no HTML report was written"
    exit 1
fi
if grep -qiE '<script|https?://' "$html"; then
    echo "FAIL: the report has a script or a network reference"
    exit 1
fi

# Chromium in a process group of its own (job control on), so that
# whatever it leaves running (its crash handler) ends with it.
set -m
timeout -k 5 60 "$browser" --headless --no-sandbox --disable-gpu \
    --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-breakpad \
    --user-data-dir="$profile" --screenshot="$png" \
    --window-size=1280,2000 "file://$html" >"$dir/chromium.log" 2>&1 &
cpid=$!
wait $cpid
st=$?
kill -KILL -- -"$cpid" 2>/dev/null
set +m
if [ $st -ne 0 ] || [ ! -s "$png" ]; then
    echo "FAIL: $browser did not write a screenshot (status $st):"
    tail -5 "$dir/chromium.log"
    exit 1
fi

size=$(stat -c %s "$png")
if [ "$size" -lt 20000 ]; then
    echo "FAIL: the screenshot is only $size bytes"
    exit 1
fi
# Not a page of one colour: count the distinct colours of the pixels
# (PNG decoded with zlib alone, so no imaging library is needed).
colors=$(python3 - "$png" <<'EOF' 2>/dev/null
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
pos, idat, w, h, bpp = 8, b'', 0, 0, 0
while pos < len(data):
    n, = struct.unpack('>I', data[pos:pos + 4])
    kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
        bpp = {2: 3, 6: 4, 0: 1, 4: 2}[ctype] * depth // 8
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride, prev, seen = w * bpp, bytearray(w * bpp), set()
for y in range(min(h, 500)):  # the top of the page is enough
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1:
            line[i] = (line[i] + a) & 255
        elif f == 2:
            line[i] = (line[i] + b) & 255
        elif f == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + pr) & 255
    if y % 8 == 0:
        for x in range(0, stride, bpp * 4):
            seen.add(bytes(line[x:x + bpp]))
    prev = line
print(len(seen))
EOF
)
if [ -n "$colors" ]; then
    if [ "$colors" -lt 8 ]; then
        echo "FAIL: the screenshot has only $colors colours"
        exit 1
    fi
    echo "ok: screenshot of $size bytes, $colors colours sampled"
else
    echo "ok: screenshot of $size bytes (colours not counted: no python3)"
fi
if [ -n "${RL_KEEP_SCREENSHOT:-}" ]; then
    cp "$png" "$RL_KEEP_SCREENSHOT"
fi
exit 0
