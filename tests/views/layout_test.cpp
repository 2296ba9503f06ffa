// layout_test.cpp - the chunk map's geometry (views/chunk_layout) and the app's document and
// event index (session/), on scenarios simulated on the glibc policy. No GL, no ImGui.
#include "session/document.h"
#include "sim/simulate.h"
#include "trace/churn_trace.h"
#include "trace/trace_builder.h"
#include "views/chunk_layout.h"
#include "views/chunk_words.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <tuple>
#include <unistd.h>

using namespace hv;
using views::HeapPicture;
using views::MapRect;
using views::MapView;
using views::Paint;

namespace {

std::string temp_path(const std::string& name) {
  const char* dir = getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/hvlayout_" + std::to_string(getpid()) + "_" + name;
}

// A scenario simulated into a trace file, opened as the app opens it.
struct Opened {
  std::string scenario, trace;
  session::Document doc;
  explicit Opened(const std::string& text, const char* name = "s") {
    scenario = temp_path(std::string(name) + ".hvs");
    std::ofstream(scenario) << text;
    doc.open(scenario);
    EXPECT_EQ(doc.wait(), session::Document::State::Ready) << doc.error();
  }
  ~Opened() { unlink(scenario.c_str()); }
  HeapPicture picture_at(uint64_t pos) {
    doc.seek(pos);
    HeapPicture p;
    views::build_picture(doc.replay().model(), doc.policy(), &p);
    p.position = pos;
    return p;
  }
};

const char* kScenario = "a = malloc 24\n"     // chunk 0x20 after the 0x290 tcache struct
                        "b = malloc 100\n"    // 0x70
                        "big = malloc 5000\n" // 0x1390
                        "guard = malloc 16\n" // 0x20
                        "free b\n"            // into tcache[5]
                        "mark done\n";

// "NAME = malloc SIZE\n" without std::string operator+ chains (GCC 12 warns falsely on them).
std::string line(const char* fmt, long a, long b = 0) {
  char buf[96];
  snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

const HeapPicture::Item* chunk_at(const HeapPicture& p, uint64_t addr) {
  int64_t i = p.find(addr);
  return i < 0 ? nullptr : &p.items[size_t(i)];
}

} // namespace

TEST(ChunkLayout, PictureListsTheHeapInAddressOrderWithExactSizesAndStates) {
  Opened o(kScenario);
  HeapPicture p = o.picture_at(o.doc.events());
  ASSERT_EQ(p.groups.size(), 1u); // one sbrk heap, nothing mmapped
  const HeapPicture::Group& g = p.groups[0];
  uint64_t base = g.start;
  std::vector<std::pair<uint64_t, uint64_t>> want = {
      {0, 0x290}, {0x290, 0x20}, {0x2b0, 0x70}, {0x320, 0x1390}, {0x16b0, 0x20}};
  for (auto [off, size] : want) {
    const HeapPicture::Item* it = chunk_at(p, base + off);
    ASSERT_TRUE(it) << "no chunk at +0x" << std::hex << off;
    EXPECT_EQ(it->addr, base + off);
    EXPECT_EQ(it->size, size);
  }
  EXPECT_EQ(chunk_at(p, base + 0x2b0)->state, uint8_t(trace::ChunkState::Tcache));
  EXPECT_EQ(chunk_at(p, base + 0x2b0)->bin, 5);
  EXPECT_EQ(chunk_at(p, base + 0x290)->req, 24u);
  EXPECT_EQ(chunk_at(p, base + 0x16d0)->state, uint8_t(trace::ChunkState::Top));
  // Any byte inside a chunk finds it; items tile the region.
  EXPECT_EQ(chunk_at(p, base + 0x2b0 + 0x50)->addr, base + 0x2b0);
  uint64_t at = g.start;
  for (uint32_t i = g.first; i < g.first + g.count; ++i) {
    EXPECT_EQ(p.items[i].addr, at);
    at += p.items[i].size;
  }
  EXPECT_EQ(at, g.end);
}

// The allocator marks its tcache struct (an `internal` event in the simulated trace); the model
// and the picture take that, not a size: the program's own malloc(0x280) has the same 0x290 size.
TEST(ChunkLayout, TheTcacheStructIsTheAllocatorsOwnAndAProgramsChunkOfItsSizeIsNot) {
  Opened o("mine = malloc 0x280\nfree_later = malloc 24\n", "internal");
  HeapPicture p = o.picture_at(o.doc.events());
  uint64_t base = p.groups[0].start;
  const HeapPicture::Item* tc = chunk_at(p, base);
  const HeapPicture::Item* mine = chunk_at(p, base + 0x290);
  ASSERT_TRUE(tc && mine);
  EXPECT_EQ(tc->size, 0x290u);
  EXPECT_EQ(mine->size, 0x290u);
  EXPECT_EQ(mine->req, 0x280u);
  EXPECT_TRUE(tc->internal);
  EXPECT_FALSE(mine->internal);
  EXPECT_TRUE(o.doc.replay().model().find(base)->internal);
  EXPECT_FALSE(o.doc.replay().model().find(base + 0x290)->internal);
  EXPECT_EQ(o.doc.replay().model().anomalies(), 0u) << o.doc.replay().model().first_anomaly();
  EXPECT_EQ(p.paints[size_t(p.find(base))], Paint::Internal);
  EXPECT_EQ(p.paints[size_t(p.find(base + 0x290))], Paint::InUse);
  // In use, the program's bytes: the program's chunk counts, the allocator's own does not.
  EXPECT_EQ(p.in_use_bytes, 0x290u + 0x20u);
}

TEST(ChunkLayout, ProportionalWidthsWrapIntoRowsAndRespectTheMinimumWidth) {
  Opened o(kScenario);
  HeapPicture p = o.picture_at(o.doc.events());
  MapView v;
  v.width = 100;
  v.bpp = 16; // a 0x20 chunk is 2 px: below the minimum of 3
  v.min_px = 3;
  v.shorten_rows = 0;
  views::MapLayout l;
  views::layout_map(p, v, &l);
  uint64_t base = p.groups[0].start;
  size_t a = size_t(p.find(base + 0x290)), big = size_t(p.find(base + 0x320));
  EXPECT_DOUBLE_EQ(l.width[a], 3.0);             // minimum width
  EXPECT_DOUBLE_EQ(l.width[big], 0x1390 / 16.0); // 313 px: proportional
  EXPECT_DOUBLE_EQ(l.start[a], 0x290 / 16.0);    // after the 41 px tcache struct
  // The big chunk starts at 41 + 3 + 7 = 51 px and runs 313 px: rows 0 to 3.
  std::vector<MapRect> r;
  views::item_rects(p, l, v, big, &r);
  ASSERT_EQ(r.size(), 4u);
  float pitch = v.row_h + v.row_gap;
  EXPECT_FLOAT_EQ(r[0].x0, 51);
  EXPECT_FLOAT_EQ(r[0].x1, 100);
  EXPECT_FLOAT_EQ(r[1].x0, 0);
  EXPECT_FLOAT_EQ(r[1].y0 - r[0].y0, pitch);
  EXPECT_FLOAT_EQ(r[3].x1, float(51 + 313 - 300));
  // Every visible rectangle of the big chunk (its parts: header, requested, slack) stays in its rows.
  std::vector<MapRect> vis;
  views::visible_rects(p, l, v, 0, l.height, &vis);
  int header = 0, inuse = 0;
  for (const MapRect& m : vis)
    if (m.item == int32_t(big)) {
      header += m.paint == Paint::Header;
      inuse += m.paint == Paint::InUse;
      EXPECT_GE(m.x0, 0);
      EXPECT_LE(m.x1, v.width);
    }
  EXPECT_EQ(header, 1);
  EXPECT_GE(inuse, 4); // the requested bytes span all four rows
}

TEST(ChunkLayout, HitTestFindsTheChunkUnderAPointAndNothingBetweenRows) {
  Opened o(kScenario);
  HeapPicture p = o.picture_at(o.doc.events());
  MapView v;
  v.width = 100;
  v.bpp = 16;
  views::MapLayout l;
  views::layout_map(p, v, &l);
  for (size_t i = 0; i < p.items.size(); ++i) {
    std::vector<MapRect> r;
    views::item_rects(p, l, v, i, &r);
    ASSERT_FALSE(r.empty());
    float x = (r[0].x0 + r[0].x1) / 2, y = (r[0].y0 + r[0].y1) / 2;
    EXPECT_EQ(views::hit_test(p, l, v, x, y), int64_t(i)) << "item " << i;
  }
  float rows_y = l.groups[0].rows_y;
  EXPECT_EQ(views::hit_test(p, l, v, 10, rows_y + v.row_h + v.row_gap / 2), -1); // the gap between rows
  EXPECT_EQ(views::hit_test(p, l, v, 10, rows_y - 5), -1);                       // the title line
  EXPECT_EQ(views::hit_test(p, l, v, 150, rows_y + 2), -1);                      // right of the rows
}

namespace {

// Map area (pixels) per paint among the rectangles, ticks apart (they are not heap bytes).
std::vector<double> area_by_paint(const std::vector<MapRect>& rects) {
  std::vector<double> a(static_cast<size_t>(Paint::Count));
  for (const MapRect& m : rects)
    if (!m.tick) a[size_t(m.paint)] += double(m.x1 - m.x0) * double(m.y1 - m.y0);
  return a;
}

} // namespace

TEST(ChunkLayout, SubPixelChunksShareAPixelByTheirBytes) {
  // 64 chunks of 0x20 in a row, then free every 8th, keeping the heap's order: at 256 bytes per
  // pixel each pixel holds 8 chunks, one of them free.
  std::string s;
  for (int i = 0; i < 64; ++i)
    s += line("c%ld = malloc 24\n", i);
  s += "guard = malloc 5000\n";
  for (int i = 0; i < 64; i += 8)
    s += line("free c%ld\n", i); // 1 of 8 free: 7 into the tcache, the 8th a fastbin
  Opened o(s, "agg");
  HeapPicture p = o.picture_at(o.doc.events());
  MapView v;
  v.width = 400;
  v.bpp = 256;
  views::MapLayout l;
  views::layout_map(p, v, &l);
  std::vector<MapRect> vis;
  views::visible_rects(p, l, v, 0, l.height, &vis);
  // The chunk run [0x290, 0x290 + 64 * 0x20) covers pixels 2.56 to 10.56: each whole pixel 3..9
  // is a column split by bytes: 7/8 in use (16 of 18 rows, with the remainders carried), 1/8
  // free (tcache or fastbin), not a majority vote.
  double in_use = 0, tcache = 0;
  int pooled = 0;
  for (const MapRect& m : vis)
    if (m.item < 0 && !m.tick && m.x0 >= 3 && m.x0 <= 9) {
      ++pooled;
      EXPECT_FLOAT_EQ(m.x1 - m.x0, 1.0f);
      (m.paint == Paint::InUse ? in_use : tcache) += m.y1 - m.y0;
      EXPECT_TRUE(m.paint == Paint::InUse || m.paint == Paint::Tcache || m.paint == Paint::Fast)
          << views::paint_name(m.paint);
    }
  EXPECT_GE(pooled, 7);
  EXPECT_NEAR(in_use / (in_use + tcache), 7.0 / 8, 0.02);
  EXPECT_LE(vis.size(), 60u); // not one rectangle per chunk
}

// The picture is true to bytes: on a heap of 20,000 small survivors scattered through 100 MiB
// of free memory, each state's share of the map's area is its share of the heap's bytes, at a
// zoom where every chunk is far narrower than a pixel and at one where the free chunks are wider.
TEST(ChunkLayout, AreaPerStateIsBytesPerStateOnAScatteredHeap) {
  std::string s;
  uint32_t r = 12345;
  auto next = [&] { return r = r * 1103515245u + 12345u, (r >> 8) & 0xffff; };
  for (int i = 0; i < 20000; ++i) {
    s += line("b%ld = malloc %ld\n", i, 1000 + long(next() % 5000));
    s += line("s%ld = malloc %ld\n", i, 8 + long(next() % 56));
  }
  for (int i = 0; i < 20000; ++i)
    s += line("free b%ld\n", i);
  Opened o(s, "scatter");
  HeapPicture p = o.picture_at(o.doc.events());
  std::vector<double> bytes(static_cast<size_t>(Paint::Count));
  double total = 0;
  for (size_t i = 0; i < p.items.size(); ++i) {
    bytes[size_t(p.paints[i])] += double(p.items[i].size);
    total += double(p.items[i].size);
  }
  ASSERT_GT(bytes[size_t(Paint::InUse)] / total, 0.005); // the survivors: about 1.5%
  for (double bpp : {8192.0, 700.0}) {
    MapView v;
    v.width = 1000;
    v.bpp = bpp;
    views::MapLayout l;
    views::layout_map(p, v, &l);
    std::vector<MapRect> vis;
    views::visible_rects(p, l, v, 0, l.height, &vis);
    std::vector<double> area = area_by_paint(vis);
    double all = 0;
    for (double x : area)
      all += x;
    // In-use chunks are drawn as header + requested + slack; compare them as one.
    auto live = [](const std::vector<double>& x) {
      return x[size_t(Paint::InUse)] + x[size_t(Paint::Header)] + x[size_t(Paint::Slack)];
    };
    EXPECT_NEAR(live(area) / all, live(bytes) / total, 0.003) << "bpp " << bpp;
    for (Paint k : {Paint::Unsorted, Paint::Top, Paint::Tcache, Paint::Internal})
      EXPECT_NEAR(area[size_t(k)] / all, bytes[size_t(k)] / total, 0.01)
          << views::paint_name(k) << " bpp " << bpp;
    // And the survivors are not lost: every row where they are too few to paint has ticks.
    size_t ticks = 0;
    for (const MapRect& m : vis)
      ticks += m.tick;
    if (bpp > 4096) {
      EXPECT_GT(ticks, size_t(l.groups[0].rows) * 100) << "bpp " << bpp;
    }
  }
  // The minimum width, by contrast, gives the survivors far more than their bytes: it says so.
  MapView mw;
  mw.set_mode(views::MapMode::MinWidth);
  EXPECT_FALSE(mw.to_scale());
  EXPECT_TRUE(MapView().to_scale());
}

// glibc's layout: the user's bytes start at chunk + 16 and may use the next chunk's prev_size.
// malloc(24) gets a 0x20 chunk: 8 bytes of size field, 16 of its own, then 8 in the first word
// of the next chunk, which the map draws in the in-use colour as the first chunk's bytes.
TEST(ChunkLayout, RequestOf24InA32ByteChunkReachesIntoTheNextPrevSize) {
  Opened o("a = malloc 24\nb = malloc 100\nc = malloc 40\n", "layout");
  HeapPicture p = o.picture_at(o.doc.events());
  uint64_t base = p.groups[0].start;
  int64_t ia = p.find(base + 0x290), ib = p.find(base + 0x2b0);
  ASSERT_GE(ia, 0);
  ASSERT_GE(ib, 0);
  MapView v;
  v.width = 4096;
  v.bpp = 1; // a byte a pixel
  views::MapLayout l;
  views::layout_map(p, v, &l);
  std::vector<MapRect> vis;
  views::visible_rects(p, l, v, 0, l.height, &vis);
  double a_req = 0, a_hdr = 0, a_slack = 0;
  for (const MapRect& m : vis) {
    if (m.item != ia) continue;
    double w = m.x1 - m.x0;
    if (m.paint == Paint::InUse) a_req += w;
    if (m.paint == Paint::Header) a_hdr += w;
    if (m.paint == Paint::Slack) a_slack += w;
  }
  EXPECT_DOUBLE_EQ(a_req, 24); // all of the request...
  EXPECT_DOUBLE_EQ(a_hdr, 8);  // after the size word (its prev_size is the tcache struct's)
  EXPECT_DOUBLE_EQ(a_slack, 0);
  // ... of which the last 8 bytes lie in b's first word, right at b's start, after b's separator.
  double b0 = l.start[size_t(ib)];
  bool spill = false;
  for (const MapRect& m : vis)
    if (m.item == ia && m.paint == Paint::InUse && m.x0 == float(b0) && m.x1 == float(b0 + 8) && m.lead &&
        m.first)
      spill = true;
  EXPECT_TRUE(spill) << "a's last 8 requested bytes are drawn in b's prev_size word";
  // b (malloc 100, chunk 0x70): size word 8, 96 bytes of its own, 4 more in c's prev_size + 4 slack.
  double b_req = 0, b_slack = 0, b_hdr = 0;
  for (const MapRect& m : vis)
    if (m.item == ib) {
      double w = m.x1 - m.x0;
      b_req += m.paint == Paint::InUse ? w : 0;
      b_slack += m.paint == Paint::Slack ? w : 0;
      b_hdr += m.paint == Paint::Header ? w : 0;
    }
  EXPECT_DOUBLE_EQ(b_req, 100);
  EXPECT_DOUBLE_EQ(b_slack, 4);
  EXPECT_DOUBLE_EQ(b_hdr, 8);
}

// Between a call's chunk_alloc and its malloc event the chunk is the call's, not the program's:
// drawn in hand, explained as such, and counted neither in use nor in the overhead (it used to be
// an in-use chunk of 0 requested bytes: all slack, 50% overhead).
TEST(ChunkLayout, AChunkInTheMiddleOfItsCallIsInHandAndNotCounted) {
  Opened o("a = malloc 24\nb = malloc 100\n", "midcall");
  uint64_t base = 0, pending_at = 0;
  for (uint64_t pos = 1; pos <= o.doc.events() && !pending_at; ++pos) {
    HeapPicture p = o.picture_at(pos);
    if (p.groups.empty()) continue;
    base = p.groups[0].start;
    int64_t i = p.find(base + 0x2b0);
    if (i >= 0 && p.items[size_t(i)].pending) pending_at = pos;
  }
  ASSERT_GT(pending_at, 0u) << "b's chunk is never seen between its chunk_alloc and its malloc";
  HeapPicture before = o.picture_at(pending_at - 1);
  uint64_t in_use_before = o.doc.replay().model().metrics().in_use;
  HeapPicture mid = o.picture_at(pending_at);
  const HeapPicture::Item& b = mid.items[size_t(mid.find(base + 0x2b0))];
  EXPECT_EQ(mid.paints[size_t(mid.find(base + 0x2b0))], Paint::InHand);
  EXPECT_EQ(views::item_paint(b), Paint::InHand);
  EXPECT_NE(views::chunk_text(b, mid.policy).find("being allocated"), std::string::npos);
  EXPECT_NE(views::mid_call_text(b), nullptr);
  EXPECT_EQ(o.doc.replay().model().metrics().in_use, in_use_before);
  EXPECT_EQ(mid.in_use_bytes, before.in_use_bytes);
  // The malloc event hands it to the program: in use, 100 bytes requested, no longer mid-call.
  HeapPicture after = o.picture_at(pending_at + 1);
  int64_t ib = after.find(base + 0x2b0);
  ASSERT_GE(ib, 0);
  EXPECT_FALSE(after.items[size_t(ib)].pending);
  EXPECT_EQ(after.paints[size_t(ib)], Paint::InUse);
  EXPECT_EQ(views::mid_call_text(after.items[size_t(ib)]), nullptr);
  EXPECT_EQ(o.doc.replay().model().metrics().in_use, in_use_before + 1);
  EXPECT_EQ(after.in_use_bytes, before.in_use_bytes + 0x70);
  // Seeking back to the middle restores it from a checkpoint the same way.
  HeapPicture again = o.picture_at(pending_at);
  EXPECT_TRUE(again.items[size_t(again.find(base + 0x2b0))].pending);
}

// The Chunk window's diagram: malloc(24) in a 0x20 chunk after the tcache struct, word by word.
TEST(ChunkWords, A24ByteRequestUsesTheNextChunksPrevSize) {
  Opened o("a = malloc 24\nb = malloc 100\nfree b\nc = malloc 40\n", "words");
  HeapPicture p = o.picture_at(o.doc.events());
  uint64_t base = p.groups[0].start, a = base + 0x290;
  std::vector<views::ChunkWord> w = views::chunk_words(p, size_t(p.find(a)));
  using O = views::ChunkWord::Owner;
  std::vector<std::tuple<uint64_t, uint64_t, O, std::string, Paint, bool>> want = {
      {a, 8, O::Prev, "prev's data", Paint::Internal, false}, // the tcache struct's last word
      {a + 8, 8, O::This, "size", Paint::Header, false},
      {a + 16, 16, O::This, "user data", Paint::InUse, true},
      {a + 32, 8, O::This, "user data", Paint::InUse, false}, // in the next chunk's prev_size
      {a + 40, 8, O::Next, "next's size", Paint::Header, false},
  };
  ASSERT_EQ(w.size(), want.size());
  for (size_t k = 0; k < w.size(); ++k) {
    auto [addr, bytes, owner, field, paint, user] = want[k];
    EXPECT_EQ(w[k].addr, addr) << k;
    EXPECT_EQ(w[k].bytes, bytes) << k;
    EXPECT_EQ(w[k].owner, owner) << k;
    EXPECT_EQ(w[k].field, field) << k;
    EXPECT_EQ(w[k].paint, paint) << k;
    EXPECT_EQ(w[k].user_pointer, user) << k;
  }
  EXPECT_EQ(w[1].value, "0x21 = 32 | --P");
  EXPECT_EQ(w[3].value, "8 requested bytes, in the next chunk's prev_size");
  EXPECT_NE(w[4].value.find("P set"), std::string::npos);
  // b, freed into the tcache: next and key after its size; its first word is a's last 8 bytes.
  std::vector<views::ChunkWord> wb = views::chunk_words(p, size_t(p.find(base + 0x2b0)));
  ASSERT_GE(wb.size(), 5u);
  EXPECT_EQ(wb[0].owner, O::Prev);
  EXPECT_EQ(wb[0].field, "prev's user data");
  EXPECT_EQ(wb[0].paint, Paint::InUse);
  EXPECT_EQ(wb[2].field, "next");
  EXPECT_TRUE(wb[2].user_pointer);
  EXPECT_EQ(wb[3].field, "key");
  EXPECT_EQ(wb.back().field, "next's size");
}

// A chunk free in a merging bin repeats its size in the next chunk's prev_size, whose P bit is clear.
TEST(ChunkWords, AFreeSmallbinChunkIsItsNextsPrevSize) {
  Opened o("x = malloc 2000\nguard = malloc 24\nfree x\nbig = malloc 3000\n", "words2");
  HeapPicture p = o.picture_at(o.doc.events());
  uint64_t base = p.groups[0].start, x = base + 0x290;
  const HeapPicture::Item* it = chunk_at(p, x);
  ASSERT_TRUE(it);
  ASSERT_EQ(it->state, uint8_t(trace::ChunkState::Large)); // 0x7e0: sorted out of unsorted
  std::vector<views::ChunkWord> w = views::chunk_words(p, size_t(p.find(x)));
  std::vector<std::string> fields;
  for (const auto& k : w)
    fields.push_back(k.field);
  std::vector<std::string> want = {"prev's data", "size",        "fd",   "bk",
                                   "fd_nextsize", "bk_nextsize", "free", "next's prev_size",
                                   "next's size"};
  EXPECT_EQ(fields, want);
  EXPECT_EQ(w[7].value, "2016 (this chunk's size: its boundary tag)");
  EXPECT_NE(w[8].value.find("P clear"), std::string::npos);
}

TEST(ChunkLayout, FitZoomMakesEverythingFitAndNoLess) {
  Opened o(kScenario);
  HeapPicture p = o.picture_at(o.doc.events());
  MapView v;
  v.width = 300;
  v.shorten_rows = 0;
  float h = 200;
  v.bpp = views::fit_bpp(p, v, h);
  EXPECT_LE(views::layout_height(p, v), h);
  MapView closer = v;
  closer.bpp = v.bpp * 0.9; // zoomed in a little more: too tall
  EXPECT_GT(views::layout_height(p, closer), h);
}

// A map whose titles alone do not fit (a large UI scale, many regions): the fit still shows the
// chunks, each region in a row of its own. (A region whose chunks were far narrower than a pixel
// got 0 rows, so the fit took 2^37 bytes a pixel: titles, and no chunk at all.)
TEST(ChunkLayout, FitWhenTheTitlesAloneOverflowStillShowsTheChunks) {
  Opened o("a = malloc 100\nhuge = malloc 300000\nb = malloc 200\n", "mm2");
  HeapPicture p = o.picture_at(o.doc.events());
  ASSERT_EQ(p.groups.size(), 2u);
  MapView v;
  v.width = 300;
  v.title_h = 40; // a scale of 2
  v.row_h = 36;
  v.bpp = views::fit_bpp(p, v, 60); // less than the two titles
  EXPECT_LT(v.bpp, 65536.0) << "bytes a pixel";
  views::MapLayout l;
  views::layout_map(p, v, &l);
  for (const auto& g : l.groups)
    EXPECT_GE(g.rows, 1u);
}

TEST(ChunkLayout, ShortenedTopIsAtMostOneRowAndSaysSo) {
  Opened o(kScenario);
  HeapPicture p = o.picture_at(o.doc.events());
  MapView v;
  v.width = 100;
  v.bpp = 16;
  v.shorten_rows = 1;
  uint64_t base = p.groups[0].start;
  const HeapPicture::Item* top = chunk_at(p, base + 0x16d0);
  ASSERT_TRUE(top);
  EXPECT_DOUBLE_EQ(views::item_width(*top, v), 100.0);
  EXPECT_TRUE(views::item_shortened(*top, v));
  const HeapPicture::Item* big = chunk_at(p, base + 0x320);
  EXPECT_FALSE(views::item_shortened(*big, v)); // only top and gaps are shortened
}

TEST(ChunkLayout, MmappedChunksGetTheirOwnGroup) {
  Opened o("a = malloc 100\nhuge = malloc 300000\n", "mm");
  HeapPicture p = o.picture_at(o.doc.events());
  ASSERT_EQ(p.groups.size(), 2u);
  EXPECT_TRUE(p.groups[1].mmapped);
  ASSERT_EQ(p.groups[1].count, 1u);
  const HeapPicture::Item& m = p.items[p.groups[1].first];
  EXPECT_EQ(m.state, uint8_t(trace::ChunkState::Mmapped));
  EXPECT_EQ(m.req, 300000u);
  EXPECT_EQ(p.find(m.addr + 16), int64_t(p.groups[1].first));
}

// malloc_trim gives back the pages of a (0x4000 bytes at heap + 0x290) from heap + 0x1000 and of b
// (0x6000 at heap + 0x42b0) from heap + 0x5000 (tests/fidelity/cases/25_malloc_trim.hvs): true to
// bytes, their pieces start where those bytes are and add up to them; in cells they stay in
// their chunk's cell; the timeline's series has the resident estimate.
TEST(ChunkLayout, ReleasedPagesAreDrawnWhereTheirBytesAre) {
  Opened o("a = malloc 0x3ff0\ng1 = malloc 24\nb = malloc 0x5ff0\ng2 = malloc 24\nfree a\nfree b\n"
           "malloc_trim 0\n",
           "trim");
  HeapPicture p = o.picture_at(o.doc.events());
  uint64_t base = p.groups[0].start;
  ASSERT_EQ(p.released.size(), 2u);
  EXPECT_EQ(p.released[0], std::make_pair(base + 0x1000, base + 0x4000));
  EXPECT_EQ(p.released[1], std::make_pair(base + 0x5000, base + 0xa000));
  EXPECT_EQ(p.released_bytes, 0x8000u);
  EXPECT_EQ(p.released_in(base + 0x42b0, base + 0xa2b0), 0x5000u);
  MapView v;
  v.width = 512;
  v.bpp = 16;
  views::MapLayout l;
  views::layout_map(p, v, &l);
  std::vector<views::ReleasedRect> r;
  views::released_rects(p, l, v, 0, l.height, &r);
  ASSERT_FALSE(r.empty());
  float pitch = v.row_h + v.row_gap;
  EXPECT_FLOAT_EQ(r[0].x0, 0x1000 / 16 % 512); // byte 0x1000 of the region: 256 px into row 0
  EXPECT_FLOAT_EQ(r[0].y0, l.groups[0].rows_y);
  double px = 0;
  for (const views::ReleasedRect& x : r) {
    px += x.x1 - x.x0;
    EXPECT_EQ(x.y1 - x.y0, v.row_h);
    EXPECT_FLOAT_EQ(std::fmod(x.y0 - l.groups[0].rows_y, pitch), 0);
    EXPECT_EQ(p.items[size_t(x.item)].addr, x.addr < base + 0x42b0 ? base + 0x290 : base + 0x42b0);
  }
  EXPECT_NEAR(px * v.bpp, 0x8000, 0.01);
  // Only the rows asked for: the second row holds bytes 0x2000-0x4000 of the region.
  views::released_rects(p, l, v, l.groups[0].rows_y + pitch + 1, l.groups[0].rows_y + pitch + 2, &r);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FLOAT_EQ(r[0].x0, 0);
  EXPECT_FLOAT_EQ(r[0].x1, 512);
  // One cell per chunk: each chunk's released share of its cell, inside it.
  v.set_mode(views::MapMode::OneCell);
  views::layout_map(p, v, &l);
  views::released_rects(p, l, v, 0, l.height, &r);
  ASSERT_EQ(r.size(), 2u);
  for (const views::ReleasedRect& x : r) {
    size_t i = size_t(x.item);
    EXPECT_GE(x.x0, std::fmod(l.start[i], v.width) - 1e-3);
    EXPECT_LE(x.x1 - x.x0, l.width[i] + 1e-3);
  }
  // The timeline's resident estimate ends at footprint - released.
  const auto& s = o.doc.series();
  EXPECT_EQ(s.back().resident, o.doc.replay().model().metrics().resident_bytes());
  EXPECT_LT(s.back().resident, s.back().heap);
}

// ---- session: the document and the event index ----------------------------------------------

TEST(Session, EventIndexReadsAnyWindowExactlyAsTheStreamDoes) {
  std::string s;
  for (int i = 0; i < 3000; ++i) {
    s += line("x%ld = malloc %ld\n", i, 16 + (i * 37) % 2000);
    if (i % 3 == 2) s += line("free x%ld\n", i - 1);
    if (i % 500 == 0) s += line("mark m%ld\n", i);
  }
  Opened o(s, "idx");
  session::EventIndex& ix = o.doc.index();
  ASSERT_GT(ix.size(), 3 * session::EventIndex::kGroup); // several groups
  ASSERT_EQ(ix.size(), o.doc.events());
  // The reference: every event, straight from a fresh stream.
  trace::EventStream ref(o.doc.file());
  std::vector<trace::Event> all;
  while (const trace::Event* e = ref.next())
    all.push_back(*e);
  ASSERT_EQ(all.size(), ix.size());
  for (uint64_t first :
       {uint64_t(0), uint64_t(4095), uint64_t(4096), uint64_t(9000), ix.size() - 3, uint64_t(17)}) {
    std::vector<trace::Event> w;
    ix.read(first, 40, &w);
    ASSERT_EQ(w.size(), std::min<uint64_t>(40, ix.size() - first));
    for (size_t k = 0; k < w.size(); ++k) {
      EXPECT_EQ(w[k].seq, all[first + k].seq);
      EXPECT_EQ(w[k].type, all[first + k].type);
      EXPECT_EQ(w[k].addr, all[first + k].addr);
    }
  }
  // Marks: their positions and labels.
  ASSERT_EQ(ix.marks().size(), 6u);
  EXPECT_EQ(ix.marks()[0].label, "m0");
  EXPECT_EQ(all[ix.marks()[2].index].type, trace::Ev::Mark);
  // find_next / find_prev agree with a linear scan, for every kind, from many places.
  for (int k = 0; k < session::kKindCount; ++k) {
    uint32_t mask = 1u << k;
    for (uint64_t from : {uint64_t(0), uint64_t(100), uint64_t(4097), uint64_t(8191), ix.size() - 1}) {
      int64_t want_next = -1, want_prev = -1;
      for (uint64_t i = from; i < all.size(); ++i)
        if (session::kind_of(all[i]) & mask) {
          want_next = int64_t(i);
          break;
        }
      for (int64_t i = int64_t(from); i >= 0; --i)
        if (session::kind_of(all[size_t(i)]) & mask) {
          want_prev = i;
          break;
        }
      EXPECT_EQ(ix.find_next(from, mask), want_next) << session::kind_name(k) << " from " << from;
      EXPECT_EQ(ix.find_prev(from, mask), want_prev) << session::kind_name(k) << " from " << from;
    }
  }
}

// The allocator's description comes from the trace header: glibc's for a simulated scenario; for
// a policy this heapviz does not know, the generic one and a warning on the banner.
TEST(Session, ThePolicyComesFromTheTraceHeader) {
  Opened o(kScenario, "policy");
  EXPECT_TRUE(o.doc.policy().known);
  EXPECT_STREQ(o.doc.policy().name, "glibc-2.36");
  EXPECT_EQ(o.doc.policy().header_bytes, 16u);

  trace::TraceBuilder b(0, 64 * 1024, "test", "buddy-0.1");
  b.heap_new(0x555555559000, 0x21000);
  b.top(0x555555559000, 0x21000);
  b.split(0x555555559000, 0x40, 0x21000 - 0x40);
  b.top(0x555555559040, 0x21000 - 0x40);
  b.chunk_alloc(0x555555559000, 0x40);
  b.malloc(40, 0x555555559010);
  std::vector<uint8_t> bytes = b.finish();
  std::string path = temp_path("buddy.hvt");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
  session::Document d;
  d.open(path);
  ASSERT_EQ(d.wait(), session::Document::State::Ready) << d.error();
  EXPECT_FALSE(d.policy().known);
  EXPECT_STREQ(d.policy().name, "buddy-0.1");
  EXPECT_EQ(d.policy().nflags, 0u);
  EXPECT_EQ(
      d.error(),
      path + ": allocator policy 'buddy-0.1' is unknown to this heapviz (it knows "
             "glibc-2.36, first-fit, next-fit, best-fit, worst-fit, buddy, segregated, pool, linear, stack): "
             "chunks are drawn with 16-byte headers and no flag bits");
  EXPECT_EQ(d.events(), 6u); // the heap is shown all the same
  HeapPicture p;
  views::build_picture(d.replay().model(), d.policy(), &p);
  EXPECT_EQ(p.policy.header_bytes, 16u);
  EXPECT_EQ(views::chunk_text(p.items[size_t(p.find(0x555555559000))], p.policy), "in use");
  unlink(path.c_str());
}

// A scenario runs on the policy the document is asked for (glibc unless told otherwise); an
// unknown one fails, naming the file and the policies there are.
TEST(Session, AScenarioRunsOnTheNamedPolicyAndAnUnknownOneFailsClearly) {
  std::string p = temp_path("named.hvs");
  std::ofstream(p) << kScenario;
  session::Document d;
  d.set_scenario_policy("tlsf");
  d.open(p);
  EXPECT_EQ(d.wait(), session::Document::State::Failed);
  EXPECT_EQ(d.error(), p + ": unknown policy 'tlsf' (available: glibc, first-fit, next-fit, best-fit, "
                           "worst-fit, buddy, segregated, pool, linear, stack)");
  // A textbook policy (docs/policies.md): its trace names it, and the app knows its blocks.
  d.set_scenario_policy("best-fit");
  d.open(p);
  ASSERT_EQ(d.wait(), session::Document::State::Ready) << d.error();
  EXPECT_STREQ(d.policy().name, "best-fit");
  EXPECT_TRUE(d.policy().known);
  EXPECT_EQ(d.policy().nflags, 0u);
  EXPECT_EQ(d.replay().model().anomalies(), 0u) << d.replay().model().first_anomaly();
  d.set_scenario_policy("glibc");
  d.open(p);
  ASSERT_EQ(d.wait(), session::Document::State::Ready) << d.error();
  EXPECT_STREQ(d.policy().name, "glibc-2.36");
  unlink(p.c_str());
}

// A CMU malloclab trace (.rep, docs/malloclab.md) opens as a scenario does: simulated on glibc,
// its blocks named bID; a broken one fails with its FILE:LINE.
TEST(Session, AMalloclabTraceOpensLikeAScenario) {
  const std::string rep = HV_SOURCE_DIR "/tests/data/malloclab/weight-first-coalesce.rep";
  session::Document d;
  d.open(rep);
  ASSERT_EQ(d.wait(), session::Document::State::Ready) << d.error();
  EXPECT_EQ(d.error(), "");
  EXPECT_STREQ(d.policy().name, "glibc-2.36");
  EXPECT_EQ(d.summary().peak_live(), 8072u); // mdriver's peak live payload (tests/cli)
  EXPECT_EQ(d.summary().peak_heap(), 0x21000u);
  EXPECT_EQ(d.replay().model().anomalies(), 0u) << d.replay().model().first_anomaly();
  d.set_scenario_policy("first-fit");
  d.open(rep);
  ASSERT_EQ(d.wait(), session::Document::State::Ready) << d.error();
  EXPECT_STREQ(d.policy().name, "first-fit");
  EXPECT_EQ(d.summary().peak_live(), 8072u);

  std::string bad = temp_path("bad.rep");
  std::ofstream(bad) << "20000\n3\n2\n1\na 0 8\nf 1\n";
  d.open(bad);
  EXPECT_EQ(d.wait(), session::Document::State::Failed);
  EXPECT_EQ(d.error(), bad + ":6: f of id 1, which was never allocated");
  unlink(bad.c_str());
}

TEST(Session, SeriesCoversTheWholeTraceWithItsPeak) {
  Opened o("a = malloc 100000\nb = malloc 100000\nfree a\nfree b\nc = malloc 10\n", "series");
  const auto& s = o.doc.series();
  ASSERT_GE(s.size(), 2u);
  EXPECT_EQ(s.back().pos, o.doc.events());
  uint64_t peak = 0;
  for (const auto& x : s)
    peak = std::max(peak, x.heap);
  EXPECT_EQ(peak, o.doc.summary().peak_heap());
  EXPECT_GT(peak, 200000u); // both 100000-byte chunks at once
}

TEST(Session, NotATraceFailsWithTheFileNameAndWhy) {
  std::string p = temp_path("garbage.hvt");
  std::ofstream(p) << std::string("\x01\x02garbage, not a trace", 22);
  session::Document d;
  d.open(p);
  EXPECT_EQ(d.wait(), session::Document::State::Failed);
  EXPECT_NE(d.error().find(p), std::string::npos) << d.error();
  EXPECT_NE(d.error().find("offset 0"), std::string::npos) << d.error();
  unlink(p.c_str());
}

TEST(Session, ScenarioErrorsNameTheLineAndKeepWhatRanBefore) {
  std::string p = temp_path("bad.hvs");
  std::ofstream(p) << "a = malloc 10\nfrobnicate 3\n";
  session::Document d;
  d.open(p);
  EXPECT_EQ(d.wait(), session::Document::State::Failed);
  EXPECT_NE(d.error().find(p + ":2:"), std::string::npos) << d.error();

  std::ofstream(p) << "a = malloc 10\nfree a\nfree a\n"; // a scenario error at line 3
  d.open(p);
  EXPECT_EQ(d.wait(), session::Document::State::Ready);
  EXPECT_NE(d.error().find(p + ":3:"), std::string::npos) << d.error();
  EXPECT_GT(d.events(), 0u); // the malloc and the first free are there
  unlink(p.c_str());
}

TEST(Session, TruncatedTraceShowsItsReadablePrefixAndSaysWhere) {
  std::string s;
  for (int i = 0; i < 4000; ++i)
    s += line("x%ld = malloc %ld\n", i, 16 + i % 900);
  std::string scen = temp_path("long.hvs"), full = temp_path("long.hvt"), cut = temp_path("cut.hvt");
  std::ofstream(scen) << s;
  std::string err;
  ASSERT_TRUE(sim::simulate_to_trace(scen, full, "glibc", &err)) << err;
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() * 2 / 3);
  session::Document whole, part;
  whole.open(full);
  part.open(cut);
  ASSERT_EQ(whole.wait(), session::Document::State::Ready);
  ASSERT_EQ(part.wait(), session::Document::State::Ready);
  EXPECT_EQ(whole.error(), "");
  EXPECT_NE(part.error().find("offset"), std::string::npos) << part.error();
  EXPECT_GT(part.events(), 0u);
  EXPECT_LT(part.events(), whole.events());
  // The prefix replays to the same heap as the whole trace at that position.
  whole.seek(part.events());
  part.seek(part.events());
  EXPECT_EQ(whole.replay().model().chunk_count(), part.replay().model().chunk_count());
  EXPECT_EQ(whole.replay().model().live_bytes(), part.replay().model().live_bytes());
  for (auto& f : {scen, full, cut})
    unlink(f.c_str());
}

