#!/bin/bash
# Allocator benchmark: each workload against the system glibc and with libhvalloc.so preloaded,
# interleaved (glibc, hvalloc, glibc, hvalloc, ...) so that machine noise hits both alike; reports
# medians and the hvalloc/glibc ratio as Markdown on stdout and in bench/results/alloc.md.
#
#   bench/run_alloc_bench.sh [BUILD_DIR]        (default: build)
#
# Builds nothing: configure and build first (cmake --build BUILD_DIR). Environment:
#   HV_BENCH_REPS=7          repetitions per contender
#   HV_BENCH_WORKLOADS="bench_churn bench_prodcons bench_realloc"
#   HV_BENCH_ARGS_<name>="..."  arguments for one workload (default: its built-in size)
#   HV_BENCH_OUT=FILE        where to write the Markdown (default bench/results/alloc.md)
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "no build directory: ${1:-build}" >&2; exit 2; }
lib=$build/lib/libhvalloc.so
reps=${HV_BENCH_REPS:-7}
workloads=${HV_BENCH_WORKLOADS:-"bench_churn bench_prodcons bench_realloc"}
out=${HV_BENCH_OUT:-$here/results/alloc.md}
target=1.10

[ -f "$lib" ] || { echo "missing $lib: build the hvalloc target first" >&2; exit 2; }
for w in $workloads; do
  [ -x "$build/bin/$w" ] || { echo "missing $build/bin/$w: build the bench targets first" >&2; exit 2; }
done
unset LD_PRELOAD GLIBC_TUNABLES MALLOC_ARENA_MAX MALLOC_TOP_PAD_ MALLOC_MMAP_THRESHOLD_
# The library must really be loaded when preloaded.
LD_PRELOAD=$lib /bin/cat /proc/self/maps 2>&1 | grep -qF "$(readlink -f "$lib")" ||
  { echo "$lib does not get loaded with LD_PRELOAD" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hv-bench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# run_once CONTENDER WORKLOAD ARGS...: appends "wall cpu" seconds to $tmp/W.CONTENDER,
# checksum to $tmp/W.CONTENDER.sum
run_once() {
  local who=$1 w=$2
  shift 2
  local TIMEFORMAT='%3R %3U %3S' t rc line
  if [ "$who" = hvalloc ]; then
    { t=$( { time LD_PRELOAD="$lib" "$build/bin/$w" "$@" >"$tmp/stdout" 2>"$tmp/stderr"; } 2>&1 ); }
  else
    { t=$( { time "$build/bin/$w" "$@" >"$tmp/stdout" 2>"$tmp/stderr"; } 2>&1 ); }
  fi
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "$w under $who failed (status $rc):" >&2
    cat "$tmp/stderr" >&2
    exit 1
  fi
  line=$(grep -m1 '^'"$w"' checksum=' "$tmp/stdout") || { echo "$w printed no result line" >&2; exit 1; }
  echo "${line#* checksum=}" | cut -d' ' -f1 >>"$tmp/$w.$who.sum"
  read -r real user sys <<<"$(tail -n1 <<<"$t")"
  awk -v r="$real" -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f %.3f\n", r, u + s }' >>"$tmp/$w.$who"
}

median() { # median of column $2 in file $1
  sort -n -k"$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
[ -n "$cpu" ] || cpu=$(uname -p)
cores=$(nproc)
{
  echo "## Allocator benchmark: hvalloc vs glibc"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(uname -m), $cpu, $cores cores"
  echo "- glibc: $(ldd --version 2>&1 | head -n1 | sed 's/^ldd //')"
  echo "- hvalloc: $lib (repository at $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown) when measured)"
  echo "- method: $reps runs per contender, interleaved glibc/hvalloc; medians; hvalloc = LD_PRELOAD=$(basename "$lib")"
  echo
  echo "| workload | glibc wall (s) | hvalloc wall (s) | ratio | glibc user+sys (s) | hvalloc user+sys (s) | cpu ratio | target | ok |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |"
} >"$tmp/table.md"

for w in $workloads; do
  var=HV_BENCH_ARGS_$w
  # shellcheck disable=SC2206
  args=(${!var:-})
  echo "running $w${args[*]:+ ${args[*]}} ($reps x 2)..." >&2
  : >"$tmp/$w.glibc"
  : >"$tmp/$w.hvalloc"
  for ((i = 1; i <= reps; i++)); do
    run_once glibc "$w" "${args[@]}"
    run_once hvalloc "$w" "${args[@]}"
  done
  if [ "$(sort -u "$tmp/$w.glibc.sum" "$tmp/$w.hvalloc.sum" | wc -l)" -ne 1 ]; then
    echo "$w: checksums differ between runs or contenders:" >&2
    paste "$tmp/$w.glibc.sum" "$tmp/$w.hvalloc.sum" >&2
    exit 1
  fi
  gw=$(median "$tmp/$w.glibc" 1)
  hw=$(median "$tmp/$w.hvalloc" 1)
  gc=$(median "$tmp/$w.glibc" 2)
  hc=$(median "$tmp/$w.hvalloc" 2)
  awk -v w="$w" -v gw="$gw" -v hw="$hw" -v gc="$gc" -v hc="$hc" -v t="$target" 'BEGIN {
    r = (gw > 0) ? hw / gw : 0; rc = (gc > 0) ? hc / gc : 0;
    printf "| %s | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f | <= %.2f | %s |\n", w, gw, hw, r, gc, hc, rc, t, (r <= t) ? "yes" : "NO"
  }' >>"$tmp/table.md"
done

echo >>"$tmp/table.md"
echo "ratio = median hvalloc wall / median glibc wall (lower is better). Raw runs (wall s, user+sys s) per contender are in the log below." >>"$tmp/table.md"
echo >>"$tmp/table.md"
echo '<details><summary>raw runs</summary>' >>"$tmp/table.md"
echo >>"$tmp/table.md"
echo '```' >>"$tmp/table.md"
for w in $workloads; do
  echo "$w glibc:   $(tr '\n' ';' <"$tmp/$w.glibc")" >>"$tmp/table.md"
  echo "$w hvalloc: $(tr '\n' ';' <"$tmp/$w.hvalloc")" >>"$tmp/table.md"
done
echo '```' >>"$tmp/table.md"
echo '</details>' >>"$tmp/table.md"

mkdir -p "$(dirname "$out")"
cp "$tmp/table.md" "$out"
cat "$tmp/table.md"
