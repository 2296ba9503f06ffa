// why_test.cpp - each allocation's "why" (analysis/why.h) on hand-written scenarios whose paths
// through glibc 2.36 and the textbook policies are known, and the predict game scored on them
// (session/predict.h).
#include "analysis/why.h"
#include "session/policy_compare.h"
#include "session/predict.h"
#include "trace/trace_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <unistd.h>

namespace hv {
namespace {

using analysis::BlockSource;
using analysis::CallStory;

// Runs the scenario on the policy and explains every allocation of its trace.
std::vector<CallStory> stories(const std::string& text, const std::string& policy,
                               session::PolicyRun* run_out = nullptr) {
  char t[] = "/tmp/hv-why-XXXXXX";
  std::string dir = mkdtemp(t);
  std::ofstream(dir + "/s.hvs") << text;
  session::CompareOptions o;
  o.policies = {policy};
  o.trace_dir = dir;
  std::vector<session::PolicyRun> runs;
  std::string err;
  EXPECT_TRUE(session::compare_policies(dir + "/s.hvs", o, &runs, &err)) << err;
  trace::TraceFile f;
  EXPECT_TRUE(f.open(runs[0].trace_path));
  std::vector<CallStory> out;
  EXPECT_TRUE(analysis::explain_trace(f, 0, &out, &err)) << err;
  if (run_out) *run_out = runs[0];
  (void)system(("rm -rf '" + dir + "'").c_str());
  return out;
}

TEST(Why, GlibcPathsInItsOwnWords) {
  // tcache off: the frees go to a fastbin (48 B) and the unsorted bin (512 B).
  const char* s = "tunable glibc.malloc.tcache_count=0\n"
                  "a = malloc 40\ng1 = malloc 16\nb = malloc 500\ng2 = malloc 16\n"
                  "free a\nfree b\n"
                  "c = malloc 40\n"     // fastbin[1]
                  "d = malloc 200\n"    // b sorted into smallbin[32], then split: 304 B stay free
                  "e = malloc 200\n"    // the 304 B last remainder, split: 96 B stay free
                  "h = malloc 200000\n" // mmapped
                  "free g1\n"
                  "big = malloc 2000\n"; // g1 consolidated, sorted; top
  session::PolicyRun run;
  auto v = stories(s, "glibc", &run);
  ASSERT_EQ(v.size(), 9u);
  EXPECT_EQ(v[0].source, BlockSource::Top);
  EXPECT_EQ(v[0].grew, 0x21000u);
  EXPECT_EQ(v[0].why, "40 B needs a 48 B chunk; no free chunk fits and top was too small: the heap grew by "
                      "135168 B, then cut from top");
  EXPECT_EQ(v[1].why, "16 B needs a 32 B chunk; no free chunk fits: cut from top at +0x2c0");
  EXPECT_EQ(v[4].source, BlockSource::Bin);
  EXPECT_EQ(v[4].bin_kind, trace::BinKind::Fast);
  EXPECT_EQ(v[4].chunk, v[0].chunk); // a's chunk again
  EXPECT_EQ(v[4].why, "40 B needs a 48 B chunk; fastbin[1] had one");
  EXPECT_EQ(v[5].source, BlockSource::Split);
  EXPECT_EQ(
      v[5].why,
      "the unsorted scan sorted 1 chunk into its bin; 200 B needs a 208 B chunk; no bin had one that size, "
      "so the 512 B chunk from smallbin[32] was split: 304 B stay free");
  EXPECT_EQ(
      v[6].why,
      "200 B needs a 208 B chunk; no bin had one that size, so the 304 B chunk from unsorted was split: "
      "96 B stay free");
  EXPECT_EQ(v[7].source, BlockSource::Mmapped);
  // (The 96 B remainder e left in the unsorted bin is sorted before glibc turns to mmap.)
  EXPECT_EQ(v[7].why,
            "the unsorted scan sorted 1 chunk into its bin; 200000 B needs a 200016 B chunk, at least the "
            "mmap threshold: a mapping of its own (200704 B)");
  EXPECT_EQ(
      v[8].why,
      "1 fastbin chunk was consolidated first; the unsorted scan sorted 1 chunk into its bin; 2000 B needs "
      "a 2016 B chunk; no free chunk fits: cut from top at +0x500");
  // Each story's call starts where the previous operation's events end: c's (a fastbin hit) is
  // its chunk_alloc and its API event, after free b's bin_in.
  EXPECT_EQ(v[4].event + 1, run.ops[6].end); // c is the 7th operation
  EXPECT_EQ(v[4].first, run.ops[5].end);
  EXPECT_EQ(v[4].first + 1, v[4].event);
  for (size_t k = 1; k < v.size(); ++k)
    EXPECT_GT(v[k].first, v[k - 1].event) << k;
}

// A trial's scenarios: what the last session's sentences got wrong.
TEST(Why, ConsolidationInAFreeAndTheChunkAgainstTheThreshold) {
  auto v = stories("tunable glibc.malloc.tcache_count=0\n"
                   "a = malloc 24\ng = malloc 24\nbig = malloc 70000\n"
                   "free a\n"   // a fastbin chunk
                   "free big\n" // merges into top (>= 64 KiB): malloc_consolidate runs in this free
                   "u = malloc 24\n",
                   "glibc");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[3].why.find("consolidated"), std::string::npos) << v[3].why; // the free's, not u's
  // A request under the threshold whose chunk is not (131064 B: a 131072 B chunk), which top (34
  // KiB after the first block) cannot serve: sysmalloc maps it.
  auto x = stories("fill = malloc 100000\nx = malloc 131064\n", "glibc");
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(x[1].source, BlockSource::Mmapped);
  EXPECT_EQ(x[1].why, "131064 B needs a 131072 B chunk, at least the mmap threshold: a mapping of its own "
                      "(135168 B)");
}

TEST(Why, ReallocToZeroOverflowMremapAndTheTcacheStash) {
  auto v = stories("a = malloc 100\nb = realloc a 0\n"
                   "c = calloc 0xffffffffffffffff 2\n"
                   "h = malloc 300000\nh = realloc h 600000\n",
                   "glibc");
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[1].why, "realloc(p, 0) frees the block and returns NULL");
  EXPECT_EQ(v[2].why, "calloc(18446744073709551615, 2): count x size overflows 64 bits: NULL (ENOMEM)");
  EXPECT_EQ(v[4].why, "realloc of a mapped block: mremap made its mapping 602112 B (from 303104 B)");
  // malloc from a fastbin moves the bin's other chunks into the tcache (tcache full first, then
  // emptied, so that the frees go to the fastbin).
  std::string t;
  for (int i = 0; i < 10; ++i)
    t.append("p").append(std::to_string(i)).append(" = malloc 40\n");
  for (int i = 0; i < 10; ++i)
    t.append("free p").append(std::to_string(i)).append("\n"); // 7 to tcache[1], 3 to fastbin[1]
  for (int i = 0; i < 8; ++i)
    t.append("q").append(std::to_string(i)).append(" = malloc 40\n"); // 7 from the tcache, then the fastbin
  auto w = stories(t, "glibc");
  ASSERT_EQ(w.size(), 18u);
  EXPECT_EQ(w[17].why, "40 B needs a 48 B chunk; fastbin[1] had one; 2 more of its chunks went to tcache[1]");
}

