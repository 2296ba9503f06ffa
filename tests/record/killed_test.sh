#!/usr/bin/env bash
# killed_test.sh HEAPVIZ BUILD_BIN_DIR: a recorded program that SIGKILL ends from outside (the
# OOM killer's way) keeps every event it made. Nothing can catch SIGKILL, so the events still in
# its buffers were lost (up to 64 KiB a thread: the last few thousand calls, the ones that matter
# when a program grows until it is killed). Under `heapviz record` the buffers lie in files
# (HEAPVIZ_SALVAGE), and record puts what they hold back into the trace. One thread, four, and a
# forked child killed while its parent goes on; every trace replays exactly (`check`).
set -u
via=
hv=$(realpath "$1")
bin=$(realpath "$2")
prog="$bin/hv_record_killed"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
count() { # count TRACE SIZE: malloc calls of SIZE bytes in TRACE
  "$hv" dump "$1" 2>/dev/null | grep -c " malloc size=$2 "
}

# run MODE N: records the program, kills the process that says "ready" with SIGKILL; leaves
# record's stderr in err.txt, its exit status in $rc and its pid in $rec.
run() {
  rm -f t.hvt* out.txt
  "$hv" record -o t.hvt ${opts:-} -- $via "$prog" "$1" "$2" >out.txt 2>err.txt &
  rec=$!
  for _ in $(seq 200); do grep -q ready out.txt 2>/dev/null && break; sleep 0.05; done
  local pid
  pid=$(awk '/ready/ { print $2; exit }' out.txt)
  [ -n "$pid" ] && kill -9 "$pid"
  wait "$rec"
  rc=$?
}

run single 3000
m=$("$hv" stats --json t.hvt | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"]["malloc"])')
c=$("$hv" check t.hvt 2>&1)
if [ "$rc" -eq 137 ] && [ "$m" -eq 3000 ] && [[ $c == *": ok:"* ]] && grep -q "are back in the trace" err.txt &&
  grep -q "its trace holds every event it made" err.txt; then
  ok "one thread killed by SIGKILL: $m mallocs of 3000 in the trace; $(grep 'back in the trace' err.txt)"
else
  fail "one thread killed by SIGKILL: exit $rc, $m mallocs of 3000; check: $c; $(cat err.txt)"
fi
ls -d /dev/shm/heapviz-record-"$rec"-* >/dev/null 2>&1 && fail "record left its salvage directory: $(ls -d /dev/shm/heapviz-record-"$rec"-*)"

# Started through a program that execs it (env): env's buffer, never flushed at the exec, names
# a trace that the program's replaced (by default only the last image keeps one): dropped, not
# reported as a loss; with --keep-exec env's trace is kept aside and gets its events.
via=env
run single 3000
m=$("$hv" stats --json t.hvt | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"]["malloc"])')
if [ "$m" -eq 3000 ] && ! grep -q "not added" err.txt && grep -q "its trace holds every event it made" err.txt; then
  ok "through env: $m mallocs of 3000, nothing said about env's own buffer"
else
  fail "through env: $m mallocs of 3000; $(cat err.txt)"
fi
opts=--keep-exec run single 3000
aside=$(ls t.hvt.*.1 2>/dev/null | head -1)
c=$([ -n "$aside" ] && "$hv" check "$aside" 2>&1)
if [ -n "$aside" ] && grep -q "^heapviz record: $aside: [0-9]* events still in 1 thread buffer when the process ended" err.txt &&
  [[ $c == *": ok:"* ]]; then
  ok "through env, --keep-exec: env's own trace $aside gets its last events back ($c)"
else
  fail "through env, --keep-exec: env's trace ${aside:-missing}; $c; $(cat err.txt)"
fi
via=

run threads 2000
got=""
for t in 0 1 2 3; do got="$got $(count t.hvt $((1000 + t)))"; done
c=$("$hv" check t.hvt 2>&1)
if [ "$got" = " 2000 2000 2000 2000" ] && [[ $c == *": ok:"* ]] && grep -q "still in [45] thread buffers" err.txt; then
  ok "four threads killed by SIGKILL: mallocs per thread$got; $c"
else
  fail "four threads killed by SIGKILL: mallocs per thread$got (want 2000 each); check: $c; $(cat err.txt)"
fi

run fork 1500
child=$(ls t.hvt.* 2>/dev/null | head -1)
pm=$(count t.hvt 500)
cm=$([ -n "$child" ] && count "$child" 2000)
c=$("$hv" check t.hvt 2>&1)
cc=$([ -n "$child" ] && "$hv" check "$child" 2>&1)
if [ "$rc" -eq 0 ] && [ "$pm" -eq 3000 ] && [ "${cm:-0}" -eq 1500 ] && [[ $c == *": ok:"* ]] && [[ $cc == *": ok:"* ]]; then
  ok "a forked child killed by SIGKILL: its 1500 mallocs in $child; the parent's 3000 intact ($c)"
else
  fail "fork: exit $rc; parent $pm mallocs of 500 bytes (want 3000), child ${cm:-none} of 2000 (want 1500); $c; $cc; $(cat err.txt)"
fi

# A salvage directory with no room for every buffer (a container's small /dev/shm): the buffers
# that do not fit are ordinary memory; the program runs on (the files' pages are reserved when
# they are made: a full tmpfs under a shared mapping would kill it with SIGBUS at a store).
lib="$bin/../lib/libhvalloc.so"
rm -f t.hvt*
mkdir -p small
if unshare -m true 2>/dev/null; then ns=(unshare -m); else ns=(unshare -r -m); fi
"${ns[@]}" sh -c "mount -t tmpfs -o size=100k tmpfs small && HEAPVIZ_SALVAGE=\$PWD/small HEAPVIZ_OUT=t.hvt \
  LD_PRELOAD=$lib '$prog' join 2000; echo \$? >rc.txt; ls small | wc -l >files.txt" 2>err.txt
got=""
for t in 0 1 2 3; do got="$got $(count t.hvt $((1000 + t)))"; done
if [ "$(cat rc.txt 2>/dev/null)" = 0 ] && [ "$got" = " 2000 2000 2000 2000" ]; then
  ok "a salvage directory of 100 KiB (room for one buffer of five): the program ran to the end, mallocs per thread$got"
else
  fail "a full salvage directory: exit $(cat rc.txt 2>/dev/null || echo '?') (want 0), mallocs per thread$got; $(cat err.txt)"
fi

[ "$fails" -eq 0 ] && echo "all killed-program checks passed"
exit $((fails > 0))
