// policy_trace_test.cpp - another allocator policy writes its trace through the same writer as
// glibc's core (heapviz/policy_trace.h), and the reader replays it: a first fit with one free list
// and a top chunk, on addresses only (no memory), checked against its own bookkeeping after every
// call, and by its snapshots the way `heapviz check` checks them.
#include "../trace/test_util.h"
#include "analysis/snapshot_check.h"
#include "heapviz/policy_trace.h"
#include "heapviz/simulated_heap.h"
#include "model/replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace hv;
using trace::BinKind;
using trace::ChunkState;

namespace {

// A textbook first fit: chunks of 16-byte multiples with a 16-byte header, one free list (shown
// as the unsorted bin), a split remainder of 32 bytes or more goes back to the list, frees merge
// with a free next chunk or the top. Its bookkeeping (`chunks`) is what the replay must show.
struct FirstFit {
  static constexpr uint64_t kBase = 0x10000, kHeap = 1 << 20, kHeader = 16;
  alloc::PolicyTrace& t;
  std::map<uint64_t, std::pair<uint64_t, ChunkState>> chunks; // addr -> size, state
  uint64_t top = kBase;

  explicit FirstFit(alloc::PolicyTrace& tr) : t(tr) {
    t.heap_new(kBase, kHeap);
    t.top(kBase, kHeap);
    chunks[kBase] = {kHeap, ChunkState::Top};
  }
  uint64_t malloc(uint64_t n) {
    uint64_t need = std::max<uint64_t>(32, (n + kHeader + 15) & ~uint64_t(15));
    t.call();
    uint64_t c = 0;
    for (auto& [a, v] : chunks)
      if (v.second == ChunkState::Unsorted && v.first >= need) {
        c = a;
        t.bin_out(a, BinKind::Unsorted, 0);
        break;
      }
    if (!c) { // from the top
      uint64_t size = chunks[top].first;
      if (size < need + 32) return 0;
      c = top;
      t.split(c, need, size - need);
      top = c + need;
      chunks[top] = {size - need, ChunkState::Top};
      t.top(top, size - need);
      chunks[c] = {need, ChunkState::InUse};
    } else if (chunks[c].first >= need + 32) {
      uint64_t size = chunks[c].first;
      t.split(c, need, size - need);
      chunks[c + need] = {size - need, ChunkState::Unsorted};
      t.bin_in(c + need, size - need, BinKind::Unsorted, 0);
      chunks[c] = {need, ChunkState::InUse};
    } else {
      chunks[c].second = ChunkState::InUse;
    }
    t.chunk_alloc(c, chunks[c].first);
    t.malloc(n, c + kHeader);
    return c + kHeader;
  }
  void free(uint64_t p) {
    uint64_t c = p - kHeader, size = chunks[c].first;
    t.call();
    t.free(p); // first: the chunk is in the policy's hands until it lands somewhere
    t.chunk_free(c, size);
    auto next = chunks.find(c + size);
    if (next != chunks.end() && next->second.second == ChunkState::Top) {
      uint64_t merged = size + next->second.first;
      t.merge(trace::MergeHow::IntoTop, c, merged, c + size);
      chunks.erase(next);
      top = c;
      chunks[c] = {merged, ChunkState::Top};
      t.top(c, merged);
    } else {
      if (next != chunks.end() && next->second.second == ChunkState::Unsorted) {
        t.bin_out(c + size, BinKind::Unsorted, 0);
        size += next->second.first;
        t.merge(trace::MergeHow::WithNext, c, size, next->first);
        chunks.erase(next);
      }
      chunks[c] = {size, ChunkState::Unsorted};
      t.bin_in(c, size, BinKind::Unsorted, 0);
    }
  }
  void snapshot() {
    std::vector<alloc::PolicyTrace::Chunk> s;
    for (auto& [a, v] : chunks)
      s.push_back({a, v.first, v.second, 0});
    t.snapshot(s.data(), s.size());
  }
};

} // namespace