TEST(Why, TcacheAndRealloc) {
  auto v = stories(
      "a = malloc 24\nb = malloc 24\nfree a\nc = malloc 24\nd = realloc b 20\nd = realloc d 200\n", "glibc");
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[2].why, "24 B needs a 32 B chunk; tcache[0] had one");
  EXPECT_EQ(v[2].bin_kind, trace::BinKind::Tcache);
  EXPECT_EQ(v[3].source, BlockSource::InPlace);
  EXPECT_EQ(v[3].why, "realloc in place: the block already had room for 20 B");
  EXPECT_EQ(v[4].why, "realloc in place: the block grew from 32 B to 208 B");
}

TEST(Why, TextbookPolicies) {
  // need: a 128, b 48, c 224, d 48, e 80; f (64) and g (176) go into a's and c's holes.
  const char* s = "a = malloc 100\nb = malloc 20\nc = malloc 200\nd = malloc 20\ne = malloc 50\n"
                  "free a\nfree c\nf = malloc 40\ng = malloc 150\n";
  auto ff = stories(s, "first-fit");
  ASSERT_EQ(ff.size(), 7u);
  EXPECT_EQ(ff[0].source, BlockSource::Grown);
  EXPECT_EQ(ff[0].why, "first-fit: no free block fits 100 B: the heap grew by 128 B");
  EXPECT_EQ(ff[5].source, BlockSource::Split);
  EXPECT_EQ(ff[5].why, "first-fit: the first free block that fits is at +0x0 (128 B): split, 64 B stay free");
  EXPECT_EQ(ff[6].why,
            "first-fit: the first free block that fits is at +0xb0 (224 B): split, 48 B stay free");
  auto wf = stories(s, "worst-fit");
  EXPECT_EQ(wf[5].why, "worst-fit: the largest free block is at +0xb0 (224 B): split, 160 B stay free");
  EXPECT_EQ(wf[6].why, "worst-fit: no free block fits 150 B: the heap grew by 176 B");
  auto bd = stories(s, "buddy");
  EXPECT_EQ(bd[0].why,
            "buddy: no free 128 B block: the 1048576 B block at +0x0 was halved until a half had 128 B");
  EXPECT_EQ(bd[1].why, "buddy: no free 64 B block: the 128 B block at +0x80 was halved once");
  EXPECT_EQ(bd[2].why,
            "buddy: a 256 B block (the smallest power of two for 200 B + 16 B): its list had one at +0x100");
  auto sg = stories(s, "segregated");
  EXPECT_EQ(sg[0].why, "segregated: the 128 B class's list was empty: the heap grew by 128 B");
  auto ln = stories(s, "linear");
  EXPECT_EQ(ln[5].why, "linear: bumped: the block starts where the last one ended; the heap grew by 64 B");
  auto pl = stories("a = malloc 24\nb = malloc 100\n", "pool");
  EXPECT_EQ(pl[0].why, "pool: the free list's head block, at +0x0");
  EXPECT_EQ(pl[1].source, BlockSource::None);
  EXPECT_EQ(pl[1].why, "pool: no block fits: NULL");
}

