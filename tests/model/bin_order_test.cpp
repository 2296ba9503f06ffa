// bin_order_test.cpp - every bin's list in its order (model::BinOrder, docs/trace-format.md "Bin
// order"): glibc's rules on hand-made event sequences with known orders (tcache and fastbins
// LIFO, the unsorted bin FIFO, smallbins FIFO, largebins sorted with equal sizes second), the
// lists of the real allocator (a simulated heap) against the model's after every call, checkpoints,
// baselines, and `check`'s comparison with BIN_LISTS events and its message.
#include "../trace/test_util.h"
#include "analysis/snapshot_check.h"
#include "heapviz/simulated_heap.h"
#include "model/replay.h"
#include "same_state.h"

#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <random>

using namespace hv::trace;
using namespace hv::model;
using hv::test::TempFile;
namespace analysis = hv::analysis;

namespace {

constexpr uint64_t kHeap = 0x555555559000, kTop0 = kHeap + 0x290, kTop0Size = 0x21000 - 0x290;
constexpr uint32_t kTid = 1;

// A heap in arena 0 whose chunks are carved from top by malloc, as libhvalloc writes it.
struct Heap {
  TraceBuilder b;
  uint64_t top = kTop0, top_size = kTop0Size;
  Heap() {
    b.heap_new(kHeap, 0x21000);
    b.top(kTop0, kTop0Size);
  }
  uint64_t carve(uint64_t nb) {
    uint64_t c = top;
    b.split(c, nb, top_size - nb);
    top += nb;
    top_size -= nb;
    b.top(top, top_size);
    b.chunk_alloc(c, nb);
    b.malloc(nb - 8, c + 16);
    return c;
  }
};

struct Replayed {
  TempFile file;
  TraceFile f;
  HeapModel m;
  analysis::SnapshotCheck check;
  explicit Replayed(TraceBuilder& b) : file(b.finish()) {
    EXPECT_TRUE(f.open(file.path));
    EventStream s(f);
    while (const Event* e = s.next()) {
      m.apply(*e);
      check.on_event(*e, m);
    }
    EXPECT_FALSE(s.error());
  }
};

std::vector<uint64_t> list(const HeapModel& m, BinKind k, uint8_t index, uint32_t owner = 0) {
  return m.bin_order().chunks_of(BinList{k, index, owner}.key());
}

} // namespace

// glibc: tcache_put pushes at the head, tcache_get takes the head.
TEST(BinOrder, TcacheIsLifo) {
  Heap h;
  uint64_t a = h.carve(0x20), b = h.carve(0x20), c = h.carve(0x20);
  h.b.free_tcache(a + 16, 0);
  h.b.free_tcache(b + 16, 0);
  h.b.free_tcache(c + 16, 0);
  {
    Replayed r(h.b);
    EXPECT_EQ(list(r.m, BinKind::Tcache, 0, kTid), (std::vector<uint64_t>{c, b, a}));
    auto p = r.m.bin_order().place(a);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->index, 2u);
    EXPECT_EQ(p->count, 3u);
  }
  h.b.malloc(24, c + 16); // a tcache hit: the head
  h.b.free_tcache(c + 16, 0);
  h.b.malloc(24, c + 16);
  h.b.malloc(24, b + 16);
  Replayed r(h.b);
  EXPECT_EQ(list(r.m, BinKind::Tcache, 0, kTid), (std::vector<uint64_t>{a}));
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
}

// Each thread has its own tcache: the same bin of two threads is two lists.
TEST(BinOrder, TcacheListsArePerThread) {
  Heap h;
  uint64_t a = h.carve(0x30), b = h.carve(0x30), c = h.carve(0x30);
  h.b.free_tcache(a + 16, 1);
  h.b.thread(2);
  h.b.free_tcache(b + 16, 1);
  h.b.free_tcache(c + 16, 1);
  h.b.malloc(40, c + 16);
  Replayed r(h.b);
  EXPECT_EQ(list(r.m, BinKind::Tcache, 1, kTid), (std::vector<uint64_t>{a}));
  EXPECT_EQ(list(r.m, BinKind::Tcache, 1, 2), (std::vector<uint64_t>{b}));
}

