#!/bin/bash
# Run a real program natively and with a malloc library preloaded; require the same observable
# result. Used by the RealProgs.* ctest tests.
#
#   compare.sh LIB TEST
#
# LIB   the library to preload (libhvalloc.so; any other preloadable .so works as a stand-in)
# TEST  python | perl | gcc | git | sort
#
# Fails (exit 1) if the library is not actually loaded into the preloaded processes, if either
# run exits non-zero (crash, abort, malloc error), or if the outputs differ. The work directory is
# removed on success and kept (path printed) on failure. HV_REALPROGS_KEEP=1 keeps it always.
set -u -o pipefail

die() { echo "compare.sh: $*" >&2; exit 2; }
[ $# -eq 2 ] || die "usage: compare.sh LIB TEST"
lib=$1
test=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$lib" ] || die "no such library: $lib"
lib=$(readlink -f "$lib")

work=$(mktemp -d "${TMPDIR:-/tmp}/hv-realprogs-$test.XXXXXX") || die "mktemp failed"
status=1
finish() {
  if [ "$status" -eq 0 ] && [ "${HV_REALPROGS_KEEP:-0}" != 1 ]; then
    rm -rf "$work"
  else
    echo "work directory kept: $work"
  fi
}
trap finish EXIT

# A clean, deterministic environment for both runs. LD_PRELOAD only in the preloaded one.
export LC_ALL=C.UTF-8 TZ=UTC HOME="$work/home" TMPDIR="$work/tmp"
unset LD_PRELOAD GLIBC_TUNABLES MALLOC_CHECK_ MALLOC_PERTURB_ MALLOC_ARENA_MAX
unset PYTHONPATH PYTHONHOME PERL5LIB PERL5OPT GIT_DIR GIT_WORK_TREE
mkdir -p "$HOME" "$TMPDIR"
TIMEOUT=${HV_REALPROGS_TIMEOUT:-150}

fail() { echo "FAIL [$test]: $*"; exit 1; }

# ---- the library must really be loaded, including in children of children ----
check_loaded() {
  local maps err
  err=$(LD_PRELOAD="$lib" /bin/true 2>&1)
  [ -z "$err" ] || fail "the dynamic loader complained: $err"
  maps=$(LD_PRELOAD="$lib" /bin/sh -c 'cat /proc/self/maps') || fail "cat /proc/self/maps failed"
  grep -qF "$lib" <<<"$maps" || fail "$lib is not mapped into a preloaded process"
  echo "ok: $(basename "$lib") is loaded in preloaded processes"
}

# run VARIANT NAME CMD...: runs CMD with stdout+stderr to $work/VARIANT/NAME.out, rc to .rc
run() {
  local variant=$1 name=$2
  shift 2
  mkdir -p "$work/$variant"
  local start end rc
  start=$EPOCHREALTIME
  if [ "$variant" = preload ]; then
    LD_PRELOAD="$lib" timeout -k 10 "$TIMEOUT" "$@" >"$work/$variant/$name.out" 2>&1
  else
    timeout -k 10 "$TIMEOUT" "$@" >"$work/$variant/$name.out" 2>&1
  fi
  rc=$?
  end=$EPOCHREALTIME
  echo "$rc" >"$work/$variant/$name.rc"
  printf '  %-8s %-16s rc=%-3s %6.1fs\n' "$variant" "$name" "$rc" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
  if [ "$rc" -ne 0 ]; then
    echo "---- last lines of $variant/$name.out ----"
    tail -n 30 "$work/$variant/$name.out"
    [ "$rc" -eq 124 ] && fail "$variant run of $name timed out after ${TIMEOUT}s"
    fail "$variant run of $name exited with status $rc"
  fi
  if grep -q "ERROR: ld.so" "$work/$variant/$name.out"; then
    fail "$variant run of $name: the loader could not preload the library"
  fi
}

# same FILE_NATIVE FILE_PRELOAD WHAT: the two files must be identical
same() {
  if ! cmp -s "$1" "$2"; then
    echo "---- diff (native vs preload) of $3 ----"
    diff -u "$1" "$2" | head -n 60
    fail "$3 differs between the native and the preloaded run"
  fi
  echo "ok: $3 identical ($(sha256sum <"$1" | cut -c1-16))"
}

both() { # both NAME CMD...: run natively, then preloaded
  run native "$@"
  run preload "$@"
}

# ---- the tests ----
test_python() {
  local py=/usr/bin/python3
  [ -f /usr/lib/python3.11/test/test_dict.py ] ||
    fail "the CPython test suite is missing: apt-get install libpython3.11-testsuite (scripts/bootstrap does)"
  # PYTHONMALLOC=malloc: every object allocation goes through malloc, not pymalloc's arenas.
  local v
  for v in native preload; do
    mkdir -p "$work/$v/cwd"
    (cd "$work/$v/cwd" && PYTHONHASHSEED=0 PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1 \
      run "$v" regrtest "$py" -m test -v test_dict test_list test_set) || exit 1
    # timings, load averages and the temp dir name (pid) differ from run to run
    sed -E -e 's/^[0-9]+:[0-9]{2}:[0-9]{2} (load avg: [0-9.]+ )?//' \
      -e 's/^(Ran [0-9]+ tests?) in [0-9.]+s$/\1/' \
      -e '/^Total duration:/d' -e '/^== cwd:/d' \
      -e 's/ in [0-9.]+ (sec|ms)\b//g' \
      "$work/$v/regrtest.out" >"$work/$v/regrtest.norm"
    grep -q "^Tests result: SUCCESS" "$work/$v/regrtest.out" || fail "$v regrtest did not succeed"
  done
  same "$work/native/regrtest.norm" "$work/preload/regrtest.norm" "regrtest output (normalised)"
  grep -E "^(Ran [0-9]+ tests|OK|All [0-9]+ tests)" "$work/preload/regrtest.norm" | sed 's/^/  /'
}

test_perl() {
  both perl env PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 /usr/bin/perl "$here/perl_workload.pl"
  same "$work/native/perl.out" "$work/preload/perl.out" "perl workload output"
  sed 's/^/  /' "$work/native/perl.out" | tail -n 3
}

test_gcc() {
  # Both compiles happen in the same directory ($work/obj), so that -g's DW_AT_comp_dir matches.
  local v
  for v in native preload; do
    rm -rf "$work/obj" && mkdir -p "$work/obj" "$work/$v"
    cp "$here/gcc_input.c" "$work/obj/prog.c"
    (cd "$work/obj" &&
      run "$v" cc gcc -O2 -g -Wall -frandom-seed=hv -c prog.c -o prog.o &&
      run "$v" link gcc -O2 prog.o -o prog -lm &&
      run "$v" prog ./prog 2000) || exit 1
    mv "$work/obj" "$work/$v/obj"
  done
  same "$work/native/obj/prog.o" "$work/preload/obj/prog.o" "object file prog.o"
  same "$work/native/obj/prog" "$work/preload/obj/prog" "linked executable"
  same "$work/native/prog.out" "$work/preload/prog.out" "compiled program output"
  same "$work/native/cc.out" "$work/preload/cc.out" "compiler diagnostics"
  sed 's/^/  /' "$work/native/prog.out" | tail -n 1
}

git_script() { # runs in the current directory; prints everything worth comparing
  set -e
  export GIT_AUTHOR_NAME="Heap Viz" GIT_AUTHOR_EMAIL="hv@example.invalid"
  export GIT_COMMITTER_NAME="Heap Viz" GIT_COMMITTER_EMAIL="hv@example.invalid"
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  local g="git -c init.defaultBranch=main -c pack.threads=1 -c core.fsync=none -c gc.auto=0 -c user.useConfigOnly=false"
  $g init -q repo
  cd repo
  local i n=200
  mkdir -p dir0 dir1 dir2 dir3 dir4 dir5 dir6 dir7 dir8 dir9
  awk -v n=$n 'BEGIN {
    for (i = 1; i <= n; i++) {
      f = "dir" (i % 10) "/file" i ".txt"; print "file " i > f;
      for (j = 1; j <= i % 37 + 5; j++) print "line " j " of file " i ": " (i * j * 7919 % 10007) > f;
      close(f);
    } }'
  $g add -A
  GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z" \
    $g commit -q -m "initial: $n files"
  for c in 1 2 3 4 5; do
    for i in $(seq $c 7 $n); do echo "change $c" >>"dir$((i % 10))/file$i.txt"; done
    $g mv "dir$c/file$((c * 10 + c)).txt" "dir$c/renamed$c.txt" 2>/dev/null || true
    [ $c -ne 3 ] || $g rm -q "dir4/file14.txt"
    $g add -A
    GIT_AUTHOR_DATE="2024-01-0$((c + 1))T12:00:00Z" GIT_COMMITTER_DATE="2024-01-0$((c + 1))T12:00:00Z" \
      $g commit -q -m "change $c"
  done
  $g checkout -q -b side HEAD~2
  echo "side" >side.txt
  $g add side.txt
  GIT_AUTHOR_DATE="2024-02-01T00:00:00Z" GIT_COMMITTER_DATE="2024-02-01T00:00:00Z" \
    $g commit -q -m "side branch"
  $g checkout -q main
  GIT_AUTHOR_DATE="2024-02-02T00:00:00Z" GIT_COMMITTER_DATE="2024-02-02T00:00:00Z" \
    $g merge -q --no-edit side
  echo "== log"
  $g log --stat --format='%H %an %ad %s' --date=iso-strict main
  echo "== rev-parse"
  $g rev-parse HEAD HEAD~1 side 'HEAD^{tree}'
  echo "== gc"
  $g gc --quiet --aggressive
  echo "== fsck"
  $g fsck --full --strict 2>&1
  echo "== count-objects"
  $g count-objects -v | grep -v -e size -e prune
  echo "== blame"
  $g blame -s dir5/file15.txt
  echo "== diff"
  $g diff --stat HEAD~3 HEAD
}

