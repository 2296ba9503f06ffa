// malloclab_test.cpp - CMU malloclab traces (docs/malloclab.md): both header orders and how they
// are told apart, the translation into scenario operations (names, lines, realloc(NULL), f -1),
// every documented error with its exact message and line, and mdriver's utilization measured on
// glibc and on first-fit.
#include "sim/malloclab.h"
#include "sim/policy.h"
#include "sim/runner.h"
#include "sim/utilization.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace hv;

namespace {

// "LINE: message" for a rejected trace, "" for an accepted one.
std::string error_of(const std::string& text) {
  std::vector<sim::Op> ops;
  sim::ParseError err;
  if (sim::parse_malloclab(text, &ops, &err)) return "";
  return std::to_string(err.line) + ": " + err.message;
}

// One line per operation: "LINE kind name [old] size".
std::string ops_text(const std::vector<sim::Op>& ops) {
  std::string s;
  for (const sim::Op& o : ops) {
    s += std::to_string(o.line) + " ";
    switch (o.kind) {
    case sim::OpKind::Malloc:
      s += "malloc " + o.name + " " + std::to_string(o.a);
      break;
    case sim::OpKind::Realloc:
      s += "realloc " + o.name + " " + (o.old_name.empty() ? "NULL" : o.old_name) + " " + std::to_string(o.a);
      break;
    case sim::OpKind::Free:
      s += "free " + o.name;
      break;
    default:
      s += "?";
    }
    s += "\n";
  }
  return s;
}

struct RepRun {
  std::string offsets; // as `heapviz sim --offsets`
  sim::Utilization util;
};

RepRun run(const std::string& policy, const std::string& text) {
  RepRun r;
  std::vector<sim::Op> ops;
  sim::ParseError perr;
  EXPECT_TRUE(sim::parse_malloclab(text, &ops, &perr)) << perr.line << ": " << perr.message;
  std::string err;
  auto p = sim::make_policy(policy, &err);
  EXPECT_TRUE(p) << err;
  if (!p) return r;
  sim::ScenarioRunner runner(*p);
  sim::UtilizationMeter meter;
  int line = 0;
  std::string msg;
  EXPECT_TRUE(runner.run(ops, &line, &msg,
                         [&](const sim::StepResult& s, std::string*) {
                           meter.observe(runner.live_requested_bytes(), p->summary());
                           if (s.allocating) r.offsets += s.op->name + " " + runner.offset_text(s.ptr) + "\n";
                           return true;
                         }))
      << line << ": " << msg;
  r.util = meter.result();
  return r;
}

// The handout's example in the 2002 order, with a blank line after the header.
const char* kClassic = "20000\n3\n8\n1\n\na 0 512\na 1 128\nr 0 640\na 2 128\nf 1\nr 0 768\nf 0\nf 2\n";

} // namespace

TEST(Malloclab, TheFirstHeaderNumberTellsTheOrder) {
  std::vector<sim::Op> ops;
  sim::ParseError err;
  sim::MalloclabHeader h;
  ASSERT_TRUE(sim::parse_malloclab(kClassic, &ops, &err, &h)) << err.message;
  EXPECT_FALSE(h.weight_first);
  EXPECT_EQ(h.sugg_heapsize, 20000u);
  EXPECT_EQ(h.num_ids, 3u);
  EXPECT_EQ(h.num_ops, 8u);
  EXPECT_EQ(h.weight, 1u);
  // weight num_ids num_ops ignore_ranges: a weight is 0..3, a suggested heap size is bytes.
  ASSERT_TRUE(sim::parse_malloclab("1\n2\n2\n1\na 1 8\nf 1\n", &ops, &err, &h)) << err.message;
  EXPECT_TRUE(h.weight_first);
  EXPECT_EQ(h.weight, 1u);
  EXPECT_EQ(h.num_ids, 2u);
  EXPECT_EQ(h.ignore_ranges, 1u);
  ASSERT_TRUE(sim::parse_malloclab("4\n1\n1\n0\na 0 8\n", &ops, &err, &h)) << err.message;
  EXPECT_FALSE(h.weight_first);
  // mdriver reads the header with fscanf: the four numbers may share a line.
  ASSERT_TRUE(sim::parse_malloclab("0 1 1 0\na 0 8\n", &ops, &err, &h)) << err.message;
  EXPECT_TRUE(h.weight_first);
}

TEST(Malloclab, IdsBecomeNamesAndEachOpKeepsItsLine) {
  std::vector<sim::Op> ops;
  sim::ParseError err;
  ASSERT_TRUE(sim::parse_malloclab(kClassic, &ops, &err)) << err.message;
  EXPECT_EQ(ops_text(ops), "6 malloc b0 512\n7 malloc b1 128\n8 realloc b0 b0 640\n9 malloc b2 128\n"
                           "10 free b1\n11 realloc b0 b0 768\n12 free b0\n13 free b2\n");
  // r of a never-allocated id is realloc(NULL); f -1 is free(NULL) and runs nothing; CRLF ends;
  // after r ID 0 the id is NULL, so f ID is free(NULL) and a new a ID is fine.
  ASSERT_TRUE(sim::parse_malloclab(
      "1\r\n2\r\n7\r\n0\r\nr 1 40\r\nf -1\r\na 0 8\r\nr 0 0\r\nf 0\r\n  \r\na 0 16\r\nf 0\r\n", &ops, &err))
      << err.message;
  EXPECT_EQ(ops_text(ops),
            "5 realloc b1 NULL 40\n7 malloc b0 8\n8 realloc b0 b0 0\n9 free b0\n11 malloc b0 16\n"
            "12 free b0\n");
}

