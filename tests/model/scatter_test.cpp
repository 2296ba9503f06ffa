// scatter_test.cpp - decoding ahead (SeqScatter, on a worker thread or inline) gives exactly
// what the EventStream gives: every event, the model at every seek, the hand-over to the stream
// at an irregularity (a gap, a repeated number, a decode error, a torn tail); and seeks that load
// records ahead replay exactly.
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
using hv::test::same_event;
using hv::test::TempFile;
namespace analysis = hv::analysis;

// ---- Decoding ahead (SeqScatter) gives what the EventStream gives ------------------------------

namespace {
// A build() and what it showed: every event passed to on_event (seq, type, offset, ts, fields),
// the pass summary, and the model at the end.
struct Built {
  std::unique_ptr<Replay> rp;
  analysis::TraceSummary summary{0};
  std::vector<Event> seen;
  std::vector<uint64_t> live_seen; // the model's live bytes as on_event saw it
};
Built build_with(const TraceFile& f, Replay::Decode d, uint32_t round) {
  Built out;
  out.rp = std::make_unique<Replay>(f);
  out.rp->set_decode(d, round);
  out.rp->set_checkpoint_every(16384); // many checkpoints, at round ends of the scatter
  out.summary = analysis::TraceSummary(f.indexed_events(), 512);
  out.rp->build([&](const Event& e, const HeapModel& m) {
    out.summary.add(e, m);
    Event c = e;
    c.data = c.data_end = nullptr; // pointers into the file: compared through the bytes below
    c.data_reg = e.data ? uint64_t(e.data_end - e.data) : 0;
    out.seen.push_back(c);
    out.live_seen.push_back(m.live_bytes());
  });
  return out;
}
// Stream, ScatterInline with a small round (the ring wraps every 4 rounds) and Scatter (a worker
// thread) must agree on everything a user of Replay sees, seeks included.
void expect_decodes_agree(const TraceFile& f, uint32_t round, bool scatter_expected = true) {
  Built ref = build_with(f, Replay::Decode::Stream, round);
  for (Replay::Decode d : {Replay::Decode::ScatterInline, Replay::Decode::Scatter}) {
    SCOPED_TRACE(d == Replay::Decode::Scatter ? "Scatter" : "ScatterInline");
    Built got = build_with(f, d, round);
    ASSERT_TRUE(ref.rp->seek(ref.rp->size())); // the previous round of this loop moved it
    EXPECT_EQ(got.rp->decoded_with(), scatter_expected ? d : Replay::Decode::Stream);
    ASSERT_EQ(got.rp->size(), ref.rp->size());
    ASSERT_EQ(got.seen.size(), ref.seen.size());
    for (size_t i = 0; i < ref.seen.size(); ++i) {
      ASSERT_TRUE(same_event(got.seen[i], ref.seen[i])) << "event " << i << " seq " << ref.seen[i].seq;
      ASSERT_EQ(got.live_seen[i], ref.live_seen[i]) << "event " << i;
    }
    ASSERT_EQ(bool(got.rp->error()), bool(ref.rp->error()));
    if (ref.rp->error()) {
      EXPECT_EQ(got.rp->error()->kind, ref.rp->error()->kind);
      EXPECT_EQ(got.rp->error()->describe(), ref.rp->error()->describe());
    }
    ASSERT_EQ(got.summary.series().size(), ref.summary.series().size());
    for (size_t i = 0; i < ref.summary.series().size(); ++i) {
      const analysis::SeriesPoint &a = got.summary.series()[i], &b = ref.summary.series()[i];
      EXPECT_EQ(a.pos, b.pos);
      EXPECT_EQ(a.heap, b.heap);
      EXPECT_EQ(a.live, b.live);
      EXPECT_EQ(a.resident, b.resident);
      EXPECT_EQ(a.frag, b.frag);
    }
    EXPECT_EQ(got.summary.peak_heap(), ref.summary.peak_heap());
    EXPECT_EQ(got.summary.peak_live(), ref.summary.peak_live());
    expect_same_state(got.rp->model(), ref.rp->model(), got.rp->size());
    if (ref.rp->size()) {
      ASSERT_TRUE(got.rp->last_event());
      EXPECT_TRUE(same_event(*got.rp->last_event(), *ref.rp->last_event()));
    }
    // Seeks restore the scatter's checkpoints into an EventStream.
    std::mt19937_64 rng(11);
    uint64_t n = ref.rp->size();
    std::vector<uint64_t> at = {0, n / 3, n, n ? n - 1 : 0, n / 2};
    for (int i = 0; i < 6; ++i)
      at.push_back(rng() % (n + 1));
    for (uint64_t p : at) {
      ASSERT_TRUE(got.rp->seek(p));
      ASSERT_TRUE(ref.rp->seek(p));
      expect_same_state(got.rp->model(), ref.rp->model(), p);
      if (p) {
        EXPECT_TRUE(same_event(*got.rp->last_event(), *ref.rp->last_event())) << "at " << p;
      }
    }
    ASSERT_TRUE(got.rp->step_back() || n == 0);
    ASSERT_TRUE(ref.rp->step_back() || n == 0);
    expect_same_state(got.rp->model(), ref.rp->model(), 0);
  }
}
// Churn on 4 threads with marks, stacks, snapshots and unknown extension events in between (events
// the scatter keeps whole).
void churn_with_annotations(TraceBuilder& b, ChurnTrace& gen, uint64_t events) {
  for (uint64_t n = 20000; n <= events; n += 20000) {
    gen.run(n);
    char label[32];
    snprintf(label, sizeof label, "m%llu", static_cast<unsigned long long>(n));
    b.mark(label);
    b.stack(std::string(40, char(n)));
    b.snapshot({{0x1000, 32, ChunkState::InUse, 0}}, 0);
    b.extension(uint8_t(0xa0 + n / 20000 % 0x5f), std::string(n / 20000 % 5, 'x'));
  }
}
} // namespace

