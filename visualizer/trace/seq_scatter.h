// seq_scatter.h - the threads' merge without comparisons: every event goes to the slot of a ring
// that its sequence number names, decoded ahead (on a worker thread, or inline) while the caller
// applies the slots in order.
//
// Sequence numbers of unclocked blocks are one counter per process (a clocked block, a threaded
// process's clocks, is not scattered: usable() is false), so in a sound trace the events numbered
// [S0, S0 + n) are each present once: the merge EventStream does with a comparison per thread
// switch (a mispredicted branch each time the thread changes) is here a scatter. The decoder
// works in rounds: round k decodes every thread's events numbered below X = S0 + k x round into
// the ring's slots (the one numbered seq in slot (seq - S0) mod capacity), then publishes
// "complete below X". A thread that is idle keeps
// its next event as a pending head until a round reaches its number.
//
// Owns: the ring of Slots (32 bytes; the field some types add in ext_, a word per slot; mark,
// stack and snapshot events whole in a side ring), the
// worker, the stream positions saved at round ends (EventStream::Position, so that the caller's
// checkpoints restore into an ordinary EventStream), and the pack/unpack of Events.
// Irregular input is not handled here: a decode error, a sequence number out of order or
// repeated, or a zstd block stops the scatter at the start of that round (everything before it
// is exactly what EventStream would emit first); a gap is a number whose slot's tag is not its
// own (take() fails).
// Either way the caller goes on with EventStream from a checkpoint, which reports it.
// Must not: know about the heap model.
#pragma once

#include "trace/event_stream.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace hv::trace {

// An event in 32 bytes: every slot crosses from the decoding core to the replaying one, and
// half a line an event instead of a whole one lets the worker decode about a third faster while
// a reader takes the slots (a busy host: 32 -> 44 M events/s). seq is known to the reader (it
// asks for it) and kept only as a check; ts and offset are deltas from the round's first event; the thread is
// an index. f2, the one of addr2, size2, n and delta that a type uses (each type uses at most
// one), goes in ext_ at the slot's index (kSlotExt: realloc, split, merge, ...). An event with a
// value that does not fit (an address or size of 2^48 or more, an arena of 2^16 or more, a ts
// or offset more than 2^31 from the round's first) and every mark, stack and snapshot is kept
// whole in the side ring (kFull). An API event's stack goes in ext_ when the type has no f2
// (malloc, free, free_tcache: most calls); calloc, realloc and memalign with a stack go whole.
struct alignas(32) Slot {
  uint32_t tag; // the low 32 bits of seq; ~ that when taken, or for a gap (never equal)
  Ev type;
  uint8_t b0, b1, flags;
  int32_t dts, doff;
  uint64_t addr_thread; // addr | thread index (into TraceFile::threads()) << 48
  uint64_t f1_arena;    // f1 (the size field) | arena << 48
};
static_assert(sizeof(Slot) == 32);
inline constexpr uint8_t kSlotFull = 1, kSlotExt = 2;
inline constexpr uint64_t kLow48 = (uint64_t(1) << 48) - 1;

// Which of Event's fields a type's f2 stands for (a mask of all ones or zero per type), from the
// event table's `second` slot; variable-length events and unknown extension events go whole.
struct PackMasks {
  uint64_t addr2[256], size2[256], n[256], delta[256];
  bool full[256], f2[256], stack_ext[256];
  constexpr PackMasks() : addr2{}, size2{}, n{}, delta{}, full{}, f2{}, stack_ext{} {
    for (int t = 0; t < 256; ++t) {
      const EventInfo& i = event_info(uint8_t(t));
      full[t] = i.variable || t == uint8_t(Ev::Unknown);
      stack_ext[t] = i.api && i.second == FieldSlot::data;
      uint64_t* m = i.second == FieldSlot::addr2   ? addr2
                    : i.second == FieldSlot::size2 ? size2
                    : i.second == FieldSlot::n     ? n
                    : i.second == FieldSlot::delta ? delta
                                                   : nullptr;
      if (m && !full[t]) {
        m[t] = ~uint64_t(0);
        f2[t] = true;
      }
    }
  }
};
inline constexpr PackMasks kPackMasks{};

// Each field is read with a load of its own width: the decoder has just stored them one by one,
// and a wider load over several stores cannot be forwarded from the store buffer (it waits until
// every older store is written, ring stores still missing in the cache included). Relaxed atomic
// loads keep the compiler from merging them.
template <class T> inline T field(const T& f) {
  return __atomic_load_n(&f, __ATOMIC_RELAXED);
}

// The deltas and bases of one round of the ring.
struct RoundBase {
  uint64_t ts = 0, offset = 0;
};