TEST(ChunkLayout, LargeHeapsAreRadixSortedIntoExactAddressOrder) {
  // Enough chunks for the radix sort (above 2048), with holes from frees scattered around.
  std::string s;
  for (int i = 0; i < 6000; ++i)
    s += line("x%ld = malloc %ld\n", i, 24 + (i * 7919) % 1500);
  for (int i = 0; i < 6000; i += 3)
    s += line("free x%ld\n", (i * 17) % 6000);
  Opened o(s, "radix");
  HeapPicture p = o.picture_at(o.doc.events());
  const model::HeapModel& m = o.doc.replay().model();
  std::vector<model::Chunk> want = m.chunks_sorted(); // the model's own (std::sort) order
  size_t k = 0;
  for (const HeapPicture::Item& it : p.items) {
    if (it.gap()) continue;
    ASSERT_LT(k, want.size());
    EXPECT_EQ(it.addr, want[k].addr) << "item " << k;
    EXPECT_EQ(it.size, want[k].size);
    EXPECT_EQ(it.state, want[k].state);
    ++k;
  }
  EXPECT_EQ(k, want.size());
  EXPECT_GT(k, 4000u);
}

// The picture lists every chunk once, in address order within each group, on a heap large enough
// for the radix sort and the two threads' sort and merge (views::kTwoCores: tens of thousands of
// chunks) whose addresses lie far apart: the sbrk heap near 0x5555..., three thread heaps near
// 0x7ff0..., mmapped chunks near 0x7f00....
TEST(Picture, ChunksOfFarApartHeapsComeInAddressOrder) {
  trace::TraceBuilder b(0, 64 * 1024, "picture_test");
  trace::ChurnTrace g(b, 4, 11, 40000);
  g.run(300000);
  std::vector<uint8_t> bytes = b.finish();
  std::string path = temp_path("far_apart.hvt");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
  session::Document d;
  d.open(path);
  ASSERT_EQ(d.wait(), session::Document::State::Ready) << d.error();
  const model::HeapModel& m = d.replay().model();
  std::vector<model::Chunk> want = m.chunks_sorted();
  ASSERT_GT(want.size(), views::kTwoCores);
  ASSERT_LT(want.front().addr, 0x560000000000ull);
  ASSERT_GT(want.back().addr, 0x7ff000000000ull);
  HeapPicture p;
  for (int round = 0; round < 2; ++round) { // the second build reuses the first one's memory
    views::build_picture(m, d.policy(), &p);
    // The records in address order, as the model has them (what update_picture merges into).
    ASSERT_EQ(p.sorted.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(p.sorted[i].addr, want[i].addr) << i;
      ASSERT_EQ(p.sorted[i].size, want[i].size) << i;
      ASSERT_EQ(p.sorted[i].seq, want[i].seq) << i;
    }
    std::vector<uint64_t> got;
    size_t mmapped = 0;
    for (const HeapPicture::Group& gr : p.groups) {
      for (uint32_t i = gr.first; i < gr.first + gr.count; ++i) {
        const HeapPicture::Item& it = p.items[i];
        if (i > gr.first) {
          ASSERT_LT(p.items[i - 1].addr, it.addr) << "group " << gr.title << " item " << i;
        }
        if (!it.gap()) got.push_back(it.addr);
      }
      if (gr.mmapped) mmapped += gr.count;
    }
    EXPECT_GT(mmapped, 10u);
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got[i], want[i].addr) << i;
    // Each item is its chunk's record.
    for (const model::Chunk& c : want) {
      int64_t i = p.find(c.addr);
      ASSERT_GE(i, 0);
      const HeapPicture::Item& it = p.items[size_t(i)];
      ASSERT_EQ(it.addr, c.addr);
      ASSERT_EQ(it.size, c.size);
      ASSERT_EQ(it.state, c.state);
      ASSERT_EQ(it.seq, c.seq);
    }
  }
  unlink(path.c_str());
}
