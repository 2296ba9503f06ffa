#!/usr/bin/env bash
# tunables_env_test.sh RUNNER LIBHVALLOC: libhvalloc.so reads GLIBC_TUNABLES and the MALLOC_*_
# aliases as glibc 2.36's ld.so does (allocator/src/tunables.h): for each environment below, one
# scenario run by hv_glibc_runner --keep-env on the system glibc and on libhvalloc.so must give
# the same offsets. The scenario's offsets depend on tcache_count, top_pad, mmap_threshold and
# mmap_max, so each environment also says whether glibc's layout differs from the default one
# (a setting that no allocator applied would pass the comparison unnoticed).
set -u
runner=${1:?usage: tunables_env_test.sh RUNNER LIBHVALLOC}
lib=${2:?usage: tunables_env_test.sh RUNNER LIBHVALLOC}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hv-tunables-env.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0

cat >"$tmp/s.hvs" <<'EOF'
a = malloc 200
free a               # tcache, or (tcache_count=0) merged into top
b = malloc 300       # after a, or at a's offset
c = malloc 131072    # fits in top with the default top_pad: heap; else mmap
d = malloc 200000    # above the threshold and top: mmap, unless threshold or mmap_max say no
e = malloc 24
EOF

clean() { env -u LD_PRELOAD -u GLIBC_TUNABLES $(env | sed -n 's/^\(MALLOC_[^=]*\)=.*/-u \1/p') "$@"; }
base=$(clean "$runner" --keep-env "$tmp/s.hvs")

# check WANT(same|differs) LABEL ENV...: glibc and libhvalloc agree; glibc's layout vs the default.
check() {
  local want=$1 label=$2
  shift 2
  local g h
  g=$(clean env "$@" "$runner" --keep-env "$tmp/s.hvs" 2>&1)
  h=$(clean env "$@" LD_PRELOAD="$lib" "$runner" --keep-env "$tmp/s.hvs" 2>&1)
  local got=same
  [ "$g" != "$base" ] && got=differs
  if [ "$g" != "$h" ]; then
    echo "FAIL: $label: libhvalloc differs from glibc"
    diff <(echo "$g") <(echo "$h") | sed 's/^/    /'
    fails=$((fails + 1))
  elif [ "$got" != "$want" ]; then
    echo "FAIL: $label: glibc's layout $got from the default one (expected $want): $(echo $g)"
    fails=$((fails + 1))
  else
    echo "ok: $label ($got): $(echo $g)"
  fi
}

check same "no tunables"
check differs "GLIBC_TUNABLES tcache_count=0" GLIBC_TUNABLES=glibc.malloc.tcache_count=0
check differs "alias MALLOC_TOP_PAD_=0" MALLOC_TOP_PAD_=0
check differs "alias in hex: MALLOC_MMAP_THRESHOLD_=0x40000" MALLOC_MMAP_THRESHOLD_=0x40000
check same "octal: MALLOC_MMAP_THRESHOLD_=0400000 is 131072, not 400000" MALLOC_MMAP_THRESHOLD_=0400000
check differs "octal in GLIBC_TUNABLES: mmap_threshold=01000000 (262144)" \
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=01000000
check same "GLIBC_TUNABLES wins over an alias set before it" \
  MALLOC_TOP_PAD_=0 GLIBC_TUNABLES=glibc.malloc.top_pad=0x20000
check same "GLIBC_TUNABLES wins over an alias set after it" \
  GLIBC_TUNABLES=glibc.malloc.top_pad=0x20000 MALLOC_TOP_PAD_=0
check differs "a dropped tunable (mmap_max=-1) leaves the alias (MALLOC_MMAP_MAX_=0)" \
  GLIBC_TUNABLES=glibc.malloc.mmap_max=-1 MALLOC_MMAP_MAX_=0
check same "the last entry wins, and malloc ignores tcache_count 65536" \
  GLIBC_TUNABLES=junk:glibc.malloc.mxfast:glibc.malloc.tcache_count=0:foo=1:glibc.malloc.tcache_count=0x10000
check differs "several tunables, skipping unknown ones" \
  GLIBC_TUNABLES=glibc.rtld.nns=2:glibc.malloc.tcache_count=0:glibc.malloc.top_pad=0:glibc.malloc.mmap_max=0
check same "out of ld.so's bounds: perturb=256, arena_max=0" \
  GLIBC_TUNABLES=glibc.malloc.perturb=256:glibc.malloc.arena_max=0 MALLOC_ARENA_TEST=0

[ "$fails" -eq 0 ] && echo "libhvalloc reads the tunables as glibc does"
exit $((fails > 0))
