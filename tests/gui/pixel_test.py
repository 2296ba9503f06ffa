#!/usr/bin/env python3
"""Pixel tests of the real app, rendered offscreen by `heapviz shot` under Xvfb (llvmpipe).

A scenario allocates chunks, then frees them. At each moment `shot --geometry` says where the
chunk map drew each chunk; the PNG's pixels there must have the colour of the chunk's state
(in use, then the tcache or unsorted colour after the free). The colours come from the
geometry file's paint table (views/palette.h), never from a copy here.

usage: pixel_test.py HEAPVIZ WORKDIR
"""
import os
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import pixel, read_png  # noqa: E402

HEAPVIZ, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(args, **kw):
    return subprocess.run([HEAPVIZ] + args, capture_output=True, text=True, **kw)


def shot(trace, at, name, extra=()):
    png, geo = os.path.join(WORK, name + ".png"), os.path.join(WORK, name + ".geo")
    r = run(["shot", trace, "--at", str(at), "--size", "1000x700", "-o", png, "--geometry", geo] + list(extra))
    if r.returncode != 0:
        print(r.stderr)
    check(r.returncode == 0, f"shot {name} exits 0")
    paints, rects = {}, []
    global ROWS, SCALE
    ROWS, SCALE = [], None
    for line in open(geo):
        f = line.split()
        if f[0] == "paint":
            paints[int(f[1])] = int(f[2], 16)
        elif f[0] == "rect":
            rects.append((int(f[1], 16), int(f[2]), int(f[3]), *map(float, f[4:8])))
        elif f[0] == "rows":
            ROWS.append((float(f[1]), float(f[2]), float(f[3]), int(f[4])))
        elif f[0] == "scale":
            SCALE = (float(f[1]), f[2], f[3])
    return read_png(png), paints, rects


ROWS, SCALE = [], None


# ---- a scenario with known chunks --------------------------------------------------------------
scen = os.path.join(WORK, "pixels.hvs")
with open(scen, "w") as f:
    f.write("a = malloc 24\nb = malloc 100\nbig = malloc 5000\nguard = malloc 16\nmark allocated\n"
            "free b\nfree big\nmark freed\n")
trace = os.path.join(WORK, "pixels.hvt")
r = run(["sim", scen, "-o", trace])
check(r.returncode == 0, "sim -o writes the trace")
dump = run(["dump", trace]).stdout.splitlines()
events = [l for l in dump if l.startswith("#")]
at_alloc = next(i for i, l in enumerate(events) if 'mark "allocated"' in l) + 1
at_freed = next(i for i, l in enumerate(events) if 'mark "freed"' in l) + 1
ptr = {}
for l in events:
    if " malloc size=24 " in l:
        ptr["a"] = int(l.split("-> ")[1], 16) - 16
    if " malloc size=100 " in l:
        ptr["b"] = int(l.split("-> ")[1], 16) - 16
    if " malloc size=5000 " in l:
        ptr["big"] = int(l.split("-> ")[1], 16) - 16
check(set(ptr) == {"a", "b", "big"}, "dump names a's, b's and big's chunks")

IN_USE, TCACHE, UNSORTED, HEADER, SELECT = 0, 3, 5, 1, 0xFFFFFF


def rects_of(rects, addr, paint):
    return [r for r in rects if r[0] == addr and r[2] == paint]


def centre_has(img, rs, rgb, what):
    w, h, rows = img
    ok = bool(rs)
    for (_, _, _, x0, y0, x1, y1) in rs:
        # Near the right end, mid-height: clear of the separator line at x0 and of the label
        # text, which starts at x0 + 5 and always leaves the last 3 pixels free.
        x, y = max(x0 + 1, x1 - 1.5), (y0 + y1) / 2
        got = pixel(rows, x, y)
        if got != rgb:
            ok = False
            print(f"     {what}: pixel at ({x:.0f},{y:.0f}) is {got:06x}, want {rgb:06x}")
    check(ok, what)


