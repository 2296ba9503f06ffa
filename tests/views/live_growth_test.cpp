// live_growth_test.cpp - a live capture's history growing in place (Document::extend, over
// TraceFile::grow, EventStream::refresh_blocks, Replay::extend, the fed EventIndex and
// TraceSummary::resume): after any number of syncs it must be exactly the file opened whole, and
// an extension must cost the new events, not the history.
#include "../model/same_state.h"
#include "session/document.h"
#include "trace/churn_trace.h"
#include "trace/trace_builder.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <unistd.h>

using namespace hv;
using session::Document;
using trace::Event;
using Growth = trace::TraceFile::Growth;

namespace {

std::string temp_path(const std::string& name) {
  const char* dir = getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/hvgrow_" + std::to_string(getpid()) + "_" + name;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_TRUE(f);
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
}

// A churn on two threads, with every thread's block written at each sync (as a live capture's
// sync point: every event before it is in the file), a third thread that starts writing marks
// half way, and the file offsets of the syncs.
struct SyncedTrace {
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> syncs;
  SyncedTrace(bool zstd, int nsyncs, uint64_t events_per_sync, uint64_t seed) {
    trace::TraceBuilder b(0, 8 * 1024);
    b.set_zstd(zstd);
    trace::ChurnTrace gen(b, 2, seed, 1500);
    for (int k = 0; k < nsyncs; ++k) {
      gen.run(b.next_seq() - 1 + events_per_sync);
      if (k >= nsyncs / 2) { // a thread the first syncs did not have
        b.thread(7777);
        b.mark(("sync " + std::to_string(k)).c_str());
      }
      b.flush();
      syncs.push_back(b.bytes().size());
    }
    bytes = b.finish();
  }
};

// Everything the app shows of a document: the replay at many positions, the index (reads,
// searches, marks, threads) and the summary.
void expect_same_document(Document& grown, Document& whole, uint64_t seed) {
  ASSERT_EQ(grown.events(), whole.events());
  const uint64_t n = whole.events();
  ASSERT_EQ(grown.index().size(), n);
  EXPECT_EQ(grown.index().threads(), whole.index().threads());
  EXPECT_EQ(grown.index().first_ts(), whole.index().first_ts());
  ASSERT_EQ(grown.index().marks().size(), whole.index().marks().size());
  for (size_t k = 0; k < whole.index().marks().size(); ++k) {
    EXPECT_EQ(grown.index().marks()[k].index, whole.index().marks()[k].index);
    EXPECT_EQ(grown.index().marks()[k].label, whole.index().marks()[k].label);
  }
  for (uint64_t g = 0; g * session::EventIndex::kGroup < n; ++g)
    ASSERT_EQ(grown.index().group_kinds(g), whole.index().group_kinds(g)) << "group " << g;
  const auto &sa = grown.summary(), &sb = whole.summary();
  EXPECT_EQ(sa.events(), sb.events());
  for (int t = 0; t < 256; ++t)
    ASSERT_EQ(sa.count(uint8_t(t)), sb.count(uint8_t(t))) << "type " << t;
  EXPECT_EQ(sa.peak_heap(), sb.peak_heap());
  EXPECT_EQ(sa.peak_live(), sb.peak_live());
  EXPECT_EQ(sa.duration_ns(), sb.duration_ns());
  ASSERT_FALSE(sa.series().empty());
  EXPECT_EQ(sa.series().back().pos, n);
  uint64_t series_peak = 0;
  for (const auto& p : sa.series())
    series_peak = std::max(series_peak, p.heap);
  EXPECT_EQ(series_peak, sb.peak_heap());

  std::mt19937_64 rng(seed);
  std::vector<Event> ra, rb;
  for (int k = 0; k < 40; ++k) { // windows anywhere, in random order
    uint64_t first = rng() % n, count = 1 + rng() % 300;
    grown.index().read(first, count, &ra);
    whole.index().read(first, count, &rb);
    ASSERT_EQ(ra.size(), rb.size());
    for (size_t i = 0; i < ra.size(); ++i)
      ASSERT_TRUE(hv::test::same_event(ra[i], rb[i])) << "event " << first + i;
  }
  for (uint32_t mask :
       {uint32_t(session::kKindMark), uint32_t(session::kKindGrow), uint32_t(session::kKindFree)}) {
    for (int k = 0; k < 5; ++k) {
      uint64_t from = rng() % n;
      EXPECT_EQ(grown.index().find_next(from, mask), whole.index().find_next(from, mask));
      EXPECT_EQ(grown.index().find_prev(from, mask), whole.index().find_prev(from, mask));
    }
  }
  std::vector<uint64_t> at = {0, 1, n / 2, n - 1, n};
  for (int k = 0; k < 10; ++k)
    at.push_back(rng() % (n + 1));
  for (uint64_t p : at) {
    grown.seek(p);
    whole.seek(p);
    ASSERT_EQ(grown.position(), p);
    hv::test::expect_same_state(grown.replay().model(), whole.replay().model(), p);
    if (p) {
      EXPECT_TRUE(hv::test::same_event(*grown.replay().last_event(), *whole.replay().last_event())) << p;
    }
  }
}

void grow_at_every_sync(bool zstd) {
  SyncedTrace t(zstd, 12, 20000, zstd ? 5 : 6);
  std::string path = temp_path(zstd ? "z.hvt" : "r.hvt");
  write_file(path, t.bytes);
  Document grown;
  grown.open_prefix(path, t.syncs[0]);
  ASSERT_EQ(grown.wait(), Document::State::Ready) << grown.error();
  EXPECT_EQ(grown.error(), "");
  uint64_t before = grown.events();
  for (size_t k = 1; k < t.syncs.size(); ++k) {
    if (k % 3 == 0) grown.seek(grown.events() / 3); // looking back: the extension reloads the end
    ASSERT_EQ(grown.extend(t.syncs[k]), Growth::Grown) << "sync " << k;
    EXPECT_EQ(grown.position(), grown.events()); // at the new end
    EXPECT_EQ(grown.replay().extended(), grown.events() - before);
    before = grown.events();
    EXPECT_EQ(grown.error(), "");
  }
  EXPECT_EQ(grown.extend(t.syncs.back()), Growth::Same);
  Document whole;
  whole.open(path);
  ASSERT_EQ(whole.wait(), Document::State::Ready) << whole.error();
  EXPECT_EQ(grown.file().blocks().size(), whole.file().blocks().size());
  EXPECT_EQ(grown.index().threads().size(), 3u); // the third thread came with a later sync
  expect_same_document(grown, whole, 99);
  unlink(path.c_str());
}

} // namespace

