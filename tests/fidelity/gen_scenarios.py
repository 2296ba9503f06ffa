#!/usr/bin/env python3
"""Generate one random heapviz scenario (.hvs), deterministic per seed.

    gen_scenarios.py --seed S --out FILE

The scenario has 50-400 operations (marks not counted) drawn from "episodes" that each aim at one
glibc ptmalloc2 mechanism: tcache/fastbin sizes, small and large bins, the unsorted bin, the
mmap threshold and its dynamic raise, malloc_consolidate, top consolidation and trimming, realloc
in place / by copy / of mmapped chunks, calloc and memalign. The format is described in FORMAT.md.

Python standard library only. Also importable: generate(seed) -> str.
"""

import argparse
import random
import sys

KIB = 1024
MIB = 1024 * KIB

# (weight, low, high) for the size classes every scenario mixes
SIZE_CLASSES = {
    "fast": (34, 0, 120),            # tcache + fastbin range (chunk <= 0x80)
    "small": (18, 121, 1008),        # smallbin range
    "tcache_nofast": (10, 121, 1032),  # tcache but not fastbin
    "large": (16, 1 * KIB, 127 * KIB),
    "threshold": (5, 120 * KIB, 140 * KIB),  # around the default 128 KiB mmap threshold
    "mmap": (2, 128 * KIB, 2 * MIB),
}

ALIGNMENTS = [16, 32, 64, 128, 256, 4096, 8192, 48, 100, 24, 1000, 8, 1, 16384, 32768, 65536]

