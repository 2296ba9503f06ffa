// state_words_test.cpp - the app and `heapviz sim` call every chunk by the same words: the
// views' pure text functions (views/chunk_layout.h) against the vocabulary
// (heapviz/chunk_states.h), and against tests/cli/demo.golden, the CLI's own printout of the demo
// scenario, chunk by chunk. No GL, no ImGui.
#include "session/document.h"
#include "views/chunk_layout.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace hv;
using views::HeapPicture;

TEST(StateWords, TheAppsWordsAreTheVocabularysLabels) {
  for (uint8_t s = 0; s < trace::kNumChunkStates; ++s)
    for (uint8_t bin : {0, 1, 5, 63}) {
      SCOPED_TRACE(trace::state_name(s));
      EXPECT_EQ(views::state_text(s, bin), trace::state_label_text(s, bin).c_str());
      // The legend names a state's colour by the state's label.
      std::string paint = views::paint_name(views::paint_of_state(s));
      EXPECT_EQ(paint.rfind(trace::state_label(s), 0), 0u) << paint;
    }
  EXPECT_EQ(views::state_text(uint8_t(trace::ChunkState::Fast), 3), "fastbin[3]");
  EXPECT_EQ(views::state_text(uint8_t(trace::ChunkState::Unsorted), 1), "unsorted");
  EXPECT_EQ(views::state_text(uint8_t(trace::ChunkState::InUse), 0), "in use");
}

namespace {
struct GoldenRow {
  uint64_t offset, size;
  std::string state, bin, block;
};
// The chunk rows of `heapviz sim`'s printout: "  0x2b0      0x70       tcache    tcache[5]".
std::vector<GoldenRow> golden_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<GoldenRow> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("  0x", 0) != 0) continue;
    std::istringstream ss(line);
    GoldenRow r;
    std::string off, size;
    ss >> off >> size >> r.state >> r.bin;
    std::getline(ss, r.block);
    r.offset = std::stoull(off, nullptr, 16);
    r.size = std::stoull(size, nullptr, 16);
    rows.push_back(r);
  }
  return rows;
}
} // namespace

// Every chunk `heapviz sim` prints for the demo (its golden file, which Cli.SimCli compares with
// the command's output) has, in the app's picture of the same scenario, the same state and bin,
// in the same words; the one sim calls the tcache struct is the one the app calls it.
TEST(StateWords, SimAndTheAppNameTheDemosChunksAlike) {
  std::vector<GoldenRow> rows = golden_rows(HV_SOURCE_DIR "/tests/cli/demo.golden");
  ASSERT_GT(rows.size(), 10u);
  session::Document doc;
  doc.open(HV_SOURCE_DIR "/assets/scenarios/demo.hvs");
  ASSERT_EQ(doc.wait(), session::Document::State::Ready) << doc.error();
  HeapPicture pic;
  views::build_picture(doc.replay().model(), doc.policy(), &pic);
  ASSERT_FALSE(pic.groups.empty());
  const uint64_t base = pic.groups[0].start; // the main heap: sim's offsets are from its start
  size_t binned = 0, own = 0;
  const std::string internal = std::string("(") + pic.policy.internal_name + ")";
  for (const GoldenRow& r : rows) {
    SCOPED_TRACE(r.state + " at +" + std::to_string(r.offset));
    int64_t i = pic.find(base + r.offset);
    ASSERT_GE(i, 0);
    const HeapPicture::Item& it = pic.items[size_t(i)];
    EXPECT_EQ(it.addr, base + r.offset);
    EXPECT_EQ(it.size, r.size);
    EXPECT_EQ(r.state, trace::state_name(it.state)); // the CLI's name of the app's state
    std::string app = views::state_text(it.state, it.bin);
    EXPECT_EQ(r.block.find(internal) != std::string::npos, it.internal) << r.block;
    if (it.internal) {
      EXPECT_NE(views::chunk_text(it, pic.policy).find(pic.policy.internal_name), std::string::npos);
      ++own;
    }
    if (trace::is_binned(it.state)) {
      EXPECT_EQ(r.bin, app); // the bin, word for word
      ++binned;
    } else {
      EXPECT_EQ(r.bin, "-");
      std::string words = r.state;
      for (char& c : words)
        if (c == '_') c = ' ';
      EXPECT_EQ(words, app); // the label is the name, in words
    }
  }
  EXPECT_GT(binned, 5u);
  EXPECT_EQ(own, 1u);
}
