// site_tree_test.cpp - the app's view of allocation sites, without a display: the site table at
// the document's position (session::SiteView, as the Sites window and the map read it) and the
// bottom-up and top-down trees (session::build_site_tree).
#include "session/site_tree.h"
#include "session/site_view.h"
#include "trace/trace_builder.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

using namespace hv;

namespace {

// A trace's bytes in a file of the temporary directory named after `stem`; its path.
std::string write_file(const std::vector<uint8_t>& bytes, const char* stem) {
  std::string path = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/" + stem + "_" +
                     std::to_string(getpid()) + ".hvt";
  FILE* f = fopen(path.c_str(), "wb");
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
  return path;
}

// A module nowhere on disk (frames are named module+offset), main calling f and g, and:
// f allocates 100 and 100 (one freed later), g allocates 50.
std::string write_trace() {
  trace::TraceBuilder b(trace::kFileStacks);
  b.module_record(0x555555554000, "/nonexistent/heapviz-test/prog", "", {{0, 0x4000, 5}});
  b.stack_nodes(1, {{0, 0x555555555a00}, {1, 0x555555555b00}, {1, 0x555555555c00}}); // main, f, g
  b.set_call_stack(2);
  b.malloc(100, 0x5555555592a0);
  b.malloc(100, 0x555555559310);
  b.set_call_stack(3);
  b.malloc(50, 0x555555559380);
  b.set_call_stack(2);
  b.free(0x555555559310);
  return write_file(b.finish(), "hvsitetree");
}

} // namespace

TEST(SiteView, FollowsThePositionForwardAndBack) {
  std::string path = write_trace();
  session::Document doc;
  doc.open(path);
  ASSERT_EQ(doc.wait(), session::Document::State::Ready);
  ASSERT_EQ(doc.stacks().nodes(), 3u);
  session::SiteView sv;
  doc.seek(doc.events());
  ASSERT_TRUE(sv.update(doc, 10));
  ASSERT_TRUE(sv.at(doc));
  EXPECT_EQ(sv.table()->live_bytes(), 150u);
  int64_t f_site = sv.site_of(0x5555555592a0);
  ASSERT_GE(f_site, 0);
  EXPECT_EQ(sv.site(uint32_t(f_site)).live_bytes, 100u);
  EXPECT_EQ(sv.site_of(0x555555559310), -1); // freed
  EXPECT_EQ(sv.short_name(uint32_t(f_site)), "prog+0x1b00");
  // Back to before the free: the table starts over and both of f's blocks are live.
  doc.seek(doc.events() - 1);
  ASSERT_TRUE(sv.update(doc, 10));
  EXPECT_EQ(sv.table()->live_bytes(), 250u);
  EXPECT_EQ(sv.site_of(0x555555559310), f_site);
  // f's live bytes over the trace: 0 at the start, 100 at the end.
  const std::vector<uint64_t>& curve = sv.site_curve(doc, uint32_t(f_site), 8);
  ASSERT_EQ(curve.size(), 8u);
  EXPECT_EQ(curve.front(), 0u);
  EXPECT_EQ(curve.back(), 100u);
  unlink(path.c_str());
}

TEST(SiteTree, BottomUpAndTopDownSumTheSites) {
  std::string path = write_trace();
  session::Document doc;
  doc.open(path);
  ASSERT_EQ(doc.wait(), session::Document::State::Ready);
  doc.seek(doc.events());
  session::SiteView sv;
  ASSERT_TRUE(sv.update(doc, 10));
  // Bottom-up: f (100 live) and g (50), each called from main.
  auto up = session::build_site_tree(sv, false);
  ASSERT_EQ(up[0].children.size(), 2u);
  EXPECT_EQ(up[0].live_bytes, 150u);
  const auto& f = up[up[0].children[0]];
  EXPECT_EQ(f.function, "prog+0x1b00");
  EXPECT_EQ(f.live_bytes, 100u);
  EXPECT_EQ(f.allocs, 2u);
  ASSERT_EQ(f.children.size(), 1u);
  EXPECT_EQ(up[f.children[0]].function, "prog+0x1a00");
  EXPECT_EQ(up[up[0].children[1]].function, "prog+0x1c00");
  // Top-down: main (150 live, 3 allocations) calls f and g.
  auto down = session::build_site_tree(sv, true);
  ASSERT_EQ(down[0].children.size(), 1u);
  const auto& m = down[down[0].children[0]];
  EXPECT_EQ(m.function, "prog+0x1a00");
  EXPECT_EQ(m.live_bytes, 150u);
  EXPECT_EQ(m.allocs, 3u);
  ASSERT_EQ(m.children.size(), 2u);
  EXPECT_EQ(down[m.children[0]].function, "prog+0x1b00");
  unlink(path.c_str());
}

