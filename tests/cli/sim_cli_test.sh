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
# mallopt and tunable lines (docs/scenarios.md): malformed ones, and settings glibc would ignore.
printf 'mallopt M_MXFST 0\n' >"$tmp/mo1.hvs"
expect 2 "^$tmp/mo1.hvs:1: unknown mallopt parameter 'M_MXFST' \\(expected M_MXFAST, " -- sim "$tmp/mo1.hvs"
printf 'a = malloc 1\nmallopt M_MXFAST\n' >"$tmp/mo2.hvs"
expect 2 "^$tmp/mo2.hvs:2: expected 'mallopt M_NAME VALUE'" -- sim "$tmp/mo2.hvs"
printf 'mallopt M_TOP_PAD 2147483648\n' >"$tmp/mo3.hvs"
expect 2 "^$tmp/mo3.hvs:1: bad mallopt value '2147483648': expected a decimal or 0x-hex number that fits in a C int" -- sim "$tmp/mo3.hvs"
printf 'a = malloc 1\n\nmallopt M_MXFAST 200\n' >"$tmp/mo4.hvs"
expect 2 "^$tmp/mo4.hvs:3: mallopt\\(M_MXFAST, 200\\) returns 0 in glibc 2.36 and changes nothing: M_MXFAST takes 0..160" -- sim --offsets "$tmp/mo4.hvs"
printf 'mallopt M_ARENA_MAX 0\n' >"$tmp/mo5.hvs"
expect 2 "^$tmp/mo5.hvs:1: mallopt\\(M_ARENA_MAX, 0\\) changes nothing in glibc 2.36: M_ARENA_MAX takes 1 or more" -- sim "$tmp/mo5.hvs"
printf 'a = malloc 1\nmalloc_trim\n' >"$tmp/mt1.hvs"
expect 2 "^$tmp/mt1.hvs:2: expected 'malloc_trim PAD'" -- sim "$tmp/mt1.hvs"
printf 'malloc_trim -1\n' >"$tmp/mt2.hvs"
expect 2 "^$tmp/mt2.hvs:1: bad pad '-1'" -- sim "$tmp/mt2.hvs"
printf 'malloc_trim = malloc 8\nmalloc_trim 0\nfree malloc_trim\n' >"$tmp/mt3.hvs"
expect 0 "" -- sim "$tmp/mt3.hvs"
printf 'tunable glibc.malloc.tcache_count\n' >"$tmp/tu1.hvs"
expect 2 "^$tmp/tu1.hvs:1: expected 'tunable NAME=VALUE', as in GLIBC_TUNABLES" -- sim "$tmp/tu1.hvs"
printf '# first\nmark start\ntunable glibc.malloc.mxfast=0\na = malloc 24\n\ntunable glibc.malloc.tcache_count=0\n' >"$tmp/tu2.hvs"
expect 2 "^$tmp/tu2.hvs:6: tunable after the first operation \\(line 4\\): glibc reads GLIBC_TUNABLES once" -- sim "$tmp/tu2.hvs"
printf 'mallopt M_MXFAST 0\ntunable glibc.malloc.tcache_count=0\n' >"$tmp/tu3.hvs"
expect 2 "^$tmp/tu3.hvs:2: tunable after the first operation \\(line 1\\)" -- sim "$tmp/tu3.hvs"
printf 'tunable glibc.malloc.tcache_cnt=0\n' >"$tmp/tu4.hvs"
expect 2 "^$tmp/tu4.hvs:1: unknown tunable 'glibc.malloc.tcache_cnt' \\(glibc 2.36's malloc tunables: glibc.malloc.top_pad, " -- sim "$tmp/tu4.hvs"
printf 'tunable glibc.malloc.perturb=256\n' >"$tmp/tu5.hvs"
expect 2 "^$tmp/tu5.hvs:1: tunable glibc.malloc.perturb=256 is out of ld.so's range, so glibc 2.36 ignores it; it takes 0..255" -- sim "$tmp/tu5.hvs"
printf 'tunable glibc.malloc.tcache_count=65536\n' >"$tmp/tu6.hvs"
expect 2 "^$tmp/tu6.hvs:1: tunable glibc.malloc.tcache_count=65536 is refused by glibc 2.36's malloc, which ignores it; it takes 0..65535" -- sim -o "$tmp/tu6.hvt" "$tmp/tu6.hvs"
printf 'tunable glibc.malloc.mxfast=010\n' >"$tmp/tu7.hvs"
expect 2 "^$tmp/tu7.hvs:1: bad tunable value '010': glibc reads a leading 0 as octal" -- sim "$tmp/tu7.hvs"
printf 'tunable glibc.malloc.hugetlb=1\n' >"$tmp/tu8.hvs"
expect 2 "^$tmp/tu8.hvs:1: tunable 'glibc.malloc.hugetlb' is not supported" -- sim "$tmp/tu8.hvs"
printf 'tunable glibc.malloc.arena_max=1x\n' >"$tmp/tu9.hvs"
expect 2 "^$tmp/tu9.hvs:1: bad tunable value '1x'" -- sim "$tmp/tu9.hvs"
expect 2 "$tmp/missing.hvs: cannot open: No such file or directory" -- sim "$tmp/missing.hvs"
expect 2 "demo.hvs:19: 'b' is NULL: its allocation of 100 bytes at line 9 failed on pool" -- sim --policy pool "$data/demo.hvs"
expect 2 "^heapviz sim: $tmp: is a directory, not a scenario" -- sim "$tmp"
expect 2 "^$tmp: is a directory, not a scenario" -- sim --why "$tmp"
expect 2 "^heapviz sim: --arena-size '0': a number of bytes above 0" -- sim --policy buddy --arena-size 0 "$data/demo.hvs"
# The help names every policy make_policy knows (it once offered a 'bump' that does not exist).
if "$hv" sim --help | grep -q "segregated, buddy, pool, linear, stack (docs/policies.md)"; then
  echo "ok: sim --help lists the policies"