// Packs e into slot p (and its f2 into *ext if it needs kSlotExt); false if e must go whole to
// the side ring (the caller then writes p's tag and flags = kSlotFull).
inline bool pack(const Event& e, Slot* p, uint64_t* ext, const RoundBase& base, uint32_t thread) {
  Ev t = static_cast<Ev>(field(reinterpret_cast<const uint8_t&>(e.type)));
  uint8_t ti = uint8_t(t);
  uint64_t addr = field(e.addr), f1 = field(e.size), arena = field(e.arena);
  uint64_t dts = field(e.ts) - base.ts, doff = field(e.offset) - base.offset;
  // Both deltas within [-2^31, 2^31): adding 2^31 leaves them below 2^32.
  uint32_t stack = field(e.stack);
  bool fits = !kPackMasks.full[ti] && (stack == 0 || kPackMasks.stack_ext[ti]) && ((addr | f1) >> 48) == 0 &&
              ((arena | thread) >> 16) == 0 && ((dts + 0x80000000u) | (doff + 0x80000000u)) >> 32 == 0;
  if (__builtin_expect(!fits, 0)) return false;
  p->type = t;
  p->b0 = field(e.b0);
  p->b1 = field(e.b1);
  p->dts = int32_t(uint32_t(dts));
  p->doff = int32_t(uint32_t(doff));
  p->addr_thread = addr | uint64_t(thread) << 48;
  p->f1_arena = f1 | arena << 48;
  if (!kPackMasks.f2[ti]) {
    p->flags = 0;
    if (stack) {
      p->flags = kSlotExt;
      *ext = stack;
    }
    return true;
  }
  p->flags = kSlotExt;
  *ext = field(e.addr2) | field(e.size2) | field(e.n) | uint64_t(field(e.delta));
  return true;
}

// The Event pack() was given (a slot that is not kSlotFull; seq is the event's).
inline void unpack(const Slot* p, uint64_t ext, uint64_t seq, const RoundBase& base, const uint32_t* tids,
                   Event& e) {
  uint8_t t = uint8_t(p->type);
  e.seq = seq;
  e.ts = base.ts + uint64_t(int64_t(p->dts));
  e.offset = base.offset + uint64_t(int64_t(p->doff));
  e.tid = tids[p->addr_thread >> 48];
  e.arena = uint32_t(p->f1_arena >> 48);
  e.type = p->type;
  e.b0 = p->b0;
  e.b1 = p->b1;
  e.stack = kPackMasks.stack_ext[t] && (p->flags & kSlotExt) ? uint32_t(ext) : 0;
  e.addr = p->addr_thread & kLow48;
  e.size = p->f1_arena & kLow48;
  uint64_t f2 = ext;
  e.addr2 = f2 & kPackMasks.addr2[t];
  e.size2 = f2 & kPackMasks.size2[t];
  e.n = f2 & kPackMasks.n[t];
  e.delta = int64_t(f2 & kPackMasks.delta[t]);
  e.data = e.data_end = nullptr;
  e.data_reg = 0;
}

class SeqScatter {
public:
  static constexpr uint32_t kRound = 8192;     // events per round (at most; tests take fewer)
  static constexpr uint32_t kRoundsInRing = 4; // the ring holds this many rounds

  // Whether the file can take this path: every block raw (zstd blocks are decompressed into a
  // buffer per thread that the next block overwrites, and mark/stack/snapshot events point into
  // it), and at least one block.
  static bool usable(const TraceFile& file);

  // threaded: decode on a worker thread; otherwise wait() decodes the next round inline.
  // round: events per round, a power of two up to kRound (small ones test the ring's wrap).
  SeqScatter(const TraceFile& file, bool threaded, uint32_t round = kRound);
  ~SeqScatter(); // stops the worker and joins it
  SeqScatter(const SeqScatter&) = delete;
  SeqScatter& operator=(const SeqScatter&) = delete;

  // The first event's seq (valid once wait() returned something).
  uint64_t first_seq() const { return s0_; }
  // Blocks until the events numbered [have, R) are in the ring for some R > have, and returns R;
  // returns have when nothing more will come (the end, or a stop: see clean_end()). have is the
  // caller's position: slots below it may be reused.
  uint64_t wait(uint64_t have);
  // After wait() returned have: whether every event of the file was decoded (false: the scatter
  // stopped at an irregularity, and the caller goes on with EventStream).
  bool clean_end() const { return status_.load(std::memory_order_acquire) == kDone; }
  // Takes the event numbered seq (< what wait() returned) into e: false if it is not in the
  // ring (a gap). The slot (and an ext_ word read) is then written, marked taken: a line that
  // this core only read comes back to the worker shared, and taking it back is much slower than
  // a line this core wrote (modified); marking the slots made the worker 2x faster.
  bool take(uint64_t seq, Event& e) {
    uint64_t i = (seq - s0_) & (capacity_ - 1);
    Slot* p = &ring_[i];
    if (__builtin_expect(p->tag != uint32_t(seq), 0)) return false;
    if (__builtin_expect(p->flags & kSlotFull, 0)) {
      e = side_[i];
    } else {
      uint64_t f2 = 0;
      if (__builtin_expect(p->flags & kSlotExt, 0)) {
        f2 = ext_[i];
        ext_[i] = 0;
      }
      unpack(p, f2, seq, base_[((seq - s0_) >> round_shift_) & (kRoundsInRing - 1)], file_.threads().data(),
             e);
    }
    p->tag = ~uint32_t(seq);
    return true;
  }

