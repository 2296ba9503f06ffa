#!/usr/bin/env bash
# cli_trace_test.sh HEAPVIZ MAKE_TRACES: `heapviz check|stats|dump|bins` on valid and broken traces:
# exit codes, the documented messages (docs/cli.md) and the output formats.
set -u
hv=$1
make_traces=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$make_traces" "$tmp" || { echo "FAIL: hv_make_traces"; exit 1; }
fails=0

# every REGEX line matches some line of TEXT (grep -E alone takes the lines of a pattern as
# alternatives: a two-line expectation passed when either line matched)
match_all() {
  local r
  while IFS= read -r r; do grep -Eq -- "$r" <<<"$2" || return 1; done <<<"$1"
}
# expect STATUS STDOUT_REGEX STDERR_REGEX -- ARGS...   (an empty regex matches anything; a
# regex of several lines: each line must match)
expect() {
  local want=$1 oregex=$2 eregex=$3
  shift 4
  local err status
  err=$("$hv" "$@" 2>&1 >"$tmp/out")
  status=$?
  if [ "$status" -ne "$want" ] || ! match_all "$eregex" "$err" || { [ -n "$oregex" ] && ! match_all "$oregex" "$(cat "$tmp/out")"; }; then
    echo "FAIL: heapviz $*: status $status (want $want)"
    echo "  stdout: $(head -3 "$tmp/out")"
    echo "  stderr: $err"
    fails=$((fails + 1))
  else
    echo "ok: heapviz $* -> $status"
  fi
}
t=$tmp

# check: valid traces
expect 0 "^$t/snapshot_ok.hvt: ok: 18 events, 1 block, 1 thread, 1 snapshot verified$" "^$" -- check "$t/snapshot_ok.hvt"
expect 0 "1 snapshot verified" "" -- check "$t/snapshot_coarse.hvt"
expect 0 "^$t/churn.hvt: ok: 20000 events, [0-9]+ blocks, 2 threads, 0 snapshots verified$" "^$" -- check "$t/churn.hvt"
expect 0 ": ok: [0-9]+ events, [0-9]+ blocks, 3 threads" "" -- check "$t/churn_zstd.hvt"
# An event that does not fit, with no heap error or lost events to explain it: the check fails.
expect 1 "" "^$t/unknown_free.hvt: 1 event does not fit the replayed heap, with no heap error or lost events to explain them; the first: offset [0-9]+: seq 2: free of 0x4242420, which is not a known chunk \\(for a trace libhvalloc wrote this is a heapviz bug" -- check "$t/unknown_free.hvt"
# bins: every list in its order, as text and JSON; --at; no lists at the start
expect 0 "^  tcache\[0\] +thread 1 +0x5555555592b0 \(32\)$" "^$" -- bins "$t/snapshot_ok.hvt"
expect 0 '"bin": "tcache\[0\]", "kind": "tcache", "index": 0, "thread": 1, "chunks": \[\{"chunk": "0x5555555592b0", "size": 32\}\]' "^$" -- bins --json "$t/snapshot_ok.hvt"
expect 0 "^  every bin is empty$" "^$" -- bins "$t/snapshot_ok.hvt" --at 0
expect 0 "^  tcache\[6\] +thread 1001 +0x7ff004000e80 \(96\)$" "^$" -- bins "$t/churn.hvt" --at 100
expect 2 "" "heapviz bins: missing FILE" -- bins
# check: broken traces (offset, message, events read, exit 1)
expect 1 "" "^$t/snapshot_mismatch.hvt: offset [0-9]+: snapshot at seq 18 differs from the model: chunk 0x5555555592b0: snapshot has size 32 fastbin\[0\], model has size 32 tcache\[0\]" -- check "$t/snapshot_mismatch.hvt"
expect 1 "" "^$t/empty.hvt: offset 0: not a heapviz trace \(the file is 0 bytes" -- check "$t/empty.hvt"
expect 1 "" "^$t/bad_magic.hvt: offset 0: not a heapviz trace \(bad magic\)$" -- check "$t/bad_magic.hvt"
expect 1 "" "^$t/future_version.hvt: offset 8: trace version 4 was made by a newer heapviz; this heapviz reads versions 1 to 3$" -- check "$t/future_version.hvt"
expect 1 "" "offset 100: truncated file header \(100 of 144 bytes\)" -- check "$t/truncated_header.hvt"
expect 1 "" "offset [0-9]+: truncated: block stored_size [0-9]+ runs past the end of the file.*
.*: [0-9]+ events could be read" -- check "$t/truncated.hvt"
expect 1 "" "offset [0-9]+: block CRC mismatch \(stored 0x[0-9a-f]+, computed 0x[0-9a-f]+\)" -- check "$t/corrupt_crc.hvt"
expect 1 "" "absurd block raw_size 4294967295 \(at most 1048576\)" -- check "$t/absurd_raw_size.hvt"
expect 1 "" "offset 217: unknown event type 0x77 \(thread 1\).*
.*: 1 events could be read" -- check "$t/unknown_event.hvt"
expect 1 "" "offset 208: malloc: varint longer than 10 bytes" -- check "$t/varint_overflow.hvt"
expect 1 "" "snapshot: chunk count larger than the block can hold \(4294967295\)" -- check "$t/snapshot_huge.hvt"
# check: usage and unreadable files
expect 2 "" "^usage: heapviz check FILE" -- check
expect 2 "" "^usage: heapviz check FILE" -- check a b
expect 2 "" "^$t/nope.hvt: offset 0: cannot open: No such file or directory" -- check "$t/nope.hvt"
expect 2 "" "offset 0: is a directory" -- check "$t"

