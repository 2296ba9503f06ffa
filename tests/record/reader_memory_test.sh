#!/usr/bin/env bash
# reader_memory_test.sh HEAPVIZ CHURN: the CLI readers keep a bounded part of a trace resident
# (issue 20, item 3): on a recorded trace of more than 128 MiB, `check`, `stats`, `dump` and
# `sites` peak at most 64 MiB above what they peak at on a small trace of the same program (the
# model is the same size: the heap is), while reading all of it.
set -u
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"
hv=$1
churn=$2
"$hv" record --no-stacks -o "$tmp/small.hvt" -- "$churn" 20000 2>/dev/null
"$hv" record --no-stacks -o "$tmp/big.hvt" -- "$churn" 14000000 2>/dev/null
size=$(stat -c %s "$tmp/big.hvt")
[ "$size" -gt $((128 << 20)) ] && ok "big trace: $((size >> 20)) MiB" || fail "big trace only $size bytes"
peak_kib() { # the command's peak resident set (KiB), from the kernel's accounting
  /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
}
for cmd in check stats "dump --kind error" "sites --top 3"; do
  # shellcheck disable=SC2086 # cmd holds a command and its options
  small=$(peak_kib "$hv" $cmd "$tmp/small.hvt")
  # shellcheck disable=SC2086
  big=$(peak_kib "$hv" $cmd "$tmp/big.hvt")
  if [ -n "$small" ] && [ -n "$big" ] && [ "$big" -le $((small + 64 * 1024)) ]; then
    ok "$cmd: peak $((big >> 10)) MiB on $((size >> 20)) MiB ($((small >> 10)) MiB on the small trace)"
  else
    fail "$cmd: peak ${big:-?} KiB on the big trace, ${small:-?} KiB on the small one (limit: +64 MiB)"
  fi
done
# The whole trace was read: the counts agree with the program's calls.
"$hv" stats "$tmp/big.hvt" | grep -q "^calls: *malloc 14000000, free 14000256" && ok "stats read every call" ||
  fail "stats: $("$hv" stats "$tmp/big.hvt" | grep calls)"
finish
