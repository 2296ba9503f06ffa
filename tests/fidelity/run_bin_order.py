#!/usr/bin/env python3
"""Bin order against the real glibc: the lists heapviz keeps are the lists glibc takes chunks from.

    run_bin_order.py --heapviz PATH --runner PATH [--cases DIR] [--seeds N] [--first S] [--keep DIR]

glibc does not print its lists, but it proves their order by the chunks its next mallocs return.
For each setup scenario (the *.hvs in --cases, and random ones from gen_scenarios.py), twice
(default tunables, then `tunable glibc.malloc.tcache_count=0` first):

1. `HEAPVIZ_VERIFY=1 heapviz sim -o T SETUP` records it, and `heapviz check T` compares the replay
   model's lists with the allocator's own walk after every call (BIN_LISTS events);
2. `heapviz bins T --json` gives the replay model's lists at the end, head first (they must equal
   the ones `heapviz sim SETUP` prints, the allocator's); from them a drain is written: mallocs
   whose results the order predicts exactly (below);
3. the real glibc runs SETUP plus the drain (hv_glibc_runner), and every drain malloc must
   return the predicted chunk.

The drain, by glibc 2.36's rules. With the default tunables, only the tcache: malloc of a bin's
size takes the head, so the list comes back head first. With tcache_count=0 (no stashing): each
fastbin head first; each smallbin tail first (`victim = last (bin)`); the unsorted bin tail first,
each malloc asking for the tail's exact size (the scan returns an exact fit at once; a wrong
prediction would sort that chunk into a bin and return another); each largebin by runs of equal
sizes: for a run x0 x1 .. xk a request of that size takes x1, .., xk, then x0 (the smallest
fitting size; "Avoid removing the first entry for a size": the second when there is one).

Exit 0 when every prediction holds, 1 otherwise, 2 on usage errors.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_scenarios  # noqa: E402

NO_TCACHE = "tunable glibc.malloc.tcache_count=0\n"
LIST_RE = re.compile(r"^\s+(tcache|fastbin|unsorted|smallbin|largebin)(?:\[(\d+)\])?((?:\s+0x[0-9a-f]+)+)\s*$")


def run(cmd, env_extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "GLIBC_TUNABLES", "HEAPVIZ_VERIFY") and not k.startswith("MALLOC_")}
    env.update(env_extra or {})
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60,
                           text=True, errors="replace")
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, "", "timed out"


def parse_sim(out):
    """`heapviz sim`'s lists (the allocator's): [(kind, index, [offsets head first])]."""
    lists, in_bins = [], False
    for line in out.splitlines():
        if line.startswith("bins, each list head first"):
            in_bins = True
        elif in_bins:
            m = LIST_RE.match(line)
            if m:
                lists.append((m.group(1), int(m.group(2) or 1), [int(x, 16) for x in m.group(3).split()]))
    return lists


def parse_bins(out):
    """`heapviz bins --json`'s lists (the replay model's), as offsets, and the chunk sizes."""
    d = json.loads(out)
    base = int(d["heap_base"], 16)
    sizes, lists = {}, []
    for l in d["lists"]:
        chunks = []
        for c in l["chunks"]:
            off = int(c["chunk"], 16) - base
            sizes[off] = c["size"]
            chunks.append(off)
        lists.append((l["kind"], l["index"], chunks))
    return sizes, lists


def drain(sizes, lists, tcache):
    """The drain's mallocs: [(request, predicted chunk offset, bin kind)]."""
    ops = []
    by_kind = {}
    for kind, index, chunks in lists:
        by_kind.setdefault(kind, []).append((index, chunks))
    if tcache:
        for _, chunks in by_kind.get("tcache", []):
            ops += [(sizes[c] - 8, c, "tcache") for c in chunks]  # the head first
        return ops
    for _, chunks in by_kind.get("fastbin", []):
        ops += [(sizes[c] - 8, c, "fastbin") for c in chunks]  # head first
    for _, chunks in by_kind.get("smallbin", []):
        ops += [(sizes[c] - 8, c, "smallbin") for c in reversed(chunks)]  # tail first
    for _, chunks in by_kind.get("unsorted", []):
        ops += [(sizes[c] - 8, c, "unsorted") for c in reversed(chunks)]  # the scan: tail first, exact fits
    for _, chunks in by_kind.get("largebin", []):
        i = 0
        while i < len(chunks):  # runs of equal sizes: the second, third, ... then the first
            j = i
            while j < len(chunks) and sizes[chunks[j]] == sizes[chunks[i]]:
                j += 1
            ops += [(sizes[c] - 8, c, "largebin") for c in chunks[i + 1:j] + [chunks[i]]]
            i = j
    return ops


class Result:
    def __init__(self, label, path, ok, kinds, report=""):
        self.label, self.path, self.ok, self.kinds, self.report = label, path, ok, kinds, report


