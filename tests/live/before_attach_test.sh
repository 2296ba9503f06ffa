#!/bin/bash
# Blocks from before the trace (docs/cli.md): a process that allocated 1000 blocks, captured by
# `heapviz attach`, then freed 300 of them and allocated 50. stats, sites, leaks, frag and chunks
# must all count the baseline's blocks less the 300 freed, by chunk bytes, outside every live
# figure, and name them where a site would be; a trace recorded from the start has none.
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
touch go
wait $att; rc=$?
wait $pid
[ $rc -eq 0 ] && ok "attach captured pid $pid" || { fail "attach exit $rc: $(cat attach.err)"; exit 1; }

# The blocks from before the trace right after the baseline: the position before the program's
# first call of the capture.
first=$("$HV" dump --kind alloc,free --count 1 t.hvt | sed -n 's/^#\([0-9]*\) .*/\1/p')
[ -n "$first" ] || { fail "no call in the capture"; exit 1; }
s0=$("$HV" stats --json --at $((first - 1)) t.hvt)
b0=$(echo "$s0" | json '["final_before_trace_blocks"]')
y0=$(echo "$s0" | json '["final_before_trace_bytes"]')
[ "$b0" -ge 1000 ] && [ "$b0" -le 1010 ] && ok "after the baseline: $b0 blocks from before the trace, $y0 bytes" ||
  fail "after the baseline: $b0 blocks from before the trace (want 1000 and the few libc made)"
s1=$("$HV" stats --json t.hvt)
b1=$(echo "$s1" | json '["final_before_trace_blocks"]')
y1=$(echo "$s1" | json '["final_before_trace_bytes"]')
live=$(echo "$s1" | json '["final_live_bytes"]')
# 300 freed blocks of malloc(100): chunks of 112 bytes.
[ "$b1" -eq $((b0 - 300)) ] && [ "$y1" -eq $((y0 - 300 * 112)) ] &&
  ok "at the end: $b1 blocks, $y1 bytes (the baseline's less the 300 freed)" ||
  fail "at the end: $b1 blocks, $y1 bytes; want $((b0 - 300)) and $((y0 - 300 * 112))"
[ "$live" -eq 10000 ] && ok "live bytes are the 50 blocks of 200 made in the trace" || fail "final_live_bytes $live, want 10000"
"$HV" stats t.hvt | grep -q "^before the trace: *$b1 blocks still in use, $y1 bytes of chunks" &&
  ok "stats says so" || fail "stats: $("$HV" stats t.hvt | grep before)"
for cmd in sites leaks frag; do
  out=$("$HV" $cmd --json t.hvt)
  b=$(echo "$out" | json '["before_trace_blocks"]')
  y=$(echo "$out" | json '["before_trace_bytes"]')
  [ "$b" = "$b1" ] && [ "$y" = "$y1" ] && ok "$cmd --json: $b blocks, $y bytes" || fail "$cmd --json: $b blocks, $y bytes; want $b1, $y1"
done
"$HV" sites t.hvt | grep -q "^(and $b1 blocks, $y1 bytes of chunks, allocated before the trace began" &&
  ok "sites says so" || fail "sites: $("$HV" sites t.hvt | head -3)"
"$HV" frag t.hvt | grep -q "allocated before the trace began: heapviz attached later, so its call stack is unknown" &&
  ok "frag names them where a site would be" || fail "frag: $("$HV" frag t.hvt)"
"$HV" frag --json t.hvt | grep -q '"before_trace": true' && ok "frag --json: before_trace" || fail "frag --json has no before_trace: true"
n=$("$HV" chunks t.hvt | grep -c "before the trace$")
[ "$n" -eq "$b1" ] && ok "chunks: $n blocks allocated 'before the trace'" || fail "chunks: $n blocks 'before the trace', want $b1"

# Recorded from the start: none, and nothing said.
touch go
"$HV" record -o r.hvt -- "$PROG" "$WORK/go" > /dev/null 2>&1
r=$("$HV" stats --json r.hvt | json '["final_before_trace_blocks"]')
[ "$r" = 0 ] && ! "$HV" stats r.hvt | grep -q "before the trace" && ! "$HV" sites r.hvt | grep -q "before the trace" &&
  ok "a trace recorded from the start has no blocks from before it" || fail "recorded: $r blocks from before the trace"
exit $FAILS
