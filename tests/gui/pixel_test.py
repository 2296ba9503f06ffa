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
    for line in open(geo):
        f = line.split()
        if f[0] == "paint":
            paints[int(f[1])] = int(f[2], 16)
        elif f[0] == "rect":
            rects.append((int(f[1], 16), int(f[2]), int(f[3]), *map(float, f[4:8])))
    return read_png(png), paints, rects


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
    if " malloc size=100 " in l:
        ptr["b"] = int(l.split("-> ")[1], 16) - 16
    if " malloc size=5000 " in l:
        ptr["big"] = int(l.split("-> ")[1], 16) - 16
check(set(ptr) == {"b", "big"}, "dump names b's and big's chunks")

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


img, paints, rects = shot(trace, at_alloc, "allocated")
check(len(set(paints.values())) == len(paints), "every paint has its own colour")
centre_has(img, rects_of(rects, ptr["b"], IN_USE), paints[IN_USE], "b (in use) is drawn in the in-use colour")
centre_has(img, rects_of(rects, ptr["b"], HEADER), paints[HEADER], "b's header is drawn in the header colour")
centre_has(img, rects_of(rects, ptr["big"], IN_USE), paints[IN_USE], "big (in use) is drawn in the in-use colour")

img, paints, rects = shot(trace, at_freed, "freed")
check(not rects_of(rects, ptr["b"], IN_USE), "after free b has no in-use part")
centre_has(img, rects_of(rects, ptr["b"], TCACHE), paints[TCACHE], "b (freed, 0x70) is drawn in the tcache colour")
centre_has(img, rects_of(rects, ptr["big"], UNSORTED), paints[UNSORTED], "big (freed, 0x1390) is drawn in the unsorted colour")

# Selecting b draws a white outline just outside its rectangle.
img, paints, rects = shot(trace, at_freed, "selected", ["--select", hex(ptr["b"])])
rs = rects_of(rects, ptr["b"], TCACHE)
if rs:
    _, _, _, x0, y0, x1, y1 = rs[0]
    w, h, rows = img
    check(pixel(rows, (x0 + x1) / 2, y0 - 1) == SELECT, "the selected chunk has a white outline")
    check(pixel(rows, x1 - 1.5, (y0 + y1) / 2) == paints[TCACHE], "inside the outline it keeps its colour")

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
check(r.returncode == 1, "shot on a truncated trace exits 1")
check("offset" in r.stderr and "truncated" in r.stderr.lower(), "and says where it is cut: " + r.stderr.strip().splitlines()[-1])
check(os.path.exists(png) and any(l.startswith("rect") for l in open(geo)), "and still draws the readable prefix")

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
check(r.returncode == 0 and "state ready" in r.stdout and "message: \n" in r.stdout + "\n",
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