TEST(LiveGrowth, GrowingAtEverySyncIsTheWholeFile) {
  grow_at_every_sync(false);
}

TEST(LiveGrowth, GrowingAtEverySyncIsTheWholeFileWithZstdBlocks) {
  grow_at_every_sync(true);
}

// A million events of history, then syncs of a few thousand: an extension replays the new
// events and nothing else (the first one may reload the end once from a checkpoint: the pass
// decoded ahead and left its stream elsewhere), and its index reads come back right.
TEST(LiveGrowth, AnExtensionCostsTheNewEventsNotTheHistory) {
  trace::TraceBuilder b(0, 64 * 1024);
  trace::ChurnTrace gen(b, 3, 21, 4000);
  gen.run(1000000);
  b.flush();
  std::vector<uint64_t> syncs = {b.bytes().size()};
  for (int k = 0; k < 3; ++k) {
    gen.run(b.next_seq() - 1 + 3000);
    b.flush();
    syncs.push_back(b.bytes().size());
  }
  std::string path = temp_path("m.hvt");
  write_file(path, b.finish());
  Document doc;
  doc.open_prefix(path, syncs[0]);
  ASSERT_EQ(doc.wait(), Document::State::Ready) << doc.error();
  ASSERT_GE(doc.events(), 1000000u);
  uint64_t history = doc.events();
  ASSERT_EQ(doc.extend(syncs[1]), Growth::Grown);
  EXPECT_LE(doc.replay().replayed(), 8 * model::Replay::kMinCheckpointEvery); // a reload at most
  for (size_t k = 2; k < syncs.size(); ++k) {
    uint64_t was = doc.events();
    ASSERT_EQ(doc.extend(syncs[k]), Growth::Grown);
    EXPECT_EQ(doc.replay().replayed(), 0u) << "sync " << k; // it was at the end: no reload
    EXPECT_GE(doc.replay().extended(), 3000u);
    EXPECT_LE(doc.replay().extended(), 3100u);
    EXPECT_EQ(doc.events(), was + doc.replay().extended());
  }
  EXPECT_GE(doc.events(), history + 9000);
  Document whole;
  whole.open(path);
  ASSERT_EQ(whole.wait(), Document::State::Ready);
  ASSERT_EQ(doc.events(), whole.events());
  std::vector<Event> ra, rb;
  doc.index().read(history - 100, 9200, &ra);
  whole.index().read(history - 100, 9200, &rb);
  ASSERT_EQ(ra.size(), rb.size());
  for (size_t i = 0; i < ra.size(); ++i)
    ASSERT_TRUE(hv::test::same_event(ra[i], rb[i])) << "event " << history - 100 + i;
  hv::test::expect_same_state(doc.replay().model(), whole.replay().model(), doc.events());
  unlink(path.c_str());
}

