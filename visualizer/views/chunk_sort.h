// chunk_sort.h - a heap model's chunk records in address order, for the map's picture
// (chunk_layout.cpp): the first half of every whole build of the picture.
//
// Owns: collecting the records from the model's table, sorting them by address (addr_sort.h)
// and gathering them in that order; on a heap of kTwoCores records or more, on two threads: each
// sorts the records of half the table, and each writes half of the result, merged.
// Must not: keep anything between calls but its scratch space, or know what the picture is.
#pragma once

#include "model/flat_map.h"
#include "model/heap_model.h"

#include <cstdint>
#include <vector>

namespace hv::views {

// Memory for a heap's worth of records, on huge pages (model::HugePageAllocator): a vector that
// grows past its capacity when the heap does faults its fresh pages in, ~3 ms/MB on 4 KiB pages
// here (a picture of 1.3 M chunks took 233 ms so instead of 65).
template <class T> using HugeVector = std::vector<T, model::HugePageAllocator<T>>;
// Room for n: kept when it is there, else an eighth more than n. (A reserve of n every time
// reallocated a vector that held n but not its headroom, into fresh memory: a picture of 1.3 M
// chunks took 132 ms so instead of 47-55.)
template <class T> void reserve_with_headroom(HugeVector<T>& v, size_t n) {
  if (v.capacity() < n) v.reserve(n + n / 8);
}

// Kept by the caller between calls: fresh pages are slow to fault in (tens of MB with a million
// chunks), reused ones are not.
struct ChunkSortScratch {
  HugeVector<model::Chunk> all[2];      // the records of each half of the table, in table order
  HugeVector<uint64_t> addr[2];         // their addresses
  HugeVector<uint32_t> order[2];        // all[h][order[h][i]]: the half's i-th by address
  HugeVector<uint64_t> keys[2], tmp[2]; // addr_sort's
};

// Heaps of this many chunk records or more are sorted on two threads: a thread costs about
// 0.1 ms, a heap of 32 768 records about 2 ms on one.
inline constexpr size_t kTwoCores = size_t(1) << 15;

// out = every chunk record of m, in address order.
void sorted_chunks(const model::HeapModel& m, HugeVector<model::Chunk>& out, ChunkSortScratch& s);

} // namespace hv::views
