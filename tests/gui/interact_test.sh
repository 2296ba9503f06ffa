#!/bin/sh
# The viewer's one smoke test through the real window, under Xvfb with xdotool: X input reaches
# the app (keys step through the demo, a click on the chunk map selects the chunk under the
# pointer, the wheel zooms, Ctrl+Q quits). The app reports its final state (HEAPVIZ_TEST_REPORT=1)
# and we check it. Everything else the app does with input (playing, File > Open, the same keys,
# click and wheel frame by frame) is tested in-process and deterministic: tests/gui/app_test.cpp.
# usage: interact_test.sh HEAPVIZ SCENARIO WORKDIR   (run under xvfb-run with a 1600x900 screen)
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

# Where the map draws things when the demo opens (at its end, zoomed to fit) in a 1600x900
# window: the same layout as a shot of the end.
"$hv" sim "$scen" -o "$work/demo.hvt" >/dev/null 2>&1
"$hv" shot "$work/demo.hvt" --at end --size 1600x900 -o "$work/end.png" --geometry "$work/end.geo" 2>/dev/null
# The first in-use chunk drawn at least 6 pixels wide (true to bytes, the small ones share
# pixels), at its requested part.
target=$(awk '$1 == "rect" && $4 == 0 && $7 - $5 >= 6 { print $2, int(($5 + $7) / 2), int(($6 + $8) / 2); exit }' "$work/end.geo")
set -- $target
chunk=$1 cx=$2 cy=$3
echo "target chunk $chunk at ($cx,$cy)"

# A key held like a finger holds it (ImGui 1.86 reads key state once per frame, so a press and
# release inside one frame would be lost to its text fields; the app's own keys are queued).
press() { # press KEY... (a chord: all down, then all up)
  for k in "$@"; do xdotool keydown "$k"; done
  sleep 0.08
  for k in "$@"; do xdotool keyup "$k"; done
  sleep 0.05
}

run_app() { # run_app LOG: starts the app on the scenario, waits for its window
  HEAPVIZ_TEST_REPORT=1 "$hv" view "$scen" >"$1" 2>&1 &
  pid=$!
  win=$(xdotool search --sync --onlyvisible --name '^heapviz$' | head -1)
  # No window manager under Xvfb: give the window the keyboard focus ourselves. Keys then go
  # through XTEST like a real keyboard's (events sent to a window are flagged synthetic).
  xdotool windowfocus --sync "$win"
  sleep 1 # loading, first frames
}
quit_app() {
  xdotool key ctrl+q
  # Ctrl+Q must end the app; if it does not, say so instead of hanging.
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then echo "FAIL Ctrl+Q did not quit"; kill "$pid"; fail=1; fi
  wait "$pid"
}

# 1. Click the chunk at its place on the map: it becomes the selection.
run_app "$work/keys.log"
xdotool mousemove "$cx" "$cy"
sleep 0.3
xdotool mousedown 1
sleep 0.1
xdotool mouseup 1
sleep 0.3
# 2. Wheel up over the map: zoom in (fewer bytes per pixel than the fitted zoom).
xdotool click 4
sleep 0.3
# 3. Keys: Home, twelve times Right, one Left: the heap after 11 events.
xdotool mousemove 800 850 # away from the map
for k in Home Right Right Right Right Right Right Right Right Right Right Right Right Left; do xdotool key "$k"; sleep 0.1; done
quit_app
cat "$work/keys.log"
check "Home, Right x12, Left: position 11" grep -q "position 11," "$work/keys.log"
check "a click on the map selects the chunk under the pointer ($chunk)" grep -q "selected $chunk," "$work/keys.log"
bpp=$(sed -n 's/.*bytes per pixel \([0-9.e+-]*\),.*/\1/p' "$work/keys.log")
# The fitted zoom, from a run that only opens and quits.
run_app "$work/fit.log"
quit_app
fit=$(sed -n 's/.*bytes per pixel \([0-9.e+-]*\),.*/\1/p' "$work/fit.log")
check "the wheel zoomed in (bytes per pixel $fit -> $bpp)" awk -v b="$bpp" -v f="$fit" 'BEGIN { exit !(b > 0 && b < f * 0.9) }'

exit $fail
