// released.cpp - the released-page set (released.h) and the model's rules for it: the `release`
// event's handler and what a chunk's change makes resident again (HeapModel's hooks).
#include "model/released.h"

#include "model/heap_model.h"

#include <algorithm>

namespace hv::model {

void ReleasedPages::add(uint64_t a, uint64_t b) {
  if (a >= b) return;
  remove(a, b); // what of [a, b) was released already is counted once
  bytes_ += b - a;
  auto next = ranges_.lower_bound(a); // nothing starts inside [a, b) now
  if (next != ranges_.end() && next->first == b) {
    b = next->second;
    next = ranges_.erase(next);
  }
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (prev->second == a) {
      prev->second = b;
      return;
    }
  }
  ranges_.emplace_hint(next, a, b);
}

void ReleasedPages::remove(uint64_t a, uint64_t b) {
  auto it = ranges_.upper_bound(a);
  if (it != ranges_.begin() && std::prev(it)->second > a) --it;
  while (it != ranges_.end() && it->first < b) {
    uint64_t s = it->first, e = it->second;
    bytes_ -= std::min(e, b) - std::max(s, a);
    if (s < a) { // the part before [a, b) stays
      it->second = a;
      ++it;
    } else {
      it = ranges_.erase(it);
    }
    if (e > b) { // the part after it too; nothing further can overlap
      ranges_.emplace_hint(it, b, e);
      return;
    }
  }
}

uint64_t ReleasedPages::bytes_in(uint64_t a, uint64_t b) const {
  uint64_t n = 0;
  for_each_in(a, b, [&](uint64_t s, uint64_t e) { n += e - s; });
  return n;
}

// ---- The model's rules (HeapModel, heap_model.h) ---------------------------------------------

// A record just entered (HeapModel::enter) with released pages somewhere in the heap: a chunk
// handed to the program (or made a fence) is resident again, all of it, since the program may
// write any byte of it; any other chunk an event names (free, in a bin, in hand, top) has been
// written by the allocator in its list words only (a split's new chunk or a moved top may start
// inside a released page: that page comes back). Mmapped chunks lie outside the heap's regions.
void HeapModel::resident_again(const Chunk& c) {
  switch (ChunkState(c.state)) {
  case ChunkState::Mmapped:
    return;
  case ChunkState::InUse:
  case ChunkState::Fence:
    released_.touch(c.addr, c.addr + c.size);
    return;
  default:
    released_.touch(c.addr, c.addr + std::min(c.size, ReleasedPages::kListBytes));
    return;
  }
}

// Pages handed back (madvise). Only what lies in a heap region counts: the footprint holds it.
// A shrinking heap's tail is released and then leaves the region (heap_resize): it counts for
// no longer than that.
template <> void HeapModel::on<trace::Ev::Release>(const Event& e) {
  uint64_t a = e.addr, b = e.addr + e.size;
  if (b <= a) return;
  regions_.for_each([&](const Region& r) {
    uint64_t s = std::max(a, r.addr), t = std::min(b, r.addr + r.size);
    if (s < t) released_.add(s, t);
  });
}

} // namespace hv::model
