#!/bin/bash
# Blocks from before the trace (docs/cli.md): a process that allocated 1000 blocks and two
# mmapped ones, captured by `heapviz attach` (and by a second viewer attached meanwhile, whose
# baseline reaches the first capture too), then freed 300 small blocks and one mmapped block and
# allocated 50. stats, sites, leaks, frag and chunks must all count the first baseline's blocks
# less those freed, by chunk bytes, outside every live figure, and name them where a site would
# be; the mmapped ones are in use, not "in hand"; a trace recorded from the start has none.
# usage: before_attach_test.sh HEAPVIZ BEFORE_ATTACH LIBHVALLOC WORKDIR
set -u
HV=$1 PROG=$2 LIB=$3 WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 2
export XDG_RUNTIME_DIR="$WORK/run"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

mkfifo ready
LD_PRELOAD="$LIB" HEAPVIZ_LIVE=1 "$PROG" "$WORK/go" > ready &
pid=$!
read -r line < ready
[ "$line" = ready ] || { echo "FAIL the program did not start: '$line'"; exit 1; }
timeout 60 "$HV" attach --out t.hvt $pid 2> attach.err &
att=$!
for _ in $(seq 200); do [ -s t.hvt ] && break; sleep 0.05; done
sleep 0.2 # the baseline is written before the stream goes on
timeout 60 "$HV" attach --out t2.hvt $pid 2> attach2.err & # a second viewer: its baseline reaches t.hvt
att2=$!
for _ in $(seq 200); do [ -s t2.hvt ] && break; sleep 0.05; done
sleep 0.2
touch go
wait $att; rc=$?
wait $att2; rc2=$?
wait $pid
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && ok "two viewers captured pid $pid" ||
  { fail "attach exit $rc / $rc2: $(cat attach.err attach2.err)"; exit 1; }
n=$("$HV" dump t.hvt | grep -c "snapshot .*baseline")
[ "$n" -ge 2 ] && ok "the first capture has $n baseline snapshot parts (the second viewer's too)" ||
  fail "the first capture has $n baseline parts: the second viewer's did not reach it"