def check_one(label, setup_path, tcache, args, work):
    with open(setup_path) as f:
        setup = f.read()
    text = setup if tcache else NO_TCACHE + setup
    tag = "%s%s" % (re.sub(r"[^A-Za-z0-9_.-]", "_", label), "" if tcache else "-no-tcache")
    path = os.path.join(work, tag + ".hvs")
    with open(path, "w") as f:
        f.write(text)
    problems = []
    # 1. The model's lists are the allocator's, after every call.
    trace = os.path.join(work, tag + ".hvt")
    rc, out, err = run([args.heapviz, "sim", "-o", trace, path], {"HEAPVIZ_VERIFY": "1"})
    if rc != 0:
        problems.append("heapviz sim -o exited %d: %s" % (rc, err.strip()[-500:]))
    else:
        rc, out, err = run([args.heapviz, "check", trace])
        if rc != 0 or "with every bin list in its order" not in out:
            problems.append("heapviz check: %s" % (err.strip() or out.strip())[-1500:])
    # 2. The model's lists at the end predict a drain (and are the allocator's, as sim prints them).
    rc, out, err = run([args.heapviz, "bins", "--json", trace])
    rc2, out2, err2 = run([args.heapviz, "sim", path])
    if rc != 0 or rc2 != 0:
        problems.append("heapviz bins / sim exited %d / %d: %s" % (rc, rc2, (err + err2).strip()[-500:]))
        return Result(label, path, False, {}, "\n".join(problems))
    sizes, lists = parse_bins(out)
    if sorted(lists) != sorted(parse_sim(out2)):
        problems.append("the model's lists (heapviz bins) differ from the allocator's (heapviz sim):\n    %s\n    %s"
                        % (sorted(lists), sorted(parse_sim(out2))))
    ops = drain(sizes, lists, tcache)
    full = text + "\n# the drain (run_bin_order.py): each malloc's chunk predicted by the lists\n"
    full += "".join("zzdrain%d = malloc %d\n" % (k, op[0]) for k, op in enumerate(ops))
    dpath = os.path.join(work, tag + "-drain.hvs")
    with open(dpath, "w") as f:
        f.write(full)
    # 3. glibc returns the predicted chunks.
    rc, out_g, err = run([args.runner, dpath])
    if rc != 0:
        problems.append("glibc runner exited %d: %s" % (rc, err.strip()[-500:]))
    got = dict(line.split() for line in out_g.splitlines() if line.startswith("zzdrain"))
    for k, (req, chunk, _) in enumerate(ops):
        want = "0x%x" % (chunk + 16)
        have = got.get("zzdrain%d" % k, "<missing>")
        if have != want:
            where = next(("%s[%d] position %d" % (kind, index, ch.index(chunk))
                          for kind, index, ch in lists if chunk in ch), "?")
            problems.append("drain malloc %d (%d bytes): glibc returned %s, the lists predict %s (chunk 0x%x, %s)"
                            % (k, req, have, want, chunk, where))
            break
    if problems:
        report = ["MISMATCH %s%s" % (label, "" if tcache else " [tcache_count=0]"), "  drain scenario: %s" % dpath]
        report += ["  " + p for p in problems]
        report += ["  lists (head first):"] + ["    %s[%d] %s" % (kind, index, " ".join("0x%x" % c for c in ch))
                                              for kind, index, ch in lists]
        return Result(label, dpath, False, {}, "\n".join(report))
    kinds = {}
    for op in ops:
        kinds[op[2]] = kinds.get(op[2], 0) + 1
    return Result(label, dpath, True, kinds)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heapviz", required=True)
    ap.add_argument("--runner", required=True)
    ap.add_argument("--cases", help="directory of setup scenarios (*.hvs)")
    ap.add_argument("--seeds", type=int, default=0, help="random setups (gen_scenarios.py)")
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--keep", help="directory where failing drains are kept")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    for p in (args.heapviz, args.runner):
        if not os.access(p, os.X_OK):
            print("run_bin_order: not executable: %s" % p, file=sys.stderr)
            return 2
    work = tempfile.mkdtemp(prefix="hv-binorder-")
    try:
        setups = []
        if args.cases:
            for f in sorted(os.listdir(args.cases)):
                if f.endswith(".hvs"):
                    setups.append(("case " + f, os.path.join(os.path.abspath(args.cases), f)))
        for seed in range(args.first, args.first + args.seeds):
            path = os.path.join(work, "seed-%d.hvs" % seed)
            with open(path, "w") as f:
                f.write(gen_scenarios.generate(seed))
            setups.append(("seed %d" % seed, path))
        if not setups:
            print("run_bin_order: nothing to do (give --cases and/or --seeds)", file=sys.stderr)
            return 2
        jobs = [(label, path, tcache) for label, path in setups for tcache in (True, False)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            results = list(ex.map(lambda j: check_one(j[0], j[1], j[2], args, work), jobs))
        bad = [r for r in results if not r.ok]
        if bad:
            keep = args.keep or tempfile.mkdtemp(prefix="hv-binorder-failures-")
            os.makedirs(keep, exist_ok=True)
            for r in bad:
                kept = os.path.join(keep, os.path.basename(r.path))
                if os.path.exists(r.path):
                    shutil.copyfile(r.path, kept)
                print(r.report.replace(r.path, kept))
                print()
            print("bin order: %d of %d runs differ from glibc (kept in %s)" % (len(bad), len(results), keep))
            return 1
        kinds = {}
        for r in results:
            for k, n in r.kinds.items():
                kinds[k] = kinds.get(k, 0) + n
        print("bin order: %d runs (%d setups, with and without the tcache): every chunk glibc returned to %d "
              "drain mallocs is the one the lists predicted (%s)"
              % (len(results), len(setups), sum(kinds.values()),
                 ", ".join("%s %d" % (k, kinds.get(k, 0))
                           for k in ("tcache", "fastbin", "unsorted", "smallbin", "largebin"))))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
