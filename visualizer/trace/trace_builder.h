// trace_builder.h - writes hand-made traces in memory with the allocator's BlockEncoder, for
// tests, benchmarks and the fuzzer's seed corpus. Not used by the reader.
//
// Owns: one open block per thread (flushed when full, or by flush()), a global sequence counter,
// a clock, optional zstd compression of blocks, and typed helpers for every event type.
// Must not: be linked into heapviz itself.
#pragma once

#include "heapviz/trace_encoder.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>
#include <zstd.h>

namespace hv::trace {

class TraceBuilder {
public:
  explicit TraceBuilder(uint32_t flags = kFileSnapshots | kFileSimulated, size_t block_capacity = 64 * 1024,
                        const std::string& cmdline = "test", const char* policy = "glibc-2.36")
      : cap_(block_capacity) {
    uint64_t params[kNumParams] = {128 * 1024, 128 * 1024, 0, 65536, 16, 8, 7, 128};
    std::vector<uint8_t> hdr(sizeof(FileHeader) + cmdline.size() + 8);
    size_t n = build_file_header(hdr.data(), policy, params, 0x555555559000, 4242, 1, 1700000000000000000ull,
                                 start_ns_, flags, cmdline.data(), uint32_t(cmdline.size()), 4096);
    out_.assign(hdr.begin(), hdr.begin() + long(n));
  }
  TraceBuilder(const TraceBuilder&) = delete; // the encoders point into their own buffers
  TraceBuilder& operator=(const TraceBuilder&) = delete;

  void set_zstd(bool on) { zstd_ = on; }
  uint64_t next_seq() const { return seq_; }
  void set_seq(uint64_t s) { seq_ = s; }
  // Events from here on are numbered as a threaded process's clocks (their blocks kBlockClocked).
  void set_clocked(bool on) { clocked_ = on; }
  uint64_t now() const { return ts_; }
  void sleep(uint64_t ns) { ts_ += ns; } // the next event's timestamp is this much later
  // Events of later calls go to thread tid's block (arena: that block's current arena).
  void thread(uint32_t tid) { tid_ = tid; }
  // One method per row of the event table (trace_events.h), named after the event, with its
  // fields as parameters in encoding order: malloc(size, result), split(chunk, first, rest),
  // bin_in(chunk, size, kind, index), mark("label"), ...
#define HV_BT_U uint64_t
#define HV_BT_A uint64_t
#define HV_BT_C uint64_t
#define HV_BT_S int64_t
#define HV_BT_Idx uint8_t
#define HV_BT_Tc uint8_t
#define HV_BT_Kind BinKind
#define HV_BT_How MergeHow
#define HV_BT_Code ErrorCode
#define HV_BT_Ix uint64_t
#define HV_BT_Label std::string_view
#define HV_BT_Blob std::string_view
#define HV_BT_Snap SnapshotHead
#define HV_BROOM_Label(x) x.size()
#define HV_BROOM_Blob(x) x.size()
#define HV_BROOM_Snap(x) x.count * 22
#define HV_BARG_Label(x)                                                                                     \
  ByteSpan {                                                                                                 \
    x.data(), x.size()                                                                                       \
  }
#define HV_BARG_Blob(x)                                                                                      \
  ByteSpan {                                                                                                 \
    x.data(), x.size()                                                                                       \
  }
#define HV_BARG_Snap(x) x
#define HV_BROOM_FIXED(x) 0
#define HV_BARG_FIXED(x) x
#define HV_BROOM_U HV_BROOM_FIXED
#define HV_BROOM_A HV_BROOM_FIXED
#define HV_BROOM_C HV_BROOM_FIXED
#define HV_BROOM_S HV_BROOM_FIXED
#define HV_BROOM_Idx HV_BROOM_FIXED
#define HV_BROOM_Tc HV_BROOM_FIXED
#define HV_BROOM_Kind HV_BROOM_FIXED
#define HV_BROOM_How HV_BROOM_FIXED
#define HV_BROOM_Code HV_BROOM_FIXED
#define HV_BROOM_Ix HV_BROOM_FIXED
#define HV_BARG_U HV_BARG_FIXED
#define HV_BARG_A HV_BARG_FIXED
#define HV_BARG_C HV_BARG_FIXED
#define HV_BARG_S HV_BARG_FIXED
#define HV_BARG_Idx HV_BARG_FIXED
#define HV_BARG_Tc HV_BARG_FIXED
#define HV_BARG_Kind HV_BARG_FIXED
#define HV_BARG_How HV_BARG_FIXED
#define HV_BARG_Code HV_BARG_FIXED
#define HV_BARG_Ix HV_BARG_FIXED
#define HV_B_PARAM(codec, slot, label, prefix) HV_BT_##codec label
#define HV_B_ROOM(codec, slot, label, prefix) +HV_BROOM_##codec(label)
#define HV_B_ARG(codec, slot, label, prefix) HV_BARG_##codec(label)
#define HV_B_METHOD(Name, name, code, kind, chunks, model, ...)                                              \
  void name(HV_EV_FOR_EACH_COMMA(HV_B_PARAM, __VA_ARGS__)) {                                                 \
    begin(Ev::Name, event_info(Ev::Name).max_bytes HV_EV_FOR_EACH(HV_B_ROOM, __VA_ARGS__));                  \
    put_##name(cur().enc, HV_EV_FOR_EACH_COMMA(HV_B_ARG, __VA_ARGS__));                                      \
    written<Ev::Name>(HV_EV_FOR_EACH_COMMA(HV_B_ARG, __VA_ARGS__));                                          \
  }
  HV_TRACE_EVENTS(HV_B_METHOD)
#undef HV_B_METHOD
  // After an event: an arena event changes the block's current arena (a new block starts in it).
  template <Ev T, class... A> void written(const A&... a) {
    if constexpr (T == Ev::Arena) cur().arena = uint32_t((a, ...));
  }

