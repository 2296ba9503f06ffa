#!/usr/bin/env bash
# count_instructions.sh [BUILD_DIR]: the allocator benchmarks' instruction counts under
# valgrind's callgrind, system glibc against LD_PRELOAD=libhvalloc.so. Instruction counts do not
# depend on what else the machine is doing, so this is the noise-free companion of
# run_alloc_bench.sh's wall-clock medians. Workloads run at reduced sizes (callgrind is ~50x
# slower). Prints a Markdown table and writes it to bench/results/instructions.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
lib="$build/lib/libhvalloc.so"
out=${HV_BENCH_OUT:-$here/results/instructions.md}
command -v valgrind >/dev/null || { echo "count_instructions.sh: valgrind is not installed" >&2; exit 2; }
[ -f "$lib" ] || { echo "count_instructions.sh: no $lib (build first)" >&2; exit 2; }

count() {  # count PRELOAD BINARY ARGS... -> instructions executed by the whole process
  local preload=$1
  shift
  local log
  log=$(env ${preload:+LD_PRELOAD=$preload} valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null)
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$log"
}

{
  echo "Instruction counts (valgrind --tool=callgrind), $(date -u +%Y-%m-%d), $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo
  echo "| workload | glibc instructions | hvalloc instructions | ratio |"
  echo "| --- | ---: | ---: | ---: |"
  for w in "bench_churn 1000000" "bench_prodcons 200000" "bench_realloc 500000"; do
    set -- $w
    g=$(count "" "$build/bin/$1" "$2")
    h=$(count "$lib" "$build/bin/$1" "$2")
    printf '| %s %s | %s | %s | %s |\n' "$1" "$2" "$g" "$h" "$(awk -v a="$h" -v b="$g" 'BEGIN { printf "%.3f", a / b }')"
  done
} | tee "$out"
