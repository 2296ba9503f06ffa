// policies_test.cpp - the textbook policies (docs/policies.md) behind the sim seam: exact offsets
// on hand-written scenarios (each case says why it comes out so), the policy's own heap checker
// after every operation of seeded random runs (with the payload bytes checked: realloc copies,
// calloc zeroes), their traces replayed by the model and verified against their snapshots, and
// the refusals that name the scenario's line.
#include "analysis/snapshot_check.h"
#include "model/replay.h"
#include "sim/policy.h"
#include "sim/runner.h"
#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace hv;

namespace {

struct Outcome {
  std::string offsets; // "NAME OFFSET\n" per allocating op, as `heapviz sim --offsets`
  std::string error;   // "LINE: message" when the run stopped
};

Outcome run(const std::string& policy, const std::string& text, sim::PolicyOptions opts = {}) {
  Outcome r;
  std::vector<sim::Op> ops;
  sim::ParseError perr;
  if (!sim::parse_scenario(text, &ops, &perr)) {
    r.error = std::to_string(perr.line) + ": " + perr.message;
    return r;
  }
  std::string err;
  auto p = sim::make_policy(policy, &err, opts);
  if (!p) {
    r.error = err;
    return r;
  }
  sim::ScenarioRunner runner(*p);
  int line = 0;
  std::string msg;
  bool ok = runner.run(ops, &line, &msg, [&](const sim::StepResult& s, std::string* why) {
    if (s.allocating) r.offsets += s.op->name + " " + runner.offset_text(s.ptr) + "\n";
    *why = p->check();
    return why->empty();
  });
  if (!ok) r.error = std::to_string(line) + ": " + msg;
  return r;
}

// Four free blocks of 0x80, 0x40, 0xe0 and 0x40 bytes at 0x0, 0xa0, 0x100 and 0x200, kept apart
// by 0x20 blocks in use; then three requests of need(24) = 0x30 bytes and a free between them.
const char* kFourHoles = R"(x1 = malloc 100
s1 = malloc 1
x2 = malloc 40
s2 = malloc 1
x3 = malloc 200
s3 = malloc 1
x4 = malloc 40
s4 = malloc 1
free x1
free x2
free x3
free x4
y = malloc 24
z = malloc 24
free y
u = malloc 24
)";
const char* kFourHolesGrowth = "x1 0x10\ns1 0x90\nx2 0xb0\ns2 0xf0\nx3 0x110\ns3 0x1f0\nx4 0x210\ns4 0x250\n";

} // namespace

TEST(FreeList, EachFitChoosesItsBlock) {
  // first: the lowest block (0x0, split; then the 0x50 rest splits too: 0x20 left is 32).
  EXPECT_EQ(run("first-fit", kFourHoles).offsets, std::string(kFourHolesGrowth) + "y 0x10\nz 0x40\nu 0x10\n");
  // best: the smallest, lowest on ties (0xa0 whole: 0x10 left is under 32), then 0x200, then 0xa0 again.
  EXPECT_EQ(run("best-fit", kFourHoles).offsets, std::string(kFourHolesGrowth) + "y 0xb0\nz 0x210\nu 0xb0\n");
  // worst: the largest (0x100, split), then the 0xb0 rest; then 0x80 at 0x0 and 0x160 tie: 0x0.
  EXPECT_EQ(run("worst-fit", kFourHoles).offsets,
            std::string(kFourHolesGrowth) + "y 0x110\nz 0x140\nu 0x10\n");
  // next: the rover is s4's block, so y wraps to 0x0; z follows it; u starts at z and passes 0x0
  // (free again) to take 0xa0.
  EXPECT_EQ(run("next-fit", kFourHoles).offsets, std::string(kFourHolesGrowth) + "y 0x10\nz 0x40\nu 0xb0\n");
}