// A live capture that grows (Document::extend): the site table goes on into the new blocks
// instead of reading the trace again from the start.
TEST(SiteView, GoesOnIntoTheBlocksALiveCaptureGains) {
  trace::TraceBuilder b(trace::kFileStacks, 256); // small blocks: many of them
  b.module_record(0x555555554000, "/nonexistent/heapviz-test/prog", "", {{0, 0x4000, 5}});
  b.stack_nodes(1, {{0, 0x555555555a00}, {1, 0x555555555b00}});
  b.set_call_stack(2);
  for (int i = 0; i < 200; ++i)
    b.malloc(32, 0x555555559000 + uint64_t(i) * 0x30);
  auto bytes = b.finish();
  const std::vector<size_t>& blocks = b.block_offsets();
  ASSERT_GE(blocks.size(), 4u);
  std::string path = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/hvsitegrow_" +
                     std::to_string(getpid()) + ".hvt";
  FILE* f = fopen(path.c_str(), "wb");
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
  session::Document doc;
  doc.open_prefix(path, blocks[blocks.size() / 2]); // the capture's first half
  ASSERT_EQ(doc.wait(), session::Document::State::Ready);
  doc.seek(doc.events());
  session::SiteView sv;
  ASSERT_TRUE(sv.update(doc, 10));
  uint64_t half = sv.table()->live_blocks();
  EXPECT_GT(half, 0u);
  EXPECT_LT(half, 200u);
  ASSERT_EQ(doc.extend(bytes.size()), trace::TraceFile::Growth::Grown);
  doc.seek(doc.events());
  ASSERT_TRUE(sv.update(doc, 10));
  EXPECT_EQ(sv.table()->live_blocks(), 200u);
  EXPECT_EQ(sv.table()->live_bytes(), 200u * 32);
  EXPECT_EQ(sv.restarts(), 1u); // the first update only
  unlink(path.c_str());
}

// Two sites whose innermost frame is the same helper (called from f and from g) read alike by
// their short names; rows shown together get the callers that tell them apart, a site with a
// name of its own keeps it, and a site listed twice is one row's name twice.
TEST(SiteView, RowsThatReadAlikeGetTheirCallers) {
  trace::TraceBuilder b(trace::kFileStacks);
  b.module_record(0x555555554000, "/nonexistent/heapviz-test/prog", "", {{0, 0x4000, 5}});
  // main; f and g called from main; the helper (one call site in it) called from f and from g
  b.stack_nodes(1, {{0, 0x555555555a00},
                    {1, 0x555555555b00},
                    {1, 0x555555555c00},
                    {2, 0x555555555e00},
                    {3, 0x555555555e00}});
  b.set_call_stack(4);
  b.malloc(100, 0x5555555592a0);
  b.set_call_stack(5);
  b.malloc(50, 0x555555559310);
  b.set_call_stack(3);
  b.malloc(30, 0x555555559380);
  const std::string path = write_file(b.finish(), "hvsitenames");
  session::Document doc;
  doc.open(path);
  ASSERT_EQ(doc.wait(), session::Document::State::Ready);
  doc.seek(doc.events());
  session::SiteView sv;
  ASSERT_TRUE(sv.update(doc, 10));
  const int64_t from_f = sv.site_of(0x5555555592a0), from_g = sv.site_of(0x555555559310),
                in_g = sv.site_of(0x555555559380);
  ASSERT_GE(from_f, 0);
  ASSERT_GE(from_g, 0);
  ASSERT_GE(in_g, 0);
  EXPECT_EQ(sv.short_name(uint32_t(from_f)), "prog+0x1e00");
  EXPECT_EQ(sv.short_name(uint32_t(from_g)), "prog+0x1e00");
  const std::vector<std::string> names =
      sv.distinct_names({uint32_t(from_f), uint32_t(from_g), uint32_t(in_g), uint32_t(from_f)});
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0], "prog+0x1b00 > prog+0x1e00");
  EXPECT_EQ(names[1], "prog+0x1c00 > prog+0x1e00");
  EXPECT_EQ(names[2], "prog+0x1c00");
  EXPECT_EQ(names[3], names[0]);
  // Shown alone, a site needs no caller.
  EXPECT_EQ(sv.distinct_names({uint32_t(from_g)}), std::vector<std::string>{"prog+0x1e00"});
  unlink(path.c_str());
}