// _int_free pushes a fastbin's head; malloc pops it; malloc_consolidate empties it from the head.
TEST(BinOrder, FastbinIsLifo) {
  Heap h;
  std::vector<uint64_t> c;
  for (int i = 0; i < 4; ++i) {
    c.push_back(h.carve(0x30));
    h.carve(0x20); // spacers: nothing merges
  }
  for (int i = 0; i < 4; ++i) {
    h.b.free(c[size_t(i)] + 16);
    h.b.bin_in(c[size_t(i)], 0x30, BinKind::Fast, 1);
  }
  {
    Replayed r(h.b);
    EXPECT_EQ(list(r.m, BinKind::Fast, 1), (std::vector<uint64_t>{c[3], c[2], c[1], c[0]}));
  }
  h.b.chunk_alloc(c[3], 0x30); // malloc(40), tcache empty: the fastbin's head
  h.b.malloc(40, c[3] + 16);
  h.b.bin_out(c[2], BinKind::Fast, 1); // malloc_consolidate: from the head
  h.b.bin_in(c[2], 0x30, BinKind::Unsorted, 1);
  Replayed r(h.b);
  EXPECT_EQ(list(r.m, BinKind::Fast, 1), (std::vector<uint64_t>{c[1], c[0]}));
  EXPECT_EQ(list(r.m, BinKind::Unsorted, 1), (std::vector<uint64_t>{c[2]}));
}

// Frees go in at the unsorted bin's head; the scan takes its tail (here into a smallbin); a merge
// takes a chunk from the middle, and the merged chunk goes in at the head again.
TEST(BinOrder, UnsortedTakesFromTheTailAndMergesFromAnywhere) {
  Heap h;
  uint64_t a = h.carve(0x100);
  h.carve(0x20);
  uint64_t b = h.carve(0x100), d = h.carve(0x100);
  h.carve(0x20);
  uint64_t c = h.carve(0x100);
  h.carve(0x20);
  for (uint64_t x : {a, b, c}) {
    h.b.free(x + 16);
    h.b.bin_in(x, 0x100, BinKind::Unsorted, 1);
  }
  {
    Replayed r(h.b);
    EXPECT_EQ(list(r.m, BinKind::Unsorted, 1), (std::vector<uint64_t>{c, b, a}));
  }
  h.b.free(d + 16); // d's previous chunk, b, is free: b leaves the middle of the list
  h.b.merge(MergeHow::WithPrev, b, 0x200, d);
  h.b.bin_in(b, 0x200, BinKind::Unsorted, 1);
  {
    Replayed r(h.b);
    EXPECT_EQ(list(r.m, BinKind::Unsorted, 1), (std::vector<uint64_t>{b, c, a}));
  }
  h.b.bin_in(a, 0x100, BinKind::Small, 16); // malloc's scan: the tail first
  h.b.bin_in(c, 0x100, BinKind::Small, 16);
  Replayed r(h.b);
  EXPECT_EQ(list(r.m, BinKind::Unsorted, 1), (std::vector<uint64_t>{b}));
  EXPECT_EQ(list(r.m, BinKind::Small, 16), (std::vector<uint64_t>{c, a}));
}

// The scan puts chunks in at a smallbin's head; malloc of its size takes the tail (FIFO).
TEST(BinOrder, SmallbinIsFifo) {
  Heap h;
  std::vector<uint64_t> c;
  for (int i = 0; i < 3; ++i) {
    c.push_back(h.carve(0x90));
    h.carve(0x20);
  }
  for (uint64_t x : c) {
    h.b.free(x + 16);
    h.b.bin_in(x, 0x90, BinKind::Unsorted, 1);
  }
  for (uint64_t x : c) // the scan, tail first: c[0], c[1], c[2]
    h.b.bin_in(x, 0x90, BinKind::Small, 9);
  {
    Replayed r(h.b);
    EXPECT_EQ(list(r.m, BinKind::Small, 9), (std::vector<uint64_t>{c[2], c[1], c[0]}));
  }
  h.b.chunk_alloc(c[0], 0x90); // malloc(0x88): the tail, freed first
  h.b.malloc(0x88, c[0] + 16);
  Replayed r(h.b);
  EXPECT_EQ(list(r.m, BinKind::Small, 9), (std::vector<uint64_t>{c[2], c[1]}));
}

