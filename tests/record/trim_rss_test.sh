#!/usr/bin/env bash
# trim_rss_test.sh HEAPVIZ BUILD_BIN_DIR: "would malloc_trim help?" answered by the trace as the
# kernel answers it. hv_record_trim_rss (trim_rss.c) fills 64 MiB, frees 15 blocks in 16, calls
# malloc_trim(0), then writes 128 blocks again, and measures its own resident set around each
# step. The trace's `release` events must add up to what the trim took from the resident set, and
# `heapviz stats --json` must count as released, at the end, that minus what the reuse brought
# back (final_released_bytes); the footprint never moved, and at its peak nothing was released.
# Before issue 16 part 4 the trace had no `release` event and said 0 bytes released: 60 MiB off.
set -u
hv=$(realpath "$1")
bin=$(realpath "$2")
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
key() { printf '%s\n' "$stats" | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
near() { # near A B WHAT: |A - B| within 1% of B plus 256 KiB (the process's own pages move too)
  local d=$(($1 - $2))
  [ "$d" -lt 0 ] && d=$((-d))
  if [ "$d" -le $(($2 / 100 + 262144)) ]; then ok "$3: $1 vs $2"; else fail "$3: $1, expected $2 (off by $d)"; fi
}
if ! "$hv" record --no-stacks -o t.hvt -- "$bin/hv_record_trim_rss" rss.txt >/dev/null 2>err.txt; then
  echo "FAIL: the recording failed: $(cat err.txt)"
  exit 1
fi
read -r before after reuse <rss.txt
drop=$((before - after))
rise=$((reuse - after))
echo "resident set: $before before malloc_trim, $after after (-$drop), $reuse after the reuse (+$rise)"
[ "$drop" -ge $((32 << 20)) ] || fail "malloc_trim took only $drop bytes from the resident set: the test measures nothing"
released=$("$hv" dump t.hvt | sed -n 's/.* release 0x[0-9a-f]* length=\([0-9]*\)$/\1/p' | awk '{s += $1} END {print s + 0}')
near "$released" "$drop" "the release events add up to the resident set's drop"
stats=$("$hv" stats --json t.hvt) || fail "heapviz stats"
final=$(key final_released_bytes)
near "$final" $((drop - rise)) "final_released_bytes is that minus the pages the reuse wrote"
near $((released - final)) "$rise" "the reused pages stopped counting as released"
[ "$(key peak_released_bytes)" = 0 ] && ok "peak_released_bytes is 0 (the peak came before the trim)" ||
  fail "peak_released_bytes: $(key peak_released_bytes), expected 0"
text=$("$hv" stats t.hvt)
case "$text" in
  *"released:            $final bytes at the end"*) ok "stats says: $(printf '%s\n' "$text" | grep '^released:')" ;;
  *) fail "stats has no released line for $final bytes" ;;
esac
out=$("$hv" check t.hvt 2>&1) && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && ok "check: $out" || fail "check: $out"
[ "$fails" -eq 0 ]