  struct SnapChunk {
    uint64_t addr, size;
    ChunkState state;
    uint8_t bin;
  };
  void snapshot(const std::vector<SnapChunk>& chunks, uint8_t flags = 0) {
    snapshot(SnapshotHead{chunks.size(), flags});
    for (const SnapChunk& c : chunks) {
      cur().enc.addr(c.addr);
      cur().enc.csize(c.size);
      cur().enc.byte(uint8_t(c.state));
      cur().enc.byte(c.bin);
    }
  }
  // Call stacks (docs/trace-format.md, "Call stacks"). The stack the API events written from now
  // on carry (0: none).
  void set_call_stack(uint32_t id) {
    call_stack_ = id;
  }
  // A STACK event defining nodes first, first + 1, ... as (parent, return address) pairs.
  void stack_nodes(uint32_t first, const std::vector<std::pair<uint32_t, uint64_t>>& nodes) {
    std::string b;
    auto v = [&](uint64_t x) {
      uint8_t tmp[10];
      b.append(reinterpret_cast<const char*>(tmp), size_t(put_varint(tmp, x) - tmp));
    };
    v(first);
    uint64_t prev = 0;
    for (const auto& [parent, ip] : nodes) {
      v(parent);
      v(zigzag(int64_t(ip - prev)));
      prev = ip;
    }
    stack(std::string_view{b.data(), b.size()});
  }
  // A MODULE event: loaded at base, segments as (vaddr, memsz, flags).
  void module_record(uint64_t base, std::string_view path, std::string_view build_id,
                     const std::vector<std::tuple<uint64_t, uint64_t, uint8_t>>& segments) {
    std::string b;
    auto v = [&](uint64_t x) {
      uint8_t tmp[10];
      b.append(reinterpret_cast<const char*>(tmp), size_t(put_varint(tmp, x) - tmp));
    };
    v(base);
    v(path.size());
    b += path;
    v(build_id.size());
    b += build_id;
    v(segments.size());
    for (const auto& [vaddr, memsz, flags] : segments) {
      v(vaddr);
      v(memsz);
      b += char(flags);
    }
    module(std::string_view{b.data(), b.size()});
  }
  // A BIN_LISTS event (docs/trace-format.md, "Bin order"): flags (SnapshotFlags), then each list,
  // its chunks head first.
  struct BinListSpec {
    BinKind kind;
    uint8_t index;
    uint32_t owner;
    std::vector<uint64_t> chunks;
  };
  void bin_lists_record(uint8_t flags, const std::vector<BinListSpec>& lists) {
    std::string b(1, char(flags));
    uint64_t prev = 0;
    uint8_t tmp[kMaxBinListHeadBytes];
    for (const BinListSpec& l : lists) {
      b.append(reinterpret_cast<const char*>(tmp),
               size_t(put_bin_list_head(tmp, l.kind, l.index, l.owner, l.chunks.size()) - tmp));
      for (uint64_t c : l.chunks)
        b.append(reinterpret_cast<const char*>(tmp), size_t(put_bin_list_chunk(tmp, prev, c) - tmp));
    }
    bin_lists(std::string_view{b.data(), b.size()});
  }
  // An event of the extension range (0x80-0xfe) with this payload, as a later heapviz would write
  // one this reader does not know.
  void extension(uint8_t code, std::string_view payload) {
    begin(static_cast<Ev>(code), 10 + payload.size());
    cur().enc.put_Blob(ByteSpan{payload.data(), payload.size()});
  }
  // Raw bytes appended to the current event (for broken traces).
  void raw(const std::vector<uint8_t>& b) {
    cur().enc.bytes(b.data(), b.size());
  }
  // Starts an event with an arbitrary type byte (for broken traces).
  void raw_event(uint8_t type, size_t room = 32) {
    begin(static_cast<Ev>(type), room);
  }