// glibc 2.36's unsorted scan: largest first; smaller than the smallest: the tail; a size already
// there: second among its size ("Always insert in the second position"); when the first of a
// size leaves, the next of that size is the one new ones go after.
TEST(BinOrder, LargebinIsSortedAndEqualSizesGoSecond) {
  Heap h;
  std::map<char, uint64_t> c, size{{'a', 0x430}, {'b', 0x400}, {'c', 0x430}, {'d', 0x430},
                                   {'e', 0x420}, {'f', 0x400}, {'g', 0x430}, {'i', 0x410}};
  for (auto [n, sz] : size) {
    c[n] = h.carve(sz);
    h.carve(0x20);
  }
  auto free_to_unsorted = [&](char n) {
    h.b.free(c[n] + 16);
    h.b.bin_in(c[n], size[n], BinKind::Unsorted, 1);
  };
  auto scan = [&](char n) { h.b.bin_in(c[n], size[n], BinKind::Large, 64); }; // largebin 64: 0x400-0x430
  for (char n : {'a', 'b', 'c', 'd', 'e', 'f'})
    free_to_unsorted(n);
  scan('a');
  scan('b'); // smaller than the smallest: the tail
  scan('c'); // a's size: second
  scan('d'); // second again, before c
  scan('e'); // before the first smaller chunk
  scan('f'); // b's size: after b
  {
    Replayed r(h.b);
    EXPECT_EQ(list(r.m, BinKind::Large, 64),
              (std::vector<uint64_t>{c['a'], c['d'], c['c'], c['e'], c['b'], c['f']}));
  }
  // malloc(0x428) takes the second of the smallest fitting size (d); a merge takes a from the head.
  h.b.chunk_alloc(c['d'], 0x430);
  h.b.malloc(0x428, c['d'] + 16);
  h.b.free(c['a'] + 0x430 + 16); // the spacer after a: a merges with it
  h.b.merge(MergeHow::WithPrev, c['a'], 0x450, c['a'] + 0x430);
  h.b.bin_in(c['a'], 0x450, BinKind::Unsorted, 1);
  free_to_unsorted('g');
  free_to_unsorted('i');
  scan('g'); // c is now the first of its size: g goes after it
  scan('i'); // between e (0x420) and b (0x400)
  Replayed r(h.b);
  EXPECT_EQ(list(r.m, BinKind::Large, 64),
            (std::vector<uint64_t>{c['c'], c['g'], c['e'], c['i'], c['b'], c['f']}));
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
}

// A chunk larger than every chunk of its bin becomes the head.
TEST(BinOrder, LargebinTakesALargerChunkAtTheHead) {
  Heap h;
  uint64_t k = h.carve(0x1040);
  h.carve(0x20);
  uint64_t l = h.carve(0x1070);
  h.carve(0x20);
  uint64_t m = h.carve(0x1040);
  h.carve(0x20);
  for (auto [x, size] : {std::pair{k, 0x1040}, {l, 0x1070}, {m, 0x1040}}) {
    h.b.free(x + 16);
    h.b.bin_in(x, uint64_t(size), BinKind::Large, 99);
  }
  Replayed r(h.b);
  EXPECT_EQ(list(r.m, BinKind::Large, 99), (std::vector<uint64_t>{l, k, m}));
}

// `check`: a BIN_LISTS event in the model's order verifies; one in another order fails, naming
// the list, the position and both chunks.
TEST(BinOrder, CheckComparesTheSnapshotsListsWithTheModels) {
  Heap h;
  uint64_t a = h.carve(0x20), b = h.carve(0x20);
  h.b.free_tcache(a + 16, 0);
  h.b.free_tcache(b + 16, 0);
  TraceBuilder::BinListSpec right{BinKind::Tcache, 0, kTid, {b, a}};
  h.b.bin_lists_record(0, {right});
  {
    Replayed r(h.b);
    EXPECT_EQ(r.check.failure(), "");
    EXPECT_EQ(r.check.orders_verified(), 1u);
  }
  h.b.bin_lists_record(0, {{BinKind::Tcache, 0, kTid, {a, b}}});
  Replayed r(h.b);
  EXPECT_EQ(r.check.orders_verified(), 1u);
  EXPECT_NE(
      r.check.failure().find("differ from the model: tcache[0] of thread 1, position 0 (0 = head; 2 chunks "
                             "in the snapshot, 2 in the model): snapshot has 0x555555559290, model has "
                             "0x5555555592b0 (and 0x555555559290 at position 1)"),
      std::string::npos)
      << r.check.failure();
}

