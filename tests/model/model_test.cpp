// model_test.cpp - the replay model on hand-made traces: splits, merges, bins, top moves,
// mmapped chunks, realloc in place, metrics, snapshots (verify, coarse, parts, baseline),
// the pass summary, and a pass ending at a decode error. Checkpoints: checkpoints_test.cpp;
// decoding ahead: scatter_test.cpp.
#include "../trace/test_util.h"
#include "analysis/trace_summary.h"
#include "model/replay.h"
#include "same_state.h"
#include "trace/churn_trace.h"

#include <gtest/gtest.h>
#include <random>
#include <thread>

using namespace hv::trace;
using namespace hv::model;
using hv::test::expect_same_state;
using hv::test::TempFile;
namespace analysis = hv::analysis;

namespace {

constexpr uint64_t kHeap = 0x555555559000, kTop0 = kHeap + 0x290, kTop0Size = 0x21000 - 0x290;

// Replays a whole builder's trace into a model.
struct Replayed {
  TempFile file;
  TraceFile f;
  HeapModel m;
  std::optional<TraceError> err;
  uint64_t events = 0;
  explicit Replayed(TraceBuilder& b) : Replayed(b.finish()) {}
  explicit Replayed(const std::vector<uint8_t>& bytes) : file(bytes) {
    EXPECT_TRUE(f.open(file.path));
    EventStream s(f);
    while (const Event* e = s.next()) {
      m.apply(*e);
      ++events;
    }
    err = s.error();
    EXPECT_FALSE(err) << err->describe();
  }
};

// The trace written so far (later events go to new blocks).
std::vector<uint8_t> so_far(TraceBuilder& b) {
  b.flush();
  return b.bytes();
}

void start_heap(TraceBuilder& b) {
  b.heap_new(kHeap, 0x21000);
  b.top(kTop0, kTop0Size);
}

// malloc(req) carved from the top of arena 0 (what glibc emits for a fresh chunk).
uint64_t malloc_from_top(TraceBuilder& b, uint64_t& top, uint64_t& top_size, uint64_t req, uint64_t nb) {
  uint64_t c = top;
  b.split(c, nb, top_size - nb);
  top += nb;
  top_size -= nb;
  b.top(top, top_size);
  b.chunk_alloc(c, nb);
  b.malloc(req, c + 16);
  return c;
}

} // namespace

TEST(Model, SplitFromTopGivesAnInUseChunkAndMovesTop) {
  TraceBuilder b;
  start_heap(b);
  uint64_t top = kTop0, ts = kTop0Size;
  uint64_t c = malloc_from_top(b, top, ts, 24, 32);
  Replayed r(b);
  const Chunk* k = r.m.find(c);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->size, 32u);
  EXPECT_EQ(k->state, uint8_t(ChunkState::InUse));
  EXPECT_EQ(k->req, 24u);
  EXPECT_EQ(k->seq, 6u); // the malloc (heap_new 1, top 2, split 3, top 4, chunk_alloc 5, malloc 6)
  EXPECT_EQ(r.m.top(0), kTop0 + 32);
  EXPECT_EQ(r.m.find(kTop0 + 32)->state, uint8_t(ChunkState::Top));
  EXPECT_EQ(r.m.find(kTop0 + 32)->size, kTop0Size - 32);
  EXPECT_EQ(r.m.chunk_count(), 2u);
  EXPECT_EQ(r.m.in_hand(), 0u);
  Metrics mt = r.m.metrics();
  EXPECT_EQ(mt.heap_bytes, 0x21000u);
  EXPECT_EQ(mt.live_bytes, 24u);
  EXPECT_EQ(mt.free_bytes, 0u);
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
}