TEST(FreeList, NextFitStartsAtTheBlockHoldingTheRoverAndAtTheBaseWhenTheHeapShrankBelowIt) {
  const char* text = R"(a = malloc 8
b = malloc 8
c = malloc 8
d = malloc 8
e = malloc 8
free d
g = malloc 8
free a
free g
free c
h = malloc 8
free h
free e
i = malloc 8
)";
  // g: the rover (e's block) is last, so the scan wraps and finds d's block. After the frees the
  // rover (0x60) lies inside the merged block 0x40-0x80: h is there, not at the free 0x0. Then e's
  // free merges back to 0x40 and the break drops to 0x40, below the rover: i starts at the base.
  EXPECT_EQ(run("next-fit", text).offsets,
            "a 0x10\nb 0x30\nc 0x50\nd 0x70\ne 0x90\ng 0x70\nh 0x50\ni 0x10\n");
  EXPECT_EQ(run("first-fit", text).offsets,
            "a 0x10\nb 0x30\nc 0x50\nd 0x70\ne 0x90\ng 0x70\nh 0x10\ni 0x10\n");
}

TEST(FreeList, ReallocStaysAbsorbsOrMovesAndFreeShrinksTheHeap) {
  const char* text = R"(a = malloc 100
b = malloc 100
c = malloc 1
a = realloc a 40
a = realloc a 60
b = realloc b 200
c = realloc c 0
d = calloc 4 8
free b
e = malloc 8
)";
  // a shrinks in place (its 0x40 tail is free), grows in place by absorbing it (0x30 rest free);
  // b moves to the heap's end (nothing fits) and its old block merges with that rest; c's free
  // merges again; d splits the merged block; b's free merges with the free block before it and the
  // break goes back to 0x80, where e grows the heap again.
  EXPECT_EQ(run("first-fit", text).offsets,
            "a 0x10\nb 0x90\nc 0x110\na 0x10\na 0x10\nb 0x130\nc null\nd 0x60\ne 0x90\n");
}

TEST(FreeList, GrowthPast1GiBReturnsNull) {
  EXPECT_EQ(
      run("first-fit", "a = malloc 0x3fffffe0\nb = malloc 1\nc = malloc 0x40000000\nfree a\nd = malloc 1\n")
          .offsets,
      "a 0x10\nb null\nc null\nd 0x10\n");
}

TEST(FreeList, MemalignIsRefusedOnItsLine) {
  for (const char* p :
       {"first-fit", "next-fit", "best-fit", "worst-fit", "buddy", "segregated", "pool", "linear", "stack"}) {
    Outcome r = run(p, "a = malloc 8\n\np = memalign 64 100\n");
    EXPECT_EQ(r.error, std::string("3: policy ") + p + " has no memalign");
    EXPECT_EQ(r.offsets, "a 0x10\n");
  }
}

TEST(Buddy, SplitsTheLowestSmallestBlockAndMergesBuddies) {
  const char* text = R"(a = malloc 1
b = malloc 100
c = malloc 20
d = malloc 17
e = malloc 16
free a
free e
f = malloc 40
g = realloc f 48
g = realloc g 100
h = malloc 0x100000
)";
  // a halves 1 MiB down to 32 bytes (free: 0x20, 0x40, 0x80, ...); b takes the 128 at 0x80, c the
  // 64 at 0x40; d (64) finds none and halves the 256 at 0x100; e takes 0x20. a and e merge into
  // 64 at 0x0 (its buddy 0x40 is c); f takes it; g stays (same class), then moves to 128 at 0x180
  // (the upper half d's split left). h needs 2 MiB.
  EXPECT_EQ(run("buddy", text).offsets,
            "a 0x10\nb 0x90\nc 0x50\nd 0x110\ne 0x30\nf 0x10\ng 0x10\ng 0x190\nh null\n");
}

TEST(Buddy, ArenaSizeIsAPowerOfTwo) {
  sim::PolicyOptions o;
  o.arena_size = 4096;
  EXPECT_EQ(run("buddy", "a = malloc 4080\nb = malloc 1\nfree a\nc = malloc 4081\nd = malloc 1\n", o).offsets,
            "a 0x10\nb null\nc null\nd 0x10\n");
  o.arena_size = 3000;
  EXPECT_EQ(run("buddy", "a = malloc 1\n", o).error,
            "--arena-size 3000: buddy takes a power of two from 32 bytes to 1 GiB");
  o.arena_size = 4096;
  EXPECT_EQ(run("first-fit", "a = malloc 1\n", o).error,
            "policy 'first-fit' has no --arena-size (only buddy and pool have an arena of fixed size)");
}

