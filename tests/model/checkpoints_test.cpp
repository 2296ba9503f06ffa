// checkpoints_test.cpp - the replay's checkpoints: a seek anywhere equals a linear replay, steps
// back from the local checkpoint a seek left, the local checkpoints' limits and arenas, every
// field through save and restore, and passes over truncated or corrupt traces.
#include "../trace/test_util.h"
#include "model/byte_arena.h"
#include "model/replay.h"
#include "same_state.h"
#include "trace/churn_trace.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <memory>
#include <random>

using namespace hv::trace;
using namespace hv::model;
using hv::test::expect_same_state;
using hv::test::TempFile;

// A churn trace of 3 threads and 3000 live chunks (ChurnTrace; or `live`), written and opened:
// what most tests here replay.
struct ChurnFile {
  std::unique_ptr<TempFile> file;
  TraceFile f;
  bool opened = false;
  explicit ChurnFile(uint64_t events, uint64_t seed = 42, bool zstd = false, size_t live = 3000) {
    TraceBuilder b(0, 16 * 1024);
    b.set_zstd(zstd);
    ChurnTrace gen(b, 3, seed, live);
    gen.run(events);
    file = std::make_unique<TempFile>(b.finish());
    opened = f.open(file->path);
  }
};

TEST(Checkpoints, SeekAnywhereEqualsLinearReplay) {
  ChurnFile churn(400000, 42, true); // zstd: restoring a position inside a zstd block re-decompresses it
  ASSERT_TRUE(churn.opened);
  const TraceFile& f = churn.f;
  Replay rp(f);
  rp.set_checkpoint_every(65536);
  rp.build();
  ASSERT_FALSE(rp.error()) << rp.error()->describe();
  EXPECT_GE(rp.size(), 400000u);
  EXPECT_GE(rp.checkpoints(), 5u);
  EXPECT_EQ(rp.model().anomalies(), 0u) << rp.model().first_anomaly();
  EXPECT_EQ(rp.position(), rp.size());

  std::mt19937_64 rng(7);
  std::vector<uint64_t> positions = {0, 1, rp.size(), rp.size() - 1, 65536, 65535, 65537};
  for (int i = 0; i < 12; ++i)
    positions.push_back(rng() % (rp.size() + 1));
  for (uint64_t n : positions) {
    ASSERT_TRUE(rp.seek(n));
    EXPECT_EQ(rp.position(), n);
    // Linear replay of the first n events.
    EventStream s(f);
    HeapModel lin;
    Event last{};
    for (uint64_t k = 0; k < n; ++k) {
      const Event* e = s.next();
      ASSERT_TRUE(e);
      lin.apply(*e);
      last = *e;
    }
    expect_same_state(rp.model(), lin, n);
    if (n) {
      ASSERT_TRUE(rp.last_event());
      EXPECT_EQ(rp.last_event()->seq, last.seq);
    }
  }
  // Stepping backward and forward.
  ASSERT_TRUE(rp.seek(100000));
  HeapModel at = rp.model();
  ASSERT_TRUE(rp.step_back());
  ASSERT_TRUE(rp.step_forward());
  expect_same_state(rp.model(), at, 100000);
  EXPECT_FALSE(rp.seek(rp.size() + 1));
}