// On a large heap a seek applies each event 16 events after it is decoded, loading the chunk
// records ahead; marks, stacks and snapshots (which point into the decoder's buffers) are
// applied at once, after everything before them. Every seek and step lands on the state, and the
// last event, of a replay that applies each event at once.
void expect_delayed_seeks_agree(const TraceFile& f, size_t min_annotations) {
  Replay delayed(f), direct(f);
  delayed.set_delayed_apply_from(0);
  direct.set_delayed_apply_from(SIZE_MAX);
  for (Replay* rp : {&delayed, &direct}) {
    rp->set_checkpoint_every(16384);
    rp->build();
    ASSERT_FALSE(rp->error());
  }
  // Around every mark, stack and snapshot (ending on one, and just after), and at random.
  uint64_t n = direct.size();
  std::vector<uint64_t> at = {n, 1, n - 1, 0};
  size_t annotations = 0;
  {
    EventStream s(f);
    uint64_t k = 0;
    while (const Event* e = s.next()) {
      ++k;
      if (e->type == Ev::Mark || e->type == Ev::Stack || e->type == Ev::Snapshot) {
        ++annotations;
        for (uint64_t d : {k - 1, k, k + 1})
          at.push_back(std::min(d, n));
      }
    }
  }
  ASSERT_GE(annotations, min_annotations);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 40; ++i)
    at.push_back(rng() % (n + 1));
  for (uint64_t p : at) {
    ASSERT_TRUE(delayed.seek(p));
    ASSERT_TRUE(direct.seek(p));
    expect_same_state(delayed.model(), direct.model(), p);
    EXPECT_EQ(delayed.model().anomalies(), direct.model().anomalies()) << "at " << p;
    if (p) {
      ASSERT_TRUE(same_event(*delayed.last_event(), *direct.last_event())) << "at " << p;
    }
    for (int k = 0; k < 3 && delayed.position() > 0; ++k) {
      ASSERT_TRUE(delayed.step_back());
      ASSERT_TRUE(direct.step_back());
      expect_same_state(delayed.model(), direct.model(), delayed.position());
      if (delayed.position()) {
        ASSERT_TRUE(same_event(*delayed.last_event(), *direct.last_event())) << "at " << delayed.position();
      }
    }
    if (::testing::Test::HasFailure()) return;
  }
}

// On a large heap a seek applies each event 16 events after it is decoded, loading the chunk
// records ahead; marks, stacks and snapshots (which point into the decoder's buffers) are
// applied at once, after everything before them. Every seek and step lands on the state, and the
// last event, of a replay that applies each event at once.
TEST(Checkpoints, SeeksThatLoadRecordsAheadReplayExactly) {
  TraceBuilder b(0, 8192);
  ChurnTrace gen(b, 4, 31, 2000);
  churn_with_annotations(b, gen, 120000);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  expect_delayed_seeks_agree(f, 18);
}

// The same where it matters most: a zstd trace (a thread's block is decompressed into a buffer
// its next block overwrites) with a baseline snapshot every 250 events, each the last event of
// its block, which the model loads from the event's data. Applied 16 events late, it would read
// the next block's bytes.
TEST(Checkpoints, DelayedSeeksLoadBaselineSnapshotsFromZstdBlocksExactly) {
  TraceBuilder b(0, 1024);
  b.set_zstd(true);
  ChurnTrace gen(b, 4, 37, 800);
  for (uint64_t n = 250; n <= 60000; n += 250) {
    gen.run(n);
    std::vector<TraceBuilder::SnapChunk> snap;
    for (uint64_t i = 0; i < 8 + n % 7; ++i)
      snap.push_back({0x600000000000ull + n * 0x1000 + i * 0x40, 0x40, ChunkState::InUse, 0});
    b.snapshot(snap, kSnapshotBaseline);
    b.flush(); // the snapshot ends its block: the thread's next event is in the next one
  }
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  expect_delayed_seeks_agree(f, 200);
}