TEST(Model, FreeToTcacheThenTcacheHit) {
  TraceBuilder b;
  start_heap(b);
  uint64_t top = kTop0, ts = kTop0Size;
  uint64_t c = malloc_from_top(b, top, ts, 24, 32);
  b.free(c + 16);
  b.bin_in(c, 32, BinKind::Tcache, 0);
  {
    Replayed r(so_far(b));
    EXPECT_EQ(r.m.find(c)->state, uint8_t(ChunkState::Tcache));
    EXPECT_EQ(r.m.metrics().free_bytes, 32u);
    EXPECT_EQ(r.m.metrics().largest_free, 32u);
    EXPECT_EQ(r.m.metrics().live_bytes, 0u);
  }
  b.malloc(20, c + 16); // the hit: no chunk events
  Replayed r(b);
  EXPECT_EQ(r.m.find(c)->state, uint8_t(ChunkState::InUse));
  EXPECT_EQ(r.m.find(c)->req, 20u);
  EXPECT_EQ(r.m.metrics().free_bytes, 0u);
  EXPECT_EQ(r.m.metrics().live_bytes, 20u);
}

// The writer's usual form of the same free: one free_tcache event instead of free + bin_in.
TEST(Model, FreeTcacheIsFreePlusTcacheBinIn) {
  TraceBuilder b;
  start_heap(b);
  uint64_t top = kTop0, ts = kTop0Size;
  uint64_t c = malloc_from_top(b, top, ts, 100, 112);
  b.free_tcache(c + 16, 5);
  Replayed r(b);
  ASSERT_TRUE(r.m.find(c));
  EXPECT_EQ(r.m.find(c)->state, uint8_t(ChunkState::Tcache));
  EXPECT_EQ(r.m.find(c)->bin, 5u);
  EXPECT_EQ(r.m.find(c)->size, 112u);
  EXPECT_EQ(r.m.metrics().free_bytes, 112u);
  EXPECT_EQ(r.m.metrics().live_bytes, 0u);
}

TEST(Model, BinsInAndOut) {
  TraceBuilder b;
  start_heap(b);
  uint64_t top = kTop0, ts = kTop0Size;
  uint64_t c = malloc_from_top(b, top, ts, 1000, 1008);
  malloc_from_top(b, top, ts, 10, 32); // keeps c away from top
  b.free(c + 16);
  b.bin_in(c, 1008, BinKind::Unsorted, 0);
  b.bin_out(c, BinKind::Unsorted, 0);
  b.bin_in(c, 1008, BinKind::Small, 62);
  {
    Replayed r(so_far(b));
    EXPECT_EQ(r.m.find(c)->state, uint8_t(ChunkState::Small));
    EXPECT_EQ(r.m.find(c)->bin, 62);
  }
  b.bin_out(c, BinKind::Small, 62);
  b.chunk_alloc(c, 1008);
  b.malloc(999, c + 16);
  Replayed r(b);
  EXPECT_EQ(r.m.find(c)->state, uint8_t(ChunkState::InUse));
  EXPECT_EQ(r.m.find(c)->bin, 0);
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
}

// A free of an unknown chunk inside a heap is an anomaly the trace cannot explain; outside every
// heap it is a fake chunk the program freed (glibc's checks let it through): fake_frees() counts it.
TEST(Model, FreeOutsideEveryHeapIsAFakeChunk) {
  TraceBuilder b;
  start_heap(b);
  b.free(kHeap + 0x1000 + 16); // inside the heap, no chunk there
  Replayed inside(b);
  EXPECT_EQ(inside.m.anomalies(), 1u);
  EXPECT_EQ(inside.m.fake_frees(), 0u);
  TraceBuilder b2;
  start_heap(b2);
  b2.free(0x7ffc00001000 + 16); // the stack
  Replayed outside(b2);
  EXPECT_EQ(outside.m.anomalies(), 1u);
  EXPECT_EQ(outside.m.fake_frees(), 1u);
  EXPECT_NE(outside.m.first_anomaly().find("outside every heap, a fake chunk"), std::string::npos)
      << outside.m.first_anomaly();
  // The program's first call frees a fake chunk: glibc makes its heap only inside that free (for
  // the tcache), so the Free comes before any region. No heap exists: outside all of them.
  TraceBuilder b3;
  b3.free(0x7ffc00001000 + 16);
  start_heap(b3);
  Replayed first(b3);
  EXPECT_EQ(first.m.anomalies(), 1u);
  EXPECT_EQ(first.m.fake_frees(), 1u) << first.m.first_anomaly();
}

