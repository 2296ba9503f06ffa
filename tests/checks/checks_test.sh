#!/usr/bin/env bash
# checks_test.sh HEAPVIZ HEAP_BUGS LIBHVALLOC: each bug class of heap_bugs.c, three ways.
#   natively: glibc's first stderr line (a message where glibc sees the bug at that call);
#   under libhvalloc with HEAPVIZ_CHECKS=1: status 134 (SIGABRT, as glibc) and the same first
#     line where glibc sees it, else one line that starts with `heapviz:`;
#   recorded (`heapviz record --checks`): the same line, and `heapviz errors --json` names the
#     right kind, with the faulting call's stack, the block's allocation stack and, where the
#     block was freed before, its free stack.
# Then HEAPVIZ_CHECKS_CONTINUE=1 (reported, and the program goes on to exit 0), and a clean
# program under the checks (silent, exit 0).
set -u
hv=$1
prog=$2
lib=$3
. "$(dirname "${BASH_SOURCE[0]}")/../record/lib.sh"

# mode  kind  stacks the report must have (a: alloc_stack, f: free_stack, n: no free_stack, x: no
# call's stack (found at exit), -: only the call's). An error inside malloc or realloc comes
# before that call's own event: the report's flag (kErrorCallWritten unset) keeps the block's
# free from being taken for the faulting call.
while read -r mode kind stacks; do
  native=$("$prog" "$mode" 2>&1 >/dev/null | head -1)
  HEAPVIZ_CHECKS=1 LD_PRELOAD=$lib "$prog" "$mode" >/dev/null 2>err.txt
  rc=$?
  line=$(head -1 err.txt)
  norm=$(sed 's/0x[0-9a-f]*/0x_/g' <<<"$line") # (addresses change from run to run)
  [ "$rc" -eq 134 ] || fail "$mode: status $rc under the checks, want 134 ($line)"
  case "$native" in
  heapviz:*) fail "$mode: the native run printed a heapviz line: $native" ;;
  "") case "$line" in
    heapviz:*) ;;
    *) fail "$mode: glibc misses it, so the checks' line must start with heapviz:, got '$line'" ;;
    esac ;;
  *) [ "$line" = "$native" ] || fail "$mode: glibc says '$native', the checks say '$line'" ;;
  esac
  "$hv" record --checks -o "$mode.hvt" -- "$prog" "$mode" >/dev/null 2>rec.txt
  rc=$?
  [ "$rc" -eq 134 ] || fail "$mode: recorded: status $rc, want 134"
  rline=$(head -1 rec.txt)
  [ "$(sed 's/0x[0-9a-f]*/0x_/g' <<<"$rline")" = "$norm" ] || fail "$mode: recorded: '$rline', want '$line'"
  "$hv" errors --json "$mode.hvt" >errors.json 2>errors.err || fail "$mode: heapviz errors: $(cat errors.err)"
  got=$(python3 - "$kind" "$stacks" "$rline" <<'PY'
import json, sys
kind, stacks, line = sys.argv[1:]
errors = json.load(open("errors.json"))["errors"]
if len(errors) != 1:
    print("%d errors in the trace, want 1" % len(errors)); sys.exit()
e = errors[0]
problems = []
if e["kind"] != kind: problems.append("kind %s, want %s" % (e["kind"], kind))
if e["message"] != line: problems.append("message '%s'" % e["message"])
want_source = "heapviz" if line.startswith("heapviz:") else "glibc"  # whose message it is
if e["source"] != want_source:
    problems.append("source %s, want %s" % (e["source"], want_source))
if "x" in stacks:  # found by the sweep at exit, outside any call: no faulting call's stack
    if e["stack"]: problems.append("a stack for a finding at exit: %s" % e["stack"][:1])
elif not e["stack"] or e["stack"][0]["function"] not in ("main", "thread_free"):
    problems.append("the call's stack does not start in the program: %s" % e["stack"][:1])
if "a" in stacks and not e["alloc_stack"]: problems.append("no alloc_stack")
if "f" in stacks and not e["free_stack"]: problems.append("no free_stack")
if "n" in stacks and e["free_stack"]: problems.append("a free_stack for a block never freed")
print("; ".join(problems) or "ok")
PY
)
  [ "$got" = ok ] && ok "$mode: '${native:-(glibc: nothing)}' -> '$line', $kind" || fail "$mode: $got"
