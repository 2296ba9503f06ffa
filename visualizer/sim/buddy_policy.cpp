// buddy_policy.cpp - the binary buddy allocator (docs/policies.md states the rules; gingerbill's
// design): one arena at the heap base, blocks of powers of two from 32 bytes, a 16-byte header,
// one free list per size, lowest address first.
//
// Owns: the headers in simulated memory (word 0: size | 1 while in use), the free lists (a set
// of offsets per order), the buddy checker (B1-B5) and the events each call writes.
// Must not: grow or shrink the arena: its size is fixed when the policy is made.
#include "sim/textbook.h"

#include <cstdio>
#include <set>
#include <vector>

namespace hv::sim {
namespace {

using trace::BinKind;
using trace::ChunkState;
using trace::MergeHow;

constexpr unsigned kMinOrder = 5; // 32 bytes
constexpr uint64_t kNone = UINT64_MAX;

unsigned order_of(uint64_t size) {
  return unsigned(63 - __builtin_clzll(size));
}

class BuddyPolicy final : public TextbookPolicy {
public:
  explicit BuddyPolicy(uint64_t arena)
      : TextbookPolicy("buddy", arena), arena_(arena), top_(order_of(arena)) {
    free_.resize(top_ + 1);
    word(0, 0) = arena;
    word(0, 1) = 0;
    free_[top_].insert(0);
  }

  size_t usable_size(void* p) override { return p ? size(ptr_off(p) - kHeader) - kHeader : 0; }

  std::vector<ChunkRow> walk() override {
    std::vector<ChunkRow> rows;
    for (uint64_t o = 0; o < arena_; o += size(o)) {
      const bool u = used(o);
      rows.push_back(
          {o, size(o), u ? ChunkState::InUse : ChunkState::Small, u ? 0 : order_of(size(o)), false, 0});
    }
    return rows;
  }

  std::vector<BinListRow> bin_lists() override {
    std::vector<BinListRow> lists;
    for (unsigned k = kMinOrder; k <= top_; ++k)
      if (!free_[k].empty())
        lists.push_back({BinKind::Small, k, {free_[k].begin(), free_[k].end()}, 0, 0, {}});
    return lists;
  }

  HeapSummary summary() override { return HeapSummary{arena_, 0}; }

  std::string check() override {
    char buf[160];
    auto bad = [&](const char* what, uint64_t o) {
      snprintf(buf, sizeof buf, "%s (block at %#llx)", what, static_cast<unsigned long long>(o));
      return std::string(buf);
    };
    size_t nfree = 0;
    uint64_t o = 0;
    for (; o < arena_; o += size(o)) {
      const uint64_t s = size(o);
      if (s < 32 || (s & (s - 1)) || s > arena_ - o)
        return bad("B1: a size that is not a power of two >= 32", o);
      if (o % s) return bad("B2: a block not aligned to its size", o);
      if (word(o, 0) & ~(s | kUsed)) return bad("B1: stray bits in the size word", o);
      if (!used(o)) {
        ++nfree;
        if (!free_[order_of(s)].count(o)) return bad("B3: a free block missing from its size's list", o);
        const uint64_t bud = o ^ s;
        if (bud < o && free_[order_of(s)].count(bud))
          return bad("B4: a free block beside its free buddy of the same size (they must have merged)", o);
      }
    }
    if (o != arena_) return bad("B1: the blocks do not end at the arena's end", o);
    size_t listed = 0;
    for (const auto& l : free_)
      listed += l.size();
    if (listed != nfree) return bad("B3: a free list holds a block that is not a free block", 0);
    return "";
  }

protected:
  uint64_t alloc_block(uint64_t n) override {
    if (n > arena_ - kHeader) return kNone;
    uint64_t s = 32;
    while (s < n + kHeader)
      s <<= 1;
    const unsigned k = order_of(s);
    unsigned j = k;
    while (j <= top_ && free_[j].empty())
      ++j;
    if (j > top_) return kNone;
    const uint64_t b = *free_[j].begin();
    free_[j].erase(free_[j].begin());
    ++searched_;
    t_.bin_out(a(b), BinKind::Small, uint8_t(j));
    while (j > k) { // halve: keep the lower half, the upper one is free
      --j;
      const uint64_t half = uint64_t(1) << j;
      t_.split(a(b), half, half);
      word(b + half, 0) = half;
      word(b + half, 1) = 0;
      free_[j].insert(b + half);
      t_.bin_in(a(b + half), half, BinKind::Small, uint8_t(j));
    }
    word(b, 0) = s | kUsed;
    word(b, 1) = 0;
    t_.chunk_alloc(a(b), s);
    return b;
  }

  void release_block(uint64_t b) override {
    uint64_t s = size(b);
    t_.chunk_free(a(b), s);
    word(b, 0) = s;
    for (unsigned k = order_of(s); k < top_; ++k, s <<= 1) {
      const uint64_t bud = b ^ s;
      auto it = free_[k].find(bud);
      if (it == free_[k].end()) break;
      free_[k].erase(it);
      t_.bin_out(a(bud), BinKind::Small, uint8_t(k));
      if (bud > b) {
        t_.merge(MergeHow::WithNext, a(b), 2 * s, a(bud));
      } else {
        t_.merge(MergeHow::WithPrev, a(bud), 2 * s, a(b));
        b = bud;
      }
      word(b, 0) = 2 * s;
    }
    free_[order_of(s)].insert(b);
    t_.bin_in(a(b), s, BinKind::Small, uint8_t(order_of(s)));
  }

  uint64_t resize_block(uint64_t b, uint64_t n) override {
    uint64_t s = 32;
    while (s < n + kHeader && s < arena_)
      s <<= 1;
    if (n <= arena_ - kHeader && s == size(b)) return b; // the same size class: in place
    return kMove;
  }

  uint64_t block_size(uint64_t off) const override { return size(off); }

  void write_heap() override {
    t_.sbrk(a(0), int64_t(arena_)); // the arena is the program break's whole heap
    t_.heap_new(a(0), arena_);
    for (const ChunkRow& r : walk()) {
      if (r.state == ChunkState::InUse)
        t_.chunk_alloc(a(r.offset), r.size);
      else
        t_.bin_in(a(r.offset), r.size, BinKind::Small, uint8_t(r.bin));
    }
  }

private:
  uint64_t arena_;
  unsigned top_;                         // the arena's order
  std::vector<std::set<uint64_t>> free_; // by order: the free blocks' offsets, lowest first
};

} // namespace

std::unique_ptr<Policy> make_buddy_policy(uint64_t arena_size, std::string* err) {
  if (arena_size == 0) arena_size = 1 << 20;
  if (arena_size < 32 || (arena_size & (arena_size - 1)) || arena_size > (uint64_t(1) << 30)) {
    *err =
        "--arena-size " + std::to_string(arena_size) + ": buddy takes a power of two from 32 bytes to 1 GiB";
    return nullptr;
  }
  return std::make_unique<BuddyPolicy>(arena_size);
}

} // namespace hv::sim
