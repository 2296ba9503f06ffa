#!/usr/bin/env bash
# arena_growth_test.sh HEAPVIZ BUILD_BIN_DIR [SEED...]: records hv_record_arena_growth (every
# arena's life: new heaps past HEAP_MAX, heap_trim shrinking and deleting heaps, malloc_trim,
# arenas of exited threads reused, cross-arena frees; arena_growth.c) once per seed with a
# snapshot after every call (HEAPVIZ_VERIFY=1). `heapviz check` must match every snapshot and
# print nothing but its ok line: an event that does not fit the replayed heap is a bug of the
# allocator's events or of the model, never a warning, for a trace libhvalloc wrote. Each trace
# must also show the paths it is for (a scrap of an old top, new heaps, deleted heaps, a second
# main-arena segment), so that a change of layout cannot make the test pass without them.
# Before the fix of issue 16 every seed failed: the old top of a new heap was freed after the new
# top's event had erased it ("chunk_free of 0x..., which is not a known chunk"), heap_trim left
# the fenceposts of a deleted heap in the model, and the heap walk failed (I10) on the scrap.
set -u
hv=$(realpath "$1")
bin=$(realpath "$2")
shift 2
seeds=${*:-1 2 3 4 5 6 7 8}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
count() { grep -c -E "$1" dump.txt; }
for s in $seeds; do
  rm -f g.hvt*
  if ! HEAPVIZ_VERIFY=1 "$hv" record -o g.hvt -- "$bin/hv_record_arena_growth" "$s" >/dev/null 2>err.txt; then
    fail "seed $s: the recording failed: $(cat err.txt)"
    continue
  fi
  out=$("$hv" check g.hvt 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then
    fail "seed $s: heapviz check (status $rc): $out"
    continue
  fi
  "$hv" dump g.hvt >dump.txt
  arenas=$(count ' arena_new ')
  heaps=$(count 'arena=[1-9][0-9]* heap_new ')
  deleted=$(count ' heap_free ')
  segments=$(count 'arena=0 heap_new ')
  scraps=$(count 'arena=[1-9][0-9]* fence 0x[0-9a-f]* size=32$')
  if [ "$heaps" -le "$arenas" ] || [ "$deleted" -lt 3 ] || [ "$segments" -lt 2 ] || [ "$scraps" -lt 1 ]; then
    fail "seed $s: paths missing: $arenas arenas, $heaps heaps, $deleted deleted, $segments main segments, $scraps scraps"
    continue
  fi
  ok "seed $s: $out; $arenas arenas, $heaps heaps ($deleted deleted), $segments main segments"
done
[ "$fails" -eq 0 ] || { echo "$fails of the seeds ($seeds) failed"; exit 1; }
