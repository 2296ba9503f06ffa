#!/usr/bin/env python3
"""lesson_pixel_test.py HEAPVIZ WORKDIR: every step of every lesson renders (docs/lessons.md).

For each lesson `heapviz lesson --check` lists, `heapviz shot --lesson NAME --step K` of its first and
last steps exits 0, names at least one block (its `callout` lines in --geometry), and the map outlines each
named block in the lesson colour (read from the geometry, never copied). Then `heapviz lesson`
opens the app at a step (HEAPVIZ_TEST_FRAMES): the first lesson at its first step, and a step of
the four-policy lesson on its policy. Run under xvfb-run (ctest Gui.EveryLessonStepRenders)."""
import os
import re
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


def near(rgb, want, tol=40):
    return all(abs(((rgb >> s) & 255) - ((want >> s) & 255)) <= tol for s in (16, 8, 0))


r = run(["lesson", "--check"])
check(r.returncode == 0, "lesson --check exits 0" + ("" if r.returncode == 0 else ": " + r.stderr))
lessons = [(m.group(1), int(m.group(2))) for m in re.finditer(r"^ok\s+(\S+)\s+(\d+) steps", r.stdout, re.M)]
check(len(lessons) >= 10, f"{len(lessons)} lessons")

for name, steps in lessons:
    for k in sorted({1, steps}):  # (every step of every lesson is walked in-process: hv_app_tests)
        what = f"{name} step {k}"
        png, geo = os.path.join(WORK, f"{name}-{k}.png"), os.path.join(WORK, f"{name}-{k}.geo")
        r = run(["shot", "--lesson", name, "--step", str(k), "-o", png, "--geometry", geo])
        if r.returncode != 0:
            check(False, f"{what}: shot exits {r.returncode}: {r.stderr.strip()}")
            continue
        rects, callouts, rgb = [], [], None
        for line in open(geo):
            f = line.split()
            if f[0] == "rect":
                rects.append((int(f[1], 16), int(f[2]), *map(float, f[4:8])))
            elif f[0] == "callout":
                callouts.append((f[1], int(f[2], 16)))
            elif f[0] == "lessonrgb":
                rgb = int(f[1], 16)
        _, _, img = read_png(png)
        visible, outlined = [], []
        for cname, ptr in callouts:
            box = next((r[2:] for r in rects if r[0] <= ptr < r[0] + max(r[1], 1)), None)
            if box is None:
                continue  # not on the rows drawn
            visible.append(cname)
            x0, y0, x1, y1 = (int(v) for v in box)
            # The outline runs 3 px outside the chunk's rectangle (the selection's runs at 1 px).
            edge = [(x, y) for y in range(y0 - 3, y1 + 4) for x in (x0 - 3, x1 + 2)]
            edge += [(x, y) for x in range(x0 - 3, x1 + 3) for y in (y0 - 3, y1 + 2)]
            hits = sum(1 for x, y in edge if 0 <= x < 1600 and 0 <= y < 900 and near(pixel(img, x, y), rgb))
            if hits >= 4:
                outlined.append(cname)
        check(bool(visible) and outlined == visible,
              f"{what}: names {[c[0] for c in callouts]}, on the map {visible}, outlined {outlined}")

# The app opened by `heapviz lesson`: at the step, on its policy, the blocks outlined.
env = dict(os.environ, HEAPVIZ_TEST_FRAMES="10", XDG_CONFIG_HOME=os.path.join(WORK, "config"))
r = run(["lesson", "vocabulary"], env)
check(r.returncode == 0 and "heapviz: lesson vocabulary, step 1 of 4, policy glibc, outlined 1" in r.stdout,
      "heapviz lesson vocabulary opens at step 1: " + r.stdout.strip().replace("\n", " | "))
r = run(["lesson", "4", "--step", "3"], env)
check(r.returncode == 0 and "lesson fits, step 3 of 9, policy next-fit, outlined 2" in r.stdout,
      "heapviz lesson 4 --step 3 opens on next-fit: " + r.stdout.strip().replace("\n", " | "))

print("lesson_pixel_test: " + ("all passed" if not FAILS else f"{len(FAILS)} failed"))
sys.exit(1 if FAILS else 0)
