#!/usr/bin/env bash
# signal_malloc_test.sh HEAPVIZ BUILD_BIN_DIR LIBHVALLOC: a signal handler that mallocs, callocs, reallocs and
# frees while the program is inside malloc or free (hv_record_signal_malloc). Before, its events
# went into the middle of the interrupted call's: `check` found jumps in the sequence numbers, an
# unknown event type or a block ending inside an event, and read as little as an eighth of the
# trace; with HEAPVIZ_VERIFY a handler's malloc during the snapshot hung the program. Now the
# handler's calls are served outside the heap and written when the interrupted call ends: every
# recording checks, every snapshot verifies, and the trace holds the handler's blocks as mmapped
# chunks (the program makes none of its own).
set -u
hv=$(realpath "$1")
bin=$(realpath "$2")
lib=$(realpath "$3")
prog="$bin/hv_record_signal_malloc"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
nested=0
for run in "verify" "verify stacks" "checks"; do
  env=(HEAPVIZ_STACKS=0 HEAPVIZ_VERIFY=20000)
  case $run in
  "verify stacks") env=(HEAPVIZ_VERIFY=20000) ;;
  checks) env=(HEAPVIZ_STACKS=0 HEAPVIZ_CHECKS=1) ;;
  esac
  rm -f t.hvt
  out=$(timeout 120 env "${env[@]}" HEAPVIZ_OUT=t.hvt LD_PRELOAD="$lib" "$prog" 3000000 2>err.txt)
  rc=$?
  [ "$rc" -eq 0 ] || { fail "$run: exit status $rc (124: hung): $(cat err.txt)"; continue; }
  [ ! -s err.txt ] || fail "$run: stderr: $(cat err.txt)"
  hits=${out#hits=}
  [ "${hits:-0}" -gt 0 ] || fail "$run: no signal handled ('$out'): the test measures nothing"
  if c=$("$hv" check t.hvt 2>&1); then ok "$run, $hits signals: $c"; else fail "$run, $hits signals: $c"; fi
  m=$("$hv" stats --json t.hvt | python3 -c 'import json,sys; print(json.load(sys.stdin)["event_counts"].get("mmap_chunk", 0))' 2>/dev/null)
  echo "  $run: ${m:-?} of the handler's calls came while the program was inside malloc or free"
  nested=$((nested + ${m:-0}))
done
[ "$nested" -gt 0 ] && ok "$nested calls from the handler interrupted a traced call, over the 3 runs" ||
  fail "no handler call interrupted malloc or free in 3 runs: the test measures nothing"
[ "$fails" -eq 0 ] && echo "all signal handler checks passed"
exit $((fails > 0))
