#!/usr/bin/env bash
# zstd_lazy_test.sh HEAPVIZ LIBDIR: libhvalloc.so loads libzstd only for a recording that
# compresses (issue 20, item 5): no libzstd in its DT_NEEDED; a process that does not record, or
# records uncompressed, maps no libzstd; HEAPVIZ_COMPRESS=3 maps it, writes zstd blocks, and the
# trace checks and replays like the uncompressed one.
set -u
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"
hv=$1
lib=$2/libhvalloc.so
if readelf -d "$lib" | grep -q 'NEEDED.*zstd'; then fail "libhvalloc.so needs libzstd: $(readelf -d "$lib" | grep NEEDED)"; else ok "no libzstd in DT_NEEDED"; fi
# The program reports its own mappings of libzstd (the shell's `grep` would report its own).
cat >"$tmp/maps.sh" <<'SH'
#!/bin/sh
n=0
while read -r line; do case "$line" in *zstd*) n=$((n + 1)) ;; esac; done </proc/$$/maps
echo "zstd mappings: $n"
SH
chmod +x "$tmp/maps.sh"
n=$(LD_PRELOAD=$lib "$tmp/maps.sh")
[ "$n" = "zstd mappings: 0" ] && ok "not recording: $n" || fail "not recording: $n"
n=$(LD_PRELOAD=$lib HEAPVIZ_OUT=$tmp/plain.hvt "$tmp/maps.sh")
[ "$n" = "zstd mappings: 0" ] && ok "recording uncompressed: $n" || fail "recording uncompressed: $n"
n=$(LD_PRELOAD=$lib HEAPVIZ_OUT=$tmp/z.hvt HEAPVIZ_COMPRESS=3 "$tmp/maps.sh")
[ "$n" != "zstd mappings: 0" ] && ok "HEAPVIZ_COMPRESS=3: $n" || fail "HEAPVIZ_COMPRESS=3 loaded no libzstd"
# A bigger program: compressed blocks, a valid trace, the same heap as the uncompressed one.
seq 20000 | shuf --random-source=<(yes) >"$tmp/in.txt"
HEAPVIZ_COMPRESS=3 HEAPVIZ_VERIFY=200 "$hv" record -o "$tmp/sz.hvt" -- sort -n "$tmp/in.txt" >/dev/null 2>"$tmp/err"
expect 0 ": ok: .* snapshots? verified" -- "$hv" check "$tmp/sz.hvt"
"$hv" record -o "$tmp/sp.hvt" -- sort -n "$tmp/in.txt" >/dev/null 2>&1
zs=$(stat -c %s "$tmp/sz.hvt")
ps=$(stat -c %s "$tmp/sp.hvt")
[ "$zs" -lt "$ps" ] && ok "compressed: $zs bytes, uncompressed $ps" || fail "not smaller: $zs vs $ps bytes"
finish