# Sizes that fail before glibc touches anything (checked_request2size: > PTRDIFF_MAX).
HUGE = [2**63, 2**64 - 1, 2**63 + 12345, 0xFFFFFFFFFFFFFFF0]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.lines = []
        self.live = {}  # name -> requested size (None when bound to a null result); insertion order
        self.next_id = 0
        self.nops = 0

    # ---- helpers -------------------------------------------------------------------------
    def size(self, cls=None):
        r = self.r
        if cls is None:
            names = list(SIZE_CLASSES)
            cls = r.choices(names, weights=[SIZE_CLASSES[n][0] for n in names])[0]
        _, lo, hi = SIZE_CLASSES[cls]
        if cls == "large" and r.random() < 0.6:
            hi = 16 * KIB  # most large requests are modest: they end up in the large bins more often
        return r.randint(lo, hi)

    def fmt(self, n):
        return hex(n) if self.r.random() < 0.15 else str(n)

    def new_name(self):
        self.next_id += 1
        return "p%d" % self.next_id

    def emit(self, line):
        self.lines.append(line)
        self.nops += 1

    def bind(self, name, size):
        self.live.pop(name, None)  # re-insert at the end: most recent
        self.live[name] = size

    def malloc(self, size, name=None):
        name = name or self.new_name()
        self.emit("%s = malloc %s" % (name, self.fmt(size)))
        self.bind(name, size)
        return name

    def free(self, name):
        self.emit("free %s" % name)
        del self.live[name]

    def mark(self, label):
        self.lines.append("mark %s" % label)

    def live_names(self, pred=None):
        return [n for n, s in self.live.items() if pred is None or pred(s)]

    # ---- episodes --------------------------------------------------------------------------
    def ep_malloc(self):
        r = self.r
        name = None
        if self.live and r.random() < 0.04:
            name = r.choice(self.live_names())  # rebind a live name: the old block leaks
        self.malloc(self.size(), name)

    def ep_free_random(self):
        if self.live:
            self.free(self.r.choice(self.live_names()))

    def ep_free_run(self):
        names = self.live_names()
        if not names:
            return
        k = self.r.randint(2, min(12, max(2, len(names))))
        mode = self.r.choice(["lifo", "fifo", "shuffle"])
        if mode == "lifo":
            victims = list(reversed(names[-k:]))
        elif mode == "fifo":
            victims = names[:k]
        else:
            victims = self.r.sample(names, min(k, len(names)))
        self.mark("free_run_%s" % mode)
        for n in victims:
            self.free(n)

    def ep_same_size_burst(self):
        """8+ same-size blocks freed together: 7 go to the tcache, the rest to a fastbin or to the
        unsorted bin (for tcache-but-not-fast sizes)."""
        r = self.r
        cls = r.choice(["fast", "fast", "tcache_nofast", "small"])
        size = self.size(cls)
        n = r.randint(8, 16)
        self.mark("burst_%d_x%d" % (size, n))
        names = []
        for i in range(n):
            names.append(self.malloc(size if r.random() < 0.85 else size + r.randint(0, 15)))
            if r.random() < 0.15:
                self.malloc(self.size("fast"))  # a guard between some of them
        order = r.choice(["fifo", "lifo", "shuffle"])
        if order == "lifo":
            names.reverse()
        elif order == "shuffle":
            r.shuffle(names)
        for nm in names:
            if nm in self.live:
                self.free(nm)
        if r.random() < 0.6:  # take some back: from the tcache first, then the bins
            for _ in range(r.randint(1, n)):
                self.malloc(size)

    def ep_realloc(self):
        r = self.r
        kind = r.choices(
            ["grow", "shrink", "same", "null", "zero", "mmapped", "grow_double"],
            weights=[25, 15, 10, 8, 6, 6, 10],
        )[0]
        if kind == "null":
            name = self.new_name()
            self.emit("%s = realloc NULL %s" % (name, self.fmt(self.size())))
            self.bind(name, 1)
            return
        if kind == "mmapped":
            cands = self.live_names(lambda s: s is not None and s >= 128 * KIB)
            if not cands:
                src = self.malloc(self.size("mmap"))
            else:
                src = r.choice(cands)
            old = self.live[src]
            new = r.choice([
                old + r.randint(1, 64 * KIB),
                max(1, old - r.randint(1, old // 2)),
                r.randint(0, 4000),  # shrink an mmapped chunk to a small size
                old + r.randint(0, 100),
            ])
        else:
            cands = self.live_names()
            if not cands:
                src = self.malloc(self.size())
            else:
                # prefer recent names: their neighbour is often top or a just-freed chunk
                src = r.choice(cands[-6:]) if r.random() < 0.6 else r.choice(cands)
            old = self.live[src] or 0
            if kind == "grow":
                new = old + r.choice([r.randint(1, 32), r.randint(1, 512), r.randint(1, 8 * KIB)])
            elif kind == "grow_double":
                new = max(16, old * 2)
            elif kind == "shrink":
                new = r.randint(0, max(1, old)) if old else r.randint(1, 64)
                if new == 0:
                    new = 1
            elif kind == "same":
                new = max(1, old + r.randint(-8, 8))
            else:
                new = 0
        new = min(new, 3 * MIB)
        dst = src if r.random() < 0.5 else self.new_name()
        self.emit("%s = realloc %s %s" % (dst, src, self.fmt(new)))
        del self.live[src]
        self.bind(dst, new if new > 0 else None)
        if new == 0 and r.random() < 0.5:
            self.free(dst)  # free(NULL): a no-op, but legal

    def ep_calloc(self):
        r = self.r
        total = self.size()
        n = r.choice([1, 1, 2, 3, 4, 8, 16])
        each = max(0, total // n)
        name = self.new_name()
        self.emit("%s = calloc %s %s" % (name, n, self.fmt(each)))
        self.bind(name, n * each)

    def ep_memalign(self):
        r = self.r
        align = r.choice(ALIGNMENTS)
        cls = r.choice(["fast", "fast", "small", "large", "tcache_nofast", "threshold"])
        size = self.size(cls)
        if align > 4096:
            # An mmapped chunk is only page aligned, so the leading split of a memalign > 4096 that
            # glibc serves by mmap depends on ASLR, and so would the mmap threshold after freeing it.
            # Keep those requests (size + alignment + MINSIZE) well below the 128 KiB threshold.
            size = min(size, 100 * KIB - align)
        name = self.new_name()
        self.emit("%s = memalign %d %s" % (name, align, self.fmt(size)))
        self.bind(name, size)

    def ep_consolidate(self):
        """Fill fastbins, then make a request or a free that runs malloc_consolidate."""
        r = self.r
        self.mark("consolidate")
        size = r.randint(1, 120)
        names = [self.malloc(size) for _ in range(r.randint(8, 14))]
        guard = self.malloc(r.randint(1, 64)) if r.random() < 0.7 else None
        for nm in names:
            self.free(nm)
        if r.random() < 0.5:
            self.malloc(r.randint(1024, 8 * KIB))  # a large request consolidates fastbins first
        else:
            big = self.malloc(r.randint(64 * KIB, 120 * KIB))
            if r.random() < 0.5 and guard:
                self.free(guard)
            self.free(big)  # a free of >= 64 KiB (FASTBIN_CONSOLIDATION_THRESHOLD)

    def ep_big_free_trim(self):
        """A big block next to top freed: consolidation into top and trimming."""
        r = self.r
        self.mark("trim")
        big = self.malloc(r.randint(64 * KIB, 127 * KIB))
        if r.random() < 0.5:
            self.malloc(r.randint(1, 200))
            self.free(big)
        else:
            self.free(big)
            self.malloc(r.randint(1, 4 * KIB))

    def ep_mmap_threshold(self):
        """Free an mmapped chunk, raising the dynamic mmap threshold, then ask slightly less."""
        r = self.r
        self.mark("mmap_threshold")
        if r.random() < 0.08:
            # above DEFAULT_MMAP_THRESHOLD_MAX (32 MiB): freeing it does not raise the threshold
            size = r.randint(32 * MIB + 1, 40 * MIB)
        else:
            size = r.randint(129 * KIB, 1 * MIB)
        nm = self.malloc(size)
        self.free(nm)
        self.malloc(max(1, size - r.randint(16, 8 * KIB)))
        if r.random() < 0.5:
            self.malloc(size + r.randint(4 * KIB, 256 * KIB))

    def ep_fail(self):
        """Requests glibc refuses up front (NULL, no side effect): the sim must refuse them too."""
        r = self.r
        kind = r.choice(["malloc", "calloc", "realloc", "realloc_null", "memalign"])
        name = self.new_name()
        if kind == "malloc":
            self.emit("%s = malloc %s" % (name, hex(r.choice(HUGE))))
        elif kind == "calloc":
            self.emit("%s = calloc %d %d" % (name, 2**33 + r.randint(0, 99), 2**31 + r.randint(0, 99)))
        elif kind == "realloc_null":
            self.emit("%s = realloc NULL %s" % (name, hex(r.choice(HUGE))))
        elif kind == "memalign":
            self.emit("%s = memalign %d %s" % (name, r.choice([16, 64, 4096]), hex(r.choice(HUGE))))
        else:
            cands = self.live_names()
            if not cands:
                return
            src = r.choice(cands)
            if r.random() < 0.3:
                name = src  # the old block stays allocated, the name is rebound to null
            self.emit("%s = realloc %s %s" % (name, src, hex(r.choice(HUGE))))
        self.bind(name, None)

    def ep_large_bins_same_size(self):
        """Several large free chunks of the same size (the fd_nextsize lists), then requests."""
        r = self.r
        self.mark("large_same")
        size = r.randint(1100, 20 * KIB)
        names = []
        for _ in range(r.randint(3, 6)):
            names.append(self.malloc(size + r.choice([0, 0, 0, 8, 16, 512])))
            self.malloc(r.randint(1, 64))
        for nm in names:
            self.free(nm)
        self.malloc(r.randint(1, 200))  # sorts them
        for _ in range(r.randint(1, 4)):
            self.malloc(size - r.choice([0, 0, 16, 100, 600]))

    def ep_large_bins(self):
        """Several large free chunks of different sizes, then requests that pick best fits."""
        r = self.r
        self.mark("large_bins")
        names = []
        for _ in range(r.randint(3, 7)):
            names.append(self.malloc(r.randint(1024, 12 * KIB)))
            self.malloc(r.randint(1, 100))  # guards keep them from coalescing
        for nm in names:
            if r.random() < 0.8:
                self.free(nm)
        self.malloc(r.randint(1, 400))  # sorts the unsorted chunks into their bins
        for _ in range(r.randint(1, 3)):
            self.malloc(r.randint(1000, 12 * KIB))

    EPISODES = [
        ("ep_malloc", 40),
        ("ep_free_random", 22),
        ("ep_free_run", 6),
        ("ep_same_size_burst", 4),
        ("ep_realloc", 12),
        ("ep_calloc", 5),
        ("ep_memalign", 5),
        ("ep_consolidate", 2),
        ("ep_big_free_trim", 2),
        ("ep_mmap_threshold", 1.2),
        ("ep_large_bins", 1.5),
        ("ep_large_bins_same_size", 1),
        ("ep_fail", 0.6),
    ]

    def opener(self):
        """Sometimes start with something other than malloc: initialisation order matters
        (memalign does not set up the tcache in 2.36, a refused malloc returns before it does)."""
        r = self.r
        kind = r.choice(["memalign", "calloc", "realloc_null", "huge", "mmap"])
        name = self.new_name()
        if kind == "memalign":
            self.emit("%s = memalign %d %d" % (name, r.choice([32, 64, 256, 4096]), r.randint(1, 3000)))
            self.bind(name, 1)
        elif kind == "calloc":
            self.emit("%s = calloc %d %d" % (name, r.randint(1, 8), r.randint(0, 300)))
            self.bind(name, 1)
        elif kind == "realloc_null":
            self.emit("%s = realloc NULL %d" % (name, r.randint(0, 2000)))
            self.bind(name, 1)
        elif kind == "huge":
            self.emit("%s = malloc %s" % (name, hex(r.choice(HUGE))))
            self.bind(name, None)
        else:
            self.malloc(r.randint(128 * KIB, 1 * MIB), name)

    def run(self, seed):
        r = self.r
        # An episode adds at most ~55 operations: stop starting new ones at 340 to stay <= 400.
        target = r.randint(50, 340)
        self.lines.append("# generated by gen_scenarios.py --seed %d" % seed)
        names = [e for e, _ in self.EPISODES]
        weights = [w for _, w in self.EPISODES]
        if r.random() < 0.15:
            self.opener()
        while self.nops < target:
            getattr(self, r.choices(names, weights=weights)[0])()
        if r.random() < 0.3 and self.nops + len(self.live) + 1 <= 400:
            # sometimes free everything at the end (consolidation + trim)
            self.mark("free_all")
            for nm in self.live_names():
                self.free(nm)
            self.malloc(self.size("fast"))
        return "\n".join(self.lines) + "\n"


def generate(seed):
    return Gen(seed).run(seed)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True, help="output file ('-' for stdout)")
    args = ap.parse_args(argv)
    text = generate(args.seed)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
