// released.h - the pages of the heap handed back to the system while they stay in it (glibc:
// madvise(MADV_DONTNEED) on the free chunks of malloc_trim, and on the tail of a heap it shrinks),
// until a byte of them is used again. Footprint minus these bytes is the resident estimate.
//
// Owns: ReleasedPages, a set of disjoint byte ranges in address order, and the model's rules for
// them (docs/trace-format.md, "Released pages"): a `release` event adds its range where it lies in
// a heap region; a chunk that becomes in use or a fence is resident again, every page of it; a
// chunk the allocator names in an event has the pages of its list words (kListBytes from its start)
// resident again; a region that shrinks or goes away forgets what lay past its new end.
// Must not: know chunks or events (HeapModel applies the rules, released.cpp, through these byte
// ranges), read files or draw.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>

namespace hv::model {

class ReleasedPages {
public:
  // The bytes of a free chunk the allocator writes while it stays free: glibc's header and list
  // pointers (prev_size, size, fd, bk, fd_nextsize, bk_nextsize: sizeof(struct malloc_chunk)),
  // which is also where malloc_trim's madvise may begin (mtrim: the first page at or past them).
  static constexpr uint64_t kListBytes = 48;

  // The trace's page size (a power of two; others leave it at 4096): what a touch makes
  // resident again.
  void set_page_size(uint64_t p) {
    if (p && !(p & (p - 1))) page_ = p;
  }
  uint64_t page_size() const { return page_; }
  bool empty() const { return ranges_.empty(); }
  uint64_t bytes() const { return bytes_; }
  size_t ranges() const { return ranges_.size(); }

  // [a, b) was handed back (joins what touches it).
  void add(uint64_t a, uint64_t b);
  // A byte of [a, b) was used: the pages holding any of them are resident again.
  void touch(uint64_t a, uint64_t b) {
    if (!ranges_.empty() && a < b) remove(a & ~(page_ - 1), (b + page_ - 1) & ~(page_ - 1));
  }
  // [a, b) left the heap (a region shrank or went away): not counted any more, to the byte.
  void forget(uint64_t a, uint64_t b) {
    if (!ranges_.empty() && a < b) remove(a, b);
  }
  void clear() {
    ranges_.clear();
    bytes_ = 0;
  }
  // Released bytes within [a, b).
  uint64_t bytes_in(uint64_t a, uint64_t b) const;
  // f(start, end) for each released range, clipped to [a, b), in address order.
  template <class F> void for_each_in(uint64_t a, uint64_t b, F&& f) const {
    if (a >= b) return;
    auto it = ranges_.upper_bound(a);
    if (it != ranges_.begin() && std::prev(it)->second > a) --it;
    for (; it != ranges_.end() && it->first < b; ++it)
      f(it->first < a ? a : it->first, it->second > b ? b : it->second);
  }

private:
  void remove(uint64_t a, uint64_t b);

  std::map<uint64_t, uint64_t> ranges_; // start -> end; disjoint, none touching the next
  uint64_t bytes_ = 0;
  uint64_t page_ = 4096;
};

} // namespace hv::model
