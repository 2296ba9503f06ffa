#!/usr/bin/env bash
# run_live_bench.sh [BUILD_DIR]: what live attach costs the program, side by side in one run.
#
# Two workloads: bench_churn (one thread, 5 M malloc/free) and hv_live_target (4 threads
# churning, tests/live). Each runs, interleaved, 5 times as:
#   glibc             the system allocator
#   hvalloc           LD_PRELOAD=libhvalloc.so
#   live, unattached  the same with HEAPVIZ_LIVE=1: listening, no viewer (the live gate per call)
#   live, attached    started by `heapviz run --out` (attached from its first moments; one viewer
#                     writes the stream to a file); wall time of the whole run, attach included
#   recording         HEAPVIZ_OUT, for comparison
# Medians of the program's own time (it measures its work) and of the whole run's wall time.
# Also events streamed per second.
# Writes bench/results/live.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
lib="$build/lib/libhvalloc.so"
hv="$build/bin/heapviz"
churn="$build/bin/bench_churn"
mt="$build/bin/hv_live_target"
ops=${HV_LIVE_BENCH_OPS:-5000000}
reps=${HV_LIVE_BENCH_REPS:-5}
out=${HV_BENCH_OUT:-$here/results/live.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_RUNTIME_DIR=$tmp/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

now() { date +%s%N; }
# run WORKLOAD CONTENDER: one timed run; prints "WALL OWN" in seconds: the whole process, and the
# program's own measure of its work (bench_churn and hv_live_target time themselves: without the
# start, the attach handshake and the goodbye at exit).
run() {
  local prog
  if [ "$1" = churn ]; then prog=("$churn" "$ops"); else prog=(env LT_TIME=1 "$mt" 4 50 0 20000); fi
  local t0 t1
  rm -f "$tmp"/*.hvt*
  case $2 in
  glibc) t0=$(now); "${prog[@]}" >"$tmp/out" 2>&1; t1=$(now) ;;
  hvalloc) t0=$(now); LD_PRELOAD=$lib "${prog[@]}" >"$tmp/out" 2>&1; t1=$(now) ;;
  idle) t0=$(now); HEAPVIZ_LIVE=1 LD_PRELOAD=$lib "${prog[@]}" >"$tmp/out" 2>&1; t1=$(now) ;;
  attached) t0=$(now); HEAPVIZ_LIB=$lib "$hv" run --out "$tmp/live.hvt" -- "${prog[@]}" >"$tmp/out" 2>&1; t1=$(now)
    cp "$tmp/live.hvt" "$tmp/keep-$1.trace" ;;
  record) t0=$(now); HEAPVIZ_OUT=$tmp/rec.hvt LD_PRELOAD=$lib "${prog[@]}" >"$tmp/out" 2>&1; t1=$(now) ;;
  esac
  local own
  own=$(sed -n 's/.*elapsed_ns=\([0-9]*\).*/\1/p' "$tmp/out" | head -1)
  awk -v a="$t0" -v b="$t1" -v o="$own" 'BEGIN { printf "%.3f %.3f\n", (b - a) / 1e9, o / 1e9 }'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

names="glibc hvalloc idle attached record"
declare -A times own med omed
for w in churn mt; do
  for ((r = 0; r < reps; r++)); do
    for n in $names; do
      read -r wall mine < <(run $w $n)
      times[$w.$n]="${times[$w.$n]:-} $wall"
      own[$w.$n]="${own[$w.$n]:-} $mine"
    done
  done
  for n in $names; do
    med[$w.$n]=$(echo "${times[$w.$n]}" | median)
    omed[$w.$n]=$(echo "${own[$w.$n]}" | median)
  done
done
events() { "$hv" stats --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
ev_churn=$(events "$tmp/keep-churn.trace")
ev_mt=$(events "$tmp/keep-mt.trace")
rate() { awk -v e="$1" -v s="$2" 'BEGIN { printf "%.1f", e / s / 1e6 }'; }

{
  echo "## Live attach cost"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
  echo "- method: $reps interleaved runs per contender; medians of the program's own time (it times its work) and of the whole process's wall time; \"attached\" is \`heapviz run --out\` (start, attach, stream to a file, exit)"
  echo
  echo "| contender | churn: program's time (s) | vs hvalloc | whole run (s) | vs hvalloc | 4 threads: program's time (s) | vs hvalloc | whole run (s) | vs hvalloc |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for n in $names; do
    case $n in
    glibc) label="glibc" ;; hvalloc) label="hvalloc, not listening" ;; idle) label="hvalloc, HEAPVIZ_LIVE=1, no viewer" ;;
    attached) label="**hvalloc, one viewer attached**" ;; record) label="hvalloc, recording to a file" ;;
    esac
    row="| $label"
    for w in churn mt; do
      row="$row | ${omed[$w.$n]} | $(ratio "${omed[$w.$n]}" "${omed[$w.hvalloc]}") | ${med[$w.$n]} | $(ratio "${med[$w.$n]}" "${med[$w.hvalloc]}")"
    done
    echo "$row |"
  done
  echo
  echo "Events streamed to the viewer: churn $ev_churn events, $(rate "$ev_churn" "${omed[churn.attached]}") M events/s over the program's time; 4 threads $ev_mt events, $(rate "$ev_mt" "${omed[mt.attached]}") M events/s."
  echo "Target: the program's slowdown with a viewer attached <= 2.0x its untraced time (issue 20; 2.5x before). \"Whole run\" adds what \`heapviz run\` costs around it: starting, the attach handshake and baseline, the last sync and goodbye at exit."
  echo
  echo "<details><summary>raw runs (s)</summary>"
  echo
  for w in churn mt; do for n in $names; do echo "- $w $n: whole${times[$w.$n]}; program's own${own[$w.$n]}"; done; done
  echo "</details>"
} | tee "$out"