// On a heap of many records the pass saves deltas between its full checkpoints: a seek restores
// the full one and applies the deltas after it (or goes back through the model's undo to the
// delta it restored last), and every state is the one a linear replay gives, whichever way the
// pass decoded.
TEST(Checkpoints, DeltaCheckpointsGiveTheLinearReplaysState) {
  ChurnFile churn(300000, 44, false, 40000);
  ASSERT_TRUE(churn.opened);
  for (Replay::Decode how : {Replay::Decode::Stream, Replay::Decode::ScatterInline}) {
    SCOPED_TRACE(how == Replay::Decode::Stream ? "stream" : "scatter");
    Replay rp(churn.f);
    rp.set_decode(how, 4096);
    rp.set_checkpoint_every(1024);
    rp.set_delta_from(0);
    rp.set_local_limits(1, 0, 0); // no local checkpoints: every seek restores the pass's checkpoints
    rp.build();
    ASSERT_FALSE(rp.error()) << rp.error()->describe();
    // Full checkpoints every 4 x records (up to 120000 events here), deltas every records / 2:
    // chains of several deltas.
    EXPECT_GE(rp.delta_checkpoints(), 10u);
    EXPECT_GE(rp.checkpoints(), rp.delta_checkpoints() + 3);

    std::mt19937_64 rng(9);
    std::vector<uint64_t> positions;
    for (int i = 0; i < 16; ++i)
      positions.push_back(rng() % (rp.size() + 1));
    std::vector<uint64_t> sorted = positions;
    std::sort(sorted.begin(), sorted.end());
    // The linear replay's state at each position, in order (one pass).
    std::vector<HeapModel> linear;
    {
      EventStream s(churn.f);
      HeapModel lin;
      uint64_t at = 0;
      for (uint64_t n : sorted) {
        for (; at < n; ++at)
          lin.apply(*s.next());
        linear.push_back(lin);
      }
    }
    auto linear_at = [&](uint64_t n) -> const HeapModel& {
      return linear[size_t(std::lower_bound(sorted.begin(), sorted.end(), n) - sorted.begin())];
    };
    uint64_t max_replayed = 0;
    for (uint64_t n : positions) { // in random order: each seek restores a chain
      ASSERT_TRUE(rp.seek(n));
      max_replayed = std::max(max_replayed, rp.replayed());
      expect_same_state(rp.model(), linear_at(n), n);
      if (n > 0) { // a step back: the undo to the delta restored, or its chain again
        HeapModel here = rp.model();
        ASSERT_TRUE(rp.step_back());
        ASSERT_TRUE(rp.step_forward());
        expect_same_state(rp.model(), here, n);
      }
    }
    // No seek replayed more than a delta's interval (a run of events, rounded to run bounds).
    EXPECT_LE(max_replayed, 20000u + Replay::kRunEvents);
  }
}

// A seek forward within a chain of deltas goes back through the model's undo to the delta the
// seek before it restored (Replay::restore), not to the chain's full checkpoint, and gives the
// linear replay's state.
TEST(Checkpoints, ASeekForwardInAChainUndoesToTheDeltaBefore) {
  ChurnFile churn(300000, 44, false, 40000);
  ASSERT_TRUE(churn.opened);
  Replay rp(churn.f);
  rp.set_decode(Replay::Decode::Stream);
  rp.set_checkpoint_every(1024);
  rp.set_delta_from(0);
  rp.set_local_limits(1, 0, 0);
  rp.build();
  ASSERT_FALSE(rp.error()) << rp.error()->describe();
  // Two deltas of one chain with another between them.
  size_t first = 0;
  while (first + 2 < rp.checkpoints() &&
         !(rp.checkpoint_is_delta(first) && rp.checkpoint_is_delta(first + 1) &&
           rp.checkpoint_is_delta(first + 2)))
    ++first;
  ASSERT_LT(first + 2, rp.checkpoints()) << "no chain of three deltas";
  uint64_t from = rp.checkpoint_position(first) + 1, to = rp.checkpoint_position(first + 2) + 1;
  ASSERT_LT(to - rp.checkpoint_position(first + 2),
            Replay::kLocalEvery); // the seek's undo starts at the delta

  ASSERT_TRUE(rp.seek(from));
  EXPECT_EQ(rp.chain_undos(), 0u); // from the full checkpoint
  ASSERT_TRUE(rp.seek(to));
  EXPECT_EQ(rp.chain_undos(), 1u);
  EXPECT_LE(rp.replayed(), 1u); // no events replayed from the chain's start
  EventStream s(churn.f);
  HeapModel lin;
  for (uint64_t k = 0; k < to; ++k)
    lin.apply(*s.next());
  expect_same_state(rp.model(), lin, to);
}