TEST(Model, BinOutOfTheWrongBinIsAnAnomaly) {
  TraceBuilder b;
  start_heap(b);
  uint64_t top = kTop0, ts = kTop0Size;
  uint64_t c = malloc_from_top(b, top, ts, 24, 32);
  b.free(c + 16);
  b.bin_in(c, 32, BinKind::Fast, 0);
  b.bin_out(c, BinKind::Small, 2);
  Replayed r(b);
  EXPECT_EQ(r.m.anomalies(), 1u);
  EXPECT_NE(
      r.m.first_anomaly().find("seq 9: bin_out of 0x555555559290 from a smallbin, but it is fastbin[0]"),
      std::string::npos)
      << r.m.first_anomaly();
}

TEST(Model, MergeWithPrevAndIntoTop) {
  TraceBuilder b;
  start_heap(b);
  uint64_t top = kTop0, ts = kTop0Size;
  uint64_t a = malloc_from_top(b, top, ts, 100, 112);
  uint64_t c = malloc_from_top(b, top, ts, 100, 112);
  uint64_t guard = malloc_from_top(b, top, ts, 10, 32);
  b.free(a + 16);
  b.bin_in(a, 112, BinKind::Unsorted, 0);
  b.free(c + 16);
  b.bin_out(a, BinKind::Unsorted, 0);
  b.merge(MergeHow::WithPrev, a, 224, c);
  b.bin_in(a, 224, BinKind::Unsorted, 0);
  {
    Replayed r(so_far(b));
    EXPECT_FALSE(r.m.find(c));
    EXPECT_EQ(r.m.find(a)->size, 224u);
    EXPECT_EQ(r.m.find(a)->state, uint8_t(ChunkState::Unsorted));
    EXPECT_EQ(r.m.metrics().free_bytes, 224u);
    EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
  }
  b.free(guard + 16);
  b.merge(MergeHow::IntoTop, guard, 32 + ts, top);
  b.top(guard, 32 + ts);
  Replayed r(b);
  EXPECT_EQ(r.m.top(0), guard);
  EXPECT_EQ(r.m.find(guard)->state, uint8_t(ChunkState::Top));
  EXPECT_EQ(r.m.find(guard)->size, 32 + ts);
  EXPECT_FALSE(r.m.find(top));
  EXPECT_EQ(r.m.chunk_count(), 2u); // a (unsorted) and top
}

TEST(Model, TopMoveErasesTheOldTopRecord) {
  TraceBuilder b;
  start_heap(b);
  b.top(kTop0 + 0x1000, kTop0Size - 0x1000); // e.g. a fence/scrap took the front
  Replayed r(b);
  EXPECT_FALSE(r.m.find(kTop0));
  EXPECT_EQ(r.m.top(0), kTop0 + 0x1000);
  EXPECT_EQ(r.m.chunk_count(), 1u);
}

TEST(Model, TopOfEachArenaIsTrackedSeparately) {
  TraceBuilder b;
  start_heap(b);
  b.thread(2);
  b.arena_new(1, 0x7ff000000020);
  b.arena(1);
  b.heap_new(0x7ff000000000, 0x21000);
  b.top(0x7ff0000008a0, 0x21000 - 0x8a0);
  b.top(0x7ff0000008c0, 0x21000 - 0x8c0);
  Replayed r(b);
  EXPECT_EQ(r.m.top(0), kTop0);
  EXPECT_EQ(r.m.top(1), 0x7ff0000008c0u);
  EXPECT_TRUE(r.m.find(kTop0));
  EXPECT_FALSE(r.m.find(0x7ff0000008a0));
  EXPECT_EQ(r.m.arena_count(), 2u);
  EXPECT_EQ(r.m.metrics().heap_bytes, 2u * 0x21000);
}

