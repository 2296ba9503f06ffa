// released_test.cpp - pages handed back to the system (model/released.h): the set itself, a
// hand-made trace with exact numbers (a trimmed free chunk, reused; a heap shrunk), seeks through
// checkpoints, and the simulated glibc's malloc_trim against mtrim's rule computed here.
#include "../trace/test_util.h"
#include "analysis/trace_summary.h"
#include "heapviz/simulated_heap.h"
#include "model/replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <unistd.h>

using namespace hv::trace;
using namespace hv::model;
using hv::test::TempFile;
namespace analysis = hv::analysis;

namespace {

constexpr uint64_t kHeap = 0x555555559000, kPage = 0x1000;

// Every event of a builder's trace applied to a model, with the summary of the pass.
struct Replayed {
  TempFile file;
  TraceFile f;
  HeapModel m;
  analysis::TraceSummary sum{0};
  explicit Replayed(TraceBuilder& b) : file(b.finish()) {
    EXPECT_TRUE(f.open(file.path));
    m.set_page_size(f.header().page_size);
    EventStream s(f);
    while (const Event* e = s.next()) {
      m.apply(*e);
      sum.add(*e, m);
    }
    sum.finish(m);
    EXPECT_FALSE(s.error());
    EXPECT_EQ(m.anomalies(), 0u) << m.first_anomaly();
  }
};

} // namespace

TEST(Released, PageSetJoinsSplitsAndCountsBytes) {
  ReleasedPages r;
  r.add(0x1000, 0x3000);
  r.add(0x3000, 0x5000); // touches the first: one range
  r.add(0x2000, 0x4000); // inside: counted once
  EXPECT_EQ(r.ranges(), 1u);
  EXPECT_EQ(r.bytes(), 0x4000u);
  r.touch(0x2ff0, 0x3010); // two bytes' pages come back: [0x2000, 0x4000)
  EXPECT_EQ(r.ranges(), 2u);
  EXPECT_EQ(r.bytes(), 0x2000u);
  EXPECT_EQ(r.bytes_in(0x1800, 0x4800), 0x1000u);
  r.forget(0x4800, 0x9000); // left the heap: to the byte
  EXPECT_EQ(r.bytes(), 0x1800u);
  r.add(0x9000, 0xa000);
  std::vector<std::pair<uint64_t, uint64_t>> got;
  r.for_each_in(0x1800, 0x9800, [&](uint64_t a, uint64_t b) { got.emplace_back(a, b); });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], std::make_pair(uint64_t(0x1800), uint64_t(0x2000)));
  EXPECT_EQ(got[1], std::make_pair(uint64_t(0x4000), uint64_t(0x4800)));
  EXPECT_EQ(got[2], std::make_pair(uint64_t(0x9000), uint64_t(0x9800)));
  r.touch(0, 0x10000);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.bytes(), 0u);
}

