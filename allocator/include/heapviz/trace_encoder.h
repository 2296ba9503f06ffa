// trace_encoder.h - builds one trace block in a caller-provided buffer (docs/trace-format.md).
//
// Owns: the event encoding (varints, deltas, the address register) and block finishing (header,
// CRC). Used by the allocator's trace writer and by tests that need hand-made traces.
// Must not: allocate, lock, or do I/O.
#pragma once

#include "heapviz/trace_format.h"

#include <cstring>

namespace hv::trace {

// The parameter types of the variable-length codecs.
struct ByteSpan {
  const void* data;
  size_t size;
};
struct SnapshotHead {
  uint64_t count;
  uint8_t flags;
};

class BlockEncoder {
public:
  // buf must hold sizeof(BlockHeader) + capacity bytes; events go after the header.
  void reset(uint8_t* buf, size_t capacity) {
    buf_ = buf;
    cap_ = capacity;
    clear();
  }
  // The stack of the API call being written (a node of the stack tree; 0: none): every API
  // event (event_info(type).api) ends with it (format version 2). The writer sets it per call.
  uint32_t call_stack = 0;

  bool empty() const { return n_ == 0; }
  // The block holds numbers of a threaded process's clocks (kBlockClocked: not contiguous).
  void set_clocked() { clocked_ = true; }
  size_t payload_size() const { return static_cast<size_t>(p_ - payload()); }
  // True if an event of up to `bytes` encoded bytes still fits.
  bool fits(size_t bytes) const { return payload_size() + bytes <= cap_; }

  // Starts an event. The first event of a block fixes the block's origins. The cursor and the
  // deltas' bases are read into locals first: a byte stored through p_ may alias any member, so
  // writing through the members would reload them after every byte.
  __attribute__((always_inline)) void begin_event(Ev type, uint64_t seq, uint64_t ts_ns, uint32_t tid,
                                                  uint32_t arena) {
    if (n_ == 0) {
      hdr_.tid = tid;
      hdr_.first_seq = seq;
      hdr_.base_ns = ts_ns;
      hdr_.base_addr = 0;
      hdr_.arena = arena;
      last_seq_ = seq;
      last_ts_ = ts_ns;
      last_addr_ = 0;
    }
    uint8_t* p = p_;
    const uint64_t prev_seq = last_seq_, prev_ts = last_ts_;
    last_seq_ = seq;
    if (ts_ns > prev_ts) last_ts_ = ts_ns;
    ++n_;
    *p++ = static_cast<uint8_t>(type);
    p = put_varint(p, seq - prev_seq);
    p = put_varint(p, ts_ns >= prev_ts ? ts_ns - prev_ts : 0);
    p_ = p;
  }
  // The fields of one event, written through a local copy of the cursor and the address
  // register (see begin_event); commit() stores them back. One per generated put_<event>.
  class Fields {
  public:
    explicit Fields(BlockEncoder& e) : e_(e), p_(e.p_), last_addr_(e.last_addr_) {}
    void put_U(uint64_t v) { p_ = put_varint(p_, v); }
    // An address delta under 2^28 (zigzag: 128 MiB either way) is always written in 4 bytes, a
    // LEB128 padded with continuation bits (docs/trace-format.md allows it): the length of a
    // minimal one (3 or 4 bytes at random for a heap of a few MiB) was a mispredicted branch in
    // most events. Measured: 10% faster recording, 8% bigger traces (bench/README.md).
    void put_A(uint64_t a) {
      const uint64_t z = zigzag(static_cast<int64_t>(a - last_addr_));
      last_addr_ = a;
      if (__builtin_expect(z < (uint64_t(1) << 28), 1)) {
        const uint32_t x = uint32_t(z & 0x7f) | uint32_t((z << 1) & 0x7f00) | uint32_t((z << 2) & 0x7f0000) |
                           uint32_t((z << 3) & 0x7f000000) | 0x808080u;
        memcpy(p_, &x, 4); // little-endian
        p_ += 4;
      } else {
        p_ = put_varint(p_, z);
      }
    }
    void put_C(uint64_t v) { p_ = put_varint(p_, v >> 4); }
    void put_S(int64_t v) { p_ = put_varint(p_, zigzag(v)); }
    void put_Idx(uint8_t v) { *p_++ = v; }
    void put_Tc(uint8_t v) { *p_++ = v; }
    void put_Kind(BinKind k) { *p_++ = static_cast<uint8_t>(k); }
    void put_How(MergeHow h) { *p_++ = static_cast<uint8_t>(h); }
    void put_Code(ErrorCode c) { *p_++ = static_cast<uint8_t>(c); }
    void put_Ix(uint64_t v) { put_U(v); }
    void put_Label(ByteSpan b) { put_Blob(b); }
    void put_Blob(ByteSpan b) {
      put_U(b.size);
      if (b.size) memcpy(p_, b.data, b.size); // b.data may be null when the size is 0
      p_ += b.size;
    }
    void put_Snap(SnapshotHead h) {
      put_U(h.count);
      *p_++ = h.flags;
    }
    void commit() {
      e_.p_ = p_;
      e_.last_addr_ = last_addr_;
    }

