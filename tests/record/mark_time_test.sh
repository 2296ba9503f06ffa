#!/usr/bin/env bash
# mark_time_test.sh HEAPVIZ PROGRAM DIR: Record.MarksAndThreadExitsTakeTheirOwnTime.
# mark_after_barrier.c: four workers churn fast, meet at a barrier, worker 0 marks "steady" 5 ms
# later, and all exit 5 ms after the mark (each exit flushes its tcache). In the trace's order:
#   - the mark comes after every call of the churn (no worker's malloc or free of a block after
#     it: only glibc's free(NULL)s at thread exit, and main's stdout buffer);
#   - each worker's exit flush (its last events) comes after the mark, at least 4 ms after it.
# Before the fix both took the thread's last reading: the mark landed among the others' churn
# (1211 calls after it) and the flushes right after the mark, at its time.
set -u
hv=$1 prog=$2 dir=$3
trace="$dir/mark_after_barrier.hvt"
rm -f "$trace"
HEAPVIZ_STACKS=0 "$hv" record -o "$trace" -- "$prog" >/dev/null 2>&1 || { echo "FAIL: record"; exit 1; }
"$hv" check "$trace" >/dev/null || { echo "FAIL: check"; exit 1; }
"$hv" dump "$trace" | awk '
  { t = $2; sub(/^t=\+/, "", t); sub(/ms$/, "", t); tid = $3; sub(/^tid=/, "", tid) }
  / mark "steady"/ { mark = NR; mark_t = t; next }
  !mark { if ($5 == "malloc" || $5 == "free_tcache") worker[tid] = 1; next }
  $5 == "free_tcache" || ($5 == "free" && $6 != "0x0") || ($5 == "malloc" && $6 ~ /^size=/ && substr($6, 6) + 0 < 1024) {
    late++; if (late <= 3) print "FAIL: a call of the churn after the mark: " $0 }
  $5 != "free" || $6 != "0x0" { last[tid] = NR; last_t[tid] = t }
  END {
    if (!mark) { print "FAIL: no mark"; exit 1 }
    bad = late > 0
    n = 0
    for (w in worker) {
      if (!(w in last)) continue # main: its mallocs came before (it only joins)
      n++
      if (last_t[w] - mark_t < 4) { printf "FAIL: thread %s exits at %s ms, %.3f ms after the mark\n", w, last_t[w], last_t[w] - mark_t; bad = 1 }
    }
    if (n != 4) { printf "FAIL: %d workers with events after the mark, want 4 (their exits)\n", n; bad = 1 }
    if (!bad) printf "ok: the mark (%s ms) follows the churn; 4 exits flush 4+ ms after it\n", mark_t
    exit bad
  }'
