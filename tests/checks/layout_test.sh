#!/usr/bin/env bash
# layout_test.sh HEAPVIZ HEAP_BUGS: not one chunk moves under HEAPVIZ_CHECKS. Each program is
# recorded with the checks (record --checks) and without (HEAPVIZ_CHECKS=0: the same environment
# size), and every event of the two `heapviz dump`s must be the same, addresses taken as offsets
# into their region (the kernel places regions where it likes; the side table is mmapped too).
set -u
hv=$1
prog=$2
. "$(dirname "${BASH_SOURCE[0]}")/../record/lib.sh"

normalize() { # dump text -> events with addresses as region#+offset, no time or thread
  python3 -c '
import re, sys
bases = []
out = []
for line in sys.stdin:
    parts = line.split()
    if len(parts) < 4: continue
    ev = " ".join(parts[3:])
    m = re.match(r"arena=\d+ (heap_new|mmap|mmap_chunk|sbrk) (0x[0-9a-f]+)", ev)
    if m: bases.append(int(m.group(2), 16))
    def rel(mo):
        a = int(mo.group(0), 16)
        best = max(((b, i) for i, b in enumerate(bases) if b <= a), default=None)
        return mo.group(0) if best is None else "R%d+%x" % (best[1], a - best[0])
    out.append(re.sub(r"0x[0-9a-f]+", rel, ev))
print("\n".join(out))
'
}

seq 1 20000 | awk '{ print ($1 * 7919) % 10007, $1 }' >input.txt
while read -r name cmd; do
  # shellcheck disable=SC2086
  HEAPVIZ_CHECKS=0 "$hv" record --no-stacks -o off.hvt -- $cmd >/dev/null 2>off.err || fail "$name: record: $(cat off.err)"
  # shellcheck disable=SC2086
  "$hv" record --no-stacks --checks -o on.hvt -- $cmd >/dev/null 2>on.err || fail "$name: record --checks: $(cat on.err)"
  "$hv" dump off.hvt | normalize >off.txt
  "$hv" dump on.hvt | normalize >on.txt
  n=$(wc -l <off.txt)
  if [ "$n" -gt 100 ] && cmp -s off.txt on.txt; then
    ok "$name: $n events, the same with the checks on"
  else
    fail "$name: $n events; with the checks: $(wc -l <on.txt); first difference:"
    diff off.txt on.txt | head -5
  fi
done <<CMDS
heap_bugs_clean $prog clean
sort sort -n input.txt
CMDS

[ "$fails" -eq 0 ] && echo "the layout is the same with the checks on" || echo "$fails failure(s)"
[ "$fails" -eq 0 ]
