// reader_test.cpp - the trace reader: round trip of every event type through BlockEncoder,
// zstd blocks and the multi-thread merge (bad input: reader_bad_input_test.cpp).
#include "test_util.h"
#include "trace/churn_trace.h"
#include "trace/event_text.h"
#include "trace/seq_scatter.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <random>

using namespace hv::trace;
using hv::test::fix_crc;
using hv::test::get32;
using hv::test::put32;
using hv::test::read_all;
using hv::test::TempFile;

namespace {

// One of every event type, on one thread.
void all_events(TraceBuilder& b) {
  b.malloc(24, 0x5555555592a0);
  b.calloc(3, 8, 0x5555555592c0);
  b.realloc(0x5555555592a0, 100, 0x555555559300);
  b.memalign(64, 200, 0x555555559400);
  b.free(0x555555559300);
  b.free_tcache(0x555555559400, 11);
  b.chunk_alloc(0x555555559290, 32);
  b.chunk_free(0x555555559290, 32);
  b.split(0x555555559290, 32, 4064);
  b.merge(MergeHow::IntoTop, 0x555555559290, 4096, 0x5555555592b0);
  b.bin_in(0x555555559290, 32, BinKind::Fast, 1);
  b.bin_out(0x555555559290, BinKind::Small, 7);
  b.top(0x5555555592b0, 132432);
  b.fence(0x555555579000, 16);
  b.realloc_in_place(0x555555559290, 32, 64);
  b.realloc_moved(0x555555559290, 0x555555559400);
  b.arena_new(1, 0x7ffff0000020);
  b.heap_new(0x555555559000, 135168);
  b.heap_resize(0x555555559000, 270336);
  b.heap_free(0x7ffff0000000);
  b.sbrk(0x555555559000, -4096);
  b.mmap(0x7ffff7fb0000, 266240);
  b.munmap(0x7ffff7fb0000, 266240);
  b.mmap_chunk(0x7ffff7fb0010, 266224);
  b.munmap_chunk(0x7ffff7fb0010);
  b.trim(8192);
  b.arena(3);
  b.error(ErrorCode::DoubleFree, 0x5555555592a0);
  b.mark("phase \"two\"");
  b.snapshot({{0x555555559000, 656, ChunkState::InUse, 0},
              {0x555555559290, 32, ChunkState::Tcache, 1},
              {0x5555555592b0, 132432, ChunkState::Top, 0}},
             kSnapshotCoarse);
  b.stack("\x01\x02\x03");
  b.internal(0x555555559000, 656);
}

const char* kExpected[] = {
    "malloc size=24 -> 0x5555555592a0",
    "calloc n=3 size=8 -> 0x5555555592c0",
    "realloc 0x5555555592a0 size=100 -> 0x555555559300",
    "memalign align=64 size=200 -> 0x555555559400",
    "free 0x555555559300",
    "free_tcache 0x555555559400 -> tcache[11]",
    "chunk_alloc 0x555555559290 size=32",
    "chunk_free 0x555555559290 size=32",
    "split 0x555555559290 first=32 rest=4064",
    "merge into_top 0x555555559290 size=4096 absorbed=0x5555555592b0",
    "bin_in 0x555555559290 size=32 fastbin[1]",
    "bin_out 0x555555559290 smallbin[7]",
    "top 0x5555555592b0 size=132432",
    "fence 0x555555579000 size=16",
    "realloc_in_place 0x555555559290 old=32 new=64",
    "realloc_moved 0x555555559290 -> 0x555555559400",
    "arena_new index=1 at=0x7ffff0000020",
    "heap_new 0x555555559000 size=135168",
    "heap_resize 0x555555559000 size=270336",
    "heap_free 0x7ffff0000000",
    "sbrk 0x555555559000 delta=-4096",
    "mmap 0x7ffff7fb0000 length=266240",
    "munmap 0x7ffff7fb0000 length=266240",
    "mmap_chunk 0x7ffff7fb0010 size=266224",
    "munmap_chunk 0x7ffff7fb0010",
    "trim bytes=8192",
    "arena index=3",
    "error double_free 0x5555555592a0",
    "mark \"phase \\\"two\\\"\"",
    "snapshot chunks=3 coarse",
    "stack length=3",
    "internal 0x555555559000 size=656",
};

void expect_all_events(const std::vector<uint8_t>& bytes) {
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EXPECT_FALSE(f.error()) << f.error()->describe();
  std::optional<TraceError> err;
  auto ev = read_all(f, &err);
  EXPECT_FALSE(err) << err->describe();
  ASSERT_EQ(ev.size(), std::size(kExpected));
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(event_fields_text(ev[i]), kExpected[i]) << "event " << i;
    EXPECT_EQ(ev[i].seq, i + 1);
    EXPECT_EQ(ev[i].tid, 1u);
    EXPECT_EQ(ev[i].arena, i >= 26 ? 3u : 0u); // ARENA 3 switches later events
  }
  EXPECT_GT(ev[1].ts, ev[0].ts);
  EXPECT_EQ(ev[0].ts, 1000000048u); // the builder's clock: +37 + (seq % 7) * 11 per event
}

} // namespace

