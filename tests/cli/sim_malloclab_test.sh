#!/usr/bin/env bash
# sim_malloclab_test.sh HEAPVIZ DATA: `heapviz sim FILE.rep` on CMU malloclab traces
# (docs/malloclab.md): exact --offsets on glibc and first-fit for the fixtures of both header
# orders (tests/data/malloclab), the utilization line, -o traces that check and stats read, and
# malformed traces refused with FILE:LINE and status 2.
set -u
hv=$1
data=$2
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh" # tmp, ok, fail (and check, expect, finish)

# Exact offsets: `NAME OFFSET` per allocating operation, ids named bID (realloc(NULL) and r ID 0
# included: `b2 null` is realloc(p, 0)).
offsets() { # FILE POLICY WANT
  if "$hv" sim --policy "$2" --offsets "$data/$1" >"$tmp/out" 2>"$tmp/err" && diff -u <(printf "$3") "$tmp/out"; then
    ok "$1 --policy $2 --offsets"
  else
    fail "$1 --policy $2 --offsets"
    cat "$tmp/err"
  fi
}
offsets classic-holes.rep glibc 'b0 0x2a0\nb1 0x2c0\nb2 0x330\nb3 0x350\nb1 0x380\nb2 null\n'
offsets classic-holes.rep first-fit 'b0 0x10\nb1 0x40\nb2 0xc0\nb3 0x40\nb1 0xf0\nb2 null\n'
offsets classic-realloc.rep glibc 'b0 0x2a0\nb1 0x4b0\nb0 0x540\nb2 0x7d0\nb0 0x860\n'
offsets classic-realloc.rep first-fit 'b0 0x10\nb1 0x220\nb0 0x2b0\nb2 0x10\nb0 0x540\n'
offsets weight-first-coalesce.rep glibc 'b0 0x2a0\nb1 0xaa0\nb2 0x12a0\nb3 0x12e0\nb2 0x2a0\n'
offsets weight-first-coalesce.rep first-fit 'b0 0x10\nb1 0x820\nb2 0x1030\nb3 0x1070\nb2 0x10\n'
offsets weight-first-crlf.rep glibc 'b0 0x2a0\nb1 0x2c0\nb2 0x2e0\nb1 0x12f0\n'
offsets weight-first-crlf.rep first-fit 'b0 0x10\nb1 0x30\nb2 0x50\nb1 0x1060\n'

# The utilization line, under the summary of the heap printout (never with --offsets).
util() { # FILE POLICY WANT
  if "$hv" sim --policy "$2" "$data/$1" >"$tmp/out" 2>"$tmp/err" && grep -qxF "$3" "$tmp/out" &&
    grep -A1 '^summary: ' "$tmp/out" | grep -q '^utilization: '; then
    ok "$1 --policy $2: $3"
  else
    fail "$1 --policy $2: want '$3'"
    cat "$tmp/out" "$tmp/err"
  fi
}
util classic-holes.rep first-fit 'utilization: 48.7% (peak live 148 B / peak heap 304 B)'
util classic-holes.rep glibc 'utilization: 0.1% (peak live 148 B / peak heap 135168 B)'
util weight-first-coalesce.rep first-fit 'utilization: 97.4% (peak live 8072 B / peak heap 8288 B)'
util weight-first-crlf.rep glibc 'utilization: 6.0% (peak live 8095 B / peak heap 135168 B)'
if "$hv" sim --policy buddy "$data/classic-realloc.rep" | grep -qxF \
  'utilization: 0.1% (peak live 896 B / peak heap 1048576 B)'; then
  ok "buddy's footprint is its whole arena"
else fail "buddy utilization"; fi
if "$hv" sim --offsets "$data/classic-holes.rep" | grep -q utilization; then fail "--offsets printed the utilization"
else ok "--offsets prints offsets only"; fi
if "$hv" sim "$data/classic-holes.rep" | grep -qxF 'heapviz sim: '"$data"'/classic-holes.rep, policy glibc, 9 operations' &&
  "$hv" sim "$data/classic-holes.rep" | grep -Eq '^  0x370 +0x40 +in_use +- +b1 \(56 bytes, line 11\)$'; then
  ok "printout names blocks bID with their .rep line"
else fail "printout names"; fi
# A scenario's printout is unchanged: no utilization line.
printf 'a = malloc 8\n' >"$tmp/s.hvs"
if "$hv" sim "$tmp/s.hvs" | grep -q utilization; then fail "a .hvs printed a utilization"; else ok ".hvs: no utilization"; fi

# -o: a trace that check and stats read (f -1 runs nothing: 4 frees, not 5).
if "$hv" sim -o "$tmp/t.hvt" "$data/weight-first-coalesce.rep" >/dev/null 2>"$tmp/err" &&
  "$hv" check "$tmp/t.hvt" >/dev/null 2>&1 &&
  "$hv" stats "$tmp/t.hvt" | grep -q '^calls: *malloc 4, free 4, calloc 0, realloc 1, memalign 0$' &&
  "$hv" stats "$tmp/t.hvt" | grep -q '^peak live: *8072 bytes'; then
  ok "-o trace checks, stats agree"
else
  fail "-o trace"
  cat "$tmp/err"
fi

# --as-scenario: the scenario a .rep runs as, with its lines; refused for a .hvs.
if "$hv" sim --as-scenario "$data/classic-holes.rep" >"$tmp/out" &&
  grep -qxF 'b3 = realloc NULL 40       # line 9' "$tmp/out" && grep -qxF 'free b2                    # line 13' "$tmp/out"; then
  ok "--as-scenario"
else fail "--as-scenario"; cat "$tmp/out"; fi
err=$("$hv" sim --as-scenario "$tmp/s.hvs" 2>&1 >/dev/null)
if [ $? -eq 2 ] && [ "$err" = "heapviz sim: --as-scenario takes a malloclab trace (FILE.rep)" ]; then ok "--as-scenario .hvs refused"
else fail "--as-scenario on .hvs: $err"; fi

# Malformed traces: FILE:LINE: message, status 2, nothing printed on stdout.
refuse() { # CONTENT WANT-STDERR
  printf "$1" >"$tmp/bad.rep"
  local err status
  err=$("$hv" sim "$tmp/bad.rep" 2>&1 >"$tmp/out")
  status=$?
  if [ "$status" -eq 2 ] && [ "$err" = "$tmp/bad.rep:$2" ] && [ ! -s "$tmp/out" ]; then ok "refused: $2"; else
    fail "want status 2 and '$tmp/bad.rep:$2', got $status and '$err'"; fi
}
refuse '20000\nx\n1\n1\n' "2: malformed malloclab header: 'x' is not a number (sugg_heapsize num_ids num_ops weight, or weight num_ids num_ops ignore_ranges)"
refuse '20000\n3\n2\n1\na 0 8\nm 1 8\n' "6: unknown malloclab operation 'm' (expected a, r or f)"
refuse '1\n3\n1\n0\na 3 8\n' "5: id 3 is out of range: the header says num_ids 3 (ids 0 to 2)"
refuse '1\n3\n1\n0\nf 2\n' "5: f of id 2, which was never allocated"
refuse '20000\n3\n1\n1\na 0 12x\n' "5: bad size '12x': expected a decimal number of bytes"
refuse '20000\n3\n3\n1\na 0 8\nf 0\n' "6: the file ends after 2 operations; the header's num_ops is 3"
refuse '20000\n3\n3\n1\na 0 8\nf 0\nr 0 9\n' "7: r of id 0, which was freed at line 6"

if [ "$fails" -ne 0 ]; then
  echo "$fails failed"
  exit 1
fi
echo "all passed"
