#!/usr/bin/env bash
# test_html_render.sh: renders HTML reports with headless Chromium and
# checks what the browser made of them: the DOM of the timelines (private
# accesses never conflicting, the failure mark on the failing step,
# preemptions as the results file has them, identical steps folded,
# anchors named after scenarios) and, in screenshots, that the page has
# colours and that the timeline spans the page's width. Skips (exit 0)
# when no browser is installed.
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
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: no python3"
    exit 0
fi

dir=$(mktemp -d)
profile=$(mktemp -d)
cleanup() {
    rm -rf "$dir" "$profile"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}

# A report of a run: a FAIL with a preemption (counter.unlocked), a
# LIVELOCK on a private copy (end_flag.private), a DEADLOCK
# (pipe_eof.open).
"$BUILD/racelab" run --races off counter.unlocked end_flag.private pipe_eof.open \
    --seed 1 --json "$dir/run.json" --html "$dir/run.html" \
    >"$dir/run.log" 2>&1
st=$?
if [ $st -ne 0 ] && [ $st -ne 1 ]; then
    tail -5 "$dir/run.log"
    fail "racelab run --html exited with $st"
fi
# The hand-built model of check_reports, with a livelock of 200
# identical steps.
# (Its own checks are check_reports' business: only the page counts here.)
RL_HTML_OUT=$dir/model.html CK_RUN_CASE=html "$BUILD/tests/check_reports" \
    >"$dir/check.log" 2>&1
for f in run.html model.html; do
    [ -s "$dir/$f" ] || fail "no HTML report $f was written"
    if grep -qiE '<script|https?://' "$dir/$f"; then
        fail "$f has a script or a network reference"
    fi
done

# Runs the browser on page $1 with the options after it, in a process
# group of its own (job control on), so that whatever it leaves running
# (its crash handler) ends with it. Its output goes to $dir/out.
browse() {
    local page=$1
    shift
    set -m
    timeout -k 5 90 "$browser" --headless --no-sandbox --disable-gpu \
        --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --disable-breakpad \
        --user-data-dir="$profile" "$@" "file://$page" \
        >"$dir/out" 2>"$dir/browser.log" &
    local cpid=$!
    wait $cpid
    local st=$?
    kill -KILL -- -"$cpid" 2>/dev/null
    set +m
    if [ $st -ne 0 ]; then
        tail -5 "$dir/browser.log"
        fail "$browser exited with $st on $page"
    fi
}

# ---- the DOM, as the browser built it ----
browse "$dir/run.html" --dump-dom
cp "$dir/out" "$dir/run.dom"
browse "$dir/model.html" --dump-dom
cp "$dir/out" "$dir/model.dom"
python3 - "$dir/run.dom" "$dir/run.json" "$dir/model.dom" <<'EOF' || exit 1
import json, re, sys
from html.parser import HTMLParser

class Page(HTMLParser):
    """The sections, their timelines' boxes, and the summary's links."""
    def __init__(self):
        super().__init__()
        self.sections, self.links, self.stack = {}, [], []
        self.section = None
        self.box = None
        self.in_details = 0
        self.legends = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get('class') or '').split()
        if tag == 'section':
            self.section = a.get('id')
            self.sections[self.section] = {'boxes': [], 'rows': 0}
        if tag == 'a' and (a.get('href') or '').startswith('#'):
            self.links.append(a['href'][1:])
        if tag == 'details':
            self.in_details += 1
        if self.section and 'tl-row' in cls and not self.in_details:
            self.sections[self.section]['rows'] += 1
        if self.section and tag == 'i' and 'key' in cls:
            self.legends.setdefault(self.section, set()).update(cls)
        if self.section and tag == 'span' and 'step' in cls:
            self.box = {'cls': set(cls), 'text': '',
                        'step': int(a['data-step']) if 'data-step' in a
                        else None,
                        'actor': int(a['data-actor']),
                        'count': int(a.get('data-count') or 1),
                        'title': a.get('title') or ''}
            self.sections[self.section]['boxes'].append(self.box)
    def handle_endtag(self, tag):
        if tag == 'section':
            self.section = None
        if tag == 'details':
            self.in_details -= 1
        if tag == 'span':
            self.box = None
    def handle_data(self, data):
        if self.box is not None:
            self.box['text'] += data

def parse(path):
    p = Page()
    p.feed(open(path, encoding='utf-8').read())
    return p

bad = []
def check(ok, what):
    if not ok:
        bad.append(what)

run, model = parse(sys.argv[1]), parse(sys.argv[3])
results = {s['name']: s for s in json.load(open(sys.argv[2]))['scenarios']}

# Anchors: one per scenario, named after it, and the summary links there.
names = sorted(results)
check(sorted(run.sections) == names,
      'section ids %s, not the scenario names %s' % (sorted(run.sections),
                                                      names))
check(sorted(set(run.links)) == names, 'the summary links to %s' %
      sorted(set(run.links)))

def singles(sec):
    """The boxes of single steps (a folded run's steps unfolded)."""
    return [b for b in sec['boxes'] if b['step'] is not None and
            b['count'] == 1]

for name, r in results.items():
    sec = run.sections.get(name)
    steps = r['first_failure']['steps']
    if sec is None or not steps:
        check(False, '%s: no timeline' % name)
        continue
    one = singles(sec)
    check(sorted(b['step'] for b in one) == list(range(len(steps))),
          '%s: not one box per step' % name)
    # Preemptions: the steps the results file says.
    want = {s['step'] for s in steps if s.get('preemption')}
    got = {b['step'] for b in one if 'preemption' in b['cls']}
    check(got == want, '%s: preemption marks on %s, the results file says '
          '%s' % (name, sorted(got), sorted(want)))
    check('preemption' in run.legends.get(name, set()),
          '%s: no preemption in the legend' % name)

