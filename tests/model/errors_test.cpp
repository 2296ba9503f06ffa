// errors_test.cpp - heap error reports (trace/error_report.h) and what analysis::ErrorLog makes of
// them: each error tied to its block ("N bytes inside|after a block of M bytes") and to the
// stacks behind it (the faulting call's, the block's allocation, its earlier free), on hand-made
// traces whose answers are known.
#include "../trace/test_util.h"
#include "analysis/errors.h"
#include "heapviz/trace_encoder.h"

#include <gtest/gtest.h>

using namespace hv::trace;
using hv::test::TempFile;
namespace analysis = hv::analysis;

namespace {

constexpr uint64_t kHeap = 0x555555559000;

std::string record(HeapErrorKind kind, HeapErrorSource source, uint32_t stack, uint64_t ptr, uint64_t chunk,
                   const char* msg, const std::vector<ErrorRun>& runs = {},
                   uint8_t flags = kErrorCallWritten) {
  uint8_t buf[kMaxErrorReportBytes];
  size_t n = build_error_report(buf, kind, source, flags, stack, ptr, chunk, msg, runs.data(), runs.size());
  return std::string(reinterpret_cast<const char*>(buf), n);
}

// Every event of a builder's trace through a model and an ErrorLog.
struct Logged {
  TempFile file;
  TraceFile f;
  hv::model::HeapModel m;
  analysis::ErrorLog log;
  std::string error;
  bool ok = true;
  explicit Logged(TraceBuilder& b) : file(b.finish()) {
    EXPECT_TRUE(f.open(file.path));
    EventStream s(f);
    while (const Event* e = s.next()) {
      m.apply(*e);
      ok = log.add(*e, m, &error) && ok;
    }
    EXPECT_FALSE(s.error());
  }
};

// Two chunks of 0x30 from top; stack 1 allocates, 2 frees, 3 is the faulting call.
void two_blocks(TraceBuilder& b, uint64_t a, uint64_t c) {
  b.heap_new(kHeap, 0x21000);
  b.top(kHeap + 0x290, 0x21000 - 0x290);
  b.split(a, 0x30, 0x21000 - 0x290 - 0x30);
  b.top(c, 0x21000 - 0x290 - 0x30);
  b.set_call_stack(1);
  b.chunk_alloc(a, 0x30);
  b.malloc(40, a + 16);
  b.split(c, 0x30, 0x21000 - 0x290 - 0x60);
  b.top(c + 0x30, 0x21000 - 0x290 - 0x60);
  b.chunk_alloc(c, 0x30);
  b.malloc(40, c + 16);
}

} // namespace

TEST(ErrorReport, RoundTripsEveryField) {
  const uint8_t want[3] = {0xfe, 0xfe, 0xfe}, got[3] = {0x41, 0x41, 0xfe};
  std::string rec = record(HeapErrorKind::HeapBufferOverflow, HeapErrorSource::Heapviz, 7, 0x1010, 0x1000,
                           "heapviz: heap-buffer-overflow", {ErrorRun{0x38, 3, want, got}});
  TraceBuilder b;
  b.error(ErrorCode::Other, 0x1010);
  b.error_report(rec);
  TempFile file(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(file.path));
  auto ev = hv::test::read_all(f);
  ASSERT_EQ(ev.size(), 2u);
  ASSERT_EQ(ev[1].type, Ev::ErrorReport);
  ErrorReport r;
  std::string err;
  ASSERT_TRUE(read_error_report(ev[1], &r, &err)) << err;
  EXPECT_EQ(r.kind, HeapErrorKind::HeapBufferOverflow);
  EXPECT_EQ(r.source, HeapErrorSource::Heapviz);
  EXPECT_EQ(r.stack, 7u);
  EXPECT_EQ(r.ptr, 0x1010u);
  EXPECT_EQ(r.chunk, 0x1000u);
  EXPECT_EQ(r.message, "heapviz: heap-buffer-overflow");
  ASSERT_EQ(r.bytes.size(), 1u);
  EXPECT_EQ(r.bytes[0].offset, 0x38u);
  EXPECT_EQ(r.bytes[0].expected, std::vector<uint8_t>(want, want + 3));
  EXPECT_EQ(r.bytes[0].found, std::vector<uint8_t>(got, got + 3));
  EXPECT_STREQ(error_kind_name(r.kind), "heap-buffer-overflow");
}

TEST(ErrorReport, AMalformedRecordIsAnErrorNamingItsOffset) {
  std::string good = record(HeapErrorKind::DoubleFree, HeapErrorSource::Glibc, 0, 0x10, 0, "double free");
  for (std::string bad :
       {std::string("\x09\x01", 2), good.substr(0, good.size() - 3), std::string("\x01\x07", 2)}) {
    TraceBuilder b;
    b.error_report(bad);
    TempFile file(b.finish());
    TraceFile f;
    ASSERT_TRUE(f.open(file.path));
    auto ev = hv::test::read_all(f);
    ASSERT_EQ(ev.size(), 1u);
    ErrorReport r;
    std::string err;
    EXPECT_FALSE(read_error_report(ev[0], &r, &err));
    EXPECT_NE(err.find("error_report at offset " + std::to_string(ev[0].offset) + ": "), std::string::npos)
        << err;
  }
}

