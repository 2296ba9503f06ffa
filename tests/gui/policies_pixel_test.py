#!/usr/bin/env python3
"""Side by side (heapviz shot FILE.hvs --policies A,B,C): one map per policy, in step, with the
same block outlined in each.

demo.hvs on glibc, first-fit and buddy at the glibc trace's event N (a malloc): the geometry must
list the three maps in the order asked, each holding pixels of the in-use paint; the block that
malloc returned, selected by its address in glibc's heap, must be outlined (white) in every map;
first-fit, whose first block sits at the heap base, must paint the map's first pixel in use
while that block lives. Without --select nothing is outlined. Bad lists are refused (status 2).

usage: policies_pixel_test.py HEAPVIZ SCENARIO WORKDIR
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import pixel, read_png  # noqa: E402
from checklist import check, finish, runner  # noqa: E402

HEAPVIZ, SCENARIO, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(WORK, exist_ok=True)


run = runner(HEAPVIZ)


# The glibc run's trace (the same events the comparison writes: expect lines write none).
trace = os.path.join(WORK, "glibc.hvt")
check(run(["sim", SCENARIO, "-o", trace]).returncode == 0, "sim -o writes glibc's trace")
events = [l for l in run(["dump", trace]).stdout.splitlines() if l.startswith("#")]
mallocs = [(i + 1, int(l.split("-> ")[1], 16)) for i, l in enumerate(events) if " malloc size=" in l]
at, ptr = mallocs[len(mallocs) // 3]  # a block early in the scenario, live for a while
print(f"at event {at}: malloc -> {ptr:#x}")


def shot(name, extra):
    png, geo = os.path.join(WORK, name + ".png"), os.path.join(WORK, name + ".geo")
    r = run(["shot", SCENARIO, "--policies", "glibc,first-fit,buddy", "--at", str(at), "-o", png,
             "--geometry", geo] + extra)
    check(r.returncode == 0, f"shot {name} exits 0" + ("" if r.returncode == 0 else ": " + r.stderr))
    lines = open(geo).read().splitlines() if r.returncode == 0 else []
    maps = [l.split() for l in lines if l.startswith("policymap ")]
    sels = {l.split()[1]: [float(v) for v in l.split()[2:]] for l in lines if l.startswith("policysel ")}
    paints = {int(l.split()[1]): int(l.split()[2], 16) for l in lines if l.startswith("paint ")}
    w, h, rows = read_png(png) if r.returncode == 0 else (0, 0, [])
    return maps, sels, paints, rows


maps, sels, paints, rows = shot("selected", ["--select", f"{ptr:#x}"])
check([m[1] for m in maps] == ["glibc", "first-fit", "buddy"], f"three maps in the order asked: {[m[1] for m in maps]}")
in_use = paints.get(0)  # Paint::InUse
for m in maps:
    name, (x0, y0, x1, y1) = m[1], [float(v) for v in m[2:6]]
    seen = {pixel(rows, x, y) for y in range(int(y0), int(y1), 3) for x in range(int(x0), int(x1), 3)}
    check(in_use in seen, f"{name}: the map holds in-use pixels")
    s = sels.get(name)
    check(s is not None, f"{name}: the selected block is outlined")
    if s:
        mid = (s[1] + s[3]) / 2
        left = {pixel(rows, s[0] - d, mid) for d in (0.5, 1, 1.5, 2, 2.5)}
        white = any(min((c >> 16) & 255, (c >> 8) & 255, c & 255) >= 0xF0 for c in left)
        check(white, f"{name}: white outline at the block's left edge ({s[0]:.0f}, {mid:.0f}): {sorted(map(hex, left))}")
        check(x0 <= s[0] < x1 and y0 <= s[1] < y1, f"{name}: the outlined block is inside its map")
ff = next((m for m in maps if m[1] == "first-fit"), None)
if ff:
    x0, y0 = float(ff[2]), float(ff[3])
    check(pixel(rows, x0 + 1, y0 + 4) == in_use, "first-fit: the block at the heap base is in use (first pixel)")

maps, sels, paints, rows = shot("plain", [])
check(len(maps) == 3 and not sels, "without --select: three maps, nothing outlined")

r = run(["shot", SCENARIO, "--policies", "glibc,frist-fit", "-o", os.path.join(WORK, "bad.png")])
check(r.returncode == 2 and "unknown policy 'frist-fit'" in r.stderr, f"an unknown policy: status 2 ({r.stderr.strip()})")
r = run(["shot", SCENARIO, "--policies", "buddy,buddy", "-o", os.path.join(WORK, "bad.png")])
check(r.returncode == 2 and "named twice" in r.stderr, f"a policy named twice: status 2 ({r.stderr.strip()})")
r = run(["shot", os.path.join(WORK, "missing.hvs"), "--policies", "glibc", "-o", os.path.join(WORK, "bad.png")])
check(r.returncode == 2 and "cannot open" in r.stderr, f"a missing scenario: status 2 ({r.stderr.strip()})")

finish('all passed')
