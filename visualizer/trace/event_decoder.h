// event_decoder.h - decodes the events of one block payload into typed Events.
//
// Owns: Event (the decoded form every later stage sees), the per-block decoding registers (seq,
// ts, address register, arena) and bounds checks: a varint longer than 10 bytes, a field or a
// length past the end of the payload, an unknown type or an out-of-range enum byte is an error
// naming the byte offset in the file and the event type. Inline and switch-based (no virtual
// calls): this is the replay hot loop.
// Must not: allocate, or keep pointers beyond the payload it was given.
#pragma once

#include "heapviz/trace_format.h"

#include <cstdint>
#include <string>

namespace hv::trace {

// One decoded event. Which fields are set depends on the type (the rest are 0):
//   malloc       size, addr=result             calloc      n, size, addr=result
//   realloc      addr2=old, size, addr=result  memalign    n=alignment, size, addr=result
//   free         addr=ptr
//   chunk_alloc, chunk_free, top, fence, mmap_chunk           addr=chunk, size
//   split        addr, size=first, size2=rest
//   merge        b0=how, addr=result, size, addr2=absorbed
//   bin_in       addr, size, b0=kind, b1=index   bin_out     addr, b0=kind, b1=index
//   realloc_in_place addr, size=old, size2=new   realloc_moved addr=old chunk, addr2=new chunk
//   arena_new    n=index, addr=arena struct    heap_new, heap_resize  addr=start, size
//   heap_free, munmap_chunk  addr              sbrk        addr=old break, delta
//   mmap, munmap addr, size=length             trim        size=bytes
//   arena        n=index                       error       b0=code, addr
//   mark, stack  n=length, data (n bytes)      snapshot    n, b0=flags, data..data_end, data_reg
// Chunk sizes (C fields) are in bytes (already multiplied by 16).
struct Event {
  uint64_t seq, ts;
  uint64_t offset; // file offset of the type byte (zstd blocks: of the block header)
  uint32_t tid, arena;
  Ev type;
  uint8_t b0, b1;
  uint64_t addr, addr2, size, size2, n;
  int64_t delta;
  const uint8_t* data;     // mark/stack bytes or snapshot entries; valid until the stream
  const uint8_t* data_end; // moves to another block of the same thread
  uint64_t data_reg;       // snapshot: the address register before the first entry
};

inline bool is_api_event(Ev t) {
  return static_cast<uint8_t>(t) <= 0x06;
}

// Decodes one block's payload. Registers start from the block header; state() / set_state()
// let a stream save and resume a position (checkpoints).
class BlockDecoder {
public:
  struct State {
    uint32_t pos = 0, left = 0, arena = 0;
    uint64_t seq = 0, ts = 0, reg = 0;
  };

  // payload: raw_size bytes. file_off: where payload byte 0 is in the file, or for a zstd block
  // (zstd=true) the block header's offset (errors then also name the payload byte).
  void start(const uint8_t* payload, uint32_t raw_size, uint32_t nevents, uint32_t tid, uint64_t first_seq,
             uint64_t base_ns, uint64_t base_addr, uint32_t arena, uint64_t file_off, bool zstd) {
    base_ = payload;
    p_ = payload;
    end_ = payload + raw_size;
    left_ = nevents;
    tid_ = tid;
    seq_ = first_seq;
    ts_ = base_ns;
    reg_ = base_addr;
    arena_ = arena;
    file_off_ = file_off;
    zstd_ = zstd;
    first_ = true;
    failed_ = false;
  }
  State state() const { return State{uint32_t(p_ - base_), left_, arena_, seq_, ts_, reg_}; }
  void set_state(const State& s) {
    p_ = base_ + s.pos;
    left_ = s.left;
    arena_ = s.arena;
    seq_ = s.seq;
    ts_ = s.ts;
    reg_ = s.reg;
    first_ = s.pos == 0;
  }
  bool done() const { return left_ == 0; }
  // No event decoded yet in this block: the next one's seq must be checked against the thread's
  // previous block.
  bool at_block_start() const { return first_; }
  uint32_t left() const { return left_; }
  bool failed() const { return failed_; }
  const std::string& error() const { return err_; }
  uint64_t error_offset() const { return err_off_; }
  // After the last event: trailing bytes in the payload are an error (returns false).
  bool check_end();