  // The chunk address the model looks up first for the event numbered seq (< what wait()
  // returned; the user pointer - 16 for an API call), to prefetch its record; for events
  // without a chunk (or not in the ring), some number.
  uint64_t chunk_key(uint64_t seq) const {
    const Slot& p = ring_[(seq - s0_) & (capacity_ - 1)];
    return (p.addr_thread & kLow48) - (is_api_event(p.type) ? 16 : 0);
  }

  // Asks for a stream position at the first round end at or after seq (one at a time).
  void want_position(uint64_t seq) { want_pos_.store(seq, std::memory_order_release); }
  // The position saved at round end x (all events numbered below x emitted, none after), if
  // there is one: its threads' part (cur = -1; the caller fills emitted, last_seq and gaps).
  bool position_at(uint64_t x, EventStream::Position& out) const;

private:
  enum : int { kRunning = 0, kDone = 1, kStopped = 2 };
  struct Thread {
    std::vector<uint32_t> blocks; // indices into file_.blocks()
    uint32_t k = 0;
    BlockDecoder dec;
    Event head{};
    bool has_head = false; // head is decoded and not yet in the ring
    uint64_t last = 0;     // seq of its last event in the ring (if any)
    bool any = false;      // an event of it is in the ring
    bool done = false;     // no event left
  };
  struct Saved {
    std::atomic<uint64_t> x{0}; // round end; 0: none yet
    std::vector<EventStream::Position::Thread> threads;
  };
  bool setup(); // loads every thread's first event; false on an irregularity
  bool round(); // decodes the next round; false when the status is no longer running
  // Thread index's events below x_ into the ring (deltas from base); false on an irregularity.
  bool fill(uint32_t index, const RoundBase& base);
  bool load_block(Thread& t, uint32_t k);
  void release_behind();
  uint64_t file_released_ = 0; // the file's pages before this offset were released (worker's)
  static constexpr uint64_t kKeepBehind = 8u << 20, kReleaseStep = 16u << 20;
  bool next_block(Thread& t);
  bool next_event(Thread& t); // the next event into t.head (has_head = false at the end)
  void save_position();
  void publish(uint64_t ready, int status);
  void work();

  // Read by both sides, written only before the worker starts.
  const TraceFile& file_;
  // The event numbered seq is in ring_[(seq - s0_) & (capacity_ - 1)], or that slot's tag is
  // not seq's (a gap: the worker marks a round's missing numbers before it publishes the round).
  // The replay reads the slots in order, so the hardware fetches the lines ahead of it; the
  // worker writes each thread's events in order, a stream per thread. Appending the events in
  // decode order instead, with an index from seq to slot, made the replay's reads jump between
  // the threads' parts: the whole pass was 7-11% slower.
  std::unique_ptr<Slot[]> ring_;
  std::unique_ptr<uint64_t[]> ext_; // kSlotExt events' f2, at their slot's index
  std::unique_ptr<Event[]> side_;   // kSlotFull events, at their slot's index
  uint64_t s0_ = 0;                 // the first seq
  bool threaded_ = false;
  uint32_t round_ = kRound, round_shift_ = 13;           // round_ = 1 << round_shift_
  uint64_t capacity_ = uint64_t(kRound) * kRoundsInRing; // events: round_ x kRoundsInRing
  // Written by the worker before it publishes the round (the caller is past that part).
  RoundBase base_[kRoundsInRing];
  // The worker's own (a line apart from what the caller reads: seen_ is written per event).
  alignas(128) std::vector<Thread> threads_;
  uint64_t x_ = 0;             // the end of the round being decoded
  uint64_t done_threads_ = 0;  // threads with no events left
  uint64_t seen_[kRound / 64]; // a bit per event of the round being decoded (repeats)
  // Written by the worker.
  alignas(128) std::atomic<uint64_t> ready_{0}; // events numbered below this are in the ring
  std::atomic<int> status_{kRunning};
  // Bumped at every publish() / wait() (and by the destructor): what the other side sleeps on
  // after spinning a while.
  std::atomic<uint32_t> pub_epoch_{0};
  alignas(128) Saved saved_; // one at a time: the caller asks for the next after it used this one
  // Written by the caller.
  alignas(128) std::atomic<uint64_t> released_{0}; // the caller is past this
  std::atomic<uint32_t> rel_epoch_{0};
  std::atomic<uint64_t> want_pos_{UINT64_MAX};
  std::atomic<bool> stop_{false};
  alignas(128) std::thread worker_;
};

} // namespace hv::trace
