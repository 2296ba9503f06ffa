#!/bin/sh
# Fidelity.RunnerSelfCheck: hv_glibc_runner must not touch malloc before the scenario starts, so a
# lone malloc(24) lands right after glibc's tcache_perthread_struct, at heap offset 0x2a0. Also
# checks that scenario errors are reported as FILE:LINE with exit status 2, and that tunable and
# mallopt lines reach glibc.
set -u
runner=${1:?usage: runner_selfcheck.sh PATH_TO_hv_glibc_runner}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hv-selfcheck.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

printf 'a = malloc 24\n' > "$tmp/one.hvs"
out=$("$runner" "$tmp/one.hvs"); rc=$?
if [ "$rc" -ne 0 ] || [ "$out" != "a 0x2a0" ]; then
  echo "FAIL: 'a = malloc 24' gave rc=$rc output '$out' (want 'a 0x2a0')"; fail=1
else
  echo "ok: a = malloc 24 -> a 0x2a0"
fi

# Even with variables that would change glibc's behaviour (the runner re-execs without them).
printf 'a = malloc 2000\n' > "$tmp/tun.hvs"
out=$(GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1024 MALLOC_TOP_PAD_=1 "$runner" "$tmp/tun.hvs")
if [ "$out" != "a 0x2a0" ]; then
  echo "FAIL: GLIBC_TUNABLES leaked into the runner: '$out'"; fail=1
else
  echo "ok: GLIBC_TUNABLES/MALLOC_* are ignored"
fi

# The scenario's tunable lines reach glibc as GLIBC_TUNABLES (and only they: the caller's are
# dropped), so a freed chunk is not cached and the next request reuses its place; a mallopt line
# calls mallopt.
printf 'tunable glibc.malloc.tcache_count=0\na = malloc 200\nfree a\nb = malloc 300\nc = malloc 131072\n' > "$tmp/tcache0.hvs"
out=$(GLIBC_TUNABLES=glibc.malloc.top_pad=0 MALLOC_TOP_PAD_=0 "$runner" "$tmp/tcache0.hvs" | tr '\n' ' ')
if [ "$out" != "a 0x2a0 b 0x2a0 c 0x3e0 " ]; then
  echo "FAIL: tunable lines: '$out' (want 'a 0x2a0 b 0x2a0 c 0x3e0 ')"; fail=1
else
  echo "ok: tunable glibc.malloc.tcache_count=0 -> $out"
fi
printf 'a = malloc 200000\nmallopt M_MMAP_MAX 0\nb = malloc 200000\n' > "$tmp/mallopt.hvs"
out=$("$runner" "$tmp/mallopt.hvs" | tr '\n' ' ')
if [ "$out" != "a mmap b 0x2a0 " ]; then
  echo "FAIL: mallopt lines: '$out' (want 'a mmap b 0x2a0 ')"; fail=1
else
  echo "ok: mallopt M_MMAP_MAX 0 -> $out"
fi
printf 'a = malloc 24\ntunable glibc.malloc.mxfast=0\n' > "$tmp/late.hvs"
err=$("$runner" "$tmp/late.hvs" 2>&1 >/dev/null); rc=$?
case "$err" in
  "$tmp/late.hvs:2: "*) [ "$rc" -eq 2 ] && echo "ok: late tunable reported as $err" || { echo "FAIL: rc=$rc"; fail=1; } ;;
  *) echo "FAIL: a tunable after an allocation not reported as FILE:2: ... (got '$err', rc=$rc)"; fail=1 ;;
esac

# Offsets must not depend on ASLR: the brk start is random (page aligned) in every run, and the
# runner aligns the heap start to the largest memalign alignment so big alignments stay stable.
printf 'a = malloc 24\nb = memalign 8192 100\nc = memalign 65536 5000\nd = memalign 4096 10\nfree b\ne = malloc 5000\n' > "$tmp/aslr.hvs"
first=$("$runner" "$tmp/aslr.hvs")
same=1
for i in 1 2 3 4 5 6 7 8; do
  [ "$("$runner" "$tmp/aslr.hvs")" = "$first" ] || same=0
done
if [ "$same" -ne 1 ] || [ -z "$first" ]; then
  echo "FAIL: memalign offsets change from run to run (ASLR)"; fail=1
else
  echo "ok: memalign 4096/8192/65536 offsets identical over 9 runs: $(echo $first)"
fi

printf 'a = malloc 24\nfree a\nfree a\n' > "$tmp/bad.hvs"
err=$("$runner" "$tmp/bad.hvs" 2>&1 >/dev/null); rc=$?
case "$err" in
  "$tmp/bad.hvs:3: "*) [ "$rc" -eq 2 ] && echo "ok: double free reported as $err" || { echo "FAIL: rc=$rc"; fail=1; } ;;
  *) echo "FAIL: double free not reported as FILE:3: ... (got '$err', rc=$rc)"; fail=1 ;;
esac

printf 'x = malloc 24\nfree y\n' > "$tmp/bad2.hvs"
err=$("$runner" "$tmp/bad2.hvs" 2>&1 >/dev/null); rc=$?
case "$err" in
  "$tmp/bad2.hvs:2: "*) [ "$rc" -eq 2 ] && echo "ok: unknown name reported as $err" || { echo "FAIL: rc=$rc"; fail=1; } ;;
  *) echo "FAIL: unknown name not reported as FILE:2: ... (got '$err', rc=$rc)"; fail=1 ;;
esac

[ "$fail" -eq 0 ] && echo "runner self-check passed"
exit "$fail"
