#!/usr/bin/env bash
# sim_cli_test.sh HEAPVIZ DATA_DIR: `heapviz sim` output and its bad-input handling.
set -u
hv=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect STATUS STDERR_REGEX -- ARGS...
expect() {
  local want=$1 regex=$2
  shift 3
  local out err status
  err=$("$hv" "$@" 2>&1 >"$tmp/out")
  status=$?
  if [ "$status" -ne "$want" ] || ! grep -Eq -- "$regex" <<<"$err"; then
    echo "FAIL: heapviz $*: status $status (want $want), stderr: $err"
    fails=$((fails + 1))
  else
    echo "ok: heapviz $* -> $status: $(head -1 <<<"$err")"
  fi
}

printf 'a = malloc 24\nb = mallok 10\n' >"$tmp/typo.hvs"
expect 2 "^$tmp/typo.hvs:2: unknown operation 'mallok'" -- sim "$tmp/typo.hvs"
printf 'a = malloc 24\n\n# comment\nb = malloc 12x\n' >"$tmp/badsize.hvs"
expect 2 "^$tmp/badsize.hvs:4: bad size '12x'" -- sim "$tmp/badsize.hvs"
printf 'a = malloc 0x10000000000000000\n' >"$tmp/huge.hvs"
expect 2 "^$tmp/huge.hvs:1: bad size" -- sim "$tmp/huge.hvs"
printf 'a = malloc 24\nfree b\n' >"$tmp/unknown.hvs"
expect 2 "^$tmp/unknown.hvs:2: free of 'b', which was never allocated" -- sim "$tmp/unknown.hvs"
printf 'a = malloc 24\nfree a\nfree a\n' >"$tmp/double.hvs"
expect 2 "^$tmp/double.hvs:3: free of 'a', which was already freed at line 2" -- sim --offsets "$tmp/double.hvs"
printf 'a = malloc 24\nb = realloc a 100\nfree a\n' >"$tmp/moved.hvs"
expect 2 "^$tmp/moved.hvs:3: free of 'a', which was already passed to realloc at line 2" -- sim "$tmp/moved.hvs"
printf 'a-b = malloc 1\n' >"$tmp/name.hvs"
expect 2 "^$tmp/name.hvs:1: bad name 'a-b'" -- sim "$tmp/name.hvs"
printf 'a = malloc\n' >"$tmp/short.hvs"
expect 2 "^$tmp/short.hvs:1: expected 'NAME = malloc SIZE'" -- sim "$tmp/short.hvs"
expect 2 "cannot open $tmp/missing.hvs" -- sim "$tmp/missing.hvs"
expect 2 "unknown policy 'buddy' \\(available: glibc\\)" -- sim --policy buddy "$data/demo.hvs"
expect 2 "usage: heapviz sim" -- sim
expect 2 "cannot write /nonexistent/dir/x.hvt: No such file or directory" -- sim -o /nonexistent/dir/x.hvt "$data/demo.hvs"
expect 2 "-o needs a file name" -- sim -o
expect 2 "unknown option '-x'" -- record -x -- ls
expect 2 "unknown command 'frobnicate'" -- frobnicate

# The documented behaviours: --offsets lines, and a NULL result.
printf 'a = malloc 24\nx = malloc 0xffffffffffffffff\nbig = malloc 300000\nr = realloc NULL 10\nfree x\n' >"$tmp/ok.hvs"
if "$hv" sim --offsets "$tmp/ok.hvs" >"$tmp/out" 2>"$tmp/err" &&
  diff -u <(printf 'a 0x2a0\nx null\nbig mmap\nr 0x2c0\n') "$tmp/out"; then
  echo "ok: --offsets output"
else
  echo "FAIL: --offsets output"; cat "$tmp/err"
  fails=$((fails + 1))
fi

# The allocator names its own chunk (the tcache struct); the program's chunk of the same size is
# the program's.
printf 'mine = malloc 0x280\n' >"$tmp/own.hvs"
if "$hv" sim "$tmp/own.hvs" >"$tmp/out" 2>"$tmp/err" &&
  grep -Eq '^  0x0 +0x290 +in_use +- +\(tcache_perthread_struct\)$' "$tmp/out" &&
  grep -Eq '^  0x290 +0x290 +in_use +- +mine \(640 bytes, line 1\)$' "$tmp/out"; then
  echo "ok: the tcache struct is the allocator's, malloc(0x280) the program's"
else
  echo "FAIL: tcache struct and malloc(0x280):"; cat "$tmp/out" "$tmp/err"
  fails=$((fails + 1))
fi

# The demo's heap printout is a golden file (tests/cli/demo.golden); --check must pass on it.
if "$hv" sim --check "$data/demo.hvs" >"$tmp/demo.out" 2>"$tmp/err" &&
  diff -u "$(dirname "$0")/demo.golden" <(sed "s|$data/demo.hvs|demo.hvs|" "$tmp/demo.out"); then
  echo "ok: demo printout matches the golden file"
else
  echo "FAIL: demo printout differs from tests/cli/demo.golden"; cat "$tmp/err"
  fails=$((fails + 1))
fi

[ "$fails" -eq 0 ] && echo "all sim CLI checks passed"
exit $((fails > 0))