TEST(TraceRoundTrip, EveryEventTypeDecodesToWhatWasEncoded) {
  TraceBuilder b;
  all_events(b);
  expect_all_events(b.finish());
}

// Every row of the event table (trace_events.h) written field by field from the table alone,
// with a distinct value per field, decodes into exactly the slots the table names (the others
// zero), survives the scatter's slot packing, and has its fields in its dump text.
namespace {
struct FieldValue {
  uint64_t u;
  std::string bytes;
};
FieldValue value_for(FieldCodec c, int type, int field) {
  uint64_t k = uint64_t(type) * 8 + uint64_t(field);
  switch (c) {
  case FieldCodec::A:
    return {0x555555559000 + k * 0x130, ""};
  case FieldCodec::U:
  case FieldCodec::Ix:
    return {1000 + k * 7, ""};
  case FieldCodec::C:
    return {(k + 2) * 16, ""};
  case FieldCodec::S:
    return {uint64_t(-int64_t(4096 + k)), ""};
  case FieldCodec::Idx:
  case FieldCodec::Tc:
    return {k % 64, ""};
  case FieldCodec::Kind:
    return {uint64_t(BinKind::Small), ""};
  case FieldCodec::How:
    return {uint64_t(MergeHow::WithNext), ""};
  case FieldCodec::Code:
    return {uint64_t(ErrorCode::CorruptedList), ""};
  case FieldCodec::Label:
  case FieldCodec::Blob:
    return {0, "row" + std::to_string(type)};
  case FieldCodec::Snap:
    return {0, ""};
  }
  return {0, ""};
}
void put_field(BlockEncoder& enc, FieldCodec c, const FieldValue& v) {
  switch (c) {
  case FieldCodec::A:
    return enc.put_A(v.u);
  case FieldCodec::U:
    return enc.put_U(v.u);
  case FieldCodec::Ix:
    return enc.put_Ix(v.u);
  case FieldCodec::C:
    return enc.put_C(v.u);
  case FieldCodec::S:
    return enc.put_S(int64_t(v.u));
  case FieldCodec::Idx:
    return enc.put_Idx(uint8_t(v.u));
  case FieldCodec::Tc:
    return enc.put_Tc(uint8_t(v.u));
  case FieldCodec::Kind:
    return enc.put_Kind(BinKind(v.u));
  case FieldCodec::How:
    return enc.put_How(MergeHow(v.u));
  case FieldCodec::Code:
    return enc.put_Code(ErrorCode(v.u));
  case FieldCodec::Label:
    return enc.put_Label(ByteSpan{v.bytes.data(), v.bytes.size()});
  case FieldCodec::Blob:
    return enc.put_Blob(ByteSpan{v.bytes.data(), v.bytes.size()});
  case FieldCodec::Snap:
    return enc.put_Snap(SnapshotHead{0, 0});
  }
}
} // namespace

