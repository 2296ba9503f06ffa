#!/usr/bin/env python3
"""sites_pixel_test.py HEAPVIZ FRAG_PROG WORKDIR: the map by allocation site, as pixels.

frag_prog (tests/stacks) keeps 50 blocks of quiet(), 100 of pin() between freed bulk() blocks
and 10 of grow(). `heapviz shot --tab sites --row 2` selects pin's site (the second by live
bytes): its chunks keep their colour, quiet's are dimmed. `--by-site` paints pin's and quiet's
chunks in two colours of their own, and mutes the free chunks. `--tab frag --row 1` outlines
pin's chunks (red) and the free chunks they pin (green). `--function quiet` (a frame clicked in a
stack) keeps quiet's chunks and dims the rest; `--diff 1:END` outlines every chunk born since A
in green, and at A itself the chunks that die by B in red. Colours come from the geometry file's
paint table, never from a copy here.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import pixel, read_png  # noqa: E402
from checklist import check, finish, runner  # noqa: E402

HEAPVIZ, PROG, WORK = sys.argv[1:4]
os.makedirs(WORK, exist_ok=True)


run = runner(HEAPVIZ)


trace = os.path.join(WORK, "frag.hvt")
for f in os.listdir(WORK):
    if f.startswith("frag.hvt"):
        os.unlink(os.path.join(WORK, f))
check(run(["record", "-o", trace, "--", PROG, "10"]).returncode == 0, "record frag_prog")
# Chunks by site, from the calls' sizes: quiet 100, pin 40 (the only ones of those sizes).
chunks = {100: [], 40: []}
for line in run(["dump", trace]).stdout.splitlines():
    m = re.search(r" malloc size=(\d+) -> (0x[0-9a-f]+)", line)
    if m and int(m.group(1)) in chunks:
        chunks[int(m.group(1))].append(int(m.group(2), 16) - 16)
check(len(chunks[100]) == 50 and len(chunks[40]) == 100, "50 quiet and 100 pin blocks in the trace")


def shot(name, extra):
    png, geo = os.path.join(WORK, name + ".png"), os.path.join(WORK, name + ".geo")
    r = run(["shot", trace, "--cells", "--size", "1200x800", "-o", png, "--geometry", geo] + extra)
    check(r.returncode == 0, "shot %s exits 0 %s" % (name, r.stderr.strip()))
    paints, rects = {}, {}
    for line in open(geo):
        f = line.split()
        if f[0] == "paint":
            paints[int(f[1])] = int(f[2], 16)
        elif f[0] == "rect" and int(f[3]) == 0:  # the requested bytes of an in-use chunk
            r = tuple(map(float, f[4:8]))
            if r[3] < 800 * 0.5 and r[2] - r[0] >= 3:  # within the map's window, wide enough to sample
                rects[int(f[1], 16)] = r
    return read_png(png)[2], paints, rects


def centre(rows, r):
    return pixel(rows, (r[0] + r[2]) / 2, (r[1] + r[3]) / 2)


def dimmed(c, base):
    ch = lambda v, s: (v >> s) & 255
    return all(ch(c, s) < ch(base, s) * 0.7 + 2 for s in (0, 8, 16))


rows, paints, rects = shot("site", ["--tab", "sites", "--row", "2"])
pin = [centre(rows, rects[a]) for a in chunks[40] if a in rects]
quiet = [centre(rows, rects[a]) for a in chunks[100] if a in rects]
check(len(pin) >= 90 and len(quiet) >= 45, "pin's and quiet's chunks are on the map (%d, %d)" % (len(pin), len(quiet)))
check(all(c == paints[0] for c in pin), "the selected site's chunks keep the in-use colour")
check(all(dimmed(c, paints[0]) for c in quiet), "the other sites' chunks are dimmed")
curve = sum(1 for y in range(800) for x in range(0, 1200, 2) if pixel(rows, x, y) == 0x4DD0E1)
check(curve > 100, "the selected site's live bytes are a curve on the timeline (%d pixels)" % curve)

rows, paints, rects = shot("bysite", ["--by-site"])
pin = {centre(rows, rects[a]) for a in chunks[40] if a in rects}
quiet = {centre(rows, rects[a]) for a in chunks[100] if a in rects}
check(len(pin) == 1 and len(quiet) == 1, "by site: one colour per site (%d, %d colours)" % (len(pin), len(quiet)))
check(pin != quiet and paints[0] not in pin | quiet, "by site: pin and quiet have colours of their own")

rows, paints, rects = shot("function", ["--function", "quiet", "--tab", "sites"])
pin = [centre(rows, rects[a]) for a in chunks[40] if a in rects]
quiet = [centre(rows, rects[a]) for a in chunks[100] if a in rects]
check(all(c == paints[0] for c in quiet) and all(dimmed(c, paints[0]) for c in pin),
      "--function quiet: quiet's chunks stand out, pin's are dimmed")

rows, paints, rects = shot("frag", ["--tab", "frag", "--row", "1"])
edges = [pixel(rows, (rects[a][0] + rects[a][2]) / 2, rects[a][1] - 1) for a in chunks[40] if a in rects]
check(len(edges) >= 90 and sum(e == 0xef5350 for e in edges) >= len(edges) * 0.9,
      "frag row 1: pin's chunks are outlined in red (%d of %d)" % (sum(e == 0xef5350 for e in edges), len(edges)))
edges = [pixel(rows, (rects[a][0] + rects[a][2]) / 2, rects[a][1] - 1) for a in chunks[100] if a in rects]
check(not any(e == 0xef5350 for e in edges), "frag row 1: quiet's chunks are not")

# Diff marks A (event 1, an empty heap) and B (the end): every chunk is born since A (green).
n = int(run(["stats", "--json", trace]).stdout.split('"events": ')[1].split(",")[0])
rows, paints, rects = shot("diff", ["--diff", "1:%d" % n, "--tab", "diff"])
edges = [pixel(rows, (rects[a][0] + rects[a][2]) / 2, rects[a][1]) for a in chunks[40] if a in rects]
check(len(edges) >= 90 and sum(e == 0x66bb6a for e in edges) >= len(edges) * 0.9,
      "--diff 1:end: pin's chunks, born since A, are outlined in green (%d of %d)" %
      (sum(e == 0x66bb6a for e in edges), len(edges)))

# At A (just before bulk's blocks are freed), with B the end: bulk's chunks, gone at B, are
# outlined in red; pin's, still there, are dimmed.
dump = run(["dump", trace]).stdout.splitlines()
first_free = next(int(l.split()[0][1:]) for l in dump if re.search(r" free(_tcache)? 0x", l))
bulk = []
for line in dump:
    m = re.search(r" malloc size=4000 -> (0x[0-9a-f]+)", line)
    if m:
        bulk.append(int(m.group(1), 16) - 16)
a = first_free - 1
rows, paints, rects = shot("died", ["--diff", "%d:%d" % (a, n), "--at", str(a), "--tab", "diff"])
edges = [pixel(rows, (rects[x][0] + rects[x][2]) / 2, rects[x][1]) for x in bulk if x in rects]
check(len(edges) >= 90 and sum(e == 0xef5350 for e in edges) >= len(edges) * 0.9,
      "at A, bulk's chunks, gone at B, are outlined in red (%d of %d)" % (sum(e == 0xef5350 for e in edges), len(edges)))
pin = [centre(rows, rects[x]) for x in chunks[40] if x in rects]
check(pin and all(dimmed(c, paints[0]) for c in pin), "at A, pin's chunks, unchanged at B, are dimmed")

finish('all sites pixel checks passed')