// A list the snapshot does not name is empty; a coarse snapshot names no tcache or fastbin.
TEST(BinOrder, CheckFindsAListTheSnapshotDoesNotHaveUnlessItIsCoarse) {
  Heap h;
  uint64_t a = h.carve(0x20), s = h.carve(0x100);
  h.carve(0x20);
  h.b.free_tcache(a + 16, 0);
  h.b.free(s + 16);
  h.b.bin_in(s, 0x100, BinKind::Unsorted, 1);
  h.b.bin_lists_record(kSnapshotCoarse, {{BinKind::Unsorted, 1, 0, {s}}});
  {
    Replayed r(h.b);
    EXPECT_EQ(r.check.failure(), "");
    EXPECT_EQ(r.check.orders_verified(), 1u);
  }
  h.b.bin_lists_record(0, {{BinKind::Unsorted, 1, 0, {s}}});
  Replayed r(h.b);
  EXPECT_NE(
      r.check.failure().find("tcache[0] of thread 1, position 0 (0 = head; 0 chunks in the snapshot, 1 in "
                             "the model): snapshot has the end of the list, model has 0x555555559290"),
      std::string::npos)
      << r.check.failure();
}

// The parts of a long record are joined, a list cut between two parts included.
TEST(BinOrder, CheckJoinsTheParts) {
  Heap h;
  std::vector<uint64_t> c;
  for (int i = 0; i < 5; ++i) {
    c.push_back(h.carve(0x30));
    h.carve(0x20);
    h.b.free(c.back() + 16);
    h.b.bin_in(c.back(), 0x30, BinKind::Fast, 1);
  }
  h.b.bin_lists_record(kSnapshotMore, {{BinKind::Fast, 1, 0, {c[4], c[3]}}});
  h.b.bin_lists_record(0, {{BinKind::Fast, 1, 0, {c[2], c[1], c[0]}}});
  Replayed r(h.b);
  EXPECT_EQ(r.check.failure(), "");
  EXPECT_EQ(r.check.orders_verified(), 1u);
}

TEST(BinOrder, AMalformedRecordFailsTheCheck) {
  Heap h;
  h.b.bin_lists(std::string_view("\0\x01\x00\x00\x05", 5)); // 5 chunks announced, none there
  Replayed r(h.b);
  EXPECT_NE(r.check.failure().find("cannot be read: bin_lists at offset"), std::string::npos)
      << r.check.failure();
}

// A baseline of arena 0's tcache and top and arena 1's smallbin 16 (x, y, z) and top, with its
// lists (smallbin: y, z, x, in arena 1; the tcache: reversed) after `gap` events.
struct BaselineWithLists {
  static constexpr uint64_t h1 = 0x7ffff0000000, x = h1 + 0x8a0, y = x + 0x100, z = y + 0x100;
  TraceBuilder b;
  explicit BaselineWithLists(int gap = 0) {
    b.heap_new(kHeap, 0x21000);
    b.arena_new(1, h1 + 0x20);
    b.arena(1);
    b.heap_new(h1, 0x21000);
    b.arena(0);
    b.snapshot({{kHeap + 0x290, 0x20, ChunkState::Tcache, 0},
                {kHeap + 0x2b0, 0x20, ChunkState::Tcache, 0},
                {kHeap + 0x2d0, 0x21000 - 0x2d0, ChunkState::Top, 0},
                {x, 0x100, ChunkState::Small, 16},
                {y, 0x100, ChunkState::Small, 16},
                {z, 0x100, ChunkState::Small, 16},
                {z + 0x100, 0x21000 - 0x8a0 - 0x300, ChunkState::Top, 0}},
               kSnapshotBaseline);
    for (int i = 0; i < gap; ++i)
      b.arena(0);
    b.bin_lists_record(kSnapshotBaseline, {{BinKind::Small, 16, 1, {y, z, x}},
                                           {BinKind::Tcache, 0, kTid, {kHeap + 0x2b0, kHeap + 0x290}}});
  }
};

// A baseline's lists give the order the model starts from, and each free chunk's arena.
TEST(BinOrder, BaselineListsGiveTheOrder) {
  BaselineWithLists base;
  TraceBuilder& b = base.b;
  const uint64_t x = base.x, y = base.y, z = base.z;
  Replayed r(b);
  EXPECT_EQ(list(r.m, BinKind::Small, 16, 1), (std::vector<uint64_t>{y, z, x}));
  EXPECT_EQ(list(r.m, BinKind::Tcache, 0, kTid), (std::vector<uint64_t>{kHeap + 0x2b0, kHeap + 0x290}));
  EXPECT_EQ(r.m.find(x)->arena, 1u);
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
  EXPECT_EQ(r.check.failure(), ""); // a baseline's lists are applied, not checked
}

