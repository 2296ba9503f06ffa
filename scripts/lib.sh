# shellcheck shell=bash
# Common part of scripts/test and scripts/run: install packages, configure, build.
# Knobs (environment): HV_BUILD_DIR (default build), HV_BUILD_TYPE (default Release; only used
# when the build dir is configured for the first time), HV_JOBS (default 2), HV_NO_BUILD=1 (use
# the build as it is: for tests that run scripts/run inside an already built tree).

HV_ORIG_PWD="$PWD"
HV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
HV_BUILD_DIR="${HV_BUILD_DIR:-build}"
HV_JOBS="${HV_JOBS:-2}"
export HV_ORIG_PWD HV_ROOT HV_BUILD_DIR HV_JOBS

# Leaves the caller in the repo root with an up-to-date build in $HV_BUILD_DIR.
hv_bootstrap_and_build() {
  cd "$HV_ROOT" || return 1
  [ "${HV_NO_BUILD:-}" = 1 ] && return 0
  bash scripts/bootstrap
  if [ -f "$HV_BUILD_DIR/CMakeCache.txt" ]; then
    # Existing build dir: keep its generator, build type and other cached settings.
    cmake -S . -B "$HV_BUILD_DIR"
  else
    cmake -S . -B "$HV_BUILD_DIR" -DCMAKE_BUILD_TYPE="${HV_BUILD_TYPE:-Release}"
  fi
  cmake --build "$HV_BUILD_DIR" -j"$HV_JOBS"
}
