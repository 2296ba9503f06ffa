#!/usr/bin/env python3
"""blame_diff_pixel_test.py HEAPVIZ FASTBIN_TRIM WORKDIR: marks on chunks narrower than a pixel.

fastbin_trim (tests/record) keeps 60 of 30000 small blocks (48-80 byte chunks) and frees the
rest; at the mark "before-trim" the map, true to bytes at 1200x800, is ~185 bytes a pixel, so
every chunk is narrower than a pixel.
  - Fragmentation blame row 1 (the kept blocks' site keeps the free runs apart): each kept chunk
    is a red tick of about a pixel, not a 2-pixel outline around a 1-pixel margin (which painted
    ~80 pixels a chunk: an arena of small strings looked all red).
  - --diff A:B, A before the first free, B the mark: the freed chunks, rebinned since A, fill
    their pooled pixels yellow (pooled pixels got no mark: the full view showed nothing changed).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import pixel, read_png  # noqa: E402
from checklist import check, finish, runner  # noqa: E402

HEAPVIZ, PROG, WORK = sys.argv[1:4]
os.makedirs(WORK, exist_ok=True)
RED, YELLOW = 0xEF5350, 0xFFD54F


run = runner(HEAPVIZ)


trace = os.path.join(WORK, "fastbin_trim.hvt")
for f in os.listdir(WORK):
    if f.startswith("fastbin_trim.hvt"):
        os.unlink(os.path.join(WORK, f))
check(run(["record", "-o", trace, "--", PROG]).returncode == 0, "record fastbin_trim")
dump = run(["dump", trace]).stdout.splitlines()
mark = next(int(l.split()[0][1:]) for l in dump if 'mark "before-trim"' in l)
first_free = next(int(l.split()[0][1:]) for l in dump if re.search(r" free(_tcache)? 0x", l))


def shot(name, extra):
    png, geo = os.path.join(WORK, name + ".png"), os.path.join(WORK, name + ".geo")
    r = run(["shot", trace, "--size", "1200x800", "-o", png, "--geometry", geo] + extra)
    check(r.returncode == 0, "shot %s exits 0 %s" % (name, r.stderr.strip()))
    geo_lines = [l.split() for l in open(geo)]
    scale = next(float(f[1]) for f in geo_lines if f[0] == "scale")
    box = next(tuple(map(float, f[1:5])) for f in geo_lines if f[0] == "map")
    rows_line = next(f for f in geo_lines if f[0] == "rows")
    row_h = float(rows_line[3])
    wide = [tuple(map(float, f[3:7])) for f in geo_lines if f[0] == "rect"]  # items of 3+ pixels
    return read_png(png)[2], scale, box, row_h, wide


def count(rows, box, colour, skip=()):
    n = 0
    for y in range(int(box[1]), int(box[3])):
        for x in range(int(box[0]), int(box[2])):
            if any(r[0] - 4 <= x <= r[2] + 4 and r[1] - 4 <= y <= r[3] + 4 for r in skip):
                continue
            if pixel(rows, x, y) == colour:
                n += 1
    return n


rows, scale, box, row_h, wide = shot("blame", ["--at", str(mark + 1), "--tab", "frag", "--row", "1"])
check(scale > 100, "the map is %.0f bytes a pixel: the 48-80 byte chunks are narrower than a pixel" % scale)
red = count(rows, box, RED)
# 60 kept chunks (the first, beside the tcache struct, may merge with it into one tick).
check(59 * row_h * 0.5 <= red <= 60 * row_h * 1.5,
      "blame row 1: %d red pixels, about a pixel's column (%.0f px) for each of the ~60 kept chunks" % (red, row_h))

rows, scale, box, row_h, wide = shot("diff", ["--at", str(mark + 1), "--diff", "%d:%d" % (first_free - 1, mark + 1)])
yellow = count(rows, box, YELLOW, skip=wide)
check(yellow > 20 * 13 * row_h,
      "--diff A:B: %d yellow pixels over the freed chunks, outside the chunks wide enough to outline" % yellow)

finish('all blame and diff pixel checks passed')