// A free's merges belong to the free: the next call's block is the merged one, at its merged
// size (the sizes were those before the last merge). A textbook realloc that grows into the free
// block after it writes no realloc_in_place event: the same pointer is still in place.
TEST(Why, MergedBlocksAndReallocInPlaceOnTextbookPolicies) {
  const char* s = "a = malloc 100\nb = malloc 100\nc = malloc 100\ng = malloc 10\n"
                  "free a\nfree b\nfree c\nd = malloc 200\ne = realloc d 250\n";
  for (const char* policy : {"first-fit", "best-fit", "next-fit", "worst-fit"}) {
    auto v = stories(s, policy);
    ASSERT_EQ(v.size(), 6u) << policy;
    EXPECT_EQ(v[4].source, BlockSource::Split) << policy;
    EXPECT_EQ(v[4].from_size, 384u) << policy; // a, b and c merged: 3 x 128
    EXPECT_NE(v[4].why.find("at +0x0 (384 B): split, 160 B stay free"), std::string::npos) << v[4].why;
    EXPECT_EQ(v[5].source, BlockSource::InPlace) << policy;
    EXPECT_EQ(v[5].why, "realloc in place: the block grew from 224 B to 272 B") << policy;
  }
}

// memalign takes a larger chunk and cuts the aligned block out of it; it is no NULL.
TEST(Why, MemalignCutsALargerChunk) {
  auto v = stories("x = malloc 10\nd = memalign 64 100\ne = memalign 4096 10\n", "glibc");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[1].source, BlockSource::Top);
  EXPECT_EQ(v[1].why,
            "no free chunk fits: cut from top at +0x2b0; the 112 B after the aligned block went back free");
  EXPECT_EQ(v[2].source, BlockSource::Top);
  EXPECT_EQ(v[2].chunk % 4096, 4096u - 16); // the block's user pointer is aligned
  EXPECT_EQ(v[2].why, "10 B aligned to 4096 B: a 4176 B chunk was cut from top, then split at the aligned "
                      "address +0xff0; 4144 B around the block went back free");
}

