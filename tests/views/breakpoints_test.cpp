// breakpoints_test.cpp - the document's heap errors (session::ErrorList: built only for a trace
// with errors, each tied to its event and block) and the "run to" search (session::BreakSearch)
// driven without ImGui, forward and backward, a budget at a time.
#include "error_trace.h"
#include "session/breakpoints.h"
#include "session/document.h"
#include "trace/trace_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <unistd.h>

using namespace hv;
using session::Breakpoints;
using session::BreakSearch;
using session::Document;
using St = BreakSearch::State;

namespace {

std::string write_temp(const std::string& name, const std::vector<uint8_t>& bytes) {
  const char* dir = getenv("TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/hvbreak_" + std::to_string(getpid()) + "_" + name;
  FILE* f = fopen(path.c_str(), "wb");
  EXPECT_TRUE(f);
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
  return path;
}

// A trace of n malloc/free pairs (as long_trace below), in 8 KiB blocks flushed at the pair
// numbers in `at` (a live capture's sync points): their file sizes in *syncs.
std::vector<uint8_t> synced_trace(int n, const std::vector<int>& at, std::vector<uint64_t>* syncs);

// A trace of n malloc/free pairs of growing sizes from the top; every 1000th malloc's stack is 7
// ("parse" in the fake symbolizer), and the pair at k == 5000 frees twice (an error).
std::vector<uint8_t> long_trace(int n) {
  return synced_trace(n, {}, nullptr);
}

std::vector<uint8_t> synced_trace(int n, const std::vector<int>& at, std::vector<uint64_t>* syncs) {
  trace::TraceBuilder b(trace::kFileSnapshots | trace::kFileSimulated, at.empty() ? 64 * 1024 : 8 * 1024);
  b.heap_new(0x555555559000, 0x21000);
  uint64_t top = 0x555555559290;
  b.top(top, 0x21000 - 0x290);
  for (int k = 0; k < n; ++k) {
    uint64_t req = 16 + uint64_t(k % 50) * 8, nb = std::max<uint64_t>(32, (req + 8 + 15) & ~uint64_t(15));
    b.set_call_stack(k % 1000 == 0 ? 7 : 3);
    b.chunk_alloc(top, nb);
    b.malloc(req, top + 16);
    b.set_call_stack(3);
    b.free(top + 16);
    b.chunk_free(top, nb);
    if (k == 5000 || k == 7000) {
      b.free(top + 16);
      b.error(trace::ErrorCode::DoubleFree, top + 16);
    }
    if (std::find(at.begin(), at.end(), k) != at.end()) {
      b.flush();
      syncs->push_back(b.bytes().size());
    }
  }
  return b.finish();
}

bool fake_has(uint32_t stack, const std::string& fn) {
  return stack == 7 && std::string("parse_config").find(fn) != std::string::npos;
}

struct Loaded {
  std::string path;
  Document doc;
  explicit Loaded(const std::vector<uint8_t>& bytes, const char* name) : path(write_temp(name, bytes)) {
    doc.open(path);
    EXPECT_EQ(doc.wait(), Document::State::Ready) << doc.error();
  }
  ~Loaded() { unlink(path.c_str()); }
};

// Runs a search to its end with a tiny budget (many steps), as frames would.
St run(BreakSearch& s, session::EventIndex& ix, int* steps = nullptr) {
  int n = 0;
  while (s.step(ix, fake_has, 0.001) == St::Searching)
    ++n;
  if (steps) *steps = n;
  return s.state();
}

} // namespace

TEST(ErrorList, ATraceWithErrorsListsEachWithItsEventAndBlock) {
  test::ErrorTrace t;
  Loaded l(t.bytes, "errors.hvt");
  const session::ErrorList& el = l.doc.errors();
  ASSERT_TRUE(el.built());
  ASSERT_EQ(el.size(), 3u) << el.problem();
  EXPECT_TRUE(el.problem().empty()) << el.problem();
  for (size_t k = 0; k < el.size(); ++k) {
    EXPECT_EQ(l.doc.index().at(el.event(k)).type, trace::Ev::Error) << k;
    EXPECT_EQ(el.find_event(el.event(k)), int64_t(k));
  }
  EXPECT_EQ(el.find_event(0), -1);
  const analysis::HeapError& o = el.at(0);
  EXPECT_EQ(o.report.kind, trace::HeapErrorKind::HeapBufferOverflow);
  EXPECT_EQ(o.chunk, t.overflow_chunk);
  ASSERT_EQ(o.report.bytes.size(), 1u);
  EXPECT_EQ(o.report.bytes[0].offset, 16u + 90);
  EXPECT_EQ(o.report.bytes[0].found.size(), 6u);
  EXPECT_EQ(el.at(1).report.kind, trace::HeapErrorKind::WriteAfterFree);
  EXPECT_EQ(el.at(1).chunk, t.waf_chunk);
  EXPECT_EQ(el.at(2).report.kind, trace::HeapErrorKind::DoubleFree);
  EXPECT_FALSE(el.at(2).has_report);
}

TEST(ErrorList, ATraceWithoutErrorsIsNotPassedTwice) {
  Loaded l(long_trace(2000), "noerrors.hvt"); // (the double free is at k == 5000)
  EXPECT_FALSE(l.doc.errors().built());
  EXPECT_TRUE(l.doc.errors().empty());
}

TEST(Breakpoints, RunForwardAndBackToTheErrorAcrossManySteps) {
  Loaded l(long_trace(20000), "long.hvt");
  session::EventIndex& ix = l.doc.index();
  ASSERT_EQ(l.doc.errors().size(), 2u);
  const uint64_t err = l.doc.errors().event(0), n = ix.size();
  Breakpoints bp; // on_error by default
  BreakSearch s;
  s.start(bp, 0, n - 1, true);
  ASSERT_EQ(run(s, ix), St::Found);
  EXPECT_EQ(s.found(), err);
  const uint64_t err2 = l.doc.errors().event(1);
  s.start(bp, n - 1, 0, false);
  ASSERT_EQ(run(s, ix), St::Found);
  EXPECT_EQ(s.found(), err2);
  s.start(bp, err2 - 1, 0, false);
  ASSERT_EQ(run(s, ix), St::Found);
  EXPECT_EQ(s.found(), err);
  // From just past the last, forward finds nothing; from just before the first, backward neither.
  s.start(bp, err2 + 1, n - 1, true);
  EXPECT_EQ(run(s, ix), St::NotFound);
  s.start(bp, err - 1, 0, false);
  EXPECT_EQ(run(s, ix), St::NotFound);
  // The range's ends are included.
  s.start(bp, err, err, true);
  EXPECT_EQ(run(s, ix), St::Found);
  s.start(bp, err, err, false);
  EXPECT_EQ(run(s, ix), St::Found);
  // Groups without an error are skipped unread; a condition that reads every event (an address
  // nothing touches) goes a budget at a time, both ways, and finds nothing.
  Breakpoints far;
  far.on_error = false;
  far.on_addr = true;
  far.addr = 0x7000;
  for (bool fwd : {true, false}) {
    s.start(far, fwd ? 0 : n - 1, fwd ? n - 1 : 0, fwd);
    int steps = 0;
    EXPECT_EQ(run(s, ix, &steps), St::NotFound);
    EXPECT_GT(steps, 2) << "a 1 us budget must take several steps";
    EXPECT_EQ(s.progress(), 1.0);
  }
}

TEST(Breakpoints, KindAddressSizeAndSiteConditions) {
  Loaded l(long_trace(3000), "conds.hvt");
  session::EventIndex& ix = l.doc.index();
  const uint64_t n = ix.size();
  BreakSearch s;
  Breakpoints bp;
  bp.on_error = false;
  EXPECT_FALSE(bp.any());
  // A kind: the first free after event 10 (events: heap_new, top, then chunk_alloc, malloc, free,
  // chunk_free).
  bp.on_kinds = true;
  bp.kinds = analysis::kKindFree;
  s.start(bp, 10, n - 1, true);
  ASSERT_EQ(run(s, ix), St::Found);
  EXPECT_EQ(ix.at(s.found()).type, trace::Ev::Free);
  EXPECT_EQ(s.found(), 12u); // pairs start at 2: 2 alloc, 3 malloc, 4 free, 5 chunk_free, ... 12 free
  // A size range: 400 bytes, a request or a chunk's size.
  bp = Breakpoints();
  bp.on_error = false;
  bp.on_size = true;
  bp.size_lo = bp.size_hi = 400;
  s.start(bp, 0, n - 1, true);
  ASSERT_EQ(run(s, ix), St::Found);
  std::vector<trace::Event> all;
  ix.read(0, n, &all);
  uint64_t first = 0;
  while (first < n && all[first].size != 400 && all[first].size2 != 400)
    ++first;
  EXPECT_EQ(s.found(), first); // (pair 47's chunk of 400 bytes, before pair 48's malloc(400))
  EXPECT_LT(first, 2 + 4 * 48 + 2u);
  // An address: every pair reuses the chunk at the old top: backward from the end, the last event.
  bp = Breakpoints();
  bp.on_error = false;
  bp.on_addr = true;
  bp.addr = 0x555555559290 + 16;
  s.start(bp, n - 1, 0, false);
  ASSERT_EQ(run(s, ix), St::Found);
  EXPECT_EQ(s.found(), n - 1);
  // A site: "parse" is in stack 7, the malloc of every 1000th pair; backward from the end finds pair 2000's.
  bp = Breakpoints();
  bp.on_error = false;
  bp.on_site = true;
  bp.function = "parse";
  s.start(bp, n - 1, 0, false);
  ASSERT_EQ(run(s, ix), St::Found);
  EXPECT_EQ(s.found(), 2 + 4 * 2000 + 1u);
  s.start(bp, 2 + 4 * 2000, 0, false); // before it: pair 1000's
  ASSERT_EQ(run(s, ix), St::Found);
  EXPECT_EQ(s.found(), 2 + 4 * 1000 + 1u);
  // No condition: nothing to search.
  Breakpoints none;
  none.on_error = false;
  s.start(none, 0, n - 1, true);
  EXPECT_EQ(s.state(), St::NotFound);
}

// A live capture that grows: no error pass while there is no error; the first error's growth
// builds the log; later growth feeds it. The result is the file opened whole.
TEST(ErrorList, ALiveFileThatGrowsListsItsErrorsAsAWholeFileDoes) {
  std::vector<uint64_t> syncs;
  std::vector<uint8_t> bytes = synced_trace(9000, {3000, 6000, 8999}, &syncs);
  ASSERT_EQ(syncs.size(), 3u);
  std::string path = write_temp("grow.hvt", bytes);
  Document whole, grown;
  whole.open(path);
  ASSERT_EQ(whole.wait(), Document::State::Ready);
  grown.open_prefix(path, syncs[0]);
  ASSERT_EQ(grown.wait(), Document::State::Ready);
  EXPECT_FALSE(grown.errors().built()) << "no error yet: no pass";
  ASSERT_EQ(grown.extend(syncs[1]), trace::TraceFile::Growth::Grown);
  ASSERT_TRUE(grown.errors().built());
  EXPECT_EQ(grown.errors().size(), 1u);
  EXPECT_EQ(grown.position(), grown.events()) << "extend leaves the replay at the new end";
  ASSERT_EQ(grown.extend(syncs[2]), trace::TraceFile::Growth::Grown);
  ASSERT_EQ(grown.errors().size(), whole.errors().size());
  ASSERT_EQ(whole.errors().size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(grown.errors().event(k), whole.errors().event(k));
    EXPECT_EQ(grown.errors().at(k).seq, whole.errors().at(k).seq);
    EXPECT_EQ(grown.errors().at(k).chunk, whole.errors().at(k).chunk);
    EXPECT_EQ(grown.errors().at(k).alloc_seq, whole.errors().at(k).alloc_seq);
    EXPECT_EQ(grown.errors().at(k).free_seq, whole.errors().at(k).free_seq);
  }
  unlink(path.c_str());
}

// A malformed report (a kind out of range, a record cut short) is said, and the error it follows
// is still listed, without it; the views get a whole log.
TEST(ErrorList, AMalformedReportIsSaidAndItsErrorStillListed) {
  trace::TraceBuilder b;
  b.heap_new(0x555555559000, 0x21000);
  b.top(0x555555559290, 0x21000 - 0x290);
  b.free(0x555555559400);
  b.error(trace::ErrorCode::InvalidPointer, 0x555555559400);
  b.error_report(std::string_view("\x09\x01\x00", 3));
  b.free(0x555555559500);
  b.error(trace::ErrorCode::InvalidPointer, 0x555555559500);
  b.error_report(std::string_view("\x01", 1));
  Loaded l(b.finish(), "malformed.hvt");
  const session::ErrorList& el = l.doc.errors();
  ASSERT_EQ(el.size(), 2u);
  EXPECT_EQ(el.event(0), 3u);
  EXPECT_EQ(el.event(1), 6u);
  EXPECT_FALSE(el.problem().empty());
  EXPECT_NE(el.problem().find("error_report"), std::string::npos) << el.problem();
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_FALSE(el.at(k).has_report);
    EXPECT_EQ(el.at(k).report.kind, trace::HeapErrorKind::InvalidFree);
  }
}
