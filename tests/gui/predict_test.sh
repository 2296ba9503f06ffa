#!/bin/sh
# Predict, then reveal, through the real window (Xvfb + xdotool): `heapviz view --predict` opens
# the demo before its first allocation; a click on "The heap grows for it" answers it (right: the
# first malloc makes the heap); Right goes to the next one; a click on top answers b = malloc 100
# (right: cut from top); Right, then a click on the tcache struct answers c = malloc 1000 (wrong).
# Where to click comes from `heapviz shot --predict K --geometry` (the same layout). The app
# reports its state at exit (HEAPVIZ_TEST_REPORT): score 2 of 3, at allocation 3, revealed.
# usage: predict_test.sh HEAPVIZ SCENARIO WORKDIR   (run under xvfb-run with a 1600x900 screen)
set -u
hv=$1 scen=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
export XDG_CONFIG_HOME="$work/config" # a fresh layout: the windows at their default places
fail=0
check() { # check DESCRIPTION CONDITION...
  what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
center() { # center FILE AWK-CONDITION: "x y" of the first line matching (fields 3-6: X0 Y0 X1 Y1)
  awk "$2 { print int((\$3 + \$5) / 2), int((\$4 + \$6) / 2); exit }" "$1"
}
rect_center() { # rect_center FILE PAINT: the first chunk rect of that paint (fields 5-8)
  awk -v p="$2" '$1 == "rect" && $4 == p && $7 - $5 >= 6 { print int(($5 + $7) / 2), int(($6 + $8) / 2); exit }' "$1"
}
for k in 1 2 3; do
  "$hv" shot "$scen" --predict $k --size 1600x900 -o "$work/q$k.png" --geometry "$work/q$k.geo" >/dev/null 2>&1 ||
    { echo "FAIL shot --predict $k"; exit 1; }
done
grows=$(center "$work/q1.geo" '$1 == "predictbutton" && $2 == "grows"')
top=$(rect_center "$work/q2.geo" 8)       # Paint::Top
internal=$(rect_center "$work/q3.geo" 13) # Paint::Internal: the tcache_perthread_struct
echo "grows at ($grows), top at ($top), tcache struct at ($internal)"
check "the three targets were found" test -n "$grows" -a -n "$top" -a -n "$internal"

click() { # click "X Y"
  set -- $1
  xdotool mousemove "$1" "$2"
  sleep 0.3
  xdotool mousedown 1
  sleep 0.1
  xdotool mouseup 1
  sleep 0.6
}
press() {
  xdotool keydown "$1"
  sleep 0.08
  xdotool keyup "$1"
  sleep 0.6
}
HEAPVIZ_TEST_REPORT=1 "$hv" view --predict "$scen" >"$work/log" 2>&1 &
pid=$!
win=$(xdotool search --sync --onlyvisible --name '^heapviz$' | head -1)
xdotool windowfocus --sync "$win"
sleep 1.5 # loading, the stories, first frames
click "$grows"
press Right
click "$top"
press Right
click "$internal"
xdotool key ctrl+q
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$pid" 2>/dev/null; then echo "FAIL Ctrl+Q did not quit"; kill "$pid"; fail=1; fi
wait "$pid"
cat "$work/log"
check "score 2 of 3 at allocation 3, revealed" grep -q '^heapviz: predict score 2 of 3, allocation 3 of 24, revealed 1$' "$work/log"
# The position: right after allocation 3's call (its API event, the third malloc of the trace).
"$hv" sim "$scen" -o "$work/demo.hvt" >/dev/null 2>&1
third=$("$hv" dump "$work/demo.hvt" | grep -n ' malloc size=' | sed -n 3p | cut -d: -f1)
check "the map shows the heap after allocation 3 (event $third)" grep -q "position $third," "$work/log"
exit $fail
