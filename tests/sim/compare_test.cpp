// compare_test.cpp - one scenario on several policies (session/policy_compare.h): the figures a
// student reads in the comparison table, worked out by hand from docs/policies.md's rules, and
// the positions that keep the maps in step.
#include "session/policy_compare.h"

#include "model/heap_model.h"
#include "trace/event_stream.h"
#include "trace/trace_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

namespace hv::session {
namespace {

// need(n) = 16 + max(16, n rounded up to 16): a 128, b 48, c 224, d 48, e 80 (528 bytes).
const char* kScenario = "a = malloc 100\n"
                        "b = malloc 20\n"
                        "c = malloc 200\n"
                        "d = malloc 20\n"
                        "e = malloc 50\n"
                        "expect a at b\n" // (not checked side by side: it would stop every policy)
                        "free a\n"
                        "free c\n"
                        "f = malloc 40\n"  // 64: first-fit takes a's hole (1 block looked at)
                        "g = malloc 150\n" // 176: c's hole, the 4th block; best-fit looks at all 6
                        "mark done\n"
                        "h = malloc 100\n"; // 128: glibc's tcache has a's chunk

struct Files {
  std::string dir, scenario;
  Files() {
    char t[] = "/tmp/hv-compare-XXXXXX";
    dir = mkdtemp(t);
    scenario = dir + "/s.hvs";
    std::ofstream(scenario) << kScenario;
  }
  ~Files() { (void)system(("rm -rf '" + dir + "'").c_str()); }
};

std::vector<PolicyRun> run(const Files& f, std::vector<std::string> policies) {
  CompareOptions o;
  o.policies = std::move(policies);
  o.trace_dir = f.dir + "/traces";
  std::vector<PolicyRun> runs;
  std::string err;
  EXPECT_TRUE(compare_policies(f.scenario, o, &runs, &err)) << err;
  return runs;
}

TEST(PolicyCompare, FiguresFollowEachPolicysRules) {
  Files f;
  auto runs = run(f, {"first-fit", "best-fit", "glibc"});
  ASSERT_EQ(runs.size(), 3u);
  const PolicyRun &ff = runs[0], &bf = runs[1], &gl = runs[2];
  for (const auto& r : runs) {
    EXPECT_EQ(r.error, "") << r.policy;
    ASSERT_EQ(r.ops.size(), 10u) << r.policy; // 8 allocations, 2 frees; no expect, no mark
    EXPECT_EQ(r.mallocs, 8u);
    EXPECT_EQ(r.peak_live, 390u); // a..e live
    EXPECT_EQ(r.peak_done, 5u);
  }
  // Blocks looked at: the implicit list walks every block from the base.
  const uint64_t ff_searched[] = {0, 1, 2, 3, 4, 0, 0, 1, 4, 7};
  const uint64_t bf_searched[] = {0, 1, 2, 3, 4, 0, 0, 5, 6, 7};
  for (size_t k = 0; k < 10; ++k) {
    EXPECT_EQ(ff.ops[k].searched, ff_searched[k]) << "first-fit op " << k;
    EXPECT_EQ(bf.ops[k].searched, bf_searched[k]) << "best-fit op " << k;
  }
  EXPECT_DOUBLE_EQ(ff.searched_per_malloc(), 22.0 / 8);
  EXPECT_DOUBLE_EQ(bf.searched_per_malloc(), 28.0 / 8);
  // first-fit: 528 bytes after e; h (128) fits no hole (64, 48 free) and grows the heap to 656.
  EXPECT_EQ(ff.ops[4].footprint, 528u);
  EXPECT_EQ(ff.peak_footprint, 656u);
  EXPECT_DOUBLE_EQ(ff.utilization(), 390.0 / 656);
  // At the live peak nothing is free; the in-use blocks hold 138 bytes nobody asked for.
  EXPECT_DOUBLE_EQ(ff.external_frag(ff.peak_done), 0.0);
  EXPECT_DOUBLE_EQ(ff.internal_frag(ff.peak_done), 138.0 / 528);
  // After g: free blocks of 64 and 48 bytes; in use f 64 + b 48 + g 176 + d 48 + e 80 = 416 bytes
  // for 280 requested.
  EXPECT_EQ(ff.ops[8].free_bytes, 112u);
  EXPECT_EQ(ff.ops[8].largest_free, 64u);
  EXPECT_DOUBLE_EQ(ff.external_frag(9), 1.0 - 64.0 / 112);
  EXPECT_DOUBLE_EQ(ff.internal_frag(9), 136.0 / 416);
  // glibc: only h comes off a list (tcache[5], a's 0x70 chunk); everything else is cut from top.
  for (size_t k = 0; k < 10; ++k)
    EXPECT_EQ(gl.ops[k].searched, k == 9 ? 1u : 0u) << "glibc op " << k;
  // glibc's footprint: the first sbrk of 132 KiB (0x21000) holds it all.
  EXPECT_EQ(gl.peak_footprint, 0x21000u);
  Figures g = ff.figures(5);
  EXPECT_EQ(g.footprint, 528u);
  EXPECT_EQ(g.live, 390u);
  EXPECT_DOUBLE_EQ(g.utilization, 390.0 / 528);
}

TEST(PolicyCompare, PositionsKeepTheMapsInStep) {
  Files f;
  auto runs = run(f, {"glibc", "first-fit", "buddy"});
  for (const auto& r : runs) {
    trace::TraceFile tf;
    ASSERT_TRUE(tf.open(r.trace_path)) << r.trace_path;
    trace::EventStream s(tf);
    model::HeapModel m;
    uint64_t pos = 0;
    size_t k = 0;
    // At each operation's end the replayed heap has that operation's footprint and live bytes.
    while (k < r.ops.size() && r.ops[k].end == r.start)
      ++k;
    while (const trace::Event* e = s.next()) {
      m.apply(*e);
      ++pos;
      while (k < r.ops.size() && r.ops[k].end == pos) {
        EXPECT_EQ(m.live_bytes(), r.ops[k].live) << r.policy << " op " << k;
        EXPECT_EQ(r.ops_done(pos), k + 1) << r.policy;
        EXPECT_EQ(r.position_after(k + 1), pos) << r.policy;
        ++k;
      }
    }
    EXPECT_EQ(k, r.ops.size()) << r.policy;
    EXPECT_EQ(pos, r.events) << r.policy;
    // A position inside an operation shows the operations before it as done.
    if (r.ops[3].end > r.ops[2].end + 1) {
      EXPECT_EQ(r.ops_done(r.ops[3].end - 1), 3u) << r.policy;
    }
    // An allocation's API event (its last) names it; a free's does not.
    EXPECT_EQ(r.op_of_seq(r.ops[2].end), 2) << r.policy;
    EXPECT_EQ(r.op_of_seq(r.ops[5].end), -1) << r.policy; // free a
  }
}

TEST(PolicyCompare, APolicyThatStopsKeepsWhatItRan) {
  Files f;
  std::ofstream(f.scenario, std::ios::app) << "p = memalign 64 100\nq = malloc 8\n";
  auto runs = run(f, {"glibc", "first-fit"});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].error, "");
  EXPECT_EQ(runs[0].ops.size(), 12u);
  EXPECT_EQ(runs[1].error, f.scenario + ":13: policy first-fit has no memalign");
  EXPECT_EQ(runs[1].ops.size(), 10u);
}

