#!/usr/bin/env python3
"""The app in live mode, under Xvfb: `heapviz attach PID --shot` follows a running program and
saves the window. The menu bar must say LIVE (its green), the chunk map must show in-use chunks
(the palette's colour, read from `heapviz shot --geometry`, never copied here), the received
history must pass `heapviz check`; after the program exits the bar must say so (its blue) and
the history stays on screen.

usage: live_gui_test.py HEAPVIZ LIVE_TARGET LIBHVALLOC WORKDIR
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gui"))
from png import pixel, read_png  # noqa: E402

HV, TARGET, LIB, WORK = sys.argv[1:5]
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
os.chdir(WORK)
env = dict(os.environ, XDG_RUNTIME_DIR=os.path.join(WORK, "run"), XDG_CONFIG_HOME=os.path.join(WORK, "cfg"))
os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
FAILS = []

LIVE_GREEN = (102 << 16) | (217 << 8) | 115   # ImVec4(0.40, 0.85, 0.45): "LIVE: following"
EXITED_BLUE = (140 << 16) | (191 << 8) | 255  # ImVec4(0.55, 0.75, 1): "PROCESS EXITED"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def start_target(args):
    p = subprocess.Popen([TARGET] + args, env=dict(env, LD_PRELOAD=LIB, HEAPVIZ_LIVE="1"),
                         stdout=subprocess.PIPE, text=True)
    sock = os.path.join(env["XDG_RUNTIME_DIR"], "heapviz", "%d.sock" % p.pid)
    for _ in range(200):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    return p


def colours_in(rows, x0, y0, x1, y1):
    return {pixel(rows, x, y) for y in range(y0, y1) for x in range(x0, x1)}


def shot(pid, name, seconds):
    r = subprocess.run([HV, "attach", str(pid), "--shot", name + ".png", "--seconds", str(seconds)], env=env,
                       capture_output=True, text=True, timeout=120)
    print(r.stderr.strip())
    return r


# ---- following a running program ---------------------------------------------------------------
p = start_target(["2", "400", "10000", "1000"])  # about 4 s of churn
r = shot(p.pid, "following", 2)
check(r.returncode == 0, "attach --shot exits 0 while the program runs (exit %d)" % r.returncode)
capture = "heapviz.%s.%d.hvt" % (os.path.basename(TARGET), p.pid)
w, h, rows = read_png("following.png")
check((w, h) == (1600, 900), "the window is 1600x900 (%dx%d)" % (w, h))
bar = colours_in(rows, 0, 0, w, 20)
check(LIVE_GREEN in bar, "the menu bar says LIVE in green")
# The in-use colour from the app's own palette: shot --geometry prints the paint table.
g = subprocess.run([HV, "shot", capture, "-o", "still.png", "--geometry", "still.txt"], env=env,
                   capture_output=True, text=True, timeout=120)
check(g.returncode == 0, "heapviz shot reads the received history (%s)" % g.stderr.strip())
paint = {}
for line in open("still.txt"):
    f = line.split()
    if f[0] == "paint":
        paint[" ".join(f[3:])] = int(f[2], 16)
in_use = paint.get("in use (requested)", paint.get("in use"))
check(in_use is not None, "the palette names the in-use colour")
map_area = colours_in(rows, 0, 100, 1100, 450)
check(in_use in map_area, "the live chunk map shows in-use chunks")
c = subprocess.run([HV, "check", capture], env=env, capture_output=True, text=True, timeout=120)
check(c.returncode == 0 and "warning" not in c.stdout + c.stderr,
      "the received history checks: " + (c.stdout + c.stderr).strip())
out, _ = p.communicate(timeout=60)
expected = subprocess.run([TARGET, "2", "400", "10000", "1000"], capture_output=True, text=True).stdout
check(p.returncode == 0 and out == expected, "the program finishes with unchanged output")

# ---- the program exits while the app follows it -----------------------------------------------
p = start_target(["2", "40", "10000", "1000"])  # about 0.5 s
r = shot(p.pid, "exited", 3)
p.wait(timeout=60)
check(r.returncode == 0, "attach --shot exits 0 after the program ended")
w, h, rows = read_png("exited.png")
bar = colours_in(rows, 0, 0, w, 20)
check(EXITED_BLUE in bar, "the menu bar says PROCESS EXITED in blue")
check(LIVE_GREEN not in bar, "and no longer LIVE")
check(len(colours_in(rows, 0, 100, 1100, 450)) > 20, "the chunk map is drawn after the exit")

print("all live app tests passed" if not FAILS else "%d live app test(s) failed" % len(FAILS))
sys.exit(1 if FAILS else 0)