  // Decodes the next event into e. False at the end of the block (done()) or on an error
  // (failed(), error(), error_offset()).
  inline bool next(Event& e);

private:
  // An event with only fixed-size fields is at most 1 + 6 x 10 + 2 bytes; with this many bytes
  // left, decode<false> reads them without bounds checks (8-byte loads included).
  static constexpr long kUncheckedBytes = 80;
  template <bool Checked> bool decode(Event& e);
  bool fail(const char* what);
  bool failv(const char* what, uint64_t value);
  bool varint_slow(uint64_t& v);
  // One byte (most fields) or up to 8 without a branch per byte: the first byte without its
  // high bit ends the varint; 7-bit groups are packed by three shift-and-mask steps. Longer
  // values, the end of the payload and errors go to varint_slow (which starts again from p_).
  template <bool Checked> inline bool varint(uint64_t& v) {
    if (Checked && end_ - p_ < 8) return varint_slow(v);
    uint64_t x;
    __builtin_memcpy(&x, p_, 8); // little-endian
    if (!(x & 0x80)) {
      v = x & 0x7f;
      ++p_;
      return true;
    }
    uint64_t stop = ~x & 0x8080808080808080ull;
    if (__builtin_expect(stop == 0, 0)) return varint_slow(v);
    p_ += (unsigned(__builtin_ctzll(stop)) >> 3) + 1;
    x &= stop ^ (stop - 1); // the bytes up to and including the last one
    x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
    x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
    v = ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
    return true;
  }
  template <bool Checked> inline bool addr(uint64_t& a) {
    uint64_t z;
    if (!varint<Checked>(z)) return false;
    reg_ += static_cast<uint64_t>(unzigzag(z));
    a = reg_;
    return true;
  }
  template <bool Checked> inline bool csize(uint64_t& s) {
    uint64_t v;
    if (!varint<Checked>(v)) return false;
    if (v >> 60) return fail("chunk size overflows 64 bits");
    s = v << 4;
    return true;
  }
  template <bool Checked> inline bool byte(uint8_t& b) {
    if (Checked && p_ >= end_) return fail("field runs past the end of the block");
    b = *p_++;
    return true;
  }
  bool bytes(Event& e, uint64_t max);
  bool snapshot(Event& e);

