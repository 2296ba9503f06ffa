# lib.sh - what the record tests share (sourced, after they have read their arguments): a scratch
# directory they run in, removed at exit with any background job they left, and fail()/ok(),
# which print a line and count the failures in $fails.
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
ok() { echo "ok: $*"; }