# counter.unlocked was found with a preemption.
cu = run.sections.get('counter.unlocked', {'boxes': []})
check(any('preemption' in b['cls'] for b in cu['boxes']),
      'counter.unlocked: no preemption marked')
# Its failure mark is on the check that failed, in the lane of the
# actor the message names, after every step; on no step.
m = re.search(r'\(actor (\d+) at ([^)]*)\)$',
              results['counter.unlocked']['first_failure']['message'])
failing = [b for b in cu['boxes'] if 'failing' in b['cls']]
check(m and len(failing) == 1 and 'check' in failing[0]['cls'] and
      failing[0]['actor'] == int(m.group(1)) and
      failing[0] is cu['boxes'][-1] and m.group(2) in failing[0]['text'],
      'counter.unlocked: the failure mark is on %s' %
      [(b['step'], b['text']) for b in failing])

# end_flag.private: its accesses are to private copies: none conflicts.
ef = run.sections.get('end_flag.private', {'boxes': []})
steps = results['end_flag.private']['first_failure']['steps']
check(any(s['shared'] is False for s in steps),
      'end_flag.private: no private access in the results file')
check(not any('conflict' in b['cls'] for b in ef['boxes']),
      'end_flag.private: a private access is marked as a conflict')

# pipe_eof.open: the marks are on the waits of the deadlocked actors.
po = run.sections.get('pipe_eof.open', {'boxes': []})
ff = results['pipe_eof.open']['first_failure']
last = {}
for s in ff['steps']:
    last[s['actor']] = s['step']
want = {last[a['id']] for a in ff['actors'] if a['state'] == 'blocked'}
got = {b['step'] for b in singles(po) if 'failing' in b['cls']}
check(want and got == want, 'pipe_eof.open: failure marks on %s, the '
      'waits are %s' % (sorted(got), sorted(want)))

# The hand-built livelock: 200 identical loads are one row "x200" (that
# unfolds to each of them), the timeline a handful of rows.
ph = model.sections.get('pipe.hang', {'boxes': [], 'rows': 0})
folded = [b for b in ph['boxes'] if b['count'] == 200]
check(len(folded) == 1 and '\u00d7200' in folded[0]['text'],
      'pipe.hang: no row folds the 200 identical steps')
check(0 < ph['rows'] <= 6, 'pipe.hang: %d rows shown' % ph['rows'])
check(len(singles(ph)) == 203, 'pipe.hang: the fold does not unfold')

for b in bad:
    print('FAIL:', b)
if bad:
    sys.exit(1)
print('ok: DOM of %d timelines checked' % (len(run.sections) + 1))
EOF

# ---- screenshots ----
# A PNG decoded with zlib alone (no imaging library needed), its first
# $2 rows (all by default): prints the number of distinct colours sampled
# in the top 500 rows, and how far right a coloured pixel reaches, as a
# share of the width.
cat >"$dir/png.py" <<'EOF'
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
stride, prev, seen, right = w * bpp, bytearray(w * bpp), set(), 0
for y in range(min(h, int(sys.argv[2])) if len(sys.argv) > 2 else h):
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
    if y < 500 and y % 8 == 0:
        for x in range(0, stride, bpp * 4):
            seen.add(bytes(line[x:x + bpp]))
    if bpp >= 3 and y % 2 == 0:
        # coloured: far from grey (the lanes and borders are grey)
        for x in range(w - 1, right, -1):
            px = line[x * bpp:x * bpp + 3]
            if max(px) - min(px) > 60:
                right = x
                break
    prev = line
print(len(seen), '%.3f' % (right / w))
EOF

browse "$dir/run.html" --screenshot="$dir/page.png" --window-size=1280,2000
[ -s "$dir/page.png" ] || fail "$browser wrote no screenshot"
size=$(stat -c %s "$dir/page.png")
[ "$size" -ge 20000 ] || fail "the screenshot is only $size bytes"
read -r colors _ < <(python3 "$dir/png.py" "$dir/page.png" 500)
[ "${colors:-0}" -ge 8 ] || fail "the screenshot has only $colors colours"
echo "ok: screenshot of $size bytes, $colors colours sampled"

# The width: the same page with everything but the timelines hidden; the
# timeline's coloured boxes (the last lane's) reach past 80% of the
# window's width.
only='body>:not(section),section>:not(.timeline):not(.svgwrap)'
sed "s|</head>|<style>$only{display:none!important}</style></head>|" \
    "$dir/run.html" >"$dir/lanes.html"
browse "$dir/lanes.html" --screenshot="$dir/lanes.png" --window-size=1280,900
[ -s "$dir/lanes.png" ] || fail "$browser wrote no screenshot of the lanes"
read -r _ reach < <(python3 "$dir/png.py" "$dir/lanes.png")
python3 -c "import sys; sys.exit(float(sys.argv[1]) <= 0.8)" "${reach:-0}" ||
    fail "the timeline reaches only ${reach:-0} of the page's width"
echo "ok: the timeline reaches $reach of the page's width"
if [ -n "${RL_KEEP_SCREENSHOT:-}" ]; then
    cp "$dir/page.png" "$RL_KEEP_SCREENSHOT"
fi
exit 0