done <<'MODES'
tcache_double_free double-free af
fastbin_double_free double-free af
consolidated_double_free double-free af
unsorted_double_free double-free af
thread_double_free double-free af
realloc_freed double-free af
stack_pointer invalid-free -
stack_pointer_a_bit invalid-free -
interior_pointer invalid-free an
interior_plausible invalid-free an
other_arena invalid-free an
slack_overflow heap-buffer-overflow an
header_overflow heap-buffer-overflow an
header_overflow_victim heap-buffer-overflow an
header_overflow_plausible heap-buffer-overflow an
exit_overflow heap-buffer-overflow anx
write_after_free write-after-free af
MODES

# The header overflow's run is the size word, what the table says against what it holds (not the
# found word's own bits as the expectation: 41 41 ... -> 41 41 ...).
"$hv" errors --json header_overflow.hvt | grep -q '"expected": "31 00 00 00 00 00 00 00", "found": "41 41 41 41 41 41 41 41"' ||
  fail "header_overflow: the report's bytes are not the size word 0x31 -> 'AAAAAAAA'"
"$hv" errors header_overflow_plausible.hvt | grep -q 'the header of block 0x[0-9a-f]* was overwritten (found at free); the block before it, 0x[0-9a-f]* of 24 bytes, ends there' ||
  fail "header_overflow_plausible: the report does not name the block before the header"
"$hv" errors --json header_overflow_plausible.hvt | grep -q '"expected": "21 00 00 00 00 00 00 00", "found": "31 00 00 00 00 00 00 00"' ||
  fail "header_overflow_plausible: the report's bytes are not the size word 0x21 -> 0x31"
# Where glibc's message comes first, the checks add after it what they know: the header's word
# and the block whose end it is (the likely writer).
HEAPVIZ_CHECKS=1 LD_PRELOAD=$lib "$prog" header_overflow_victim >/dev/null 2>err.txt
grep -q "^heapviz: its header was overwritten: the size word holds 0x4242424242424242, 0x21 when it was handed out; the block before it, 0x[0-9a-f]* of 24 bytes, ends there$" err.txt &&
  ok "header_overflow_victim: glibc's line, then the checks' note" || fail "header_overflow_victim: no note: $(cat err.txt)"
# ... and the trace says it too: glibc's message and source, the overflow's kind, the size word's
# bytes, and the block before it (the writer) with its allocation stack.
python3 - header_overflow_victim.hvt "$hv" <<'PY' && ok "header_overflow_victim: recorded as glibc's verdict on a heap-buffer-overflow, with the writer" || fail "header_overflow_victim: the recorded report"
import json, subprocess, sys
e = json.loads(subprocess.run([sys.argv[2], "errors", "--json", sys.argv[1]], capture_output=True, text=True).stdout)["errors"][0]
w = e.get("writer") or {}
ok = (e["kind"] == "heap-buffer-overflow" and e["source"] == "glibc" and e["message"] == "munmap_chunk(): invalid pointer"
      and [b["offset"] for b in e["bytes"]] == [8] and e["bytes"][0]["found"] == "42 42 42 42 42 42 42 42"
      and e["bytes"][0]["expected"] == "21 00 00 00 00 00 00 00"
      and w.get("requested") == 24 and w.get("alloc_stack") and w["alloc_stack"][0]["function"] == "main")