TEST(TraceRoundTrip, EveryRowOfTheEventTableRoundTrips) {
  for (Ev type : kAllEvents) {
    const EventInfo& info = event_info(type);
    SCOPED_TRACE(info.name);
    ASSERT_NE(info.name, nullptr);
    std::vector<FieldValue> values;
    std::vector<uint8_t> raw;
    uint8_t buf[sizeof(BlockHeader) + 256];
    BlockEncoder enc; // the row's fields alone, from the table, through the encoder's codecs
    enc.reset(buf, 256);
    enc.begin_event(Ev::Trim, 1, 0, 1, 0); // its address register starts at 0
    uint8_t* start = buf + sizeof(BlockHeader) + enc.payload_size();
    uint8_t* length = info.extension ? enc.begin_payload() : nullptr; // the extension range's prefix
    for (int i = 0; i < info.nfields; ++i) {
      values.push_back(value_for(info.fields[i].codec, int(uint8_t(type)), i));
      put_field(enc, info.fields[i].codec, values.back());
    }
    if (length) enc.end_payload(length);
    const uint32_t stack = 300 + uint32_t(type); // API events end with their stack (version 2)
    if (info.api) enc.usize(stack);
    raw.assign(start, buf + sizeof(BlockHeader) + enc.payload_size());
    // A malloc of NULL first leaves the block's address register at 0 too, and makes the row's
    // deltas not the block's first.
    TraceBuilder b2;
    b2.malloc(8, 0);
    b2.raw_event(uint8_t(type), 64);
    b2.raw(raw);
    b2.trim(1);
    auto bytes = b2.finish();
    TempFile tf(bytes);
    TraceFile f;
    ASSERT_TRUE(f.open(tf.path));
    std::optional<TraceError> err;
    auto ev = read_all(f, &err);
    ASSERT_FALSE(err) << err->describe();
    ASSERT_EQ(ev.size(), 3u);
    const Event& e = ev[1];
    EXPECT_EQ(e.type, type);
    EXPECT_EQ(e.stack, info.api ? stack : 0u);
    if (info.api) {
      EXPECT_NE(event_fields_text(e).find(" stack=" + std::to_string(stack)), std::string::npos);
    }
    std::vector<FieldSlot> used;
    for (int i = 0; i < info.nfields; ++i) {
      const FieldSpec& fs = info.fields[i];
      used.push_back(fs.slot);
      if (fs.codec == FieldCodec::Label || fs.codec == FieldCodec::Blob) {
        EXPECT_EQ(std::string(e.data, e.data_end), values[size_t(i)].bytes);
        EXPECT_EQ(e.n, values[size_t(i)].bytes.size());
      } else if (fs.codec != FieldCodec::Snap) {
        EXPECT_EQ(slot_value(e, fs.slot), values[size_t(i)].u) << fs.label;
      }
      EXPECT_NE(event_fields_text(e).find(fs.prefix), std::string::npos) << fs.label;
    }
    if (type == Ev::FreeTcache) used.push_back(FieldSlot::b0); // the codec implies kind Tcache
    for (FieldSlot s : kFixedSlots)
      if (std::find(used.begin(), used.end(), s) == used.end() &&
          !(s == FieldSlot::n && std::find(used.begin(), used.end(), FieldSlot::data) != used.end())) {
        EXPECT_EQ(slot_value(e, s), 0u) << "slot " << int(s) << " is not one of the row's";
      }
    EXPECT_EQ(event_fields_text(e).rfind(info.name, 0), 0u) << event_fields_text(e);
    // The scatter keeps fixed rows in a 32-byte slot (plus the row's second word, or an API
    // call's stack) and gives them back whole; an API call with both goes whole (side ring).
    if (!info.variable) {
      Slot slot{};
      uint64_t ext = 0;
      RoundBase base{e.ts, e.offset};
      if (info.api && info.second != FieldSlot::data) {
        EXPECT_FALSE(pack(e, &slot, &ext, base, 0));
        continue;
      }
      ASSERT_TRUE(pack(e, &slot, &ext, base, 0));
      uint32_t tids[1] = {e.tid};
      Event back{};
      unpack(&slot, ext, e.seq, base, tids, back);
      for (FieldSlot s : kFixedSlots)
        EXPECT_EQ(slot_value(back, s), slot_value(e, s)) << "slot " << int(s) << " through the scatter";
      EXPECT_EQ(back.type, e.type);
      EXPECT_EQ(back.arena, e.arena);
      EXPECT_EQ(back.stack, e.stack);
    }
  }
}

