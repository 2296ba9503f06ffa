#!/usr/bin/env bash
# expect_abort.sh LIB PROBE MODE REGEX: the probe must die of SIGABRT with REGEX on stderr.
set -u
lib=$1 probe=$2 mode=$3 regex=$4
err=$(LD_PRELOAD="$lib" "$probe" "$mode" 2>&1 >/dev/null)
status=$?
if [ "$status" -ne 134 ]; then
  echo "expected abort (status 134), got $status; stderr: $err"
  exit 1
fi
if ! grep -Eq "$regex" <<<"$err"; then
  echo "stderr does not match /$regex/: $err"
  exit 1
fi
echo "aborted as expected: $(head -1 <<<"$err")"
