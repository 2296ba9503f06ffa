// addr_sort.h - the order of a heap's chunks by address, for the map's picture (chunk_layout.cpp).
//
// Owns: a radix sort of indices by 64-bit address that moves 8-byte words (an index packed under
// the address bits that vary), never the 40-byte chunk records: a million chunks sort in a few
// passes over 8 MB instead of 40 MB each.
// Must not: know what a chunk is (it sees addresses only), or allocate per element.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hv::views {

// order[0, n) = the indices 0..n-1 ordered by addr[index] (distinct addresses, n < 2^32).
// keys[0, n) and tmp[0, n) are scratch space, kept by the caller between calls (fresh memory is
// slow to touch).
void sort_by_address(const uint64_t* addr, size_t n, uint32_t* order, uint64_t* keys, uint64_t* tmp);

} // namespace hv::views
