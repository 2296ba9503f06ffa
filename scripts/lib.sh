# shellcheck shell=bash
# Common part of scripts/test and scripts/run: install packages, configure, build.
# Knobs (environment): HV_BUILD_DIR (default build), HV_BUILD_TYPE (default Release; only used
# when the build dir is configured for the first time), HV_JOBS (default 2), HV_NO_BUILD=1 (use
# the build as it is: for tests that run scripts/run inside an already built tree), HV_CCACHE=0
# (do not compile through ccache even when it is installed; only read when a build dir is
# configured for the first time).

HV_ORIG_PWD="$PWD"
HV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
HV_BUILD_DIR="${HV_BUILD_DIR:-build}"
HV_JOBS="${HV_JOBS:-2}"
export HV_ORIG_PWD HV_ROOT HV_BUILD_DIR HV_JOBS

# ccache, when installed (scripts/bootstrap installs it) and not turned off: paths under the
# repository are hashed relative to it, so worktrees and fresh clones share the cache.
if [ "${HV_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$HV_ROOT}"
  HV_LAUNCHER_ARGS=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
else
  HV_LAUNCHER_ARGS=()
fi

# hv_configure DIR FIRST_ARGS... [-- ARGS...]: configures DIR (relative to the repo root).
# FIRST_ARGS (generator, compilers, build type) only when DIR has no CMakeCache.txt yet: an
# existing build dir keeps its generator, compilers and cached settings. ARGS every time.
hv_configure() {
  local dir=$1
  shift
  local first=() always=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    first+=("$1")
    shift
  done
  [ "$#" -gt 0 ] && shift
  always=("$@")
  if [ -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" "${always[@]}"
  else
    cmake -S . -B "$dir" "${first[@]}" "${HV_LAUNCHER_ARGS[@]}" "${always[@]}"
  fi
}

# Leaves the caller in the repo root with an up-to-date build in $HV_BUILD_DIR.
hv_bootstrap_and_build() {
  cd "$HV_ROOT" || return 1
  [ "${HV_NO_BUILD:-}" = 1 ] && return 0
  bash scripts/bootstrap
  hv_configure "$HV_BUILD_DIR" -DCMAKE_BUILD_TYPE="${HV_BUILD_TYPE:-Release}"
  cmake --build "$HV_BUILD_DIR" -j"$HV_JOBS"
}