TEST(Model, HeapFreeErasesTheChunksOfTheRegion) {
  constexpr uint64_t kH = 0x7ff000000000, kNext = kH + 0x42000; // kNext: the next heap
  TraceBuilder b;
  start_heap(b);
  uint64_t top0 = kTop0, top0_size = kTop0Size;
  uint64_t main_chunk = malloc_from_top(b, top0, top0_size, 24, 32);
  b.thread(2);
  b.arena_new(1, kH + 0x20);
  b.arena(1);
  b.heap_new(kH, 0x21000);
  b.heap_new(kNext, 0x21000);
  b.fence(kNext, 0x20);
  b.top(kH + 0x8a0, 0x21000 - 0x8a0);
  b.heap_resize(kH, 0x42000); // the last known size counts, not the first
  b.top(kH + 0x8a0, 0x42000 - 0x8a0);
  uint64_t top1 = kH + 0x8a0, top1_size = 0x42000 - 0x8a0;
  b.split(top1, 0x20000, top1_size - 0x20000);
  b.chunk_alloc(top1, 0x20000);
  b.malloc(0x20000 - 8, top1 + 16);
  b.top(top1 + 0x20000, top1_size - 0x20000);
  b.free(top1 + 16);
  b.bin_in(top1, 0x20000, BinKind::Unsorted, 1);
  b.heap_free(kH);
  Replayed r(b);
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
  EXPECT_FALSE(r.m.find(top1));
  EXPECT_FALSE(r.m.find(top1 + 0x20000));
  EXPECT_EQ(r.m.top(1), 0u);
  EXPECT_TRUE(r.m.find(kNext)); // just past the freed region
  EXPECT_TRUE(r.m.find(main_chunk));
  EXPECT_EQ(r.m.top(0), top0);
  EXPECT_EQ(r.m.chunk_count(), 3u); // arena 0's chunk and top, the next heap's fence
  Metrics m = r.m.metrics();
  EXPECT_EQ(m.free_bytes, 0u);
  EXPECT_EQ(m.largest_free, 0u);
  EXPECT_EQ(m.heap_bytes, 2u * 0x21000);
}

// A non-main arena's new heap and its deletion, as libhvalloc writes them (docs/trace-format.md,
// "Heaps come and go"): the old top is cut and fenced before the new top's event, then freed;
// heap_trim merges the old top (free) and both fenceposts into the old heap's top again.
TEST(Model, ANewHeapAndItsDeletionReplayWithoutAnomalies) {
  constexpr uint64_t kH1 = 0x7ff000000000, kH2 = 0x7ff004000000, kMax = 0x4000000;
  constexpr uint64_t kOld = kH1 + kMax - 0x1020; // the old top: the last 0x1020 bytes of kH1
  TraceBuilder b;
  start_heap(b);
  b.thread(2);
  b.arena_new(1, kH1 + 0x20);
  b.arena(1);
  b.heap_new(kH1, kMax);
  b.top(kOld, 0x1020);
  b.mmap(kH2, kMax); // malloc(0x2000): kH1 cannot grow, a new heap
  b.heap_new(kH2, 0x21000);
  b.split(kOld, 0x1000, 0x20);
  b.fence(kOld + 0x1000, 0x10);
  b.fence(kOld + 0x1010, 0x10);
  b.top(kH2 + 0x30, 0x21000 - 0x30);
  b.chunk_free(kOld, 0x1000);
  b.bin_in(kOld, 0x1000, BinKind::Unsorted, 1);
  {
    Replayed r(so_far(b));
    EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
    EXPECT_EQ(r.m.top(1), kH2 + 0x30);
    ASSERT_TRUE(r.m.find(kOld));
    EXPECT_EQ(r.m.find(kOld)->state, uint8_t(ChunkState::Unsorted));
    EXPECT_EQ(r.m.find(kOld + 0x1010)->state, uint8_t(ChunkState::Fence));
    EXPECT_EQ(r.m.chunk_count(), 5u); // main top, the old top, two fenceposts, the new top
  }
  b.heap_free(kH2); // heap_trim: the new heap is empty again
  b.munmap(kH2, kMax);
  b.merge(MergeHow::WithNext, kOld, 0x1010, kOld + 0x1000);
  b.merge(MergeHow::IntoTop, kOld, 0x1020, kOld + 0x1010);
  b.top(kOld, 0x1020);
  Replayed r(b);
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
  EXPECT_EQ(r.m.top(1), kOld);
  EXPECT_EQ(r.m.find(kOld)->state, uint8_t(ChunkState::Top));
  EXPECT_EQ(r.m.find(kOld)->size, 0x1020u);
  EXPECT_EQ(r.m.chunk_count(), 2u); // the tops of both arenas: no fencepost outlives its heap
  EXPECT_EQ(r.m.metrics().free_bytes, 0u);
  EXPECT_EQ(r.m.metrics().heap_bytes, 0x21000u + kMax);
}

