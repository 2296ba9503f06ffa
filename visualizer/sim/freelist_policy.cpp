// freelist_policy.cpp - the free-list family: first-fit, next-fit, best-fit and worst-fit on an
// implicit list in address order (docs/policies.md states the rules; Burelle's and Dan Luu's
// design). The four differ only in choose().
//
// Owns: the blocks' headers in simulated memory (word 0: size | 1 while in use; word 1: the size
// of the block before, 0 for the first), the program break, next-fit's rover, the family's heap
// checker (F1-F6) and the events each call writes.
// Must not: keep a second copy of the heap: the headers are the truth, and check() reads them.
#include "sim/textbook.h"

#include <cstdio>

namespace hv::sim {
namespace {

using trace::BinKind;
using trace::ChunkState;
using trace::MergeHow;

enum class Fit { First, Next, Best, Worst };

constexpr uint64_t kMinSplit = 32;        // a split leaves a free block of at least this
constexpr uint64_t kMaxHeap = 1ull << 30; // growth past it returns NULL
constexpr uint64_t kNone = UINT64_MAX;

// need(n) = 16 + max(16, n rounded up to 16); kNone when it could never fit.
uint64_t need(uint64_t n) {
  if (n > kMaxHeap) return kNone;
  uint64_t r = (n + 15) & ~uint64_t(15);
  return 16 + (r < 16 ? 16 : r);
}

class FreeListPolicy final : public TextbookPolicy {
public:
  FreeListPolicy(const char* name, Fit fit) : TextbookPolicy(name, kMaxHeap), fit_(fit) {}

  size_t usable_size(void* p) override { return p ? size(ptr_off(p) - kHeader) - kHeader : 0; }

  std::vector<ChunkRow> walk() override { return walk_run(brk_); }
  std::vector<BinListRow> bin_lists() override { return free_run(brk_); }

  HeapSummary summary() override { return HeapSummary{brk_, 0}; }

  std::string check() override {
    char buf[160];
    auto bad = [&](const char* what, uint64_t o) {
      snprintf(buf, sizeof buf, "%s (block at %#llx)", what, static_cast<unsigned long long>(o));
      return std::string(buf);
    };
    if (brk_ > kMaxHeap || brk_ % 16) return bad("F1: the break is past 1 GiB or not 16-aligned", brk_);
    uint64_t prev = 0, o = 0;
    bool prev_free = false;
    for (; o < brk_; o += size(o)) {
      const uint64_t s = size(o);
      if (s < 32 || s % 16 || s > brk_ - o)
        return bad("F2: a size under 32, not a multiple of 16 or past the break", o);
      if (word(o, 0) & ~(~uint64_t(15) | kUsed)) return bad("F2: stray bits in the size word", o);
      if (word(o, 1) != prev) return bad("F3: the header's previous size is not the previous block's", o);
      if (!used(o) && prev_free) return bad("F4: two free blocks side by side (they must have merged)", o);
      prev_free = !used(o);
      prev = s;
    }
    if (o != brk_) return bad("F2: the blocks do not end at the break", o);
    if ((brk_ ? o - prev : kNone) != last_)
      return bad("F3: the policy's last block is not the heap's", last_);
    if (brk_ && prev_free) return bad("F5: the last block is free (the heap must have shrunk)", o - prev);
    if (rover_ % 16) return bad("F6: the rover is not 16-aligned", rover_);
    return "";
  }

protected:
  uint64_t alloc_block(uint64_t n) override {
    const uint64_t s = need(n);
    if (s == kNone) return kNone;
    uint64_t b = choose(s);
    if (b != kNone) {
      t_.bin_out(a(b), BinKind::Unsorted, 0);
      split(b, s);
    } else { // grow the heap at its end by exactly s
      if (s > kMaxHeap - brk_) return kNone;
      b = brk_;
      set_break(brk_ + s);
      set(b, s, true, last_ == kNone ? 0 : size(last_));
      last_ = b;
    }
    mark_used(b, true);
    t_.chunk_alloc(a(b), size(b));
    rover_ = b;
    return b;
  }

  void release_block(uint64_t b) override {
    uint64_t s = size(b);
    t_.chunk_free(a(b), s);
    mark_used(b, false);
    const uint64_t next = b + s;
    if (next < brk_ && !used(next)) { // with the next block first
      t_.bin_out(a(next), BinKind::Unsorted, 0);
      s += size(next);
      t_.merge(MergeHow::WithNext, a(b), s, a(next));
      set(b, s, false, word(b, 1));
    }
    if (b > 0 && !used(b - word(b, 1))) { // then with the previous one
      const uint64_t prev = b - word(b, 1);
      t_.bin_out(a(prev), BinKind::Unsorted, 0);
      s += size(prev);
      t_.merge(MergeHow::WithPrev, a(prev), s, a(b));
      b = prev;
      set(b, s, false, word(b, 1));
    }
    settle_free(b);
  }

