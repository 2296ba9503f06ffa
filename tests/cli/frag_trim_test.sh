#!/usr/bin/env bash
# frag_trim_test.sh HEAPVIZ: `heapviz frag` predicts what malloc_trim(0) hands back, and the
# prediction is what happens. A scenario frees 30 blocks of 10-39 KB between small survivors and
# grows the top, then calls malloc_trim 0: frag's trim_free_bytes before the call must equal the
# bytes the call's release events hand back (stats' final_released_bytes), and the main top's
# trimmable bytes the fall of the footprint.
set -u
hv=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  for i in $(seq 0 29); do echo "b$i = malloc $((10000 + 997 * i))"; echo "s$i = malloc 40"; done
  for i in $(seq 0 29); do echo "free b$i"; done
  printf 'x = malloc 100000\nfree x\nmark before\nmalloc_trim 0\nmark after\n'
} >"$tmp/t.hvs"
"$hv" sim "$tmp/t.hvs" -o "$tmp/t.hvt" >/dev/null 2>&1 || { echo "FAIL: sim"; exit 1; }
key() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" | head -1; }
before=$("$hv" frag --json --at mark:before "$tmp/t.hvt" 2>/dev/null)
after=$("$hv" frag --json --at end "$tmp/t.hvt" 2>/dev/null)
predicted=$(key trim_free_bytes <<<"$before")
trimmable=$(key trimmable <<<"$before")
released=$("$hv" stats --json "$tmp/t.hvt" | key final_released_bytes)
fp0=$(key footprint <<<"$before")
fp1=$(key footprint <<<"$after")
echo "predicted: $predicted bytes from free chunks, $trimmable from the top; happened: $released released, footprint $fp0 -> $fp1"
fails=0
[ -n "$predicted" ] && [ "$predicted" -gt 100000 ] || { echo "FAIL: expected a prediction of pages in free chunks"; fails=1; }
[ "$predicted" = "$released" ] || { echo "FAIL: predicted $predicted, released $released"; fails=1; }
[ "$trimmable" = "$((fp0 - fp1))" ] || { echo "FAIL: top trimmable $trimmable, footprint fell by $((fp0 - fp1))"; fails=1; }
[ "$(key trim_free_bytes <<<"$after")" = 0 ] || { echo "FAIL: after the trim, nothing is left to hand back"; fails=1; }
"$hv" frag --at mark:before "$tmp/t.hvt" 2>/dev/null | grep -q "^malloc_trim(0) would hand back $((predicted + trimmable)) bytes: $predicted of pages inside" ||
  { echo "FAIL: the text output says it"; fails=1; }
exit $fails
