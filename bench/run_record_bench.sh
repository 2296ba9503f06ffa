#!/usr/bin/env bash
# run_record_bench.sh [BUILD_DIR]: what recording costs, side by side in one run.
#
# The churn workload (bench_churn) runs, interleaved, 5 times each as:
#   glibc            the system allocator, nothing recorded
#   hvalloc          LD_PRELOAD=libhvalloc.so, not recording
#   hvalloc+record   the same, recording every event to a trace (HEAPVIZ_OUT), no call stacks
#   hvalloc+stacks   the same with call stacks (the default of `heapviz record`)
#   hvalloc+zstd     with stacks, trace blocks zstd-compressed (HEAPVIZ_COMPRESS=1)
#   heaptrack        heaptrack 1.4 (Debian) recording the glibc run
#   checks           HEAPVIZ_CHECKS=1 (docs/checks.md), not recording
#   record+checks    recording without stacks, with the checks (target: <= 1.5x record)
#   stacks+checks    `heapviz record --checks`: stacks and checks (target: <= 1.5x stacks)
# HV_RECORD_BENCH_NAMES picks contenders (default: all of them, in this order).
# Wall time is measured around the whole process (trace writing at exit included); medians.
# Also: trace bytes per API call for hvalloc's traces and heaptrack's (compressed) file.
# Writes bench/results/record.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
lib="$build/lib/libhvalloc.so"
hv="$build/bin/heapviz"
prog="$build/bin/bench_churn"
ops=${HV_RECORD_BENCH_OPS:-5000000}
reps=${HV_RECORD_BENCH_REPS:-5}
out=${HV_BENCH_OUT:-$here/results/record.md}
command -v heaptrack >/dev/null || { echo "run_record_bench.sh: heaptrack is not installed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s%N; }
run() {  # run NAME: one timed run of that contender; prints seconds
  local t0 t1
  rm -f "$tmp"/trace.hvt* "$tmp"/ht.*
  case $1 in
  glibc) t0=$(now); "$prog" "$ops" >/dev/null; t1=$(now) ;;
  hvalloc) t0=$(now); LD_PRELOAD=$lib "$prog" "$ops" >/dev/null; t1=$(now) ;;
  record) t0=$(now); HEAPVIZ_STACKS=0 HEAPVIZ_OUT=$tmp/trace.hvt LD_PRELOAD=$lib "$prog" "$ops" >/dev/null; t1=$(now)
    cp "$tmp/trace.hvt" "$tmp/keep-record.hvt" ;;
  stacks) t0=$(now); HEAPVIZ_OUT=$tmp/trace.hvt LD_PRELOAD=$lib "$prog" "$ops" >/dev/null; t1=$(now)
    cp "$tmp/trace.hvt" "$tmp/keep-stacks.hvt" ;;
  zstd) t0=$(now); HEAPVIZ_COMPRESS=1 HEAPVIZ_OUT=$tmp/trace.hvt LD_PRELOAD=$lib "$prog" "$ops" >/dev/null; t1=$(now)
    cp "$tmp/trace.hvt" "$tmp/keep-zstd.hvt" ;;
  heaptrack) t0=$(now); heaptrack -o "$tmp/ht" "$prog" "$ops" >/dev/null 2>&1; t1=$(now)
    cp "$tmp"/ht.zst "$tmp/keep-ht.zst" ;;
  checks) t0=$(now); HEAPVIZ_CHECKS=1 LD_PRELOAD=$lib "$prog" "$ops" >/dev/null; t1=$(now) ;;
  record_checks) t0=$(now); HEAPVIZ_CHECKS=1 HEAPVIZ_STACKS=0 HEAPVIZ_OUT=$tmp/trace.hvt LD_PRELOAD=$lib "$prog" "$ops" >/dev/null; t1=$(now) ;;
  stacks_checks) t0=$(now); HEAPVIZ_CHECKS=1 HEAPVIZ_OUT=$tmp/trace.hvt LD_PRELOAD=$lib "$prog" "$ops" >/dev/null; t1=$(now) ;;
  esac
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A times
names=${HV_RECORD_BENCH_NAMES:-"glibc hvalloc record stacks zstd heaptrack checks record_checks stacks_checks"}
for ((r = 0; r < reps; r++)); do
  for n in $names; do times[$n]="${times[$n]:-} $(run "$n")"; done