# stats
expect 0 "^events: +18$" "^$" -- stats "$t/snapshot_ok.hvt"
expect 0 "calls: +malloc 2, free 2, calloc 1, realloc 0, memalign 0" "" -- stats "$t/snapshot_ok.hvt"
expect 0 '"events": 18,' "" -- stats --json "$t/snapshot_ok.hvt"
expect 0 "^command: +prog --flag$" "" -- stats "$t/snapshot_ok.hvt"
expect 0 '"command": "prog --flag",' "" -- stats --json "$t/snapshot_ok.hvt"
expect 0 '"calls": \{"malloc": 2, "free": 2, "calloc": 1, "realloc": 0, "memalign": 0\}' "" -- stats --json "$t/snapshot_ok.hvt"
expect 0 '"peak_live_bytes": 48,' "" -- stats --json "$t/snapshot_ok.hvt"
expect 0 '"peak_heap_bytes": 135168,' "" -- stats --json "$t/snapshot_ok.hvt"
expect 0 '"event_counts": \{"malloc": 2, "calloc": 1, "free": 2, "chunk_alloc": 2, "split": 2, "bin_in": 2, "top": 3, "heap_new": 1, "sbrk": 1, "mark": 1, "snapshot": 1\}' "" -- stats --json "$t/snapshot_ok.hvt"
expect 0 '"truncated": false,' "" -- stats --json "$t/churn.hvt"
expect 0 '"threads": 2,' "" -- stats --json "$t/churn.hvt"
expect 0 '"truncated": true,' "truncated.*these statistics cover the readable prefix" -- stats --json "$t/truncated.hvt"
expect 0 '"final_fragmentation": 0\.[0-9]+,' "" -- stats --json "$t/truncated.hvt"
# Every reader of the heap at a position says so when the position is the end of a truncated
# file (they printed nothing at `--at end`, the default: the read stopped before the torn block).
for c in sites frag bins chunks leaks errors; do
  expect 0 "" "truncated.*(covers the readable prefix|after the readable prefix)" -- $c "$t/truncated.hvt"