// The dirty log keeps at most `cap` records: past them it stops (the pass's next checkpoint is
// then a full one: take_checkpoint asks dirty_log_on()), and below them a delta saved from it,
// applied after a restore of the save before, gives the model back.
TEST(Checkpoints, TheDirtyLogStopsWhenFullAndItsDeltasAreExact) {
  ChurnFile churn(20000, 46, false, 3000);
  ASSERT_TRUE(churn.opened);
  EventStream s(churn.f);
  HeapModel m;
  for (int k = 0; k < 8000; ++k)
    m.apply(*s.next());
  ByteArena arena;
  HeapModel::Saved full = m.save(arena);
  m.start_dirty_log(size_t(1) << 20);
  for (int k = 0; k < 3000; ++k)
    m.apply(*s.next());
  ASSERT_TRUE(m.dirty_log_on());
  HeapModel::Saved delta = m.save_delta(arena);
  HeapModel back;
  back.restore(full);
  back.apply_delta(delta);
  expect_same_state(back, m, 11000);

  m.start_dirty_log(64);
  int events = 0;
  while (m.dirty_log_on() && events < 3000) {
    m.apply(*s.next());
    ++events;
  }
  EXPECT_FALSE(m.dirty_log_on());
  EXPECT_GE(events, 22); // at most 3 records an event: the 65th came after a score of events
  EXPECT_LT(events, 3000);
}

// A live capture's file grows (Replay::extend): the deltas go on across the extensions (a seek back
// in between ends the dirty log: the next checkpoint is a full one), and every state is the one a
// replay of the whole file gives.
TEST(Checkpoints, DeltaCheckpointsGoOnAsTheFileGrows) {
  TraceBuilder b(0, 16 * 1024);
  ChurnTrace gen(b, 3, 45, 40000);
  std::vector<uint64_t> syncs;
  for (int k = 0; k < 8; ++k) {
    gen.run(b.next_seq() - 1 + 30000);
    b.flush();
    syncs.push_back(b.bytes().size());
  }
  TempFile file(b.finish());
  TraceFile grown_file;
  ASSERT_TRUE(grown_file.open(file.path, syncs[0]));
  Replay grown(grown_file);
  grown.set_decode(Replay::Decode::Stream);
  grown.set_checkpoint_every(1024);
  grown.set_delta_from(0);
  grown.set_local_limits(1, 0, 0);
  grown.build();
  for (size_t k = 1; k < syncs.size(); ++k) {
    if (k % 3 == 0) { // the extension reloads the end
      ASSERT_TRUE(grown.seek(grown.size() / 3));
    }
    ASSERT_EQ(grown_file.grow(syncs[k]), TraceFile::Growth::Grown) << "sync " << k;
    ASSERT_TRUE(grown.extend([](const Event&, const HeapModel&) {}));
    ASSERT_FALSE(grown.error()) << grown.error()->describe();
  }
  EXPECT_GE(grown.delta_checkpoints(), 10u);

  TraceFile whole_file;
  ASSERT_TRUE(whole_file.open(file.path));
  Replay whole(whole_file);
  whole.build();
  ASSERT_EQ(grown.size(), whole.size());
  std::mt19937_64 rng(11);
  for (int i = 0; i < 12; ++i) {
    uint64_t n = rng() % (whole.size() + 1);
    ASSERT_TRUE(grown.seek(n));
    ASSERT_TRUE(whole.seek(n));
    expect_same_state(grown.model(), whole.model(), n);
  }
}

// Metrics and the last event's seq after each number of events, by a linear replay.
struct LinearSeries {
  std::vector<Metrics> m;
  std::vector<uint64_t> seq;
  explicit LinearSeries(const TraceFile& f) {
    EventStream s(f);
    HeapModel lin;
    m.push_back(lin.metrics());
    seq.push_back(0);
    while (const Event* e = s.next()) {
      lin.apply(*e);
      m.push_back(lin.metrics());
      seq.push_back(e->seq);
    }
  }
  void expect_at(const Replay& rp) const {
    uint64_t n = rp.position();
    ASSERT_LT(n, m.size());
    const Metrics &a = rp.model().metrics(), &b = m[n];
    EXPECT_EQ(a.heap_bytes, b.heap_bytes) << "at " << n;
    EXPECT_EQ(a.live_bytes, b.live_bytes) << "at " << n;
    EXPECT_EQ(a.free_bytes, b.free_bytes) << "at " << n;
    EXPECT_EQ(a.largest_free, b.largest_free) << "at " << n;
    EXPECT_EQ(a.chunks, b.chunks) << "at " << n;
    EXPECT_EQ(a.in_use, b.in_use) << "at " << n;
    if (n) {
      EXPECT_EQ(rp.last_event()->seq, seq[n]) << "at " << n;
    }
  }
};

