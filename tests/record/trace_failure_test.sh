#!/usr/bin/env bash
# trace_failure_test.sh HEAPVIZ BUILD_BIN_DIR LIBHVALLOC: recording when the trace cannot be
# written (docs/trace-format.md, "When the trace cannot be written"). In every case the program's
# output and exit status are its own, stderr has exactly one heapviz line naming the file and
# the reason, and whatever reached the file reads as a trace (shorter, never corrupt).
set -u
hv=$(realpath "$1")
bin=$(realpath "$2")
lib=$(realpath "$3")
prog="$bin/hv_trace_failure_prog"
[ -x "$prog" ] || { echo "FAIL: $prog is not built"; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
touch start

want1=$("$prog" 1 300000)
want4=$("$prog" 4 100000)
[ "$want1" = "threads=1 ops=300000 checksum=$(echo "$want1" | sed 's/.*checksum=\([0-9]*\).*/\1/') errno=kept" ] ||
  fail "the native run itself: '$want1'"

# expect NAME RC OUT ERRFILE WANT_OUT REGEX: exit status 3, the program's own stdout, and exactly
# one heapviz line on stderr, matching REGEX.
expect() {
  local name=$1 rc=$2 out=$3 err=$4 want=$5 regex=$6 lines
  [ "$rc" -eq 3 ] && ok "$name: exit status 3 passed through" || fail "$name: exit status $rc, want 3"
  [ "$out" = "$want" ] && ok "$name: the program's output is unchanged" || fail "$name: output '$out', want '$want'"
  lines=$(grep -c '^heapviz:' "$err")
  [ "$lines" -eq 1 ] && ok "$name: one line on stderr: $(grep '^heapviz:' "$err")" ||
    fail "$name: $lines heapviz lines on stderr: $(cat "$err")"
  grep -Eq "$regex" "$err" || fail "$name: stderr does not match /$regex/: $(cat "$err")"
  [ "$(wc -l <"$err")" -eq "$lines" ] || fail "$name: more on stderr than that line: $(cat "$err")"
}
# The N of "tracing stopped after N events".
stopped_after() { sed -n 's/.*tracing stopped after \([0-9]*\) events.*/\1/p' "$1"; }
events_in() { "$hv" stats --json "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }

# 1. A HEAPVIZ_OUT that cannot be created: said once, at the start, with the path and the reason.
out=$(HEAPVIZ_OUT=/nonexistent/dir/x.hvt LD_PRELOAD=$lib "$prog" 1 300000 2>err.txt)
expect "missing directory" $? "$out" err.txt "$want1" \
  '^heapviz: cannot write the trace to /nonexistent/dir/x.hvt: No such file or directory; the program runs without tracing$'
out=$(HEAPVIZ_OUT=/etc/passwd/x.hvt LD_PRELOAD=$lib "$prog" 1 300000 2>err.txt)
expect "a file as the directory" $? "$out" err.txt "$want1" '^heapviz: cannot write the trace to /etc/passwd/x.hvt: Not a directory;'
# heapviz record checks the path itself before the program starts (status 2, nothing run);
# process_tree_test.sh tests its other cases.
"$hv" record -o /nonexistent/dir/x.hvt -- "$prog" 1 1000 >/dev/null 2>err.txt
rc=$?
[ "$rc" -eq 2 ] && grep -q '^heapviz record: cannot write the trace to /nonexistent/dir/x.hvt: no such directory: /nonexistent/dir' err.txt &&
  ok "heapviz record -o /nonexistent/dir/x.hvt: the reason is on stderr" || fail "record: rc $rc, $(cat err.txt)"

# 2. A full disk: /dev/full takes no byte (ENOSPC), so the header fails at the start. The device
# is written as it is: no /dev/full.<pid> file appears next to it.
out=$(HEAPVIZ_OUT=/dev/full LD_PRELOAD=$lib "$prog" 1 300000 2>err.txt)
expect "/dev/full" $? "$out" err.txt "$want1" '^heapviz: cannot write the trace to /dev/full: No space left on device;'
if strays=$(find /dev -maxdepth 1 -type f -name 'full.[0-9]*' -newer "$tmp/start" 2>/dev/null) && [ -n "$strays" ]; then
  fail "/dev/full.<pid> files were created: $strays"
  rm -f $strays # the regular files this run left in /dev
fi

# 3. A file size limit (RLIMIT_FSIZE): writes past it fail with EFBIG and raise SIGXFSZ, which
# would kill the program. The trace stops at the last whole block, and its events are exactly
# those the message counts: `check` passes and `stats` agrees.
out=$(ulimit -f 1000 && HEAPVIZ_OUT=$tmp/fsize.hvt LD_PRELOAD=$lib "$prog" 1 300000 2>err.txt)
expect "ulimit -f 1000" $? "$out" err.txt "$want1" \
  "^heapviz: trace write to $tmp/fsize.hvt failed: File too large; tracing stopped after [0-9]+ events"
n=$(stopped_after err.txt)
size=$(stat -c %s fsize.hvt)
[ "$size" -le 1024000 ] && [ "$size" -gt 500000 ] && ok "fsize.hvt holds $size bytes" || fail "fsize.hvt holds $size bytes"
if c=$("$hv" check fsize.hvt 2>&1); then ok "heapviz check: $c"; else fail "heapviz check fsize.hvt: $c"; fi
[ -n "$n" ] && [ "$(events_in fsize.hvt)" = "$n" ] && ok "stats counts the $n events the message counts" ||
  fail "stats counts $(events_in fsize.hvt) events, the message $n"

# 4. A pipe whose reader goes away: EPIPE, and SIGPIPE must not kill the program. What the
# reader got is a readable prefix (cut mid-block, so `stats` says the file is truncated).
mkfifo pipe
timeout 60 head -c 300000 pipe >head.hvt &
out=$(HEAPVIZ_OUT=$tmp/pipe LD_PRELOAD=$lib "$prog" 1 300000 2>err.txt)
expect "a pipe whose reader quit" $? "$out" err.txt "$want1" \
  "^heapviz: trace write to $tmp/pipe failed: Broken pipe; tracing stopped after [0-9]+ events"
wait
s=$("$hv" stats head.hvt 2>&1)
if grep -q "truncated" <<<"$s" && [ "$(events_in head.hvt)" -gt 10000 ]; then
  ok "the reader's 300000 bytes: $(events_in head.hvt) events, reported as truncated"
else
  fail "stats on the reader's prefix: $s"
fi

# 5. Blocks never interleave: four threads write 64 KiB blocks into a pipe, where the kernel
# keeps only writes of up to 4 KiB (PIPE_BUF) in one piece. Without a lock around each block's
# write, the blocks of two threads get mixed and `check` fails on a bad block; 5 runs.
for i in 1 2 3 4 5; do
  timeout 60 cat pipe >mt.hvt &
  out=$(HEAPVIZ_OUT=$tmp/pipe LD_PRELOAD=$lib "$prog" 4 100000 2>err.txt)
  rc=$?
  wait
  [ "$rc" -eq 3 ] && [ "$out" = "$want4" ] && [ ! -s err.txt ] || fail "4 threads into a pipe, run $i: rc=$rc '$out' $(cat err.txt)"
  if ! c=$("$hv" check mt.hvt 2>&1); then
    fail "4 threads into a pipe, run $i: $c"
    break
  fi
done
[ "$fails" -eq 0 ] && ok "4 threads into a pipe, 5 runs: every block whole; the last: $c"

# 6. A FIFO is claimed by one process: a second one writing the same HEAPVIZ_OUT while the
# first holds it records to PATH.<pid> instead of mixing its blocks into the same pipe.
timeout 60 cat pipe >one.hvt &
HEAPVIZ_OUT=$tmp/pipe LD_PRELOAD=$lib sh -c "$prog 1 1000 >/dev/null; true" 2>err.txt
wait
[ ! -s err.txt ] || fail "sh and a child on one FIFO: $(cat err.txt)"
n=$(ls pipe.* 2>/dev/null | wc -l)
[ "$n" -ge 1 ] && "$hv" check one.hvt >/dev/null 2>&1 && ok "sh took the FIFO, its child wrote $(ls pipe.*)" ||
  fail "sh and a child on one FIFO: $n other traces, check: $("$hv" check one.hvt 2>&1)"

# 7. /dev/null is written as it is by every process of a tree: a shell and the two children it
# forks leave no /dev/null.<pid> files (a file in /dev) and print nothing.
ls -d /dev/null.* >before.txt 2>/dev/null
HEAPVIZ_OUT=/dev/null LD_PRELOAD=$lib sh -c "$prog 1 1000 >/dev/null; $prog 1 1000 >/dev/null; true" 2>err.txt
ls -d /dev/null.* >after.txt 2>/dev/null
[ ! -s err.txt ] || fail "a tree on /dev/null: stderr: $(cat err.txt)"
if cmp -s before.txt after.txt; then
  ok "a shell and two children on /dev/null: no /dev/null.<pid> files"
else
  fail "a tree on /dev/null left files beside it: $(comm -13 before.txt after.txt | tr '\n' ' ')"
  comm -13 before.txt after.txt | xargs -r rm -f
fi

# With HEAPVIZ_NO_CHILDREN=1 only the program writes the device: one line for /dev/full, not
# one per process.
HEAPVIZ_OUT=/dev/full HEAPVIZ_NO_CHILDREN=1 LD_PRELOAD=$lib sh -c "$prog 1 1000 >/dev/null; $prog 1 1000 >/dev/null; true" 2>err.txt
n=$(grep -c '^heapviz:' err.txt)
[ "$n" -eq 1 ] && ok "no children, /dev/full: one line, the program's" ||
  fail "no children, /dev/full: $n heapviz lines: $(cat err.txt)"

[ "$fails" -eq 0 ] && echo "all trace failure checks passed"
exit $((fails > 0))
