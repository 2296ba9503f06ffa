// churn_trace.h - a synthetic but glibc-like malloc/free churn written with TraceBuilder, for the
// model tests, bench_replay and fuzz seeds. Not used by the reader.
//
// Owns: a toy allocator per thread (one arena and heap each; tcache of 7 per size, unbounded
// small bins, allocation from top by split, frees next to top merged into it, large requests
// mmapped) that emits the chunk events the real allocator would, in the replay rules' order.
// Must not: be linked into heapviz itself.
#pragma once

#include "trace/trace_builder.h"

#include <cstdint>
#include <random>
#include <vector>

namespace hv::trace {

class ChurnTrace {
public:
  ChurnTrace(TraceBuilder& b, int threads, uint64_t seed, size_t live_target = 4096)
      : b_(b), rng_(seed), live_target_(live_target) {
    for (int t = 0; t < threads; ++t) {
      Arena a;
      a.tid = 1000 + uint32_t(t);
      a.heap = t == 0 ? 0x555555559000ull : 0x7ff000000000ull + (uint64_t(t) << 26);
      a.top = a.heap + (t == 0 ? 0x290 : 0x8a0); // after the tcache struct / arena header
      a.heap_size = 0x21000;
      a.top_size = a.heap + a.heap_size - a.top;
      b_.thread(a.tid);
      if (t > 0) {
        b_.arena_new(uint64_t(t), a.heap + 0x20);
        b_.arena(uint32_t(t));
      }
      b_.heap_new(a.heap, a.heap_size);
      if (t == 0) b_.sbrk(a.heap, int64_t(a.heap_size));
      b_.top(a.top, a.top_size);
      arenas_.push_back(a);
    }
  }

  // One API call (malloc or free) on a random thread, with its chunk events.
  void step() {
    Arena& a = arenas_[rng_() % arenas_.size()];
    b_.thread(a.tid);
    if (a.live.empty() || (a.live.size() < live_target_ / arenas_.size() && rng_() % 2) || rng_() % 2)
      malloc_one(a);
    else
      free_one(a, rng_() % a.live.size());
  }
  // Steps until the builder has written at least n events.
  void run(uint64_t n) {
    while (b_.next_seq() <= n)
      step();
  }

private:
  struct Live {
    uint64_t chunk, size;
    bool mmapped;
  };
  struct Arena {
    uint32_t tid;
    uint64_t heap, heap_size, top, top_size;
    std::vector<uint64_t> tcache[64], small[512]; // by chunk size / 16
    std::vector<Live> live;
  };
  static uint8_t bin_index(uint64_t idx) { return uint8_t(idx < 126 ? idx : 126); }
  uint64_t req_size() {
    uint32_t r = uint32_t(rng_());
    if (r % 512 == 0) return 128 * 1024 + (r >> 12) % (512 * 1024); // mmapped
    if (r % 16 == 0) return 1024 + (r >> 8) % 3072;
    return 1 + (r >> 8) % 400;
  }
  void malloc_one(Arena& a) {
    uint64_t req = req_size();
    if (req >= 128 * 1024) {
      uint64_t size = (req + 16 + 4095) & ~4095ull;
      uint64_t c = 0x7f0000000010ull + (mmap_next_ += size + 4096);
      b_.mmap(c - 16, size);
      b_.mmap_chunk(c, size - 16);
      b_.malloc(req, c + 16);
      a.live.push_back({c, size - 16, true});
      return;
    }
    uint64_t nb = req + 8 + 15 < 32 ? 32 : (req + 8 + 15) & ~15ull;
    uint64_t idx = nb / 16;
    uint64_t c;
    if (idx < 64 && !a.tcache[idx].empty()) {
      c = a.tcache[idx].back();
      a.tcache[idx].pop_back(); // a tcache hit: the API event is the only event
    } else if (!a.small[idx].empty()) {
      c = a.small[idx].back();
      a.small[idx].pop_back();
      b_.bin_out(c, BinKind::Small, bin_index(idx));
      b_.chunk_alloc(c, nb);
    } else {
      if (a.top_size < nb + 32) { // grow the heap
        uint64_t grow = 0x21000;
        if (a.heap == 0x555555559000ull) b_.sbrk(a.heap + a.heap_size, int64_t(grow));
        a.heap_size += grow;
        a.top_size += grow;
        b_.heap_resize(a.heap, a.heap_size);
        b_.top(a.top, a.top_size);
      }
      c = a.top;
      b_.split(c, nb, a.top_size - nb);
      a.top += nb;
      a.top_size -= nb;
      b_.top(a.top, a.top_size);
      b_.chunk_alloc(c, nb);
    }
    b_.malloc(req, c + 16);
    a.live.push_back({c, nb, false});
  }
  void free_one(Arena& a, size_t i) {
    Live l = a.live[i];
    a.live[i] = a.live.back();
    a.live.pop_back();
    b_.free(l.chunk + 16);
    if (l.mmapped) {
      b_.munmap_chunk(l.chunk);
      b_.munmap(l.chunk - 16, l.size + 16);
      return;
    }
    uint64_t idx = l.size / 16;
    if (idx < 64 && a.tcache[idx].size() < 7) {
      b_.bin_in(l.chunk, l.size, BinKind::Tcache, uint8_t(idx));
      a.tcache[idx].push_back(l.chunk);
    } else if (l.chunk + l.size == a.top) {
      b_.merge(MergeHow::IntoTop, l.chunk, l.size + a.top_size, a.top);
      a.top = l.chunk;
      a.top_size += l.size;
      b_.top(a.top, a.top_size);
    } else {
      b_.bin_in(l.chunk, l.size, BinKind::Small, bin_index(idx));
      a.small[idx].push_back(l.chunk);
    }
  }

  TraceBuilder& b_;
  std::mt19937_64 rng_;
  size_t live_target_;
  std::vector<Arena> arenas_;
  uint64_t mmap_next_ = 0;
};

} // namespace hv::trace