// A seek that restores a checkpoint leaves a local one where it passes the last multiple of
// kLocalEvery before its target: steps back from there replay fewer than kLocalEvery events,
// and one that goes below it replays from the pass's checkpoint and leaves the next one down.
// Every state is the one a linear replay gives.
TEST(Checkpoints, StepsBackStartFromTheLocalCheckpointASeekLeft) {
  constexpr uint64_t L = Replay::kLocalEvery;
  ChurnFile churn(400000);
  ASSERT_TRUE(churn.opened);
  const TraceFile& f = churn.f;
  Replay rp(f);
  rp.build();
  ASSERT_FALSE(rp.error()) << rp.error()->describe();
  ASSERT_EQ(rp.checkpoints(), 2u); // at 0 and 2^18: the chunk table stays far below 2^15 records
  LinearSeries lin(f);
  ASSERT_EQ(lin.m.size(), rp.size() + 1);
  EXPECT_EQ(rp.local_checkpoints(), 0u);

  const uint64_t top = 48 * L, start = top + 300;
  ASSERT_TRUE(rp.seek(start));
  EXPECT_EQ(rp.replayed(), start); // from the checkpoint at 0
  EXPECT_EQ(rp.local_checkpoints(), 1u);
  lin.expect_at(rp);
  for (uint64_t n = start - 1; n >= top - 100; --n) {
    ASSERT_TRUE(rp.step_back());
    ASSERT_EQ(rp.position(), n);
    if (n >= top) {
      EXPECT_EQ(rp.replayed(), n - top);
    } else if (n == top - 1) {
      EXPECT_EQ(rp.replayed(), n); // below the local one: from 0 again, leaving one at top - L
    } else {
      EXPECT_EQ(rp.replayed(), n - (top - L));
    }
    lin.expect_at(rp);
    if (HasFailure()) return;
  }
  EXPECT_EQ(rp.local_checkpoints(), 2u);
  ASSERT_TRUE(rp.step_forward()); // forward from where it is: nothing restored
  EXPECT_EQ(rp.replayed(), 1u);
  lin.expect_at(rp);
}

// A huge heap's local checkpoints are light (no records: HeapModel::save_light), forced here on a
// small one. Steps back from one put back only what changed since, also after a seek forward
// that restored nothing; once a restore of another checkpoint ends the model's undo, it is
// passed over (its records are gone). Every state is the one a linear replay gives.
TEST(Checkpoints, LightLocalCheckpointsServeStepsBackUntilTheUndoEnds) {
  constexpr uint64_t L = Replay::kLocalEvery;
  ChurnFile churn(400000);
  ASSERT_TRUE(churn.opened);
  const TraceFile& f = churn.f;
  Replay rp(f);
  rp.set_light_local_from(0);
  rp.build();
  ASSERT_FALSE(rp.error()) << rp.error()->describe();
  ASSERT_EQ(rp.checkpoints(), 2u); // at 0 and 2^18
  LinearSeries lin(f);
  auto same_as_linear = [&](uint64_t n) { // the whole state, chunk by chunk and bin by bin
    EventStream s(f);
    HeapModel m;
    for (uint64_t k = 0; k < n; ++k)
      m.apply(*s.next());
    expect_same_state(rp.model(), m, n);
  };

  const uint64_t top = 20 * L, start = top + 300;
  ASSERT_TRUE(rp.seek(start));
  EXPECT_EQ(rp.replayed(), start); // from the checkpoint at 0, leaving a light one at top
  EXPECT_EQ(rp.local_checkpoints(), 1u);
  for (uint64_t n = start - 1; n >= top; --n) {
    ASSERT_TRUE(rp.step_back());
    EXPECT_EQ(rp.replayed(), n - top) << n; // from the light one, through the undo
    lin.expect_at(rp);
    if (HasFailure()) return;
  }
  same_as_linear(top);
  // Forward from here with nothing nearer to restore: a light one at the last mark passed.
  const uint64_t far = top + 5 * L + 17;
  ASSERT_TRUE(rp.seek(far));
  EXPECT_EQ(rp.replayed(), far - top);
  ASSERT_TRUE(rp.step_back());
  EXPECT_EQ(rp.replayed(), far - 1 - (top + 5 * L));
  lin.expect_at(rp);
  same_as_linear(far - 1);
  // A seek near 0 restores the pass's checkpoint there (too near for a local one), which ends
  // the undo: the light one is of no use from then on, and a seek past it replays all the way
  // from where the model is.
  ASSERT_TRUE(rp.seek(5));
  EXPECT_EQ(rp.replayed(), 5u);
  EXPECT_EQ(rp.local_checkpoints(), 1u);
  ASSERT_TRUE(rp.seek(far - 2));
  EXPECT_EQ(rp.replayed(), far - 2 - 5);
  lin.expect_at(rp);
  same_as_linear(far - 2);
}