TEST(Model, MmappedChunksCountInTheFootprint) {
  TraceBuilder b;
  start_heap(b);
  b.mmap(0x7ffff7f00000, 0x42000);
  b.mmap_chunk(0x7ffff7f00010, 0x41ff0);
  b.malloc(270000, 0x7ffff7f00020);
  {
    Replayed r(so_far(b));
    const Chunk* k = r.m.find(0x7ffff7f00010);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->state, uint8_t(ChunkState::Mmapped));
    EXPECT_EQ(k->req, 270000u);
    EXPECT_EQ(r.m.metrics().heap_bytes, 0x21000u + 0x41ff0u);
    EXPECT_EQ(r.m.metrics().live_bytes, 270000u);
  }
  b.free(0x7ffff7f00020);
  b.munmap_chunk(0x7ffff7f00010);
  b.munmap(0x7ffff7f00000, 0x42000);
  Replayed r(b);
  EXPECT_FALSE(r.m.find(0x7ffff7f00010));
  EXPECT_EQ(r.m.metrics().heap_bytes, 0x21000u);
  EXPECT_EQ(r.m.metrics().live_bytes, 0u);
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
}

TEST(Model, ReallocInPlaceErasesTheRecordsItCovers) {
  TraceBuilder b;
  start_heap(b);
  uint64_t top = kTop0, ts = kTop0Size;
  uint64_t a = malloc_from_top(b, top, ts, 24, 32);
  uint64_t c = malloc_from_top(b, top, ts, 24, 32);
  malloc_from_top(b, top, ts, 24, 32);
  b.free(c + 16);
  b.bin_in(c, 32, BinKind::Tcache, 0);
  b.realloc_in_place(a, 32, 64);
  b.realloc(a + 16, 50, a + 16);
  Replayed r(b);
  EXPECT_FALSE(r.m.find(c));
  EXPECT_EQ(r.m.find(a)->size, 64u);
  EXPECT_EQ(r.m.find(a)->req, 50u);
  EXPECT_EQ(r.m.metrics().free_bytes, 0u);
}

TEST(Model, FragmentationIsOneMinusLargestOverTotalFree) {
  TraceBuilder b;
  start_heap(b);
  uint64_t top = kTop0, ts = kTop0Size;
  std::vector<uint64_t> sizes = {32, 64, 160, 80 * 1024}, chunks;
  for (uint64_t s : sizes) {
    chunks.push_back(malloc_from_top(b, top, ts, s - 8, s));
    malloc_from_top(b, top, ts, 8, 32); // separators
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    b.free(chunks[i] + 16);
    b.bin_in(chunks[i], sizes[i], i == 3 ? BinKind::Large : BinKind::Small, uint8_t(i));
  }
  Replayed r(b);
  Metrics m = r.m.metrics();
  EXPECT_EQ(m.free_bytes, 32u + 64 + 160 + 80 * 1024);
  EXPECT_EQ(m.largest_free, 80u * 1024);
  EXPECT_DOUBLE_EQ(m.fragmentation(), 1.0 - double(80 * 1024) / double(32 + 64 + 160 + 80 * 1024));
  EXPECT_EQ(m.live_bytes, 4u * 8);
  EXPECT_EQ(m.chunks, 9u);
  EXPECT_EQ(m.in_use, 4u);
}

TEST(Model, LargestFreeFollowsRemovals) {
  FreeSizes f;
  f.add(32);
  f.add(4096);
  f.add(200000);
  f.add(4096);
  EXPECT_EQ(f.largest(), 200000u);
  f.remove(200000);
  EXPECT_EQ(f.largest(), 4096u);
  f.remove(4096);
  EXPECT_EQ(f.largest(), 4096u);
  f.remove(4096);
  EXPECT_EQ(f.largest(), 32u);
  f.remove(32);
  EXPECT_EQ(f.largest(), 0u);
}