TEST(Pool, OneSizeOfBlockAndALifoFreeList) {
  sim::PolicyOptions o;
  o.arena_size = 256; // four blocks of 16 + 48 bytes at 0x0, 0x40, 0x80, 0xc0
  o.block_size = 40;
  const char* text = R"(a = malloc 40
b = malloc 1
c = malloc 49
free a
d = malloc 8
free b
free d
e = malloc 8
f = malloc 8
g = realloc f 48
h = realloc g 49
i = malloc 1
j = malloc 1
k = malloc 1
)";
  // The list starts in address order; a free puts its block at the head and malloc takes the
  // head, so d gets a's block back, and e and f get d's and b's. 49 bytes never fit; realloc stays
  // in place up to 48 and fails past it; the fifth block does not exist.
  EXPECT_EQ(run("pool", text, o).offsets,
            "a 0x10\nb 0x50\nc null\nd 0x10\ne 0x10\nf 0x50\ng 0x50\nh null\ni 0x90\nj 0xd0\nk null\n");
  o.block_size = 300;
  EXPECT_EQ(run("pool", text, o).error,
            "--arena-size 256 --block-size 300: pool takes an arena of at most 1 GiB "
            "that holds at least one block (16 + the block size, rounded up to 16)");
  o.arena_size = 0;
  EXPECT_EQ(run("buddy", text, o).error,
            "policy 'buddy' has no --block-size (only pool has blocks of one size)");
}

TEST(Segregated, EachClassHasItsLifoListAndGrowsTheHeapByOneBlock) {
  const char* text = R"(a = malloc 10
b = malloc 20
c = malloc 10
free a
free c
d = malloc 1
e = malloc 16
f = realloc b 40
f = realloc f 100
g = malloc 30
h = malloc 0x100000
)";
  // Classes of 32 and 64 bytes grow the heap one block at a time; d takes the head of the 32-byte
  // list (c's block, freed last), e the next; f stays in its class, then moves to a new 128-byte
  // block, and g takes its old 64-byte block. Above 1 MiB there is no class.
  EXPECT_EQ(run("segregated", text).offsets,
            "a 0x10\nb 0x30\nc 0x70\nd 0x70\ne 0x10\nf 0x30\nf 0x90\ng 0x30\nh null\n");
}

TEST(Linear, NothingIsReusedUntilEverythingIsFreed) {
  const char* text = R"(a = malloc 24
b = malloc 100
free a
c = malloc 8
c = realloc c 40
b = realloc b 8
free c
free b
d = malloc 8
)";
  // a's block is not reused by c; c is last, so it grows in place; b is not, so it moves to the
  // end; the last free resets the heap, and d starts again at the base.
  EXPECT_EQ(run("linear", text).offsets, "a 0x10\nb 0x40\nc 0xc0\nc 0xc0\nb 0x100\nd 0x10\n");
}

TEST(Stack, FreesOnlyTheLatestAndRefusesAnyOtherOnItsLine) {
  const char* text = R"(a = malloc 24
b = malloc 8
b = realloc b 100
free b
c = malloc 8
free a
)";
  Outcome r = run("stack", text);
  EXPECT_EQ(r.offsets, "a 0x10\nb 0x40\nb 0x40\nc 0x40\n");
  EXPECT_EQ(r.error, "6: policy stack frees only the latest allocation (at 0x40), not 0x10");
  EXPECT_EQ(run("stack", "a = malloc 8\nb = malloc 8\na = realloc a 100\n").error,
            "3: realloc: policy stack frees only the latest allocation (at 0x30), not 0x10");
}

// Each checker reads the headers in memory: an overflow into the next block's header is caught.
TEST(Policies, TheCheckerCatchesAnOverflowIntoTheNextHeader) {
  for (const char* name :
       {"first-fit", "next-fit", "best-fit", "worst-fit", "buddy", "segregated", "pool", "linear", "stack"}) {
    SCOPED_TRACE(name);
    std::string err;
    auto p = sim::make_policy(name, &err);
    ASSERT_TRUE(p) << err;
    auto* a = static_cast<uint8_t*>(p->malloc(24));
    ASSERT_TRUE(p->malloc(24));
    ASSERT_EQ(p->check(), "");
    const size_t usable = p->usable_size(a);
    memset(a, 0x41, usable + 8); // the payload, then the next block's size word
    EXPECT_NE(p->check(), "");
  }
}

