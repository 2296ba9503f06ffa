#!/usr/bin/env bash
# threaded_verify_test.sh HEAPVIZ PROGRAM: a threaded program recorded with a snapshot every 500
# events replays exactly in the order of its clocked numbers (docs/trace-format.md, "Order of
# events"; issue 20): `check` verifies every snapshot and every bin list, no event fails to fit,
# the blocks are clocked (version 3, block flag 2), `dump` numbers the merged events 1..N, and
# time runs back by less than 0.1 ms between them. Five runs: the threads interleave differently.
set -u
hv=$(realpath "$1")
prog=$(realpath "$2")
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for run in 1 2 3 4 5; do
  rm -f t.hvt*
  if ! HEAPVIZ_VERIFY=500 HEAPVIZ_STACKS=$((run % 2)) "$hv" record --no-children -o t.hvt -- "$prog" 4 60000 \
    >/dev/null 2>err.txt; then
    fail "run $run: record failed: $(cat err.txt)"
    continue
  fi
  out=$("$hv" check t.hvt 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || [[ $out == *"not fit the replayed heap"* ]] || [[ $out == *warning* ]]; then
    fail "run $run: check: $out"
    continue
  fi
  snaps=$(printf '%s\n' "$out" | sed -n 's/.*, \([0-9]*\) snapshots verified (\([0-9]*\) with every bin list.*/\1 \2/p')
  read -r nsnap nlists <<<"$snaps"
  if [ -z "$nsnap" ] || [ "$nsnap" -lt 50 ] || [ "$nlists" != "$nsnap" ]; then
    fail "run $run: expected >= 50 snapshots, each with its bin lists: $out"
  fi
  # The file: version 3, and clocked blocks (flag 2) from more than one thread.
  clocked=$(python3 - t.hvt <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
version, hsize = struct.unpack_from('<II', d, 8)
off, clocked, tids = hsize, 0, set()
while off + 56 <= len(d):
    magic, flags, _, raw, stored, tid = struct.unpack_from('<IHHIII', d, off)
    if flags & 2:
        clocked += 1
        tids.add(tid)
    off += 56 + stored
print(version, clocked, len(tids))
PY
)
  read -r version nclocked ntids <<<"$clocked"
  [ "$version" = 3 ] || fail "run $run: version $version, expected 3"
  [ "${nclocked:-0}" -ge 4 ] && [ "${ntids:-0}" -ge 4 ] ||
    fail "run $run: expected clocked blocks from every worker: $nclocked blocks, $ntids threads"
  stats=$("$hv" stats --json t.hvt)
  events=$(printf '%s\n' "$stats" | sed -n 's/.*"events": \([0-9]*\).*/\1/p' | head -1)
  back=$(printf '%s\n' "$stats" | sed -n 's/.*"time_back_max_ns": \([0-9]*\).*/\1/p')
  # dump numbers the merged events 1..N with no gap.
  bad=$("$hv" dump t.hvt | awk '{ n = substr($1, 2) + 0; if (n != NR) { print NR ": " $0; exit } } END { if (NR != '"${events:-0}"') print "count " NR }')
  [ -z "$bad" ] || fail "run $run: dump is not numbered 1..$events: $bad"
  [ "${back:-999999999}" -le 100000 ] || fail "run $run: time ran back by $back ns"
  ok "run $run: $events events, $nclocked clocked blocks of $ntids threads, $nsnap snapshots verified, time back at most $back ns"
done
echo "$fails failures"
[ "$fails" -eq 0 ]