// The allocator says which chunk is its own (glibc's tcache struct: an `internal` event after its
// chunk_alloc). The model marks that chunk, and no other of its size, until the chunk changes.
TEST(Model, InternalMarksTheAllocatorsOwnChunkNotAnyChunkOfItsSize) {
  TraceBuilder b;
  b.heap_new(kHeap, 0x21000);
  b.top(kHeap, 0x21000);
  b.split(kHeap, 0x290, kTop0Size); // tcache_init: a 0x290 chunk nobody asked for
  b.top(kTop0, kTop0Size);
  b.chunk_alloc(kHeap, 0x290);
  b.internal(kHeap, 0x290);
  uint64_t top = kTop0, ts = kTop0Size;
  uint64_t mine = malloc_from_top(b, top, ts, 0x280, 0x290); // the program's malloc(0x280)
  {
    Replayed r(so_far(b));
    EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
    ASSERT_TRUE(r.m.find(kHeap) && r.m.find(mine));
    EXPECT_TRUE(r.m.find(kHeap)->internal);
    EXPECT_EQ(r.m.find(kHeap)->state, uint8_t(ChunkState::InUse));
    EXPECT_FALSE(r.m.find(mine)->internal);
    EXPECT_EQ(r.m.find(mine)->size, r.m.find(kHeap)->size);
    // Checkpoints keep the mark.
    HeapModel back;
    back.restore(r.m.save());
    EXPECT_TRUE(back.find(kHeap)->internal);
    EXPECT_FALSE(back.find(mine)->internal);
  }
  b.chunk_free(kHeap, 0x290); // the thread's tcache goes away: the chunk is the heap's again
  b.bin_in(kHeap, 0x290, BinKind::Unsorted, 1);
  Replayed r(b);
  EXPECT_FALSE(r.m.find(kHeap)->internal);
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
}

TEST(Model, InternalOfAChunkNotInUseIsAnAnomaly) {
  TraceBuilder b;
  start_heap(b);
  b.internal(kHeap + 0x100000, 0x290);
  b.internal(kTop0, kTop0Size);
  Replayed r(b);
  EXPECT_EQ(r.m.anomalies(), 2u);
  EXPECT_NE(r.m.first_anomaly().find("internal 0x555555659000, which is not a known chunk"),
            std::string::npos)
      << r.m.first_anomaly();
  EXPECT_FALSE(r.m.find(kTop0)->internal);
}

TEST(Model, FreeOfAnUnknownPointerIsAnAnomalyNamingItsOffset) {
  TraceBuilder b;
  start_heap(b);
  b.free(0x1234560);
  Replayed r(b);
  EXPECT_EQ(r.m.anomalies(), 1u);
  EXPECT_NE(r.m.first_anomaly().find("seq 3: free of 0x1234560, which is not a known chunk"),
            std::string::npos)
      << r.m.first_anomaly();
  EXPECT_EQ(r.m.first_anomaly().rfind("offset ", 0), 0u);
}

// ---- Snapshots ---------------------------------------------------------------------------------

namespace {
Snapshot last_snapshot(TraceBuilder& b, HeapModel& model_out) {
  TempFile tf(b.finish());
  TraceFile f;
  EXPECT_TRUE(f.open(tf.path));
  EventStream s(f);
  SnapshotAssembler as;
  Snapshot snap;
  while (const Event* e = s.next()) {
    model_out.apply(*e);
    if (e->type == Ev::Snapshot && as.feed(*e)) snap = as.snapshot();
  }
  return snap;
}

void heap_with_tcache_chunk(TraceBuilder& b, uint64_t& a, uint64_t& c, uint64_t& top, uint64_t& ts) {
  start_heap(b);
  top = kTop0;
  ts = kTop0Size;
  a = malloc_from_top(b, top, ts, 24, 32);
  c = malloc_from_top(b, top, ts, 24, 32);
  b.free(c + 16);
  b.bin_in(c, 32, BinKind::Tcache, 0);
}
} // namespace

