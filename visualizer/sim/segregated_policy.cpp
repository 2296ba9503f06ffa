// segregated_policy.cpp - segregated free lists: size classes of powers of two from 32 bytes to
// 1 MiB, each with its own LIFO free list; a class with none grows the heap by one block.
// docs/policies.md states its rules.
//
// Owns: the headers in simulated memory (word 0: size | 1 while in use), the program break, the
// lists (per class a vector whose back is the head), the checker (S1-S2) and the events.
// Must not: split, merge or shrink: a block keeps its class for good.
#include "sim/textbook.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace hv::sim {
namespace {

using trace::BinKind;
using trace::ChunkState;

constexpr unsigned kMinOrder = 5, kMaxOrder = 20; // 32 bytes .. 1 MiB
constexpr uint64_t kMaxHeap = 1ull << 30;
constexpr uint64_t kNone = UINT64_MAX;

unsigned order_of(uint64_t size) {
  return unsigned(63 - __builtin_clzll(size));
}

// The class of a request: the smallest power of two >= max(32, n + 16); 0 above 1 MiB.
uint64_t class_of(uint64_t n) {
  if (n > (uint64_t(1) << kMaxOrder) - 16) return 0;
  uint64_t s = 32;
  while (s < n + 16)
    s <<= 1;
  return s;
}

class SegregatedPolicy final : public TextbookPolicy {
public:
  SegregatedPolicy() : TextbookPolicy("segregated", kMaxHeap), free_(kMaxOrder + 1) {}

  size_t usable_size(void* p) override { return p ? size(ptr_off(p) - kHeader) - kHeader : 0; }

  std::vector<ChunkRow> walk() override {
    std::vector<ChunkRow> rows;
    for (uint64_t o = 0; o < brk_; o += size(o)) {
      const bool u = used(o);
      rows.push_back(
          {o, size(o), u ? ChunkState::InUse : ChunkState::Fast, u ? 0 : order_of(size(o)), false, 0});
    }
    return rows;
  }

  std::vector<BinListRow> bin_lists() override {
    std::vector<BinListRow> lists;
    for (unsigned k = kMinOrder; k <= kMaxOrder; ++k)
      if (!free_[k].empty())
        lists.push_back({BinKind::Fast, k, {free_[k].rbegin(), free_[k].rend()}, 0, 0, {}});
    return lists;
  }

  HeapSummary summary() override { return HeapSummary{brk_, 0}; }

  std::string check() override {
    char buf[160];
    auto bad = [&](const char* what, uint64_t o) {
      snprintf(buf, sizeof buf, "%s (block at %#llx)", what, static_cast<unsigned long long>(o));
      return std::string(buf);
    };
    size_t nfree = 0;
    uint64_t o = 0;
    for (; o < brk_; o += size(o)) {
      const uint64_t s = size(o);
      if (s < 32 || (s & (s - 1)) || order_of(s) > kMaxOrder || s > brk_ - o)
        return bad("S1: a size that is not a class (a power of two from 32 bytes to 1 MiB)", o);
      nfree += !used(o);
    }
    if (o != brk_ || brk_ > kMaxHeap) return bad("S1: the blocks do not end at the break", o);
    size_t listed = 0;
    for (unsigned k = 0; k <= kMaxOrder; ++k) {
      std::vector<uint64_t> sorted = free_[k];
      std::sort(sorted.begin(), sorted.end());
      if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
        return bad("S2: a block twice on a free list", 0);
      for (uint64_t b : free_[k])
        if (b >= brk_ || used(b) || size(b) != uint64_t(1) << k)
          return bad("S2: a list holds a block that is not a free block of its class", b);
      listed += free_[k].size();
    }
    if (listed != nfree) return bad("S2: a free block missing from its class's list", 0);
    return "";
  }

protected:
  uint64_t alloc_block(uint64_t n) override {
    const uint64_t s = class_of(n);
    if (s == 0) return kNone;
    const unsigned k = order_of(s);
    uint64_t b;
    if (!free_[k].empty()) {
      b = free_[k].back();
      free_[k].pop_back();
      ++searched_;
      t_.bin_out(a(b), BinKind::Fast, uint8_t(k));
    } else { // grow the heap by one block of the class
      if (s > kMaxHeap - brk_) return kNone;
      b = brk_;
      t_.sbrk(a(brk_), int64_t(s));
      if (brk_ == 0)
        t_.heap_new(a(0), s);
      else
        t_.heap_resize(a(0), brk_ + s);
      brk_ += s;
    }
    word(b, 0) = s | kUsed;
    word(b, 1) = 0;
    t_.chunk_alloc(a(b), s);
    return b;
  }

  void release_block(uint64_t b) override {
    const uint64_t s = size(b);
    t_.chunk_free(a(b), s);
    word(b, 0) = s;
    free_[order_of(s)].push_back(b);
    t_.bin_in(a(b), s, BinKind::Fast, uint8_t(order_of(s)));
  }

  uint64_t resize_block(uint64_t b, uint64_t n) override {
    const uint64_t s = class_of(n);
    if (s == 0) return kNone;
    return s == size(b) ? b : kMove;
  }

  uint64_t block_size(uint64_t off) const override { return size(off); }

  void write_heap() override {
    if (!brk_) return;
    t_.sbrk(a(0), int64_t(brk_));
    t_.heap_new(a(0), brk_);
    for (uint64_t o = 0; o < brk_; o += size(o))
      if (used(o)) t_.chunk_alloc(a(o), size(o));
    for (unsigned k = kMinOrder; k <= kMaxOrder; ++k)
      for (uint64_t b : free_[k]) // tail first: each goes in at the head
        t_.bin_in(a(b), size(b), BinKind::Fast, uint8_t(k));
  }

private:
  uint64_t brk_ = 0;
  std::vector<std::vector<uint64_t>> free_; // by order; back() is the head
};

} // namespace

std::unique_ptr<Policy> make_segregated_policy() {
  return std::make_unique<SegregatedPolicy>();
}

} // namespace hv::sim
