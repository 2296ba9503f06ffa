#!/usr/bin/env python3
"""stacks_test.py HEAPVIZ BINDIR SRCDIR WORKDIR PLUGIN: call stacks as a user records and reads them.

Records the test programs with `heapviz record` (stacks are on by default) and checks, through
`heapviz leaks --json` and `heapviz sites --json`, that:
  - leaks are exact in count and bytes, and every planted site names the right function, file and
    line, in C built -O2 without frame pointers and -O0, through libc (strdup), in a dlopen'ed
    library, in four threads, and in C++ with an inlined function and exceptions thrown through
    frames that allocate (no false leaks, the program unharmed);
  - the stack check that spares a walk on a stack seen before never takes one stack for another:
    120 call paths through look-alike frames, each allocation at its own path's site;
  - CPython's C frames are named;
  - a binary that is gone, changed since recording, or stripped shows module+offset and says why;
  - the recording with stacks lays the heap out exactly as without them (same trace dump).
"""
import json
import os
import re
import shutil
import subprocess
import sys

hv, bindir, srcdir, work, plugin = sys.argv[1:6]
os.makedirs(work, exist_ok=True)
fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL: " + msg)


def ok(msg):
    print("ok: " + msg)


def line_of(src, marker):
    """The line with the marker comment (/* MARKER */ or // MARKER) in a test source."""
    with open(os.path.join(srcdir, src)) as f:
        for n, l in enumerate(f, 1):
            if re.search(r"(/\*|//) %s\b" % marker, l):
                return n
    raise SystemExit("no marker " + marker)


def record(name, argv, env=None, opts=()):
    out = os.path.join(work, name + ".hvt")
    for f in os.listdir(work):
        if f.startswith(name + ".hvt"):
            os.unlink(os.path.join(work, f))
    r = subprocess.run([hv, "record", "-o", out] + list(opts) + ["--"] + argv, capture_output=True, text=True,
                       env=dict(os.environ, **(env or {})))
    if r.returncode != 0:
        fail("%s: record exited %d: %s" % (name, r.returncode, r.stderr[-500:]))
    return out