  const uint8_t* base_ = nullptr;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  const uint8_t* ev_start_ = nullptr;
  uint32_t left_ = 0, tid_ = 0, arena_ = 0;
  uint64_t seq_ = 0, ts_ = 0, reg_ = 0, file_off_ = 0;
  bool zstd_ = false, first_ = true, failed_ = false;
  uint8_t cur_type_ = 0;
  std::string err_;
  uint64_t err_off_ = 0;
};

// Reads the entries of a snapshot event (already bounds-checked by the decoder, checked again).
struct SnapshotEntry {
  uint64_t addr, size;
  uint8_t state, bin;
};
class SnapshotReader {
public:
  explicit SnapshotReader(const Event& e) : p_(e.data), end_(e.data_end), reg_(e.data_reg), left_(e.n) {}
  bool next(SnapshotEntry& out);

private:
  const uint8_t* p_;
  const uint8_t* end_;
  uint64_t reg_, left_;
};

// ---- inline hot path ------------------------------------------------------------------------
inline bool BlockDecoder::next(Event& e) {
  if (left_ == 0 || failed_) return false;
  return end_ - p_ >= kUncheckedBytes ? decode<false>(e) : decode<true>(e);
}

// Checked = false only with kUncheckedBytes left: fixed-size fields are read without bounds
// checks; variable-length ones (mark, stack, snapshot) are always checked.
template <bool Checked> inline bool BlockDecoder::decode(Event& e) {
  ev_start_ = p_;
  if (Checked && p_ >= end_) return fail("block ends before its last event");
  uint8_t t = *p_++;
  cur_type_ = t;
  uint64_t ds, dt;
  if (!varint<Checked>(ds) || !varint<Checked>(dt)) return false;
  if (__builtin_expect(ds == 0, 0) && !first_) return fail("sequence number does not increase");
  first_ = false;
  seq_ += ds;
  ts_ += dt;
  e.seq = seq_;
  e.ts = ts_;
  e.offset = file_off_ + (zstd_ ? 0 : uint64_t(ev_start_ - base_));
  e.tid = tid_;
  e.type = static_cast<Ev>(t);
  e.b0 = e.b1 = 0;
  e.addr = e.addr2 = e.size = e.size2 = e.n = 0;
  e.delta = 0;
  e.data = e.data_end = nullptr;
  e.data_reg = 0;
  bool ok;
  switch (static_cast<Ev>(t)) {
  case Ev::Malloc:
    ok = varint<Checked>(e.size) && addr<Checked>(e.addr);
    break;
  case Ev::Calloc:
  case Ev::Memalign:
    ok = varint<Checked>(e.n) && varint<Checked>(e.size) && addr<Checked>(e.addr);
    break;
  case Ev::Realloc:
    ok = addr<Checked>(e.addr2) && varint<Checked>(e.size) && addr<Checked>(e.addr);
    break;
  case Ev::Free:
  case Ev::HeapFree:
  case Ev::MunmapChunk:
    ok = addr<Checked>(e.addr);
    break;
  case Ev::FreeTcache:
    ok = addr<Checked>(e.addr) && byte<Checked>(e.b1);
    e.b0 = static_cast<uint8_t>(BinKind::Tcache);
    if (ok && e.b1 >= 64) return failv("tcache index out of range", e.b1);
    break;
  case Ev::ChunkAlloc:
  case Ev::ChunkFree:
  case Ev::Top:
  case Ev::Fence:
    ok = addr<Checked>(e.addr) && csize<Checked>(e.size);
    break;
  case Ev::Split:
  case Ev::ReallocInPlace:
    ok = addr<Checked>(e.addr) && csize<Checked>(e.size) && csize<Checked>(e.size2);
    break;
  case Ev::Merge:
    ok = byte<Checked>(e.b0) && addr<Checked>(e.addr) && csize<Checked>(e.size) && addr<Checked>(e.addr2);
    if (ok && e.b0 > 2) return failv("invalid merge kind", e.b0);
    break;
  case Ev::BinIn:
    ok = addr<Checked>(e.addr) && csize<Checked>(e.size) && byte<Checked>(e.b0) && byte<Checked>(e.b1);
    if (ok && (e.b0 < 1 || e.b0 > 5)) return failv("invalid bin kind", e.b0);
    break;
  case Ev::BinOut:
    ok = addr<Checked>(e.addr) && byte<Checked>(e.b0) && byte<Checked>(e.b1);
    if (ok && (e.b0 < 1 || e.b0 > 5)) return failv("invalid bin kind", e.b0);
    break;
  case Ev::ReallocMoved:
    ok = addr<Checked>(e.addr) && addr<Checked>(e.addr2);
    break;
  case Ev::ArenaNew:
    ok = varint<Checked>(e.n) && addr<Checked>(e.addr);
    break;
  case Ev::HeapNew:
  case Ev::HeapResize:
  case Ev::Mmap:
  case Ev::Munmap:
  case Ev::MmapChunk:
    ok = addr<Checked>(e.addr) && varint<Checked>(e.size);
    break;
  case Ev::Sbrk: {
    uint64_t z;
    ok = addr<Checked>(e.addr) && varint<Checked>(z);
    e.delta = unzigzag(z);
    break;
  }
  case Ev::Trim:
    ok = varint<Checked>(e.size);
    break;
  case Ev::Arena:
    ok = varint<Checked>(e.n);
    if (ok && e.n > UINT32_MAX) return failv("arena index out of range", e.n);
    if (ok) arena_ = static_cast<uint32_t>(e.n);
    break;
  case Ev::Error:
    ok = byte<Checked>(e.b0) && addr<Checked>(e.addr);
    if (ok && (e.b0 < 1 || e.b0 > 5)) return failv("invalid error code", e.b0);
    break;
  case Ev::Mark:
    ok = bytes(e, 255);
    break;
  case Ev::Stack:
    ok = bytes(e, UINT32_MAX);
    break;
  case Ev::Snapshot:
    ok = snapshot(e);
    break;
  default:
    return failv("unknown event type", t);
  }
  if (!ok) return false;
  e.arena = arena_;
  --left_;
  return true;
}

} // namespace hv::trace