TEST(Snapshot, MatchingSnapshotVerifies) {
  TraceBuilder b;
  uint64_t a, c, top, ts;
  heap_with_tcache_chunk(b, a, c, top, ts);
  b.snapshot({{a, 32, ChunkState::InUse, 0}, {c, 32, ChunkState::Tcache, 0}, {top, ts, ChunkState::Top, 0}});
  HeapModel m;
  Snapshot s = last_snapshot(b, m);
  ASSERT_EQ(s.entries.size(), 3u);
  EXPECT_FALSE(verify_snapshot(m, s));
}

TEST(Snapshot, FirstDifferenceIsReported) {
  TraceBuilder b;
  uint64_t a, c, top, ts;
  heap_with_tcache_chunk(b, a, c, top, ts);
  b.snapshot({{a, 32, ChunkState::InUse, 0}, {c, 32, ChunkState::Fast, 0}, {top, ts, ChunkState::Top, 0}});
  HeapModel m;
  auto mm = verify_snapshot(m, last_snapshot(b, m));
  ASSERT_TRUE(mm);
  EXPECT_EQ(mm->describe(),
            "chunk 0x5555555592b0: snapshot has size 32 fastbin[0], model has size 32 tcache[0]");
}

TEST(Snapshot, MissingAndExtraChunksAreReported) {
  TraceBuilder b;
  uint64_t a, c, top, ts;
  heap_with_tcache_chunk(b, a, c, top, ts);
  b.snapshot({{a, 32, ChunkState::InUse, 0}, {top, ts, ChunkState::Top, 0}});
  HeapModel m;
  auto mm = verify_snapshot(m, last_snapshot(b, m));
  ASSERT_TRUE(mm);
  EXPECT_EQ(mm->describe(), "chunk 0x5555555592b0: snapshot has no chunk, model has size 32 tcache[0]");
}

TEST(Snapshot, CoarseComparesTcacheAsInUse) {
  TraceBuilder b;
  uint64_t a, c, top, ts;
  heap_with_tcache_chunk(b, a, c, top, ts);
  b.snapshot({{a, 32, ChunkState::InUse, 0}, {c, 32, ChunkState::InUse, 0}, {top, ts, ChunkState::Top, 0}},
             kSnapshotCoarse);
  HeapModel m;
  EXPECT_FALSE(verify_snapshot(m, last_snapshot(b, m)));
}

TEST(Snapshot, PartsAreJoined) {
  TraceBuilder b;
  uint64_t a, c, top, ts;
  heap_with_tcache_chunk(b, a, c, top, ts);
  b.snapshot({{a, 32, ChunkState::InUse, 0}}, kSnapshotMore);
  b.snapshot({{c, 32, ChunkState::Tcache, 0}}, kSnapshotMore);
  b.snapshot({{top, ts, ChunkState::Top, 0}});
  HeapModel m;
  Snapshot s = last_snapshot(b, m);
  EXPECT_EQ(s.entries.size(), 3u);
  EXPECT_FALSE(verify_snapshot(m, s));
}

TEST(Snapshot, BaselineInitialisesTheModel) {
  TraceBuilder b;
  b.heap_new(kHeap, 0x21000);
  b.snapshot({{kHeap + 0x290, 48, ChunkState::InUse, 0},
              {kHeap + 0x2c0, 64, ChunkState::Small, 3},
              {kHeap + 0x300, 0x21000 - 0x300, ChunkState::Top, 0}},
             kSnapshotBaseline);
  // The first top event of the arena claims the baseline's top.
  b.split(kHeap + 0x300, 32, 0x21000 - 0x320);
  b.top(kHeap + 0x320, 0x21000 - 0x320);
  b.chunk_alloc(kHeap + 0x300, 32);
  b.malloc(20, kHeap + 0x310);
  Replayed r(b);
  EXPECT_EQ(r.m.find(kHeap + 0x2c0)->state, uint8_t(ChunkState::Small));
  EXPECT_EQ(r.m.find(kHeap + 0x300)->state, uint8_t(ChunkState::InUse));
  EXPECT_EQ(r.m.top(0), kHeap + 0x320);
  EXPECT_EQ(r.m.chunk_count(), 4u);
  EXPECT_EQ(r.m.metrics().free_bytes, 64u);
  EXPECT_EQ(r.m.anomalies(), 0u) << r.m.first_anomaly();
}