  private:
    BlockEncoder& e_;
    uint8_t* p_;
    uint64_t last_addr_;
  };
  // One field at a time (snapshot chunks, hand-made traces in tests): the codecs of Fields.
  void addr(uint64_t a) {
    one([a](Fields& f) { f.put_A(a); });
  }
  void usize(uint64_t v) {
    one([v](Fields& f) { f.put_U(v); });
  }
  void csize(uint64_t v) {
    one([v](Fields& f) { f.put_C(v); });
  }
  void svarint(int64_t v) {
    one([v](Fields& f) { f.put_S(v); });
  }
  void byte(uint8_t v) { *p_++ = v; }
  void bytes(const void* d, size_t n) {
    if (n) memcpy(p_, d, n); // d may be null when n is 0 (an empty payload)
    p_ += n;
  }
  void put_U(uint64_t v) { usize(v); }
  void put_A(uint64_t a) { addr(a); }
  void put_C(uint64_t v) { csize(v); }
  void put_S(int64_t v) { svarint(v); }
  void put_Idx(uint8_t v) { byte(v); }
  void put_Tc(uint8_t v) { byte(v); }
  void put_Kind(BinKind k) { byte(static_cast<uint8_t>(k)); }
  void put_How(MergeHow h) { byte(static_cast<uint8_t>(h)); }
  void put_Code(ErrorCode c) { byte(static_cast<uint8_t>(c)); }
  void put_Ix(uint64_t v) { usize(v); }
  void put_Label(ByteSpan b) {
    one([b](Fields& f) { f.put_Label(b); });
  }
  void put_Blob(ByteSpan b) {
    one([b](Fields& f) { f.put_Blob(b); });
  }
  void put_Snap(SnapshotHead h) {
    one([h](Fields& f) { f.put_Snap(h); });
  }

  // The payload of an event of the extension range (codes 0x80-0xfe): its fields go between
  // begin_payload() and end_payload(), which puts their length in front of them as a varint (one
  // byte reserved, widened when the fields take 128 bytes or more).
  uint8_t* begin_payload() { return p_++; }
  void end_payload(uint8_t* at) {
    size_t n = static_cast<size_t>(p_ - at - 1);
    if (n < 0x80) {
      *at = static_cast<uint8_t>(n);
      return;
    }
    uint8_t len[10];
    size_t k = static_cast<size_t>(put_varint(len, n) - len);
    memmove(at + k, at + 1, n);
    memcpy(at, len, k);
    p_ += k - 1;
  }

