// policy_info_test.cpp - the allocator's description chosen from a trace header's policy field
// (model/policy_info.h): glibc's header size, bins, flag bits and own chunks, and the generic
// description, with a warning, for a policy this heapviz does not know.
#include "model/policy_info.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace hv::model;
using hv::trace::BinKind;
using hv::trace::ChunkState;

namespace {
PolicyInfo from(const char* text, std::string* warning) {
  char field[16] = {};
  memcpy(field, text, strnlen(text, sizeof field));
  return policy_from_header(field, warning);
}
} // namespace

TEST(PolicyInfo, GlibcFromItsHeaderName) {
  std::string warning = "stale";
  PolicyInfo p = from("glibc-2.36", &warning);
  EXPECT_TRUE(p.known);
  EXPECT_EQ(warning, "");
  EXPECT_STREQ(p.name, "glibc-2.36");
  EXPECT_EQ(p.header_bytes, 16u);
  EXPECT_EQ(p.user_pointer(0x1000), 0x1010u);
  EXPECT_EQ(p.usable(0x20, false), 0x18u); // the next chunk's prev_size is the chunk's
  EXPECT_EQ(p.usable(0x2000, true), 0x1ff0u);
  ASSERT_EQ(p.nbins, 5u);
  for (BinKind k : {BinKind::Tcache, BinKind::Fast, BinKind::Unsorted, BinKind::Small, BinKind::Large})
    EXPECT_TRUE(p.has_bin(k));
  ASSERT_EQ(p.nflags, 3u);
  EXPECT_EQ(flag_letters(p, 0x7), "AMP");
  EXPECT_STREQ(p.internal_name, "tcache_perthread_struct");
  // Merging bins clear the next chunk's P; tcache and fastbins keep their chunks "in use".
  EXPECT_TRUE(p.merges_state(uint8_t(ChunkState::Small)));
  EXPECT_TRUE(p.merges_state(uint8_t(ChunkState::Unsorted)));
  EXPECT_FALSE(p.merges_state(uint8_t(ChunkState::Fast)));
  EXPECT_FALSE(p.merges_state(uint8_t(ChunkState::InUse)));
  // The sim's policy name finds the same description; so does another glibc version's header.
  ASSERT_TRUE(find_policy("glibc"));
  EXPECT_EQ(find_policy("glibc")->header_bytes, 16u);
  PolicyInfo other = from("glibc-2.39", &warning);
  EXPECT_TRUE(other.known);
  EXPECT_STREQ(other.name, "glibc-2.39");
}

TEST(PolicyInfo, FlagBitsFollowGlibcsRules) {
  std::string w;
  PolicyInfo p = from("glibc-2.36", &w);
  EXPECT_EQ(flag_letters(p, flag_bits(p, {false, 0, false})), "--P");
  EXPECT_EQ(flag_letters(p, flag_bits(p, {false, 2, false})), "A-P");
  EXPECT_EQ(flag_letters(p, flag_bits(p, {false, 0, true})), "---");
  EXPECT_EQ(flag_letters(p, flag_bits(p, {true, 3, false})), "-M-");
  EXPECT_EQ(flag_bits(p, {false, 1, false}), 0x5u);
}

TEST(PolicyInfo, AnUnknownPolicyGetsTheGenericDescriptionAndAWarning) {
  for (const char* name : {"buddy-0.1", ""}) {
    SCOPED_TRACE(name);
    std::string warning;
    PolicyInfo p = from(name, &warning);
    EXPECT_FALSE(p.known);
    EXPECT_STREQ(p.name, name);
    EXPECT_EQ(warning,
              "allocator policy '" + std::string(name) +
                  "' is unknown to this heapviz (it knows glibc-2.36, first-fit, next-fit, "
                  "best-fit, worst-fit, buddy, segregated, pool, linear, stack): chunks are drawn with "
                  "16-byte headers and no flag bits");
    EXPECT_EQ(p.header_bytes, 16u);
    EXPECT_EQ(p.nflags, 0u);
    EXPECT_EQ(flag_bits(p, {true, 5, true}), 0u);
    EXPECT_EQ(p.nbins, 5u); // every bin kind the format has
    EXPECT_FALSE(p.prev_size);
  }
  EXPECT_EQ(find_policy("tlsf"), nullptr);
  EXPECT_EQ(find_policy("buddy-0.1"), nullptr); // a textbook policy is known by its exact name
  // A full 16-byte field without a NUL is read whole.
  std::string warning;
  PolicyInfo p = from("0123456789abcdef", &warning);
  EXPECT_STREQ(p.name, "0123456789abcdef");
}

// The textbook policies (docs/policies.md) are known by their exact names: 16-byte headers the
// program cannot use, no flag bits, and the bin kind that carries their free lists.
TEST(PolicyInfo, TextbookPoliciesDescribeTheirBlocksAndLists) {
  struct {
    const char* name;
    BinKind kind;
    bool lifo;
  } want[] = {{"first-fit", BinKind::Unsorted, false}, {"next-fit", BinKind::Unsorted, false},
              {"best-fit", BinKind::Unsorted, false},  {"worst-fit", BinKind::Unsorted, false},
              {"buddy", BinKind::Small, false},        {"segregated", BinKind::Fast, true},
              {"pool", BinKind::Fast, true},           {"linear", BinKind::Unsorted, false},
              {"stack", BinKind::Unsorted, false}};
  for (const auto& w : want) {
    SCOPED_TRACE(w.name);
    std::string warning = "stale";
    PolicyInfo p = from(w.name, &warning);
    EXPECT_TRUE(p.known);
    EXPECT_EQ(warning, "");
    EXPECT_EQ(p.header_bytes, 16u);
    EXPECT_EQ(p.usable(0x40, false), 0x30u); // the header is the block's, nothing borrowed
    EXPECT_EQ(p.nflags, 0u);
    EXPECT_FALSE(p.prev_size);
    ASSERT_EQ(p.nbins, 1u);
    EXPECT_TRUE(p.has_bin(w.kind));
    EXPECT_EQ(p.list_order, w.lifo); // LIFO lists keep the model's order; the others are by address
    EXPECT_STRNE(p.bins_about, "");
  }
  EXPECT_EQ(find_policy("first"), nullptr); // no family match for the textbook names
}