  uint64_t resize_block(uint64_t b, uint64_t n) override {
    const uint64_t s = need(n), have = size(b);
    if (s == kNone) return kNone;
    if (have >= s) {
      if (have - s >= kMinSplit) { // the tail becomes a free block, merged with a free next one
        t_.split(a(b), s, have - s);
        set(b, s, true, word(b, 1));
        uint64_t tail = b + s, ts = have - s;
        set(tail, ts, false, s);
        const uint64_t next = tail + ts;
        if (next < brk_ && !used(next)) {
          t_.bin_out(a(next), BinKind::Unsorted, 0);
          ts += size(next);
          t_.merge(MergeHow::WithNext, a(tail), ts, a(next));
          set(tail, ts, false, s);
        }
        t_.chunk_alloc(a(b), s);
        settle_free(tail);
      }
      return b;
    }
    const uint64_t next = b + have;
    if (next < brk_ && !used(next) && have + size(next) >= s) { // absorb the next block, then split
      t_.bin_out(a(next), BinKind::Unsorted, 0);
      t_.merge(MergeHow::WithNext, a(b), have + size(next), a(next));
      set(b, have + size(next), true, word(b, 1));
      split(b, s);
      t_.chunk_alloc(a(b), size(b));
      return b;
    }
    return kMove;
  }

  uint64_t block_size(uint64_t off) const override { return size(off); }

  void write_heap() override { write_run(brk_); }

private:
  void mark_used(uint64_t o, bool u) { word(o, 0) = size(o) | (u ? kUsed : 0); }
  // Writes a header, and the next block's previous size.
  void set(uint64_t o, uint64_t s, bool u, uint64_t prev) {
    word(o, 0) = s | (u ? kUsed : 0);
    word(o, 1) = prev;
    if (o + s < brk_) word(o + s, 1) = s;
  }

  void set_break(uint64_t nb) {
    t_.sbrk(a(brk_), int64_t(nb) - int64_t(brk_));
    if (brk_ == 0)
      t_.heap_new(a(0), nb);
    else if (nb == 0)
      t_.heap_free(a(0));
    else
      t_.heap_resize(a(0), nb); // shrinking drops the blocks past the new end from the replay
    brk_ = nb;
  }

  // The in-use block b is cut to s bytes when at least kMinSplit remain; the rest is free.
  void split(uint64_t b, uint64_t s) {
    const uint64_t have = size(b);
    if (have - s < kMinSplit) return;
    t_.split(a(b), s, have - s);
    set(b, s, true, word(b, 1));
    set(b + s, have - s, false, s);
    t_.bin_in(a(b + s), have - s, BinKind::Unsorted, 0);
  }

  // A merged free block: the last one gives its bytes back (the break moves to its start),
  // another goes on the free list.
  void settle_free(uint64_t b) {
    const uint64_t s = size(b);
    if (b + s == brk_) {
      last_ = b == 0 ? kNone : b - word(b, 1);
      set_break(b);
    } else {
      t_.bin_in(a(b), s, BinKind::Unsorted, 0);
    }
  }

  // The free block the policy takes for s bytes, or kNone.
  uint64_t choose(uint64_t s) const {
    uint64_t pick = kNone;
    if (fit_ == Fit::Next) {
      uint64_t start = 0; // the block holding the rover, or the base when the heap shrank below it
      if (rover_ < brk_)
        for (uint64_t o = 0; o < brk_; o += size(o))
          if (rover_ < o + size(o)) {
            start = o;
            break;
          }
      for (uint64_t o = start; o < brk_; o += size(o))
        if (++searched_, !used(o) && size(o) >= s) return o;
      for (uint64_t o = 0; o < start; o += size(o))
        if (++searched_, !used(o) && size(o) >= s) return o;
      return kNone;
    }
    for (uint64_t o = 0; o < brk_; o += size(o)) {
      ++searched_;
      if (used(o) || size(o) < s) continue;
      if (fit_ == Fit::First) return o;
      if (pick == kNone || (fit_ == Fit::Best ? size(o) < size(pick) : size(o) > size(pick))) pick = o;
    }
    return pick;
  }

  Fit fit_;
  uint64_t brk_ = 0;      // the program break, from the heap base
  uint64_t last_ = kNone; // the last block's offset (the next grown block's previous size is its)
  uint64_t rover_ = 0;    // next-fit: the offset of the block the latest malloc returned
};

} // namespace

std::unique_ptr<Policy> make_freelist_policy(std::string_view name) {
  static const struct {
    const char* name;
    Fit fit;
  } fits[] = {
      {"first-fit", Fit::First}, {"next-fit", Fit::Next}, {"best-fit", Fit::Best}, {"worst-fit", Fit::Worst}};
  for (const auto& f : fits)
    if (name == f.name) return std::make_unique<FreeListPolicy>(f.name, f.fit);
  return nullptr;
}

} // namespace hv::sim