  // Fills in the header; returns the block's total size (header + payload) at buf. Without
  // with_crc the header's crc32 is 0: the block's consumer computes it (the live thread, off
  // the program's thread).
  size_t finish(bool with_crc = true) {
    hdr_.magic = kBlockMagic;
    hdr_.flags = clocked_ ? kBlockClocked : 0;
    hdr_.reserved = 0;
    hdr_.raw_size = static_cast<uint32_t>(payload_size());
    hdr_.stored_size = hdr_.raw_size;
    hdr_.nevents = n_;
    hdr_.crc32 = with_crc ? crc32(payload(), payload_size()) : 0;
    memcpy(buf_, &hdr_, sizeof hdr_);
    return sizeof(BlockHeader) + payload_size();
  }
  void clear() {
    whole_ = 0; // first: a process killed from here on leaves nothing to salvage (layout())
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    p_ = payload();
    n_ = 0;
    clocked_ = false;
    memset(&hdr_, 0, sizeof hdr_);
  }
  // Where a salvager of a killed process's memory (heapviz/trace_format.h, "Salvage files")
  // finds the block being filled, as byte offsets from this encoder: the whole word (see
  // mark_whole), the header in the making (tid, first_seq, base_ns, base_addr and arena hold
  // from the first event on), and the clocked flag (a bool); the payload is at data() +
  // sizeof(BlockHeader).
  struct Layout {
    size_t whole, header, clocked;
  };
  Layout layout() const {
    auto at = [this](const void* m) {
      return static_cast<size_t>(static_cast<const char*>(m) - reinterpret_cast<const char*>(this));
    };
    return {at(&whole_), at(&hdr_), at(&clocked_)};
  }
  // The events so far are whole (put_<event> says so after its fields; a snapshot's writer after
  // its chunks). A flush from a signal handler that interrupted an event cuts the block back to
  // the last whole one (cut_to_whole): a block never ends inside an event.
  // (The size and the count are one word, stored at once: a signal between two stores would see
  // a count that does not match the bytes.)
  void mark_whole() {
    __atomic_signal_fence(__ATOMIC_SEQ_CST); // the event's bytes are stored before it counts
    whole_ = uint64_t(n_) << 32 | payload_size();
  }
  void cut_to_whole() {
    p_ = payload() + uint32_t(whole_);
    n_ = uint32_t(whole_ >> 32);
  }
  uint8_t* data() const { return buf_; }

private:
  template <class Put> void one(Put put) {
    Fields f(*this);
    put(f);
    f.commit();
  }
  uint8_t* payload() const { return buf_ + sizeof(BlockHeader); }
  uint8_t* buf_ = nullptr;
  uint8_t* p_ = nullptr;
  size_t cap_ = 0;
  uint32_t n_ = 0;
  uint64_t whole_ = 0; // see mark_whole: events << 32 | payload bytes
  bool clocked_ = false;
  BlockHeader hdr_{};
  uint64_t last_seq_ = 0, last_ts_ = 0, last_addr_ = 0;
};

// put_<event>(enc, fields...): the fields of an event begun with begin_event(Ev::<Event>, ...), one
// function per row of the event table, parameters in its field order (trace_events.h), e.g.
// put_split(enc, chunk, first, rest); a row of the extension range gets its length prefix, an API
// event the call's stack (call_stack) after its fields. The most bytes each writes:
// event_info(type).max_bytes.
#define HV_ENC_TYPE_U uint64_t
#define HV_ENC_TYPE_A uint64_t
#define HV_ENC_TYPE_C uint64_t
#define HV_ENC_TYPE_S int64_t
#define HV_ENC_TYPE_Idx uint8_t
#define HV_ENC_TYPE_Tc uint8_t
#define HV_ENC_TYPE_Kind BinKind
#define HV_ENC_TYPE_How MergeHow
#define HV_ENC_TYPE_Code ErrorCode
#define HV_ENC_TYPE_Ix uint64_t
#define HV_ENC_TYPE_Label ByteSpan
#define HV_ENC_TYPE_Blob ByteSpan
#define HV_ENC_TYPE_Snap SnapshotHead
#define HV_ENC_PARAM(codec, slot, label, prefix) HV_ENC_TYPE_##codec label
#define HV_ENC_PUT_F(codec, slot, label, prefix) hv_f_.put_##codec(label);
#define HV_ENC_FN(Name, name, code, kind, chunks, model, ...)                                                \
  inline void put_##name(BlockEncoder& enc, HV_EV_FOR_EACH_COMMA(HV_ENC_PARAM, __VA_ARGS__)) {               \
    if constexpr (is_extension_code(code)) {                                                                 \
      uint8_t* hv_payload_ = enc.begin_payload();                                                            \
      BlockEncoder::Fields hv_f_(enc);                                                                       \
      HV_EV_FOR_EACH(HV_ENC_PUT_F, __VA_ARGS__)                                                              \
      hv_f_.commit();                                                                                        \
      enc.end_payload(hv_payload_);                                                                          \
    } else {                                                                                                 \
      const uint32_t hv_stack_ = enc.call_stack;                                                             \
      BlockEncoder::Fields hv_f_(enc);                                                                       \
      HV_EV_FOR_EACH(HV_ENC_PUT_F, __VA_ARGS__)                                                              \
      if constexpr (event_info(uint8_t(code)).api) hv_f_.put_U(hv_stack_);                                   \
      hv_f_.commit();                                                                                        \
    }                                                                                                        \
    if constexpr (Ev::Name != Ev::Snapshot) enc.mark_whole(); /* a snapshot's chunks follow */               \
  }
HV_TRACE_EVENTS(HV_ENC_FN)
#undef HV_ENC_FN
#undef HV_ENC_PUT_F

// put<Ev::Name>(enc, fields...): the same encoder chosen by the event constant, for writers that
// are templates on the event (trace_hooks.h): put<Ev::Split>(enc, chunk, first, rest). There is
// no overload taking an Ev at run time, so a writer cannot pair one event's code with another's
// fields.
template <Ev E> struct EventFields;
#define HV_ENC_ARG(codec, slot, label, prefix) label
#define HV_ENC_FIELDS(Name, name, code, kind, chunks, model, ...)                                            \
  template <> struct EventFields<Ev::Name> {                                                                 \
    static void put(BlockEncoder& enc, HV_EV_FOR_EACH_COMMA(HV_ENC_PARAM, __VA_ARGS__)) {                    \
      put_##name(enc, HV_EV_FOR_EACH_COMMA(HV_ENC_ARG, __VA_ARGS__));                                        \
    }                                                                                                        \
  };
