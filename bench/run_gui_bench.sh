#!/usr/bin/env bash
# The app's performance targets (issue 4) on synthetic traces, written to bench/results/gui.md:
#   - 10 M and 100 M events (4 threads, churn with a few thousand live chunks): time to the first
#     frame (the loading screen with its progress bar), time until the heap is on screen, 200
#     random seeks (replay + the picture the map draws), peak resident memory;
#   - a heap of more than 1 M chunks (1 thread): CPU time of whole frames at zoom levels from
#     "fit" to 16 bytes per pixel, and the same load/seek/memory numbers.
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
{
  echo "# heapviz app benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
  echo
  echo '```'
  "$bench" load "$tmp/10m.hvt"
  "$bench" load "$tmp/100m.hvt"
  "$bench" load "$tmp/1m.hvt"
  "$bench" frames "$tmp/1m.hvt"
  echo '```'
} | tee "$out"
