// pool_policy.cpp - the pool allocator: one arena at the heap base cut into blocks of one size
// (--block-size, --arena-size), one LIFO free list. docs/policies.md states its rules.
//
// Owns: the headers in simulated memory (word 0: the block size | 1 while in use), the free list
// (a vector whose back is the head), the pool checker (P1-P2) and the events each call writes.
// Must not: split, merge, grow or move a block: every block has the pool's one size.
#include "sim/textbook.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace hv::sim {
namespace {

using trace::BinKind;
using trace::ChunkState;

constexpr uint64_t kNone = UINT64_MAX;

class PoolPolicy final : public TextbookPolicy {
public:
  PoolPolicy(uint64_t arena, uint64_t block)
      : TextbookPolicy("pool", arena), block_(block), end_(arena / block * block) {
    for (uint64_t o = end_; o >= block_; o -= block_) { // the lowest block ends up at the head
      word(o - block_, 0) = block_;
      word(o - block_, 1) = 0;
      free_.push_back(o - block_);
    }
  }

  size_t usable_size(void* p) override { return p ? block_ - kHeader : 0; }

  std::vector<ChunkRow> walk() override {
    std::vector<ChunkRow> rows;
    for (uint64_t o = 0; o < end_; o += block_)
      rows.push_back({o, block_, used(o) ? ChunkState::InUse : ChunkState::Fast, 0, false, 0});
    return rows;
  }

  std::vector<BinListRow> bin_lists() override {
    if (free_.empty()) return {};
    return {BinListRow{BinKind::Fast, 0, {free_.rbegin(), free_.rend()}, 0, 0, {}}}; // head first
  }

  HeapSummary summary() override { return HeapSummary{end_, 0}; }

  std::string check() override {
    char buf[160];
    auto bad = [&](const char* what, uint64_t o) {
      snprintf(buf, sizeof buf, "%s (block at %#llx)", what, static_cast<unsigned long long>(o));
      return std::string(buf);
    };
    size_t nfree = 0;
    for (uint64_t o = 0; o < end_; o += block_) {
      if ((word(o, 0) | kUsed) != (block_ | kUsed))
        return bad("P1: a header that is not the pool's block size", o);
      nfree += !used(o);
    }
    std::vector<uint64_t> sorted = free_;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return bad("P2: a block twice on the free list", 0);
    for (uint64_t o : free_)
      if (o >= end_ || o % block_ || used(o))
        return bad("P2: the free list holds a block that is not free", o);
    if (free_.size() != nfree) return bad("P2: a free block missing from the free list", 0);
    return "";
  }

protected:
  uint64_t alloc_block(uint64_t n) override {
    if (n > block_ - kHeader || free_.empty()) return kNone;
    const uint64_t b = free_.back();
    free_.pop_back();
    ++searched_;
    t_.bin_out(a(b), BinKind::Fast, 0);
    word(b, 0) = block_ | kUsed;
    t_.chunk_alloc(a(b), block_);
    return b;
  }

  void release_block(uint64_t b) override {
    t_.chunk_free(a(b), block_);
    word(b, 0) = block_;
    free_.push_back(b);
    t_.bin_in(a(b), block_, BinKind::Fast, 0);
  }

  uint64_t resize_block(uint64_t b, uint64_t n) override { return n <= block_ - kHeader ? b : kNone; }

  uint64_t block_size(uint64_t) const override { return block_; }

  void write_heap() override {
    t_.sbrk(a(0), int64_t(end_));
    t_.heap_new(a(0), end_);
    for (uint64_t o = 0; o < end_; o += block_)
      if (used(o)) t_.chunk_alloc(a(o), block_);
    for (uint64_t o : free_) // tail first: each goes in at the head
      t_.bin_in(a(o), block_, BinKind::Fast, 0);
  }

private:
  uint64_t block_; // header included
  uint64_t end_;   // the arena's bytes that hold whole blocks
  std::vector<uint64_t> free_;
};

} // namespace

std::unique_ptr<Policy> make_pool_policy(uint64_t arena_size, uint64_t block_size, std::string* err) {
  if (arena_size == 0) arena_size = 1 << 20;
  if (block_size == 0) block_size = 64;
  const uint64_t block = 16 + std::max<uint64_t>(16, (block_size + 15) & ~uint64_t(15));
  if (arena_size > (uint64_t(1) << 30) || block_size > arena_size || block > arena_size) {
    *err = "--arena-size " + std::to_string(arena_size) + " --block-size " + std::to_string(block_size) +
           ": pool takes an arena of at most 1 GiB that holds at least one block (16 + the block size, "
           "rounded up to 16)";
    return nullptr;
  }
  return std::make_unique<PoolPolicy>(arena_size, block);
}

} // namespace hv::sim
