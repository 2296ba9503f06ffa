#!/usr/bin/env bash
# install_test.sh BUILD_DIR WORK_DIR CC GUI(0|1) [XVFB_RUN]: `cmake --install BUILD_DIR --prefix
# WORK_DIR/prefix` lays out bin, lib, include, share (cmake/Install.cmake), and the installed
# heapviz works from there on its own: `record` (a program built against the installed hvalloc.h)
# preloads PREFIX/lib/libhvalloc.so, `stats` reads the trace, `lesson --list` and `view` (the
# demo) read PREFIX/share/heapviz, `shot` renders the trace (GUI builds, under xvfb-run), and the
# prefix still works once moved elsewhere.
# The build tree stays where it is (ctest runs in it), so the test proves that the prefix, not
# the build or source tree, is used: HEAPVIZ_LIB, HEAPVIZ_DATA and HEAPVIZ_LESSONS unset, the
# library taken away makes `record` fail, and files added to the prefix only (a lesson, a demo of
# another length) are the ones heapviz shows.
set -u
build=$1
work=$2
cc=$3
gui=$4
xvfb=${5:-}
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"
unset HEAPVIZ_LIB HEAPVIZ_DATA HEAPVIZ_LESSONS
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
hv=$prefix/bin/heapviz

t0=$(date +%s%N)
if cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1; then
  ok "cmake --install in $((($(date +%s%N) - t0) / 1000000)) ms"
else
  fail "cmake --install: $(tail -5 "$work/install.log")"
  exit 1
fi

for f in bin/heapviz lib/libhvalloc.so include/heapviz/hvalloc.h share/heapviz/scenarios/demo.hvs \
  share/heapviz/lessons/01-vocabulary.hvs share/heapviz/examples/sessions.c \
  share/applications/heapviz.desktop share/icons/hicolor/scalable/apps/heapviz.svg \
  share/man/man1/heapviz.1 share/doc/heapviz/README.md share/bash-completion/completions/heapviz; do
  [ -f "$prefix/$f" ] || fail "missing: PREFIX/$f"
done
[ -x "$hv" ] && ok "PREFIX/bin/heapviz and the rest in place" || fail "PREFIX/bin/heapviz not executable"
# The installed completion completes a command (bash-completion loads it by the command's name).
got=$(bash -c 'source "$1"; COMP_WORDS=(heapviz chu); COMP_CWORD=1; _heapviz; echo "${COMPREPLY[@]}"' _ \
  "$prefix/share/bash-completion/completions/heapviz" 2>&1)
[ "$got" = chunks ] && ok "bash completion: heapviz chu<TAB> -> chunks" || fail "bash completion: '$got'"
grep -qx 'Exec=heapviz view %f' "$prefix/share/applications/heapviz.desktop" && grep -qx 'Icon=heapviz' \
  "$prefix/share/applications/heapviz.desktop" && ok "desktop entry: Exec and Icon" || fail "desktop entry"

# The man page renders without a warning and has its sections and every command's heading.
if command -v groff >/dev/null 2>&1; then
  if groff -t -man -Tutf8 -P-cbou -ww "$prefix/share/man/man1/heapviz.1" 2>"$work/man.err" | tr -s ' ' >"$work/man.txt" &&
    [ ! -s "$work/man.err" ]; then
    missing=""
    for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES "heapviz record" "heapviz stats" "heapviz shot"; do
      grep -q "^$s\|^ *$s" "$work/man.txt" || missing="$missing '$s'"
    done
    [ -z "$missing" ] && ok "man page: $(wc -l <"$work/man.txt") lines" || fail "man page lacks$missing"
  else
    fail "groff on heapviz.1: $(head -3 "$work/man.err")"
  fi
else
  fail "no groff to render the man page (scripts/bootstrap installs groff-base)"
fi

# A program built against the installed header, recorded from the prefix.
cat >"$work/prog.c" <<'EOF'
#include <heapviz/hvalloc.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  char* p[64];
  for (int i = 0; i < 64; ++i) p[i] = strdup("installed heapviz");
  HV_MARK("half");
  for (int i = 0; i < 64; i += 2) free(p[i]);
  return 0;
}
EOF
if "$cc" -O1 -I"$prefix/include" -o "$work/prog" "$work/prog.c" 2>"$work/cc.err"; then
  ok "a program builds against PREFIX/include/heapviz/hvalloc.h"
else
  fail "cc -I PREFIX/include: $(cat "$work/cc.err")"
fi
(cd "$work" && "$hv" record -o "$work/prog.hvt" -- "$work/prog") >"$work/rec.out" 2>"$work/rec.err"
rc=$?
grep -q "^heapviz record: $work/prog.hvt: [0-9]* events" "$work/rec.err" && [ "$rc" -eq 0 ] &&
  ok "record: $(grep -o '[0-9]* events' "$work/rec.err" | head -1) written" ||
  fail "record (exit $rc): $(cat "$work/rec.err")"
