#!/usr/bin/env bash
# run_stacks_bench.sh [BUILD_DIR]: what call stacks cost to read, side by side with heaptrack.
#
#   1. sites, leaks and frag on a trace of at least 10 M events with stacks (bench_churn
#      recorded by heapviz record), beside heaptrack_print on heaptrack's recording of the same
#      run: 3 interleaved runs each, median wall time.
#   2. symbolizing every distinct stack: `heapviz sites --top 0 --json` on bench_stacks (2^14
#      distinct stacks) and on a CPython run, beside heaptrack_print on the same programs.
#   3. leaks against heaptrack_print --print-leaks: the total bytes leaked, per program.
# Recording's own cost is run_record_bench.sh's. Writes bench/results/stacks.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
hv="$build/bin/heapviz"
ops=${HV_STACKS_BENCH_OPS:-7500000}
reps=${HV_STACKS_BENCH_REPS:-3}
out=${HV_BENCH_OUT:-$here/results/stacks.md}
command -v heaptrack >/dev/null || { echo "run_stacks_bench.sh: heaptrack is not installed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
pyprog='import json, email.parser, http.client, xml.dom.minidom, unittest, asyncio, decimal; x = [json.dumps({"k": i}) for i in range(20000)]'

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
timed() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1 || true; t1=$(now); secs "$t0" "$t1"; }

# Recordings: heapviz (stacks on by default) and heaptrack, of the same programs.
"$hv" record -o "$tmp/churn.hvt" -- "$build/bin/bench_churn" "$ops" >/dev/null 2>&1
heaptrack -o "$tmp/churn-ht" "$build/bin/bench_churn" "$ops" >/dev/null 2>&1
"$hv" record -o "$tmp/stacks.hvt" -- "$build/bin/bench_stacks" 14 >/dev/null 2>&1
heaptrack -o "$tmp/stacks-ht" "$build/bin/bench_stacks" 14 >/dev/null 2>&1
PYTHONHASHSEED=0 PYTHONMALLOC=malloc "$hv" record -o "$tmp/py.hvt" -- "$py" -c "$pyprog" >/dev/null 2>&1
PYTHONHASHSEED=0 PYTHONMALLOC=malloc heaptrack -o "$tmp/py-ht" "$py" -c "$pyprog" >/dev/null 2>&1
events=$("$hv" stats --json "$tmp/churn.hvt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')

declare -A t
for ((r = 0; r < reps; r++)); do
  for c in sites leaks frag; do t[$c]="${t[$c]:-} $(timed "$hv" "$c" "$tmp/churn.hvt")"; done
  t[htp]="${t[htp]:-} $(timed heaptrack_print "$tmp/churn-ht.zst")"
  t[sym_stacks]="${t[sym_stacks]:-} $(timed "$hv" sites --top 0 --json "$tmp/stacks.hvt")"
  t[htp_stacks]="${t[htp_stacks]:-} $(timed heaptrack_print "$tmp/stacks-ht.zst")"
  t[sym_py]="${t[sym_py]:-} $(timed "$hv" sites --top 0 --json "$tmp/py.hvt")"
  t[htp_py]="${t[htp_py]:-} $(timed heaptrack_print "$tmp/py-ht.zst")"
done
declare -A m
for k in "${!t[@]}"; do m[$k]=$(echo "${t[$k]}" | median); done
nsites() { "$hv" sites --top 0 --json "$1" 2>/dev/null | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["total_sites"], len({f["address"] for s in j["sites"] for f in s["stack"]}))'; }
read -r stacks_sites stacks_ips <<<"$(nsites "$tmp/stacks.hvt")"
read -r py_sites py_ips <<<"$(nsites "$tmp/py.hvt")"
leak_hv() { "$hv" leaks --json "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_bytes"])'; }
leak_ht() { heaptrack_print --print-leaks 1 "$1" 2>/dev/null | sed -n 's/^total memory leaked: //p'; }

{
  echo "## Reading call stacks"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
  echo "- method: $reps interleaved runs per command, median wall time of the whole process"
  echo
  echo "| task | heapviz (s) | heaptrack_print (s) | target |"
  echo "| --- | ---: | ---: | --- |"
  echo "| sites, churn trace of $events events | ${m[sites]} | ${m[htp]} (its whole report) | <= 3 s |"
  echo "| leaks, same trace | ${m[leaks]} | | <= 3 s |"
  echo "| frag, same trace | ${m[frag]} | | <= 3 s |"
  echo "| symbolize all $stacks_sites distinct stacks of bench_stacks ($stacks_ips distinct addresses) | ${m[sym_stacks]} | ${m[htp_stacks]} | <= 2 s for 10,000 |"
  echo "| symbolize all $py_sites distinct stacks of a CPython run ($py_ips distinct addresses) | ${m[sym_py]} | ${m[htp_py]} | |"
  echo
  echo "| leaked bytes | heapviz leaks | heaptrack_print --print-leaks |"
  echo "| --- | ---: | ---: |"
  echo "| bench_stacks 14 | $(leak_hv "$tmp/stacks.hvt") | $(leak_ht "$tmp/stacks-ht.zst") |"
  echo "| CPython (PYTHONMALLOC=malloc, PYTHONHASHSEED=0) | $(leak_hv "$tmp/py.hvt") | $(leak_ht "$tmp/py-ht.zst") |"
  echo
  echo "<details><summary>raw runs (s)</summary>"
  echo
  for k in "${!t[@]}"; do echo "- $k:${t[$k]}"; done
  echo "</details>"
} | tee "$out"