// The extension range: an event of a code this reader does not know (0x80-0xfe) is skipped by
// its length, passed on as Ev::Unknown, and the events after it are read as before.
TEST(TraceRoundTrip, UnknownExtensionEventsAreSkipped) {
  TraceBuilder b;
  b.malloc(24, 0x5555555592a0);
  b.extension(0x85, std::string("\x07\x00\x09", 3));
  b.extension(0xfe, "");
  b.free(0x5555555592a0);
  auto bytes = b.finish();
  TempFile tf(bytes);
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  std::optional<TraceError> err;
  auto ev = read_all(f, &err);
  ASSERT_FALSE(err) << err->describe();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[1].type, Ev::Unknown);
  EXPECT_EQ(ev[1].unknown_code(), 0x85);
  EXPECT_EQ(std::string(ev[1].data, ev[1].data_end), std::string("\x07\x00\x09", 3));
  EXPECT_EQ(event_fields_text(ev[1]), "extension 0x85 length=3");
  EXPECT_EQ(event_fields_text(ev[2]), "extension 0xfe length=0");
  EXPECT_EQ(event_fields_text(ev[3]), "free 0x5555555592a0");
  EXPECT_EQ(ev[3].seq, 4u);
}

// A known event of the extension range is read within its length: bytes after its fields (fields
// a later version appended) are skipped, and a length of 128 bytes or more takes a longer varint.
TEST(TraceRoundTrip, KnownExtensionEventsSkipTheBytesAfterTheirFields) {
  for (size_t extra : {size_t(0), size_t(3), size_t(200)}) {
    SCOPED_TRACE(extra);
    uint8_t buf[sizeof(BlockHeader) + 512];
    BlockEncoder enc;
    enc.reset(buf, 512);
    enc.begin_event(Ev::Trim, 1, 0, 1, 0);
    uint8_t* start = buf + sizeof(BlockHeader) + enc.payload_size();
    uint8_t* length = enc.begin_payload();
    enc.put_A(0x555555559000);
    enc.put_C(656);
    std::vector<uint8_t> later(extra, 0xee);
    enc.bytes(later.data(), later.size());
    enc.end_payload(length);
    std::vector<uint8_t> raw(start, buf + sizeof(BlockHeader) + enc.payload_size());
    EXPECT_EQ(raw.size(), (extra + 8 < 128 ? 1u : 2u) + 8 + extra); // length, A (7 bytes), C, extra
    TraceBuilder b;
    b.malloc(8, 0);
    b.raw_event(uint8_t(Ev::Internal), 300);
    b.raw(raw);
    b.trim(1);
    TempFile tf(b.finish(), "ext.hvt");
    TraceFile f;
    ASSERT_TRUE(f.open(tf.path));
    std::optional<TraceError> err;
    auto ev = read_all(f, &err);
    ASSERT_FALSE(err) << err->describe();
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(event_fields_text(ev[1]), "internal 0x555555559000 size=656");
    EXPECT_EQ(event_fields_text(ev[2]), "trim bytes=1");
  }
}

TEST(TraceRoundTrip, ExtensionFieldsPastTheirLengthAreAnError) {
  // internal with a length of 2: its address fits, its size does not.
  TraceBuilder b;
  b.malloc(8, 0);
  b.raw_event(uint8_t(Ev::Internal));
  b.raw({2, 0x80, 0x40, 0x29});
  TempFile tf(b.finish(), "ext_short.hvt");
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  std::optional<TraceError> err;
  auto ev = read_all(f, &err);
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("internal: fields run past the event's length (1)"), std::string::npos)
      << err->describe();
  // A length past the end of the block.
  TraceBuilder b2;
  b2.raw_event(uint8_t(Ev::Internal));
  b2.raw({100, 0x80, 0x40, 0x29});
  TempFile tf2(b2.finish(), "ext_long.hvt");
  TraceFile f2;
  ASSERT_TRUE(f2.open(tf2.path));
  read_all(f2, &err);
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("internal: length runs past the end of the block (100)"), std::string::npos)
      << err->describe();
}

// docs/trace-format.md's event table lists every row of the code's table, code and name.
TEST(TraceRoundTrip, TheFormatDocumentListsEveryEvent) {
  FILE* fp = fopen(HV_SOURCE_DIR "/docs/trace-format.md", "r");
  ASSERT_TRUE(fp);
  std::string doc;
  char line[4096];
  while (fgets(line, sizeof line, fp))
    doc += line;
  fclose(fp);
  for (Ev type : kAllEvents) {
    char row[64];
    snprintf(row, sizeof row, "| 0x%02x | %s |", unsigned(uint8_t(type)), event_info(type).name);
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/trace-format.md has no row " << row;
  }
}