// Local checkpoints are bounded: past kLocalMax places the least recently used goes, and a seek
// there starts from the nearest one still kept.
TEST(Checkpoints, LocalCheckpointsKeepTheMostRecentlyUsed) {
  constexpr uint64_t L = Replay::kLocalEvery;
  ChurnFile churn(400000);
  ASSERT_TRUE(churn.opened);
  const TraceFile& f = churn.f;
  Replay rp(f);
  rp.build();
  LinearSeries lin(f);
  constexpr size_t N = Replay::kLocalMax + 8;
  auto place = [&](size_t i) { return L * (5 + i) + 100; }; // each leaves a local at L * (5 + i)
  ASSERT_LT(place(N - 1), Replay::kMinCheckpointEvery);     // all restore the pass's first
  for (size_t i = N; i-- > 0;) { // downward: each seek goes back, below every local so far
    ASSERT_TRUE(rp.seek(place(i)));
    EXPECT_EQ(rp.replayed(), place(i));
    lin.expect_at(rp);
    if (i == N - 10) { // the first place is used again: it outlives the 8 seeked to after it
      ASSERT_TRUE(rp.seek(place(N - 1) - 50));
      EXPECT_EQ(rp.replayed(), 50u);
      lin.expect_at(rp);
    }
  }
  EXPECT_EQ(rp.local_checkpoints(), Replay::kLocalMax);
  // Gone: the 8 least recently used, places N - 2 down to N - 9.
  ASSERT_TRUE(rp.seek(place(N - 1) - 50)); // kept
  EXPECT_EQ(rp.replayed(), 50u);
  lin.expect_at(rp);
  ASSERT_TRUE(rp.seek(place(N - 2) - 50)); // evicted: from the one at place N - 10
  EXPECT_EQ(rp.replayed(), place(N - 2) - 50 - L * (5 + N - 10));
  lin.expect_at(rp);
  EXPECT_EQ(rp.local_checkpoints(), Replay::kLocalMax);
}

// A local checkpoint dropped leaves its arena to the next one (its pages are touched already):
// with room for three, seeks to ever new places save each new local in the arena of one dropped
// before, while the two kept from the seeks before still give their exact states.
TEST(Checkpoints, ADroppedLocalsArenaServesTheNextOne) {
  constexpr uint64_t L = Replay::kLocalEvery;
  ChurnFile churn(300000, 43);
  ASSERT_TRUE(churn.opened);
  const TraceFile& f = churn.f;
  LinearSeries lin(f);
  Replay rp(f);
  rp.set_local_limits(3, Replay::kLocalBytes, 1); // every local in an arena
  rp.build();
  for (uint64_t i = 0; i < 14; ++i) {
    uint64_t mark = L * (70 - 4 * i); // downward: each seek restores a pass checkpoint
    ASSERT_TRUE(rp.seek(mark + 77));  // and saves a local at mark
    lin.expect_at(rp);
    EXPECT_LE(rp.local_checkpoints(), 3u);
    for (uint64_t back = std::min<uint64_t>(i, 2); back >= 1; --back) { // the oldest first
      ASSERT_TRUE(rp.seek(mark + 4 * L * back + 5));
      EXPECT_EQ(rp.replayed(), 5u) << "seek " << i << ", the local " << back << " seeks before";
      lin.expect_at(rp);
    }
    ASSERT_TRUE(rp.seek(mark + 76));
    EXPECT_EQ(rp.replayed(), 76u);
    lin.expect_at(rp);
    if (HasFailure()) return;
  }
}