  // Writes every thread's open block (in thread-id order).
  void flush() {
    for (auto& [tid, t] : threads_)
      flush(t);
  }
  void flush_thread(uint32_t tid) {
    flush(threads_[tid]);
  }
  // The file so far (after flush()).
  const std::vector<uint8_t>& bytes() const {
    return out_;
  }
  std::vector<uint8_t> finish() {
    flush();
    return out_;
  }
  // Writes the finished bytes so far (the header, whole blocks) to f and forgets them: a trace
  // larger than memory (bench_gui gen). False if the write fails.
  bool drain(FILE* f) {
    bool ok = fwrite(out_.data(), 1, out_.size(), f) == out_.size();
    drained_ += out_.size();
    out_.clear();
    return ok;
  }
  // Offsets of the blocks written so far.
  const std::vector<size_t>& block_offsets() const {
    return block_offsets_;
  }

private:
  struct Open {
    std::vector<uint8_t> buf;
    BlockEncoder enc;
    uint32_t arena = 0;
  };
  Open& cur() {
    return threads_[tid_];
  }
  void begin(Ev type, size_t room) {
    Open& t = cur();
    if (t.buf.empty()) {
      t.buf.resize(sizeof(BlockHeader) + std::max(cap_, room + 64));
      t.enc.reset(t.buf.data(), t.buf.size() - sizeof(BlockHeader));
    }
    if (!t.enc.fits(room + 21)) flush(t);
    if (!t.enc.fits(room + 21)) { // a huge event: a block of its own
      t.buf.assign(sizeof(BlockHeader) + room + 64, 0);
      t.enc.reset(t.buf.data(), t.buf.size() - sizeof(BlockHeader));
    }
    ts_ += 37 + (seq_ % 7) * 11;
    t.enc.call_stack = call_stack_;
    if (clocked_) t.enc.set_clocked();
    t.enc.begin_event(type, seq_++, ts_, tid_, t.arena);
  }
  void flush(Open& t) {
    if (t.buf.empty() || t.enc.empty()) return;
    size_t n = t.enc.finish();
    block_offsets_.push_back(drained_ + out_.size());
    if (zstd_) {
      BlockHeader h;
      memcpy(&h, t.buf.data(), sizeof h);
      std::vector<uint8_t> z(ZSTD_compressBound(h.raw_size));
      size_t zn = ZSTD_compress(z.data(), z.size(), t.buf.data() + sizeof h, h.raw_size, 3);
      h.flags |= kBlockZstd;
      h.stored_size = uint32_t(zn);
      h.crc32 = crc32(z.data(), zn);
      const uint8_t* hp = reinterpret_cast<const uint8_t*>(&h);
      out_.insert(out_.end(), hp, hp + sizeof h);
      out_.insert(out_.end(), z.begin(), z.begin() + long(zn));
    } else {
      out_.insert(out_.end(), t.buf.begin(), t.buf.begin() + long(n));
    }
    t.enc.clear();
  }
  size_t cap_;
  std::vector<uint8_t> out_;
  size_t drained_ = 0; // bytes drain() wrote
  std::map<uint32_t, Open> threads_;
  std::vector<size_t> block_offsets_;
  uint32_t tid_ = 1;
  uint64_t seq_ = 1;
  bool clocked_ = false;
  uint64_t start_ns_ = 1000000000;
  uint64_t ts_ = 1000000000;
  uint32_t call_stack_ = 0;
  bool zstd_ = false;
};

} // namespace hv::trace
