#!/usr/bin/env python3
"""`heapviz shot` waits for the windows' searches before it saves (issue 19, "no stalls").

The Chunk window's history runs on a thread of its own (session::QueryJob). With
HEAPVIZ_TEST_SEARCH_DELAY_MS every search starts late, so a shot that saved after its usual few
frames would hold the unfinished state: a progress bar saying "searching..." and a partial list.
`shot --select ADDR --geometry` must say the history it drew was complete, with as many events as
`heapviz dump --addr ADDR` prints, and no pixel of the Chunk window may have the progress bar's
colour (read from the geometry file, never from a copy here).

usage: search_pixel_test.py HEAPVIZ WORKDIR
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import pixel, read_png  # noqa: E402

HEAPVIZ, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(args, env=None):
    return subprocess.run([HEAPVIZ] + args, capture_output=True, text=True, env=env)


# A chunk used over and over: its history is long, and ends in the middle of the trace.
scen = os.path.join(WORK, "search.hvs")
with open(scen, "w") as f:
    f.write("keep = malloc 5000\n")
    for i in range(300):
        f.write(f"p{i} = malloc 40\nq{i} = malloc 200\nfree p{i}\n")
        if i % 3 == 0:
            f.write(f"free q{i}\n")
trace = os.path.join(WORK, "search.hvt")
r = run(["sim", scen, "-o", trace])
check(r.returncode == 0, "sim -o writes the trace")
events = [ln for ln in run(["dump", trace]).stdout.splitlines() if ln.startswith("#")]
ptr40 = next(int(ln.split("-> ")[1], 16) for ln in events if " malloc size=40 " in ln)
history = [ln for ln in run(["dump", trace, "--addr", hex(ptr40)]).stdout.splitlines() if ln.startswith("#")]
check(len(history) > 100, f"the 40-byte chunk's history is long ({len(history)} events)")

png, geo = os.path.join(WORK, "select.png"), os.path.join(WORK, "select.geo")
# 3 s: far longer than the frames a shot draws anyway; 2400 px tall: the history's row is on the
# shot, below the chunk's words (without the wait, its progress bar showed here: 120 pixels).
env = dict(os.environ, HEAPVIZ_TEST_SEARCH_DELAY_MS="3000")
r = run(["shot", trace, "--at", "end", "--select", hex(ptr40), "--size", "1400x2400", "-o", png,
         "--geometry", geo], env=env)
if r.returncode != 0:
    print(r.stderr)
check(r.returncode == 0, "shot --select exits 0")
lines = [ln.split() for ln in open(geo)]
prog = next(int(f[1], 16) for f in lines if f[0] == "progressrgb")
win = next(tuple(map(float, f[1:5])) for f in lines if f[0] == "chunkwindow")
hist = next((f for f in lines if f[0] == "history"), None)
check(hist is not None and hist[3] == "complete", f"the shot's history was complete ({hist})")
check(hist is not None and int(hist[2]) == len(history),
      f"the shot's history has dump --addr's {len(history)} events ({hist})")
w, h, rows = read_png(png)
x0, y0, x1, y1 = int(max(0, win[0])), int(max(0, win[1])), int(min(w, win[2])), int(min(h, win[3]))
bar = sum(1 for y in range(y0, y1) for x in range(x0, x1) if pixel(rows, x, y) == prog)
check(x1 > x0 and y1 > y0, f"the Chunk window is on the shot ({win})")
check(bar == 0, f"no progress bar in the Chunk window ({bar} pixels of {prog:06x})")

print("%d failure(s)" % len(FAILS) if FAILS else "all ok")
sys.exit(1 if FAILS else 0)