done
expect 0 "" "^$" -- sites --at 10 "$t/truncated.hvt"
expect 1 '"error": "offset [0-9]+: block CRC mismatch' "block CRC mismatch" -- stats --json "$t/corrupt_crc.hvt"
expect 2 "" "not a heapviz trace" -- stats "$t/bad_magic.hvt"
expect 2 "" "^usage: heapviz stats" -- stats --bogus "$t/churn.hvt"
if command -v python3 >/dev/null; then
  "$hv" stats --json "$t/churn_zstd.hvt" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["events"]==sum(d["event_counts"].values()), d' \
    && echo "ok: stats --json is valid JSON" || { echo "FAIL: stats --json is not valid JSON"; fails=$((fails + 1)); }
fi

# dump
expect 0 "^#1 t=\+0\.000048ms tid=1 arena=0 mark \"start\"$" "^$" -- dump --count 1 "$t/snapshot_ok.hvt"
expect 0 "^#8 t=\+[0-9]+\.[0-9]{6}ms tid=1 arena=0 malloc size=24 -> 0x5555555592a0$" "" -- dump --from 8 --count 1 "$t/snapshot_ok.hvt"
expect 0 "^#18 .* snapshot chunks=3$" "" -- dump --from 18 "$t/snapshot_ok.hvt"
expect 2 "" "^heapviz dump: --from 19: past the end \(the last event is seq 18\)$" -- dump --from 19 "$t/snapshot_ok.hvt"
expect 0 "^#2 .* heap_new 0x555555559000 size=135168" "" -- dump --from 2 --count 1 "$t/snapshot_ok.hvt"
expect 0 "" "truncated.*the events before it are shown" -- dump "$t/truncated.hvt"
expect 1 "^#1 .* malloc size=24 -> 0x1000$" "offset 217: unknown event type 0x77" -- dump "$t/unknown_event.hvt"
# dump filters (analysis::Filter, the Events window's): kinds, a chunk's history, size, thread.
expect 0 "^#13 .* free 0x5555555592c0$" "^$" -- dump --kind free "$t/snapshot_ok.hvt"
[ "$("$hv" dump --kind free,alloc "$t/snapshot_ok.hvt" | cut -d' ' -f1 | tr '\n' ' ')" = "#8 #12 #13 #15 #16 " ] &&
  echo "ok: dump --kind free,alloc lists #8 #12 #13 #15 #16" || { echo "FAIL: dump --kind free,alloc"; fails=$((fails + 1)); }
# The chunk at 0x...92b0: born in the split of top at #5, its own events, and the API calls on
# its user pointer 0x...92c0; not malloc -> 0x...92a0 (#8), the chunk before it.
for a in 0x5555555592b0 0x5555555592c0; do
  got=$("$hv" dump --addr $a "$t/snapshot_ok.hvt" | cut -d' ' -f1 | tr '\n' ' ')
  [ "$got" = "#5 #6 #9 #11 #12 #13 #14 #15 #16 #17 " ] && echo "ok: dump --addr $a is the chunk's history" ||
    { echo "FAIL: dump --addr $a: $got"; fails=$((fails + 1)); }
