// threads_test.cpp - scenario threads (docs/scenarios.md, "Threads"): the parser's errors with
// their exact messages, a textbook policy's refusal, glibc's arenas, tcaches and thread exits as
// offsets (the same ones tests/fidelity/cases/26-31 hold to the real glibc), the printout's
// heaps, and the trace: each thread's events under its own id, replayed without an anomaly.
// Must not: run the real glibc (tests/fidelity does).
#include "analysis/snapshot_check.h"
#include "model/replay.h"
#include "sim/policy.h"
#include "sim/runner.h"
#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <set>
#include <string>
#include <vector>

using namespace hv;

namespace {

// "LINE: message" of the first parse error, or "" when the text parses.
std::string parse_error(const std::string& text) {
  std::vector<sim::Op> ops;
  sim::ParseError perr;
  if (sim::parse_scenario(text, &ops, &perr)) return "";
  return std::to_string(perr.line) + ": " + perr.message;
}

struct Outcome {
  std::string offsets; // as `heapviz sim --offsets`
  std::string error;   // "LINE: message" when the run stopped
};

Outcome run(const std::string& policy, const std::string& text, const std::string& trace = "") {
  Outcome r;
  std::vector<sim::Op> ops;
  sim::ParseError perr;
  if (!sim::parse_scenario(text, &ops, &perr)) {
    r.error = std::to_string(perr.line) + ": " + perr.message;
    return r;
  }
  std::string err;
  auto p = sim::make_policy(policy, &err);
  if (!p) {
    r.error = err;
    return r;
  }
  sim::ScenarioRunner runner(*p);
  int line = 0;
  std::string msg;
  if (!trace.empty() && !p->start_trace(trace, 1)) {
    r.error = "cannot write " + trace;
    return r;
  }
  bool ok = runner.run(ops, &line, &msg, [&](const sim::StepResult& s, std::string* why) {
    if (s.allocating) r.offsets += s.op->name + " " + runner.offset_text(s.ptr) + "\n";
    *why = p->check();
    return why->empty();
  });
  if (!trace.empty()) p->stop_trace();
  if (!ok) r.error = std::to_string(line) + ": " + msg;
  return r;
}

TEST(ScenarioThreads, BadThreadNumbersAreRefused) {
  const char* range = "threads are numbered 1 to 64 (the main thread's lines have no prefix)";
  EXPECT_EQ(parse_error("thread 0 start\n"), std::string("1: bad thread number '0': ") + range);
  EXPECT_EQ(parse_error("a = malloc 8\nthread 65 start\n"),
            std::string("2: bad thread number '65': ") + range);
  EXPECT_EQ(parse_error("thread x1: a = malloc 8\n"), std::string("1: bad thread number 'x1': ") + range);
  EXPECT_EQ(parse_error("thread -1 start\n"), std::string("1: bad thread number '-1': ") + range);
}

TEST(ScenarioThreads, MalformedThreadLinesAreRefused) {
  const char* usage = "expected 'thread N start', 'thread N exit' or 'thread N: OPERATION'";
  EXPECT_EQ(parse_error("thread\n"), std::string("1: ") + usage);
  EXPECT_EQ(parse_error("thread 1 begin\n"), std::string("1: ") + usage);
  EXPECT_EQ(parse_error("thread 1:\n"), std::string("1: ") + usage);
  EXPECT_EQ(parse_error("thread 1 start\nthread 1: tunable glibc.malloc.arena_max=1\n"),
            "2: 'tunable' lines have no thread prefix");
  EXPECT_EQ(parse_error("thread 1 start\nthread 1: thread 2 start\n"),
            "2: 'thread' lines have no thread prefix");
  // The operation after the prefix is parsed as any line is.
  EXPECT_EQ(parse_error("thread 1 start\nthread 1: a = mallok 8\n"),
            "2: unknown operation 'mallok' (expected malloc, calloc, realloc or memalign)");
}

TEST(ScenarioThreads, ThreadsMustBeRunning) {
  EXPECT_EQ(parse_error("thread 2: a = malloc 8\n"),
            "1: thread 2 was never started (add 'thread 2 start' before)");
  EXPECT_EQ(parse_error("thread 1 start\nthread 1 exit\nthread 1: a = malloc 8\n"),
            "3: thread 1 exited at line 2 (add 'thread 1 start' before)");
  EXPECT_EQ(parse_error("thread 3 exit\n"),
            "1: exit of a thread that is not running: thread 3 was never started");
  EXPECT_EQ(parse_error("thread 1 start\nthread 1 exit\nthread 1 exit\n"),
            "3: exit of a thread that is not running: thread 1 exited at line 2");
  EXPECT_EQ(parse_error("thread 1 start\n\nthread 1 start\n"),
            "3: thread 1 is already running (started at line 1)");
  // A number may be started again after its exit; `thread` still names a block before `=`.
  EXPECT_EQ(parse_error("thread 1 start\nthread 1 exit\nthread 1 start\nthread = malloc 8\n"), "");
  EXPECT_EQ(parse_error("tunable glibc.malloc.arena_max=1\nthread 1 start\nthread 1 : mark a  label  \n"),
            "");
}

TEST(ScenarioThreads, TunableAfterAThreadLineIsTooLate) {
  EXPECT_EQ(parse_error("thread 1 start\ntunable glibc.malloc.arena_max=1\n"),
            "2: tunable after the first operation (line 1): glibc reads GLIBC_TUNABLES once, when malloc "
            "starts; put tunable lines first");
}

TEST(ScenarioThreads, PrefixSetsTheThreadAndMarkKeepsItsLabel) {
  std::vector<sim::Op> ops;
  sim::ParseError perr;
  ASSERT_TRUE(
      sim::parse_scenario("thread 7 start\nthread 7: mark two  words\nthread 7 : free a\n", &ops, &perr));
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].kind, sim::OpKind::ThreadStart);
  EXPECT_EQ(ops[0].thread, 7);
  EXPECT_EQ(ops[1].kind, sim::OpKind::Mark);
  EXPECT_EQ(ops[1].label, "two  words");
  EXPECT_EQ(ops[1].thread, 7);
  EXPECT_EQ(ops[2].kind, sim::OpKind::Free);
  EXPECT_EQ(ops[2].thread, 7);
}