test_git() {
  local v
  for v in native preload; do
    mkdir -p "$work/$v/git"
    (cd "$work/$v/git" && run "$v" git bash -c "$(declare -f git_script); git_script") || exit 1
  done
  same "$work/native/git.out" "$work/preload/git.out" "git log/rev-parse/fsck/blame output"
  sed -n '/^== rev-parse/,/^== gc/p' "$work/native/git.out" | sed -n '2,3p' | sed 's/^/  commit /'
}

test_sort() {
  local lines=${HV_SORT_LINES:-1450000}
  # ~36 bytes a line: a number, a word-ish key and filler. Park-Miller LCG: every intermediate
  # value stays below 2^53, so awk's doubles compute it exactly (no collapse into a short cycle).
  awk -v n="$lines" 'BEGIN {
    x = 12345; a = "abcdefghijklmnopqrstuvwxyz";
    for (i = 0; i < n; i++) {
      x = (x * 16807) % 2147483647; k = x;
      w = ""; for (j = 0; j < 6; j++) { w = w substr(a, k % 26 + 1, 1); k = int(k / 26); }
      x = (x * 16807) % 2147483647;
      printf "%d %s %s line%d\n", x % 1000003, w, (x % 3 ? "alpha" : "bravo-charlie"), i;
    }
  }' >"$work/input.txt" || fail "generating the input failed"
  echo "  input: $(wc -c <"$work/input.txt") bytes, $(wc -l <"$work/input.txt") lines"
  local v
  for v in native preload; do
    mkdir -p "$work/$v/tmp"
    run "$v" sort sort -T "$work/$v/tmp" -o "$work/$v/sorted.txt" "$work/input.txt"
    run "$v" sortn sort -n --parallel=4 -S 64M -T "$work/$v/tmp" -o "$work/$v/sortedn.txt" "$work/input.txt"
  done
  same "$work/native/sorted.txt" "$work/preload/sorted.txt" "sort output"
  same "$work/native/sortedn.txt" "$work/preload/sortedn.txt" "sort -n --parallel=4 -S 64M output"
  sha256sum "$work/preload/sorted.txt" "$work/preload/sortedn.txt" | sed "s|$work/preload/|  |"
}

check_loaded
case "$test" in
  python | perl | gcc | git | sort) "test_$test" ;;
  *) die "unknown test: $test" ;;
esac
status=0
echo "PASS [$test]: identical results with $(basename "$lib") preloaded"