TEST(TraceRoundTrip, ZstdBlocksDecodeTheSame) {
  TraceBuilder b(kFileZstd);
  b.set_zstd(true);
  all_events(b);
  auto bytes = b.finish();
  BlockHeader h;
  memcpy(&h, &bytes[b.block_offsets()[0]], sizeof h);
  EXPECT_EQ(h.flags, kBlockZstd);
  expect_all_events(bytes);
}

TEST(TraceRoundTrip, SnapshotEntriesReadBack) {
  TraceBuilder b;
  b.malloc(24, 0x1000); // moves the address register before the snapshot
  b.snapshot({{0x2000, 32, ChunkState::InUse, 0}, {0x1ff0, 16, ChunkState::Small, 7}}, 0);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EventStream s(f);
  s.next();
  const Event* e = s.next();
  ASSERT_TRUE(e);
  SnapshotReader r(*e);
  SnapshotEntry en;
  ASSERT_TRUE(r.next(en));
  EXPECT_EQ(en.addr, 0x2000u);
  EXPECT_EQ(en.size, 32u);
  ASSERT_TRUE(r.next(en));
  EXPECT_EQ(en.addr, 0x1ff0u);
  EXPECT_EQ(en.state, 4);
  EXPECT_EQ(en.bin, 7);
  EXPECT_FALSE(r.next(en));
}

TEST(TraceHeader, FieldsAndCommandLine) {
  TraceBuilder b(kFileSnapshots, 4096, std::string("prog\0arg1", 9));
  b.malloc(1, 0);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EXPECT_EQ(f.header().pid, 4242u);
  EXPECT_EQ(f.header().flags, uint32_t(kFileSnapshots));
  EXPECT_EQ(f.cmdline(), "prog arg1");
  EXPECT_EQ(f.header().header_size % 8, 0u);
}

TEST(TraceMerge, ThreadsAreMergedInSeqOrder) {
  TraceBuilder b(0, 256); // small blocks: many per thread, interleaved in the file
  for (int i = 0; i < 3000; ++i) {
    b.thread(100 + (i * 7919 % 13) % 4); // an irregular thread schedule
    b.malloc(uint64_t(i), 0x10000 + uint64_t(i) * 16);
  }
  b.flush_thread(102); // thread 102's last block first: the file order is not seq order
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EXPECT_EQ(f.threads().size(), 4u);
  EXPECT_GT(f.blocks().size(), 40u);
  std::optional<TraceError> err;
  auto ev = read_all(f, &err);
  EXPECT_FALSE(err);
  ASSERT_EQ(ev.size(), 3000u);
  for (size_t i = 0; i < ev.size(); ++i) {
    ASSERT_EQ(ev[i].seq, i + 1);
    ASSERT_EQ(ev[i].size, i);
    ASSERT_EQ(ev[i].tid, 100 + (i * 7919 % 13) % 4);
  }
}

TEST(TraceMerge, SaveAndRestoreResumeAtTheSameEvent) {
  TraceBuilder b(0, 300);
  b.set_zstd(true);
  for (int i = 0; i < 2000; ++i) {
    b.thread(1 + i % 3);
    b.malloc(uint64_t(i), 0x10000 + uint64_t(i) * 16);
  }
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EventStream s(f);
  for (int i = 0; i < 777; ++i)
    s.next();
  auto pos = s.save();
  std::vector<uint64_t> a, c;
  while (const Event* e = s.next())
    a.push_back(e->size);
  s.restore(pos);
  while (const Event* e = s.next())
    c.push_back(e->size);
  EXPECT_EQ(a, c);
  ASSERT_EQ(a.size(), 2000u - 777u);
  EXPECT_EQ(a[0], 777u);
}

TEST(TraceMerge, RepeatedSequenceNumberIsAnError) {
  TraceBuilder b;
  b.thread(1);
  b.malloc(1, 0x1000);
  b.set_seq(1);
  b.thread(2);
  b.malloc(2, 0x2000);
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  std::optional<TraceError> err;
  auto ev = read_all(f, &err);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind, ErrorKind::BadSequence);
  EXPECT_EQ(err->message, "sequence number 1 appears in threads 1 and 2");
  EXPECT_EQ(ev.size(), 0u);
}

