// salvage_test.cpp - trace/salvage.h: the events a killed process left in its buffers go back
// into its trace, made by the allocator's own BlockEncoder (the header it keeps in the buffer).
#include "test_util.h"
#include "trace/salvage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace hv::trace {
namespace {

constexpr uint64_t kStart = 1700000000000000000ull; // TraceBuilder's start_unix_ns
constexpr uint32_t kEncAt = 8192, kBufAt = 12288, kCap = 64 * 1024;

std::string scratch_dir() {
  const char* t = getenv("TMPDIR");
  std::string d = std::string(t ? t : "/tmp") + "/hvsalvage_" + std::to_string(getpid());
  mkdir(d.c_str(), 0700);
  return d;
}
void write_file(const std::string& path, const std::vector<uint8_t>& b) {
  FILE* f = fopen(path.c_str(), "wb");
  fwrite(b.data(), 1, b.size(), f);
  fclose(f);
}
std::vector<uint8_t> read_file(const std::string& path) {
  std::vector<uint8_t> b;
  FILE* f = fopen(path.c_str(), "rb");
  for (int c; f && (c = fgetc(f)) != EOF;)
    b.push_back(uint8_t(c));
  if (f) fclose(f);
  return b;
}

// A salvage file as the allocator leaves it: the head, then an encoder and its buffer, laid
// out as a TraceThread's (the head's offsets from BlockEncoder::layout). fill writes events with
// the encoder that lives in the file.
template <class Fill>
std::vector<uint8_t> salvage_file(uint32_t pid, uint32_t tid, uint64_t start, const std::string& trace,
                                  Fill fill) {
  std::vector<uint8_t> f(kBufAt + sizeof(BlockHeader) + kCap + 64);
  auto* e = new (f.data() + kEncAt) BlockEncoder();
  e->reset(f.data() + kBufAt, kCap);
  fill(*e);
  const BlockEncoder::Layout l = e->layout();
  SalvageHead h{};
  memcpy(h.magic, kSalvageMagic, 8);
  h.pid = pid;
  h.tid = tid;
  h.trace_start_ns = start;
  h.whole_off = uint32_t(kEncAt + l.whole);
  h.header_off = uint32_t(kEncAt + l.header);
  h.clocked_off = uint32_t(kEncAt + l.clocked);
  h.payload_off = uint32_t(kBufAt + sizeof(BlockHeader));
  h.payload_cap = kCap;
  memcpy(h.trace_path, trace.data(), trace.size());
  memcpy(f.data(), &h, sizeof h);
  return f;
}
// n mallocs from seq (sizes 100, 101, ...), and if torn half of one more after the last whole one.
std::vector<uint8_t> salvage_file(uint32_t pid, uint32_t tid, uint64_t start, const std::string& trace,
                                  uint64_t seq, int n, bool torn = false) {
  return salvage_file(pid, tid, start, trace, [&](BlockEncoder& e) {
    for (int i = 0; i < n; ++i) {
      e.begin_event(Ev::Malloc, seq + uint64_t(i), 2000000000 + uint64_t(i), tid, 0);
      put_malloc(e, 100 + uint64_t(i), 0x555555560000 + uint64_t(i) * 0x100);
    }
    if (torn) e.begin_event(Ev::Malloc, seq + uint64_t(n), 2000000000 + uint64_t(n), tid, 0); // not whole
  });
}

// A trace of 5 mallocs (seq 1-5) by thread 7, in a file.
std::vector<uint8_t> five_mallocs() {
  TraceBuilder b;
  b.thread(7);
  for (int i = 0; i < 5; ++i)
    b.malloc(32, 0x555555559000 + uint64_t(i) * 0x30);
  return b.finish();
}

std::vector<uint64_t> sizes(const std::string& path, std::optional<TraceError>* err) {
  TraceFile f;
  EXPECT_TRUE(f.open(path));
  std::vector<uint64_t> out;
  for (const Event& e : test::read_all(f, err).ev)
    if (e.type == Ev::Malloc) out.push_back(e.size);
  return out;
}

TEST(Salvage, TheWholeEventsOfABufferGoBackAfterTheTraceEnds) {
  std::string dir = scratch_dir();
  test::TempFile trace(five_mallocs(), "salvage.hvt");
  uint32_t gone = 999999; // no such process
  write_file(dir + "/a", salvage_file(gone, 7, kStart, trace.path, 6, 3, /*torn=*/true));
  auto r = salvage_directory(dir);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].events, 3u);
  EXPECT_EQ(r[0].note, "");
  EXPECT_EQ(r[0].trace, trace.path);
  std::optional<TraceError> err;
  EXPECT_EQ(sizes(trace.path, &err), (std::vector<uint64_t>{32, 32, 32, 32, 32, 100, 101, 102}));
  EXPECT_FALSE(err) << err->describe();
  struct stat st;
  EXPECT_NE(stat(dir.c_str(), &st), 0) << "the directory is removed once empty";
}