// Local checkpoints of a large heap go to an arena of their own (huge pages), and the memory they
// hold stays within a budget: past it the least recently used go, and a heap too large for it
// keeps none (each seek then replays from the pass's checkpoint). Every state is the linear one.
TEST(Checkpoints, LocalCheckpointsStayWithinTheirMemoryBudget) {
  constexpr uint64_t L = Replay::kLocalEvery;
  ChurnFile churn(300000);
  ASSERT_TRUE(churn.opened);
  const TraceFile& f = churn.f;
  LinearSeries lin(f);
  auto place = [&](size_t i) { return L * (5 + i) + 100; }; // each leaves a local at L * (5 + i)

  // Every heap into an arena: a local costs its records rounded up to 2 MiB pages.
  size_t cost = 0;
  {
    Replay rp(f);
    rp.set_local_limits(Replay::kLocalMax, Replay::kLocalBytes, 1);
    rp.build();
    ASSERT_TRUE(rp.seek(place(10)));
    EXPECT_EQ(rp.replayed(), place(10));
    ASSERT_EQ(rp.local_checkpoints(), 1u);
    EXPECT_GE(rp.local_bytes(), size_t(2) << 20);
    EXPECT_LT(rp.local_bytes(), size_t(3) << 20);
    for (uint64_t n = place(10) - 1; n >= L * 15; --n) {
      ASSERT_TRUE(rp.step_back());
      EXPECT_EQ(rp.replayed(), n - L * 15) << "at " << n;
      lin.expect_at(rp);
      if (HasFailure()) return;
    }
  }
  size_t chunks = 0;
  {
    Replay rp(f); // the default: this heap's locals in memory of their own, about 80 KiB each
    rp.build();
    ASSERT_TRUE(rp.seek(place(30)));
    cost = rp.local_bytes();
    chunks = rp.model().chunk_count();
    EXPECT_GT(cost, HeapModel::kMinSavedChunk * chunks);
    EXPECT_LT(cost, size_t(1) << 20);
  }
  // A budget of 3.5 locals: downward seeks keep the latest three or so.
  {
    Replay rp(f);
    size_t budget = cost * 7 / 2;
    rp.set_local_limits(Replay::kLocalMax, budget, SIZE_MAX);
    rp.build();
    for (size_t i = 30; i-- > 20;) {
      ASSERT_TRUE(rp.seek(place(i)));
      EXPECT_EQ(rp.replayed(), place(i)) << i; // below every local so far: from 0
      lin.expect_at(rp);
      EXPECT_LE(rp.local_bytes(), budget);
      EXPECT_LE(rp.local_checkpoints(), 4u);
    }
    EXPECT_GE(rp.local_checkpoints(), 2u);
    ASSERT_TRUE(rp.seek(place(21) - 50)); // the one before the last: kept
    EXPECT_EQ(rp.replayed(), 50u);
    lin.expect_at(rp);
    ASSERT_TRUE(rp.seek(place(29) - 50)); // the first: gone, from the highest still kept
    EXPECT_GT(rp.replayed(), L);
    EXPECT_LT(rp.replayed(), place(29) - 50);
    lin.expect_at(rp);
  }
  // Budgets below one local: none is kept, whether the least it could take is already over
  // (cost / 2) or only what it takes once saved (cost - 1).
  ASSERT_GT(HeapModel::kMinSavedChunk * chunks, cost / 2);
  ASSERT_LT(HeapModel::kMinSavedChunk * chunks, cost - 1);
  for (size_t budget : {cost / 2, cost - 1}) {
    Replay rp(f);
    rp.set_local_limits(Replay::kLocalMax, budget, SIZE_MAX);
    rp.build();
    ASSERT_TRUE(rp.seek(place(30)));
    EXPECT_EQ(rp.local_checkpoints(), 0u);
    EXPECT_EQ(rp.local_bytes(), 0u);
    ASSERT_TRUE(rp.step_back());
    EXPECT_EQ(rp.replayed(), place(30) - 1);
    lin.expect_at(rp);
  }
}

