// reader_bad_input_test.cpp - every kind of bad trace the reader meets (a missing or empty file,
// a wrong magic, version or pointer size, truncation in the header or in or between blocks, a
// corrupt CRC, absurd sizes...), each with the error kind, message and byte offset it must give.
// The good traces' round trips are reader_test.cpp's.
#include "test_util.h"

#include <gtest/gtest.h>

using namespace hv::trace;
using hv::test::fix_crc;
using hv::test::get32;
using hv::test::put32;
using hv::test::read_all;
using hv::test::TempFile;

// ---- Bad input --------------------------------------------------------------------------------

namespace {
// Opens bytes; expects open() to fail with kind and a message containing text.
void expect_open_fails(const std::vector<uint8_t>& bytes, ErrorKind kind, const std::string& text,
                       uint64_t off) {
  TempFile tf(bytes);
  TraceFile f;
  EXPECT_FALSE(f.open(tf.path));
  ASSERT_TRUE(f.error());
  EXPECT_EQ(f.error()->kind, kind) << f.error()->describe();
  EXPECT_NE(f.error()->message.find(text), std::string::npos) << f.error()->describe();
  EXPECT_EQ(f.error()->offset, off) << f.error()->describe();
}

// Opens bytes (a TempFile) and reads every event: whether it opened, how many events were read,
// and the error that stopped the read (none: nothing did).
struct ReadResult {
  bool opened = false;
  size_t events = 0;
  std::optional<TraceError> err;
};
ReadResult read_bytes(const std::vector<uint8_t>& bytes) {
  TempFile tf(bytes);
  TraceFile f;
  ReadResult r;
  r.opened = f.open(tf.path);
  if (r.opened) r.events = read_all(f, &r.err).ev.size();
  return r;
}

std::vector<uint8_t> three_blocks(size_t* second = nullptr) {
  TraceBuilder b(0, 128);
  for (int i = 0; i < 60; ++i)
    b.malloc(uint64_t(i), 0x1000 + uint64_t(i) * 32);
  auto bytes = b.finish();
  EXPECT_GE(b.block_offsets().size(), 3u);
  if (second) *second = b.block_offsets()[1];
  return bytes;
}
} // namespace

TEST(TraceBadInput, MissingFileIsAnIoError) {
  TraceFile f;
  EXPECT_FALSE(f.open("/nonexistent/x.hvt"));
  EXPECT_EQ(f.error()->kind, ErrorKind::Io);
  EXPECT_NE(f.error()->message.find("cannot open"), std::string::npos);
}

TEST(TraceBadInput, EmptyFile) {
  expect_open_fails({}, ErrorKind::NotATrace, "not a heapviz trace (the file is 0 bytes", 0);
}

TEST(TraceBadInput, WrongMagic) {
  auto bytes = three_blocks();
  bytes[0] = 'X';
  expect_open_fails(bytes, ErrorKind::NotATrace, "not a heapviz trace (bad magic)", 0);
}

TEST(TraceBadInput, FutureVersionNamesTheVersionWeRead) {
  auto bytes = three_blocks();
  put32(bytes, 8, 7);
  expect_open_fails(bytes, ErrorKind::TooNew,
                    "trace version 7 was made by a newer heapviz; this heapviz reads versions 1 to 3", 8);
}

TEST(TraceBadInput, OldVersion) {
  auto bytes = three_blocks();
  put32(bytes, 8, 0);
  expect_open_fails(bytes, ErrorKind::TooOld,
                    "trace version 0 is too old; this heapviz reads versions 1 to 3", 8);
}

TEST(TraceBadInput, WrongPointerSize) {
  auto bytes = three_blocks();
  bytes[17] = 4;
  expect_open_fails(bytes, ErrorKind::WrongPlatform, "pointer_size=4", 16);
}

TEST(TraceBadInput, AbsurdHeaderSize) {
  auto bytes = three_blocks();
  put32(bytes, 12, 0x7ffffff8);
  expect_open_fails(bytes, ErrorKind::BadHeader, "absurd header_size 2147483640", 12);
  put32(bytes, 12, 100);
  expect_open_fails(bytes, ErrorKind::BadHeader, "absurd header_size 100", 12);
}

TEST(TraceBadInput, TruncatedHeader) {
  auto bytes = three_blocks();
  bytes.resize(100);
  expect_open_fails(bytes, ErrorKind::Truncated, "truncated file header (100 of 144 bytes)", 100);
}

TEST(TraceBadInput, TruncatedMidBlockKeepsThePrefix) {
  size_t second;
  auto bytes = three_blocks(&second);
  size_t third = second + sizeof(BlockHeader) + get32(bytes, second + 12);
  bytes.resize(third + 70); // the third block's header and 14 payload bytes
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  ASSERT_TRUE(f.truncated());
  EXPECT_EQ(f.error()->offset, third);
  EXPECT_NE(f.error()->message.find("truncated: block stored_size"), std::string::npos) << f.error()->message;
  EXPECT_EQ(f.blocks().size(), 2u);
  std::optional<TraceError> err;
  auto ev = read_all(f, &err);
  EXPECT_EQ(ev.size(), f.indexed_events());
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind, ErrorKind::Truncated);
}

