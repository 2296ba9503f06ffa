// group_summary.cpp - see group_summary.h.
#include "analysis/group_summary.h"

#include <bit>

namespace hv::analysis {

namespace {

// Two sizes of key: 256-byte granules for chunks up to 4 KiB, 64 KiB regions up to 2 MiB;
// anything larger makes the whole group a "maybe" (huge_). (A level of 4 KiB pages between them
// let more groups through on bench_query's churn: more keys, more false "maybe"s.)
struct Level {
  unsigned shift;
  uint64_t max_keys, tag;
};
constexpr Level kLevels[] = {{8, 16, 0}, {16, 32, 0x5bd1e9955bd1e995ull}};

// A granule, page or region number to a bit of the filter (each level tagged apart).
uint64_t key_of(uint64_t unit, uint64_t tag) {
  uint64_t h = (unit ^ tag) * 0x9E3779B97F4A7C15ull;
  return (h >> 40) % GroupSummary::kBloomBits;
}

// Sizes by bit width and the two bits below the top one: four buckets per power of two.
unsigned size_bucket(uint64_t s) {
  unsigned w = unsigned(std::bit_width(s));
  unsigned sub = w >= 3 ? unsigned(s >> (w - 3)) & 3 : 0;
  return (w > 63 ? 63 : w) * 4 + sub;
}
unsigned thread_bit(uint32_t tid) {
  return unsigned((uint64_t(tid) * 0x9E3779B97F4A7C15ull) >> 58);
}

} // namespace

void GroupSummary::add_range(uint64_t lo, uint64_t hi) {
  if (hi <= lo) return;
  for (const Level& l : kLevels) {
    uint64_t u0 = lo >> l.shift, u1 = (hi - 1) >> l.shift;
    if (u1 - u0 >= l.max_keys) continue;
    for (uint64_t u = u0; u <= u1; ++u)
      set(key_of(u, l.tag));
    return;
  }
  huge_ = true;
}

void GroupSummary::add(const Event& e) {
  AddrRange r[kMaxFootprint];
  for (int k = 0, n = footprint(e, r); k < n; ++k)
    add_range(r[k].lo, r[k].hi);
  for (uint64_t sz : {e.size, e.size2}) {
    unsigned b = size_bucket(sz);
    sizes_[b / 64] |= 1ull << (b % 64);
  }
  threads_ |= 1ull << thread_bit(e.tid);
}

bool GroupSummary::may_touch(uint64_t a) const {
  if (huge_) return true;
  for (const Level& l : kLevels)
    if (test(key_of(a >> l.shift, l.tag))) return true;
  return false;
}

bool GroupSummary::may_match(const Filter& f) const {
  if (f.has_tid && !(threads_ & (1ull << thread_bit(f.tid)))) return false;
  if (f.has_size) {
    bool any = false;
    for (unsigned b = size_bucket(f.size_lo), end = size_bucket(f.size_hi); b <= end && !any; ++b)
      any = sizes_[b / 64] & (1ull << (b % 64));
    if (!any) return false;
  }
  return !f.has_addr || may_touch(f.addr);
}

} // namespace hv::analysis
