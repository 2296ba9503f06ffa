#!/usr/bin/env python3
"""Heap errors in the app: red marks on the timeline, the corrupted bytes on the map, the Errors window.

hv_make_error_trace writes tests/views/error_trace.h's trace: a heap-buffer-overflow (6 canary
bytes after a 90-byte request changed), a write-after-free (16 bytes of a freed block changed) and
a double free. `heapviz shot --error K --geometry` must
  - go to error K's event and draw each error's mark in the error colour on the timeline, at the
    x of its event (the pixels there are red; halfway between two marks they are not),
  - draw the error's differing bytes in the error colour at the block's place on the map: inside
    the block's own rectangle, at the offset the report gives (to within a pixel or two), and
  - show the Errors window with a red row (the report listed);
and without --error, at the trace's start (before any error), the map has none of it.

usage: errors_pixel_test.py HEAPVIZ MAKE_ERROR_TRACE WORKDIR
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import pixel, read_png  # noqa: E402

HEAPVIZ, MAKE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(WORK, exist_ok=True)
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


trace = os.path.join(WORK, "errors.hvt")
r = subprocess.run([MAKE, trace], capture_output=True, text=True)
check(r.returncode == 0, "hv_make_error_trace writes the trace: " + r.stdout.strip())
overflow = int(r.stdout.split("overflow chunk ")[1].split(",")[0], 16)
waf = int(r.stdout.split("write-after-free chunk ")[1].split()[0], 16)


def shot(name, args):
    png, geo = os.path.join(WORK, name + ".png"), os.path.join(WORK, name + ".geo")
    r = subprocess.run([HEAPVIZ, "shot", trace, "--size", "1600x900", "-o", png, "--geometry", geo] + args,
                       capture_output=True, text=True)
    check(r.returncode == 0, f"shot {name} exits 0" + ("" if r.returncode == 0 else ": " + r.stderr))
    g = {"rect": [], "errormark": [], "errorbytes": [], "errorswindow": None, "curves": None}
    for line in open(geo):
        f = line.split()
        if f[0] == "rect":
            g["rect"].append((int(f[1], 16), int(f[2]), *map(float, f[4:8])))
        elif f[0] == "errorrgb":
            g["rgb"] = int(f[1], 16)
        elif f[0] == "errormark":
            g["errormark"].append((int(f[1]), int(f[2]), float(f[3])))
        elif f[0] == "errorbytes":
            g["errorbytes"].append((int(f[1]), int(f[2], 16), int(f[3]), *map(float, f[4:8])))
        elif f[0] == "errorswindow":
            g["errorswindow"] = tuple(map(float, f[1:5]))
        elif f[0] == "errorreport":
            g["errorreport"] = int(f[1])
        elif f[0] == "curves":
            g["curves"] = tuple(map(float, f[1:5]))
        elif f[0] == "scale":
            g["bpp"] = float(f[1])
    return read_png(png)[2], g


def rgb(img, x, y):
    return pixel(img, int(x), int(y))


def near(c, want, tol=24):
    return all(abs(((c >> s) & 255) - ((want >> s) & 255)) <= tol for s in (16, 8, 0))


for k, chunk, nbytes in ((1, overflow, 6), (2, waf, 16)):
    # Zoomed on the block (the bytes around it), so that offsets are pixels.
    img, g = shot(f"error{k}", ["--error", str(k), "--range", f"{chunk - 0x100:#x}-{chunk + 0x200:#x}"])
    red = g["rgb"]
    # The timeline: a mark per error, red at its x (below the flag, over the curves' dark ground).
    check(len(g["errormark"]) == 3, f"error {k}: three marks on the timeline ({len(g['errormark'])})")
    x0, y0, x1, y1 = g["curves"]
    ymid = (y0 + y1) / 2
    for n, ev, x in g["errormark"]:
        check(near(rgb(img, x, ymid), red) and near(rgb(img, x, y0 + 2), red),
              f"error {k}: mark {n} (event {ev}) is red at x={x:.1f} ({rgb(img, x, ymid):06x})")
    xs = sorted(x for _, _, x in g["errormark"])
    gap = (xs[0] + xs[1]) / 2
    check(not near(rgb(img, gap, ymid), red), f"error {k}: no red between marks 1 and 2 (x={gap:.1f})")
    # The map: the differing bytes, red, inside the block's rectangle at the report's offset.
    block = [r for r in g["rect"] if r[0] == chunk]
    check(block != [], f"error {k}: the block 0x{chunk:x} is drawn on the map")
    eb = [b for b in g["errorbytes"] if b[0] == k]
    check(eb != [], f"error {k}: its differing bytes are drawn ({len(eb)} pieces)")
    for _, addr, length, bx0, by0, bx1, by1 in eb:
        check(length == nbytes, f"error {k}: a run of {length} bytes (want {nbytes})")
        bx, by = (bx0 + bx1) / 2, (by0 + by1) / 2
        inside = [r for r in block if r[2] - 1 <= bx <= r[4] + 1 and r[3] - 1 <= by <= r[5] + 1]
        check(inside != [], f"error {k}: the bytes at ({bx:.0f},{by:.0f}) lie in the block's rectangle")
        if inside:
            # Where the offset puts them: the block's pieces in strip order (rows top-down), the
            # bytes per pixel from their total width.
            # map's scale (to scale: --range keeps the exact mode). The block's first word may be drawn as the
            # previous chunk's (its prev_size holds that chunk's last user bytes, a "lead"): the
            # pieces then start 8 bytes in, and take the next chunk's first word.
            pieces = sorted(block, key=lambda r: (r[3], r[2]))
            per = 1.0 / g["bpp"]

            def at(off):
                for r in pieces:
                    if off <= r[4] - r[2]:
                        return (r[2] + off, r[3])
                    off -= r[4] - r[2]
                return (-99, -99)
            wants = [at((addr - chunk - lead) * per) for lead in (0, 8)]
            check(any(abs(bx0 - w[0]) <= 2 and abs(by0 - w[1]) <= 1 for w in wants),
                  f"error {k}: the bytes start at ({bx0:.1f},{by0:.1f}), the offset says one of {wants}")
            check(abs((bx1 - bx0) - max(3.0, length * per)) <= 2,
                  f"error {k}: the bytes are {bx1 - bx0:.1f} px wide ({length} bytes at {per:.2f} px a byte)")
        check(near(rgb(img, bx, by), red), f"error {k}: the pixel at the bytes is red ({rgb(img, bx, by):06x})")
    # The Errors window is shown, and a red row lists the report.
    w = g["errorswindow"]
    check(w is not None, f"error {k}: the Errors window is drawn")
    if w:
        reds = sum(1 for y in range(int(w[1]) + 30, int(w[3]) - 4, 2) for x in range(int(w[0]) + 4, int(w[0] + (w[2] - w[0]) * 0.4), 2)
                   if near(rgb(img, x, y), red, 40))
        check(reds > 20, f"error {k}: the Errors window has red text (its rows): {reds} pixels")

# Before any error: no bytes are drawn, and the map has no error red.
img, g = shot("start", ["--at", "40"])
check(g["errorbytes"] == [], "at event 40: no error bytes drawn")
check(len(g["errormark"]) == 3, "at event 40: the timeline still marks the three errors")
inmap = sum(1 for r in g["rect"] for x in range(int(r[2]), int(r[4]), 3) if near(rgb(img, x, (r[3] + r[5]) / 2), g["rgb"], 10))
check(inmap == 0, f"at event 40: no error red on the map's chunks ({inmap} pixels)")

# No error selected, the position right after an error (where `run --break-on-error` leaves a live
# program): the Errors window shows that error's report; between errors, none.
for k, (n, ev, x) in enumerate(sorted(g["errormark"]), start=1):
    _, ga = shot(f"at{k}", ["--at", str(ev)])
    check(ga.get("errorreport") == k, f"at event {ev} (error {k}'s), the report shown is {ga.get('errorreport')}")
check(g.get("errorreport") == 0, f"at event 40, before any error, no report is shown ({g.get('errorreport')})")

# A K past the trace's errors, or not a number: exit status 2, and why.
for bad, says in (("4", "has 3 heap errors"), ("0", "not an error number")):
    r = subprocess.run([HEAPVIZ, "shot", trace, "--error", bad, "-o", os.path.join(WORK, "bad.png")],
                       capture_output=True, text=True)
    check(r.returncode == 2 and says in r.stderr, f"--error {bad}: exit 2, '{says}' ({r.returncode}: {r.stderr.strip()})")

print("FAILED: %d check(s)" % len(FAILS) if FAILS else "all ok")
sys.exit(1 if FAILS else 0)