"$hv" dump --kind mark "$work/prog.hvt" 2>&1 | grep -q 'mark "half"' && ok "the program's HV_MARK is in the trace" ||
  fail "no mark \"half\" in the trace: $("$hv" dump --kind mark "$work/prog.hvt" 2>&1 | head -3)"

# sort, the program the users tried: its output passes through, its trace reads.
printf 'pear\napple\nfig\n' >"$work/in.txt"
out=$("$hv" record -o "$work/sort.hvt" -- /bin/sort "$work/in.txt" 2>"$work/sort.err")
[ "$out" = "$(printf 'apple\nfig\npear')" ] && ok "record -- /bin/sort: output passed through" ||
  fail "record -- sort printed '$out': $(cat "$work/sort.err")"
if "$hv" stats "$work/sort.hvt" >"$work/stats.txt" 2>&1; then
  ok "stats: $(grep '^events:' "$work/stats.txt" | tr -s ' ')"
else
  fail "stats: $(cat "$work/stats.txt")"
fi
grep -q '^calls: *malloc [1-9]' "$work/stats.txt" || fail "stats shows no malloc: $(cat "$work/stats.txt")"

# The library it preloads is PREFIX/lib's: without it, record cannot start.
mv "$prefix/lib/libhvalloc.so" "$work/libhvalloc.so.aside"
"$hv" record -o "$work/none.hvt" -- /bin/true >/dev/null 2>"$work/nolib.err"
rc=$?
mv "$work/libhvalloc.so.aside" "$prefix/lib/libhvalloc.so"
[ "$rc" -ne 0 ] && grep -q 'cannot find libhvalloc.so' "$work/nolib.err" &&
  ok "record uses PREFIX/lib/libhvalloc.so (without it: exit $rc)" ||
  fail "record without PREFIX/lib/libhvalloc.so: exit $rc, $(cat "$work/nolib.err")"

# The lessons are PREFIX/share/heapviz's: a lesson only the prefix has is listed.
sed 's/^title .*/title Only in the prefix/' "$prefix/share/heapviz/lessons/01-vocabulary.hvs" \
  >"$prefix/share/heapviz/lessons/99-prefix-probe.hvs"
n_src=$(find "$prefix/share/heapviz/lessons" -name '*.hvs' | wc -l)
"$hv" lesson --list >"$work/lessons.txt" 2>&1
grep -q '^99  prefix-probe ' "$work/lessons.txt" && [ "$(grep -c '^ *[0-9][0-9]*  ' "$work/lessons.txt")" -eq "$n_src" ] &&
  ok "lesson --list: the $n_src lessons of PREFIX/share/heapviz/lessons" ||
  fail "lesson --list does not read PREFIX/share/heapviz/lessons: $(head -5 "$work/lessons.txt")"
"$hv" lesson --check prefix-probe >/dev/null 2>&1 && ok "lesson --check of the prefix's lesson" ||
  fail "lesson --check prefix-probe"

if [ "$gui" = 1 ]; then
  # view without a file opens PREFIX's demo: one of another length than the bundled one.
  printf 'a = malloc 24\nb = malloc 100\nfree a\n' >"$prefix/share/heapviz/scenarios/demo.hvs"
  "$hv" sim -o "$work/probe.hvt" "$prefix/share/heapviz/scenarios/demo.hvs" >/dev/null 2>&1
  n=$("$hv" stats "$work/probe.hvt" 2>/dev/null | sed -n 's/^events: *\([0-9]*\).*/\1/p')
  out=$("$xvfb" -a -s "-screen 0 1600x900x24" env HEAPVIZ_TEST_FRAMES=5 XDG_CONFIG_HOME="$work/config" "$hv" view 2>&1)
  case "$out" in
  *"state ready, events $n, position $n,"*) ok "view without a file opens PREFIX's demo ($n events)" ;;
  *) fail "view without a file: expected PREFIX's demo ($n events): $out" ;;
  esac
  # shot of the recorded trace, from the prefix.
  if "$xvfb" -a -s "-screen 0 1600x900x24" env XDG_CONFIG_HOME="$work/config" \
    "$hv" shot "$work/sort.hvt" --at end --size 800x600 -o "$work/sort.png" >"$work/shot.out" 2>&1 &&
    [ "$(head -c 4 "$work/sort.png" | od -An -tx1 | tr -d ' ')" = 89504e47 ]; then
    ok "shot: $(stat -c %s "$work/sort.png") byte PNG"
  else
    fail "shot: $(cat "$work/shot.out")"
  fi
else
  echo "skipped: view and shot (this heapviz was built with -DHV_GUI=OFF)"
fi

# Relocatable: the prefix moved elsewhere still finds its library and its data.
mv "$prefix" "$work/moved"
hv=$work/moved/bin/heapviz
"$hv" record -o "$work/moved.hvt" -- /bin/true >/dev/null 2>"$work/moved.err" &&
  "$hv" lesson --list 2>/dev/null | grep -q '^99  prefix-probe ' && ok "the prefix moved elsewhere still works" ||
  fail "moved prefix: $(cat "$work/moved.err")"

[ "$fails" -eq 0 ] && rm -rf "$work" # kept when a check failed, to look at
finish
