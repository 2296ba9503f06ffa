#!/usr/bin/env python3
"""Compare heapviz's glibc policy with the real glibc, offset by offset.

    run_fidelity.py (--heapviz PATH | --preload LIB) --runner PATH [--seeds N] [--first S]
                    [--tunables LIST]... [--trim P] [--threads N] [--checks] [--cases DIR] [--keep DIR]

For each seed in [first, first+N) a scenario is generated (gen_scenarios.py), run with the real
glibc (`RUNNER FILE`, see glibc_runner.c) and simulated (`HEAPVIZ sim --policy glibc --offsets FILE`),
and the two outputs are compared line by line; the same is done for every *.hvs file in --cases.
--tunables LIST (GLIBC_TUNABLES syntax, "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0";
repeatable) runs every seed once per LIST, with one `tunable` line per entry at the top.
--trim P puts a `malloc_trim PAD` line before each operation of a random scenario with
probability P (PAD 0, 4096 or 128 KiB; drawn from the seed, so a seed is the same scenario).
--threads N runs the operations of a random scenario on the main thread and threads 1..N
(`thread N: OP`; docs/scenarios.md, "Threads"): runs of operations switch threads at random,
a thread starts before its first operation, and threads exit at random (and start again later).
--preload LIB compares with the runner itself on LIB (`LD_PRELOAD=LIB RUNNER --keep-env FILE`,
libhvalloc.so in a real process) instead of `heapviz sim`. It skips the cases with `thread` lines:
the runner refuses them when libc is not its only TLS module (libhvalloc.so has TLS of its own, so
a new thread's DTV would be 288 bytes instead of the 272 the scenario language assumes).
--checks runs heapviz with its own heap checks on (`sim --checks`, or HEAPVIZ_CHECKS=1 for
--preload; docs/checks.md): not one offset may change, and no check may fire.
Two workers run in parallel. Exit 0 when everything matches, 1 on any mismatch, 2 on usage errors.
Mismatching scenarios are kept in --keep (default: a fresh directory under $TMPDIR).
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_scenarios  # noqa: E402

ASSIGN_RE = re.compile(r"^\s*[A-Za-z0-9_]+\s+=\s")
TIMEOUT = 60  # seconds per process
MAX_DETAILED = 10  # mismatches reported in full; the others get one line each


def alloc_op_lines(text):
    """Line numbers (1-based) and text of the allocating operations, in order."""
    out = []
    for no, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        if ASSIGN_RE.match(code):
            out.append((no, line.strip()))
    return out


def has_threads(path):
    with open(path) as f:
        return any(re.match(r"\s*thread\s+\d", line) for line in f)


def run(cmd, preload=None, checks=False):
    env = dict(os.environ)
    env.pop("HEAPVIZ_CHECKS", None)
    if checks:
        env["HEAPVIZ_CHECKS"] = "1"
    # The reference must be glibc itself; the runner strips these too, but be explicit.
    for k in list(env):
        if k in ("LD_PRELOAD", "GLIBC_TUNABLES") or k.startswith("MALLOC_"):
            del env[k]
    if preload:
        env["LD_PRELOAD"] = preload
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=TIMEOUT, text=True, errors="replace")
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, "", "timed out after %ds" % TIMEOUT
    except OSError as e:
        return -1, "", str(e)


class Result:
    def __init__(self, label, path, ok, compared, report=""):
        self.label, self.path, self.ok, self.compared, self.report = label, path, ok, compared, report


def compare_one(label, path, args):
    with open(path) as f:
        text = f.read()
    rc_g, out_g, err_g = run([args.runner, path])
    if args.preload:
        rc_h, out_h, err_h = run([args.runner, "--keep-env", path], preload=args.preload, checks=args.checks)
    else:
        rc_h, out_h, err_h = run([args.heapviz, "sim", "--policy", "glibc", "--offsets"] +
                                 (["--checks"] if args.checks else []) + [path])
    g = out_g.splitlines()
    h = out_h.splitlines()
    problems = []
    if rc_g != 0:
        problems.append("glibc runner exited %d: %s" % (rc_g, err_g.strip()[-2000:]))
    if rc_h != 0:
        problems.append("%s exited %d: %s" % (args.other, rc_h, err_h.strip()[-2000:]))
    elif args.checks and "heapviz:" in err_h:
        problems.append("a check fired: %s" % err_h.strip()[-2000:])
    first = None
    for i in range(max(len(g), len(h))):
        if i >= len(g) or i >= len(h) or g[i] != h[i]:
            first = i
            break
    if not problems and first is None:
        return Result(label, path, True, len(g))

    lines = ["MISMATCH %s" % label, "  scenario: %s" % path]
    lines += ["  " + p for p in problems]
    if first is not None:
        ops = alloc_op_lines(text)
        lines.append("  first differing output line: %d" % (first + 1))
        if first < len(ops):
            lines.append("  scenario line %d: %s" % ops[first])
        else:
            lines.append("  (beyond the scenario's %d allocating operations)" % len(ops))
        lo, hi = max(0, first - 3), first + 4
        lines.append("  %-6s %-40s %s" % ("out#", "glibc", args.other))
        for i in range(lo, min(hi, max(len(g), len(h)))):
            a = g[i] if i < len(g) else "<missing>"
            b = h[i] if i < len(h) else "<missing>"
            mark = "  " if a == b else "=>"
            lines.append("%s%-6d %-40s %s" % (mark, i + 1, a, b))
    return Result(label, path, False, 0, "\n".join(lines))


def with_trims(text, seed, p):
    """The scenario with `malloc_trim PAD` lines before some of its operations (--trim)."""
    import random
    r = random.Random(seed * 7919 + 17)
    out = []
    for line in text.splitlines(keepends=True):
        op = line.strip() and not line.lstrip().startswith(("#", "mark", "tunable"))
        if op and r.random() < p:
            out.append("malloc_trim %d\n" % r.choice([0, 0, 4096, 128 * 1024]))
        out.append(line)
    return "".join(out)


def with_threads(text, seed, n):
    """The scenario's operations spread over the main thread and threads 1..n (--threads)."""
    import random
    r = random.Random(seed * 104729 + 31)
    out, running, cur = [], set(), 0
    for line in text.splitlines(keepends=True):
        op = line.strip() and not line.lstrip().startswith(("#", "mark", "tunable"))
        if not op:
            out.append(line)
            continue
        if r.random() < 0.15:
            cur = r.randint(0, n)
        if cur and cur not in running:
            out.append("thread %d start\n" % cur)
            running.add(cur)
        out.append(("thread %d: " % cur if cur else "") + line)
        if running and r.random() < 0.02:
            t = r.choice(sorted(running))
            out.append("thread %d exit\n" % t)
            running.discard(t)
    return "".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heapviz", help="path to the heapviz CLI")
    ap.add_argument("--preload", help="compare with the runner on this LD_PRELOAD library instead")
    ap.add_argument("--tunables", action="append", default=[],
                    help="GLIBC_TUNABLES-style list prepended to every random scenario (repeatable)")
    ap.add_argument("--trim", type=float, default=0.0,
                    help="probability of a malloc_trim line before each random operation")
    ap.add_argument("--threads", type=int, default=0,
                    help="spread each random scenario's operations over the main thread and N more")
    ap.add_argument("--runner", required=True, help="path to hv_glibc_runner")
    ap.add_argument("--seeds", type=int, default=0, help="number of random scenarios")
    ap.add_argument("--first", type=int, default=1, help="first seed")
    ap.add_argument("--checks", action="store_true",
                    help="heapviz's own heap checks on (sim --checks; HEAPVIZ_CHECKS=1 with --preload)")
    ap.add_argument("--cases", help="directory of hand-written *.hvs scenarios")
    ap.add_argument("--keep", help="directory where mismatching scenarios are kept")
    ap.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    args = ap.parse_args(argv)

    if bool(args.heapviz) == bool(args.preload):
        print("run_fidelity: give one of --heapviz and --preload", file=sys.stderr)
        return 2
    args.other = "heapviz" if args.heapviz else "libhvalloc"
    if args.preload and not os.access(args.preload, os.R_OK):
        print("run_fidelity: not readable: %s" % args.preload, file=sys.stderr)
        return 2
    for p in (args.heapviz or args.runner, args.runner):
        if not os.access(p, os.X_OK):
            print("run_fidelity: not executable: %s" % p, file=sys.stderr)
            return 2
    work = tempfile.mkdtemp(prefix="hv-fidelity-")
    keep = args.keep
    try:
        jobs = []  # (label, path)
        if args.cases:
            cases = sorted(f for f in os.listdir(args.cases) if f.endswith(".hvs"))
            if not cases:
                print("run_fidelity: no *.hvs in %s" % args.cases, file=sys.stderr)
                return 2
            for f in cases:
                if args.preload and has_threads(os.path.join(args.cases, f)):
                    print("run_fidelity: --preload skips %s (threads; see the docstring)" % f)
                    continue
                jobs.append(("case %s" % f, os.path.join(os.path.abspath(args.cases), f)))
        for t, tunables in enumerate(args.tunables or [""]):
            head = "".join("tunable %s\n" % e for e in tunables.split(":") if e)
            for seed in range(args.first, args.first + args.seeds):
                name = "seed-%d.hvs" % seed if not tunables else "tun%d-seed-%d.hvs" % (t, seed)
                if args.trim:
                    name = "trim-" + name
                if args.threads:
                    name = "threads-" + name
                path = os.path.join(work, name)
                body = gen_scenarios.generate(seed)
                if args.trim:
                    body = with_trims(body, seed, args.trim)
                if args.threads:
                    body = with_threads(body, seed, args.threads)
                with open(path, "w") as f:
                    f.write(head + body)
                label = "seed %d" % seed if not tunables else "seed %d [%s]" % (seed, tunables)
                jobs.append((label, path))
        if not jobs:
            print("run_fidelity: nothing to do (give --seeds and/or --cases)", file=sys.stderr)
            return 2

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            results = list(ex.map(lambda j: compare_one(j[0], j[1], args), jobs))

        bad = [r for r in results if not r.ok]
        if bad:
            if not keep:
                keep = tempfile.mkdtemp(prefix="hv-fidelity-failures-")
            os.makedirs(keep, exist_ok=True)
            for n, r in enumerate(bad):
                kept = os.path.join(keep, os.path.basename(r.path))
                if os.path.abspath(kept) != os.path.abspath(r.path):
                    shutil.copyfile(r.path, kept)
                if n < MAX_DETAILED:
                    print(r.report.replace(r.path, kept))
                    print()
                else:
                    print("MISMATCH %s (scenario: %s)" % (r.label, kept))
            print("fidelity: %d of %d scenarios differ from glibc (kept in %s)"
                  % (len(bad), len(results), keep))
            return 1
        total = sum(r.compared for r in results)
        print("fidelity: %d scenarios, all offsets match glibc (%d allocations compared)"
              % (len(results), total))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