# Zoomed on the chunks (--range): at the whole heap's scale a 16-byte header is under a pixel.
zoom = ["--range", f"{ptr['a']:#x}-{ptr['big'] + 0x1390:#x}"]
img, paints, rects = shot(trace, at_alloc, "allocated", zoom)
check(len(set(paints.values())) == len(paints), "every paint has its own colour")
centre_has(img, rects_of(rects, ptr["b"], IN_USE), paints[IN_USE], "b (in use) is drawn in the in-use colour")
centre_has(img, rects_of(rects, ptr["b"], HEADER), paints[HEADER], "b's header is drawn in the header colour")
centre_has(img, rects_of(rects, ptr["big"], IN_USE), paints[IN_USE], "big (in use) is drawn in the in-use colour")

# glibc's layout: a = malloc 24 uses all 16 bytes of its 0x20 chunk after the size word and the
# first 8 bytes of b's chunk (b's prev_size): drawn in the in-use colour, as a's, at b's start.
bpp = SCALE[0] if SCALE else 0


def spill_of(rects):
    """a's in-use rectangle of 8 bytes that ends where b's own rectangles start."""
    b_start = min(x[3] for x in rects if x[0] == ptr["b"])
    return [r for r in rects_of(rects, ptr["a"], IN_USE)
            if abs(r[5] - b_start) < 0.01 and abs((r[5] - r[3]) * bpp - 8) < 0.6]


a_in_use = rects_of(rects, ptr["a"], IN_USE)
spill = spill_of(rects)
check(bpp > 0 and abs(sum(r[5] - r[3] for r in a_in_use) * bpp - 24) < 0.6,
      f"a's request is drawn as 24 bytes ({sum(r[5] - r[3] for r in a_in_use) * bpp:.1f} at {bpp} B/px)")
check(len(spill) == 1, "8 of them in b's prev_size word, at b's start")
if spill:
    _, _, _, x0, y0, x1, y1 = spill[0]
    check(pixel(img[2], (x0 + x1) / 2, (y0 + y1) / 2) == paints[IN_USE], "and painted in the in-use colour")

img, paints, rects = shot(trace, at_freed, "freed", zoom)
check(not rects_of(rects, ptr["b"], IN_USE), "after free b has no in-use part")
centre_has(img, rects_of(rects, ptr["b"], TCACHE), paints[TCACHE], "b (freed, 0x70) is drawn in the tcache colour")
check(len(spill_of(rects)) == 1, "a's last bytes are still drawn in b's first word after b is freed")
centre_has(img, rects_of(rects, ptr["big"], UNSORTED), paints[UNSORTED], "big (freed, 0x1390) is drawn in the unsorted colour")

# Selecting b draws a white outline just outside its rectangle.
img, paints, rects = shot(trace, at_freed, "selected", ["--select", hex(ptr["b"])] + zoom)
rs = rects_of(rects, ptr["b"], TCACHE)
if rs:
    _, _, _, x0, y0, x1, y1 = rs[0]
    w, h, rows = img
    check(pixel(rows, (x0 + x1) / 2, y0 - 1) == SELECT, "the selected chunk has a white outline")
    check(pixel(rows, x1 - 1.5, (y0 + y1) / 2) == paints[TCACHE], "inside the outline it keeps its colour")

# ---- true to bytes: tens of thousands of small survivors scattered through free memory --------
# 30,000 blocks of 1000-6000 bytes, each followed by a survivor of 8-64 bytes; then the big ones
# are freed. About 1.5% of the heap is live, in 30,000 pieces: each state's share of the map's
# rows (pixels counted in the PNG) must be its share of the heap's bytes (`heapviz chunks`-like
# counts from `sim`), and the survivors must show (ticks above rows whose pixels hold them).
import random  # noqa: E402

rng = random.Random(7)
scatter = os.path.join(WORK, "scatter.hvs")
with open(scatter, "w") as f:
    for i in range(30000):
        f.write(f"b{i} = malloc {rng.randint(1000, 6000)}\ns{i} = malloc {rng.randint(8, 64)}\n")
    for i in range(30000):
        f.write(f"free b{i}\n")
