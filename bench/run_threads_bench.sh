#!/usr/bin/env bash
# run_threads_bench.sh [BUILD_DIR]: how recording cost scales with threads (issue 20, item 1).
#
# bench_threads (bench_churn's churn on N threads, OPS malloc+free calls per thread) runs at 1, 2
# and `nproc` threads (deduplicated; also 4, marked oversubscribed, when nproc < 4). For each thread
# count the contenders run interleaved, HV_THREADS_BENCH_REPS times each:
#   glibc     the system allocator, nothing recorded
#   hvalloc   LD_PRELOAD=libhvalloc.so, not recording
#   record    the same, recording every event to a trace (HEAPVIZ_OUT), HEAPVIZ_STACKS=0
#   stacks    the same with call stacks (the default of `heapviz record`)
# The time is the program's own (`ns=`: from the workers' start barrier to the last join; the
# trace's flush at exit is not in it); medians. Also the process's CPU time over the same span:
# cpu/wall ("threads at once") near N means the N threads really ran in parallel; near 1 on a busy
# host means they took turns on one core, and then the shared-counter contention the key figure is
# after barely shows. The key figure is the N-thread ratio
# record/hvalloc (stacks/hvalloc) divided by the 1-thread one: target <= 1.25 at 2 threads.
# One recorded trace per contender and thread count is checked with `heapviz check` (reported,
# never fatal). Knobs: HV_THREADS_BENCH_REPS=5, HV_THREADS_BENCH_OPS=2000000 (per thread),
# HV_BENCH_OUT=FILE (default bench/results/threads.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
lib="$build/lib/libhvalloc.so"
hv="$build/bin/heapviz"
prog="$build/bin/bench_threads"
ops=${HV_THREADS_BENCH_OPS:-2000000}
reps=${HV_THREADS_BENCH_REPS:-5}
out=${HV_BENCH_OUT:-$here/results/threads.md}
for f in "$lib" "$hv" "$prog"; do
  [ -x "$f" ] || [ -f "$f" ] || { echo "run_threads_bench.sh: $f is missing (build it first)" >&2; exit 2; }
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cores=$(nproc)
counts=$(printf '%s\n' 1 2 "$cores" | awk '!seen[$1]++' | tr '\n' ' ')
[ "$cores" -lt 4 ] && counts="$counts 4"
names="glibc hvalloc record stacks"

run() {  # run NAME THREADS: one run; prints "ns checksum cpu_ns"
  local line=""
  rm -f "$tmp"/trace.hvt*
  case $1 in
  glibc) line=$("$prog" "$2" "$ops") || true ;;
  hvalloc) line=$(LD_PRELOAD=$lib "$prog" "$2" "$ops") || true ;;
  record) line=$(HEAPVIZ_STACKS=0 HEAPVIZ_OUT=$tmp/trace.hvt LD_PRELOAD=$lib "$prog" "$2" "$ops") || true ;;
  stacks) line=$(HEAPVIZ_OUT=$tmp/trace.hvt LD_PRELOAD=$lib "$prog" "$2" "$ops") || true ;;
  esac
  if [ "$1" = record ] || [ "$1" = stacks ]; then
    # Keep the first trace of each kind and thread count for `heapviz check`.
    [ -f "$tmp/keep-$1-$2.hvt" ] || cp "$tmp/trace.hvt" "$tmp/keep-$1-$2.hvt" 2>/dev/null || true
  fi
  case $line in
  *checksum=*ns=*cpu_ns=*) echo "$line" | sed -n 's/.*checksum=\([0-9a-f]*\).* ns=\([0-9]*\) cpu_ns=\([0-9]*\).*/\2 \1 \3/p' ;;
  *) echo "run_threads_bench.sh: $1 with $2 threads failed" >&2; echo "nan failed nan" ;;
  esac
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }

