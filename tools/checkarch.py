#!/usr/bin/env python3
"""checkarch.py: checks the structure docs/architecture.md promises: no
source file in lib/, harness/, reports/ or cli/ over 800 lines, no function
there over 120 lines, and no include from a lower layer to a higher one
(cli -> reports -> harness -> lib). Prints each breach; exits 1 if any."""
import glob
import os
import re
import sys

LAYERS = ["lib", "harness", "reports", "cli"]  # lowest first
MAX_FILE, MAX_FUNC = 800, 120

root = sys.argv[1] if len(sys.argv) > 1 else "."
owner = {}  # header file name -> layer index
for i, d in enumerate(LAYERS):
    for h in glob.glob(os.path.join(root, d, "*.h")):
        owner.setdefault(os.path.basename(h), i)

bad = []
for i, d in enumerate(LAYERS):
    for f in sorted(glob.glob(os.path.join(root, d, "*.[ch]"))):
        lines = open(f, encoding="utf-8", errors="replace").read().split("\n")
        rel = os.path.relpath(f, root)
        if f.endswith(".c") and len(lines) > MAX_FILE:
            bad.append(f"{rel}: {len(lines)} lines (at most {MAX_FILE})")
        for n, l in enumerate(lines, 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', l)
            if not m:
                continue
            inc = m.group(1)
            # As the compiler looks: beside the includer first, then
            # in the include path (every layer's directory).
            near = os.path.normpath(os.path.join(d, inc))
            top = near.split(os.sep)[0]
            if os.path.exists(os.path.join(root, near)) and top in LAYERS:
                layer = LAYERS.index(top)
            else:
                layer = owner.get(os.path.basename(inc), -1)
            if layer > i:
                bad.append(f"{rel}:{n}: includes {inc} from the higher "
                           f"layer {LAYERS[layer]}/")
        if not f.endswith(".c"):
            continue
        start = None
        for n, l in enumerate(lines):
            if l == "{" and n > 0:
                k = n - 1
                while k > 0 and not re.match(r"[A-Za-z_]", lines[k]):
                    k -= 1
                m = re.search(r"([A-Za-z_]\w*)\s*\(", lines[k])
                name, start = (m.group(1) if m else lines[k]), n
            elif l.startswith("}") and start is not None:
                if n - start + 1 > MAX_FUNC:
                    bad.append(f"{rel}:{start + 1}: {name} is {n - start + 1}"
                               f" lines (at most {MAX_FUNC})")
                start = None
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
