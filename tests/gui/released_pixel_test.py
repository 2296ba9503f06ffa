#!/usr/bin/env python3
"""Released pages on the chunk map: hatched where malloc_trim handed them back, nowhere else.

tests/fidelity/cases/25_malloc_trim.hvs frees a (0x4000 bytes) and b (0x6000), then calls
malloc_trim(0): glibc 2.36's mtrim gives back the whole pages inside them. `heapviz shot
--geometry` at the mark "freed" (before the trim) and at "trimmed" (after it), both showing the
same address range, must draw the free chunks in the same unsorted colour; after the trim, the
`released` lines must be exactly the trace's `release` events, and the pixels inside them must be
hatched in the geometry's `hatch` colour, where before the trim the same pixels had none of it.

usage: released_pixel_test.py HEAPVIZ SCENARIO WORKDIR
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import pixel, read_png  # noqa: E402
from checklist import check, finish, runner  # noqa: E402

HEAPVIZ, SCENARIO, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(WORK, exist_ok=True)


run = runner(HEAPVIZ)


trace = os.path.join(WORK, "trim.hvt")
check(run(["sim", SCENARIO, "-o", trace]).returncode == 0, "sim -o writes the trace")
events = [l for l in run(["dump", trace]).stdout.splitlines() if l.startswith("#")]
at = {l.split('"')[1]: i + 1 for i, l in enumerate(events) if ' mark "' in l}
released = [(int(l.split()[5], 16), int(l.split("length=")[1])) for l in events if " release " in l]
base = next(int(l.split()[5], 16) for l in events if " heap_new " in l)
check(set(at) == {"freed", "trimmed"} and len(released) == 2, f"marks {sorted(at)}, {len(released)} release events")
UNSORTED = 5


def shot(pos, name):
    png, geo = os.path.join(WORK, name + ".png"), os.path.join(WORK, name + ".geo")
    # a, g1 and b: the same range (and so the same zoom) before and after the trim.
    r = run(["shot", trace, "--at", str(pos), "--size", "1000x700", "-o", png, "--geometry", geo,
             "--range", f"{base + 0x290:#x}-{base + 0xa2b0:#x}"])
    check(r.returncode == 0, f"shot {name} exits 0" + ("" if r.returncode == 0 else ": " + r.stderr))
    g = {"paint": {}, "rect": [], "released": [], "hatch": None}
    for line in open(geo):
        f = line.split()
        if f[0] == "paint":
            g["paint"][int(f[1])] = int(f[2], 16)
        elif f[0] == "rect":
            g["rect"].append((int(f[1], 16), int(f[3]), *map(float, f[4:8])))
        elif f[0] == "hatch":
            g["hatch"] = int(f[1], 16)
        elif f[0] == "released":
            g["released"].append((int(f[1], 16), int(f[2], 16), int(f[3]), *map(float, f[4:8])))
    return read_png(png), g


def near(rgb, want, tol=40):
    return all(abs(((rgb >> s) & 255) - ((want >> s) & 255)) <= tol for s in (0, 8, 16))


def hatched_share(img, rects, hatch):
    """Of the pixels inside the rectangles (1 pixel in from each edge), the share in the hatch colour."""
    w, h, rows = img
    n = hit = 0
    for (x0, y0, x1, y1) in rects:
        y = int(y0) + 1
        while y < int(y1) - 1:
            x = int(x0) + 1
            while x < int(x1) - 1:
                n += 1
                hit += near(pixel(rows, x + 0.5, y + 0.5), hatch)
                x += 1
            y += 1
    return hit / n if n else 0.0


before_img, before = shot(at["freed"], "freed")
after_img, after = shot(at["trimmed"], "trimmed")
hatch = after["hatch"]
check(hatch is not None and hatch not in after["paint"].values(), f"the hatch colour {hatch:06x} is no paint's")
check(not before["released"], "before the trim nothing is drawn released")
# The pieces of each chunk's released pages repeat the pages' address and length: one per chunk.
drawn = sorted({(addr, n) for (_, addr, n, *_) in after["released"]})
check(drawn == sorted(released), f"the released pages drawn {[(hex(a), n) for a, n in drawn]} are the trace's")
owners = {c for (c, *_) in after["released"]}
check(owners == {base + 0x290, base + 0x42b0}, f"they lie over a and b ({sorted(hex(c) for c in owners)})")
for img, g, when in ((before_img, before, "before"), (after_img, after, "after")):
    free = [r for r in g["rect"] if r[0] in (base + 0x290, base + 0x42b0) and r[1] == UNSORTED]
    check(len(free) >= 2, f"a and b are drawn as unsorted chunks {when} the trim")
pieces = [r[3:7] for r in after["released"] if r[5] - r[3] >= 4]
check(len(pieces) >= 2, f"{len(pieces)} hatched pieces of 4 pixels or more")
share_after = hatched_share(after_img, pieces, hatch)
share_before = hatched_share(before_img, pieces, hatch)
check(share_after >= 0.10, f"after the trim {share_after:.0%} of the released pages' pixels are hatched")
check(share_before <= 0.01, f"before it, {share_before:.1%} of the same pixels were")
# The free chunks' pages that were not released (their first page, with the header) stay plain.
first_page = [(x0, y0, min(x1, x0 + 8), y1) for (c, _, x0, y0, x1, y1) in
              [r for r in after["rect"] if r[0] == base + 0x42b0 and r[1] == UNSORTED][:1]]
check(hatched_share(after_img, first_page, hatch) <= 0.01, "b's first page (its header) is not hatched")

finish('0 failures')