TEST(Malloclab, EveryErrorNamesItsLine) {
  const std::string forms =
      " (sugg_heapsize num_ids num_ops weight, or weight num_ids num_ops ignore_ranges)";
  EXPECT_EQ(error_of("20000\nx\n1\n1\n"), "2: malformed malloclab header: 'x' is not a number" + forms);
  EXPECT_EQ(error_of("20000\n1\n1\n1 7\na 0 8\n"),
            "4: malformed malloclab header: '7' after its four numbers" + forms);
  EXPECT_EQ(error_of("20000\n1\n\n1\n"), "4: malloclab header ends early: 3 of its 4 numbers" + forms);
  EXPECT_EQ(error_of("20000\n20000000\n1\n1\n"),
            "2: malformed malloclab header: num_ids 20000000 is more than heapviz takes (16777216)");
  EXPECT_EQ(error_of(""), "1: malloclab header ends early: 0 of its 4 numbers" + forms);
  EXPECT_EQ(error_of("20000\n3\n2\n1\na 0 8\nm 1 8\n"),
            "6: unknown malloclab operation 'm' (expected a, r or f)");
  EXPECT_EQ(error_of("20000\n3\n2\n1\na 0 8\na 1\n"), "6: expected 'a ID SIZE'");
  EXPECT_EQ(error_of("20000\n3\n2\n1\na 0 8\nr 1 8 9\n"), "6: expected 'r ID SIZE'");
  EXPECT_EQ(error_of("20000\n3\n2\n1\na 0 8\nf\n"), "6: expected 'f ID'");
  EXPECT_EQ(error_of("20000\n3\n1\n1\na x 8\n"), "5: bad id 'x': expected a decimal number");
  EXPECT_EQ(error_of("20000\n3\n1\n1\nf -2\n"), "5: bad id '-2': expected a decimal number or -1");
  EXPECT_EQ(error_of("20000\n3\n1\n1\na 3 8\n"),
            "5: id 3 is out of range: the header says num_ids 3 (ids 0 to 2)");
  EXPECT_EQ(error_of("20000\n3\n1\n1\na 0 1k\n"), "5: bad size '1k': expected a decimal number of bytes");
  EXPECT_EQ(error_of("20000\n3\n1\n1\nf 2\n"), "5: f of id 2, which was never allocated");
  EXPECT_EQ(error_of("20000\n3\n3\n1\na 0 8\nf 0\nf 0\n"), "7: f of id 0, which was already freed at line 6");
  EXPECT_EQ(error_of("20000\n3\n3\n1\na 0 8\nf 0\nr 0 9\n"), "7: r of id 0, which was freed at line 6");
  EXPECT_EQ(error_of("20000\n3\n2\n1\na 0 8\na 0 9\n"),
            "6: a of id 0, which is still allocated (since line 5)");
  EXPECT_EQ(error_of("20000\n3\n3\n1\na 0 8\nf 0\n\n"),
            "6: the file ends after 2 operations; the header's num_ops is 3");
  EXPECT_EQ(error_of("20000\n3\n1\n1\na 0 8\nf 0\n"), "6: more operations than the header's num_ops (1)");
}

TEST(Malloclab, ScenarioOrTraceByTheFileName) {
  EXPECT_TRUE(sim::is_malloclab_path("traces/short1-bal.rep"));
  EXPECT_FALSE(sim::is_malloclab_path("demo.hvs"));
  EXPECT_FALSE(sim::is_malloclab_path(".rep"));
  std::vector<sim::Op> ops;
  sim::ParseError err;
  EXPECT_TRUE(sim::parse_ops_for_path("x.hvs", "a = malloc 8\n", &ops, &err));
  EXPECT_FALSE(sim::parse_ops_for_path("x.rep", "a = malloc 8\n", &ops, &err));
  EXPECT_EQ(err.line, 1);
}

// Peak live is mdriver's total of requested sizes: 512+128, then realloc 640 (+128), a 128 more:
// 896. Peak heap: glibc's first sbrk is 0x21000 (132 KiB), first-fit's break reaches 0x840.
TEST(Malloclab, UtilizationIsPeakLiveOverPeakHeap) {
  RepRun g = run("glibc", kClassic);
  EXPECT_EQ(g.offsets, "b0 0x2a0\nb1 0x4b0\nb0 0x540\nb2 0x7d0\nb0 0x860\n");
  EXPECT_EQ(g.util.peak_live, 896u);
  EXPECT_EQ(g.util.peak_heap, 0x21000u);
  RepRun f = run("first-fit", kClassic);
  EXPECT_EQ(f.offsets, "b0 0x10\nb1 0x220\nb0 0x2b0\nb2 0x10\nb0 0x540\n");
  EXPECT_EQ(f.util.peak_live, 896u);
  // 0x210 (b0) + 0x90 (b1), b0 moves to 0x2a0 (0x290), b2 takes 0x0, and b0's second move finds
  // no hole of 0x310: the break goes from 0x530 to 0x840.
  EXPECT_EQ(f.util.peak_heap, 0x840u);
  // A block glibc maps by itself counts in the footprint too: never above 100%.
  RepRun m = run("glibc", "0\n1\n2\n0\na 0 1000000\nf 0\n");
  EXPECT_EQ(m.offsets, "b0 mmap\n");
  EXPECT_EQ(m.util.peak_live, 1000000u);
  // The main heap's 132 KiB (the tcache's chunk) and the 0xf5000-byte mapping: 87.8%.
  EXPECT_EQ(m.util.peak_heap, 0x21000u + 0xf5000u);
}
