// picture_update_test.cpp - the map's picture moved by the records a seek changed
// (views::update_picture) is the picture a whole build makes, item for item.
#include "session/document.h"
#include "trace/churn_trace.h"
#include "trace/trace_builder.h"
#include "views/chunk_layout.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>

using namespace hv;
using views::HeapPicture;

namespace {

std::string temp_path(const std::string& name) {
  const char* dir = getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/hv_picture_update_" + std::to_string(getpid()) + "_" +
         name;
}

// Every field the views read, compared whole (the scratch space aside).
void expect_same(const HeapPicture& got, const HeapPicture& want, const std::string& where) {
  ASSERT_EQ(got.items.size(), want.items.size()) << where;
  for (size_t i = 0; i < want.items.size(); ++i) {
    const HeapPicture::Item &a = got.items[i], &b = want.items[i];
    ASSERT_TRUE(a.addr == b.addr && a.size == b.size && a.req == b.req && a.seq == b.seq &&
                a.arena == b.arena && a.state == b.state && a.bin == b.bin && a.internal == b.internal &&
                a.pending == b.pending)
        << where << ": item " << i << " at 0x" << std::hex << b.addr << " (got 0x" << a.addr << ")";
  }
  ASSERT_EQ(got.groups.size(), want.groups.size()) << where;
  for (size_t g = 0; g < want.groups.size(); ++g) {
    const HeapPicture::Group &a = got.groups[g], &b = want.groups[g];
    EXPECT_EQ(a.title, b.title) << where;
    EXPECT_TRUE(a.start == b.start && a.end == b.end && a.arena == b.arena && a.mmapped == b.mmapped &&
                a.first == b.first && a.count == b.count)
        << where << ": group " << g;
  }
  EXPECT_EQ(got.region_groups, want.region_groups) << where;
  EXPECT_EQ(got.units, want.units) << where;
  EXPECT_TRUE(got.paints == want.paints) << where;
  EXPECT_EQ(got.in_use_bytes, want.in_use_bytes) << where;
  EXPECT_EQ(got.in_use_requested, want.in_use_requested) << where;
  EXPECT_EQ(got.released, want.released) << where;
  EXPECT_EQ(got.released_bytes, want.released_bytes) << where;
  ASSERT_EQ(got.sorted.size(), want.sorted.size()) << where;
}

} // namespace

// Steps forward and back, short seeks forward (no checkpoint restored: the model's change log
// holds what changed), steps back (the local checkpoint the model came from, put back by undo:
// the log goes on) and far seeks (another checkpoint: a whole build), 600 moves over a 4-arena
// churn with mmapped chunks: after each the picture the app keeps (updated when the log allows,
// as App::refresh_picture does) equals a whole build, and each way of updating ran.
TEST(PictureUpdate, EqualsAWholeBuildAfterEveryMove) {
  trace::TraceBuilder b(0, 64 * 1024, "picture_update_test");
  trace::ChurnTrace gen(b, 4, 9, 6000);
  gen.run(400000);
  std::vector<uint8_t> bytes = b.finish();
  std::string path = temp_path("churn.hvt");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
  session::Document d;
  d.open(path);
  ASSERT_EQ(d.wait(), session::Document::State::Ready) << d.error();
  unlink(path.c_str());
  const model::HeapModel& m = d.replay().model();
  const uint64_t total = d.events();

  HeapPicture kept, whole;
  std::mt19937_64 rng(3);
  size_t in_place = 0, merged = 0, built = 0, backs = 0, backs_built = 0;
  uint64_t pos = total / 2;
  bool far = true;
  for (int move = 0; move < 600; ++move) {
    unsigned kind = unsigned(rng() % 6);
    bool back_after_near = kind == 1 && !far && pos > 0;
    far = kind == 0;
    switch (kind) {
    case 0:
      pos = rng() % (total + 1); // far: mostly a checkpoint
      break;
    case 1:
      pos = pos > 0 ? pos - 1 : pos; // a step back (a local checkpoint)
      break;
    case 2:
      pos = std::min(total, pos + 1 + rng() % 2000); // a short seek forward
      break;
    default:
      pos = std::min(total, pos + 1); // a step forward
      break;
    }
    d.seek(pos);
    ASSERT_EQ(d.position(), pos);
    views::PictureUpdate how = views::PictureUpdate::None;
    if (m.change_log_complete(kept.change_log)) how = views::update_picture(m, m.changed(), &kept);
    if (how == views::PictureUpdate::None) {
      views::build_picture(m, d.policy(), &kept);
      ++built;
    }
    if (back_after_near) {
      ++backs;
      backs_built += how == views::PictureUpdate::None;
    }
    in_place += how == views::PictureUpdate::InPlace;
    merged += how == views::PictureUpdate::Merged;
    kept.change_log = m.start_change_log();
    views::build_picture(m, d.policy(), &whole);
    expect_same(kept, whole, "move " + std::to_string(move) + " to " + std::to_string(pos));
    if (HasFailure()) return;
  }
  EXPECT_GT(in_place, 50u);
  EXPECT_GT(merged, 50u);
  EXPECT_GT(built, 50u);
  // A step back restores the local checkpoint the model came from: only what changed since is
  // put back (HeapModel::restore's undo), and the log goes on.
  EXPECT_GT(backs, 40u);
  EXPECT_LE(backs_built * 10, backs) << backs_built << " of " << backs
                                     << " steps back built the picture whole";
  printf("in place %zu, merged %zu, built %zu; steps back after a near move: %zu, of them built whole %zu\n",
         in_place, merged, built, backs, backs_built);
}

// A copy of the model starts without the log, and a restore ends it.
TEST(PictureUpdate, ACopyOrARestoreEndsTheChangeLog) {
  model::HeapModel m;
  uint64_t id = m.start_change_log();
  EXPECT_TRUE(m.change_log_complete(id));
  model::HeapModel copy = m;
  EXPECT_FALSE(copy.change_log_complete(id));
  uint64_t id2 = m.start_change_log();
  EXPECT_NE(id2, id);
  EXPECT_FALSE(m.change_log_complete(id)); // one log at a time
  m.restore(m.save());
  EXPECT_FALSE(m.change_log_complete(id2));
}
