#!/bin/bash
# Live attach end to end (docs/live.md), on a real multi-threaded program:
#  1. started with HEAPVIZ_LIVE=1, it is listed by `heapviz ps`, captured mid-run by
#     `heapviz attach PID --out`, and finishes with the same output as without the allocator;
#     the capture passes `heapviz check` against the process's own exact heap walks (one at
#     every sync with HEAPVIZ_VERIFY=1, and the last one at exit);
#  2. two viewers at once: both captures check;
#  3. a viewer killed mid-stream: the program carries on, gives back the stream's memory, and a
#     later viewer attaches fine;
#  4. the program killed mid-stream: the viewer keeps what it received (a complete prefix);
#  5. a peer with another uid is refused (when run as root: setpriv switches uid);
#  6. `heapviz run --out` starts a program, captures it, and passes its exit status through;
#     a `heapviz run` killed with SIGKILL leaves no program waiting for it;
#  7. bad use: attach to a process that is not listening says so and exits 1;
#  8. the hard cases, at once: threads that exit every round, fork while attached, malloc_trim
#     and mallopt from another thread, a heap whose snapshot spans many blocks.
# usage: live_test.sh HEAPVIZ LIVE_TARGET LIBHVALLOC WORKDIR
set -u
HV=$1 TARGET=$2 LIB=$3 WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 2
export XDG_RUNTIME_DIR="$WORK/run"   # a private socket directory for this test
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT

# Waits until PID is attachable (its socket exists); 10 s at most.
wait_socket() {
  for _ in $(seq 200); do [ -S "$XDG_RUNTIME_DIR/heapviz/$1.sock" ] && return 0; sleep 0.05; done
  return 1
}
# check FILE WHAT: heapviz check must pass and have verified at least MIN snapshots.
check_trace() {
  local out
  out=$(timeout 120 "$HV" check "$1" 2>&1)
  local rc=$?
  local n
  n=$(echo "$out" | sed -n 's/.* \([0-9]*\) snapshots* verified.*/\1/p')
  if [ $rc -eq 0 ] && [ "${n:-0}" -ge "$2" ] && ! echo "$out" | grep -q warning; then ok "$3: $out"; else fail "$3: check exit $rc, want >= $2 snapshots: $out"; fi
}

expected=$("$TARGET" 4 60 20000)   # the same program on glibc: the output to match

# ---- 1. ps, attach mid-run, unchanged output, exact replay --------------------------------
LD_PRELOAD="$LIB" HEAPVIZ_LIVE=1 HEAPVIZ_VERIFY=1 "$TARGET" 4 60 20000 > t1.out &
t1=$!; pids+=($t1)
wait_socket $t1 || fail "no socket for pid $t1"
sleep 0.3   # mid-run: the heap already has thousands of chunks
ps_out=$(timeout 10 "$HV" ps)
if echo "$ps_out" | grep -Eq "^ *$t1 +[0-9.]+ (KiB|MiB) +0 +.*live_target 4 60 20000"; then ok "ps lists $t1 with its heap size"; else fail "ps: $ps_out"; fi
timeout 60 "$HV" attach $t1 --out t1.hvt 2> t1.err
rc=$?
wait $t1; t1rc=$?
[ $rc -eq 0 ] && grep -q "the process exited" t1.err && ok "attach --out followed $t1 to its exit" || fail "attach exit $rc: $(cat t1.err)"
[ $t1rc -eq 0 ] && [ "$(cat t1.out)" = "$expected" ] && ok "the program's output is unchanged" || fail "program exit $t1rc, output '$(cat t1.out)' vs '$expected'"
check_trace t1.hvt 5 "capture 1 replays to the process's own heap walks"
[ ! -e "$XDG_RUNTIME_DIR/heapviz/$t1.sock" ] && ok "the socket is removed at exit" || fail "socket left behind"
stats=$(timeout 30 "$HV" stats --json t1.hvt)
echo "$stats" | grep -q '"threads": 5' && echo "$stats" | grep -q '"calling_threads": 4' &&
  ok "stats reads the capture (4 program threads called; the snapshots' writer is a fifth in the file)" || fail "stats: $stats"
text=$(timeout 30 "$HV" stats t1.hvt | grep '^threads:')
echo "$text" | grep -q '^threads: *4 called the allocator; 5 in the file (the other made no allocator call' &&
  ok "stats says 4 threads called, not 5: $text" || fail "stats text: $text"