// The arenas a baseline's lists give its chunks are changes like any other: a checkpoint between
// the snapshot and its lists (a full one: the snapshot stopped the dirty log) is followed by a
// delta that has them, and a seek through that delta gives the state a linear replay does.
TEST(BinOrder, BaselineListsAfterACheckpointReachTheNextDelta) {
  BaselineWithLists base(5);
  TraceBuilder& b = base.b;
  const uint64_t x = base.x;
  for (int i = 0; i < 10; ++i)
    b.arena(0);
  TempFile file(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(file.path));
  Replay rp(f);
  rp.set_decode(Replay::Decode::Stream);
  rp.set_checkpoint_every(1); // a checkpoint after every event, deltas between full ones
  rp.set_delta_from(0);
  rp.set_local_limits(1, 0, 0);
  rp.build();
  ASSERT_FALSE(rp.error()) << rp.error()->describe();
  EXPECT_GE(rp.delta_checkpoints(), 5u);
  HeapModel linear = rp.model();
  ASSERT_EQ(linear.find(x)->arena, 1u);
  ASSERT_TRUE(rp.seek(0)); // away, then back through the chain of deltas
  ASSERT_TRUE(rp.seek(rp.size()));
  EXPECT_EQ(rp.model().find(x)->arena, 1u);
  hv::test::expect_same_state(rp.model(), linear, rp.size());
}

namespace {

// The simulated heap's own lists (the allocator's walk), by (kind, index), head first.
std::map<std::pair<int, unsigned>, std::vector<uint64_t>> allocator_lists(hv::alloc::SimulatedHeap& heap) {
  std::map<std::pair<int, unsigned>, std::vector<uint64_t>> out;
  heap.for_each_bin_chunk([&](const hv::alloc::SimulatedHeap::BinChunk& c) {
    out[{int(c.kind), c.index}].push_back(c.addr);
    return true;
  });
  return out;
}
std::map<std::pair<int, unsigned>, std::vector<uint64_t>> model_lists(const HeapModel& m) {
  std::map<std::pair<int, unsigned>, std::vector<uint64_t>> out;
  for (uint64_t k : m.bin_order().lists()) {
    BinList l = BinList::of_key(k);
    auto v = m.bin_order().chunks_of(k);
    auto& o = out[{int(l.kind), l.index}];
    o.insert(o.end(), v.begin(), v.end());
  }
  return out;
}

// A program for the simulated heap that keeps every kind of bin busy: random small and large
// requests, and rounds that free every other chunk of a run of a few large sizes (spacers kept,
// so that nothing merges) and then ask for more than any of them (the unsorted scan sorts them
// into largebins, equal sizes included), then take some back.
void churn(hv::alloc::SimulatedHeap& heap, uint64_t seed, int rounds,
           const std::function<void()>& after_each) {
  std::mt19937_64 rng(seed);
  std::vector<void*> live;
  static const size_t kSizes[] = {24, 40, 56, 100, 0x88, 0x3f8, 0x408, 0x418, 0x428, 0x448, 0x1000, 3000};
  static const size_t kLarge[] = {0x418, 0x428, 0x438, 0x4f8}; // chunks 0x420 and up: past the tcache
  auto drop = [&](size_t k) {
    heap.free(live[k]);
    live[k] = live.back();
    live.pop_back();
    after_each();
  };
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < 30; ++i) {
      if (live.empty() || rng() % 5 < 3) {
        if (void* p = heap.malloc(kSizes[rng() % (sizeof kSizes / sizeof kSizes[0])])) live.push_back(p);
        after_each();
      } else {
        drop(rng() % live.size());
      }
    }
    std::vector<void*> run;
    for (int i = 0; i < 12; ++i) {
      run.push_back(heap.malloc(kLarge[rng() % 4]));
      live.push_back(heap.malloc(24)); // a spacer
      after_each();
    }
    for (size_t i = 0; i < run.size(); ++i) {
      if (rng() % 3) {
        heap.free(run[i]);
        after_each();
      } else {
        live.push_back(run[i]);
      }
    }
    live.push_back(heap.malloc(0x2000)); // the scan puts every freed one in its largebin
    after_each();
    for (int i = 0; i < 3; ++i) {
      live.push_back(heap.malloc(kLarge[rng() % 4] - 8));
      after_each();
    }
  }
}
} // namespace

