// bump_policy.cpp - the bump allocators: linear (free only resets when everything is freed) and
// stack (free only the latest allocation). docs/policies.md states their rules.
//
// Owns: the blocks' headers in simulated memory (word 0: size | 1 while in use; word 1: the size
// of the block before, 0 for the first), the program break, the count of live blocks, the
// checker (L1-L4) and the events each call writes; stack's refusal of any other free.
// Must not: reuse a freed block (a bump allocator only moves its break).
#include "sim/textbook.h"

#include <cstdio>

namespace hv::sim {
namespace {

using trace::BinKind;
using trace::ChunkState;

constexpr uint64_t kMaxHeap = 1ull << 30;
constexpr uint64_t kNone = UINT64_MAX;

uint64_t need(uint64_t n) { // as the free-list family: 16 + max(16, n rounded up to 16)
  if (n > kMaxHeap) return kNone;
  uint64_t r = (n + 15) & ~uint64_t(15);
  return 16 + (r < 16 ? 16 : r);
}

class BumpPolicy final : public TextbookPolicy {
public:
  explicit BumpPolicy(bool stack) : TextbookPolicy(stack ? "stack" : "linear", kMaxHeap), stack_(stack) {}

  size_t usable_size(void* p) override { return p ? size(ptr_off(p) - kHeader) - kHeader : 0; }

  std::string check_free(void* p) const override {
    if (!stack_ || (last_ != kNone && ptr_off(p) == last_ + kHeader)) return "";
    char buf[160];
    snprintf(buf, sizeof buf, "policy stack frees only the latest allocation (at %#llx), not %#llx",
             static_cast<unsigned long long>(last_ + kHeader), static_cast<unsigned long long>(ptr_off(p)));
    return buf;
  }

  std::vector<ChunkRow> walk() override { return walk_run(brk_); }
  std::vector<BinListRow> bin_lists() override { return free_run(brk_); }

  HeapSummary summary() override { return HeapSummary{brk_, 0}; }

  std::string check() override {
    char buf[160];
    auto bad = [&](const char* what, uint64_t o) {
      snprintf(buf, sizeof buf, "%s (block at %#llx)", what, static_cast<unsigned long long>(o));
      return std::string(buf);
    };
    uint64_t o = 0, prev = 0, live = 0;
    bool any_free = false;
    for (; o < brk_; o += size(o)) {
      const uint64_t s = size(o);
      if (s < 32 || s % 16 || s > brk_ - o)
        return bad("L1: a size under 32, not a multiple of 16 or past the break", o);
      if (word(o, 1) != prev) return bad("L1: the header's previous size is not the previous block's", o);
      live += used(o);
      any_free |= !used(o);
      prev = s;
    }
    if (o != brk_ || brk_ > kMaxHeap) return bad("L1: the blocks do not end at the break", o);
    if ((brk_ ? o - prev : kNone) != last_)
      return bad("L1: the policy's last block is not the heap's", last_);
    if (live != live_) return bad("L2: the count of live blocks is wrong", 0);
    if (brk_ && live == 0) return bad("L3: every block is free but the heap did not reset", 0);
    if (stack_ && any_free)
      return bad("L4: stack: a free block (only the latest may be freed, and it goes)", 0);
    return "";
  }

protected:
  uint64_t alloc_block(uint64_t n) override {
    const uint64_t s = need(n);
    if (s == kNone || s > kMaxHeap - brk_) return kNone;
    const uint64_t b = brk_;
    set_break(brk_ + s);
    word(b, 0) = s | kUsed;
    word(b, 1) = last_ == kNone ? 0 : size(last_);
    last_ = b;
    ++live_;
    t_.chunk_alloc(a(b), s);
    return b;
  }

  void release_block(uint64_t b) override {
    const uint64_t s = size(b);
    t_.chunk_free(a(b), s);
    word(b, 0) = s;
    --live_;
    if (live_ == 0) { // everything is free: reset
      last_ = kNone;
      set_break(0);
    } else if (stack_ && b == last_) { // the latest: the break goes back to its start
      last_ = b - word(b, 1);
      set_break(b);
    } else {
      t_.bin_in(a(b), s, BinKind::Unsorted, 0); // freed, waiting for the reset
    }
  }

  uint64_t resize_block(uint64_t b, uint64_t n) override {
    const uint64_t s = need(n), have = size(b);
    if (b != last_) return kMove; // (stack: refused before, by check_free)
    if (s == kNone || s > kMaxHeap - b) return kNone;
    if (s > have) set_break(b + s);
    t_.realloc_in_place(a(b), have, s);
    word(b, 0) = s | kUsed;
    if (s < have) set_break(b + s);
    return b;
  }

  uint64_t block_size(uint64_t off) const override { return size(off); }

  void write_heap() override { write_run(brk_); }

private:
  void set_break(uint64_t nb) {
    t_.sbrk(a(brk_), int64_t(nb) - int64_t(brk_));
    if (brk_ == 0)
      t_.heap_new(a(0), nb);
    else if (nb == 0)
      t_.heap_free(a(0));
    else
      t_.heap_resize(a(0), nb);
    brk_ = nb;
  }

  bool stack_;
  uint64_t brk_ = 0;
  uint64_t last_ = kNone; // the last block's offset
  uint64_t live_ = 0;     // blocks in use
};

} // namespace

std::unique_ptr<Policy> make_bump_policy(std::string_view name) {
  if (name == "linear") return std::make_unique<BumpPolicy>(false);
  if (name == "stack") return std::make_unique<BumpPolicy>(true);
  return nullptr;
}

} // namespace hv::sim
