// chunk_states_test.cpp - the one vocabulary of chunk states and bins (heapviz/chunk_states.h):
// every state and bin kind has its own name and label, the CLI's, the app's and dump's texts all
// come from it, and the bin kinds and the states in their bins map onto each other.
#include "test_util.h"
#include "trace/event_text.h"

#include <gtest/gtest.h>
#include <set>
#include <string>

using namespace hv::trace;
using hv::test::read_all;
using hv::test::TempFile;

TEST(ChunkStates, EveryStateHasItsOwnNameAndLabel) {
  std::set<std::string> names, labels;
  for (uint8_t s = 0; s < kNumChunkStates; ++s) {
    std::string name = state_name(s), label = state_label(s);
    SCOPED_TRACE(name);
    EXPECT_TRUE(names.insert(name).second) << "two states are called " << name;
    EXPECT_TRUE(labels.insert(label).second) << "two states are labelled " << label;
    // A name is one token (columns, messages, JSON); a label reads as words.
    EXPECT_EQ(name.find(' '), std::string::npos);
    EXPECT_EQ(label.find('_'), std::string::npos);
    std::string spaced = name;
    for (char& c : spaced)
      if (c == '_') c = ' ';
    EXPECT_EQ(spaced, label) << "the label is the name, in words";
  }
  EXPECT_EQ(names.size(), size_t(kNumChunkStates));
  EXPECT_STREQ(state_name(uint8_t(ChunkState::InUse)), "in_use");
  EXPECT_STREQ(state_label(uint8_t(ChunkState::InUse)), "in use");
  EXPECT_STREQ(state_name(kInHand), "in_hand");
  EXPECT_STREQ(state_name(200), "?");
}

TEST(ChunkStates, EveryBinKindHasItsOwnNameGroupAndState) {
  std::set<std::string> names, groups;
  for (uint8_t k = 1; k < kNumBinKinds; ++k) {
    const BinKindInfo& b = bin_kind_info(k);
    SCOPED_TRACE(b.name);
    EXPECT_TRUE(names.insert(b.name).second);
    EXPECT_TRUE(groups.insert(b.group).second);
    // The state of a chunk in such a bin is named like the bin, and says it sits in one.
    EXPECT_STREQ(state_name(uint8_t(b.state)), b.name);
    EXPECT_EQ(bin_of(uint8_t(b.state)), BinKind(k));
    EXPECT_TRUE(is_binned(uint8_t(b.state)));
  }
  for (uint8_t s = 0; s < kNumChunkStates; ++s)
    if (!is_binned(s)) {
      EXPECT_EQ(names.count(state_name(s)), 0u) << state_name(s);
    }
  EXPECT_STREQ(bin_kind_info(BinKind::Fast).group, "fastbins");
  EXPECT_STREQ(bin_kind_name(uint8_t(BinKind::None)), "none");
}

TEST(ChunkStates, BinTextsCarryTheIndexWhereTheKindHasSeveralBins) {
  EXPECT_STREQ(bin_text(BinKind::Tcache, 5).c_str(), "tcache[5]");
  EXPECT_STREQ(bin_text(BinKind::Fast, 3).c_str(), "fastbin[3]");
  EXPECT_STREQ(bin_text(BinKind::Unsorted, 1).c_str(), "unsorted");
  EXPECT_STREQ(bin_text(BinKind::Small, 7).c_str(), "smallbin[7]");
  EXPECT_STREQ(bin_text(BinKind::Large, 126).c_str(), "largebin[126]");
  EXPECT_STREQ(bin_text(BinKind::None, 3).c_str(), "");
  // A chunk's state for the CLI and for people: its bin when binned, else its name / label.
  EXPECT_STREQ(state_text(uint8_t(ChunkState::Small), 7).c_str(), "smallbin[7]");
  EXPECT_STREQ(state_label_text(uint8_t(ChunkState::Small), 7).c_str(), "smallbin[7]");
  EXPECT_STREQ(state_text(uint8_t(ChunkState::InUse), 0).c_str(), "in_use");
  EXPECT_STREQ(state_label_text(uint8_t(ChunkState::InUse), 0).c_str(), "in use");
  EXPECT_STREQ(state_text(kInHand, 0).c_str(), "in_hand");
}

// dump's bin_in and bin_out name the bin kind as the table does, for every kind; the unsorted
// bin, one list, without an index (as `bins` names it).
TEST(ChunkStates, DumpNamesBinsFromTheTable) {
  TraceBuilder b;
  for (uint8_t k = 1; k < kNumBinKinds; ++k) {
    b.bin_in(0x1000 + k * 0x100, 32, BinKind(k), 4);
    b.bin_out(0x1000 + k * 0x100, BinKind(k), 4);
  }
  TempFile tf(b.finish(), "states.hvt");
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  std::optional<TraceError> err;
  auto ev = read_all(f, &err);
  ASSERT_FALSE(err) << err->describe();
  ASSERT_EQ(ev.size(), 2u * (kNumBinKinds - 1));
  for (uint8_t k = 1; k < kNumBinKinds; ++k) {
    std::string kind =
        std::string(" ") + bin_kind_info(k).name + (BinKind(k) == BinKind::Unsorted ? "" : "[4]");
    std::string in = event_fields_text(ev[2 * (k - 1)]), out = event_fields_text(ev[2 * (k - 1) + 1]);
    EXPECT_EQ(in.substr(in.size() - kind.size()), kind) << in;
    EXPECT_EQ(out.substr(out.size() - kind.size()), kind) << out;
  }
}