if not ok: print(json.dumps(e, indent=1)[:1500])
sys.exit(0 if ok else 1)
PY
"$prog" glibc_sees_bad_size >/dev/null 2>native.txt
HEAPVIZ_CHECKS=1 LD_PRELOAD=$lib "$prog" glibc_sees_bad_size >/dev/null 2>err.txt
if [ "$(head -1 err.txt)" = "$(head -1 native.txt)" ] && grep -q "next header holds 0x21, its data 0x1234" err.txt; then
  ok "glibc_sees_bad_size: glibc's '$(head -1 err.txt)', the block after it untouched"
else
  fail "glibc_sees_bad_size: native '$(head -1 native.txt)'; checks: $(cat err.txt)"
fi
# The bytes: the slack overflow's run is the one byte written ('x' over the canary).
"$hv" errors --json slack_overflow.hvt | grep -q '"expected": "cb", "found": "78"' ||
  fail "slack_overflow: the report's bytes are not canary cb -> 'x' 78"
"$hv" errors slack_overflow.hvt | grep -q 'is 0 bytes after a block of 20 bytes' ||
  fail "slack_overflow: the text report does not place the byte after the block"

# Continue mode: reported on stderr, the program goes on (the bad free is not done).
# An overwritten header is reported once (it is put back as it was handed out: neither the block
# before it at its free nor the sweep at exit report it again; a trial's one overflow made 3
# reports), and where glibc's check sees it at that call, with glibc's message, as by default.
for mode in fastbin_double_free thread_double_free interior_plausible slack_overflow write_after_free realloc_freed \
  header_overflow_victim header_overflow_plausible header_overflow; do
  HEAPVIZ_CHECKS=1 HEAPVIZ_CHECKS_CONTINUE=1 LD_PRELOAD=$lib "$prog" "$mode" >/dev/null 2>err.txt
  rc=$?
  if [ "$rc" -eq 0 ] && grep -q '^heapviz: ' err.txt; then
    ok "continue: $mode: reported, exit 0"
  else
    fail "continue: $mode: status $rc, stderr '$(head -1 err.txt)'"
  fi
  # Recorded: a free the checks skipped has no Free event, so the trace replays to the heap the
  # program has (a Free before the report took the chunk out of its bin for good: "bin_out of
  # 0x... from a fastbin, but it is in_hand"); a free that went on is written after the report.
  if [ "$mode" = header_overflow_victim ]; then
    [ "$(head -1 err.txt)" = "$("$prog" "$mode" 2>&1 >/dev/null | head -1)" ] &&
      ok "continue: $mode: glibc's message first, as by default: $(head -1 err.txt)" ||
      fail "continue: $mode: '$(head -1 err.txt)', not glibc's"
  fi
  HEAPVIZ_CHECKS_CONTINUE=1 "$hv" record --checks -o "continue_$mode.hvt" -- "$prog" "$mode" >/dev/null 2>&1
  "$hv" check "continue_$mode.hvt" >check.out 2>&1
  rc=$?
  if [ "$rc" -eq 0 ] && ! grep -q "warning" check.out && grep -q "1 heap error recorded" check.out; then
    ok "continue: $mode: recorded, the trace replays without a warning"
  else
    fail "continue: $mode: heapviz check: status $rc: $(cat check.out)"
  fi
done

# No bug, no report: mallocs, reallocs, frees, calloc and an mmapped block under the checks; and
# four threads freeing each other's blocks in four arenas (20 times, 0.3 s each: races vary;
# before the next-header check looked twice at what other threads may be rewriting, about 1 run
# in 7 reported an overflow that was not there).
for mode in clean $(printf 'threads_clean %.0s' $(seq 20)); do
  HEAPVIZ_CHECKS=1 LD_PRELOAD=$lib "$prog" $mode >/dev/null 2>err.txt
  rc=$?
  [ "$rc" -eq 0 ] && [ ! -s err.txt ] && ok "$mode: silent" || fail "$mode: status $rc, '$(head -1 err.txt)'"
done

[ "$fails" -eq 0 ] && echo "every bug class caught" || echo "$fails failure(s)"
[ "$fails" -eq 0 ]
