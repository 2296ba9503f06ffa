#!/usr/bin/env bash
# sim_policies_test.sh HEAPVIZ: `heapviz sim --policy` with the textbook policies (docs/policies.md):
# exact --offsets, the heap printout, refusals naming FILE:LINE, and traces that check, stats
# and dump read.
set -u
hv=$1
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh" # tmp, ok, fail (and check, expect, finish)

# Two holes (0x80 at 0x0, 0x40 at 0xa0) kept apart by blocks in use, then need(24) = 0x30. Buddy:
# x1 takes 128 at 0x0, s1 halves the 128 at 0x80, x2 takes the 64 at 0xc0 and y takes it again.
printf 'x1 = malloc 100\ns1 = malloc 1\nx2 = malloc 40\ns2 = malloc 1\nfree x1\nfree x2\ny = malloc 24\n' >"$tmp/holes.hvs"
grown='x1 0x10\ns1 0x90\nx2 0xb0\ns2 0xf0\n'
for case in "first-fit y 0x10" "next-fit y 0x10" "best-fit y 0xb0" "worst-fit y 0x10" "buddy y 0xd0" "linear y 0x110" \
  "segregated y 0xb0"; do
  set -- $case
  want="$grown$2 $3\n"
  [ "$1" = buddy ] && want='x1 0x10\ns1 0x90\nx2 0xd0\ns2 0xb0\ny 0xd0\n'
  # segregated: x1 128 at 0x0, s1 32 at 0x80, x2 64 at 0xa0, s2 32 at 0xe0; y (64) takes x2's block.
  [ "$1" = segregated ] && want='x1 0x10\ns1 0x90\nx2 0xb0\ns2 0xf0\ny 0xb0\n'
  if "$hv" sim --policy "$1" --offsets --check "$tmp/holes.hvs" >"$tmp/out" 2>"$tmp/err" &&
    diff -u <(printf "$want") "$tmp/out"; then
    ok "--policy $1 --offsets"
  else
    fail "--policy $1 --offsets"; cat "$tmp/err"
  fi
done

# The printout: blocks with their owners, the one free list in address order.
if "$hv" sim --policy first-fit "$tmp/holes.hvs" >"$tmp/out" 2>"$tmp/err" &&
  grep -Eq '^heapviz sim: .*, policy first-fit, 7 operations$' "$tmp/out" &&
  grep -Eq '^  0x0 +0x30 +in_use +- +y \(24 bytes, line 7\)$' "$tmp/out" &&
  grep -Eq '^  0x30 +0x50 +unsorted +unsorted$' "$tmp/out" &&
  grep -Eq '^  unsorted +0x30 0xa0$' "$tmp/out"; then
  ok "first-fit printout"
else
  fail "first-fit printout"; cat "$tmp/out" "$tmp/err"
fi

# expect lines work on any policy (the chunk holding a pointer, its state).
printf 'a = malloc 24\nb = malloc 24\nfree a\nc = malloc 8\nexpect c at a\nexpect b in in_use\n' >"$tmp/ex.hvs"
if "$hv" sim --policy best-fit "$tmp/ex.hvs" >/dev/null 2>"$tmp/err"; then ok "expect lines"; else
  fail "expect lines"; cat "$tmp/err"; fi

# Refusals: FILE:LINE and status 2, never a crash.
expect() {
  local want=$1 regex=$2
  shift 2
  local err status
  err=$("$hv" "$@" 2>&1 >/dev/null)
  status=$?
  if [ "$status" -eq "$want" ] && grep -Eq -- "$regex" <<<"$err"; then ok "heapviz $* -> $status"; else
    fail "heapviz $*: status $status (want $want), stderr: $err"; fi
}
printf 'a = malloc 8\n# aligned\np = memalign 64 100\n' >"$tmp/ma.hvs"
expect 2 "^$tmp/ma.hvs:3: policy next-fit has no memalign$" sim --policy next-fit "$tmp/ma.hvs"
expect 2 "^$tmp/ma.hvs:3: policy buddy has no memalign$" sim --policy buddy -o "$tmp/ma.hvt" "$tmp/ma.hvs"
printf 'a = malloc 8\nthread 1 start\nthread 1: b = malloc 8\n' >"$tmp/th.hvs"
expect 2 "^$tmp/th.hvs:2: policy best-fit has no threads$" sim --policy best-fit "$tmp/th.hvs"
printf 'thread 0 start\n' >"$tmp/th0.hvs"
expect 2 "^$tmp/th0.hvs:1: bad thread number '0': threads are numbered 1 to 64 \\(the main thread's lines have no prefix\\)$" \
  sim "$tmp/th0.hvs"
