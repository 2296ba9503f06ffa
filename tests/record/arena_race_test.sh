#!/usr/bin/env bash
# arena_race_test.sh HEAPVIZ BUILD_BIN_DIR [RUNS]: records a 5-thread producer/consumer program
# (four threads create their arenas at once) RUNS times with a snapshot every 300 events, and
# checks every trace. A new arena used to join the arena list before it was locked, so a snapshot
# could list its top under a sequence number before its arena_new event: `check` then failed
# with "snapshot ... has size 132912 top, model has no chunk" in about 6% of runs (23 of 400), so
# 150 runs fail with near certainty (1 - 0.94^150 > 0.9999) if that comes back.
set -u
hv=$(realpath "$1")
bin=$(realpath "$2")
runs=${3:-150}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for i in $(seq "$runs"); do
  [ "$fails" -lt 3 ] || break
  rm -f s.hvt*
  if ! HEAPVIZ_VERIFY=300 "$hv" record -o s.hvt -- "$bin/bench_prodcons" 2000 >/dev/null 2>err.txt; then
    echo "FAIL: run $i: heapviz record failed: $(cat err.txt)"
    fails=$((fails + 1))
    continue
  fi
  if ! out=$("$hv" check s.hvt 2>&1) || [[ $out == *"not fit the replayed heap"* ]]; then
    echo "FAIL: run $i: $out"
    fails=$((fails + 1))
  fi
done
last=$("$hv" check s.hvt 2>&1)
echo "$i recordings of 5 threads checked; the last: $last"
[ "$fails" -eq 0 ] || { echo "$fails recordings failed check (stopped after 3)"; exit 1; }