TEST(PolicyTrace, AnotherPolicysTraceReplaysToItsHeap) {
  std::string path = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/hvpolicy_" +
                     std::to_string(getpid()) + ".hvt";
  std::vector<std::map<uint64_t, std::pair<uint64_t, ChunkState>>> after; // after each call
  uint64_t calls = 0;
  {
    alloc::PolicyTrace t;
    const uint64_t params[trace::kNumParams] = {1, 2, 3, 4, 5, 6, 7, 8};
    ASSERT_TRUE(t.start(path.c_str(), "first-fit", params, FirstFit::kBase)) << strerror(errno);
    FirstFit ff(t);
    std::mt19937_64 rng(3);
    std::vector<uint64_t> live;
    for (int i = 0; i < 3000; ++i) {
      if (live.empty() || rng() % 3) {
        if (uint64_t p = ff.malloc(1 + rng() % 600)) live.push_back(p);
      } else {
        size_t k = rng() % live.size();
        ff.free(live[k]);
        live.erase(live.begin() + long(k));
      }
      ++calls;
      if (i % 500 == 499) ff.snapshot();
      if (i == 1500) t.mark("half way");
    }
    after.push_back(ff.chunks);
    t.stop();
  }
  trace::TraceFile f;
  ASSERT_TRUE(f.open(path)) << f.error()->describe();
  EXPECT_EQ(std::string(f.header().policy), "first-fit");
  EXPECT_EQ(f.header().params[7], 8u);
  EXPECT_TRUE(f.header().flags & trace::kFileSimulated);
  model::Replay rp(f);
  analysis::SnapshotCheck snaps;
  uint64_t api = 0, marks = 0;
  rp.build([&](const trace::Event& e, const model::HeapModel& m) {
    snaps.on_event(e, m);
    api += e.type == trace::Ev::Malloc || e.type == trace::Ev::Free;
    marks += e.type == trace::Ev::Mark;
  });
  ASSERT_FALSE(rp.error()) << rp.error()->describe();
  EXPECT_EQ(snaps.failure(), "");
  EXPECT_EQ(snaps.verified(), 6u); // every snapshot the policy wrote matched the replay
  EXPECT_EQ(marks, 1u);
  EXPECT_GE(api, calls - 5); // a malloc that found no room writes no API event
  EXPECT_EQ(rp.model().anomalies(), 0u) << rp.model().first_anomaly();
  // The replayed heap is the policy's, chunk for chunk.
  auto got = rp.model().chunks_sorted();
  const auto& want = after.back();
  ASSERT_EQ(got.size(), want.size());
  size_t i = 0;
  for (const auto& [a, v] : want) {
    EXPECT_EQ(got[i].addr, a);
    EXPECT_EQ(got[i].size, v.first) << std::hex << a;
    EXPECT_EQ(got[i].state, uint8_t(v.second)) << std::hex << a;
    ++i;
  }
  unlink(path.c_str());
}

TEST(PolicyTrace, AnUnwritablePathSaysSoAndWritesNothing) {
  alloc::PolicyTrace t;
  errno = 0;
  EXPECT_FALSE(t.start("/nonexistent-dir/x.hvt", "first-fit", nullptr, 0));
  EXPECT_EQ(errno, ENOENT);
  EXPECT_FALSE(t.on());
  t.call(); // all harmless when off
  t.malloc(10, 0x1010);
  t.mark("x");
}

// A trace that starts on a heap already in use (a late start; a forked child and a live attach
// start the same way: a baseline snapshot) says which chunk is glibc's tcache struct, as a trace
// that saw it carved does: the app draws it as the allocator's own, not as the program's.
TEST(BaselineTrace, ALateStartMarksTheAllocatorsOwnChunk) {
  std::string path = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/hvlate_" +
                     std::to_string(getpid()) + ".hvt";
  alloc::SimulatedHeap heap;
  void* a = heap.malloc(24);    // carves the tcache struct, untraced
  void* b = heap.malloc(0x280); // a chunk of the same size as the tcache struct: the program's
  ASSERT_TRUE(heap.trace_start(path.c_str(), 0));
  heap.free(a);
  heap.free(b);
  heap.trace_stop();
  trace::TraceFile f;
  ASSERT_TRUE(f.open(path)) << f.error()->describe();
  model::Replay rp(f);
  rp.build();
  ASSERT_FALSE(rp.error()) << rp.error()->describe();
  EXPECT_EQ(rp.model().anomalies(), 0u) << rp.model().first_anomaly();
  int internal = 0;
  for (const auto& c : rp.model().chunks_sorted()) {
    internal += c.internal;
    if (c.internal) {
      EXPECT_EQ(c.addr, heap.heap_base()); // the heap's first chunk
      EXPECT_EQ(c.size, 0x290u);
    }
  }
  EXPECT_EQ(internal, 1); // the tcache struct, and not the program's chunk of its size
  // And where the program break is, although the trace never saw the heap grow.
  EXPECT_EQ(rp.model().program_break(), heap.heap_base() + heap.main_heap_bytes());
  unlink(path.c_str());
}
