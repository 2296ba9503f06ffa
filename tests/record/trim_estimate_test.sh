#!/usr/bin/env bash
# trim_estimate_test.sh HEAPVIZ PROGRAM DIR: Frag.TrimEstimateMatchesWhatMallocTrimGaveBack.
# fastbin_trim.c frees 29940 small blocks (fastbin sizes) between 60 kept ones and calls
# malloc_trim(0) between two marks. What `heapviz frag --at mark:before-trim` says malloc_trim(0)
# would hand back (pages inside free chunks + the main top's trimmable tail) must be exactly what
# the trace shows it did: its release events (madvise) and the program break it lowered.
set -u
hv=$1 prog=$2 dir=$3
trace="$dir/fastbin_trim.hvt"
rm -f "$trace"
HEAPVIZ_STACKS=0 "$hv" record -o "$trace" -- "$prog" >/dev/null 2>&1 || { echo "FAIL: record"; exit 1; }
estimate=$("$hv" frag --json --at mark:before-trim "$trace" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["trim_free_bytes"] + sum(t["trimmable"] for t in r["tops"]), r["trim_free_bytes"])') ||
  { echo "FAIL: frag --json"; exit 1; }
read -r total in_chunks <<<"$estimate"
did=$("$hv" dump "$trace" | awk '
  / mark "before-trim"/ { on = 1; next }
  / mark "after-trim"/ { on = 0 }
  on && $5 == "release" { sub(/^length=/, "", $7); released += $7 }
  on && $5 == "sbrk" { sub(/^delta=/, "", $7); if ($7 < 0) lowered -= $7 }
  END { print released + lowered, released }')
read -r gave released <<<"$did"
echo "frag's estimate: $total bytes ($in_chunks inside free chunks); malloc_trim gave back $gave ($released by madvise)"
[ "$released" -gt 1000000 ] || { echo "FAIL: malloc_trim released only $released bytes: not the heap this test needs"; exit 1; }
[ "$total" = "$gave" ] && [ "$in_chunks" = "$released" ] || { echo "FAIL: the estimate is not what malloc_trim did"; exit 1; }
echo "ok"