scatter_trace = os.path.join(WORK, "scatter.hvt")
r = run(["sim", scatter, "-o", scatter_trace])
check(r.returncode == 0, "sim writes the scattered heap")
by_state = {}
for l in r.stdout.splitlines():
    f = l.split()
    if len(f) >= 3 and f[0].startswith("0x") and f[1].startswith("0x"):
        by_state[f[2]] = by_state.get(f[2], 0) + int(f[1], 16)
heap_bytes = sum(by_state.values())
want_live = by_state.get("in_use", 0) / heap_bytes  # the tcache struct is in_use too: 0x290 bytes
check(0.005 < want_live < 0.05, f"the survivors hold {want_live:.2%} of the heap")


def row_shares(img, paints, fams):
    w, h, rows = img
    count = {k: 0 for k in fams}
    total = 0
    colour_of = {}
    for k, ids in fams.items():
        for i in ids:
            colour_of[paints[i]] = k
    for (y0, pitch, row_h, n) in ROWS:
        for r_ in range(n):
            top = int(round(y0 + r_ * pitch))
            for y in range(top, top + int(row_h)):
                if y < 0 or y >= h:
                    continue
                for x in range(w):
                    k = colour_of.get(pixel(rows, x, y))
                    if k is not None:
                        count[k] += 1
                        total += 1
    return {k: v / max(total, 1) for k, v in count.items()}, total


FAMS = {"live": [0, 1, 2, 13], "unsorted": [5], "top": [8], "tcache": [3]}
img, paints, rects = shot(scatter_trace, "end", "scatter", ["--size", "1400x900"])
check(SCALE is not None and SCALE[1] == "exact" and SCALE[2] == "to-scale",
      f"the default map is true to bytes and says so: {SCALE}")
shares, painted = row_shares(img, paints, FAMS)
check(painted > 100000, f"the map's rows hold {painted} painted pixels")
check(abs(shares["live"] - want_live) < 0.01,
      f"live chunks paint {shares['live']:.2%} of the map, and hold {want_live:.2%} of the bytes")
want_unsorted = by_state.get("unsorted", 0) / heap_bytes
check(abs(shares["unsorted"] - want_unsorted) < 0.02,
      f"unsorted chunks paint {shares['unsorted']:.2%}, hold {want_unsorted:.2%}")
# Ticks: in the gap above each row, pixels in the in-use colour (the survivors stay visible).
w, h, rows_px = img
ticked = 0
for (y0, pitch, row_h, n) in ROWS:
    for r_ in range(n):
        y = int(round(y0 + r_ * pitch)) - 1
        if 0 <= y < h and sum(1 for x in range(w) if pixel(rows_px, x, y) == paints[IN_USE]) > 50:
            ticked += 1
check(ROWS and ticked >= sum(n for (_, _, _, n) in ROWS) - 2, f"ticks mark survivors in {ticked} rows")
# The minimum width paints the same survivors over a far larger share, and says it is not to scale.
img, paints, rects = shot(scatter_trace, "end", "scatter-minw", ["--size", "1400x900", "--mode", "min-width"])
shares_mw, _ = row_shares(img, paints, FAMS)
check(SCALE[2] == "not-to-scale" and shares_mw["live"] > 5 * want_live,
      f"min-width: live paints {shares_mw['live']:.2%} and the shot says not to scale")
r = run(["shot", scatter_trace, "--mode", "wide", "-o", os.path.join(WORK, "x.png")])
check(r.returncode == 2 and "--mode 'wide'" in r.stderr, "a bad --mode is refused: " + r.stderr.strip())

# ---- bad input -----------------------------------------------------------------------------
garbage = os.path.join(WORK, "garbage.hvt")
with open(garbage, "wb") as f:
    f.write(b"\x00\x01not a trace at all" * 10)
