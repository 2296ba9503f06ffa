#!/usr/bin/env python3
"""check_layers.py - every #include follows the layer rules (ctest: Layers.IncludesFollowTheLayerRules).

Owns: the written table of which layer may include which (LAYERS, EXTERNAL, MAY_INCLUDE below),
and the check of every #include in every .h/.cpp/.c under allocator/, visualizer/, tests/ and
bench/ against it. Each include is resolved the way the compiler would find it (the including
file's directory, then the include roots visualizer/, allocator/include/, allocator/src/) and
judged by where it lands, not by how it is spelled. Must not: build anything or change a file.

The layers, bottom up (README, docs/building.md):
  allocator (libc only) -> trace format (allocator/include/heapviz) -> trace reader -> model
  -> analysis -> session -> views (ImGui) -> app (GLFW/GL shell); sim and live on the side; the CLI on top.
  symbols (libdwfl: names for a trace's return addresses) sits on the trace reader, below analysis.

Usage: scripts/check_layers.py [REPO_ROOT]      exit 0 when every include follows the rules,
                                                 1 with one `file:line: ...` line per violation
       scripts/check_layers.py --self-test [REPO_ROOT]
                                                 checks that known bad includes, planted in a
                                                 scratch copy of the tree, are each reported
"""

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile

SCANNED = ("allocator", "visualizer", "tests", "bench")
EXTENSIONS = (".h", ".cpp", ".c")
VISUALIZER = "visualizer"
PUBLIC = "allocator/include"
PRIVATE = "allocator/src"

# Which layer a file of the tree belongs to: the first pattern that matches its path (from the
# repository root). A file that matches none is an error: add its directory here.
LAYERS = [
    ("heapviz", "allocator/include/heapviz/*"),  # the public API: trace format, encoder, hvalloc.h...
    ("allocator", "allocator/src/*"),  # the allocator's internals: private to allocator/
    ("trace-builder", "visualizer/trace/trace_builder.h"),  # hand-made traces: tests, bench only
    ("trace-builder", "visualizer/trace/churn_trace.h"),
    ("trace", "visualizer/trace/*"),
    ("model", "visualizer/model/*"),
    ("sim", "visualizer/sim/*"),
    ("live", "visualizer/live/*"),
    ("symbols", "visualizer/symbols/*"),
    ("analysis", "visualizer/analysis/*"),
    ("session", "visualizer/session/*"),
    ("layout", "visualizer/views/chunk_layout.*"),  # hv_layout: the chunk map's geometry, no UI
    ("layout", "visualizer/views/chunk_words.*"),  # hv_layout: a chunk word by word, no UI
    ("layout", "visualizer/views/addr_sort.*"),  # hv_layout: chunks ordered by address, no UI
    ("layout", "visualizer/views/chunk_sort.*"),  # hv_layout: a model's chunks in address order
    ("layout", "visualizer/views/chunk_layout_update.cpp"),  # hv_layout: the picture moved by changes, no UI
    ("layout", "visualizer/views/palette.h"),  # colours as plain RGB, no ImGui
    ("views", "visualizer/views/*"),
    ("app", "visualizer/app/*"),
    ("cli-gui", "visualizer/cli/cmd_gui.cpp"),  # the CLI's only door to the app (HV_GUI=ON)
    ("cli", "visualizer/cli/*"),
    ("gui-smoke", "visualizer/gui_smoke/*"),
    ("allocator-tests", "tests/allocator/*"),  # white-box tests of the allocator
    ("app-tests", "tests/gui/app_test.cpp"),  # the app in-process (built only with the GUI)
    ("tests", "tests/*"),
    ("bench-gui", "bench/bench_gui.cpp"),
    ("bench", "bench/*"),
]

# Headers found nowhere in the tree, by name (first match).
EXTERNAL = [
    ("imgui", re.compile(r"(^|/)imgui[^/]*\.h$")),  # Dear ImGui and its backends
    ("platform", re.compile(r"^(GLFW|glad|GL|KHR|stb)/")),  # window, GL loader, GL, image writing
    ("system", re.compile(r".")),  # libc, the C++ library, zstd, gtest...
]

