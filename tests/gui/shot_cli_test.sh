#!/usr/bin/env bash
# shot_cli_test.sh HEAPVIZ DEMO.hvs: `heapviz shot` as a user types it (issue 19): without -o the
# PNG is NAME.at-N.png in the current directory and stderr says so; --at takes peak and
# mark:LABEL (resolved to the same event as `stats --at`); an unknown mark is refused with the
# trace's marks, exit 2, and writes nothing. Run under xvfb-run.
set -u
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"
hv=$1
demo=$2
cd "$tmp" || exit 1
n=$("$hv" stats --at mark:tcache "$demo" | sed -n 's/^events: *\([0-9]*\).*/\1/p')
[ -n "$n" ] && ok "mark tcache: event $n" || fail "stats --at mark:tcache gave no event count"
expect 0 "heapviz shot: wrote demo.hvs.at-$n.png" -- "$hv" shot --at mark:tcache "$demo"
[ "$(head -c 8 "demo.hvs.at-$n.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] && ok "a PNG" ||
  fail "demo.hvs.at-$n.png is not a PNG"
p=$("$hv" stats --at peak "$demo" | sed -n 's/^events: *\([0-9]*\).*/\1/p')
expect 0 "wrote demo.hvs.at-$p.png" -- "$hv" shot --at peak "$demo"
total=$("$hv" stats "$demo" | sed -n 's/^events: *\([0-9]*\).*/\1/p')
expect 0 "wrote demo.hvs.at-$total.png" -- "$hv" shot "$demo"
expect 0 "" -- "$hv" shot --at 12 -o twelve.png "$demo"
[ -f twelve.png ] && [ ! -f demo.hvs.at-12.png ] && ok "-o is kept" || fail "-o twelve.png not written"
rm -f ./*.png
expect 2 "no mark 'nope' \(its marks: 'start'" -- "$hv" shot --at mark:nope "$demo"
[ -z "$(ls ./*.png 2>/dev/null)" ] && ok "nothing written for a bad mark" || fail "a PNG for a bad mark: $(ls)"
finish
