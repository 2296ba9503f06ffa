# tests/lib.sh - what the shell tests share: ok/fail counting, a temporary directory removed at
# exit, and `expect STATUS PATTERN -- COMMAND...` (the status, and an extended regex that the
# command's stderr+stdout must match). Source it, then end the test with `finish`.
# Must not: know any heapviz command.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
# expect STATUS PATTERN -- COMMAND...: runs it; its status must be STATUS and its output
# (stdout and stderr together) must match PATTERN (grep -E; "" matches anything).
expect() {
  local want=$1 pattern=$2
  shift 3
  local got=0
  "$@" >"$tmp/expect.out" 2>&1 || got=$?
  if [ "$got" -ne "$want" ]; then
    fail "$* -> status $got (want $want): $(head -5 "$tmp/expect.out")"
  elif [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$tmp/expect.out"; then
    fail "$* -> output does not match /$pattern/: $(head -5 "$tmp/expect.out")"
  else
    ok "$* -> $got"
  fi
}
finish() {
  if [ "$fails" -ne 0 ]; then
    echo "$fails failed"
    exit 1
  fi
  echo "all passed"
}