// A double free: the block, its allocation (stack 1) and its earlier free (stack 2); the faulting
// free (stack 3) comes before the error, as libhvalloc writes it.
TEST(ErrorLog, DoubleFreeNamesTheBlockAndTheEarlierFree) {
  TraceBuilder b;
  const uint64_t a = kHeap + 0x290, c = a + 0x30;
  two_blocks(b, a, c);
  b.set_call_stack(2);
  b.free_tcache(a + 16, 1);
  b.set_call_stack(3);
  b.free(a + 16);
  b.error(ErrorCode::DoubleFree, a + 16);
  b.error_report(record(HeapErrorKind::DoubleFree, HeapErrorSource::Glibc, 3, a + 16, 0,
                        "free(): double free detected in tcache 2"));
  Logged l(b);
  ASSERT_TRUE(l.ok) << l.error;
  ASSERT_EQ(l.log.errors().size(), 1u);
  const analysis::HeapError& h = l.log.errors()[0];
  EXPECT_TRUE(h.has_report);
  EXPECT_EQ(h.report.kind, HeapErrorKind::DoubleFree);
  EXPECT_EQ(h.report.message, "free(): double free detected in tcache 2");
  EXPECT_EQ(h.stack, 3u);
  EXPECT_EQ(h.alloc_stack, 1u);
  EXPECT_EQ(h.free_stack, 2u);
  EXPECT_TRUE(h.freed);
  EXPECT_EQ(h.user, a + 16);
  EXPECT_EQ(h.requested, 40u);
  EXPECT_EQ(h.chunk_size, 0x30u);
  EXPECT_EQ(analysis::where_text(h), "0x5555555592a0 is 0 bytes inside a freed block of 40 bytes");
}

// An overflow found at free: the first differing byte is 1 past the request; the block is not
// called freed (its only free is the faulting call), and it has no free stack.
TEST(ErrorLog, OverflowPointsPastTheRequest) {
  TraceBuilder b;
  const uint64_t a = kHeap + 0x290, c = a + 0x30;
  two_blocks(b, a, c);
  b.set_call_stack(3);
  b.free(a + 16);
  const uint8_t want[1] = {0xfe}, got[1] = {0x00};
  b.error(ErrorCode::Other, a + 16);
  // request 40 from a + 16: its end is chunk offset 56; the first changed byte is at 57
  b.error_report(record(HeapErrorKind::HeapBufferOverflow, HeapErrorSource::Heapviz, 3, a + 16, a,
                        "heapviz: heap-buffer-overflow", {ErrorRun{57, 1, want, got}}));
  Logged l(b);
  ASSERT_TRUE(l.ok) << l.error;
  ASSERT_EQ(l.log.errors().size(), 1u);
  const analysis::HeapError& h = l.log.errors()[0];
  EXPECT_EQ(h.address, a + 57);
  EXPECT_FALSE(h.freed);
  EXPECT_EQ(h.free_stack, 0u);
  EXPECT_EQ(h.alloc_stack, 1u);
  EXPECT_EQ(analysis::where_text(h), "0x5555555592c9 is 1 bytes after a block of 40 bytes");
}

// An interior pointer passed to free, and one outside every chunk; an error without a report
// (an older trace) takes its kind from the code and its stack from the thread's latest call.
TEST(ErrorLog, InteriorAndWildPointersAndOldTraces) {
  TraceBuilder b;
  const uint64_t a = kHeap + 0x290, c = a + 0x30;
  two_blocks(b, a, c);
  b.set_call_stack(3);
  b.free(c + 16 + 8);
  b.error(ErrorCode::InvalidPointer, c + 16 + 8);
  b.set_call_stack(4);
  b.free(0x1000);
  b.error(ErrorCode::InvalidPointer, 0x1000);
  Logged l(b);
  ASSERT_TRUE(l.ok) << l.error;
  ASSERT_EQ(l.log.errors().size(), 2u);
  const analysis::HeapError& in = l.log.errors()[0];
  EXPECT_FALSE(in.has_report);
  EXPECT_EQ(in.report.kind, HeapErrorKind::InvalidFree);
  EXPECT_EQ(in.stack, 3u);
  EXPECT_EQ(in.user, c + 16);
  EXPECT_EQ(in.alloc_stack, 1u);
  EXPECT_EQ(analysis::where_text(in), "0x5555555592d8 is 8 bytes inside a block of 40 bytes");
  const analysis::HeapError& wild = l.log.errors()[1];
  EXPECT_FALSE(wild.has_block);
  EXPECT_EQ(wild.stack, 4u);
  EXPECT_EQ(analysis::where_text(wild), "0x1000 is not in any block of the heap");
}