HV_TRACE_EVENTS(HV_ENC_FIELDS)
#undef HV_ENC_FIELDS
#undef HV_ENC_ARG
template <Ev E, class... F> inline void put(BlockEncoder& enc, F... fields) {
  EventFields<E>::put(enc, fields...);
}

// One chunk of a snapshot, after put_snapshot's head (count, flags): chunk address, chunk size,
// its ChunkState and bin index. At most kMaxSnapshotChunkBytes bytes.
inline constexpr size_t kMaxSnapshotChunkBytes = 10 + 10 + 1 + 1;
inline void put_snapshot_chunk(BlockEncoder& enc, uint64_t chunk, uint64_t size, ChunkState state,
                               uint8_t bin) {
  enc.addr(chunk);
  enc.csize(size);
  enc.byte(static_cast<uint8_t>(state));
  enc.byte(bin);
}

// The record of a bin_lists event, its one Blob field (docs/trace-format.md, "Bin order"): a
// flags byte (SnapshotFlags: coarse, baseline, more), then per list its head (kind, index, owner:
// the arena's trace index, or for a tcache the thread's id; the number of chunks that follow)
// and its chunks head first, each the zigzag varint of its address less the previous chunk's in
// the record (the first: less 0). Written into a byte buffer, then put_bin_lists() copies it.
inline constexpr size_t kMaxBinListHeadBytes = 1 + 1 + 5 + 10;
inline constexpr size_t kMaxBinListChunkBytes = 10;
inline uint8_t* put_bin_list_head(uint8_t* p, BinKind kind, uint8_t index, uint32_t owner, uint64_t count) {
  *p++ = static_cast<uint8_t>(kind);
  *p++ = index;
  p = put_varint(p, owner);
  return put_varint(p, count);
}
inline uint8_t* put_bin_list_chunk(uint8_t* p, uint64_t& prev, uint64_t chunk) {
  p = put_varint(p, zigzag(static_cast<int64_t>(chunk - prev)));
  prev = chunk;
  return p;
}

// The record of an error_report event, its one Blob field (docs/trace-format.md, "Error
// reports"): kind (HeapErrorKind), source (HeapErrorSource), flags (kErrorCallWritten), the call's
// stack node, the pointer the check
// names, the chunk (0: not known), the message (at most kMaxErrorMessage bytes), then runs of
// bytes that differ from what they should hold (canary, free pattern): per run its offset from
// the chunk, its length (at most kMaxErrorRunBytes), the expected bytes, then the bytes found.
// At most kMaxErrorRuns runs. Built into a buffer of kMaxErrorReportBytes.
inline constexpr size_t kMaxErrorReportBytes =
    2 + 10 + 10 + 10 + 10 + kMaxErrorMessage + 10 + kMaxErrorRuns * (10 + 10 + 2 * kMaxErrorRunBytes);
struct ErrorRun {
  uint64_t offset; // from the chunk
  size_t len;
  const uint8_t* expected;
  const uint8_t* found;
};
inline size_t build_error_report(uint8_t* out, HeapErrorKind kind, HeapErrorSource source, uint8_t flags,
                                 uint32_t stack, uint64_t ptr, uint64_t chunk, const char* msg,
                                 const ErrorRun* runs, size_t nruns) {
  uint8_t* p = out;
  *p++ = static_cast<uint8_t>(kind);
  *p++ = static_cast<uint8_t>(source);
  *p++ = flags;
  p = put_varint(p, stack);
  p = put_varint(p, ptr);
  p = put_varint(p, chunk);
  size_t n = 0;
  while (msg && msg[n] && n < kMaxErrorMessage)
    ++n;
  p = put_varint(p, n);
  for (size_t i = 0; i < n; ++i)
    *p++ = static_cast<uint8_t>(msg[i]);
  if (nruns > kMaxErrorRuns) nruns = kMaxErrorRuns;
  p = put_varint(p, nruns);
  for (size_t r = 0; r < nruns; ++r) {
    size_t len = runs[r].len < kMaxErrorRunBytes ? runs[r].len : kMaxErrorRunBytes;
    p = put_varint(p, runs[r].offset);
    p = put_varint(p, len);
    for (size_t i = 0; i < len; ++i)
      *p++ = runs[r].expected[i];
    for (size_t i = 0; i < len; ++i)
      *p++ = runs[r].found[i];
  }
  return static_cast<size_t>(p - out);
}

// Builds a FileHeader (plus command line) into out (header_size bytes); returns header_size.
// out must have room for sizeof(FileHeader) + cmdline_len + 8.
size_t build_file_header(uint8_t* out, const char* policy, const uint64_t params[kNumParams],
                         uint64_t heap_base, uint32_t pid, uint32_t ppid, uint64_t start_unix_ns,
                         uint64_t start_mono_ns, uint32_t flags, const char* cmdline, uint32_t cmdline_len,
                         uint32_t page_size);

} // namespace hv::trace