done
declare -A med
for n in $names; do med[$n]=$(echo "${times[$n]}" | median); done
for n in glibc hvalloc record stacks zstd heaptrack checks record_checks stacks_checks; do med[$n]=${med[$n]:-nan}; done
for f in record stacks zstd ht; do [ -f "$tmp/keep-$f.hvt" ] || [ -f "$tmp/keep-$f.zst" ] || touch "$tmp/keep-$f.hvt"; done
[ -f "$tmp/keep-ht.zst" ] || touch "$tmp/keep-ht.zst"

calls=$("$hv" stats --json "$tmp/keep-record.hvt" 2>/dev/null | python3 -c 'import json,sys; c=json.load(sys.stdin)["calls"]; print(sum(c.values()))' 2>/dev/null || echo 1)
events=$("$hv" stats --json "$tmp/keep-record.hvt" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])' 2>/dev/null || echo 1)
size_rec=$(stat -c %s "$tmp/keep-record.hvt")
size_stacks=$(stat -c %s "$tmp/keep-stacks.hvt")
size_zstd=$(stat -c %s "$tmp/keep-zstd.hvt")
size_ht=$(stat -c %s "$tmp/keep-ht.zst")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }
per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

{
  echo "## Recording cost (bench_churn $ops ops)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
  echo "- method: $reps interleaved runs per contender, median wall time of the whole process"
  echo
  echo "| contender | wall (s) | vs its untraced run | trace size | bytes per API call | bytes per event |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  echo "| glibc, not recording | ${med[glibc]} | 1.00 | - | - | - |"
  echo "| hvalloc, not recording | ${med[hvalloc]} | 1.00 | - | - | - |"
  echo "| hvalloc, recording, no stacks | ${med[record]} | $(ratio "${med[record]}" "${med[hvalloc]}") | $((size_rec / 1024)) KiB | $(per "$size_rec" "$calls") | $(per "$size_rec" "$events") |"
  echo "| hvalloc, recording with stacks (default) | ${med[stacks]} | $(ratio "${med[stacks]}" "${med[hvalloc]}") | $((size_stacks / 1024)) KiB | $(per "$size_stacks" "$calls") | $(per "$size_stacks" "$events") |"
  echo "| hvalloc, recording with stacks, zstd | ${med[zstd]} | $(ratio "${med[zstd]}" "${med[hvalloc]}") | $((size_zstd / 1024)) KiB | $(per "$size_zstd" "$calls") | $(per "$size_zstd" "$events") |"
  echo "| heaptrack 1.4 (on glibc) | ${med[heaptrack]} | $(ratio "${med[heaptrack]}" "${med[glibc]}") | $((size_ht / 1024)) KiB | $(per "$size_ht" "$calls") | - |"
  echo
  echo "HEAPVIZ_CHECKS (docs/checks.md), each against the same run without the checks:"
  echo
  echo "| contender | wall (s) | vs the same without checks |"
  echo "| --- | ---: | ---: |"
  echo "| hvalloc + checks, not recording | ${med[checks]} | $(ratio "${med[checks]}" "${med[hvalloc]}") (vs hvalloc) |"
  echo "| recording, no stacks, + checks | ${med[record_checks]} | $(ratio "${med[record_checks]}" "${med[record]}") (vs recording, no stacks) |"
  echo "| recording with stacks + checks (record --checks) | ${med[stacks_checks]} | $(ratio "${med[stacks_checks]}" "${med[stacks]}") (vs recording with stacks; target <= 1.5) |"
  echo
  echo "$calls API calls, $events events. Targets: recording <= 2x the untraced run; with stacks <= 3x,"
  echo "and stacks add <= 4 bytes per API call ($(awk -v a="$size_stacks" -v b="$size_rec" -v c="$calls" 'BEGIN { printf "%.2f", (a - b) / c }') here, over the trace without stacks)."
  echo
  echo "<details><summary>raw runs (s)</summary>"
  echo
  for n in $names; do echo "- $n:${times[$n]}"; done
  echo "</details>"
} | tee "$out"