TEST(Scatter, AgreesWithTheStreamOnAFourThreadChurn) {
  TraceBuilder b(0, 8192);
  ChurnTrace gen(b, 4, 17, 2000);
  churn_with_annotations(b, gen, 200000);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  expect_decodes_agree(f, 256);
  expect_decodes_agree(f, 8192);
  Replay rp(f);
  rp.set_decode(Replay::Decode::ScatterInline, 256);
  rp.set_checkpoint_every(16384);
  rp.build();
  EXPECT_EQ(rp.handed_over_at(), UINT64_MAX);
  EXPECT_GE(rp.checkpoints(), 3u);
}

// The scatter's slots keep addresses and sizes in 48 bits, arenas in 16, timestamps and offsets
// as 32-bit deltas within a round, and the field a few types add (realloc's old pointer, split's
// rest, sbrk's delta, ...) in a word beside the slot (ext_); anything else goes whole to the
// side ring. Values at and past each of those limits, between churn on three threads, replay
// exactly as the stream gives them.
TEST(Scatter, ValuesPastTheSlotsLimitsReplayExactly) {
  TraceBuilder b(0, 4096);
  ChurnTrace gen(b, 3, 23, 600);
  uint64_t n = 0;
  auto churn = [&] { gen.run(n += 700); };
  churn();
  b.thread(1000);
  b.malloc(~uint64_t(0), 0);            // malloc(SIZE_MAX) fails: a size past 48 bits
  b.malloc((uint64_t(1) << 48) - 1, 0); // the largest size a slot holds
  b.malloc(uint64_t(1) << 48, 0);       // the smallest it does not
  b.sleep(uint64_t(1) << 31);           // 2.1 s later: past the round's ts delta
  churn();
  b.thread(1001);
  b.sleep(5000000000ull); // 5 s
  b.realloc(0, 100, 0);   // an ext word (old pointer), with a ts past the delta
  churn();
  b.thread(1002);
  b.chunk_alloc(uint64_t(1) << 48, 32); // an address past 48 bits (the model calls it an anomaly)
  b.chunk_free(uint64_t(1) << 48, 32);
  b.chunk_alloc((uint64_t(1) << 48) - 64, 48); // the highest address a slot holds
  b.split((uint64_t(1) << 48) - 64, 16, 32);
  b.arena(0xffff); // the largest arena a slot holds (the model: out of range)
  b.free(0x10);
  b.arena(0x10000); // the smallest it does not
  b.free(0x20);
  b.arena(2);
  b.sbrk(0x555555600000ull, -4096); // a negative delta in the ext word
  churn();
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  expect_decodes_agree(f, 16);
  expect_decodes_agree(f, 256);
  // And the events are there, as written.
  Built s = build_with(f, Replay::Decode::ScatterInline, 16);
  EXPECT_EQ(s.rp->handed_over_at(), UINT64_MAX);
  int big = 0, arenas = 0;
  for (const Event& e : s.seen) {
    big += e.type == Ev::Malloc && e.size >= (uint64_t(1) << 48) - 1;
    arenas += e.type == Ev::Free && (e.arena == 0xffff || e.arena == 0x10000);
  }
  EXPECT_EQ(big, 3);
  EXPECT_EQ(arenas, 2);
}

TEST(Scatter, HandsOverAtAGapAndTheStreamCountsIt) {
  TraceBuilder b(0, 4096);
  ChurnTrace gen(b, 3, 5, 800);
  gen.run(30000);
  uint64_t before = b.next_seq() - 1; // events numbered 1 .. before
  b.set_seq(b.next_seq() + 5);        // five events the writer lost
  gen.run(60000);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  expect_decodes_agree(f, 1024);
  Replay rp(f);
  rp.set_decode(Replay::Decode::ScatterInline, 1024);
  rp.build();
  EXPECT_EQ(rp.handed_over_at(), before); // every event before the gap came from the ring
  EXPECT_GT(rp.size(), 59000u);
}

