#!/bin/sh
# Bench.WorkloadsRunUnderPreload: run each benchmark workload with tiny parameters natively and
# with LIB preloaded; the checksums must be equal (correctness only, timings are ignored).
#   check_workloads.sh LIB WORKLOAD_BINARY ARGS [WORKLOAD_BINARY ARGS ...]
set -u
lib=${1:?usage: check_workloads.sh LIB BIN ARGS [BIN ARGS ...]}
shift
real=$(readlink -f "$lib")
unset LD_PRELOAD GLIBC_TUNABLES
if ! LD_PRELOAD="$lib" /bin/cat /proc/self/maps 2>&1 | grep -qF "$real"; then
  echo "FAIL: $lib is not loaded by LD_PRELOAD"
  exit 1
fi
fail=0
while [ $# -ge 2 ]; do
  bin=$1 args=$2
  shift 2
  name=$(basename "$bin")
  # shellcheck disable=SC2086
  a=$("$bin" $args) || { echo "FAIL: $name (native) exited with $?"; fail=1; continue; }
  # shellcheck disable=SC2086
  b=$(LD_PRELOAD="$lib" "$bin" $args) || { echo "FAIL: $name (preloaded) exited with $?"; fail=1; continue; }
  ca=$(echo "$a" | sed -n 's/.* checksum=\([0-9a-f]*\) .*/\1/p')
  cb=$(echo "$b" | sed -n 's/.* checksum=\([0-9a-f]*\) .*/\1/p')
  if [ -z "$ca" ] || [ "$ca" != "$cb" ]; then
    echo "FAIL: $name checksums differ: native '$ca' preloaded '$cb'"
    fail=1
  else
    echo "ok: $name $args checksum $ca (native and preloaded)"
  fi
done
[ "$fail" -eq 0 ] && echo "all workloads agree under $(basename "$lib")"
exit "$fail"