declare -A times sums par
for ((r = 0; r < reps; r++)); do
  for t in $counts; do
    for n in $names; do
      read -r ns sum cpu < <(run "$n" "$t")
      times[$n,$t]="${times[$n,$t]:-} $ns"
      par[$n,$t]="${par[$n,$t]:-} $(awk -v c="$cpu" -v w="$ns" 'BEGIN { if (w + 0 > 0) printf "%.2f", c / w; else printf "nan" }')"
      sums[$t]="${sums[$t]:-} $sum"
    done
  done
  echo "run_threads_bench.sh: round $((r + 1)) of $reps done" >&2
done

declare -A med per rrec rstk check mpar
for t in $counts; do
  for n in $names; do
    med[$n,$t]=$(echo "${times[$n,$t]}" | median)
    per[$n,$t]=$(awk -v a="${med[$n,$t]}" -v b="$ops" 'BEGIN { printf "%.1f", a / b }')
    mpar[$n,$t]=$(echo "${par[$n,$t]}" | median)
  done
  rrec[$t]=$(ratio "${med[record,$t]}" "${med[hvalloc,$t]}")
  rstk[$t]=$(ratio "${med[stacks,$t]}" "${med[hvalloc,$t]}")
  for n in record stacks; do
    f="$tmp/keep-$n-$t.hvt"
    if msg=$("$hv" check "$f" 2>&1); then
      check[$n,$t]="passed"
    else
      check[$n,$t]="FAILED: $(echo "$msg" | grep -v '^$' | head -n 3 | tr '\n' ' ' | sed 's/|/\\|/g; s/ *$//')"
    fi
  done
done

{
  echo "## Recording cost against threads (bench_threads, $ops malloc+free calls per thread)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?');" \
    "machine: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), nproc $cores;" \
    "load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- method: $reps interleaved runs per contender, median of the program's own time (start barrier"
  echo "  to last join; the trace's flush at exit excluded). ns/op = that time / calls per thread, so it"
  echo "  stays flat when the threads scale. \"threads at once\": median CPU time / wall time over that"
  echo "  span, hvalloc / record (near the thread count: the threads ran in parallel; near 1: they took"
  echo "  turns on one core, and the contention between cores barely shows)."
  echo
  echo "| threads | glibc ns/op | hvalloc ns/op | record ns/op | stacks ns/op | record / hvalloc | stacks / hvalloc | record: vs 1 thread | stacks: vs 1 thread | threads at once |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for t in $counts; do
    label=$t
    [ "$t" -gt "$cores" ] && label="$t (oversubscribed)"
    echo "| $label | ${per[glibc,$t]} | ${per[hvalloc,$t]} | ${per[record,$t]} | ${per[stacks,$t]} |" \
      "${rrec[$t]} | ${rstk[$t]} | $(ratio "${rrec[$t]}" "${rrec[1]}") | $(ratio "${rstk[$t]}" "${rstk[1]}") |" \
      "${mpar[hvalloc,$t]} / ${mpar[record,$t]} |"
  done
  echo
  echo "Target (issue 20): the 2-thread ratio at most 1.25x the 1-thread ratio (the \"vs 1 thread\" columns)."
  echo
  echo "Checksums (equal for every contender and run at a thread count):"
  for t in $counts; do
    u=$(echo "${sums[$t]}" | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')
    if [ "$(echo "$u" | wc -w)" -eq 1 ]; then echo "- threads=$t: $u(agree)"; else echo "- threads=$t: DIFFER: $u"; fi
  done
  echo
  echo "\`heapviz check\` of one recorded trace per contender and thread count:"
  for t in $counts; do
    echo "- threads=$t: record ${check[record,$t]}; stacks ${check[stacks,$t]}"
  done
  echo
  echo "<details><summary>raw runs (ns)</summary>"
  echo
  for t in $counts; do
    for n in $names; do echo "- threads=$t, $n:${times[$n,$t]}"; done
  done
  echo "</details>"
} | tee "$out"