# ---- 2. two viewers at once -----------------------------------------------------------------
LD_PRELOAD="$LIB" HEAPVIZ_LIVE=1 HEAPVIZ_VERIFY=1 "$TARGET" 3 60 20000 > t2.out &
t2=$!; pids+=($t2)
wait_socket $t2; sleep 0.2
timeout 60 "$HV" attach $t2 --out t2a.hvt 2> t2a.err &
v1=$!
timeout 60 "$HV" attach $t2 --out t2b.hvt 2> t2b.err &
v2=$!
sleep 0.5
viewers=$(timeout 10 "$HV" ps | awk -v p=$t2 '$1 == p {print $4}')
[ "$viewers" = "2" ] && ok "ps shows 2 viewers attached" || fail "ps viewers '$viewers'"
wait $v1; r1=$?; wait $v2; r2=$?; wait $t2
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && ok "both viewers ran to the exit" || fail "viewers exit $r1 $r2: $(cat t2a.err t2b.err)"
check_trace t2a.hvt 3 "viewer A"
check_trace t2b.hvt 3 "viewer B"

# ---- 3. a viewer killed mid-stream ------------------------------------------------------------
LD_PRELOAD="$LIB" HEAPVIZ_LIVE=1 "$TARGET" 2 150 20000 > t3.out &
t3=$!; pids+=($t3)
wait_socket $t3; sleep 0.2
rss0=$(awk '/^VmRSS/ {print $2}' /proc/$t3/status)
"$HV" attach $t3 --out t3a.hvt 2>/dev/null &
v=$!
sleep 0.5
kill -9 $v; wait $v 2>/dev/null
sleep 0.3
kill -0 $t3 2>/dev/null && ok "the program runs on after its viewer was killed" || fail "the program died with its viewer"
# The stream's 4 MiB ring is given back when the last viewer goes (measured: +1.0 MiB with the
# thread buffers and stack caches a stream leaves; +4 MiB more when the ring was kept).
rss1=$(awk '/^VmRSS/ {print $2}' /proc/$t3/status)
[ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss1 - rss0)) -lt 3072 ] && ok "resident memory after the viewer left: $rss0 -> $rss1 KiB" || fail "resident memory $rss0 -> $rss1 KiB: the stream's ring was kept"
timeout 60 "$HV" attach $t3 --out t3b.hvt 2> t3b.err
wait $t3; t3rc=$?
[ $t3rc -eq 0 ] && [ "$(cat t3.out)" = "$("$TARGET" 2 150 20000)" ] && ok "and finishes with unchanged output" || fail "exit $t3rc, output $(cat t3.out)"
check_trace t3b.hvt 1 "a viewer attached after the killed one"

# ---- 4. the program killed mid-stream --------------------------------------------------------
LD_PRELOAD="$LIB" HEAPVIZ_LIVE=1 HEAPVIZ_VERIFY=1 "$TARGET" 2 100000 20000 > /dev/null &
t4=$!; pids+=($t4)
wait_socket $t4; sleep 0.2
timeout 60 "$HV" attach $t4 --out t4.hvt 2> t4.err &
v=$!
sleep 1
kill -9 $t4
wait $v; rc=$?
[ $rc -eq 0 ] && grep -q "connection was lost" t4.err && ok "the viewer reports the lost process: $(grep -c . t4.err) lines" || fail "attach exit $rc: $(cat t4.err)"
check_trace t4.hvt 3 "what it received before the kill"
events=$(timeout 30 "$HV" stats --json t4.hvt | sed -n 's/.*"events": \([0-9]*\).*/\1/p' | head -1)
[ "${events:-0}" -gt 10000 ] && ok "it kept $events events" || fail "kept ${events:-0} events"

# ---- 5. another uid is refused --------------------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
  LD_PRELOAD="$LIB" HEAPVIZ_LIVE=1 "$TARGET" 1 100000 20000 > /dev/null &
  t5=$!; pids+=($t5)
  wait_socket $t5
  # uid 65534 keeps CAP_DAC_OVERRIDE only to get through the 0700 directory: the process itself
  # must refuse it by its SO_PEERCRED uid.
  ans=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+dac_override --ambient-caps=+dac_override \
        /usr/bin/python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(b"A")
except OSError:
    pass  # refused and closed already: the answer is still there to read
h = s.recv(8); t, n = struct.unpack("<II", h); print(t, s.recv(n).decode())' "$XDG_RUNTIME_DIR/heapviz/$t5.sock" 2>&1)
  case "$ans" in
    "6 refused: a viewer must run as the same user"*) ok "uid 65534 refused: $ans" ;;
    *) fail "another uid: '$ans'" ;;
  esac
  kill -0 $t5 && ok "the program is unharmed" || fail "program died"
  kill $t5; wait $t5 2>/dev/null
else
  echo "note: not root (or no setpriv): the refusal is covered by LiveCredentials.OnlyTheSameUserMayAttach only"
fi

