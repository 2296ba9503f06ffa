#!/bin/sh
# The Playground through the real window (Xvfb + xdotool): `heapviz view --playground FILE`
# opens the editor on the scenario; a line typed at its end re-simulates the heap (the app's
# document grows by that malloc's events); a line that does not parse shows its error with its
# line number and keeps the last good heap. The app reports its state at exit (HEAPVIZ_TEST_REPORT).
# usage: playground_test.sh HEAPVIZ WORKDIR   (run under xvfb-run with a 1600x900 screen)
set -u
hv=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
export XDG_CONFIG_HOME="$work/config" # a fresh layout: the windows at their default places
fail=0
check() { # check DESCRIPTION CONDITION...
  what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
printf 'a = malloc 24\nb = malloc 100\nfree a\nc = malloc 24\nfree b\n' >"$work/play.hvs"
"$hv" sim "$work/play.hvs" -o "$work/base.hvt" >/dev/null 2>&1
base=$("$hv" dump "$work/base.hvt" | grep -c '^#')
printf 'a = malloc 24\nb = malloc 100\nfree a\nc = malloc 24\nfree b\nz = malloc 5000\n' >"$work/more.hvs"
"$hv" sim "$work/more.hvs" -o "$work/more.hvt" >/dev/null 2>&1
more=$("$hv" dump "$work/more.hvt" | grep -c '^#')
echo "the scenario has $base events, with z = malloc 5000 $more"

# Keys held like a finger holds them: ImGui 1.86 reads key state once per frame, so a Return
# pressed and released inside one frame (a slow frame, on a loaded machine) would be lost; typed
# characters are queued and are not.
hold() { # hold KEY...: all down, a moment, all up
  for k in "$@"; do xdotool keydown "$k"; done
  sleep 0.12 # (a frame or two; less than ImGui's key repeat delay, 0.25 s)
  for k in "$@"; do xdotool keyup "$k"; done
  sleep 0.1
}

session() { # session LOG TEXT...: opens the playground, types each TEXT as a new last line, quits
  log=$1
  shift
  HEAPVIZ_TEST_REPORT=1 "$hv" view --playground "$work/play.hvs" >"$log" 2>&1 &
  pid=$!
  win=$(xdotool search --sync --onlyvisible --name '^heapviz$' | head -1)
  xdotool windowfocus --sync "$win"
  sleep 1.5
  xdotool mousemove 200 860 # into the editor (the bottom left), as a person would
  sleep 0.3
  xdotool click 1
  sleep 0.5
  hold ctrl End
  for line in "$@"; do
    sleep 0.2
    hold Return
    xdotool type --delay 30 "$line"
    sleep 1 # typing pauses: the text runs
  done
  xdotool key ctrl+q
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then echo "FAIL Ctrl+Q did not quit"; kill "$pid"; fail=1; fi
  wait "$pid"
  cat "$log"
}

session "$work/good.log" 'z = malloc 5000'
check "a typed line re-simulates: $more events" grep -q "^heapviz: state ready, events $more, position $more," "$work/good.log"
check "no error" grep -q "^heapviz: playground .*, error line 0: none$" "$work/good.log"
check "the file is not changed without Save" cmp -s "$work/play.hvs" /dev/stdin <<EOF2
a = malloc 24
b = malloc 100
free a
c = malloc 24
free b
EOF2

session "$work/bad.log" 'z = malloc 5000' 'y = mallok 3'
check "a bad line: its error" grep -q "^heapviz: playground .*, error line [0-9]*: unknown operation 'mallok'" "$work/bad.log"
check "... on the line that holds it" grep -q "^heapviz: playground line [0-9]* reads 'y = mallok 3'$" "$work/bad.log"
check "the last good heap stays ($more events)" grep -q "^heapviz: state ready, events $more," "$work/bad.log"
# A file that is not there yet opens as a new one, as in an editor: the starter, that path in the
# bar, and Save writes it (it once opened the starter with no word of the file).
HEAPVIZ_TEST_FRAMES=20 "$hv" view --playground "$work/new.hvs" >"$work/new.log" 2>&1
check "a new file: the starter, under its path" grep -q "^heapviz: playground file '$work/new.hvs' (new, not saved yet)$" "$work/new.log"
check "... and nothing written before Save" test ! -e "$work/new.hvs"
exit $fail