def run_json(*args):
    r = subprocess.run([hv] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        fail("heapviz %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr[-500:]))
        return {}, r.stderr
    return json.loads(r.stdout), r.stderr


def find(leaks, pred):
    return [l for l in leaks if pred(l)]


def frame_is(f, function, src, line):
    names = function if isinstance(function, tuple) else (function,)
    return f["function"] in names and f["file"].endswith(src) and f["line"] == line


def check_c(build):
    prog = os.path.join(bindir, "hv_sites_prog" + build)
    t = record("c" + build, [prog])
    j, _ = run_json("leaks", "--json", t)
    if not j:
        return
    # Exactly what the program leaked: nothing else allocates (no stdio, no dlopen).
    if (j["total_count"], j["total_bytes"]) != (4, 306):
        fail("%s: leaks total %d blocks %d bytes, want 4 and 306" % (build, j["total_count"], j["total_bytes"]))
    a = find(j["leaks"], lambda l: l["bytes"] == 300)
    b = find(j["leaks"], lambda l: l["bytes"] == 6)
    if len(a) != 1 or a[0]["count"] != 3:
        fail("%s: no single leak of 3 blocks, 300 bytes: %s" % (build, j["leaks"]))
    else:
        s = a[0]["stack"]
        if not (frame_is(s[0], "keep_a", "sites_prog.c", line_of("sites_prog.c", "SITE_A")) and
                frame_is(s[1], "main", "sites_prog.c", line_of("sites_prog.c", "CALL_A"))):
            fail("%s: keep_a's leak: %s" % (build, s[:3]))
        else:
            ok("%s: 3 blocks, 300 bytes at keep_a (sites_prog.c:%d) <- main (sites_prog.c:%d)" %
               (build, s[0]["line"], s[1]["line"]))
    # strdup's block is the program's: in libc, but not a block libc keeps for itself.
    if j.get("runtime_count") != 0 or any(l["held_by_runtime"] is not None for l in j["leaks"]):
        fail("%s: the program's blocks taken for the C library's own: %s" % (build, j))
    if len(b) != 1 or b[0]["count"] != 1:
        fail("%s: no single leak of strdup's 6 bytes: %s" % (build, j["leaks"]))
    else:
        s = b[0]["stack"]
        if not (s[0]["function"] in ("strdup", "__strdup") and "libc" in s[0]["module"] and
                frame_is(s[1], "keep_b", "sites_prog.c", line_of("sites_prog.c", "SITE_B"))):
            fail("%s: strdup's leak: %s" % (build, s[:3]))
        else:
            ok("%s: 6 bytes at %s (libc) <- keep_b (sites_prog.c:%d)" % (build, s[0]["function"], s[1]["line"]))
    # A site is a full stack: keep_a from main's second loop is a site of its own.
    j, _ = run_json("sites", "--json", "--by", "temporary", t)
    top = j["sites"][0] if j.get("sites") else {}
    if (top.get("temporary"), top.get("allocs"), top.get("bytes_allocated"), top.get("live_count")) != (5, 5, 35, 0) \
            or not frame_is(top["stack"][1], "main", "sites_prog.c", line_of("sites_prog.c", "CALL_A2")):
        fail("%s: sites --by temporary: %s" % (build, top))
    else:
        ok("%s: sites: keep_a <- main (sites_prog.c:%d): 5 allocations, 35 bytes, 5 temporary, none live" %
           (build, top["stack"][1]["line"]))


check_c("_O2")
check_c("_O0")

# A dlopen'ed library's site: its module is named after the recording began.
t = record("plugin", [os.path.join(bindir, "hv_sites_prog_O2"), plugin])
j, _ = run_json("leaks", "--json", "--top", "0", t)
p = find(j.get("leaks", []), lambda l: l["stack"] and l["stack"][0]["function"] == "plugin_alloc")
if len(p) != 2 or [(l["count"], l["bytes"]) for l in p] != [(1, 64), (1, 64)] or \
        not all(frame_is(l["stack"][0], "plugin_alloc", "plugin.c", line_of("plugin.c", "SITE_P")) for l in p) or \
        not p[0]["stack"][0]["module"].endswith("libhv_sites_plugin.so"):
    fail("dlopen: plugin_alloc's leak: %s" % p)
else:
    ok("dlopen: 2 blocks, 64 bytes each, at plugin_alloc (plugin.c:%d) in %s, from two lines of main" %
       (p[0]["stack"][0]["line"], os.path.basename(p[0]["stack"][0]["module"])))

# Four threads.
t = record("threads", [os.path.join(bindir, "hv_sites_threads")])
j, _ = run_json("leaks", "--json", "--top", "0", t)
p = find(j.get("leaks", []), lambda l: l["stack"] and l["stack"][0]["function"] == "thread_fn")
if len(p) != 1 or (p[0]["count"], p[0]["bytes"]) != (40, 1920) or \
        not frame_is(p[0]["stack"][0], "thread_fn", "threads.c", line_of("threads.c", "SITE_T")):
    fail("threads: thread_fn's leak: %s" % p)
else:
    ok("threads: 40 blocks, 1920 bytes at thread_fn (threads.c:%d) from 4 threads, <- %s" %
       (p[0]["stack"][0]["line"], p[0]["stack"][1]["function"] if len(p[0]["stack"]) > 1 else "?"))
# The threads' TLS (allocate_dtv, under pthread_create) is the C library's own: last, said so.
tls = find(j.get("leaks", []), lambda l: l["held_by_runtime"] == "a thread's TLS")
held = [i for i, l in enumerate(j.get("leaks", [])) if l["held_by_runtime"]]
if not tls or tls[0]["stack"][0]["function"] != "allocate_dtv" or \
        held != list(range(len(j["leaks"]) - len(held), len(j["leaks"]))) or \
        j["runtime_count"] != sum(l["count"] for l in j["leaks"] if l["held_by_runtime"]):
    fail("threads: the TLS blocks are not listed last as the C library's: %s" % j)
else:
    ok("threads: %d TLS block%s (allocate_dtv) listed last, held by the C library" %
       (tls[0]["count"], "" if tls[0]["count"] == 1 else "s"))

# C++: an inlined function's frame, exceptions through allocating frames.
t = record("cpp", [os.path.join(bindir, "hv_sites_cpp")])
j, _ = run_json("leaks", "--json", "--top", "0", t)
nodes = find(j.get("leaks", []), lambda l: any(f["function"] == "build(int)" for f in l["stack"]))
if len(nodes) != 1 or (nodes[0]["count"], nodes[0]["bytes"]) != (4, 64):
    fail("c++: the 4 nodes' leak: %s" % nodes)
else:
    s = nodes[0]["stack"]
    if not (frame_is(s[0], ("make_node", "make_node(long)"), "sites_cpp.cpp", line_of("sites_cpp.cpp", "SITE_INLINE")) and
            frame_is(s[1], "build(int)", "sites_cpp.cpp", line_of("sites_cpp.cpp", "CALL_INLINE")) and
            s[0]["address"] == s[1]["address"]):
        fail("c++: inlined make_node's frames: %s" % s[:3])
    else:
        ok("c++: 4 nodes, 64 bytes at make_node (inlined, sites_cpp.cpp:%d) <- build (sites_cpp.cpp:%d)" %
           (s[0]["line"], s[1]["line"]))
if find(j.get("leaks", []), lambda l: any(f["function"].startswith("thrower") for f in l["stack"])):
    fail("c++: a leak blamed on thrower (the exceptions' vectors and objects are all freed)")
else:
    ok("c++: nothing thrower allocated leaks (10 vectors, 5 exceptions, all freed); the program exited 0")

# CPython's C frames (PYTHONMALLOC=malloc: every object through malloc).
py = shutil.which("python3", path="/usr/bin") or "/usr/bin/python3"
t = record("python", [py, "-c", "x = [bytearray(50000) for _ in range(20)]"], {"PYTHONMALLOC": "malloc"})
j, _ = run_json("sites", "--json", "--by", "bytes", "--top", "5", t)
named = [f["function"] for s in j.get("sites", []) for f in s["stack"] if re.match(r"_?Py", f["function"])]
if not named:
    fail("python: no Py* frame in the top sites: %s" % [[f["function"] for f in s["stack"][:4]] for s in j.get("sites", [])])
else:
    ok("python: CPython's frames are named (%s, ...)" % ", ".join(sorted(set(named))[:3]))

# A binary that is gone, and one that changed since recording.
gone = os.path.join(work, "gone_prog")
shutil.copy(os.path.join(bindir, "hv_sites_prog_O2"), gone)
t = record("gone", [gone])
os.unlink(gone)
j, err = run_json("leaks", "--json", t)
top = j.get("leaks", [{}])[0].get("stack", [{}])[0] if j else {}
if not re.match(r"gone_prog\+0x[0-9a-f]+$", top.get("function", "")) or "file is missing" not in err:
    fail("gone: %s / %s" % (top, err))
else:
    ok("a binary that is gone: %s, and stderr says why" % top["function"])
shutil.copy(os.path.join(bindir, "hv_sites_prog_O2"), gone)
t = record("changed", [gone])
shutil.copy(os.path.join(bindir, "hv_sites_prog_O0"), gone)
j, err = run_json("leaks", "--json", t)
names = [f["function"] for l in j.get("leaks", []) for f in l["stack"] if f["module"] == gone]
if not names or any(not re.match(r"gone_prog\+0x", n) for n in names) or "changed since recording" not in err:
    fail("changed: %s / %s" % (names, err))
else:
    ok("a binary that changed since recording: no names from the wrong file (%s), and stderr says why" % names[0])

# A stripped binary: its frames are module+offset, and stderr says why and what to do (a build
# with symbols says nothing of the kind).
stripped = os.path.join(work, "stripped_prog")
shutil.copy(os.path.join(bindir, "hv_sites_prog_O2"), stripped)
subprocess.run(["strip", "--strip-all", stripped], check=True)
t = record("stripped", [stripped])
j, err = run_json("leaks", "--json", t)
names = [f["function"] for l in j.get("leaks", []) for f in l["stack"] if f["module"] == stripped]
if not names or any(not re.match(r"stripped_prog\+0x", n) for n in names) or \
        "stripped (no symbol table) and no debug symbols found" not in err or "-dbgsym" not in err:
    fail("stripped: %s / %s" % (names, err))
else:
    ok("a stripped binary: %s, and stderr says it is stripped and how to get symbols" % names[0])
j, err = run_json("leaks", "--json", record("unstripped", [os.path.join(bindir, "hv_sites_prog_O2")]))
if "stripped" in err:
    fail("a binary with symbols is called stripped: %s" % err)

# Stacks do not move a chunk: the same run with and without them replays to the same heap.
a = record("with", [os.path.join(bindir, "hv_sites_prog_O2")])
b = record("without", [os.path.join(bindir, "hv_sites_prog_O2")], opts=["--no-stacks"])
if "stack=" in subprocess.run([hv, "dump", b], capture_output=True, text=True).stdout:
    fail("record --no-stacks: the trace has stacks")


def check_shapes(build):
    """shapes_prog: 120 paths of look-alike frames; each site's size names its path."""
    t = record("shapes" + build, [os.path.join(bindir, "hv_shapes_prog" + build)])
    j, _ = run_json("sites", "--json", "--top", "0", t)
    sites = j.get("sites", [])
    paths = []
    for n in range(1, 5):
        for v in range(3 ** n):
            paths.append([(v // 3 ** i) % 3 for i in range(n)])
    bad = []
    for s in sites:
        size, rest = divmod(s["bytes_allocated"], s["allocs"])
        pid = size - 16
        names = [f["function"] for f in s["stack"]]
        if rest or not 0 <= pid < len(paths):
            bad.append("a site mixes sizes: %d bytes in %d allocations, %s" % (s["bytes_allocated"], s["allocs"], names))
            continue
        want = ["leaf"] + ["f%d" % k for k in reversed(paths[pid])] + ["main"]
        if names[:len(want)] != want:
            bad.append("path %d: stack %s, want %s" % (pid, names[:len(want)], want))
    allocs = sum(s["allocs"] for s in sites)
    if bad or len(sites) != 120 or allocs != 200000:
        fail("shapes%s: %d sites, %d allocations; %d wrong: %s" % (build, len(sites), allocs, len(bad), bad[:3]))
    else:
        ok("shapes%s: 200000 allocations from 120 look-alike paths, each site the path its size names" % build)


for build in ("_O2", "_O0"):
    check_shapes(build)


def chunks(path):
    r = subprocess.run([hv, "dump", path], capture_output=True, text=True).stdout
    # The chunk events as offsets from the heap's first address (ASLR moves the heap).
    ev = [l.split(" ", 4)[4] for l in r.splitlines() if re.search(r" (split|chunk_alloc|top|merge|bin_in) ", l)]
    base = None
    out = []
    for e in ev:
        addrs = re.findall(r"0x[0-9a-f]+", e)
        if base is None and addrs:
            base = int(addrs[0], 16)
        out.append(re.sub(r"0x[0-9a-f]+", lambda m: "+%x" % (int(m.group(0), 16) - base), e))
    return out


ca, cb = chunks(a), chunks(b)
if not ca or ca != cb:
    fail("with and without stacks, the chunk events differ (%d vs %d)" % (len(ca), len(cb)))
else:
    ok("with and without stacks: the same %d chunk events, offset for offset" % len(ca))

# frag blames the planted site; diff of two runs finds the one that differs.
t = record("frag10", [os.path.join(bindir, "hv_frag_prog"), "10"])
j, _ = run_json("frag", "--json", t)
blame = j.get("blame", [])
top = blame[0] if blame else {}
if not top or top["stack"][0]["function"] != "pin" or top["chunks"] < 99 or top["pinned_bytes"] < 99 * 4000 or \
        any(f["function"] == "quiet" for b in blame for f in b["stack"][:1]):
    fail("frag: the blame does not name pin first (or names quiet): %s" %
         [(b["pinned_bytes"], b["chunks"], b["stack"][0]["function"]) for b in blame])
else:
    ok("frag: pin's %d live chunks keep %d free bytes apart; quiet is not blamed" %
       (top["chunks"], top["pinned_bytes"]))
below = (j.get("tops") or [{}])[0].get("below") or {}
if (below.get("stack") or [{}])[0].get("function") != "pin":
    fail("frag: the chunk below the top is not pin's: %s" % below)
else:
    ok("frag: the chunk that keeps the top from shrinking is pin's (%d bytes)" % below["size"])
if set(j) < {"at", "footprint", "live_bytes", "free_bytes", "blame"} or j["free_bytes"] < 99 * 4000:
    fail("frag: keys or free bytes: %s" % sorted(j))
t50 = record("frag50", [os.path.join(bindir, "hv_frag_prog"), "50"])
j, _ = run_json("diff", "--json", t, t50)
rows = j.get("sites", [])
if len(rows) != 1 or rows[0]["stack"][0]["function"] != "grow" or \
        (rows[0]["allocs_delta"], rows[0]["bytes_delta"], rows[0]["live_bytes_delta"]) != (40, 2560, 2560):
    fail("diff: want only grow, +40 allocations, +2560 bytes: %s" %
         [(r["stack"][0]["function"], r["allocs_delta"], r["bytes_delta"], r["live_bytes_delta"]) for r in rows])
else:
    ok("diff of two runs: only grow changed (+40 allocations, +2560 bytes, +2560 live), matched across ASLR")
j, _ = run_json("diff", "--json", t50, "--from", "peak", "--to", "end")
lay = j.get("layout", {})
if not lay or lay["born"]["chunks"] < 50 or j["sites"][0]["stack"][0]["function"] not in ("grow", "bulk"):
    fail("diff --from peak --to end: %s" % j)
else:
    ok("diff of two positions: %d chunks born, %d died, %d unchanged; first site %s" %
       (lay["born"]["chunks"], lay["died"]["chunks"], lay["unchanged"]["chunks"], j["sites"][0]["stack"][0]["function"]))

# One position alone: --to N is from the start (not from the end, swapped), --from N to the end;
# a --from after the --to is refused, never swapped (born and died would trade places).
j0, _ = run_json("diff", "--json", t50, "--from", "0", "--to", "100")
j1, _ = run_json("diff", "--json", t50, "--to", "100")
j2, _ = run_json("diff", "--json", t50, "--from", "100")
if (j1.get("from"), j1.get("to")) != (0, 100) or j1 != j0 or j2.get("from") != 100 or j2.get("to", 0) <= 100:
    fail("diff with one position: --to 100 gives %s-%s, --from 100 gives %s-%s" %
         (j1.get("from"), j1.get("to"), j2.get("from"), j2.get("to")))
else:
    ok("diff --to 100 alone is 0-100, --from 100 alone is 100-%d" % j2["to"])
r = subprocess.run([hv, "diff", t50, "--from", "end", "--to", "100"], capture_output=True, text=True)
if r.returncode != 2 or "comes after --to 100 (event 100)" not in r.stderr:
    fail("diff --from end --to 100: exit %d, %s" % (r.returncode, r.stderr))
else:
    ok("diff --from end --to 100 is refused: %s" % r.stderr.strip())

print("%d failures" % fails if fails else "all stack checks passed")
sys.exit(1 if fails else 0)