// glibc's malloc_trim on one free chunk of 0x20000 at heap + 0x290, then a malloc that takes its
// first 0x7d70 bytes: the chunk handed out is resident again, and so is the page of the rest's
// header (at heap + 0x8000, a page the chunk in use does not reach).
TEST(Released, TrimmedFreeChunkIsNotResidentUntilReused) {
  TraceBuilder b;
  const uint64_t f = kHeap + 0x290, fsize = 0x20000, g = f + fsize;
  b.heap_new(kHeap, 0x40000);
  b.top(kHeap + 0x290, 0x40000 - 0x290);
  b.split(f, fsize, 0x40000 - 0x290 - fsize);
  b.top(g, 0x40000 - 0x290 - fsize);
  b.chunk_alloc(f, fsize);
  b.malloc(fsize - 8, f + 16);
  b.split(g, 0x20, 0x40000 - 0x290 - fsize - 0x20); // a guard keeps f from top
  b.top(g + 0x20, 0x40000 - 0x290 - fsize - 0x20);
  b.chunk_alloc(g, 0x20);
  b.malloc(24, g + 16);
  b.free(f + 16);
  b.bin_in(f, fsize, BinKind::Unsorted, 1);
  // mtrim: the pages from the first one past f + 48 to the last whole one inside f.
  const uint64_t rel = kHeap + kPage, rel_len = (f + fsize - rel) & ~(kPage - 1);
  ASSERT_EQ(rel_len, 0x1f000u);
  b.release(rel, rel_len);
  b.mark("trimmed");
  // malloc(0x7d68): the unsorted chunk is split; the rest's header starts a page.
  const uint64_t nb = 0x8000 - 0x290;
  b.split(f, nb, fsize - nb);
  b.bin_in(f + nb, fsize - nb, BinKind::Unsorted, 1);
  b.chunk_alloc(f, nb);
  b.malloc(nb - 8, f + 16);
  // The rest is allocated whole later: every page of it is resident again.
  b.chunk_alloc(f + nb, fsize - nb);
  b.malloc(fsize - nb - 8, f + nb + 16);
  Replayed r(b);
  EXPECT_EQ(r.m.released_bytes(), 0u);

  // Step by step, at the mark and after the first malloc.
  Replay rp(r.f);
  rp.build();
  uint64_t at_mark = 0;
  for (uint64_t i = 1; i <= rp.size(); ++i) {
    rp.seek(i);
    if (rp.last_event()->type == Ev::Mark) at_mark = i;
  }
  ASSERT_GT(at_mark, 0u);
  rp.seek(at_mark);
  Metrics m = rp.model().metrics();
  EXPECT_EQ(m.released_bytes, 0x1f000u);
  EXPECT_EQ(m.heap_bytes, 0x40000u);
  EXPECT_EQ(m.resident_bytes(), 0x21000u);
  EXPECT_EQ(rp.model().released().bytes_in(f, f + fsize), 0x1f000u);
  rp.seek(at_mark + 4); // split, bin_in, chunk_alloc, malloc
  // [heap + 0x1000, heap + 0x8000) under the chunk in use, [heap + 0x8000, + 0x1000) under the
  // rest's header and list words.
  EXPECT_EQ(rp.model().released_bytes(), 0x1f000u - 0x7000 - 0x1000);
  EXPECT_EQ(rp.model().released().bytes_in(kHeap, kHeap + 0x9000), 0u);
  rp.seek(at_mark + 2); // the split and the rest's bin_in only: the rest's header page is back
  EXPECT_EQ(rp.model().released_bytes(), 0x1f000u - 0x1000);
  // The peak footprint came before the trim: nothing was released then.
  EXPECT_EQ(r.sum.peak_heap(), 0x40000u);
  EXPECT_EQ(r.sum.peak_released(), 0u);
}

// A heap of a non-main arena shrinks (heap_trim: madvise the tail, then heap_resize): the tail
// counts as released only until the region ends before it; bytes outside any region never count.
TEST(Released, HeapShrinkAndOutsideRegionsLeaveNothingReleased) {
  TraceBuilder b;
  const uint64_t h = 0x7f0000000000, top = h + 0x8a0;
  b.arena_new(1, h + 0x20);
  b.arena(1);
  b.mmap(h, 0x4000000);
  b.heap_new(h, 0x84000);
  b.top(top, 0x84000 - 0x8a0);
  b.release(h + 0x4000, 0x80000);
  b.mark("released");
  b.heap_resize(h, 0x4000);
  b.top(top, 0x4000 - 0x8a0);
  b.trim(0x80000);
  b.release(0x7e0000000000, 0x10000); // no region there
  Replayed r(b);
  EXPECT_EQ(r.m.released_bytes(), 0u);
  EXPECT_EQ(r.m.heap_bytes(), 0x4000u);
  Replay rp(r.f);
  rp.build();
  rp.seek(7); // through the mark
  EXPECT_EQ(rp.last_event()->type, Ev::Mark);
  EXPECT_EQ(rp.model().released_bytes(), 0x80000u);
  EXPECT_EQ(rp.model().metrics().resident_bytes(), 0x4000u);
}

// Released pages survive checkpoints: every position reached by seeking (forward, backward,
// through restored checkpoints) has the released bytes of a linear replay.
TEST(Released, SeeksThroughCheckpointsKeepReleasedPages) {
  TraceBuilder b;
  b.heap_new(kHeap, 0x100000);
  uint64_t top = kHeap + 0x290, ts = 0x100000 - 0x290;
  b.top(top, ts);
  std::vector<uint64_t> chunks;
  for (int i = 0; i < 24; ++i) { // 0x3000-byte chunks, every other one freed and trimmed
    b.split(top, 0x3000, ts - 0x3000);
    chunks.push_back(top);
    b.chunk_alloc(top, 0x3000);
    b.malloc(0x3000 - 8, top + 16);
    top += 0x3000, ts -= 0x3000;
    b.top(top, ts);
  }
  for (size_t i = 0; i < chunks.size(); i += 2) {
    b.free(chunks[i] + 16);
    b.bin_in(chunks[i], 0x3000, BinKind::Unsorted, 1);
  }
  for (size_t i = 0; i < chunks.size(); i += 2) {
    uint64_t p = (chunks[i] + 48 + kPage - 1) & ~(kPage - 1);
    b.release(p, (chunks[i] + 0x3000 - p) & ~(kPage - 1));
  }
  for (size_t i = 0; i < chunks.size(); i += 4) { // reused
    b.chunk_alloc(chunks[i], 0x3000);
    b.malloc(0x3000 - 8, chunks[i] + 16);
  }
  Replayed r(b);
  Replay rp(r.f);
  rp.set_checkpoint_every(16);
  rp.build();
  std::vector<uint64_t> want;
  HeapModel lin;
  EventStream s(r.f);
  want.push_back(0);
  while (const Event* e = s.next()) {
    lin.apply(*e);
    want.push_back(lin.released_bytes());
  }
  ASSERT_EQ(want.size(), rp.size() + 1);
  EXPECT_GT(*std::max_element(want.begin(), want.end()), 0u);
  for (uint64_t i = rp.size() + 1; i-- > 0;) {
    rp.seek(i);
    ASSERT_EQ(rp.model().released_bytes(), want[i]) << "at " << i;
  }
  for (uint64_t i = 0; i <= rp.size(); i += 7) {
    rp.seek(i);
    ASSERT_EQ(rp.model().released_bytes(), want[i]) << "at " << i;
  }
  EXPECT_EQ(want.back(), r.m.released_bytes());
  EXPECT_EQ(r.m.released_bytes(), 6u * 0x2000); // 6 of the 12 trimmed chunks still free
}

