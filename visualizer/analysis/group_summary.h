// group_summary.h - what a group of consecutive events may match, in about two kilobytes: the
// addresses its events touch (a Bloom filter of 256-byte granules, or 64 KiB regions for chunks
// over 4 KiB), the sizes they carry (four buckets per power of two) and their threads
// (hashed to 64 bits).
//
// Owns: GroupSummary (filled by the loading pass, one per EventIndex group) and its test
// may_match(): false only when no event of the group can match the filter (never a false "no":
// the address part is built from footprint(), which covers every address touches() accepts).
// Must not: keep events or their positions (that is session::EventIndex), or decide a match
// (analysis::matches() does, on the events a scan reads).
#pragma once

#include "analysis/event_query.h"

#include <array>
#include <cstdint>

namespace hv::analysis {

class GroupSummary {
public:
  static constexpr unsigned kBloomBits = 16384; // per group of 4096 events: 0.5 byte an event
  void add(const Event& e);
  // Whether an event of the group may match f's address, size and thread parts (its kinds are
  // the caller's: EventIndex keeps them per group).
  bool may_match(const Filter& f) const;
  // The address part alone: an event of the group may touch() a.
  bool may_touch(uint64_t a) const;

private:
  void add_range(uint64_t lo, uint64_t hi);
  void set(uint64_t key) { bloom_[(key >> 6) % bloom_.size()] |= 1ull << (key & 63); }
  bool test(uint64_t key) const { return bloom_[(key >> 6) % bloom_.size()] & (1ull << (key & 63)); }

  std::array<uint64_t, kBloomBits / 64> bloom_{};
  uint64_t sizes_[4] = {}; // bit 4w+s: a size (or second size) of bit width w, next bits s
  uint64_t threads_ = 0;   // bit thread_bit(tid)
  bool huge_ = false;      // an event spans more than the coarse keys cover: every address may match
};

} // namespace hv::analysis
