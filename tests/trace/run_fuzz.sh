#!/usr/bin/env bash
# run_fuzz.sh FUZZER SEED_DIR ARTIFACT_DIR SECONDS: runs the libFuzzer target for a bounded time
# on a scratch copy of the seed corpus; fails on any crash, leak, timeout or out-of-memory.
set -u
fuzzer=$1 seeds=$2 artifacts=$3 seconds=$4
if [ ! -x "$fuzzer" ]; then
  echo "Fuzz.TraceReader: $fuzzer was not built (clang++ with libFuzzer is needed: run scripts/bootstrap)" >&2
  exit 1
fi
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
nseeds=$(find "$seeds" -maxdepth 1 -name '*.hvt' 2>/dev/null | wc -l)
if [ "$nseeds" -lt 10 ]; then
  echo "Fuzz.TraceReader: $seeds holds $nseeds seed traces (hv_make_traces DIR --small writes 16): a fuzzer without seeds barely gets past the header" >&2
  exit 1
fi
cp "$seeds"/*.hvt "$corpus"/ || exit 1
mkdir -p "$artifacts"
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=10 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus"
status=$?
if [ $status -ne 0 ]; then
  echo "Fuzz.TraceReader: the fuzzer failed (status $status); reproducer in $artifacts/" >&2
  exit 1
fi
echo "Fuzz.TraceReader: no crash, leak or timeout in ${seconds}s"