namespace {

// glibc 2.36's mtrim on one free chunk: the whole pages from the first page boundary at or past
// chunk + sizeof(struct malloc_chunk) (48) to the chunk's end.
uint64_t mtrim_bytes(uint64_t chunk, uint64_t size) {
  uint64_t p = (chunk + 48 + kPage - 1) & ~(kPage - 1);
  return chunk + size > p ? (chunk + size - p) & ~(kPage - 1) : 0;
}

// What mtrim releases from the simulated heap's free chunks now (those in bins it walks: the
// unsorted bin and the bins of a page and up; tcache and fast chunks are never that large).
uint64_t trimmable(hv::alloc::SimulatedHeap& heap) {
  uint64_t n = 0;
  heap.for_each_chunk([&](const hv::alloc::SimulatedHeap::ChunkInfo& c) {
    if (c.state == ChunkState::Unsorted || c.state == ChunkState::Small || c.state == ChunkState::Large)
      n += mtrim_bytes(c.addr, c.size);
    return true;
  });
  return n;
}

} // namespace

// The simulated glibc's malloc_trim writes a `release` per free chunk it trims, exactly mtrim's
// pages; the model counts them, and stops counting those of a chunk the program takes back.
TEST(Released, SimulatedMallocTrimReleasesExactlyMtrimsPages) {
  std::string path = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/hvtrim_" +
                     std::to_string(getpid()) + ".hvt";
  hv::alloc::SimulatedHeap heap;
  ASSERT_TRUE(heap.trace_start(path.c_str(), 0));
  void* p[40];
  for (void*& q : p)
    q = heap.malloc(0x7ff0); // 0x8000-byte chunks, below the mmap threshold
  for (int i = 1; i < 29; i += 2)
    heap.free(p[i]); // apart from one another: unsorted (p[29] stays between them and the rest)
  for (int i = 30; i < 39; ++i)
    heap.free(p[i]); // coalesced into one chunk of 9 x 0x8000
  uint64_t before = trimmable(heap);
  EXPECT_EQ(heap.malloc_trim(0), 1);
  uint64_t expected = trimmable(heap);
  EXPECT_EQ(expected, before); // trimming keeps the chunks as they are
  // The heap starts on a page: every chunk starts 0x290 into one.
  EXPECT_EQ(expected, 14 * mtrim_bytes(0x290, 0x8000) + mtrim_bytes(0x290, 9 * 0x8000));
  heap.trace_mark("trimmed");
  void* again = heap.malloc(0x7ff0); // a trimmed chunk of the same size, resident again
  uint64_t after = trimmable(heap);
  EXPECT_LT(after, expected);
  heap.trace_stop();

  TraceFile f;
  ASSERT_TRUE(f.open(path)) << f.error()->describe();
  HeapModel m;
  m.set_page_size(f.header().page_size);
  EventStream s(f);
  uint64_t at_mark = UINT64_MAX, release_events = 0, release_sum = 0;
  while (const Event* e = s.next()) {
    m.apply(*e);
    if (e->type == Ev::Release) ++release_events, release_sum += e->size;
    if (e->type == Ev::Mark) at_mark = m.released_bytes();
  }
  ASSERT_FALSE(s.error());
  EXPECT_EQ(m.anomalies(), 0u) << m.first_anomaly();
  EXPECT_EQ(release_events, 15u);
  EXPECT_EQ(release_sum, expected);
  EXPECT_EQ(at_mark, expected);
  EXPECT_EQ(m.released_bytes(), after);
  (void)again;
  unlink(path.c_str());
}
