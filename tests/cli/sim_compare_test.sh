#!/usr/bin/env bash
# sim_compare_test.sh HEAPVIZ: `heapviz sim --policies A,B FILE` (docs/policies.md, "Side by
# side"): the table's figures for a hand-worked scenario, the JSON keys docs/cli.md promises,
# traces that check reads, a policy that stops early, and bad lists refused with status 2.
set -u
hv=$1
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh" # tmp, ok, fail (and check, expect, finish)

# need(n): a 128, b 48, c 224, d 48, e 80 (528 bytes, 390 requested); f (64) and g (176) go into
# a's and c's holes; first-fit looks at 0,1,2,3,4,1,4 blocks, best-fit at 0,1,2,3,4,5,6.
printf 'a = malloc 100\nb = malloc 20\nc = malloc 200\nd = malloc 20\ne = malloc 50\nfree a\nfree c\nf = malloc 40\ng = malloc 150\n' >"$tmp/s.hvs"
if "$hv" sim --policies first-fit,best-fit "$tmp/s.hvs" >"$tmp/out" 2>"$tmp/err" &&
  grep -Eq '^heapviz sim: .*s\.hvs on 2 policies$' "$tmp/out" &&
  grep -Eq '^  first-fit +9 +528 B +528 B +73\.9% +0\.0% +26\.1% +2\.14$' "$tmp/out" &&
  grep -Eq '^  best-fit +9 +528 B +528 B +73\.9% +0\.0% +26\.1% +3\.00$' "$tmp/out"; then
  ok "the table"
else
  fail "the table"; cat "$tmp/out" "$tmp/err"
fi

if "$hv" sim --policies glibc,first-fit --json -o "$tmp/traces" "$tmp/s.hvs" >"$tmp/json" 2>"$tmp/err" &&
  python3 - "$tmp/json" "$tmp/traces" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"scenario", "policies"}, d.keys()
keys = {"policy", "operations", "footprint", "peak_footprint", "peak_live", "utilization",
        "external_fragmentation", "internal_fragmentation", "blocks_searched_per_malloc", "trace", "error"}
for p in d["policies"]:
    assert set(p) == keys, set(p) ^ keys
    assert p["error"] is None and p["operations"] == 9 and p["peak_live"] == 390, p
    assert p["trace"] == sys.argv[2] + "/" + p["policy"] + ".hvt", p["trace"]
ff = d["policies"][1]
assert ff["policy"] == "first-fit" and ff["peak_footprint"] == 528 and ff["blocks_searched_per_malloc"] == 2.14, ff
assert d["policies"][0]["peak_footprint"] == 0x21000, d["policies"][0]
PY
  ok "--json keys and values, -o DIR"
else
  fail "--json"; cat "$tmp/json" "$tmp/err"
fi
for p in glibc first-fit; do
  if "$hv" check "$tmp/traces/$p.hvt" >"$tmp/out" 2>&1; then ok "check reads the $p trace"; else fail "check $p"; cat "$tmp/out"; fi
done

# A textbook policy stops at memalign (status 1, the line named); glibc goes on.
printf 'p = memalign 64 100\nq = malloc 8\n' >>"$tmp/s.hvs"
"$hv" sim --policies glibc,first-fit "$tmp/s.hvs" >"$tmp/out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -Eq '^  glibc +11 ' "$tmp/out" && grep -Eq '^  first-fit +9 ' "$tmp/out" &&
  grep -Fq "first-fit stopped: $tmp/s.hvs:10: policy first-fit has no memalign" "$tmp/out"; then
  ok "a policy that stops keeps what it ran (status 1)"
else
  fail "stop (status $rc)"; cat "$tmp/out"
fi

# sim --why: each allocation with its sentence (the scenario's own line quoted).
printf 'a = malloc 100\nb = malloc 20\nc = malloc 200\nd = malloc 20\ne = malloc 50\nfree a\nfree c\nf = malloc 40   # into a\x27s hole\ng = malloc 150\n' >"$tmp/w.hvs"
if "$hv" sim --why --policy first-fit "$tmp/w.hvs" >"$tmp/out" 2>"$tmp/err" &&
  grep -Fxq "heapviz sim: $tmp/w.hvs on first-fit: why each block landed where it did" "$tmp/out" &&
  grep -Eq '^   1  a = malloc 100 +first-fit: no free block fits 100 B: the heap grew by 128 B$' "$tmp/out" &&
  grep -Eq '^   8  f = malloc 40 +first-fit: the first free block that fits is at \+0x0 \(128 B\): split, 64 B stay free$' "$tmp/out" &&
  [ "$(wc -l <"$tmp/out")" = 8 ] &&
  "$hv" sim --why "$tmp/w.hvs" >"$tmp/out2" 2>&1 &&
  grep -Eq '^   1  a = malloc 100 +100 B needs a 112 B chunk; no free chunk fits and top was too small: the heap grew by 135168 B, then cut from top$' "$tmp/out2"; then
  ok "sim --why"
else
  fail "sim --why"; cat "$tmp/out" "$tmp/out2" "$tmp/err"
fi

expect_error() { # expect_error WHAT MESSAGE ARGS...: status 2 and MESSAGE on stderr
  local what=$1 msg=$2
  shift 2
  "$hv" sim "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc = 2 ] && grep -Fq -- "$msg" "$tmp/err"; then ok "$what"; else fail "$what (status $rc)"; cat "$tmp/err"; fi
}
expect_error "an unknown policy" "heapviz sim: --policies: unknown policy 'frist-fit' (known: glibc, first-fit" --policies glibc,frist-fit "$tmp/s.hvs"
expect_error "an empty name" "heapviz sim: --policies: an empty policy name in 'glibc,'" --policies glibc, "$tmp/s.hvs"
expect_error "no list" "heapviz sim: --policies needs a value: A,B,..." "$tmp/s.hvs" --policies
expect_error "an option of one policy" "heapviz sim: --offsets does not go with --policies" --policies glibc --offsets "$tmp/s.hvs"
printf 'a = malloc 10\nb = mallok 3\n' >"$tmp/bad.hvs"
expect_error "a scenario error" "$tmp/bad.hvs:2: unknown operation 'mallok'" --policies glibc,buddy "$tmp/bad.hvs"

"$hv" sim "$tmp/w.hvs" -o "$tmp/w.hvt" >/dev/null 2>&1
expect_error "a trace is not a scenario" "$tmp/w.hvt: a trace, not a scenario: side by side runs a scenario (.hvs) or a malloclab trace (.rep) on each policy" --policies glibc,first-fit "$tmp/w.hvt"
expect_error "--why of a trace" "$tmp/w.hvt: a trace, not a scenario" --why "$tmp/w.hvt"
expect_error "--why with another option" "heapviz sim: --offsets does not go with --why" --why --offsets "$tmp/w.hvs"
expect_error "--why on an unknown policy" "heapviz sim: --policy: unknown policy 'bst-fit'" --why --policy bst-fit "$tmp/w.hvs"

[ $fails = 0 ] && echo "all passed" || echo "$fails failed"
exit $((fails > 0))
