#!/usr/bin/env bash
# deb_test.sh BUILD_DIR WORK_DIR GUI(0|1): `cpack -G DEB` (cmake/Install.cmake) builds
# heapviz_VERSION_ARCH.deb into WORK_DIR; its control file names the package and Depends on the
# shared libraries the binaries link (dpkg-shlibdeps: libc6, libstdc++6, libzstd1, libdw1,
# libelf1, and libglfw3 with the GUI); it holds the installed layout under /usr; and the heapviz it
# carries, unpacked with dpkg-deb -x, records a program and reads its lessons from the package.
# Installing it (apt-get install ./heapviz_*.deb) needs root and is checked by hand (README,
# "Install").
set -u
build=$1
work=$2
gui=$3
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"
unset HEAPVIZ_LIB HEAPVIZ_DATA HEAPVIZ_LESSONS
rm -rf "$work"
mkdir -p "$work"

for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "FAIL: no $tool (scripts/bootstrap installs dpkg-dev)"
    exit 1
  }
done

t0=$(date +%s%N)
if cpack -G DEB -B "$work" --config "$build/CPackConfig.cmake" >"$work/cpack.log" 2>&1; then
  ok "cpack -G DEB in $((($(date +%s%N) - t0) / 1000000)) ms"
else
  fail "cpack -G DEB: $(tail -20 "$work/cpack.log")"
  exit 1
fi
deb=$(ls "$work"/heapviz_*.deb 2>/dev/null | head -1)
[ -f "$deb" ] && ok "$(basename "$deb"): $(stat -c %s "$deb") bytes" || {
  fail "no heapviz_*.deb in $work: $(ls "$work")"
  exit 1
}

dpkg-deb -f "$deb" Package Version Architecture Depends >"$work/control" 2>&1
grep -qx 'Package: heapviz' "$work/control" || fail "Package: $(cat "$work/control")"
depends=$(sed -n 's/^Depends: //p' "$work/control")
want="libc6 libstdc++6 libzstd1 libdw1 libelf1"
[ "$gui" = 1 ] && want="$want libglfw3"
missing=""
for p in $want; do
  case ", $depends," in *", $p "* | *", $p,"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && ok "Depends: $depends" || fail "Depends lacks$missing: '$depends'"

dpkg-deb -c "$deb" >"$work/contents" 2>&1
missing=""
for f in ./usr/bin/heapviz ./usr/lib/libhvalloc.so ./usr/include/heapviz/hvalloc.h \
  ./usr/share/heapviz/scenarios/demo.hvs ./usr/share/heapviz/lessons/01-vocabulary.hvs \
  ./usr/share/applications/heapviz.desktop ./usr/share/icons/hicolor/scalable/apps/heapviz.svg \
  ./usr/share/man/man1/heapviz.1; do
  grep -q " $f\$" "$work/contents" || missing="$missing $f"
done
[ -z "$missing" ] && ok "$(wc -l <"$work/contents") entries, the layout under /usr" || fail "the .deb lacks$missing"

# The packaged heapviz (stripped) runs from the unpacked tree.
dpkg-deb -x "$deb" "$work/root"
hv=$work/root/usr/bin/heapviz
printf 'b\na\n' >"$work/in.txt"
out=$("$hv" record -o "$work/sort.hvt" -- /bin/sort "$work/in.txt" 2>"$work/rec.err")
[ "$out" = "$(printf 'a\nb')" ] && grep -q 'events' "$work/rec.err" && "$hv" stats "$work/sort.hvt" >/dev/null 2>&1 &&
  ok "the packaged heapviz records sort and reads the trace" || fail "packaged record: '$out' $(cat "$work/rec.err")"
n=$("$hv" lesson --list 2>/dev/null | grep -c '^ *[0-9][0-9]*  ')
[ "$n" -eq "$(ls "$work/root/usr/share/heapviz/lessons" | wc -l)" ] && ok "the packaged heapviz lists its $n lessons" ||
  fail "packaged lesson --list: $n lessons"

[ "$fails" -eq 0 ] && rm -rf "$work" # kept when a check failed, to look at
finish