// The pass summary (analysis/trace_summary.h), fed by the replay pass: counts, peaks, the time
// span and the timeline's series, as a plain loop over the events computes them.
TEST(Summary, PeaksCountsAndSeriesOfAPass) {
  TraceBuilder b;
  ChurnTrace gen(b, 1, 3, 500);
  gen.run(50000);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  Replay rp(f);
  analysis::TraceSummary sum(f.indexed_events(), 100);
  uint64_t peak_live = 0, peak_heap = 0, frees = 0, n = 0, first_ts = UINT64_MAX, last_ts = 0;
  const uint64_t step = (f.indexed_events() + 99) / 100; // the series' step
  uint64_t bucket_heap = 0;
  rp.build([&](const Event& e, const HeapModel& m) {
    sum.add(e, m);
    ++n;
    peak_live = std::max(peak_live, m.live_bytes());
    peak_heap = std::max(peak_heap, m.heap_bytes());
    frees += e.type == Ev::Free || e.type == Ev::FreeTcache;
    first_ts = std::min(first_ts, e.ts);
    last_ts = std::max(last_ts, e.ts);
    if (n > 49 * step && n <= 50 * step) bucket_heap = std::max(bucket_heap, m.heap_bytes());
  });
  sum.finish(rp.model());
  EXPECT_EQ(sum.events(), rp.size());
  EXPECT_EQ(sum.peak_live(), peak_live);
  EXPECT_EQ(sum.peak_heap(), peak_heap);
  EXPECT_GT(peak_heap, 0u);
  EXPECT_EQ(sum.calls(Ev::Free), frees);
  EXPECT_EQ(sum.duration_ns(), last_ts - first_ts);
  // One point every ceil(events / 100) events, plus the start and the end.
  ASSERT_GE(sum.series().size(), 101u);
  ASSERT_LE(sum.series().size(), 102u);
  EXPECT_EQ(sum.series().front().pos, 0u);
  EXPECT_EQ(sum.series().back().pos, rp.size());
  ASSERT_EQ(sum.series()[50].pos, 50 * step);
  EXPECT_EQ(sum.series()[50].heap, bucket_heap); // the highest footprint since point 49
}

TEST(Checkpoints, ReplayCountsTheEventsOfARunThatEndsAtADecodeError) {
  TraceBuilder b;
  start_heap(b);
  uint64_t top = kTop0, top_size = kTop0Size;
  for (int i = 0; i < 20; ++i)
    malloc_from_top(b, top, top_size, 24, 32);
  b.raw_event(0x77, 160);
  b.raw(std::vector<uint8_t>(120, 0)); // bytes after it: decoded in the unchecked run loop
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  uint64_t n = 0;
  HeapModel linear;
  {
    EventStream s(f);
    while (const Event* e = s.next()) {
      linear.apply(*e);
      ++n;
    }
    ASSERT_TRUE(s.error());
  }
  EXPECT_EQ(n, 2u + 20 * 4);
  // Seeks apply at once, and 16 events late (as on a large heap): the same either way, up to
  // the last event before the error.
  for (size_t delayed_from : {SIZE_MAX, size_t(0)}) {
    SCOPED_TRACE(delayed_from ? "applied at once" : "applied late");
    Replay rp(f);
    rp.set_delayed_apply_from(delayed_from);
    uint64_t seen = 0;
    rp.build([&](const Event&, const HeapModel&) { ++seen; });
    ASSERT_TRUE(rp.error());
    EXPECT_EQ(rp.error()->kind, ErrorKind::BadEvent);
    EXPECT_EQ(rp.size(), n);
    EXPECT_EQ(seen, n);
    EXPECT_EQ(rp.position(), n);
    EXPECT_EQ(rp.model().chunk_count(), linear.chunk_count());
    EXPECT_EQ(rp.model().live_bytes(), linear.live_bytes());
    ASSERT_TRUE(rp.last_event());
    EXPECT_EQ(rp.last_event()->seq, n); // numbered from 1
    EXPECT_TRUE(rp.seek(n / 2));
    EXPECT_TRUE(rp.seek(n));
    EXPECT_EQ(rp.model().live_bytes(), linear.live_bytes());
    EXPECT_EQ(rp.last_event()->seq, n);
  }
}