else
  echo "FAIL: sim --help: $("$hv" sim --help | grep -A1 -- --policy)"
  fails=$((fails + 1))
fi
expect 2 "unknown policy 'tlsf' \\(available: glibc, first-fit, next-fit, best-fit, worst-fit, buddy, segregated, pool, linear, stack\\)" -- sim --policy tlsf "$data/demo.hvs"
expect 2 "usage: heapviz sim" -- sim
expect 2 "cannot write /nonexistent/dir/x.hvt: No such file or directory" -- sim -o /nonexistent/dir/x.hvt "$data/demo.hvs"
expect 2 "-o needs a value: FILE|DIR" -- sim -o
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

# Tunables apply from the first call (with -o too: before the trace starts), mallopt where it
# stands; `mallopt` and `tunable` may still name blocks.
printf 'tunable glibc.malloc.tcache_count=0\na = malloc 200\nfree a\nb = malloc 300\nmallopt M_MMAP_MAX 0\nc = malloc 200000\nmallopt = malloc 8\ntunable = malloc 8\n' >"$tmp/set.hvs"
want='a 0x2a0\nb 0x2a0\nc 0x3e0\nmallopt 0x31130\ntunable 0x31150\n' # as glibc (hv_glibc_runner)
if "$hv" sim --offsets "$tmp/set.hvs" >"$tmp/out" 2>"$tmp/err" && diff -u <(printf "$want") "$tmp/out" &&
  "$hv" sim -o "$tmp/set.hvt" "$tmp/set.hvs" >/dev/null 2>"$tmp/err" && "$hv" check "$tmp/set.hvt" >/dev/null 2>&1; then
  echo "ok: tunable and mallopt lines"
else
  echo "FAIL: tunable and mallopt lines"; cat "$tmp/err"
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

# expect lines (docs/scenarios.md): what a comment claims about the heap, checked by sim.
printf 'a = malloc 24\nfree a\nb = malloc 24\nexpect b at a\nexpect a in in_use\nc = malloc 40\nexpect c at b + 0x20\n' >"$tmp/ex1.hvs"
expect 0 "^$" -- sim "$tmp/ex1.hvs"
printf 'a = malloc 24\nexpect a in tcache\n' >"$tmp/ex2.hvs"
expect 2 "^$tmp/ex2.hvs:2: expected a in tcache, but it is in the chunk at 0x290 \\(size 0x20, in_use\\)" -- sim "$tmp/ex2.hvs"
printf 'a = malloc 24\nb = malloc 24\nexpect b at a\n' >"$tmp/ex3.hvs"
expect 2 "^$tmp/ex3.hvs:3: expected b at a \\(0x2a0\\), but it is at 0x2c0" -- sim "$tmp/ex3.hvs"
printf 'a = malloc 24\nb = malloc 24\nexpect a joins b\n' >"$tmp/ex4.hvs"
expect 2 "^$tmp/ex4.hvs:3: expected a to share a chunk with b, but a is in the chunk at 0x290" -- sim "$tmp/ex4.hvs"
printf 'a = malloc 24\nexpect a at zz\n' >"$tmp/ex5.hvs"
expect 2 "^$tmp/ex5.hvs:2: expect names 'zz', which was never allocated" -- sim "$tmp/ex5.hvs"
printf 'expect a in heaven\n' >"$tmp/ex6.hvs"
expect 2 "^$tmp/ex6.hvs:1: unknown state 'heaven'" -- sim "$tmp/ex6.hvs"
printf 'expect a near b\n' >"$tmp/ex7.hvs"
expect 2 "^$tmp/ex7.hvs:1: expected 'expect NAME at NAME2 \\[\\+ N\\]'" -- sim "$tmp/ex7.hvs"
# The demo says what happens in comments and in expect lines: a wrong claim fails, naming its line.
sed 's/^expect small at e + 0x7e0/expect small at big1/' "$data/demo.hvs" >"$tmp/demo-wrong.hvs"
line=$(grep -n '^expect small at big1' "$tmp/demo-wrong.hvs" | cut -d: -f1)
expect 2 "^$tmp/demo-wrong.hvs:$line: expected small at big1 \\(0x4f60\\), but it is at 0xf00" -- sim "$tmp/demo-wrong.hvs"
n=$(grep -c '^expect ' "$data/demo.hvs")
if [ "$n" -ge 12 ]; then echo "ok: the demo checks $n of its claims"; else
  echo "FAIL: the demo has only $n expect lines"; fails=$((fails + 1)); fi

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
