#!/usr/bin/env bash
# back_to_single_test.sh HEAPVIZ PROGRAM: a recording of back_to_single.c (threaded, then
# single-threaded again) checks, with and without HEAPVIZ_VERIFY snapshots, and holds every event.
set -u
hv=$(realpath "$1")
prog=$(realpath "$2")
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for verify in 0 100; do
  flags=(--no-children --no-stacks -o b$verify.hvt)
  [ "$verify" = 0 ] || flags+=(--verify "$verify")
  if ! "$hv" record "${flags[@]}" -- "$prog" >/dev/null 2>err.txt; then
    fail "record --verify $verify: $(cat err.txt)"
    continue
  fi
  check=$("$hv" check b$verify.hvt 2>&1) && ok "--verify $verify: check: $check" || fail "--verify $verify: check: $check"
  calls=$("$hv" stats b$verify.hvt | sed -n 's/^calls: *malloc \([0-9]*\), free \([0-9]*\),.*/\1 \2/p')
  # 200 kept + 2000 in the worker + 500 + 200 mallocs (and the runtime's own, if any)
  read -r m f <<<"$calls"
  [ "${m:-0}" -ge 2900 ] && [ "${f:-0}" -ge 2900 ] && ok "--verify $verify: $m mallocs, $f frees" ||
    fail "--verify $verify: calls: $calls"
done
echo "$fails failures"
[ "$fails" -eq 0 ]