// A gap in the last round: the worker has decoded the whole file (a clean end) when the replay
// meets it, and the replay must still hand over instead of stopping there (the fuzzer found a
// 6-event trace that replayed 3 events so).
TEST(Scatter, HandsOverAtAGapInTheLastRound) {
  TraceBuilder b(0, 4096);
  ChurnTrace gen(b, 1, 5, 100);
  gen.run(10);
  uint64_t before = b.next_seq() - 1; // events numbered 1 .. before
  b.set_seq(b.next_seq() + 8);        // eight events the writer lost
  uint64_t resume = b.next_seq();
  for (int i = 0; i < 3; ++i)
    gen.step();
  uint64_t after = b.next_seq() - resume;
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  expect_decodes_agree(f, 16);
  expect_decodes_agree(f, 1024);
  Replay rp(f);
  rp.set_decode(Replay::Decode::ScatterInline, 1024);
  rp.build();
  EXPECT_EQ(rp.handed_over_at(), before);
  EXPECT_EQ(rp.size(), before + after);
}

// A slot keeps the low 32 bits of its event's number, and a fresh ring's slots hold 0: the tag
// of 2^32. Numbers lost there, on the ring's first lap, are still a gap (the worker marks a
// round's missing numbers), and everything around it replays as the stream gives it.
TEST(Scatter, AGapWhereTheTagsWrapIsAGapOnTheFirstLap) {
  const uint64_t wrap = uint64_t(1) << 32, first = wrap - 1500;
  TraceBuilder b(0, 4096);
  b.set_seq(first);
  ChurnTrace gen(b, 3, 5, 800);
  while (b.next_seq() < wrap - 30)
    gen.step();
  while (b.next_seq() < wrap) // the numbers below 2^32 all used: the gap starts at it
    b.mark("pad");
  uint64_t before = b.next_seq() - first; // events before the gap
  b.set_seq(wrap + 3);                    // lost: the numbers up to 2^32 + 2
  while (b.next_seq() < wrap + 20000)
    gen.step();
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  expect_decodes_agree(f, 1024); // a ring of 4096: the gap is on its first lap
  Replay rp(f);
  rp.set_decode(Replay::Decode::ScatterInline, 1024);
  rp.build();
  EXPECT_EQ(rp.handed_over_at(), before);
  EXPECT_GT(rp.size(), 20000u);
}

TEST(Scatter, HandsOverAtARepeatedSequenceNumber) {
  TraceBuilder b(0, 4096);
  ChurnTrace gen(b, 2, 9, 500);
  gen.run(20000);
  b.set_seq(b.next_seq() - 3); // numbers used again by the other thread
  gen.run(40000);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  expect_decodes_agree(f, 512);
  Replay rp(f);
  rp.build();
  ASSERT_TRUE(rp.error());
  EXPECT_EQ(rp.error()->kind, ErrorKind::BadSequence);
}

TEST(Scatter, TruncatedAndUndecodableTracesEndWhereTheStreamEnds) {
  {
    TraceBuilder b(0, 4096);
    ChurnTrace gen(b, 3, 5, 300);
    gen.run(50000);
    auto bytes = b.finish();
    bytes.resize(bytes.size() - 5000);
    TempFile tf(bytes);
    TraceFile f;
    ASSERT_TRUE(f.open(tf.path));
    ASSERT_TRUE(f.truncated());
    expect_decodes_agree(f, 512);
  }
  {
    TraceBuilder b(0, 4096);
    ChurnTrace gen(b, 2, 8, 300);
    gen.run(30000);
    b.raw_event(0x77, 160); // an unknown type in the middle of thread 1's block
    b.raw(std::vector<uint8_t>(120, 0));
    gen.run(40000);
    TempFile tf(b.finish());
    TraceFile f;
    ASSERT_TRUE(f.open(tf.path));
    expect_decodes_agree(f, 512);
    Replay rp(f);
    rp.build();
    ASSERT_TRUE(rp.error());
    EXPECT_EQ(rp.error()->kind, ErrorKind::BadEvent);
  }
}

TEST(Scatter, ZstdTracesAndSmallTracesTakeTheStream) {
  TraceBuilder b(0, 8192);
  b.set_zstd(true);
  ChurnTrace gen(b, 2, 3, 300);
  gen.run(20000);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  expect_decodes_agree(f, 512, false);
  Replay rp(f); // Auto: too small to be worth a thread
  rp.build();
  EXPECT_EQ(rp.decoded_with(), Replay::Decode::Stream);
}

TEST(Scatter, AutoTakesTheWorkerThreadForABigTrace) {
  TraceBuilder b(0, 64 * 1024);
  ChurnTrace gen(b, 2, 21, 1000);
  gen.run(Replay::kScatterMinEvents + 1000);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  Replay rp(f);
  rp.build();
  EXPECT_EQ(rp.decoded_with(),
            std::thread::hardware_concurrency() >= 2 ? Replay::Decode::Scatter : Replay::Decode::Stream);
  EXPECT_EQ(rp.handed_over_at(), UINT64_MAX);
  EXPECT_FALSE(rp.error());
  EXPECT_EQ(rp.model().anomalies(), 0u) << rp.model().first_anomaly();
}
