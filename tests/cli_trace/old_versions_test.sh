#!/usr/bin/env bash
# old_versions_test.sh HEAPVIZ DATA_DIR: traces written by earlier versions of the format still
# open, and read exactly as they did then (docs/trace-format.md, "Version policy"). Each fixture
# tests/data/vN-NAME.hvt has the `dump` and `stats` output that the heapviz of its day printed.
set -u
shopt -s nullglob
hv=$1
cd "$2" || exit 1
fails=0
n=0
for f in v*-*.hvt; do
  base=${f%.hvt}
  for cmd in dump stats; do
    n=$((n + 1))
    if ! "$hv" "$cmd" "$f" | diff -u "$base.$cmd.golden" - >/tmp/hv_old_versions.$$ 2>&1; then
      echo "FAIL: heapviz $cmd $f differs from $base.$cmd.golden:"
      head -20 /tmp/hv_old_versions.$$
      fails=$((fails + 1))
    else
      echo "ok: heapviz $cmd $f"
    fi
  done
  n=$((n + 1))
  if "$hv" check "$f" >/dev/null; then echo "ok: heapviz check $f"; else echo "FAIL: heapviz check $f"; fails=$((fails + 1)); fi
done
rm -f /tmp/hv_old_versions.$$
[ "$n" -ge 3 ] || { echo "FAIL: no fixtures in $2"; exit 1; }
echo "$fails of $n failed"
[ "$fails" -eq 0 ]