TEST(Policies, UnknownNameListsTheKnownOnes) {
  std::string err;
  EXPECT_EQ(sim::make_policy("firstfit", &err), nullptr);
  EXPECT_EQ(err, "unknown policy 'firstfit' (available: glibc, first-fit, next-fit, best-fit, worst-fit, "
                 "buddy, segregated, pool, linear, stack)");
}

// Seeded random calls on every textbook policy: its checker after each one, every live block's
// bytes intact (realloc copies, calloc zeroes), and the trace replays to the policy's own heap,
// verified against a snapshot every 10 calls (every call costs minutes under ASan).
TEST(Policies, RandomRunsKeepTheInvariantsAndReplayExactly) {
  for (const char* name :
       {"first-fit", "next-fit", "best-fit", "worst-fit", "buddy", "segregated", "pool", "linear", "stack"}) {
    SCOPED_TRACE(name);
    const bool lifo = std::string(name) == "stack"; // frees and reallocs only its latest block
    std::string err;
    sim::PolicyOptions opts;
    if (std::string(name) == "pool") opts.arena_size = 64 << 10; // 819 blocks: the checker walks them all
    auto p = sim::make_policy(name, &err, opts);
    ASSERT_TRUE(p) << err;
    const std::string path = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/hvpol_" + name +
                             "_" + std::to_string(getpid()) + ".hvt";
    ASSERT_TRUE(p->start_trace(path, 10));
    std::mt19937_64 rng(18);
    struct Live {
      size_t n;
      uint8_t fill;
    };
    std::map<uint8_t*, Live> live;
    auto fill = [](uint8_t* q, size_t n, uint8_t v) { memset(q, v, n); };
    auto intact = [](const uint8_t* q, size_t n, uint8_t v) { // every byte is v
      return n == 0 || (q[0] == v && memcmp(q, q + 1, n - 1) == 0);
    };
    for (int i = 0; i < 3000; ++i) {
      const unsigned op = unsigned(rng() % 10);
      const size_t n = rng() % 8 == 0 ? rng() % 5000 : rng() % 300;
      const uint8_t v = uint8_t(i | 1);
      if (live.empty() || op < 4) {
        auto* q = static_cast<uint8_t*>(p->malloc(n));
        if (q) fill(q, n, v), live[q] = {n, v};
      } else if (op < 5) {
        const size_t k = 1 + rng() % 8;
        auto* q = static_cast<uint8_t*>(p->calloc(k, n));
        if (q) {
          ASSERT_TRUE(intact(q, k * n, 0)) << "calloc did not zero";
          fill(q, k * n, v), live[q] = {k * n, v};
        }
      } else {
        auto it = lifo ? std::prev(live.end()) : std::next(live.begin(), long(rng() % live.size()));
        ASSERT_TRUE(intact(it->first, it->second.n, it->second.fill)) << "a live block changed, call " << i;
        if (op < 8) {
          p->free(it->first);
          live.erase(it);
        } else {
          Live l = it->second;
          auto* q = static_cast<uint8_t*>(p->realloc(it->first, n));
          if (q || n == 0) live.erase(it);
          if (q) {
            ASSERT_TRUE(intact(q, std::min(n, l.n), l.fill)) << "realloc lost bytes, call " << i;
            fill(q, n, v), live[q] = {n, v};
          }
        }
      }
      std::string why = p->check();
      ASSERT_EQ(why, "") << "after call " << i;
    }
    std::vector<sim::ChunkRow> want = p->walk();
    p->stop_trace();

    trace::TraceFile f;
    ASSERT_TRUE(f.open(path)) << f.error()->describe();
    EXPECT_EQ(std::string(f.header().policy), name);
    model::Replay rp(f);
    analysis::SnapshotCheck snaps;
    rp.build([&](const trace::Event& e, const model::HeapModel& m) { snaps.on_event(e, m); });
    ASSERT_FALSE(rp.error()) << rp.error()->describe();
    EXPECT_EQ(snaps.failure(), "");
    EXPECT_EQ(snaps.verified(), 300u);
    EXPECT_EQ(rp.model().anomalies(), 0u) << rp.model().first_anomaly();
    auto got = rp.model().chunks_sorted();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].addr, p->heap_base() + want[i].offset);
      EXPECT_EQ(got[i].size, want[i].size);
      EXPECT_EQ(got[i].state, uint8_t(want[i].state));
    }
    unlink(path.c_str());
  }
}