// The real allocator's lists (glibc 2.36's code on a simulated heap) equal the model's after every
// call: by the snapshots' BIN_LISTS events (HEAPVIZ_VERIFY=1) and by a walk at the end.
TEST(BinOrder, TheModelKeepsTheAllocatorsOrderOnASimulatedHeap) {
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    hv::alloc::SimulatedHeap heap;
    TempFile file(std::vector<uint8_t>{}, "sim.hvt");
    unlink(file.path.c_str());
    ASSERT_TRUE(heap.trace_start(file.path.c_str(), 1));
    size_t most_large = 0; // the most chunks in largebins at once, and whether a run of equal sizes was there
    bool equal_sizes = false;
    churn(heap, seed, 60, [&] {
      size_t large = 0;
      for (const auto& [k, v] : allocator_lists(heap))
        if (k.first == int(BinKind::Large)) {
          large += v.size();
          for (size_t i = 1; i < v.size(); ++i)
            equal_sizes |= heap.usable_size(reinterpret_cast<void*>(v[i] + 16)) ==
                           heap.usable_size(reinterpret_cast<void*>(v[i - 1] + 16));
        }
      most_large = std::max(most_large, large);
    });
    auto want = allocator_lists(heap);
    heap.trace_stop();
    TraceFile f;
    ASSERT_TRUE(f.open(file.path));
    EventStream s(f);
    HeapModel m;
    analysis::SnapshotCheck check;
    while (const Event* e = s.next()) {
      m.apply(*e);
      ASSERT_TRUE(check.on_event(*e, m)) << "seed " << seed << ": " << check.failure();
    }
    EXPECT_GT(check.orders_verified(), 2000u);
    EXPECT_EQ(model_lists(m), want) << "seed " << seed;
    EXPECT_GE(most_large, 6u) << "the program should fill largebins";
    EXPECT_TRUE(equal_sizes) << "and put equal sizes in one";
  }
}

// Checkpoints keep the lists: a seek anywhere gives the lists of a linear replay.
TEST(BinOrder, SeeksRestoreEveryList) {
  hv::alloc::SimulatedHeap heap;
  TempFile file(std::vector<uint8_t>{}, "seek.hvt");
  unlink(file.path.c_str());
  ASSERT_TRUE(heap.trace_start(file.path.c_str(), 0));
  churn(heap, 7, 80, [] {});
  heap.trace_stop();
  TraceFile f;
  ASSERT_TRUE(f.open(file.path));
  Replay rp(f);
  rp.set_checkpoint_every(300);
  rp.set_local_limits(4, 64 << 20, 0);
  rp.build();
  ASSERT_GT(rp.checkpoints(), 5u);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 40; ++i) {
    uint64_t pos = rng() % (rp.size() + 1);
    ASSERT_TRUE(rp.seek(pos));
    EventStream s(f);
    HeapModel lin;
    for (uint64_t k = 0; k < pos; ++k)
      lin.apply(*s.next());
    hv::test::expect_same_state(rp.model(), lin, pos);
    if (HasFatalFailure()) return;
  }
}

// A list longer than a part of the record (16 KiB) goes on in the next BIN_LISTS event; the
// check joins the parts.
TEST(BinOrder, LongListsAreSplitIntoPartsAndJoined) {
  hv::alloc::SimulatedHeap heap;
  TempFile file(std::vector<uint8_t>{}, "parts.hvt");
  unlink(file.path.c_str());
  ASSERT_TRUE(heap.trace_start(file.path.c_str(), 10000));
  std::vector<void*> fast; // 2 bytes a chunk in the record: two parts and more
  for (int i = 0; i < 12000; ++i) {
    fast.push_back(heap.malloc(40));
    heap.malloc(24); // spacers: nothing merges
  }
  for (void* p : fast) // 7 to the tcache, the rest into fastbin[1]
    heap.free(p);
  heap.trace_stop();
  TraceFile f;
  ASSERT_TRUE(f.open(file.path));
  EventStream s(f);
  HeapModel m;
  analysis::SnapshotCheck check;
  size_t parts = 0; // BIN_LISTS events flagged kSnapshotMore
  while (const Event* e = s.next()) {
    m.apply(*e);
    parts += e->type == Ev::BinLists && (bin_lists_flags(*e) & kSnapshotMore);
    ASSERT_TRUE(check.on_event(*e, m)) << check.failure();
  }
  EXPECT_GE(parts, 1u); // a part flagged "more": a list went on in the next
  EXPECT_GE(check.orders_verified(), 2u);
  EXPECT_EQ(list(m, BinKind::Fast, 1).size(), 11993u);
}
