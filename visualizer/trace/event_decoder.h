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

// The BMI2 varint path (x86-64, chosen at run time): pext through inline assembly, so that the
// decoder needs no target attributes or -mbmi2 (GCC and clang, the fuzzer included).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HV_DECODER_BMI2 1
#include <emmintrin.h>
#else
#define HV_DECODER_BMI2 0
#endif

namespace hv::trace {

// One decoded event. The table in trace_events.h says which members each type sets (its fields'
// slots; the rest are 0); read them through the named accessors below, which say what a member
// means for the types that use it. Chunk sizes (C fields) are in bytes (already times 16).
struct Event {
  uint64_t seq, ts;
  uint64_t offset; // file offset of the type byte (zstd blocks: of the block header)
  uint32_t tid, arena;
  Ev type;
  uint8_t b0, b1;
  uint32_t stack; // the call's stack: a node of the stack tree (API events; 0: none recorded)
  uint64_t addr, addr2, size, size2, n;
  int64_t delta;
  const uint8_t* data;     // mark/stack bytes or snapshot entries; valid until the stream
  const uint8_t* data_end; // moves to another block of the same thread
  uint64_t data_reg;       // snapshot: the address register before the first entry

  // API calls: the result (malloc, calloc, realloc, memalign) or the pointer freed; the size asked.
  uint64_t ptr() const { return addr; }
  uint64_t old_ptr() const { return addr2; } // realloc
  uint64_t count() const { return n; }       // calloc's element count, snapshot's entries
  uint64_t alignment() const { return n; }   // memalign
  // Chunk events: the chunk (start) and its size.
  uint64_t chunk() const { return addr; }
  uint64_t first() const { return size; } // split: the part that stays at chunk()
  uint64_t rest() const { return size2; } // split: the new chunk at chunk() + first()
  uint64_t rest_chunk() const { return addr + size; }
  uint64_t absorbed() const { return addr2; } // merge: the chunk merged away
  uint64_t old_size() const { return size; }  // realloc_in_place
  uint64_t new_size() const { return size2; } // realloc_in_place
  uint64_t from() const { return addr; }      // realloc_moved: old chunk
  uint64_t to() const { return addr2; }       // realloc_moved: new chunk
  MergeHow how() const { return MergeHow(b0); }
  BinKind bin_kind() const { return BinKind(b0); } // bin_in, bin_out, free_tcache
  uint8_t bin_index() const { return b1; }         // bin_in, bin_out, free_tcache
  ErrorCode error_code() const { return ErrorCode(b0); }
  uint8_t snapshot_flags() const { return b0; }
  uint64_t arena_index() const { return n; }  // arena, arena_new
  uint8_t unknown_code() const { return b0; } // Ev::Unknown: the extension code skipped
  const EventInfo& info() const { return event_info(type); }
};

// The member a field of the event table is decoded into, as a number (delta's bits; a variable
// field's length).
inline uint64_t slot_value(const Event& e, FieldSlot s) {
  switch (s) {
  case FieldSlot::addr:
    return e.addr;
  case FieldSlot::addr2:
    return e.addr2;
  case FieldSlot::size:
    return e.size;
  case FieldSlot::size2:
    return e.size2;
  case FieldSlot::n:
  case FieldSlot::data:
    return e.n;
  case FieldSlot::delta:
    return uint64_t(e.delta);
  case FieldSlot::b0:
    return e.b0;
  case FieldSlot::b1:
    return e.b1;
  }
  return 0;
}
inline constexpr FieldSlot kFixedSlots[] = {FieldSlot::addr,  FieldSlot::addr2, FieldSlot::size,
                                            FieldSlot::size2, FieldSlot::n,     FieldSlot::delta,
                                            FieldSlot::b0,    FieldSlot::b1};

// Whether the API events of a trace of this version end with a stack (BlockDecoder::start).
inline constexpr bool api_stack_for(uint32_t version) {
  return version >= 2;
}

inline bool is_api_event(Ev t) {
  return event_chunks(uint8_t(t)) == EvChunks::User;
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
  // (zstd=true) the block header's offset (errors then also name the payload byte). api_stack:
  // API events end with their stack (format version 2 on; api_stack_for(version)).
  void start(const uint8_t* payload, uint32_t raw_size, uint32_t nevents, uint32_t tid, uint64_t first_seq,
             uint64_t base_ns, uint64_t base_addr, uint32_t arena, uint64_t file_off, bool zstd,
             bool api_stack) {
    api_stack_ = api_stack;
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
    off_mask_ = zstd ? 0 : ~uint64_t(0);
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
  // next(e, sink) would decode at least one event in its unchecked loop (and the event's seq is
  // checked against the previous one of this block).
  bool can_run() const { return left_ != 0 && !failed_ && !first_ && end_ - p_ >= kUncheckedBytes; }
  const std::string& error() const { return err_; }
  uint64_t error_offset() const { return err_off_; }
  // After the last event: trailing bytes in the payload are an error (returns false).
  bool check_end();

  // Decodes the next event into e. False at the end of the block (done()) or on an error
  // (failed(), error(), error_offset()).
  inline bool next(Event& e);
  // The same, then sink.on<T>(e) with the event's type T as a constant (the replay applies
  // events this way, with one switch per event: the decoder's). on() returns whether to go on
  // with the next event of the block into the same e: a run ends when it says no, at the end of
  // the block, with fewer than kUncheckedBytes left, or on an error (the sink does not see the
  // event that fails). When on() says no, a sink with bool resume(BlockDecoder*& d, Event*& e)
  // may instead name another decoder that can_run() and its event storage: the loop goes on
  // there (this decoder's registers are saved first; the one it ends in saves its own). False
  // when this block has no event left, or on an error (in whichever decoder it happened; the
  // events before it were passed), true otherwise.
  struct NoSink {
    template <Ev> bool on(const Event&) { return false; }
  };
  template <class Sink> inline bool next(Event& e, Sink& sink);

  // Whether the unchecked loop reads varints with BMI2 pext (one extract per varint, no branch
  // on its length, type + seq + ts from one load). On by default where the CPU has BMI2;
  // set_bmi2(false) forces the scalar path (tests compare the two), set_bmi2(true) is refused
  // without BMI2. Returns the setting now in force.
  static bool bmi2() { return bmi2_; }
  static bool set_bmi2(bool on);

private:
  // With this many bytes left, decode<false> reads an event's fixed fields without bounds checks:
  // the longest fixed part (the event table's size table) plus a 16-byte load past its start.
  static constexpr long kUncheckedBytes = 80;
  static_assert(kMaxFixedEventBytes + 16 <= kUncheckedBytes, "an event no longer fits the unchecked window");
  // Varints: one byte (most fields) or up to 8 without a branch per byte: the first byte
  // without its high bit ends the varint; 7-bit groups are packed by three shift-and-mask steps.
  // Longer values, the end of the payload and errors go to varint_slow (from p_).
  // Bmi2: pext for the varints (only with Checked = false). decode_body is inlined into
  // decode<Checked> and, compiled for BMI1/BMI2 (andn, blsmsk, shrx, tzcnt), decode_bmi2.
  template <bool Checked, bool Bmi2, class Sink> bool decode_body(Event& e, Sink& sink);
  template <bool Checked, class Sink> bool decode(Event& e, Sink& sink);
  template <class Sink> bool decode_bmi2(Event& e, Sink& sink);
  static bool bmi2_;
  bool fail(const char* what);
  bool failv(const char* what, uint64_t value);
  bool varint_slow(uint64_t& v);
  // Checked field readers on p_ / reg_ for the cold paths (event_decoder.cpp).
  bool addr_slow(uint64_t& a);
  bool csize_slow(uint64_t& s);
  bool byte_slow(uint8_t& b);
  bool bytes(Event& e, uint64_t max);
  bool snapshot(Event& e);

  const uint8_t* base_ = nullptr;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  const uint8_t* ev_start_ = nullptr;
  uint32_t left_ = 0, tid_ = 0, arena_ = 0;
  uint64_t seq_ = 0, ts_ = 0, reg_ = 0, file_off_ = 0;
  uint64_t off_mask_ = 0; // ~0 for a raw block (offsets are file_off_ + position), 0 for zstd
  bool zstd_ = false, first_ = true, failed_ = false, api_stack_ = true;
  uint8_t cur_type_ = 0;
  std::string err_;
  uint64_t err_off_ = 0;
};

// Calls f.template apply<T>(e) with T = e.type as a constant (for events that did not come
// through BlockDecoder::next(e, sink)).
template <class F> inline void dispatch(const Event& e, F& f) {
  switch (e.type) {
#define HV_DISPATCH(Name, ...)                                                                               \
  case Ev::Name:                                                                                             \
    return f.template apply<Ev::Name>(e);
    HV_TRACE_EVENTS(HV_DISPATCH)
    HV_DISPATCH(Unknown)
#undef HV_DISPATCH
  }
}

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
namespace detail {
// The bits of x selected by mask, packed at the bottom (BMI2 pext; only called when the CPU has
// it).
inline uint64_t pext(uint64_t x, uint64_t mask) {
#if HV_DECODER_BMI2
  uint64_t r;
  asm("pext %2, %1, %0" : "=r"(r) : "r"(x), "rm"(mask));
  return r;
#else
  (void)x, (void)mask;
  __builtin_trap();
#endif
}
// Bit i set: byte p[i] (i < 16) has its high bit clear, i.e. ends a varint (SSE2).
inline uint32_t stops16(const uint8_t* p) {
#if HV_DECODER_BMI2
  return ~uint32_t(_mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))) & 0xffff;
#else
  (void)p;
  __builtin_trap();
#endif
}
} // namespace detail