// A checkpoint keeps each record's fields as varints of 1 to 10 bytes (those below 2^56 written
// with one 8-byte store): every length, the limits between them and values past 2^56 come back
// exactly, from save() and from save(arena).
TEST(Checkpoints, SaveAndRestoreKeepEveryFieldAtEveryVarintLength) {
  std::vector<uint64_t> vals = {0, 1, 0x7f, 0x80, 0x3fff, 0x4000};
  for (int bits = 21; bits <= 63; bits += 7) {
    vals.push_back((uint64_t(1) << bits) - 1);
    vals.push_back(uint64_t(1) << bits);
  }
  vals.push_back(~uint64_t(0));
  HeapModel m;
  uint64_t seq = 1;
  for (size_t i = 0; i < vals.size(); ++i) {
    uint64_t c = 0x100000 + i * 0x1000, v = vals[i];
    Event e{};
    e.seq = seq;
    e.arena = uint32_t(i * 37 % HeapModel::kMaxArenas);
    e.type = Ev::ChunkAlloc;
    e.addr = c;
    e.size = (v & ~uint64_t(15)) | 16; // a chunk size (a multiple of 16)
    m.apply(e);
    e.type = Ev::Malloc;
    e.seq = seq += v & ((uint64_t(1) << 62) - 1); // seq deltas of every length, both signs below
    e.addr = c + 16;
    e.size = v; // the request
    m.apply(e);
    if (i % 2) { // every other one the allocator's own
      e.type = Ev::Internal;
      e.addr = c;
      e.size = 0;
      m.apply(e);
    }
    if (i % 3 == 2) seq -= v / 2;
  }
  ByteArena arena;
  for (const HeapModel::Saved& saved : {m.save(), m.save(arena)}) {
    HeapModel r;
    r.restore(saved);
    auto a = m.chunks_sorted(), b = r.chunks_sorted();
    ASSERT_EQ(a.size(), vals.size());
    ASSERT_EQ(b.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(b[i].addr, a[i].addr);
      EXPECT_EQ(b[i].size, a[i].size) << i;
      EXPECT_EQ(b[i].req, a[i].req) << i;
      EXPECT_EQ(b[i].seq, a[i].seq) << i;
      EXPECT_EQ(b[i].arena, a[i].arena) << i;
      EXPECT_EQ(b[i].state, a[i].state) << i;
      EXPECT_EQ(b[i].bin, a[i].bin) << i;
      EXPECT_EQ(b[i].internal, a[i].internal) << i;
    }
    EXPECT_EQ(m.anomalies(), 0u) << m.first_anomaly();
    EXPECT_EQ(r.live_bytes(), m.live_bytes());
  }
}

TEST(Checkpoints, ReplayOfATruncatedTraceStopsAtThePrefix) {
  TraceBuilder b(0, 4096);
  ChurnTrace gen(b, 2, 5, 300);
  gen.run(20000);
  auto bytes = b.finish();
  bytes.resize(bytes.size() - 100);
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  ASSERT_TRUE(f.truncated());
  Replay rp(f);
  rp.build();
  ASSERT_TRUE(rp.error());
  EXPECT_EQ(rp.error()->kind, ErrorKind::Truncated);
  EXPECT_GT(rp.size(), 10000u);
  EXPECT_LT(rp.size(), 20000u);
  EXPECT_TRUE(rp.seek(rp.size() / 2));
}
