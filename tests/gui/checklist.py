"""The pixel tests' shared harness: checks that print ok/FAIL and are counted, heapviz runs, and
the exit status."""
import subprocess
import sys

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def runner(heapviz):
    """run(args, **kw): heapviz with args, output captured as text."""
    def run(args, **kw):
        return subprocess.run([heapviz] + args, capture_output=True, text=True, **kw)
    return run


def finish(passed_line):
    print("%d failures: %s" % (len(FAILS), "; ".join(FAILS)) if FAILS else passed_line)
    sys.exit(1 if FAILS else 0)
