#!/usr/bin/env bash
# The app's performance targets (issue 4) on synthetic traces, written to bench/results/gui.md:
#   - 10 M and 100 M events (4 threads, churn with a few thousand live chunks): time to the first
#     frame (the loading screen with its progress bar), time until the heap is on screen, 200
#     random seeks (replay + the picture the map draws), peak resident memory;
#   - a heap of more than 1 M chunks (1 thread): CPU time of whole frames at zoom levels from
#     "fit" to 16 bytes per pixel, and the same load/seek/memory numbers;
#   - the Playground: a line appended to a 300-line scenario, until its heap is on screen.
# Usage: bench/run_gui_bench.sh [BUILD_DIR]   (traces go to $TMPDIR, about 900 MB, then removed)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
build="${1:-$root/build}"
bench="$build/bin/bench_gui"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/hv_gui_bench.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
out="$root/bench/results/gui.md"

"$bench" gen 10000000 "$tmp/10m.hvt" 4 4096 >/dev/null
"$bench" gen 100000000 "$tmp/100m.hvt" 4 4096 >/dev/null
"$bench" gen 8000000 "$tmp/1m.hvt" 1 1400000 >/dev/null
# A 300-line scenario for the Playground: mallocs of eight sizes and frees, seeded.
python3 - "$tmp/p300.hvs" <<'PY'
import random, sys
r, live, out = random.Random(7), [], []
for i in range(300):
    if live and r.random() < 0.4:
        out.append("free " + live.pop(r.randrange(len(live))))
    else:
        live.append(f"b{i}")
        out.append(f"b{i} = malloc {r.choice([16, 24, 40, 100, 200, 500, 1000, 3000])}")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
{
  echo "# heapviz app benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
  echo
  echo '```'
  "$bench" load "$tmp/10m.hvt"
  "$bench" load "$tmp/100m.hvt"
  "$bench" load "$tmp/1m.hvt"
  "$bench" frames "$tmp/1m.hvt"
  "$bench" playground "$tmp/p300.hvs"
  echo '```'
} | tee "$out"
