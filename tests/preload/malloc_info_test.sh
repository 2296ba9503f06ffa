#!/usr/bin/env bash
# malloc_info_test.sh PROGRAM LIBHVALLOC TLS_TWIN: malloc_info(0, stdout) after the same
# allocations in three threads (tests/preload/malloc_info.c) prints the same XML, byte for byte,
# under the system glibc and under LD_PRELOAD=libhvalloc.so, recording or not; and options
# other than 0 give what glibc 2.36 gives (EINVAL returned, errno untouched).
set -u
prog=$1 lib=$2 twin=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
ok() { echo "ok: $*"; }

# glibc, with a library that has TLS as libhvalloc.so has (tls_twin.c says why).
LD_PRELOAD=$twin "$prog" >"$tmp/glibc.xml" || fail "glibc run: status $?"
LD_PRELOAD=$lib "$prog" >"$tmp/hvalloc.xml" || fail "hvalloc run: status $?"
HEAPVIZ_OUT=$tmp/t.hvt LD_PRELOAD=$lib "$prog" >"$tmp/recording.xml" || fail "recording run: status $?"

# The pattern must reach every kind of line, or the comparison proves little.
x=$tmp/glibc.xml
[ "$(grep -c '^<heap nr=' "$x")" -eq 3 ] || fail "glibc: not 3 heaps"
grep -q '^<total type="fast" count="[1-9]' "$x" || fail "glibc: no fastbin chunks"
grep -q '^  <unsorted ' "$x" || fail "glibc: no unsorted line"
grep -q '^<aspace type="subheaps" size="1"/>' "$x" || fail "glibc: no subheaps line"
grep -q '^<total type="mmap" count="3" ' "$x" || fail "glibc: not 3 mmapped chunks"
[ "$(grep -c '^  <size ' "$x")" -ge 20 ] || fail "glibc: fewer than 20 size lines"

if d=$(diff -u "$tmp/glibc.xml" "$tmp/hvalloc.xml"); then
  ok "libhvalloc.so's malloc_info equals glibc's ($(wc -l <"$x") lines, $(grep -c '^  <size ' "$x") size lines)"
else
  fail "libhvalloc.so's malloc_info differs from glibc's:"
  echo "$d"
fi
if d=$(diff -u "$tmp/glibc.xml" "$tmp/recording.xml"); then
  ok "and so while recording (the trace's buffers are no heap memory)"
else
  fail "while recording, malloc_info differs from glibc's:"
  echo "$d"
fi

g=$(LD_PRELOAD=$twin "$prog" einval)
h=$(LD_PRELOAD=$lib "$prog" einval)
[ "$g" = "malloc_info(1) = 22, errno = 0" ] && [ "$h" = "$g" ] && ok "options 1: $h, as glibc" ||
  fail "options 1: glibc '$g', hvalloc '$h'"

[ "$fails" -eq 0 ] && echo "all malloc_info checks passed"
exit $((fails > 0))