expect 2 "unknown policy 'firstfit' \\(available: glibc, first-fit, next-fit, best-fit, worst-fit, buddy, segregated, pool, linear, stack\\)" \
  sim --policy firstfit "$tmp/holes.hvs"
expect 2 "^$tmp/holes.hvs:5: policy stack frees only the latest allocation \\(at 0xf0\\), not 0x10$" \
  sim --policy stack --offsets "$tmp/holes.hvs"
printf 'tunable glibc.malloc.tcache_count=0\n' >"$tmp/tu.hvs"
expect 2 "^$tmp/tu.hvs:1: policy worst-fit has no tunables" sim --policy worst-fit "$tmp/tu.hvs"
expect 2 "buddy takes a power of two from 32 bytes to 1 GiB" sim --policy buddy --arena-size 1000 "$tmp/holes.hvs"
expect 2 "policy 'first-fit' has no --arena-size" sim --policy first-fit --arena-size 4096 "$tmp/holes.hvs"
expect 2 "--arena-size '12k': a number of bytes" sim --policy buddy --arena-size 12k "$tmp/holes.hvs"
expect 2 "policy 'buddy' has no --block-size" sim --policy buddy --block-size 32 "$tmp/holes.hvs"
expect 2 "pool takes an arena of at most 1 GiB that holds at least one block" \
  sim --policy pool --arena-size 64 --block-size 64 "$tmp/holes.hvs"
# pool: blocks of 16 + 112 bytes; x2 was freed last, so y takes its block (LIFO).
if [ "$("$hv" sim --policy pool --block-size 100 --offsets "$tmp/holes.hvs" 2>&1)" = \
  "$(printf 'x1 0x10\ns1 0x90\nx2 0x110\ns2 0x190\ny 0x110')" ]; then
  ok "--policy pool --block-size 100"; else fail "--policy pool --block-size 100"; fi
printf 'a = malloc 4080\nb = malloc 1\n' >"$tmp/small.hvs"
if [ "$("$hv" sim --policy buddy --arena-size 0x1000 --offsets "$tmp/small.hvs" 2>&1)" = "$(printf 'a 0x10\nb null')" ]; then
  ok "--arena-size 0x1000"; else fail "--arena-size 0x1000"; fi

# Traces: check (against a snapshot after every call), stats and dump read every policy's.
printf 'a = malloc 100\nb = calloc 3 40\nc = malloc 7\na = realloc a 300\nfree b\nmark half\nd = realloc c 0\ne = malloc 20\nfree a\n' >"$tmp/t.hvs"
for p in first-fit next-fit best-fit worst-fit buddy segregated pool linear; do
  if HEAPVIZ_VERIFY=1 "$hv" sim --policy "$p" -o "$tmp/$p.hvt" "$tmp/t.hvs" >/dev/null 2>"$tmp/err" &&
    "$hv" check "$tmp/$p.hvt" >"$tmp/check" 2>&1 && grep -q "8 snapshots verified" "$tmp/check" &&
    "$hv" stats "$tmp/$p.hvt" >"$tmp/stats" 2>&1 && grep -q "calls: *malloc 3, free 2, calloc 1, realloc 2" "$tmp/stats" &&
    "$hv" dump "$tmp/$p.hvt" >"$tmp/dump" 2>&1 && grep -q "mark \"half\"" "$tmp/dump"; then
    ok "$p trace: check, stats, dump"
  else
    fail "$p trace"; cat "$tmp/err" "$tmp/check" "$tmp/stats"
  fi
done

printf 'a = malloc 10\nb = calloc 2 20\nb = realloc b 90\nfree b\nfree a\nc = malloc 1\n' >"$tmp/lifo.hvs"
if HEAPVIZ_VERIFY=1 "$hv" sim --policy stack -o "$tmp/stack.hvt" "$tmp/lifo.hvs" >/dev/null 2>"$tmp/err" &&
  "$hv" check "$tmp/stack.hvt" >"$tmp/check" 2>&1 && grep -q "6 snapshots verified" "$tmp/check"; then
  ok "stack trace: check"
else
  fail "stack trace"; cat "$tmp/err" "$tmp/check"
fi

[ "$fails" -eq 0 ] && echo "all policy CLI checks passed"
exit $((fails > 0))
