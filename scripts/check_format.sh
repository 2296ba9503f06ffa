#!/usr/bin/env bash
# check_format.sh - every tracked .c/.cpp/.h file is clean under clang-format-14 with the repo's
# .clang-format (ctest Lint.ClangFormatClean, label lint).
#
# Prints each file that is not, and the command that formats them; exits 1 then, 0 when all are
# clean, 2 when clang-format-14 is missing. Outside a git checkout it checks every such file under
# allocator/, visualizer/, tests/ and bench/. Must not: change a file.
#
# Usage: scripts/check_format.sh [REPO_ROOT]     (CLANG_FORMAT overrides the binary)
set -uo pipefail

root=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"}
cd "$root" || exit 2
cf=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$cf" >/dev/null 2>&1; then
  echo "check_format: $cf not found: run scripts/bootstrap (it installs clang-format-14)" >&2
  exit 2
fi

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' files < <(git ls-files -z -- '*.c' '*.cpp' '*.h')
else
  mapfile -d '' files < <(find allocator visualizer tests bench -type f \
    \( -name '*.c' -o -name '*.cpp' -o -name '*.h' \) -print0 | sort -z)
fi

bad=()
for f in "${files[@]}"; do
  "$cf" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done

if [ "${#bad[@]}" -ne 0 ]; then
  echo "check_format: ${#bad[@]} of ${#files[@]} files are not clang-format clean:"
  printf '  %s\n' "${bad[@]}"
  echo "fix with: $cf -i ${bad[*]}"
  exit 1
fi
echo "check_format: ${#files[@]} files clean under $cf"
