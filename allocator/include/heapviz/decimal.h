// decimal.h - unsigned numbers in decimal without stdio or allocation, for code that runs inside
// malloc or on its error paths (malloc_stats, a trace write failure, the live socket's name).
// Owns: put_decimal. Must not: allocate, lock, or touch errno.
#pragma once

#include <cstddef>

namespace hv {

// Writes v in decimal into out, NUL-terminated, at most cap - 1 digits (cap >= 21 always fits);
// returns the digits written.
inline size_t put_decimal(char* out, size_t cap, unsigned long v) {
  char tmp[24];
  size_t k = 0;
  do {
    tmp[k++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  size_t i = 0;
  for (; i < k && i + 1 < cap; ++i)
    out[i] = tmp[k - 1 - i];
  if (cap) out[i] = 0;
  return i;
}

} // namespace hv