inline bool BlockDecoder::next(Event& e) {
  NoSink none;
  return next(e, none);
}

template <class Sink> inline bool BlockDecoder::next(Event& e, Sink& sink) {
  if (left_ == 0 || failed_) return false;
  if (end_ - p_ < kUncheckedBytes) return decode<true>(e, sink);
#if HV_DECODER_BMI2
  if (bmi2_) return decode_bmi2(e, sink);
#endif
  return decode<false>(e, sink);
}

template <bool Checked, class Sink> inline bool BlockDecoder::decode(Event& e, Sink& sink) {
  return decode_body<Checked, false>(e, sink);
}

#if HV_DECODER_BMI2
template <class Sink>
__attribute__((target("bmi,bmi2"))) inline bool BlockDecoder::decode_bmi2(Event& e, Sink& sink) {
  return decode_body<false, true>(e, sink);
}
#endif

// Checked = false only with kUncheckedBytes left: fixed-size fields are read without bounds
// checks; variable-length ones (mark, stack, snapshot) are always checked. The cursor and the
// address register live in locals while the event is decoded (stores to e cannot alias them),
// and go back to p_ / reg_ around the out-of-line paths.
// The helpers below are lambdas on the decoder's locals: they must be inlined, or the locals
// would live in memory.
#define HV_INLINE __attribute__((always_inline))
template <bool Checked, bool Bmi2, class Sink>
inline __attribute__((always_inline)) bool BlockDecoder::decode_body(Event& e, Sink& sink) {
  static_assert(!(Checked && Bmi2), "the BMI2 path reads 8 bytes at a time without bounds checks");
  // The decoder and event being filled: a sink with resume() may move the loop on to another
  // thread's decoder (see EventStream::Gate) when on() turned an event down.
  BlockDecoder* d = this;
  Event* ep = &e;
  // The cursor: p, or with Bmi2 p + q, where p is the start of the event (a window of 16 bytes
  // whose varint ends are the bits of m): the fields' offsets q come from m, not from the
  // bytes just read, so a varint's load does not wait for the one before it.
  const uint8_t* p = d->p_;
  uint32_t q = 0, m = 0;
  uint64_t reg = d->reg_, seq = d->seq_, ts = d->ts_;
  uint32_t left = d->left_, arena = d->arena_;
  bool first = d->first_;
  auto cur = [&]() HV_INLINE { return Bmi2 ? p + q : p; };
  // Registers back to the members: before the out-of-line paths and at the end.
  auto sync = [&]() HV_INLINE {
    d->p_ = cur();
    d->reg_ = reg;
    d->seq_ = seq;
    d->ts_ = ts;
    d->left_ = left;
    d->arena_ = arena;
    d->first_ = first;
  };
  auto vi = [&](uint64_t& v) HV_INLINE -> bool {
    if constexpr (Bmi2) { // no branch on the length: the bytes up to the first stop bit
      uint32_t mm = m >> q;
      if (__builtin_expect(!(mm & 0xff), 0)) { // no end in the window's next 8 bytes: move it
        p += q;
        q = 0;
        m = mm = detail::stops16(p);
        if (!(mm & 0xff)) { // longer than 8 bytes, or an error
          sync();
          bool ok = d->varint_slow(v);
          p = d->p_;
          m = detail::stops16(p);
          return ok;
        }
      }
      uint64_t x;
      __builtin_memcpy(&x, p + q, 8);
      uint64_t stop = ~x & 0x8080808080808080ull;
      v = detail::pext(x, (stop ^ (stop - 1)) & 0x7f7f7f7f7f7f7f7full);
      q += unsigned(__builtin_ctz(mm)) + 1;
      return true;
    }
    if (!Checked || d->end_ - p >= 8) {
      uint64_t x;
      __builtin_memcpy(&x, p, 8); // little-endian
      uint64_t stop = ~x & 0x8080808080808080ull;
      if (!(x & 0x80)) {
        v = x & 0x7f;
        ++p;
        return true;
      }
      if (__builtin_expect(stop != 0, 1)) {
        p += (unsigned(__builtin_ctzll(stop)) >> 3) + 1;
        x &= stop ^ (stop - 1); // the bytes up to and including the last one
        x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
        x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
        v = ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
        return true;
      }
    }
    sync(); // longer than 8 bytes, near the end of the payload, or an error
    bool ok = d->varint_slow(v);
    p = d->p_;
    return ok;
  };
  auto ad = [&](uint64_t& a) HV_INLINE -> bool {
    uint64_t z;
    if (!vi(z)) return false;
    reg += static_cast<uint64_t>(unzigzag(z));
    a = reg;
    return true;
  };
  auto cs = [&](uint64_t& sz) HV_INLINE -> bool {
    uint64_t v;
    if (!vi(v)) return false;
    if (v >> 60) return sync(), d->fail("chunk size overflows 64 bits");
    sz = v << 4;
    return true;
  };
  auto by = [&](uint8_t& b) HV_INLINE -> bool {
    if (Checked && p >= d->end_) return sync(), d->fail("field runs past the end of the block");
    if constexpr (Bmi2)
      b = p[q++];
    else
      b = *p++;
    return true;
  };
  auto failv_ = [&](const char* what, uint64_t value) { return sync(), d->failv(what, value); };
  // After the fields: the event is complete, the decoder moves past it and the sink sees it
  // with its type known at compile time; true to decode the next one.
  auto done = [&]<Ev T>() HV_INLINE -> bool {
    ep->arena = arena;
    --left;
    if (!sink.template on<T>(*ep)) {
      if constexpr (!Checked && requires(BlockDecoder * &d2, Event * &e2) { sink.resume(d2, e2); }) {
        sync();
        if (!sink.resume(d, ep)) return false;
        p = d->p_; // on with another decoder (resume() checked that it can_run())
        q = 0;
        reg = d->reg_;
        seq = d->seq_;
        ts = d->ts_;
        left = d->left_;
        arena = d->arena_;
        first = d->first_;
        return true;
      }
      return false;
    }
    return !Checked && left != 0 && d->end_ - cur() >= kUncheckedBytes;
  };
  auto cold = [&](auto&& f) -> bool { // variable-length fields: out of line, on the members
    sync();
    bool ok = f();
    p = d->p_;
    q = 0;
    reg = d->reg_;
    return ok;
  };
  // The field codecs of the event table (trace_events.h), each reading into one Event member.
  auto sv = [&](int64_t& v) HV_INLINE -> bool {
    uint64_t z;
    if (!vi(z)) return false;
    v = unzigzag(z);
    return true;
  };
  auto in_range = [&](uint8_t& b, uint8_t lo, uint8_t hi, const char* what) HV_INLINE -> bool {
    if (!by(b)) return false;
    return (b >= lo && b <= hi) || failv_(what, b);
  };
  auto tc = [&](uint8_t& b) HV_INLINE -> bool {
    ep->b0 = static_cast<uint8_t>(BinKind::Tcache);
    return in_range(b, 0, 63, "tcache index out of range");
  };
  auto stk = [&]() HV_INLINE -> bool { // an API event's stack (format version 2 on)
    uint64_t v;
    if (!vi(v)) return false;
    if (v > UINT32_MAX) return failv_("stack id out of range", v);
    ep->stack = static_cast<uint32_t>(v);
    return true;
  };
  auto ix = [&](uint64_t& v) HV_INLINE -> bool {
    if (!vi(v)) return false;
    if (v > UINT32_MAX) return failv_("arena index out of range", v);
    arena = static_cast<uint32_t>(v);
    return true;
  };
  // A known event of the extension range: its varint length, then its fields within that many
  // bytes; bytes after them (fields a later version appended) are skipped.
  auto ext_begin = [&](const uint8_t*& end) HV_INLINE -> bool {
    uint64_t len;
    if (!vi(len)) return false;
    if (len > uint64_t(d->end_ - cur())) return failv_("length runs past the end of the block", len);
    end = cur() + len;
    return true;
  };
  auto ext_end = [&](const uint8_t* end) HV_INLINE -> bool {
    if (cur() > end) return failv_("fields run past the event's length", uint64_t(cur() - end));
    p = end;
    if constexpr (Bmi2) q = 0;
    return true;
  };
#define HV_RD_U(slot) vi(ep->slot)
#define HV_RD_A(slot) ad(ep->slot)
#define HV_RD_C(slot) cs(ep->slot)
#define HV_RD_S(slot) sv(ep->slot)
#define HV_RD_Idx(slot) by(ep->slot)
#define HV_RD_Kind(slot) in_range(ep->slot, 1, kNumBinKinds - 1, "invalid bin kind")
#define HV_RD_How(slot) in_range(ep->slot, 0, 2, "invalid merge kind")
#define HV_RD_Code(slot) in_range(ep->slot, 1, 5, "invalid error code")
#define HV_RD_Tc(slot) tc(ep->slot)
#define HV_RD_Ix(slot) ix(ep->slot)
#define HV_RD_Label(slot) cold([&] { return d->bytes(*ep, 255); })
#define HV_RD_Blob(slot) cold([&] { return d->bytes(*ep, UINT32_MAX); })
#define HV_RD_Snap(slot) cold([&] { return d->snapshot(*ep); })
  for (;;) {
    if constexpr (Bmi2) {
      p += q;
      q = 0;
    }
    const uint8_t* ev = p;
    d->ev_start_ = ev;
    if (Checked && p >= d->end_) return sync(), d->fail("block ends before its last event");
    uint8_t t;
    uint64_t ds, dt;
    if constexpr (Bmi2) { // the type, seq delta and ts delta from one load when they fit in it
      uint64_t x;
      __builtin_memcpy(&x, p, 8);
      m = detail::stops16(p);
      t = uint8_t(x);
      d->cur_type_ = t;
      uint64_t stop = ~x & 0x8080808080808000ull, stop2 = stop & (stop - 1);
      if (__builtin_expect(stop2 != 0, 1)) {
        uint64_t k1 = stop ^ (stop - 1);
        ds = detail::pext(x, k1 & 0x7f7f7f7f7f7f7f00ull);
        dt = detail::pext(x, (stop2 ^ (stop2 - 1)) & ~k1 & 0x7f7f7f7f7f7f7f7full);
        q = (unsigned(__builtin_ctzll(stop2)) >> 3) + 1;
      } else {
        q = 1;
        if (!vi(ds) || !vi(dt)) return false;
      }
    } else {
      t = *p++;
      d->cur_type_ = t;
      if (!vi(ds) || !vi(dt)) return false;
    }
    if (__builtin_expect(ds == 0, 0) && !first) return sync(), d->fail("sequence number does not increase");
    first = false;
    seq += ds;
    ts += dt;
    ep->seq = seq;
    ep->ts = ts;
    ep->offset = d->file_off_ + (uint64_t(ev - d->base_) & d->off_mask_);
    ep->tid = d->tid_;
    ep->type = static_cast<Ev>(t);
    ep->b0 = ep->b1 = 0;
    ep->stack = 0;
    ep->addr = ep->addr2 = ep->size = ep->size2 = ep->n = 0;
    ep->delta = 0;
    ep->data = ep->data_end = nullptr;
    ep->data_reg = 0;
    bool more;
    switch (static_cast<Ev>(t)) {
      // One case per row of the event table: its fields read in order into their slots (for a row
      // of the extension range, within its length).
#define HV_DEC_FIELD(codec, slot, label, prefix) &&HV_RD_##codec(slot)
#define HV_DEC_CASE(Name, name, code, kind, chunks, model, ...)                                              \
  case Ev::Name: {                                                                                           \
    [[maybe_unused]] const uint8_t* ext_end_at = nullptr;                                                    \
    if constexpr (is_extension_code(code)) {                                                                 \
      if (!ext_begin(ext_end_at)) return false;                                                              \
    }                                                                                                        \
    if (!(true HV_EV_FOR_EACH(HV_DEC_FIELD, __VA_ARGS__))) return false;                                     \
    if constexpr (event_info(uint8_t(code)).api) {                                                           \
      if (d->api_stack_ && !stk()) return false;                                                             \
    }                                                                                                        \
    if constexpr (is_extension_code(code)) {                                                                 \
      if (!ext_end(ext_end_at)) return false;                                                                \
    }                                                                                                        \
    more = done.template operator()<Ev::Name>();                                                             \
    break;                                                                                                   \
  }
      HV_TRACE_EVENTS(HV_DEC_CASE)
#undef HV_DEC_CASE
#undef HV_DEC_FIELD
    default:
      if (!is_extension_code(t)) return failv_("unknown event type", t);
      // An extension event this reader does not know: its length-prefixed payload is skipped.
      if (!HV_RD_Blob(data)) return false;
      ep->b0 = t;
      ep->type = Ev::Unknown;
      more = done.template operator()<Ev::Unknown>();
      break;
    }
    if (!more) break;
  }
  sync();
  return true;
}
#undef HV_RD_U
#undef HV_RD_A
#undef HV_RD_C
#undef HV_RD_S
#undef HV_RD_Idx
#undef HV_RD_Kind
#undef HV_RD_How
#undef HV_RD_Code
#undef HV_RD_Tc
#undef HV_RD_Ix
#undef HV_RD_Label
#undef HV_RD_Blob
#undef HV_RD_Snap
#undef HV_INLINE

} // namespace hv::trace
