#!/usr/bin/env bash
# The Chunk window's history and the Events window's filters on a 20 M-event synthetic trace
# (issue 19: at most 1 s each), written to bench/results/query.md: the search before (a scan of
# every group with a wanted kind, here at full speed) and the search now (a QueryJob on its own
# thread over the index's group summaries), alternated; the index's bytes per event; peak memory.
# Usage: bench/run_query_bench.sh [BUILD_DIR] [EVENTS] [RUNS]   (the trace goes to $TMPDIR, then removed)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
build="${1:-$root/build}"
events="${2:-20000000}"
runs="${3:-3}"
bench="$build/bin/bench_query"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/hv_query_bench.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
out="$root/bench/results/query.md"

"$bench" gen "$events" "$tmp/trace.hvt" 4 >/dev/null
{
  echo "# heapviz search benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
  echo
  echo '```'
  "$bench" run "$tmp/trace.hvt" "$runs"
  echo '```'
} | tee "$out"