// A refresh with a budget (the app's: a frame replays at most so many events) stops at a run
// bound past it, shows that prefix (a heap state like any other), and goes on at the next call
// although the file has not grown again, until it has caught up: then it is the whole file.
TEST(LiveGrowth, ABudgetCatchesUpOverSeveralCallsToTheWholeFile) {
  SyncedTrace t(false, 3, 60000, 8);
  std::string path = temp_path("b.hvt");
  write_file(path, t.bytes);
  Document doc;
  doc.open_prefix(path, t.syncs[0]);
  ASSERT_EQ(doc.wait(), Document::State::Ready) << doc.error();
  const uint64_t budget = 10000;
  int calls = 0;
  uint64_t shown = doc.events();
  while (doc.extend(t.syncs.back(), budget) == Growth::Grown) {
    ++calls;
    EXPECT_LT(doc.replay().extended(), budget + model::Replay::kRunEvents);
    if (doc.catching_up()) {
      EXPECT_GE(doc.replay().extended(), budget);
    }
    EXPECT_GT(doc.events(), shown);
    EXPECT_EQ(doc.position(), doc.events());
    shown = doc.events();
    ASSERT_LT(calls, 100);
    if (!doc.catching_up()) break;
  }
  EXPECT_FALSE(doc.catching_up());
  EXPECT_GE(calls, 10); // about 120 000 events, 10 000 at a time
  EXPECT_EQ(doc.extend(t.syncs.back(), budget), Growth::Same);
  Document whole;
  whole.open(path);
  ASSERT_EQ(whole.wait(), Document::State::Ready);
  expect_same_document(doc, whole, 11);
  unlink(path.c_str());
}

// A mark that is a thread's pending head when a budgeted refresh stops, emitted after the file
// grew again: its label points into the mapping, which must not have moved (review of the first
// version: it was read from unmapped memory). The file's data() never moves while it grows.
TEST(LiveGrowth, AMarkPendingAcrossAGrowthKeepsItsLabel) {
  trace::TraceBuilder b(0, 8 * 1024);
  trace::ChurnTrace gen(b, 2, 5, 1500);
  std::vector<uint64_t> syncs;
  gen.run(50000);
  b.flush();
  syncs.push_back(b.bytes().size());
  gen.run(b.next_seq() - 1 + 20000);
  b.thread(7777);
  b.mark("a label that lives in the mapping");
  gen.run(b.next_seq() - 1 + 100000);
  b.flush();
  syncs.push_back(b.bytes().size());
  gen.run(b.next_seq() - 1 + 10000);
  b.flush();
  syncs.push_back(b.bytes().size());
  std::string path = temp_path("stale.hvt");
  write_file(path, b.finish());
  Document doc;
  doc.open_prefix(path, syncs[0]);
  ASSERT_EQ(doc.wait(), Document::State::Ready) << doc.error();
  const void* data = doc.file().data();
  ASSERT_EQ(doc.extend(syncs[1], 10000), Growth::Grown);
  ASSERT_TRUE(doc.catching_up()); // the mark is some thread's pending head now
  ASSERT_EQ(doc.extend(syncs[2], 10000), Growth::Grown);
  EXPECT_EQ(doc.file().data(), data);
  while (doc.catching_up())
    ASSERT_EQ(doc.extend(syncs[2], 10000), Growth::Grown);
  ASSERT_EQ(doc.index().marks().size(), 1u);
  EXPECT_EQ(doc.index().marks()[0].label, "a label that lives in the mapping");
  Document whole;
  whole.open(path);
  ASSERT_EQ(whole.wait(), Document::State::Ready);
  expect_same_document(doc, whole, 5);
  unlink(path.c_str());
}