// A threaded process's clocked numbers (docs/trace-format.md, "Order of events"): merged by
// number, ties to the thread first in the file, renumbered after the unclocked start (whose own
// numbers, and gaps, stay); a position saved in the middle resumes with the same numbers.
namespace {
struct SeqSizeSink { // EventStream::run's sink: (seq, size) of each event
  std::vector<std::pair<uint64_t, uint64_t>>* out;
  template <Ev T> void apply(const Event& e) { out->emplace_back(e.seq, e.size); }
};
} // namespace

TEST(TraceMerge, ClockedNumbersMergeByNumberTiesToTheFirstThread) {
  TraceBuilder b(0, 4096);
  b.thread(1);
  b.malloc(1, 0x1000); // seq 1, 2, then 4: one event lost
  b.malloc(2, 0x1010);
  b.set_seq(4);
  b.malloc(3, 0x1020);
  b.flush_thread(1);
  b.set_clocked(true);
  auto at = [&](uint32_t tid, uint64_t seq, uint64_t size) {
    b.thread(tid);
    b.set_seq(seq);
    b.malloc(size, 0x2000 + size * 16);
  };
  at(2, 1000, 10); // thread 2's first block comes before thread 1's next one in the file
  at(2, 3000, 13);
  at(2, 3001, 14);
  b.flush_thread(2);
  at(1, 1000, 11); // the same number as thread 2's first: thread 1 comes first in the file
  at(1, 1001, 12);
  at(1, 5000, 15);
  at(3, 2500, 16); // a thread that appears last in the file but numbers in the middle
  TempFile tf(b.finish());
  TraceFile f;
  ASSERT_TRUE(f.open(tf.path));
  EventStream s(f);
  std::vector<std::pair<uint64_t, uint64_t>> got; // (seq, size)
  EventStream::Position mid{};
  while (const Event* e = s.next()) {
    got.emplace_back(e->seq, e->size);
    if (got.size() == 5) mid = s.save();
  }
  EXPECT_FALSE(s.error()) << s.error()->describe();
  std::vector<std::pair<uint64_t, uint64_t>> want = {{1, 1},  {2, 2},  {4, 3},  {5, 11},  {6, 10},
                                                     {7, 12}, {8, 16}, {9, 13}, {10, 14}, {11, 15}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(s.gaps(), 1u); // the unclocked jump from 2 to 4; clocked jumps are none
  s.restore(mid);
  std::vector<std::pair<uint64_t, uint64_t>> rest;
  while (const Event* e = s.next())
    rest.emplace_back(e->seq, e->size);
  const std::vector<std::pair<uint64_t, uint64_t>> tail(want.begin() + 5, want.end());
  EXPECT_EQ(rest, tail);
  // run() (the replay's pass) gives the same order and numbers as next().
  std::vector<std::pair<uint64_t, uint64_t>> ran;
  EventStream r(f);
  SeqSizeSink sink{&ran};
  EXPECT_EQ(r.run(sink, 4), 4u);
  EXPECT_EQ(r.run(sink, 100), 6u);
  EXPECT_EQ(ran, want);
}

// ---- The BMI2 and scalar varint paths ----------------------------------------------------------
namespace {

// A hash of every event (all fields) and the error, through next() and through run() (the
// merge's fused path), with the decoder's BMI2 path on or off.
struct Sink {
  uint64_t h = 1469598103934665603ull;
  void u(uint64_t v) { h = (h ^ v) * 1099511628211ull; }
  template <Ev T> void apply(const Event& e) {
    for (uint64_t v :
         {e.seq, e.ts, e.offset, uint64_t(e.tid), uint64_t(e.arena), uint64_t(e.type), uint64_t(e.b0),
          uint64_t(e.b1), e.addr, e.addr2, e.size, e.size2, e.n, uint64_t(e.delta), e.data_reg})
      u(v);
    for (const uint8_t* p = e.data; p && p < e.data_end; ++p)
      u(*p);
  }
};
std::string decode_all(const std::string& path, bool bmi2) {
  BlockDecoder::set_bmi2(bmi2);
  TraceFile f;
  if (!f.open(path)) return "open fails";
  std::string out;
  {
    EventStream s(f);
    Sink k;
    while (const Event* e = s.next())
      dispatch(*e, k);
    out += "next: " + std::to_string(k.h) + " " + std::to_string(s.emitted()) + " " +
           (s.error() ? s.error()->describe() : std::string("ok")) + "\n";
  }
  {
    EventStream s(f);
    Sink k;
    uint64_t step = 1;
    while (s.run(k, step) == step)
      step = step * 3 % 1009 + 1;
    out += "run: " + std::to_string(k.h) + " " + std::to_string(s.emitted()) + " " +
           (s.error() ? s.error()->describe() : std::string("ok")) + "\n";
  }
  return out;
}

// Long varints (9 and 10 bytes), zigzag jumps across the address space and a few threads.
std::vector<uint8_t> varint_trace() {
  TraceBuilder b(0, 4096);
  uint64_t a = 0x10;
  for (int i = 0; i < 3000; ++i) {
    b.thread(1 + uint32_t(i % 3 == 0));
    uint64_t big = i % 5 == 0 ? UINT64_MAX - uint64_t(i) : uint64_t(1) << (i % 64);
    b.malloc(big, a);
    b.calloc(big, uint64_t(i), a ^ (uint64_t(1) << (i % 63)));
    a = i % 7 == 0 ? 0x7ffffffff000 - uint64_t(i) * 16 : a + 16 * uint64_t(i % 300);
    b.bin_in(a, uint64_t(16) << (i % 59), BinKind::Small, uint8_t(i % 128));
    b.split(a, 32, (uint64_t(1) << (i % 60)) * 16);
    b.sbrk(a, i % 2 ? INT64_MIN + i : INT64_MAX - i);
    b.merge(MergeHow(i % 3), a, 4096, a + 4096);
    if (i % 100 == 0) {
      char label[24]; // not "m" + std::to_string(i): GCC 12 warns falsely (-Wrestrict) on that
      snprintf(label, sizeof label, "m%d", int(i));
      b.mark(label);
    }
  }
  return b.finish();
}

} // namespace

TEST(TraceDecoder, Bmi2AndScalarPathsAgree) {
  bool had = BlockDecoder::bmi2();
  if (!BlockDecoder::set_bmi2(true)) GTEST_SKIP() << "no BMI2 on this CPU: only the scalar path runs";
  std::vector<std::vector<uint8_t>> traces;
  traces.push_back(varint_trace());
  {
    TraceBuilder b(0, 16 * 1024);
    ChurnTrace gen(b, 4, 99, 512);
    gen.run(20000);
    traces.push_back(b.finish());
  }
  {
    TraceBuilder b;
    all_events(b);
    traces.push_back(b.finish());
  }
  // Damaged copies: a byte of a block payload changed (CRC fixed), so that the decoder meets
  // bad varints, types and enum bytes in the unchecked loop and near the ends of blocks.
  std::mt19937_64 rng(2024);
  for (size_t t = 0; t < 2; ++t) {
    const std::vector<uint8_t> good = traces[t];
    for (int k = 0; k < 150; ++k) {
      std::vector<uint8_t> bad = good;
      TempFile tf(good);
      TraceFile f;
      ASSERT_TRUE(f.open(tf.path));
      const BlockInfo& blk = f.blocks()[rng() % f.blocks().size()];
      size_t at = blk.offset + sizeof(BlockHeader) + rng() % blk.raw_size;
      static const uint8_t kBytes[] = {0x00, 0x7f, 0x80, 0xff, 0x01, 0x42, 0x13};
      bad[at] = k % 2 ? kBytes[rng() % std::size(kBytes)] : uint8_t(bad[at] ^ (1u << (rng() % 8)));
      size_t end = blk.offset + sizeof(BlockHeader) + blk.raw_size, run = k % 3 ? 0 : 1 + rng() % 12;
      for (size_t j = 1; j < run && at + j < end; ++j) // continuation bytes: varints of 9, 10, more bytes
        bad[at + j] = 0xff;
      fix_crc(bad, blk.offset);
      traces.push_back(bad);
    }
  }
  size_t errors = 0;
  for (size_t i = 0; i < traces.size(); ++i) {
    TempFile tf(traces[i], "bmi2.hvt");
    std::string fast = decode_all(tf.path, true), scalar = decode_all(tf.path, false);
    EXPECT_EQ(fast, scalar) << "trace " << i;
    errors += fast.find(" ok\nrun:") == std::string::npos;
  }
  EXPECT_GT(errors, 100u); // most damaged copies fail somewhere
  BlockDecoder::set_bmi2(had);
}
