#!/usr/bin/env bash
# stash_arena_test.sh HEAPVIZ PROGRAM: main's realloc of a worker's block stashes one of the
# worker arena's smallbin chunks into main's tcache (stash_arena.c). The stash's bin_in must name
# the worker's arena, the arena whose bin it changed and whose clock orders it, not main's; and
# the recording must replay (`check`).
set -u
hv=$(realpath "$1")
prog=$(realpath "$2")
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if ! out=$(HEAPVIZ_STACKS=0 "$hv" record --no-children -o s.hvt -- "$prog" 2>err.txt); then
  echo "FAIL: record: $(cat err.txt)"
  exit 1
fi
read -r a7 a8 <<<"$out"
dump=$("$hv" dump --kind bin s.hvt)
stashes=0
for p in "$a7" "$a8"; do
  c=$(printf '0x%x' $((p - 16)))
  small=$(printf '%s\n' "$dump" | grep " bin_in $c size=208 smallbin" | sed -n 's/.* arena=\([0-9]*\) .*/\1/p' | tail -1)
  stash=$(printf '%s\n' "$dump" | grep " bin_in $c size=208 tcache")
  [ -n "$small" ] || fail "chunk $c never went into a smallbin: $(printf '%s\n' "$dump" | grep " $c ")"
  [ -n "$stash" ] || continue
  stashes=$((stashes + 1))
  arena=$(printf '%s\n' "$stash" | sed -n 's/.* arena=\([0-9]*\) .*/\1/p')
  if [ "$arena" = "$small" ] && [ "$arena" != 0 ]; then
    ok "the stash of $c into main's tcache is arena $arena's event: $stash"
  else
    fail "the stash of $c names arena $arena, its smallbin was arena $small's: $stash"
  fi
done
[ "$stashes" = 1 ] || fail "expected one of $a7 $a8 stashed into a tcache, found $stashes"
check=$("$hv" check s.hvt 2>&1) && ok "check: $check" || fail "check: $check"
echo "$fails failures"
[ "$fails" -eq 0 ]