done
expect 0 "^#5 .* split 0x555555559290 first=32 rest=134480$" "" -- dump --size 134480 --count 1 "$t/snapshot_ok.hvt"
[ -z "$("$hv" dump --thread 2 "$t/snapshot_ok.hvt")" ] && echo "ok: dump --thread 2: no events" || { echo "FAIL: dump --thread 2"; fails=$((fails + 1)); }
expect 2 "" "--kind frees: kind: 'frees' is not one of alloc, free" -- dump --kind frees "$t/churn.hvt"
expect 2 "" "--size 9-3: size: MIN-MAX with MIN <= MAX" -- dump --size 9-3 "$t/churn.hvt"
expect 2 "" "--addr needs a value" -- dump --addr
expect 0 "^#6 t=\+[0-9.]+ms tid=1 arena=0 internal 0x555555559000 size=656$" "^$" -- dump --from 6 "$t/internal.hvt"
expect 0 "^$t/internal.hvt: ok: 6 events" "^$" -- check "$t/internal.hvt"
expect 0 "^#5 .* chunk_alloc 0x555555559000 size=656$" "" -- dump --from 5 --count 1 "$t/internal.hvt"
expect 2 "" "--count x: not a number" -- dump --count x "$t/churn.hvt"
expect 2 "" "unknown option '--frm'" -- dump --frm 3 "$t/churn.hvt"
expect 2 "" "offset 8: trace version 4 was made by a newer heapviz" -- dump "$t/future_version.hvt"
n=$("$hv" dump "$t/truncated.hvt" 2>/dev/null | wc -l)
r=$("$hv" stats --json "$t/truncated.hvt" 2>/dev/null | sed -n 's/.*"events": \([0-9]*\),/\1/p')
if [ "$n" -eq "$r" ] && [ "$n" -gt 1000 ]; then echo "ok: dump and stats agree on the readable prefix ($n events)"
else echo "FAIL: dump printed $n lines, stats counted $r events"; fails=$((fails + 1)); fi
n=$("$hv" dump --from 100 --count 25 "$t/churn.hvt" | wc -l)
[ "$n" -eq 25 ] && echo "ok: --count" || { echo "FAIL: --count 25 printed $n lines"; fails=$((fails + 1)); }

# Call stacks: leaks and sites of a hand-made trace whose module is nowhere on disk (frames show
# as module+offset, and a warning says why), and the broken stack records.
expect 0 '^\{"leaks": \[$' "warning: /nonexistent/heapviz-test/prog: the file is missing \(No such file or directory\); its frames show as module\+offset" -- leaks --json "$t/stacks.hvt"
python3 - "$hv" "$t/stacks.hvt" <<'PY' || { echo "FAIL: leaks --json stacks.hvt"; fails=$((fails + 1)); }
import json, subprocess, sys
j = json.loads(subprocess.run([sys.argv[1], "leaks", "--json", sys.argv[2]], capture_output=True, text=True).stdout)
assert (j["total_count"], j["total_bytes"]) == (2, 140), j
assert [(l["count"], l["bytes"]) for l in j["leaks"]] == [(1, 100), (1, 40)], j
assert [f["function"] for f in j["leaks"][0]["stack"]] == ["prog+0x1300", "prog+0x1100"], j
f = j["leaks"][1]["stack"][0]
assert f == {"function": "prog+0x1200", "file": "", "line": 0, "module": "/nonexistent/heapviz-test/prog", "address": "0x555555555200"}, f
print("ok: leaks --json: 2 blocks, 140 bytes, by stack, frames as module+offset")
PY
expect 0 "^#1  100 bytes live in 1 block; 1 allocation, 100 bytes" "" -- sites "$t/stacks.hvt"
expect 0 "^#1  64 bytes live in 2 blocks; 2 allocations, 64 bytes" "" -- sites --at 4 "$t/stacks.hvt"
expect 0 "^#1  64 bytes live in 2 blocks" "" -- sites --at peak --by allocs "$t/stacks.hvt"
expect 0 "malloc size=24 -> 0x5555555592a0 stack=2$" "" -- dump "$t/stacks.hvt"
expect 2 "" "offset [0-9]+: malloc: stack 9 is not defined in the trace" -- leaks "$t/stack_undefined.hvt"
expect 2 "" "offset [0-9]+: stack: node 2 names parent 7, which is not defined before it" -- sites "$t/stack_bad_parent.hvt"
expect 2 "" "offset [0-9]+: stack: node 1 runs past the event's end" -- leaks "$t/stack_truncated.hvt"
expect 2 "" "--at 'x' is not a position: give an event number, end, peak or mark:LABEL" -- sites --at x "$t/stacks.hvt"
expect 2 "" "--at mark:nope: the trace has no mark 'nope'" -- sites --at mark:nope "$t/stacks.hvt"
expect 0 "" "this trace has no call stacks" -- leaks "$t/churn.hvt"

if [ "$fails" -ne 0 ]; then
  echo "$fails failures"
  exit 1
fi
echo "all passed"