TEST(ScenarioThreads, TextbookPoliciesHaveNoThreads) {
  for (const char* p : {"first-fit", "best-fit", "buddy", "segregated", "pool", "linear", "stack"}) {
    Outcome r = run(p, "a = malloc 8\nthread 1 start\nthread 1: b = malloc 8\n");
    EXPECT_EQ(r.error, std::string("2: policy ") + p + " has no threads");
    EXPECT_EQ(r.offsets, "a 0x10\n");
  }
}

// tests/fidelity/cases/26_threads_two_arenas.hvs's start, whose offsets glibc 2.36 gives.
TEST(SimThreads, EachThreadGetsAnArenaAndTheDtvMovesTheMainHeap) {
  Outcome r = run("glibc", R"(a = malloc 24
thread 1 start
b = malloc 40
thread 1: c = malloc 24
thread 2 start
thread 2: d = malloc 24
f = malloc 100
)");
  EXPECT_EQ(r.error, "");
  // b follows the DTV's 0x120 chunk at 0x2b0; c and d follow their tcache in heaps 1 and 2; f
  // follows thread 2's DTV.
  EXPECT_EQ(r.offsets, "a 0x2a0\nb 0x3e0\nc heap1+0xb70\nd heap2+0xb70\nf 0x530\n");
}

TEST(SimThreads, ExitFlushesTheTcacheAndTheNextThreadReusesArenaAndDtv) {
  Outcome r = run("glibc", R"(thread 1 start
thread 1: a = malloc 24
thread 1: b = malloc 24
thread 1: free a
thread 1 exit
m = malloc 24
thread 2 start
n = malloc 24
thread 2: c = malloc 24
thread 2: d = malloc 24
)");
  EXPECT_EQ(r.error, "");
  // a's chunk went from thread 1's tcache to arena 1's fastbin; thread 2 takes the freed tcache
  // struct back (an exact fit) and then a's chunk. No second DTV: n right after m.
  EXPECT_EQ(r.offsets, "a heap1+0xb70\nb heap1+0xb90\nm 0x3c0\nn 0x3e0\nc heap1+0xb70\nd heap1+0xbb0\n");
}

TEST(SimThreads, ArenaMaxOneSharesTheMainArenaWithATcachePerThread) {
  Outcome r = run("glibc", R"(tunable glibc.malloc.arena_max=1
a = malloc 24
thread 1 start
thread 1: b = malloc 24
thread 1: free b
c = malloc 24
thread 1: d = malloc 24
)");
  EXPECT_EQ(r.error, "");
  // Thread 1's tcache (0x290) follows the DTV in the main heap; c does not get b (thread 1's).
  EXPECT_EQ(r.offsets, "a 0x2a0\nb 0x670\nc 0x690\nd 0x670\n");
}

TEST(SimThreads, TheTraceGivesEachThreadItsIdAndReplays) {
  const std::string path = testing::TempDir() + "threads_trace_" + std::to_string(getpid()) + ".hvt";
  Outcome r = run("glibc", R"(a = malloc 24
thread 1 start
thread 1: b = malloc 24
thread 1: free b
thread 2 start
thread 2: c = malloc 100
free a
thread 2: free c
thread 1 exit
thread 3 start
thread 3: d = malloc 24
)",
                  path);
  ASSERT_EQ(r.error, "");
  trace::TraceFile f;
  ASSERT_TRUE(f.open(path)) << f.error()->describe();
  model::Replay rp(f);
  analysis::SnapshotCheck snaps;
  std::set<uint32_t> tids;
  rp.build([&](const trace::Event& e, const model::HeapModel& m) {
    tids.insert(e.tid);
    snaps.on_event(e, m);
  });
  ASSERT_FALSE(rp.error()) << rp.error()->describe();
  EXPECT_EQ(snaps.failure(), "");
  EXPECT_GT(snaps.verified(), 0u);
  EXPECT_EQ(rp.model().anomalies(), 0u) << rp.model().first_anomaly();
  EXPECT_EQ(tids.size(), 4u); // main and threads 1, 2, 3
  EXPECT_GE(rp.model().arena_count(), 3u);
  unlink(path.c_str());
}

} // namespace
