// byte_arena.cpp - slabs for ByteArena (see byte_arena.h).
#include "model/byte_arena.h"

#include <new>
#include <sys/mman.h>

namespace hv::model {

ByteArena::~ByteArena() {
  for (const Slab& s : slabs_)
    munmap(s.map, s.len);
}

void ByteArena::grow(size_t min) {
  for (; next_ < slabs_.size(); ++next_) // a slab kept by clear()
    if (slabs_[next_].size >= min) {
      cur_ = slabs_[next_].start;
      end_ = cur_ + slabs_[next_].size;
      ++next_;
      return;
    }
  size_t want = round_to_huge_pages(min);
  if (want < kSlab) want = kSlab;
  size_t len = want + kHugePage; // room to align the start to 2 MiB
  void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  uintptr_t a = (reinterpret_cast<uintptr_t>(m) + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
  uint8_t* start = reinterpret_cast<uint8_t*>(a);
#ifdef MADV_HUGEPAGE
  madvise(start, want, MADV_HUGEPAGE); // advice only: no THP, ordinary pages
#endif
  slabs_.push_back(Slab{m, len, start, want});
  next_ = slabs_.size();
  mapped_ += len;
  cur_ = start;
  end_ = start + want;
}

} // namespace hv::model
