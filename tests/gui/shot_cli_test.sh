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
# Options that would be ignored or read backwards are refused, not guessed at.
expect 2 "--row K goes with --tab sites or --tab frag" -- "$hv" shot --row 5 "$demo"
expect 2 "--diff '5:2': A comes after B" -- "$hv" shot --diff 5:2 "$demo"
expect 2 "--diff 'end:mark:tcache': A comes after B" -- "$hv" shot --diff end:mark:tcache "$demo"
expect 2 "--diff '5:x': expected A:B, two positions" -- "$hv" shot --diff 5:x "$demo"
expect 2 "--answer 'banana': give a chunk's address \\(0x...\\), grows, mapping or null" -- "$hv" shot --predict 2 --answer banana "$demo"
[ -z "$(ls ./*.png 2>/dev/null)" ] && ok "nothing written for a bad mark" || fail "a PNG for a bad mark: $(ls)"
# --diff takes positions as --at does (a mark's label after its own colon), as `heapviz diff` does.
expect 0 "" -- "$hv" shot --diff mark:tcache:end -o diffmarks.png "$demo"
[ -f diffmarks.png ] && ok "--diff mark:tcache:end draws" || fail "--diff mark:tcache:end wrote nothing"
rm -f diffmarks.png

# The UI scale (View > UI scale): the saved setting, HEAPVIZ_UI_SCALE over it, --ui-scale over
# both; the app's text and fixed sizes grow with it (the map starts lower under taller menus).
mkdir -p cfg/heapviz
printf 'ui_scale=1.75\n' >cfg/heapviz/settings.ini
scale_of() { sed -n 's/.*ui scale \([0-9.]*\)$/\1/p'; }
s=$(XDG_CONFIG_HOME=$tmp/cfg HEAPVIZ_TEST_FRAMES=2 "$hv" view "$demo" 2>/dev/null | scale_of)
[ "$s" = 1.75 ] && ok "view takes the saved UI scale" || fail "view's UI scale: '$s' (want 1.75)"
s=$(XDG_CONFIG_HOME=$tmp/cfg HEAPVIZ_UI_SCALE=2 HEAPVIZ_TEST_FRAMES=2 "$hv" view "$demo" 2>/dev/null | scale_of)
[ "$s" = 2.00 ] && ok "HEAPVIZ_UI_SCALE over the setting" || fail "HEAPVIZ_UI_SCALE: '$s' (want 2.00)"
s=$(XDG_CONFIG_HOME=$tmp/cfg HEAPVIZ_UI_SCALE=2 HEAPVIZ_TEST_FRAMES=2 "$hv" view --ui-scale 1.25 "$demo" 2>/dev/null | scale_of)
[ "$s" = 1.25 ] && ok "--ui-scale over both" || fail "--ui-scale: '$s' (want 1.25)"
expect 2 "--ui-scale '9': a scale from 0.75 to 3" -- "$hv" view --ui-scale 9 "$demo"
"$hv" shot --size 1600x1000 -o s1.png --geometry g1.txt "$demo" 2>/dev/null
"$hv" shot --size 1600x1000 --ui-scale 2 -o s2.png --geometry g2.txt "$demo" 2>/dev/null
y1=$(awk '$1 == "map" {print int($3)}' g1.txt)
y2=$(awk '$1 == "map" {print int($3)}' g2.txt)
[ -n "$y1" ] && [ -n "$y2" ] && [ "$y2" -ge $((y1 * 3 / 2)) ] && ok "--ui-scale 2: the map starts at y $y2 (scale 1: $y1)" ||
  fail "--ui-scale 2 did not grow the UI: map y $y2 vs $y1"
finish