r = run(["shot", garbage, "-o", os.path.join(WORK, "g.png")])
check(r.returncode == 2, "shot on a file that is not a trace exits 2")
check(garbage in r.stderr and "offset 0" in r.stderr, "and names the file and the offset: " + r.stderr.strip())

big_scen = os.path.join(WORK, "long.hvs")
with open(big_scen, "w") as f:
    for i in range(6000):
        f.write(f"x{i} = malloc {16 + i % 700}\n")
long_trace = os.path.join(WORK, "long.hvt")
run(["sim", big_scen, "-o", long_trace])
data = open(long_trace, "rb").read()
cut = os.path.join(WORK, "cut.hvt")
with open(cut, "wb") as f:
    f.write(data[: len(data) * 2 // 3])
png = os.path.join(WORK, "cut.png")
geo = os.path.join(WORK, "cut.geo")
r = run(["shot", cut, "-o", png, "--geometry", geo, "--size", "800x600"])
# A torn tail is how a killed program's trace ends: drawn, said, exit 0 (as stats and sites do).
check(r.returncode == 0, "shot on a truncated trace exits 0 (%d)" % r.returncode)
check("offset" in r.stderr and "truncated" in r.stderr.lower(), "and says where it is cut: " + r.stderr.strip().splitlines()[-1])
check(os.path.exists(png) and any(l.startswith("rect") for l in open(geo)), "and still draws the readable prefix")
# A damaged one (a byte of a block in the middle changed: its CRC fails) exits 1, still drawn.
bad = os.path.join(WORK, "bad.hvt")
mid = len(data) // 2
with open(bad, "wb") as f:
    f.write(data[:mid] + bytes([data[mid] ^ 0x55]) + data[mid + 1:])
os.unlink(png)
r = run(["shot", bad, "-o", png, "--size", "800x600"])
check(r.returncode == 1 and "offset" in r.stderr, "shot on a damaged trace exits 1 and names the offset: %d %s" %
      (r.returncode, r.stderr.strip().splitlines()[-1]))
check(os.path.exists(png), "and still draws the readable prefix")

r = run(["shot", trace, "--size", "10x10", "-o", os.path.join(WORK, "s.png")])
check(r.returncode == 2 and "--size" in r.stderr, "a bad --size is refused")
r = run(["shot", trace, "--at", "99999", "-o", os.path.join(WORK, "s.png")])
check(r.returncode == 2 and "past the end" in r.stderr, "--at past the end is refused")

# The app itself keeps running on bad files and shows why (HEAPVIZ_TEST_FRAMES: draw, report, exit).
env = dict(os.environ, HEAPVIZ_TEST_FRAMES="5", XDG_CONFIG_HOME=os.path.join(WORK, "config"))
r = run(["view", garbage], env=env, timeout=60)
check(r.returncode == 0 and "state failed" in r.stdout and "offset 0" in r.stdout,
      "the app survives a file that is not a trace and shows why: " + r.stdout.strip())
r = run([cut], env=env, timeout=60)
check(r.returncode == 0 and "state ready" in r.stdout and "offset" in r.stdout,
      "`heapviz FILE` on a truncated trace shows its prefix and the error: " + r.stdout.strip())
r = run([scen], env=env, timeout=60)
check(r.returncode == 0 and "state ready" in r.stdout and "message: , ui scale" in r.stdout,
      "a scenario opens directly: " + r.stdout.strip())
check(os.path.exists(os.path.join(WORK, "config", "heapviz", "imgui.ini")), "the layout is saved in the config dir")

# Without a display: one line, exit 2.
env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
for args in (["view", trace], ["shot", trace, "-o", os.path.join(WORK, "x.png")]):
    r = run(args, env=env)
    lines = (r.stdout + r.stderr).strip().splitlines()
    check(r.returncode == 2 and len(lines) == 1 and "no display" in lines[0], f"{args[0]} without a display: {lines}")

print(f"{len(FAILS)} failure(s)")
sys.exit(1 if FAILS else 0)
