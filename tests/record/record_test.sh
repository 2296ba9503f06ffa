#!/usr/bin/env bash
# record_test.sh HEAPVIZ BUILD_BIN_DIR SCENARIO_DIR: heapviz record / sim -o on real programs, with
# every trace verified against the allocator's own heap snapshots by heapviz check.
set -u
hv=$1
bin=$2
scen=$3
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_all() {  # every trace file of a recording passes heapviz check, every event fits the replay
  local f
  for f in "$@"; do
    if ! out=$("$hv" check "$f" 2>&1); then
      fail "heapviz check $f: $out"
    elif [[ $out == *"not fit the replayed heap"* ]]; then # libhvalloc's events always fit: a bug, not a warning
      fail "heapviz check $f: $out"
    else
      echo "  $out"
    fi
  done
}

# 1. Output, exit status and a verified trace of python3 (every object through malloc).
prog='import json, sys; d = {str(i): list(range(i % 40)) for i in range(20000)}; print(len(json.dumps(d))); sys.exit(5)'
want=$(/usr/bin/python3 -c "$prog")
out=$(PYTHONMALLOC=malloc HEAPVIZ_VERIFY=20000 "$hv" record -o py.hvt -- /usr/bin/python3 -c "$prog" 2>err.txt)
rc=$?
[ "$rc" -eq 5 ] && ok "python3's exit status 5 passed through" || fail "exit status $rc, want 5"
[ "$out" = "$want" ] && ok "python3's stdout passed through" || fail "stdout '$out'"
grep -q "heapviz record: py.hvt: [0-9]* events" err.txt && ok "summary line: $(grep 'py.hvt:' err.txt)" || fail "no summary: $(cat err.txt)"
check_all py.hvt
snaps=$("$hv" check py.hvt | sed -n 's/.* \([0-9]*\) snapshots* verified.*/\1/p')
[ "${snaps:-0}" -ge 10 ] && ok "python3 trace: $snaps snapshots verified" || fail "python3 trace: ${snaps:-0} snapshots"

# 2. gcc: cc1 and as are exec'd children; each gets its own trace, none overwrites another.
HEAPVIZ_VERIFY=50000 "$hv" record -o gcc.hvt -- gcc -O2 -c "$scen/../../tests/realprogs/gcc_input.c" -o x.o 2>err.txt
rc=$?
n=$(ls gcc.hvt gcc.hvt.* 2>/dev/null | wc -l)
[ "$rc" -eq 0 ] && [ "$n" -ge 3 ] && ok "gcc wrote $n traces (gcc, cc1, as)" || fail "gcc rc=$rc, $n traces: $(cat err.txt)"
check_all gcc.hvt gcc.hvt.*

# 3. Threads: five threads freeing each other's blocks (coarse snapshots).
HEAPVIZ_VERIFY=5000 "$hv" record -o mt.hvt -- "$bin/bench_prodcons" 20000 >/dev/null 2>err.txt
threads=$("$hv" stats --json mt.hvt | python3 -c 'import json,sys; print(json.load(sys.stdin)["threads"])')
[ "$threads" -ge 5 ] && ok "prodcons trace has $threads threads" || fail "prodcons threads: $threads"
check_all mt.hvt

# 4. A shell pipeline: forked children and exec'd programs record to PATH.<pid>.
"$hv" record -o sh.hvt -- sh -c 'ls / | sort | wc -l' >/dev/null 2>err.txt
n=$(ls sh.hvt.* 2>/dev/null | wc -l)
[ "$n" -ge 2 ] && ok "shell pipeline: $n child traces" || fail "shell pipeline: $n child traces"
check_all sh.hvt sh.hvt.*

# 5. A heap error: glibc's message, status 134, and the error event is in the trace.
"$hv" record -o df.hvt -- "$bin/hv_record_double_free" >out.txt 2>err.txt
rc=$?
[ "$rc" -eq 134 ] && ok "double free: exit status 134" || fail "double free: status $rc"
grep -q "free(): double free detected in tcache 2" err.txt && ok "double free: glibc's message" || fail "no message: $(cat err.txt)"
"$hv" dump df.hvt >dump.txt 2>&1
grep -q 'mark "before the bug"' dump.txt && ok "the program's hv_mark is in the trace" || fail "mark missing"
grep -q " error " dump.txt && ok "the error event is in the trace: $(grep ' error ' dump.txt | head -1)" || fail "error event missing"

# 6. A killed program leaves a readable prefix (the blocks it had flushed).
PYTHONMALLOC=malloc "$hv" record -o kill.hvt -- /usr/bin/python3 -c '
import os, signal
x = [str(i) * 10 for i in range(300000)]
os.kill(os.getpid(), signal.SIGKILL)' >/dev/null 2>err.txt
rc=$?
[ "$rc" -eq 137 ] && ok "SIGKILL: status 137 passed through" || fail "SIGKILL: status $rc"
events=$("$hv" stats --json kill.hvt 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
[ "${events:-0}" -gt 100000 ] && ok "killed program's trace reads: $events events" || fail "killed trace: ${events:-none} events"
check_all kill.hvt

# 7. heapviz sim -o: the demo scenario as a trace, snapshots after every event, marks kept.
HEAPVIZ_VERIFY=1 "$hv" sim -o demo.hvt "$scen/demo.hvs" >/dev/null 2>err.txt || fail "sim -o: $(cat err.txt)"
check_all demo.hvt
[ "$("$hv" dump demo.hvt | grep -c ' mark ')" -eq 8 ] && ok "demo trace has its 8 marks" || fail "demo marks"

# 7b. -o a FIFO: the trace goes down the pipe, and the FIFO itself is neither removed nor read.
mkfifo pipe.hvt
cat pipe.hvt > piped.hvt &
reader=$!
timeout 60 "$hv" record -o pipe.hvt -- sh -c 'ls / >/dev/null' 2>err.txt
rc=$?
wait "$reader"
[ "$rc" -eq 0 ] && [ -p pipe.hvt ] && grep -q "pipe.hvt: written to a pipe or a device" err.txt &&
  ok "record -o FIFO: kept the FIFO, said so" || fail "record -o FIFO: rc $rc, $(ls -l pipe.hvt 2>&1), $(cat err.txt)"
"$hv" check piped.hvt >/dev/null 2>&1 && ok "the trace read from the FIFO checks" || fail "FIFO trace does not check"

# 8. Usage errors.
"$hv" record 2>err.txt; [ $? -eq 2 ] && ok "record without a program: status 2" || fail "record usage"
"$hv" record -o x.hvt -- /nonexistent/prog 2>err.txt; rc=$?
[ "$rc" -eq 127 ] && grep -q "cannot run '/nonexistent/prog'" err.txt && ok "missing program: status 127" || fail "missing program: $rc $(cat err.txt)"

[ "$fails" -eq 0 ] && echo "all record checks passed"
exit $((fails > 0))
