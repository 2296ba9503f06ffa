#!/usr/bin/env bash
# errors_cli_test.sh HEAPVIZ HEAP_ERRORS: `heapviz errors` on real recordings of heap_errors.c,
# and the breakpoints of `heapviz run`.
# - Each bug recorded (stacks on, the default): `heapviz errors --json` lists exactly one error,
#   of the right kind, with glibc's own message (the program's first stderr line natively), the
#   faulting call's stack starting in main, the block's allocation stack where the block is
#   known, and for a double free the earlier free's stack; the text form says where the pointer
#   lies in its block; `heapviz check` says the trace holds one heap error.
# - `heapviz run --break-on-error --out F`: the program stops (SIGSTOP) at the faulting call
#   after glibc's message, prints the gdb line, and the capture already holds the error while it
#   is stopped; continued, it aborts (134) and the capture keeps the error.
# - HEAPVIZ_BREAK_AT=N (what `run --break-at N` sets): the program stops after the call that
#   reaches event N (a call writes a few events), saying how many the trace has, the same ones
#   on a second run.
set -u
hv=$1
prog=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# mode  kind  block_known  has_free_stack  where (a regex of the text form)
while read -r mode kind block free where; do
  native=$("$prog" "$mode" 2>&1 >/dev/null | head -1)
  "$hv" record -o "$mode.hvt" -- "$prog" "$mode" >/dev/null 2>&1
  if ! "$hv" errors --json "$mode.hvt" >"$mode.json" 2>"$mode.err"; then
    fail "$mode: heapviz errors --json failed: $(cat "$mode.err")"
    continue
  fi
  if ! out=$(python3 - "$mode.json" "$kind" "$native" "$block" "$free" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
kind, native, block, free = sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5] == "1"
errs = doc["errors"]
assert len(errs) == 1, f"{len(errs)} errors"
e = errs[0]
for k in ("kind", "message", "seq", "address", "block", "stack", "alloc_stack", "free_stack"):
    assert k in e, f"no key {k}"
assert e["kind"] == kind, f"kind {e['kind']}, want {kind}"
assert e["message"] == native, f"message {e['message']!r}, glibc says {native!r}"
assert e["stack"] and e["stack"][0]["function"] == "main", f"stack {e['stack'][:1]}"
if block:
    assert e["block"] is not None, "no block"
    assert e["alloc_stack"] and e["alloc_stack"][0]["function"] == "main", f"alloc_stack {e['alloc_stack'][:1]}"
assert bool(e["free_stack"]) == free, f"free_stack {e['free_stack'][:1]}"
print(f"{e['kind']}: {e['message']}")
PY
  ); then
    fail "$mode: $out"
    continue
  fi
  chk=$("$hv" check "$mode.hvt" 2>&1)
  if ! grep -q "^$mode.hvt: the program's heap: 1 heap error recorded (heapviz errors $mode.hvt)\$" <<<"$chk"; then
    fail "$mode: heapviz check does not say the trace holds a heap error: $chk"
    continue
  fi
  text=$("$hv" errors "$mode.hvt" 2>&1)
  if ! grep -Eq "$where" <<<"$text"; then
    fail "$mode: the text form does not say '$where': $text"
    continue
  fi
  ok "$mode: $out"
done <<'MODES'
tcache_double_free double-free 1 1 is 0 bytes inside a freed block of 40 bytes
fasttop double-free 1 1 is 0 bytes inside a freed block of 24 bytes
invalid_pointer invalid-free 1 0 is 8 bytes inside a block of 100 bytes
prev_size corruption 1 1 is 0 bytes inside a freed block of 2000 bytes
unsorted_list corruption 1 1 is 0 bytes inside a freed block of 2000 bytes
MODES

# Waits (10 s at most) for the process running "$prog $1" to be stopped; prints its pid.
stopped_pid() {
  for _ in $(seq 100); do
    for p in $(pgrep -f "^$prog $1\$"); do
      [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = T ] && { echo "$p"; return 0; }
    done
    sleep 0.1
  done
  return 1
}

"$hv" run --break-on-error --out cap.hvt -- "$prog" fasttop >run.out 2>&1 &
runner=$!
if pid=$(stopped_pid fasttop); then
  held=$("$hv" errors cap.hvt 2>/dev/null | head -1)
  grep -q "attach a debugger: gdb -p $pid " run.out || fail "break-on-error: no gdb line: $(cat run.out)"
  [[ $held == "== error 1 of 1: double-free: double free or corruption (fasttop)"* ]] ||
    fail "break-on-error: while stopped, the capture says '$held'"
  kill -CONT "$pid"
  wait "$runner"
  rc=$?
  [ "$rc" -eq 134 ] || fail "break-on-error: status $rc after SIGCONT, want 134"
  after=$("$hv" errors cap.hvt 2>/dev/null | head -1)
  [[ $after == "== error 1 of 1: double-free"* ]] || fail "break-on-error: after the abort the capture says '$after'"
  ok "break-on-error: stopped at the faulting call (pid $pid), error in the capture before and after"
else
  fail "break-on-error: the program never stopped: $(cat run.out)"
  kill "$runner" 2>/dev/null
fi

for n in 1 2; do
  HEAPVIZ_BREAK_AT=15 "$hv" record -o "at$n.hvt" -- "$prog" fasttop >"at$n.out" 2>&1 &
  runner=$!
  if pid=$(stopped_pid fasttop); then
    grep -Eq "heapviz: stopped at event [0-9]+, after the call that reached event 15 \(HEAPVIZ_BREAK_AT\)" "at$n.out" ||
      fail "break-at: $(cat "at$n.out")"
    "$hv" dump "at$n.hvt" 2>/dev/null | sed -n 's/^#\([0-9]*\) [^ ]* [^ ]* [^ ]* \([a-z_]*\).*/\1 \2/p' >"at$n.txt"
    kill -CONT "$pid"
    wait "$runner"
  else
    fail "break-at: run $n never stopped: $(cat "at$n.out")"
    kill "$runner" 2>/dev/null
  fi
done
n1=$(wc -l <at1.txt)
if [ "$n1" -ge 15 ] && [ "$n1" -le 20 ] && cmp -s at1.txt at2.txt &&
  grep -q "stopped at event $n1, after" at1.out; then
  ok "break-at 15: both runs stopped with the same $n1 events, the last: $(tail -1 at1.txt)"
else
  fail "break-at 15: $(wc -l <at1.txt) events, runs equal: $(cmp -s at1.txt at2.txt && echo yes || echo no)"
fi
[ "$fails" -eq 0 ]
