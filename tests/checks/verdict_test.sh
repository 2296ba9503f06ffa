#!/usr/bin/env bash
# verdict_test.sh HEAPVIZ GLIBC_CHECKS LIBHVALLOC: every mode of glibc_checks.c (one corruption per
# glibc check, docs/checks.md "glibc's own checks"), three ways:
#   natively (the machine's glibc 2.36: the ground truth): its status and first stderr line;
#   under libhvalloc: the same status (134: SIGABRT) and the same first line;
#   recorded (HEAPVIZ_OUT): the same again, the trace's last events are the error and its report,
#     whose message is that line, and `heapviz check` says a heap error is recorded.
# A mode glibc lets through (a fake chunk with a plausible size) must exit 0 under both, with the
# same output, and `heapviz check` of its recording names the free outside every heap.
# Must not: know what a mode does; glibc_checks.c says that.
set -u
hv=$1
prog=$2
lib=$3
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$tmp" || exit 1

modes=$("$prog" list) || {
  echo "FAIL: $prog list"
  exit 1
}
count=0
for mode in $modes; do
  count=$((count + 1))
  "$prog" "$mode" >native.out 2>native.err
  nrc=$?
  LD_PRELOAD=$lib "$prog" "$mode" >hv.out 2>hv.err
  hrc=$?
  nline=$(head -1 native.err)
  hline=$(head -1 hv.err)
  if [ "$nrc" != "$hrc" ] || [ "$nline" != "$hline" ] || ! cmp -s native.out hv.out; then
    fail "$mode: glibc: status $nrc, '$nline'; libhvalloc: status $hrc, '$hline'"
    continue
  fi
  if [ "$nrc" = 0 ]; then
    # Recorded, the fake chunk's free is the program's bug: check says so and passes.
    rm -f "$mode.hvt"
    HEAPVIZ_OUT="$mode.hvt" LD_PRELOAD=$lib "$prog" "$mode" >rec.out 2>/dev/null
    rrc=$?
    "$hv" check "$mode.hvt" >check.out 2>&1
    crc=$?
    if [ "$rrc" = 0 ] && cmp -s native.out rec.out && [ "$crc" = 0 ] &&
      grep -q "after a free outside every heap" check.out; then
      ok "$mode: glibc lets it through, and so does libhvalloc (check: a fake chunk)"
    else
      fail "$mode: recorded: status $rrc; heapviz check: status $crc, $(cat check.out)"
    fi
    continue
  fi
  [ "$nrc" = 134 ] || {
    fail "$mode: glibc's status $nrc, not an abort (134): the mode does not do what it says"
    continue
  }
  rm -f "$mode.hvt"
  HEAPVIZ_OUT="$mode.hvt" LD_PRELOAD=$lib "$prog" "$mode" >/dev/null 2>rec.err
  rrc=$?
  [ "$rrc" = 134 ] && [ "$(head -1 rec.err)" = "$nline" ] || {
    fail "$mode: recorded: status $rrc, '$(head -1 rec.err)'"
    continue
  }
  last=$("$hv" dump "$mode.hvt" 2>&1 | tail -2 | sed 's/.*arena=[0-9]* //' | cut -d' ' -f1 | tr '\n' ' ')
  [ "$last" = "error error_report " ] || {
    fail "$mode: the trace does not end with an error and its report: '$last'"
    continue
  }
  msg=$("$hv" errors --json "$mode.hvt" | sed -n 's/.*"message": "\([^"]*\)".*/\1/p' | head -1)
  [ "$msg" = "$nline" ] || {
    fail "$mode: the error's message is '$msg'"
    continue
  }
  "$hv" check "$mode.hvt" >check.out 2>&1
  if grep -q "1 heap error recorded" check.out; then
    ok "$mode: '$nline' (recorded)"
  else
    fail "$mode: heapviz check: $(cat check.out)"
  fi
done
[ "$count" -ge 50 ] || fail "only $count modes"
finish