TEST(Salvage, ATornTailIsCutAndABlockTheTraceHasIsNotAddedAgain) {
  std::string dir = scratch_dir();
  std::vector<uint8_t> t = five_mallocs();
  // The trace ends with half of a 500-event block of thread 9 (a write cut short by the kill),
  // longer than what is salvaged: it must be cut, not merely written over.
  {
    std::vector<uint8_t> big(sizeof(BlockHeader) + kCap + 64);
    BlockEncoder e;
    e.reset(big.data(), kCap);
    for (int i = 0; i < 500; ++i) {
      e.begin_event(Ev::Malloc, 100 + uint64_t(i), 3000000000 + uint64_t(i), 9, 0);
      put_malloc(e, 300, 0x555555580000 + uint64_t(i) * 0x100);
    }
    const size_t n = e.finish();
    t.insert(t.end(), big.begin(), big.begin() + long(n / 2));
  }
  test::TempFile trace(t, "salvage2.hvt");
  // Thread 8's buffer: a block it had finished (finish() done, the buffer not yet cleared) when it
  // was killed.
  std::vector<uint8_t> s = salvage_file(999999, 8, kStart, trace.path, [](BlockEncoder& e) {
    for (int i = 0; i < 4; ++i) {
      e.begin_event(Ev::Malloc, 6 + uint64_t(i), 2000000000 + uint64_t(i), 8, 0);
      put_malloc(e, 200 + uint64_t(i), 0x555555570000 + uint64_t(i) * 0x100);
    }
    e.finish();
  });
  write_file(dir + "/b", s);
  auto r = salvage_directory(dir);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].events, 4u);
  EXPECT_GT(r[0].cut_bytes, 1000u);
  std::optional<TraceError> err;
  EXPECT_EQ(sizes(trace.path, &err), (std::vector<uint64_t>{32, 32, 32, 32, 32, 200, 201, 202, 203}));
  EXPECT_FALSE(err) << err->describe();

  // The same finished block again (the process died after its write went through): the trace
  // has it, nothing is added.
  const size_t before = read_file(trace.path).size();
  scratch_dir();
  write_file(dir + "/c", s);
  r = salvage_directory(dir);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(read_file(trace.path).size(), before);
}

TEST(Salvage, LeavesAloneWhatIsNotItsOwn) {
  std::string dir = scratch_dir();
  test::TempFile trace(five_mallocs(), "salvage3.hvt");
  const size_t size = read_file(trace.path).size();
  // Its trace replaced by a later image of the process (another start time, and no trace of
  // that start beside it): dropped with it, nothing said.
  write_file(dir + "/a", salvage_file(999999, 7, kStart + 1, trace.path, 6, 3));
  // A buffer with no whole event, and a file that is no salvage file: removed, nothing said.
  write_file(dir + "/b", salvage_file(999999, 7, kStart, trace.path, 6, 0, /*torn=*/true));
  write_file(dir + "/c", std::vector<uint8_t>(100, 'x'));
  // A process that is still running (pid 1) flushes its own buffers: its file stays.
  write_file(dir + "/d", salvage_file(1, 1, kStart, trace.path, 6, 3));
  auto r = salvage_directory(dir);
  EXPECT_TRUE(r.empty()) << r[0].note;
  EXPECT_EQ(read_file(trace.path).size(), size);
  struct stat st;
  EXPECT_EQ(stat((dir + "/d").c_str(), &st), 0);
  EXPECT_NE(stat((dir + "/a").c_str(), &st), 0);
  EXPECT_NE(stat((dir + "/c").c_str(), &st), 0);
  unlink((dir + "/d").c_str());
  rmdir(dir.c_str());
}

TEST(Salvage, ATraceMovedAsideByALaterImageStillGetsItsEvents) {
  // record --keep-exec: the image that exec'd keeps its trace as PATH.<pid>.1, and PATH is the
  // later image's (another start time). The earlier image's buffer names PATH.
  std::string dir = scratch_dir();
  test::TempFile later(five_mallocs(), "salvage4.hvt");
  std::vector<uint8_t> t = five_mallocs();
  const uint64_t later_start = kStart + 5;
  std::vector<uint8_t> l = read_file(later.path);
  FileHeader fh;
  memcpy(&fh, l.data(), sizeof fh);
  fh.start_unix_ns = later_start;
  memcpy(l.data(), &fh, sizeof fh);
  write_file(later.path, l);
  const std::string aside = later.path + ".4242.1";
  write_file(aside, t);
  write_file(dir + "/a", salvage_file(999999, 7, kStart, later.path, 6, 3));
  auto r = salvage_directory(dir);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].trace, aside);
  EXPECT_EQ(r[0].events, 3u);
  std::optional<TraceError> err;
  EXPECT_EQ(sizes(aside, &err), (std::vector<uint64_t>{32, 32, 32, 32, 32, 100, 101, 102}));
  EXPECT_EQ(sizes(later.path, &err).size(), 5u) << "the later image's trace is untouched";
  unlink(aside.c_str());
}

} // namespace
} // namespace hv::trace
