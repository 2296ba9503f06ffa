// byte_arena.h - a bump allocator for the replay's checkpoints, over 2 MiB-aligned anonymous
// mappings advised MADV_HUGEPAGE.
//
// Owns: its slabs (unmapped when the arena dies) and where the next bytes go. Touching fresh 4 KiB
// pages costs ~3 ms/MB here (a fault each); a transparent huge page is one fault for 2 MiB, ~50
// times cheaper per byte. Without THP the slabs are ordinary pages and nothing else changes.
// Must not: free single allocations (everything lives as long as the arena).
#pragma once

#include "heapviz/hv_assert.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hv::model {

// A transparent huge page (x86-64), and n rounded up to whole ones.
inline constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t round_to_huge_pages(size_t n) {
  return (n + kHugePage - 1) / kHugePage * kHugePage;
}

class ByteArena {
public:
  ByteArena() = default;
  ~ByteArena();
  ByteArena(const ByteArena&) = delete;
  ByteArena& operator=(const ByteArena&) = delete;

  // Room for at most max bytes, to be followed by commit(used <= max): a writer that only knows
  // an upper bound writes in place and gives back the rest.
  uint8_t* reserve(size_t max) {
    if (size_t(end_ - cur_) < max) grow(max);
    return cur_;
  }
  void commit(size_t used) {
    HV_ASSERT_MSG(used <= size_t(end_ - cur_), "commit() of more bytes than reserve() gave");
    cur_ += used;
    used_ += used;
  }
  // Forgets every allocation and keeps the slabs for the next writers: their pages stay touched.
  void clear() {
    next_ = 0;
    cur_ = end_ = nullptr;
    used_ = 0;
  }
  size_t mapped() const { return mapped_; }
  size_t used() const { return used_; } // bytes committed (what the writers wrote)

private:
  static constexpr size_t kSlab = size_t(8) << 20;
  void grow(size_t min);

  struct Slab {
    void* map;
    size_t len;
    uint8_t* start; // 2 MiB aligned
    size_t size;    // usable bytes from start
  };
  std::vector<Slab> slabs_;
  size_t next_ = 0; // the slab grow() tries next (after a clear(): the first)
  uint8_t* cur_ = nullptr;
  uint8_t* end_ = nullptr;
  size_t mapped_ = 0;
  size_t used_ = 0;
};

} // namespace hv::model