TEST(TraceBadInput, TruncatedInsideABlockHeader) {
  size_t second;
  auto bytes = three_blocks(&second);
  bytes.resize(second + 20);
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  ASSERT_TRUE(f.truncated());
  EXPECT_EQ(f.error()->describe(),
            "offset " + std::to_string(second) + ": truncated: block header cut short (20 of 56 bytes)");
  EXPECT_EQ(f.blocks().size(), 1u);
}

TEST(TraceBadInput, TornLastBlockWithBadCrcIsTruncated) {
  auto bytes = three_blocks();
  bytes[bytes.size() - 3] ^= 0xff;
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  ASSERT_TRUE(f.truncated());
  EXPECT_NE(f.error()->message.find("truncated: block CRC mismatch"), std::string::npos);
}

TEST(TraceBadInput, CorruptedCrcInTheMiddleStopsThere) {
  size_t second;
  auto bytes = three_blocks(&second);
  bytes[second + 60] ^= 0x40;
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  ASSERT_TRUE(f.error());
  EXPECT_EQ(f.error()->kind, ErrorKind::CorruptBlock);
  EXPECT_EQ(f.error()->offset, second);
  EXPECT_NE(f.error()->message.find("block CRC mismatch (stored 0x"), std::string::npos)
      << f.error()->message;
  EXPECT_EQ(f.blocks().size(), 1u);
  EXPECT_EQ(read_all(f).size(), f.blocks()[0].nevents);
}

TEST(TraceBadInput, BadBlockMagicInTheMiddle) {
  size_t second;
  auto bytes = three_blocks(&second);
  put32(bytes, second, 0xdeadbeef);
  expect_open_fails({}, ErrorKind::NotATrace, "", 0); // (keeps the helper honest)
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EXPECT_EQ(f.error()->describe(),
            "offset " + std::to_string(second) + ": bad block magic 0xdeadbeef (expected 0x31425648)");
}

TEST(TraceBadInput, AbsurdRawSize) {
  size_t second;
  auto bytes = three_blocks(&second);
  put32(bytes, second + 8, 0xffffffff);
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EXPECT_EQ(f.error()->kind, ErrorKind::CorruptBlock);
  EXPECT_EQ(f.error()->describe(),
            "offset " + std::to_string(second) + ": absurd block raw_size 4294967295 (at most 1048576)");
}

TEST(TraceBadInput, StoredSizePastTheEnd) {
  auto bytes = three_blocks();
  TraceBuilder b(0, 128);
  size_t last = 0;
  {
    TempFile tf(bytes);
    TraceFile f;
    ASSERT_TRUE(f.open(tf.path));
    last = f.blocks().back().offset;
  }
  put32(bytes, last + 8, 100000);
  put32(bytes, last + 12, 100000);
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  ASSERT_TRUE(f.truncated());
  EXPECT_EQ(f.error()->offset, last);
  EXPECT_NE(f.error()->message.find("stored_size 100000 runs past the end of the file"), std::string::npos);
}

TEST(TraceBadInput, NeventsHuge) {
  size_t second;
  auto bytes = three_blocks(&second);
  put32(bytes, second + 20, 0x7fffffff);
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EXPECT_EQ(f.error()->kind, ErrorKind::CorruptBlock);
  EXPECT_NE(f.error()->message.find("absurd block nevents 2147483647"), std::string::npos)
      << f.error()->message;
}

TEST(TraceBadInput, NeventsTooSmallLeavesTrailingBytes) {
  TraceBuilder b;
  b.malloc(1, 0x1000);
  b.malloc(2, 0x2000);
  auto bytes = b.finish();
  size_t off = b.block_offsets()[0];
  put32(bytes, off + 20, 1);
  ReadResult r = read_bytes(bytes);
  ASSERT_TRUE(r.opened);
  ASSERT_TRUE(r.err);
  EXPECT_EQ(r.err->kind, ErrorKind::BadEvent);
  EXPECT_NE(r.err->message.find("trailing bytes"), std::string::npos) << r.err->message;
}

TEST(TraceBadInput, SnapshotCountHuge) {
  TraceBuilder b;
  b.malloc(1, 0x1000);
  b.raw_event(uint8_t(Ev::Snapshot));
  b.raw({0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x02, 0x02, 0x00, 0x00}); // n = 2^32-1, flags 0, one entry
  auto bytes = b.finish();
  size_t off = b.block_offsets()[0];
  ReadResult r = read_bytes(bytes);
  ASSERT_TRUE(r.opened);
  EXPECT_EQ(r.events, 1u);
  ASSERT_TRUE(r.err);
  uint64_t snap_off = off + sizeof(BlockHeader) + 9; // malloc: type, 2 deltas, size, 4-byte address, stack
  EXPECT_EQ(r.err->describe(), "offset " + std::to_string(snap_off) +
                                   ": snapshot: chunk count larger than the block can hold (4294967295)");
}