TEST(PolicyCompare, BadInputSaysWhy) {
  std::vector<std::string> names;
  std::string err;
  EXPECT_FALSE(parse_policy_list("glibc,frist-fit", &names, &err));
  EXPECT_NE(err.find("unknown policy 'frist-fit' (known: glibc, first-fit"), std::string::npos) << err;
  EXPECT_FALSE(parse_policy_list("glibc,,buddy", &names, &err));
  EXPECT_EQ(err, "an empty policy name in 'glibc,,buddy'");
  EXPECT_FALSE(parse_policy_list("buddy,buddy", &names, &err));
  EXPECT_EQ(err, "policy 'buddy' is named twice");
  EXPECT_TRUE(parse_policy_list("glibc,first-fit,buddy", &names, &err));
  EXPECT_EQ(names, (std::vector<std::string>{"glibc", "first-fit", "buddy"}));

  Files f;
  std::ofstream(f.scenario) << "a = malloc 10\nb = mallok 3\n";
  CompareOptions o;
  o.policies = {"glibc"};
  std::vector<PolicyRun> runs;
  EXPECT_FALSE(compare_policies(f.scenario, o, &runs, &err));
  EXPECT_EQ(err,
            f.scenario + ":2: unknown operation 'mallok' (expected malloc, calloc, realloc or memalign)");
}

} // namespace
} // namespace hv::session