// A capture written again to the same path (truncated and rewritten in place: same inode, and it
// may grow past the old size before the next refresh) is not grown into: its header or our last
// block differ.
TEST(LiveGrowth, AFileRewrittenInPlaceIsReopened) {
  SyncedTrace a(false, 2, 5000, 3), b(false, 3, 9000, 4);
  std::string path = temp_path("inplace.hvt");
  write_file(path, a.bytes);
  Document doc;
  doc.open_prefix(path, a.syncs[0]);
  ASSERT_EQ(doc.wait(), Document::State::Ready);
  uint64_t n = doc.events();
  write_file(path, b.bytes); // fopen "wb": truncated in place, then longer than before
  EXPECT_EQ(doc.extend(b.syncs.back()), Growth::Reopen);
  EXPECT_EQ(doc.events(), n);
  EXPECT_EQ(doc.position(), n);
  // The mapping shows the new bytes now: reading the old events back stops where they no longer
  // decode, without a crash, until the app has loaded the file afresh (what Reopen asks for).
  std::vector<Event> out;
  doc.index().read(0, 100, &out);
  EXPECT_LE(out.size(), 100u);
  unlink(path.c_str());
}

// What cannot grow says so, and a torn tail is read again once the rest of it arrives.
TEST(LiveGrowth, AReplacedOrShorterFileIsReopenedAndATornTailIsReadAgain) {
  SyncedTrace t(false, 4, 5000, 3);
  std::string path = temp_path("t.hvt");
  write_file(path, t.bytes);
  {
    // A prefix that ends inside a block: the torn block is not shown until it is whole.
    Document doc;
    doc.open_prefix(path, t.syncs[1] + 100);
    ASSERT_EQ(doc.wait(), Document::State::Ready);
    EXPECT_NE(doc.error().find("truncated"), std::string::npos) << doc.error();
    uint64_t n = doc.events();
    const void* data = doc.file().data();
    EXPECT_EQ(doc.extend(t.syncs[1] + 200), Growth::Same); // still inside it
    EXPECT_EQ(doc.file().data(), data);
    std::vector<Event> out;
    doc.index().read(10, 100, &out); // still readable (review: it was unmapped here)
    EXPECT_EQ(out.size(), 100u);
    doc.seek(doc.events() / 2 + 7);
    ASSERT_EQ(doc.extend(t.syncs[2]), Growth::Grown);
    EXPECT_GT(doc.events(), n);
    EXPECT_EQ(doc.error(), ""); // whole again
    Document whole;
    whole.open_prefix(path, t.syncs[2]);
    ASSERT_EQ(whole.wait(), Document::State::Ready);
    expect_same_document(doc, whole, 3);
  }
  {
    Document doc;
    doc.open_prefix(path, t.syncs[1]);
    ASSERT_EQ(doc.wait(), Document::State::Ready);
    // Cut shorter than what is shown: not the same history any more.
    ASSERT_EQ(truncate(path.c_str(), off_t(t.syncs[0])), 0);
    EXPECT_EQ(doc.extend(UINT64_MAX), Growth::Reopen);
    // Another file under the name (a new capture): reopened, never grown into.
    unlink(path.c_str());
    write_file(path, t.bytes);
    EXPECT_EQ(doc.extend(UINT64_MAX), Growth::Reopen);
    EXPECT_EQ(doc.events(), doc.replay().size()); // what is shown stays usable
  }
  unlink(path.c_str());
}