NO_UI = "no ImGui, GLFW or GL"
# What each layer may include (its own layer is always allowed), and the rule in words.
MAY_INCLUDE = {
    "heapviz": ({"system"}, "the allocator's public headers stand alone: nothing of allocator/src or the visualizer"),
    "allocator": ({"heapviz", "system"}, "the allocator is libc-only: it never includes the visualizer"),
    "trace": ({"heapviz", "system"}, "the trace reader knows the format only: never model, session, views, app; " + NO_UI),
    "trace-builder": ({"trace", "heapviz", "system"}, "the trace builder writes traces with the public encoder"),
    "model": ({"trace", "heapviz", "system"}, "the replay model sits on the trace reader: never session, views, app; " + NO_UI),
    "sim": ({"heapviz", "system"}, "sim drives the allocator only through heapviz/simulated_heap.h; " + NO_UI),
    "live": ({"heapviz", "system"}, "the live client speaks heapviz/live_protocol.h; " + NO_UI),
    "symbols": ({"trace", "heapviz", "system"}, "symbolization reads a trace's modules and the files they name: never model, session, views, app; " + NO_UI),
    "analysis": ({"symbols", "model", "trace", "heapviz", "system"}, "the analysis layer sits on the model: never session, views, app; " + NO_UI),
    "session": ({"analysis", "symbols", "model", "trace", "sim", "heapviz", "system"}, "the session sits on the analysis layer and the model: never views or app; " + NO_UI),
    "layout": ({"model", "trace", "heapviz", "system"}, "the chunk map's geometry is pure: " + NO_UI),
    "views": ({"layout", "session", "analysis", "symbols", "model", "trace", "heapviz", "imgui", "system"},
              "views draw with ImGui and never include the app or the platform (GLFW, GL)"),
    "app": ({"views", "layout", "session", "analysis", "symbols", "model", "trace", "live", "heapviz", "imgui", "platform", "system"},
            "the app shell sits on the views"),
    "cli": ({"sim", "session", "analysis", "symbols", "model", "trace", "live", "layout", "heapviz", "system"},
            "the CLI builds without the GUI: never app or views, " + NO_UI + " (only cli/cmd_gui.cpp reaches the app)"),
    "cli-gui": ({"cli", "app", "system"}, "cli/cmd_gui.cpp hands the GUI commands to the app and nothing else"),
    "gui-smoke": ({"imgui", "platform", "system"}, "the GUI toolchain's smoke test uses the toolchain only"),
    "allocator-tests": ({"allocator", "heapviz", "system"}, "the allocator's white-box tests see its internals and nothing of the visualizer"),
    "tests": ({"trace-builder", "trace", "model", "analysis", "symbols", "sim", "session", "layout", "live", "heapviz", "system"},
              "tests outside tests/allocator use the public headers and build without the GUI: never allocator/src, views, app; " + NO_UI),
    "app-tests": ({"app", "views", "layout", "session", "symbols", "model", "trace", "heapviz", "imgui", "system"},
                  "the in-process app tests drive the app through its header and ImGui's IO"),
    "bench": ({"trace-builder", "trace", "model", "session", "symbols", "heapviz", "system"},
              "benchmarks of the model and the session build without the GUI; " + NO_UI),
    "bench-gui": ({"bench", "trace-builder", "app", "views", "layout", "session", "symbols", "model", "trace", "heapviz", "imgui", "system"},
                  "the app benchmark drives the app"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(rel):
    for name, pattern in LAYERS:
        if fnmatch.fnmatchcase(rel, pattern):
            return name
    return None


def scanned_files(root):
    for top in SCANNED:
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs.sort()
            for f in sorted(files):
                if f.endswith(EXTENSIONS):
                    yield os.path.relpath(os.path.join(d, f), root)


def build_bare_index(root):
    """Bare header name -> its rooted spelling, for visualizer headers (to suggest the fix)."""
    index = {}
    for d, _, files in os.walk(os.path.join(root, VISUALIZER)):
        for f in files:
            if f.endswith(".h"):
                index.setdefault(f, os.path.relpath(os.path.join(d, f), os.path.join(root, VISUALIZER)))
    return index


def resolve(root, includer, spelled, quoted):
    """(path from root of the header, how it was found) or (None, None) for an external header."""
    here = os.path.dirname(includer)
    if quoted:
        p = os.path.normpath(os.path.join(here, spelled))
        if os.path.isfile(os.path.join(root, p)):
            return p, "relative"
    for base in (VISUALIZER, PUBLIC, PRIVATE):
        p = os.path.normpath(os.path.join(base, spelled))
        if os.path.isfile(os.path.join(root, p)):
            return p, base
    return None, None


def check(root):
    bare = build_bare_index(root)
    problems = []
    nfiles = nincludes = 0
    for rel in scanned_files(root):
        nfiles += 1
        me = layer_of(rel)
        if me is None:
            problems.append(f"{rel}:1: no layer for this file: add its directory to LAYERS in scripts/check_layers.py")
            continue
        allowed, why = MAY_INCLUDE[me]
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        for n, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            nincludes += 1
            quoted = m.group(1) == '"'
            spelled = m.group(2)
            shown = f'#include {m.group(1)}{spelled}{">" if m.group(1) == "<" else chr(34)}'
            target, found_via = resolve(root, rel, spelled, quoted)
            if target is None:
                if spelled in bare and quoted:
                    problems.append(f'{rel}:{n}: {shown}: includes are rooted: write "{bare[spelled]}" '
                                    "(one include root, visualizer/; see visualizer/CMakeLists.txt)")
                    continue
                theirs = next(name for name, rx in EXTERNAL if rx.search(spelled))
            else:
                theirs = layer_of(target)
                # Rooted spelling: a visualizer header by its path from visualizer/, a public
                # allocator header as heapviz/...; only allocator/src and the tests' and benchmarks'
                # own helpers are found next to the including file.
                if target.startswith(VISUALIZER + "/") and found_via != VISUALIZER:
                    problems.append(f'{rel}:{n}: {shown}: includes are rooted: write '
                                    f'"{os.path.relpath(target, VISUALIZER)}" (see visualizer/CMakeLists.txt)')
                    continue
                if target.startswith(PUBLIC + "/") and found_via != PUBLIC:
                    problems.append(f'{rel}:{n}: {shown}: write "{os.path.relpath(target, PUBLIC)}"')
                    continue
            if theirs == me or theirs in allowed:
                continue
            where = f" ({target})" if target else ""
            problems.append(f"{rel}:{n}: {shown}{where}: {me} may not include {theirs}. Rule: {why} "
                            f"[{me} may include: {', '.join(sorted(allowed | {me}))}]")
    return problems, nfiles, nincludes


# Planted in a scratch copy by --self-test: (file, include line, text the report must contain).
BAD_INCLUDES = [
    ("visualizer/model/heap_model.cpp", '#include "views/views.h"', "model may not include views"),
    ("visualizer/model/replay.h", '#include "session/document.h"', "model may not include session"),
    ("visualizer/trace/event_stream.cpp", '#include "model/replay.h"', "trace may not include model"),
    ("visualizer/session/document.cpp", '#include "imgui.h"', "session may not include imgui"),
    ("visualizer/views/chunk_map.cpp", '#include "app/app.h"', "views may not include app"),
    ("visualizer/views/chunk_layout.cpp", '#include "imgui.h"', "layout may not include imgui"),
    ("visualizer/sim/runner.cpp", '#include "malloc_core.h"', "sim may not include allocator"),
    ("visualizer/cli/cmd_check.cpp", "#include <GLFW/glfw3.h>", "cli may not include platform"),
    ("visualizer/cli/cmd_live.cpp", '#include "app/shell.h"', "cli may not include app"),
    ("allocator/src/arena.h", '#include "model/heap_model.h"', "allocator may not include model"),
    ("tests/model/model_test.cpp", '#include "heap_model.h"', 'includes are rooted: write "model/heap_model.h"'),
    ("visualizer/model/replay.cpp", '#include "replay.h"', 'includes are rooted: write "model/replay.h"'),
    ("tests/trace/reader_test.cpp", '#include "../../allocator/src/chunk.h"', "tests may not include allocator"),
    ("visualizer/trace/trace_file.cpp", '#include "trace/trace_builder.h"', "trace may not include trace-builder"),
]


def self_test(root):
    with tempfile.TemporaryDirectory(prefix="check_layers.") as tmp:
        for rel in scanned_files(root):
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            shutil.copy(os.path.join(root, rel), os.path.join(tmp, rel))
        clean = subprocess.run([sys.executable, __file__, tmp], capture_output=True, text=True)
        if clean.returncode != 0:
            print("self-test: the unmodified copy does not pass:\n" + clean.stdout + clean.stderr)
            return 1
        for rel, line, _ in BAD_INCLUDES:  # as line 2: after the banner's first line
            p = os.path.join(tmp, rel)
            with open(p) as f:
                text = f.readlines()
            text.insert(1, line + "\n")
            with open(p, "w") as f:
                f.writelines(text)
        bad = subprocess.run([sys.executable, __file__, tmp], capture_output=True, text=True)
        print(bad.stdout, end="")
        failed = 0
        if bad.returncode != 1:
            print(f"self-test: expected exit status 1 with bad includes, got {bad.returncode}")
            failed = 1
        reported = bad.stdout.splitlines()
        for rel, line, expect in BAD_INCLUDES:
            hits = [r for r in reported if r.startswith(f"{rel}:2: {line}") and expect in r]
            if not hits:
                print(f"self-test: not reported as expected: {rel}:2: {line} ({expect})")
                failed = 1
        if len([r for r in reported if re.match(r"\S+:\d+: ", r)]) != len(BAD_INCLUDES):
            print(f"self-test: expected exactly {len(BAD_INCLUDES)} violations")
            failed = 1
        if not failed:
            print(f"self-test: all {len(BAD_INCLUDES)} planted bad includes reported, the clean copy passes")
        return failed


def main(argv):
    args = [a for a in argv[1:] if a != "--self-test"]
    root = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(__file__), ".."))
    if "--self-test" in argv:
        return self_test(root)
    problems, nfiles, nincludes = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} include(s) break the layer rules (the table: scripts/check_layers.py)")
        return 1
    print(f"check_layers: {nfiles} files, {nincludes} includes: every include follows the layer rules")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
