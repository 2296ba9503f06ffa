#!/usr/bin/env bash
# error_codes_test.sh HEAPVIZ HEAP_ERRORS: each heap bug of heap_errors.c, recorded. The program
# must abort (status 134) with the first stderr line glibc itself prints for that bug (the
# program run natively), and the trace must end with an error event naming what the check found
# (the code its corrupt() call site passes, trace_format.h's ErrorCode) and the pointer involved.
set -u
hv=$1
prog=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# mode  expected code. largebin_nextsize is a list check whose message says "nextsize": a code
# guessed from the message's words would be corrupted_size.
while read -r mode code; do
  native=$("$prog" "$mode" 2>&1 >/dev/null | head -1)
  "$hv" record -o "$mode.hvt" -- "$prog" "$mode" >/dev/null 2>err.txt
  rc=$?
  [ "$rc" -eq 134 ] || fail "$mode: status $rc, want 134 ($(cat err.txt))"
  msg=$(head -1 err.txt)
  [ -n "$native" ] && [ "$msg" = "$native" ] || fail "$mode: message '$msg', glibc says '$native'"
  ptr=$(sed -n 's/^heapviz: the pointer involved is \(0x[0-9a-f]*\)$/\1/p' err.txt)
  ev=$("$hv" dump "$mode.hvt" 2>&1 | grep ' error ')
  got=$(sed -n 's/.* error \([a-z_]*\) \(0x[0-9a-f]*\)$/\1 \2/p' <<<"$ev")
  if [ "$got" = "$code $ptr" ]; then
    echo "ok: $mode: '$msg' -> error $code $ptr"
  else
    fail "$mode: error event '$ev', want 'error $code $ptr'"
  fi
done <<'MODES'
tcache_double_free double_free
fasttop double_free
invalid_pointer invalid_pointer
munmap_invalid invalid_pointer
prev_size corrupted_size
unsorted_list corrupted_list
largebin_nextsize corrupted_list
unaligned_tcache other
MODES

[ "$fails" -eq 0 ] && echo "all heap errors recorded with their codes" || echo "$fails failure(s)"
[ "$fails" -eq 0 ]