# The blocks from before the trace right after the (first) baseline: the position before the
# program's first call of the capture. Both captures must say the same of them.
mmapped() { # TRACE [--at N]: the sizes of the mmapped blocks from before the trace, smallest first
  "$HV" chunks --json "$@" | python3 -c 'import json,sys
c = json.load(sys.stdin)["chunks"]
print(" ".join(str(x["size"]) for x in sorted(c, key=lambda x: x["size"]) if x["before_trace"] and x["state"] == "mmapped"))'
}
for t in t.hvt t2.hvt; do
  echo "-- $t"
  # (--at counts events; a second viewer's capture does not start at seq 1)
  first=$("$HV" dump $t | grep -n -m1 -E "^#[0-9]+ .* (malloc|free|free_tcache) " | cut -d: -f1)
  [ -n "$first" ] || { fail "$t: no call in the capture"; continue; }
  s0=$("$HV" stats --json --at $((first - 1)) $t)
  b0=$(echo "$s0" | json '["final_before_trace_blocks"]')
  y0=$(echo "$s0" | json '["final_before_trace_bytes"]')
  [ "$b0" -ge 1002 ] && [ "$b0" -le 1012 ] && ok "after the baseline: $b0 blocks from before the trace, $y0 bytes" ||
    fail "after the baseline: $b0 blocks from before the trace (want 1002 and the few libc made)"
  m0=$(mmapped --at $((first - 1)) $t)
  set -- $m0
  [ $# -eq 2 ] && [ "$1" -ge 200016 ] && [ "$2" -ge 300016 ] && ok "the two mmapped blocks are from before the trace ($m0)" ||
    fail "mmapped blocks from before the trace after the baseline: '$m0', want two (200000 and 300000 bytes)"
  big=${2:-0}
  s1=$("$HV" stats --json $t)
  b1=$(echo "$s1" | json '["final_before_trace_blocks"]')
  y1=$(echo "$s1" | json '["final_before_trace_bytes"]')
  live=$(echo "$s1" | json '["final_live_bytes"]')
  # 300 freed blocks of malloc(100) (chunks of 112 bytes) and the mmapped one of 300000.
  [ "$b1" -eq $((b0 - 301)) ] && [ "$y1" -eq $((y0 - 300 * 112 - big)) ] &&
    ok "at the end: $b1 blocks, $y1 bytes (the baseline's less the 301 freed)" ||
    fail "at the end: $b1 blocks, $y1 bytes; want $((b0 - 301)) and $((y0 - 300 * 112 - big))"
  m1=$(mmapped $t)
  [ "$m1" = "${1:-}" ] && ok "the mmapped block still in use at the end: $m1 bytes" || fail "mmapped at the end: '$m1', want '${1:-}'"
  [ "$live" -eq 10000 ] && ok "live bytes are the 50 blocks of 200 made in the trace" || fail "final_live_bytes $live, want 10000"
  "$HV" stats $t | grep -q "^before the trace: *$b1 blocks still in use, $y1 bytes of chunks" &&
    ok "stats says so" || fail "stats: $("$HV" stats $t | grep before)"
  for cmd in sites leaks frag; do
    out=$("$HV" $cmd --json $t)
    b=$(echo "$out" | json '["before_trace_blocks"]')
    y=$(echo "$out" | json '["before_trace_bytes"]')
    [ "$b" = "$b1" ] && [ "$y" = "$y1" ] && ok "$cmd --json: $b blocks, $y bytes" || fail "$cmd --json: $b blocks, $y bytes; want $b1, $y1"
  done
  "$HV" sites $t | grep -q "^(and $b1 blocks, $y1 bytes of chunks, allocated before the trace began" &&
    ok "sites says so" || fail "sites: $("$HV" sites $t | head -3)"
  "$HV" frag $t | grep -q "live chunks\{0,1\} allocated before the trace began" &&
    ok "frag names them where a site would be" || fail "frag: $("$HV" frag $t)"
  "$HV" frag --json $t | grep -q '"before_trace": true' && ok "frag --json: before_trace" || fail "frag --json has no before_trace: true"
  z=$("$HV" chunks --json $t | python3 -c 'import json,sys
c = [x for x in json.load(sys.stdin)["chunks"] if x["before_trace"]]
print(len(c), sum(x["seq"] != 0 for x in c))')
  [ "$z" = "$b1 0" ] && ok "chunks --json: $b1 blocks before_trace, all with seq 0" || fail "chunks --json: '$z', want '$b1 0'"
  n=$("$HV" chunks $t | grep -c "before the trace$")
  [ "$n" -eq "$b1" ] && ok "chunks: $n blocks allocated 'before the trace'" || fail "chunks: $n blocks 'before the trace', want $b1"
done

# The map draws a block from before the trace in a paint of its own (the legend's "in use, from
# before the trace"), a block made during the trace in the usual one.
if command -v xvfb-run > /dev/null && "$HV" shot --help > /dev/null 2>&1; then
  read -r a_before a_live < <("$HV" chunks --json t.hvt | python3 -c 'import json,sys
c = json.load(sys.stdin)["chunks"]
b = [x["addr"] for x in c if x["before_trace"] and x["state"] == "in_use"]
l = [x["addr"] for x in c if not x["before_trace"] and x["state"] == "in_use" and x["requested"] == 200]
print(b[0] if b else "-", l[0] if l else "-")')
  for a in $a_before $a_live; do
    lo=$(printf '0x%x' $((a - 0x200))) hi=$(printf '0x%x' $((a + 0x200)))
    xvfb-run -a "$HV" shot t.hvt --size 1200x700 --range $lo-$hi --geometry g.txt -o g.png > /dev/null 2>&1
    before=$(sed -n 's/^paint \([0-9]*\) [0-9a-f]* in use, from before the trace$/\1/p' g.txt)
    inuse=$(sed -n 's/^paint \([0-9]*\) [0-9a-f]* in use (requested)$/\1/p' g.txt)
    want=$([ $a = $a_before ] && echo "$before" || echo "$inuse")
    if [ -n "$before" ] && grep -Eq "^rect $a [0-9]+ $want " g.txt; then
      ok "map: the chunk at $a is drawn in paint $want ($([ $a = $a_before ] && echo 'from before the trace' || echo 'in use'))"
    else
      fail "map: chunk $a not drawn in paint '$want': $(grep "^rect $a " g.txt)"
    fi
  done
else
  echo "note: no xvfb-run or a build without the app: the map's paint is checked by the GUI build only"
fi

# Recorded from the start: none, and nothing said.
touch go
"$HV" record -o r.hvt -- "$PROG" "$WORK/go" > /dev/null 2>&1
r=$("$HV" stats --json r.hvt | json '["final_before_trace_blocks"]')
[ "$r" = 0 ] && ! "$HV" stats r.hvt | grep -q "before the trace" && ! "$HV" sites r.hvt | grep -q "before the trace" &&
  ok "a trace recorded from the start has no blocks from before it" || fail "recorded: $r blocks from before the trace"
exit $FAILS
