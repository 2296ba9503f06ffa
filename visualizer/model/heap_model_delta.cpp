// heap_model_delta.cpp - HeapModel's delta saves (heap_model.h: start_dirty_log, save_delta,
// apply_delta), which let a replay of a huge heap checkpoint often (replay.h).
//
// Owns: the dirty log's order (by home slot, repeats dropped), the delta's encoding, and its
// application onto a restored model.
// Must not: apply events, or save or restore whole tables (heap_model.cpp does).
//
// A delta: the addresses of the records changed since the save before it (8 bytes each), in
// home-slot order (the order of addr x FlatMap::kHashMul); then for each, a byte 1 and its fields
// (saved_codec.h) if it is there now, or a byte 0 if it is gone; then the bin lists
// (BinOrder::save). Applied in that order, the records are looked up slot after slot, not at
// random (1.4 M records take a table of 90 MB), and the slots of those a few entries on start
// loading meanwhile.
#include "heapviz/hv_assert.h"
#include "model/heap_model.h"
#include "model/saved_codec.h"

#include <algorithm>

namespace hv::model {

namespace {

constexpr uint64_t kMul = FlatMap<Chunk>::kHashMul;
constexpr uint64_t inverse(uint64_t a) { // of an odd a, modulo 2^64 (Newton's iteration)
  uint64_t x = a;
  for (int i = 0; i < 6; ++i)
    x *= 2 - a * x;
  return x;
}
constexpr uint64_t kMulInverse = inverse(kMul);
static_assert(kMul * kMulInverse == 1);

// The records this many entries ahead start loading (their slots lie far apart in a big table).
constexpr size_t kAhead = 16;

// Sorts the addresses in v by home slot and drops repeats: the products (a bijection of the
// addresses, spread evenly) go into buckets by their top bits, a bucket of a few dozen is sorted
// in the cache, and the products are turned back into addresses. tmp: scratch.
void sort_by_home(std::vector<uint64_t>& v, std::vector<uint64_t>& tmp) {
  size_t n = v.size();
  if (n == 0) return;
  HV_ASSERT_MSG(n < (uint64_t(1) << 32), "a dirty log past 2^32 entries (its cap is far below)");
  unsigned bits = 4;
  while (bits < 20 && (size_t(1) << (bits + 5)) < n)
    ++bits;
  std::vector<uint32_t> at((size_t(1) << bits) + 1, 0);
  for (uint64_t& a : v) {
    a *= kMul;
    ++at[(a >> (64 - bits)) + 1];
  }
  for (size_t b = 1; b < at.size(); ++b)
    at[b] += at[b - 1];
  tmp.resize(n);
  std::vector<uint32_t> fill(at.begin(), at.end() - 1);
  for (uint64_t h : v)
    tmp[fill[h >> (64 - bits)]++] = h;
  size_t out = 0;
  for (size_t b = 0; b + 1 < at.size(); ++b) {
    uint64_t* first = tmp.data() + at[b];
    uint64_t* last = tmp.data() + at[b + 1];
    std::sort(first, last);
    for (uint64_t* h = first; h < last; ++h)
      if (out == 0 || v[out - 1] != *h) v[out++] = *h;
  }
  v.resize(out);
  for (uint64_t& a : v)
    a *= kMulInverse;
}

} // namespace

void HeapModel::start_dirty_log(size_t cap) {
  dirty_seen_.assign(size_t(1) << kDirtySeenBits, 0);
  dirty_.clear();
  dirty_cap_ = cap;
  dirty_on_ = true;
}

HeapModel::Saved HeapModel::save_delta(ByteArena& arena) {
  HV_ASSERT_MSG(dirty_on_, "save_delta() without a dirty log since the save before");
  Saved s{static_cast<const HeapModelState&>(*this), chunks_.capacity(), chunks_.size(), nullptr, 0, {}};
  s.id = saved::next_id();
  s.delta = true;
  sort_by_home(dirty_, dirty_tmp_);
  size_t n = dirty_.size();
  uint8_t* p0 = arena.reserve(n * (8 + 1 + saved::kMaxRecord) + saved::kSlack + order_.max_saved_bytes());
  if (n) __builtin_memcpy(p0, dirty_.data(), n * 8);
  uint8_t* p = p0 + n * 8;
  uint64_t prev_seq = 0;
  for (uint64_t a : dirty_) {
    const Chunk* c = chunks_.find(a);
    *p++ = c != nullptr;
    if (c) p = saved::put_fields(p, *c, prev_seq);
  }
  s.entries = n;
  s.order_at = size_t(p - p0);
  s.bytes = size_t(order_.save(p) - p0);
  s.chunks = p0;
  arena.commit(s.bytes);
  dirty_.clear(); // the next delta's changes start here
  std::fill(dirty_seen_.begin(), dirty_seen_.end(), 0);
  return s;
}

void HeapModel::apply_delta(const Saved& s) {
  HV_ASSERT_MSG(s.delta, "apply_delta() of a full save");
  log_.on = false;
  undo_give_up();
  stop_dirty_log();
  static_cast<HeapModelState&>(*this) = s.state;
  const uint8_t* addrs = s.data();
  const uint8_t* p = addrs + s.entries * 8;
  auto addr_at = [addrs](size_t i) {
    uint64_t a;
    __builtin_memcpy(&a, addrs + i * 8, 8);
    return a;
  };
  uint64_t seq = 0;
  for (size_t i = 0; i < s.entries; ++i) {
    if (i + kAhead < s.entries) chunks_.prefetch(addr_at(i + kAhead));
    uint64_t a = addr_at(i);
    Chunk* live = chunks_.find(a);
    if (live && trace::is_binned(live->state)) free_sizes_.remove(live->size);
    if (*p++ == 0) { // gone (or made and gone again since the save before)
      if (live) chunks_.erase(live);
      continue;
    }
    Chunk c{};
    c.addr = a;
    p = saved::get_fields(p, c, seq);
    if (live) {
      *live = c;
    } else {
      bool created;
      chunks_.insert(a, created) = c;
    }
    if (trace::is_binned(c.state)) free_sizes_.add(c.size);
  }
  HV_ASSERT(size_t(p - s.data()) == s.order_at);
  p = order_.restore(p, [this](uint64_t a) {
    const Chunk* c = chunks_.find(a);
    return c ? c->size : 0;
  });
  HV_ASSERT(size_t(p - s.data()) == s.bytes);
  HV_ASSERT(chunks_.size() == s.count);
}

} // namespace hv::model
