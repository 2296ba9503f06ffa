#!/usr/bin/env bash
# sim_trim_test.sh HEAPVIZ SCENARIO: a scenario's `malloc_trim` line in `heapviz sim -o` writes the
# `release` events of glibc 2.36's mtrim, to the page, and `stats` counts them: SCENARIO is
# tests/fidelity/cases/25_malloc_trim.hvs (whose layout the fidelity test holds to glibc's). Its
# free chunks a (0x4000 bytes at heap + 0x290) and b (0x6000 at heap + 0x42b0) give back the pages
# from the first one past their list words (chunk + 48) to their end: 0x3000 + 0x5000 bytes.
# c then takes a's first 0x2000 bytes: pages heap + 0x1000 and + 0x2000 are resident again.
set -u
hv=$1
scen=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check WHAT GOT WANT
  if [ "$2" = "$3" ]; then echo "ok: $1: $2"; else echo "FAIL: $1: $2, expected $3"; fails=$((fails + 1)); fi
}
"$hv" sim "$scen" -o "$tmp/t.hvt" >/dev/null || { echo "FAIL: heapviz sim -o"; exit 1; }
base=$("$hv" dump "$tmp/t.hvt" | sed -n 's/.* heap_new \(0x[0-9a-f]*\) size=.*/\1/p' | head -1)
rel=$("$hv" dump "$tmp/t.hvt" | sed -n 's/.* release \(0x[0-9a-f]*\) length=\([0-9]*\)$/\1 \2/p')
want=$(printf '%#x 12288\n%#x 20480' $((base + 0x1000)) $((base + 0x5000)))
check "release events (address, length)" "$(printf '%s' "$rel" | tr '\n' ';')" "$(printf '%s' "$want" | tr '\n' ';')"
stats=$("$hv" stats --json "$tmp/t.hvt")
key() { printf '%s\n' "$stats" | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
check final_released_bytes "$(key final_released_bytes)" 24576
check peak_released_bytes "$(key peak_released_bytes)" 0
check final_heap_bytes "$(key final_heap_bytes)" 45056 # systrim kept 0xb000 of the first 0x21000
check "stats' line" "$("$hv" stats "$tmp/t.hvt" | grep '^released:')" \
  "released:            24576 bytes at the end, so 20480 resident (footprint - released); 0 at the peak heap"
[ "$fails" -eq 0 ]
