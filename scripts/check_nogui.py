#!/usr/bin/env python3
"""check_nogui.py - heapviz configures, builds and tests with -DHV_GUI=OFF, on no GUI package.

Owns: the proof that the CLI and the non-GUI tests need no GLFW, OpenGL or Dear ImGui, without
uninstalling them (docs/building.md). Must not: touch any build directory but the one it is given.

  scripts/check_nogui.py [--configure-only] [--ctest] [BUILD_DIR] [-- CMAKE_ARGS...]

Configures BUILD_DIR (default build-nogui) afresh with -DHV_GUI=OFF, then checks that
  1. no GUI package was looked for (no glfw/imgui/glad/gl lookup in CMakeCache.txt),
  2. no compile command names a GUI source or include directory (compile_commands.json),
  3. no link line or build rule mentions a GUI library,
  4. no test needs the GUI (label gui, or xvfb-run).
Without --configure-only it then builds everything (-j$HV_JOBS, default 2) and checks that
  5. no binary in BUILD_DIR/bin or lib links a GUI library (ldd),
  6. `heapviz view` and `heapviz shot` say they need the GUI and exit 2;
and with --ctest it runs ctest in BUILD_DIR. Exit status 0 when all of that holds.
ctest runs the --configure-only part (Layers.NoGuiConfigureLooksForNoGuiPackage: a few seconds).
"""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
# What a GUI dependency looks like in a cache variable name, a path, a flag or a library name.
GUI_NAME = re.compile(r"glfw|imgui|glad|(^|[^A-Za-z])HV_GL_|pkgcfg_lib_HV_GL", re.I)
GUI_PATH = re.compile(r"imgui|glfw|glad|/GL(/|\b)|/KHR\b|visualizer/(app|gui_smoke)/|visualizer/views/(?!chunk_layout|chunk_words|addr_sort|chunk_sort)|"
                      r"cli/cmd_gui\.cpp", re.I)
GUI_LIB = re.compile(r"imgui|glfw|glad|(^|[\s/])-lGL\b|libGL[.X]|libOpenGL|libEGL", re.I)

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def ok(msg):
    print("ok: " + msg)


def run(cmd, **kw):
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, **kw)


def main(argv):
    args, cmake_args = argv[1:], []
    if "--" in args:
        cmake_args = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    configure_only = "--configure-only" in args
    want_ctest = "--ctest" in args
    rest = [a for a in args if not a.startswith("--")]
    build = os.path.abspath(rest[0] if rest else os.path.join(ROOT, "build-nogui"))
    jobs = os.environ.get("HV_JOBS", "2")

    r = run(["cmake", "--fresh", "-S", ROOT, "-B", build, "-DHV_GUI=OFF"] + cmake_args,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print(r.stdout)
        fail("cmake -DHV_GUI=OFF did not configure")
        return 1

    # 1. No GUI package looked for: every find_package/pkg_check_modules/find_program/find_path
    #    leaves a cache entry (found or not), so none may name a GUI dependency.
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        names = [ln.split(":", 1)[0].split("=", 1)[0] for ln in f if ln[:1].isalpha() or ln[:2] == "__"]
    gui = sorted({n for n in names if GUI_NAME.search(n)})
    if gui:
        fail("GUI lookups in CMakeCache.txt: " + ", ".join(gui))
    else:
        ok(f"CMakeCache.txt: {len(names)} entries, none from a GUI lookup")

    # 2. No compile command compiles a GUI source or sees a GUI include directory.
    with open(os.path.join(build, "compile_commands.json")) as f:
        cmds = json.load(f)
    bad = [c["file"] for c in cmds
           if GUI_PATH.search(c["file"]) or GUI_PATH.search(c.get("command", " ".join(c.get("arguments", []))))]
    if bad:
        fail("compile commands with a GUI source or include dir: " + ", ".join(sorted(set(bad))[:10]))
    else:
        ok(f"compile_commands.json: {len(cmds)} commands, no GUI source, include dir or flag")

    # 3. No link line or build rule mentions a GUI library (Makefiles: link.txt, flags.make;
    #    Ninja: build.ninja).
    hits = []
    for d, _, files in os.walk(build):
        for fn in files:
            if fn in ("link.txt", "flags.make", "build.ninja"):
                p = os.path.join(d, fn)
                with open(p, errors="replace") as f:
                    for n, ln in enumerate(f, 1):
                        if GUI_LIB.search(ln):
                            hits.append(f"{os.path.relpath(p, build)}:{n}")
    if hits:
        fail("GUI libraries on link lines or in build rules: " + ", ".join(hits[:10]))
    else:
        ok("link lines and build rules: no GUI library")

    # 4. No test needs the GUI.
    r = run(["ctest", "--test-dir", build, "--show-only=json-v1"], stdout=subprocess.PIPE, text=True)
    tests = json.loads(r.stdout).get("tests", [])
    gui_tests = []
    for t in tests:
        labels = [p["value"] for p in t.get("properties", []) if p["name"] == "LABELS"]
        labels = labels[0] if labels else []
        if "gui" in labels or any("xvfb" in a for a in t.get("command", [])):
            gui_tests.append(t["name"])
    if gui_tests:
        fail("tests that need the GUI are registered: " + ", ".join(gui_tests))
    else:
        ok(f"{len(tests)} tests registered, none labelled gui or run under xvfb-run")

    if configure_only:
        return 1 if failures else 0

    r = run(["cmake", "--build", build, f"-j{jobs}"])
    if r.returncode != 0:
        fail("the HV_GUI=OFF build failed")
        return 1

    # 5. ldd: nothing links a GUI library.
    linked = []
    binaries = 0
    for sub in ("bin", "lib"):
        d = os.path.join(build, sub)
        for fn in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            p = os.path.join(d, fn)
            if not os.path.isfile(p) or not (os.access(p, os.X_OK) or fn.endswith(".so")):
                continue
            r = subprocess.run(["ldd", p], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if "not a dynamic executable" in r.stdout:
                continue
            binaries += 1
            for ln in r.stdout.splitlines():
                if GUI_LIB.search(ln):
                    linked.append(f"{sub}/{fn}: {ln.strip()}")
    if linked:
        fail("binaries linking GUI libraries:\n  " + "\n  ".join(linked))
    else:
        ok(f"ldd: {binaries} binaries in bin/ and lib/, none links GLFW, GL or ImGui")

    # 6. The GUI commands say what is missing, with exit status 2.
    heapviz = os.path.join(build, "bin", "heapviz")
    for cmd in (["view", "x.hvt"], ["shot", "x.hvt", "-o", "x.png"]):
        r = subprocess.run([heapviz] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        want = f"heapviz: '{cmd[0]}' needs the GUI; this heapviz was built with -DHV_GUI=OFF"
        if r.returncode == 2 and r.stderr.strip() == want:
            ok(f"heapviz {cmd[0]}: exit 2, \"{r.stderr.strip()}\"")
        else:
            fail(f"heapviz {cmd[0]}: exit {r.returncode}, stderr {r.stderr.strip()!r}")

    if want_ctest:
        r = run(["ctest", "--test-dir", build, f"-j{jobs}", "--output-on-failure"])
        if r.returncode != 0:
            fail("ctest failed in the HV_GUI=OFF build")

    print("check_nogui: " + ("FAILED" if failures else "the HV_GUI=OFF build needs no GUI package"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