TEST(TraceBadInput, UnknownEventTypeNamesItsOffset) {
  TraceBuilder b;
  b.malloc(1, 0x1000);
  b.raw_event(0x77);
  auto bytes = b.finish();
  size_t off = b.block_offsets()[0];
  ReadResult r = read_bytes(bytes);
  ASSERT_TRUE(r.opened);
  EXPECT_EQ(r.events, 1u);
  ASSERT_TRUE(r.err);
  EXPECT_EQ(r.err->describe(), "offset " + std::to_string(off + sizeof(BlockHeader) + 9) + // malloc: 9 bytes
                                   ": unknown event type 0x77 (thread 1)");
}

TEST(TraceBadInput, VarintOverflow) {
  TraceBuilder b;
  b.raw_event(uint8_t(Ev::Malloc));
  b.raw({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00}); // 11-byte size
  auto bytes = b.finish();
  ReadResult r = read_bytes(bytes);
  ASSERT_TRUE(r.opened);
  ASSERT_TRUE(r.err);
  EXPECT_EQ(r.err->describe(), "offset " + std::to_string(b.block_offsets()[0] + sizeof(BlockHeader)) +
                                   ": malloc: varint longer than 10 bytes");
}

TEST(TraceBadInput, VarintTenthByteTooBig) {
  TraceBuilder b;
  b.raw_event(uint8_t(Ev::Trim));
  b.raw({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02});
  ReadResult r = read_bytes(b.finish());
  ASSERT_TRUE(r.opened);
  ASSERT_TRUE(r.err);
  EXPECT_NE(r.err->message.find("trim: varint overflows 64 bits"), std::string::npos) << r.err->message;
}

TEST(TraceBadInput, MarkLengthPastTheEnd) {
  TraceBuilder b;
  b.raw_event(uint8_t(Ev::Mark));
  b.raw({100, 'a', 'b'});
  ReadResult r = read_bytes(b.finish());
  ASSERT_TRUE(r.opened);
  ASSERT_TRUE(r.err);
  EXPECT_NE(r.err->message.find("mark: length runs past the end of the block (100)"), std::string::npos)
      << r.err->message;
}

TEST(TraceBadInput, InvalidEnumBytes) {
  TraceBuilder b;
  b.raw_event(uint8_t(Ev::BinIn));
  b.raw({0x00, 0x02, 9, 0}); // kind 9
  ReadResult r = read_bytes(b.finish());
  ASSERT_TRUE(r.opened);
  ASSERT_TRUE(r.err);
  EXPECT_NE(r.err->message.find("bin_in: invalid bin kind (9)"), std::string::npos) << r.err->message;
}

TEST(TraceBadInput, ZstdBlockThatDoesNotDecompress) {
  TraceBuilder b(kFileZstd);
  b.set_zstd(true);
  for (int i = 0; i < 50; ++i)
    b.malloc(24, 0x1000);
  auto bytes = b.finish();
  size_t off = b.block_offsets()[0];
  bytes[off + sizeof(BlockHeader) + 6] ^= 0x55;
  fix_crc(bytes, off);
  ReadResult r = read_bytes(bytes);
  ASSERT_TRUE(r.opened);
  ASSERT_TRUE(r.err);
  EXPECT_EQ(r.err->offset, off);
  EXPECT_EQ(r.err->kind, ErrorKind::CorruptBlock);
  EXPECT_NE(r.err->message.find("zstd block"), std::string::npos) << r.err->message;
}

TEST(TraceBadInput, ZstdDecodeErrorNamesBlockAndPayloadByte) {
  TraceBuilder b(kFileZstd);
  b.set_zstd(true);
  b.malloc(1, 0x1000);
  b.raw_event(0x77); // a fixed-range code nobody defined (0x80-0xfe would be skipped)
  auto bytes = b.finish();
  ReadResult r = read_bytes(bytes);
  ASSERT_TRUE(r.opened);
  ASSERT_TRUE(r.err);
  EXPECT_EQ(r.err->describe(), "offset " + std::to_string(b.block_offsets()[0]) +
                                   ": unknown event type 0x77 (thread 1) (zstd block, payload byte 9)");
}

TEST(TraceBadInput, TailOfZerosIsATornWrite) {
  auto bytes = three_blocks();
  size_t end = bytes.size();
  bytes.resize(end + 4096, 0);
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EXPECT_TRUE(f.truncated());
  EXPECT_EQ(f.error()->offset, end);
}
