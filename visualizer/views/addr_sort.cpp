// addr_sort.cpp - the order of chunks by address (see addr_sort.h).
#include "views/addr_sort.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace hv::views {

// LSD radix sort of n words on their bits [from, from + bits), in digits of at most 11 bits (few
// enough buckets for the scatter to stay in the cache), every pass's histogram counted in one
// read. The result ends in a (b is scratch space of n words).
static void radix_words(uint64_t* a, uint64_t* b, size_t n, unsigned from, unsigned bits) {
  unsigned passes = (bits + 10) / 11, digit = (bits + passes - 1) / passes;
  uint64_t mask = (uint64_t(1) << digit) - 1;
  size_t buckets = size_t(1) << digit;
  std::vector<uint32_t> count(passes * buckets);
  for (size_t i = 0; i < n; ++i)
    for (unsigned p = 0; p < passes; ++p)
      ++count[p * buckets + ((a[i] >> (from + p * digit)) & mask)];
  for (unsigned p = 0; p < passes; ++p) {
    uint32_t sum = 0;
    for (size_t d = 0; d < buckets; ++d) {
      uint32_t c = count[p * buckets + d];
      count[p * buckets + d] = sum;
      sum += c;
    }
  }
  for (unsigned p = 0; p < passes; ++p) {
    unsigned shift = from + p * digit;
    uint32_t* at = &count[p * buckets];
    for (size_t i = 0; i < n; ++i)
      b[at[(a[i] >> shift) & mask]++] = a[i];
    std::swap(a, b);
  }
  if (passes % 2) std::memcpy(b, a, n * sizeof *a); // a and b were swapped: the result is in b
}

// Sorts idx[0, n) (indices into addr) by address. The sort moves 8-byte words, an index packed
// under the bits of its address that vary (chunks are 16-aligned, and a heap spans far less than
// 2^64). Addresses that vary in more bits than three digits hold, or too many to share a word
// with an index (the sbrk heap near 0x55..., mmapped chunks near 0x7f...), are split at their
// highest varying bit first, and each part is sorted on its own.
static void sort_indices(const uint64_t* addr, uint32_t* idx, size_t n, unsigned idx_bits, uint64_t* keys,
                         uint64_t* tmp) {
  if (n < 256) {
    std::sort(idx, idx + n, [addr](uint32_t a, uint32_t b) { return addr[a] < addr[b]; });
    return;
  }
  uint64_t lo = UINT64_MAX, hi = 0, any = 0;
  for (size_t i = 0; i < n; ++i) {
    lo = std::min(lo, addr[idx[i]]);
    hi = std::max(hi, addr[idx[i]]);
  }
  for (size_t i = 0; i < n; ++i)
    any |= addr[idx[i]] - lo;
  if (!any) return; // one address (a table never holds two records of it)
  unsigned low = unsigned(__builtin_ctzll(any));
  unsigned bits = 64 - unsigned(__builtin_clzll((hi - lo) >> low));
  if (bits + idx_bits > 64 || bits > 3 * 11) {
    uint64_t top = uint64_t(1) << (low + bits - 1);
    uint32_t* mid = std::partition(idx, idx + n, [&](uint32_t i) { return ((addr[i] - lo) & top) == 0; });
    size_t k = size_t(mid - idx);
    sort_indices(addr, idx, k, idx_bits, keys, tmp);
    sort_indices(addr, mid, n - k, idx_bits, keys, tmp);
    return;
  }
  for (size_t i = 0; i < n; ++i)
    keys[i] = (((addr[idx[i]] - lo) >> low) << idx_bits) | idx[i];
  radix_words(keys, tmp, n, idx_bits, bits);
  uint64_t imask = (uint64_t(1) << idx_bits) - 1;
  for (size_t i = 0; i < n; ++i)
    idx[i] = uint32_t(keys[i] & imask);
}

void sort_by_address(const uint64_t* addr, size_t n, uint32_t* order, uint64_t* keys, uint64_t* tmp) {
  for (size_t i = 0; i < n; ++i)
    order[i] = uint32_t(i);
  if (n < 2) return;
  unsigned idx_bits = 64 - unsigned(__builtin_clzll(uint64_t(n - 1)));
  sort_indices(addr, order, n, idx_bits, keys, tmp);
}

} // namespace hv::views
