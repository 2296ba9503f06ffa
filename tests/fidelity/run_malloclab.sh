#!/usr/bin/env bash
# run_malloclab.sh HEAPVIZ RUNNER RUN_FIDELITY_PY DATA_DIR: CMU malloclab traces (docs/malloclab.md)
# on the real glibc. Each DATA_DIR/*.rep becomes a scenario (`heapviz sim --as-scenario`), which
# must run exactly as the .rep does (the same --offsets), and run_fidelity.py then compares that
# scenario's offsets on heapviz's glibc with the machine's glibc 2.36 (hv_glibc_runner).
# Must not: change the fixtures.
set -u
hv=$1 runner=$2 fidelity=$3 data=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/cases"
fails=0
n=0
for rep in "$data"/*.rep; do
  name=$(basename "$rep" .rep)
  n=$((n + 1))
  if ! "$hv" sim --as-scenario "$rep" >"$tmp/cases/$name.hvs"; then
    echo "FAIL: $rep: --as-scenario"
    fails=$((fails + 1))
    continue
  fi
  if "$hv" sim --offsets "$rep" >"$tmp/rep.out" && "$hv" sim --offsets "$tmp/cases/$name.hvs" >"$tmp/hvs.out" &&
    diff -u "$tmp/rep.out" "$tmp/hvs.out"; then
    echo "ok: $name.rep runs as its scenario"
  else
    echo "FAIL: $name.rep and its scenario differ"
    fails=$((fails + 1))
  fi
done
[ "$n" -ge 4 ] || { echo "FAIL: only $n .rep files in $data"; exit 1; }
python3 "$fidelity" --heapviz "$hv" --runner "$runner" --cases "$tmp/cases" || fails=$((fails + 1))
[ "$fails" -eq 0 ] && echo "all passed" || { echo "$fails failed"; exit 1; }