// memalign's larger chunk taken whole from a bin is no split (its own cuts after taking it are
// memalign's), and a free's trim (top written again, shrunk) is still the free's: the next
// call's window starts after it.
TEST(Why, MemalignFromABinAndAFreesTrim) {
  const char* pre = "tunable glibc.malloc.tcache_count=0\n";
  auto exact = stories(std::string(pre) +
                           "a = malloc 24\nb = malloc 210\ng = malloc 24\nfree b\nq = memalign 64 100\n",
                       "glibc");
  ASSERT_EQ(exact.size(), 4u);
  EXPECT_EQ(exact[3].why,
            "the unsorted scan found one of exactly that size; the 112 B after the aligned block went "
            "back free");
  auto cut = stories(std::string(pre) +
                         "a = malloc 40\nb = malloc 210\ng = malloc 24\nfree b\nq = memalign 64 100\n",
                     "glibc");
  ASSERT_EQ(cut.size(), 4u);
  EXPECT_NE(cut[3].why.find("a 224 B chunk was taken from unsorted, then split at the aligned address"),
            std::string::npos)
      << cut[3].why;
  session::PolicyRun run;
  auto trim = stories("tunable glibc.malloc.tcache_count=0\ntunable glibc.malloc.mmap_threshold=1000000\n"
                      "tunable glibc.malloc.trim_threshold=4096\na = malloc 24\nc = malloc 300000\nfree c\n"
                      "d = malloc 24\n",
                      "glibc", &run);
  ASSERT_EQ(trim.size(), 3u);
  ASSERT_EQ(run.ops.size(), 4u);            // (tunables are no operations)
  EXPECT_EQ(trim[2].first, run.ops[2].end); // right after free c's events, its trim included
  EXPECT_EQ(trim[2].why, "24 B needs a 32 B chunk; no free chunk fits: cut from top at +0x2b0");
}

TEST(Predict, RevealsAndScores) {
  const char* s = "a = malloc 100\nb = malloc 20\nc = malloc 200\nd = malloc 20\ne = malloc 50\n"
                  "free a\nfree c\nf = malloc 40\ng = malloc 150\n";
  auto v = stories(s, "first-fit");
  session::PredictGame g;
  ASSERT_TRUE(g.start(&v, 0));
  EXPECT_EQ(g.position(), v[0].first);
  using A = session::PredictGame::Answer;
  g.answer(A::Mapping); // a grows the heap: wrong
  EXPECT_TRUE(g.revealed());
  EXPECT_FALSE(g.last_hit());
  EXPECT_EQ(g.position(), v[0].event + 1);
  EXPECT_EQ(g.verdict(), "Not quite. first-fit: no free block fits 100 B: the heap grew by 128 B");
  EXPECT_EQ(g.right_answer(), A::Grows);
  ASSERT_TRUE(g.next());
  g.answer(A::Grows); // b: right
  EXPECT_TRUE(g.last_hit());
  for (int k = 0; k < 4; ++k)
    ASSERT_TRUE(g.next());
  EXPECT_EQ(g.index(), 5u);                // f: a's hole at +0x0 (128 B)
  g.answer_chunk(v[5].chunk + 0x40, 0x40); // the wrong half of nothing: a click beside it
  EXPECT_FALSE(g.last_hit());
  ASSERT_TRUE(g.next());
  g.answer_chunk(v[6].chunk, 224); // g: c's hole, clicked
  EXPECT_TRUE(g.last_hit());
  EXPECT_EQ(g.score(), 2);
  EXPECT_EQ(g.asked(), 4); // a, b, f, g (c, d and e were skipped)
  EXPECT_FALSE(g.next());  // the last one
  // Starting later skips the allocations whose call began before.
  session::PredictGame h;
  ASSERT_TRUE(h.start(&v, v[5].first));
  EXPECT_EQ(h.index(), 5u);
  EXPECT_FALSE(h.start(&v, v.back().event + 1));
}

} // namespace
} // namespace hv