# ---- 6. heapviz run --out ---------------------------------------------------------------------
HEAPVIZ_LIB="$LIB" timeout 60 "$HV" run --out t6.hvt -- "$TARGET" 2 30 5000 > t6.out 2> t6.err
rc=$?
[ $rc -eq 0 ] && [ "$(cat t6.out)" = "$("$TARGET" 2 30 5000)" ] && ok "run --out passes output and status through" || fail "run exit $rc: $(cat t6.err)"
check_trace t6.hvt 1 "run --out capture"
HEAPVIZ_LIB="$LIB" timeout 60 "$HV" run --out t7.hvt -- sh -c 'exit 7' > /dev/null 2>&1
rc=$?
[ $rc -eq 7 ] && ok "run passes exit status 7 through" || fail "run exit status $rc"

# A program that execs after `run` stopped following must not wait for a viewer that is gone.
t0=$(date +%s%N)
HEAPVIZ_LIB="$LIB" timeout 60 "$HV" run --out t7b.hvt --seconds 0.5 -- sh -c 'sleep 1.5; exec true' > /dev/null 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 6000 ] && ok "an exec after the capture ended did not wait for a viewer (${ms} ms)" || fail "it waited: ${ms} ms"

# A `heapviz run` killed (SIGKILL: no chance to remove its <pid>.wait) while its program runs: the
# program's next exec must not wait 10 s for a viewer that is gone, and `heapviz ps` clears any
# such file left behind.
rm -f t7c.done
HEAPVIZ_LIB="$LIB" "$HV" run --out t7c.hvt -- sh -c "sleep 1; exec sh -c 'date +%s%N > $WORK/t7c.done'" > /dev/null 2>&1 &
r=$!
sleep 0.5
t0=$(date +%s%N)
kill -9 $r
for _ in $(seq 150); do [ -s t7c.done ] && break; sleep 0.1; done
ms=$((($(cat t7c.done 2>/dev/null || echo $((t0 + 15000000000))) - t0) / 1000000))
[ $ms -lt 5000 ] && ok "heapviz run killed: the program's exec did not wait for it (${ms} ms after the kill)" ||
  fail "heapviz run killed: the exec waited ${ms} ms"
touch "$XDG_RUNTIME_DIR/heapviz/999999999.wait" # a pid that cannot exist
timeout 10 "$HV" ps > /dev/null
[ -z "$(ls "$XDG_RUNTIME_DIR/heapviz/" | grep '\.wait$')" ] && ok "heapviz ps removes .wait files of processes that are gone" ||
  fail ".wait files left: $(ls "$XDG_RUNTIME_DIR/heapviz/")"

# ---- 7. not attachable ------------------------------------------------------------------------
sleep 60 & s=$!; pids+=($s)
out=$(timeout 10 "$HV" attach $s --out nope.hvt 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "is not attachable" && ok "attach to a plain process: $out" || fail "attach plain: exit $rc: $out"
kill $s
# A listening process killed with SIGKILL leaves its socket: attach says the process is gone
# (not a raw "Connection refused") and removes it.
LD_PRELOAD="$LIB" HEAPVIZ_LIVE=1 sleep 60 & s=$!; pids+=($s)
wait_socket $s || fail "no socket for sleep $s"
kill -9 $s; wait $s 2>/dev/null
out=$(timeout 10 "$HV" attach $s --out gone.hvt 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "process $s is gone: .* was left behind by it (removed now)" &&
  [ ! -e "$XDG_RUNTIME_DIR/heapviz/$s.sock" ] && ok "attach to a killed process: $out" || fail "attach to a killed process: exit $rc: $out"

# ---- 8. hard cases ------------------------------------------------------------------------------
hard=(env LT_SHORT=1 LT_FORK=1 LT_TRIM=1 LT_SLOTS=6000)
want=$("${hard[@]}" "$TARGET" 4 40 20000)
"${hard[@]}" LD_PRELOAD="$LIB" HEAPVIZ_LIVE=1 HEAPVIZ_VERIFY=1 "$TARGET" 4 40 20000 > t8.out &
t8=$!; pids+=($t8)
wait_socket $t8; sleep 0.3
timeout 60 "$HV" attach $t8 --out t8a.hvt --seconds 0.7 2> t8a.err
timeout 60 "$HV" attach $t8 --out t8b.hvt 2> t8b.err   # again, to the end
wait $t8; rc=$?
[ $rc -eq 0 ] && [ "$(cat t8.out)" = "$want" ] && ok "short threads, fork, trim: the program's output is unchanged" || fail "hard: exit $rc, $(cat t8.out) vs $want"
check_trace t8a.hvt 3 "hard cases, first attach (detached)"
check_trace t8b.hvt 3 "hard cases, second attach (to the exit)"

[ $FAILS -eq 0 ] && echo "all live tests passed" || echo "$FAILS live test(s) failed"
exit $((FAILS > 0))
