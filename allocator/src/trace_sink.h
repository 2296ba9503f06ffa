// trace_sink.h - where the allocator's events go: per-thread block buffers written to one file.
//
// Owns: the trace file descriptor, the events' order (sequence numbers: one counter while the
// process is single-threaded, clocks per arena and per address region once it is not; see
// "Order" below), timestamps, per-thread buffers (mmapped, never malloc'ed), flushing (buffer
// full, thread exit, process exit, fatal error), and what happens when the file cannot take a
// block (tracing stops with one line on stderr). The allocator writes events only through the hooks
// (trace_hooks.h: their contract; docs/trace-format.md lists what each event means), whose one branch is
// `on`. Must not: call malloc or anything that may, take a lock on the event path (the one lock here is taken
// once per finished block, around its write(2)), change errno, or throw.
#pragma once

#include "arena.h"
#include "heapviz/trace_encoder.h"

#include <cstdint>
#include <ctime>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

namespace hv::alloc {

// One thread's trace buffer: a block being filled. Lives in its own mapping.
struct TraceThread {
  static constexpr size_t kBlockBytes = 64 * 1024; // payload capacity of one block
  trace::BlockEncoder enc;
  uint32_t tid = 0;
  uint32_t arena = 0; // arena index of the events being written
  // The policy's key for that arena (trace_hooks.h: TraceWriter::arena_index's per-thread cache).
  const void* arena_ptr = nullptr;
  uint64_t call_ts = 0;         // timestamp shared by the events of the current API call
  uint32_t stamp_count = 0;     // calls since the clock was last read (TraceSink::stamp)
  uint32_t stamp_every = 1;     // read the clock on every stamp_every-th call
  uint32_t stamp_fast = 0;      // fast calls in a row at this interval (TraceSink::read_clock)
  uint64_t stamp_ns = 0;        // the last reading
  uint64_t clock = 0;           // the order number of this thread's last event (threaded: OrderClock)
  uint64_t threaded_events = 0; // events this thread wrote while the process was threaded
  // A free() not yet written: if its chunk goes straight into the tcache, one FreeTcache event
  // says both; otherwise the next event of this thread writes the Free first.
  bool free_pending = false;
  bool in_free = false; // the current API call is a free (its event comes before an error in it)
  // 1 + the tcache bin the pending free's chunk went into (0: none yet): free_end writes the
  // two as one FreeTcache event, so that free's tcache path calls out to no event writer.
  uint8_t pending_tcache = 0;
  uint64_t pending_ptr = 0;
  void* zstd = nullptr;      // compression workspace (HEAPVIZ_COMPRESS), mmapped on first use
  bool salvage_file = false; // this TraceThread lies in a file of HEAPVIZ_SALVAGE (salvage.h)
  size_t zstd_size = 0;
  // Call stacks (stack_capture.cpp): this thread's stack-tree cache, mmapped on first use, and
  // whether the thread is taking a stack now (an allocation made meanwhile gets none).
  void* stacks = nullptr;
  size_t stacks_size = 0;
  bool in_stack = false;
  // The stacks this thread's calls came with most recently, checked inline on every call before
  // the stack function is called (TraceWriter::take_stack; stack_capture.cpp fills them): the
  // program's frame the entry point named (Caller), the words the walk read from there on, with
  // what they held, and the node they gave in stack epoch `epoch` (0: empty).
  static constexpr uint32_t kMemos = 4, kMemoWords = 6;
  struct StackMemo {
    uintptr_t ra, cfa;
    uint32_t epoch, stack, nwords;
    struct {
      uintptr_t addr, value;
    } words[kMemoWords];
  };
  StackMemo memo[kMemos] = {};
  uint32_t memo_next = 0;
  // Calls made while another traced call of this thread was under way: a signal handler's
  // malloc or free that interrupted it. The policy serves them without touching the heap and
  // notes them here (an allocation made, a free put off), in order; when the interrupted call
  // ends, their events are written after its own and the frees are done (trace_hooks.h,
  // "Calls from a signal handler"). in_call: a traced call is under way (TraceWriter::call_begin
  // sets it, TraceHooks::call_end clears it).
  struct NestedCall {
    trace::Ev what; // Malloc, Calloc (a, b: its two arguments) or Free
    uint64_t a, b;
    void* ptr; // the block made, or the one to free
  };
  static constexpr uint32_t kNestedCalls = 16;
  bool in_call = false;
  uint32_t nested_n = 0;
  NestedCall nested[kNestedCalls];
  TraceThread* next = nullptr; // all buffers, for the final flush
  uint8_t buf[sizeof(trace::BlockHeader) + kBlockBytes + 64];
};

// ---- Order (docs/trace-format.md, "Order of events") ------------------------------------------
// A single-threaded process numbers its events with one counter (seq_): contiguous, 1, 2, 3...
// A threaded one must not: a counter every thread increments is one cache line bouncing between
// the cores at every event (issue 20: recording with 2 threads cost more than with one). There,
// an event's number is a hybrid logical clock, taken from the thread's own last number, the
// call's time stamp (ns), and the clock of what the event depends on (an OrderClock, a cache
// line of its own):
//   - Arena: the events that change an arena's bins, chunks, top or heaps (taken under its lock,
//     or the fastbin push just before its lock-free CAS) tick the arena's clock;
//   - Address: an API event (malloc's result, free's pointer, realloc's two) ticks the clock of
//     the 64 MiB address region of its pointer: a block malloc'ed in one thread and freed in
//     another is ordered through it (the program's own synchronisation puts the free after the
//     malloc, and both read-modify-write that clock);
//   - System: mappings and the program break (heap_new/free, sbrk, mmap, munmap, mmapped chunks)
//     also tick one process-wide clock, since an address unmapped by one arena may be mapped by
//     another; these are system calls, whose cost dwarfs one shared line;
//   - All: snapshots and error reports come after everything before them (every clock);
//   - Thread: marks, stacks and modules follow their own thread only.
// Number = max(thread's last + 1, stamp, clock + 1): every clock only grows, so each event's
// number is above those of the events it depends on, and merging the threads by number (ties
// by thread) is an order replay can rebuild the heap in exactly. A thread that stays in its
// own arena touches only lines of its own. The numbers are not contiguous (a jump in them is
// no lost event there): blocks holding such numbers carry kBlockClocked.
enum class OrderBy : uint8_t { Thread, Arena, System, Address, All };
constexpr OrderBy order_by(trace::Ev e) {
  using trace::Ev;
  switch (e) {
  case Ev::Malloc:
  case Ev::Calloc:
  case Ev::Realloc:
  case Ev::Memalign:
  case Ev::Free:
  case Ev::FreeTcache:
    return OrderBy::Address;
  case Ev::HeapNew:
  case Ev::HeapFree:
  case Ev::Sbrk:
  case Ev::Mmap:
  case Ev::Munmap:
  case Ev::MmapChunk:
  case Ev::MunmapChunk:
    return OrderBy::System;
  case Ev::Snapshot:
  case Ev::BinLists:
  case Ev::Error:
  case Ev::ErrorReport:
    return OrderBy::All;
  case Ev::Mark:
  case Ev::Stack:
  case Ev::Module:
  case Ev::Arena:
    return OrderBy::Thread;
  default:
    return OrderBy::Arena;
  }
}
// One clock: the number of the last event that ticked it. A cache line each.
struct OrderClock {
  uint64_t n;
  uint64_t pad[7];
};

class TraceSink {
public:
  // Clocks: [0] the system's, then one per arena index (modulo kArenaClocks), then one per
  // 64 MiB address region (hashed into kRegionClocks). Sharing a clock only adds order.
  static constexpr uint32_t kArenaClocks = 256, kRegionClocks = 256;
  static constexpr uint32_t kClocks = 1 + kArenaClocks + kRegionClocks;

  bool on = false; // the one branch every hook takes when tracing is off

  // Opens `path` (O_EXCL when `exclusive`, else truncating) and writes the file header.
  // Returns false (and leaves tracing off, errno saying why) if the file cannot be created or
  // the header cannot be written; an exclusively created file is then removed again. A path
  // that is no regular file is opened as it is: a character device (/dev/null, /dev/full) by
  // any number of processes, anything else (a FIFO) by one process at a time: it is claimed
  // with flock(2), and a second claimant gets EEXIST.
  bool open(const char* path, bool exclusive, const char* policy, const uint64_t params[trace::kNumParams],
            uint64_t heap_base, uint32_t flags, uint32_t page_size);
  // Stops tracing: flushes every buffer and closes the file.
  void close();
  // Live mode (docs/live.md): finished blocks go to fn (the live thread's ring) instead of a
  // file. No file header is written; the live thread sends one to each viewer (make_header).
  using BlockFn = void (*)(void* ctx, const void* data, size_t n);
  void open_stream(BlockFn fn, void* ctx);
  // Stops a stream: drops every buffer's unsent events.
  void close_stream();
  bool streaming() const { return stream_fn_ != nullptr; }
  // Builds the file header (with this process's pid and command line) into out, which must hold
  // kHeaderMax bytes; returns its size.
  static constexpr size_t kHeaderMax = sizeof(trace::FileHeader) + 4096 + 8;
  size_t make_header(uint8_t* out, const char* policy, const uint64_t params[trace::kNumParams],
                     uint64_t heap_base, uint32_t flags, uint32_t page_size);
  // While set, flush() hands finished blocks to fn instead of writing them (the live thread,
  // with every other thread stopped at the gate, flushes their buffers straight to viewers).
  void set_block_fn(BlockFn fn, void* ctx) {
    block_fn_ = fn;
    block_ctx_ = ctx;
  }
  int fd() const { return fd_; }

  // The calling thread's buffer, created on first use (nullptr if out of memory).
  TraceThread* thread_buf(ThreadState& ts);
  // Starts an event of at most `max_bytes` encoded bytes in the current thread's buffer,
  // flushing it first if full. Sets the seq and the call's timestamp. key, key2: the pointers
  // that order an API event (OrderBy::Address; 0: none).
  __attribute__((always_inline)) TraceThread* begin(ThreadState& ts, trace::Ev type, uint32_t arena_index,
                                                    size_t max_bytes = 48, uint64_t key = 0,
                                                    uint64_t key2 = 0) {
    TraceThread* t = ts.trace;
    if (__builtin_expect(t == nullptr, 0) && !(t = thread_buf(ts))) return nullptr;
    if (__builtin_expect(!t->enc.fits(max_bytes + 32) || write_through_, 0)) flush(t);
    if (__builtin_expect(arena_index != t->arena, 0)) {
      if (!t->enc.empty()) {
        uint64_t seq = take_seq(t, OrderBy::Thread, 0);
        t->enc.begin_event(trace::Ev::Arena, seq, t->call_ts, t->tid, t->arena);
        t->enc.usize(arena_index);
      }
      t->arena = arena_index;
    }
    if (__builtin_expect(t->free_pending, 0)) write_pending_free(t);
    uint64_t seq = take_seq(t, order_by(type), arena_index, key, key2);
    t->enc.begin_event(type, seq, t->call_ts, t->tid, arena_index);
    return t;
  }
  // Timestamps a new API call (its chunk events share the stamp). Reading the clock costs more
  // than recording an event (rdtsc: ~16 ns here, ~60 cycles with what it holds up), so a thread
  // that calls fast reads it on every stamp_every-th call only and reuses the last reading in
  // between. stamp_every adapts at each reading: once kFastRun calls per step in a row have come
  // faster than kFastCallNs apart on average (since the interval last changed), it doubles (up
  // to kStampMax); a reading after calls that came slower sets it back to 1, so a thread that
  // calls now and then stamps every call with its own time. (Doubling on one fast pair instead
  // stamped a free made 3 ms after its malloc, right after the malloc before it, with that
  // malloc's time.) What it costs: after a run of at least kFastRun fast calls and a pause, up
  // to stamp_every - 1 (at most kStampMax - 1) calls may carry the time of the run's last
  // reading. HEAPVIZ_PRECISE_TIME=1 reads the clock on every call. A reused
  // reading is never older than the events this one follows on a clock (tick), so time does not
  // run backwards in seq order between dependent events.
  static constexpr uint32_t kStampMax = 32;
  static constexpr uint64_t kFastCallNs = 1000;
  static constexpr uint32_t kFastRun = 8;         // fast calls per reading interval before it doubles
  static constexpr uint32_t kStampNow = 1u << 30; // stamp_count forcing a reading (a new block)
  void stamp(ThreadState& ts) {
    TraceThread* t = ts.trace;
    if (__builtin_expect(t == nullptr, 0) && !(t = thread_buf(ts))) return;
    if (precise_time_ || ++t->stamp_count >= t->stamp_every) read_clock(t);
  }
  // A time of its own for events outside an API call (a mark, a baseline, a snapshot, a thread's
  // exit, malloc_trim): always a fresh reading, and the pace of the thread's calls is left as it
  // was. These come after a pause as often as not (a mark after a barrier): the reading a fast
  // thread reuses was up to kStampMax calls and any pause old, and it set a mark's place among
  // the other threads' events (Order: the stamp is a lower bound of the number).
  void stamp_now(ThreadState& ts) {
    TraceThread* t = ts.trace;
    if (__builtin_expect(t == nullptr, 0) && !(t = thread_buf(ts))) return;
    const uint32_t calls = t->stamp_count;
    t->stamp_count = kStampNow; // (no pace is learnt from this reading)
    const uint64_t last = t->stamp_ns;
    read_clock(t);
    t->stamp_count = calls; // the calls' own count and reading go on as before
    t->stamp_ns = last;
  }
  __attribute__((always_inline)) void read_clock(TraceThread* t) {
    const uint64_t now = now_ns();
    const uint32_t calls = t->stamp_count;
    if (calls < kStampNow) {
      if (now - t->stamp_ns < uint64_t(calls) * kFastCallNs) { // fast since the last reading
        t->stamp_fast += calls;
        if (t->stamp_fast >= kFastRun * t->stamp_every && t->stamp_every < kStampMax) {
          t->stamp_every *= 2;
          t->stamp_fast = 0;
        }
      } else {
        t->stamp_every = 1;
        t->stamp_fast = 0;
      }
    }
    t->stamp_count = 0;
    t->stamp_ns = now;
    if (now > t->call_ts) t->call_ts = now; // never back: it may have taken a later thread's
  }
  void set_precise_time(bool p) { precise_time_ = p; }
  // The call about to change ptr's chunk (realloc: its changes come before its API event) is
  // ordered after the events that handed ptr to this thread: its address clock ticks now.
  void order_after(ThreadState& ts, uint64_t ptr) {
    if (single_) return;
    TraceThread* t = ts.trace;
    if (__builtin_expect(t == nullptr, 0) && !(t = thread_buf(ts))) return;
    uint64_t n = t->clock + 1;
    if (t->call_ts > n) n = t->call_ts;
    if (seq_ > n) n = seq_;
    t->clock = tick(t, region_clock(ptr), n);
  }
  // Writes the thread's pending Free (see TraceThread::free_pending), if any.
  void finish_free(ThreadState& ts) {
    TraceThread* t = ts.trace;
    if (!t || !t->free_pending) return;
    if (!t->enc.fits(48) || write_through_) flush(t);
    write_pending_free(t);
  }
  void write_pending_free(TraceThread* t) {
    t->free_pending = false;
    uint64_t seq = take_seq(t, OrderBy::Address, t->arena, t->pending_ptr);
    if (t->pending_tcache) { // (free_end writes it; another event of the free comes first)
      t->enc.begin_event(trace::Ev::FreeTcache, seq, t->call_ts, t->tid, t->arena);
      trace::put_free_tcache(t->enc, t->pending_ptr, uint8_t(t->pending_tcache - 1));
      t->pending_tcache = 0;
      return;
    }
    t->enc.begin_event(trace::Ev::Free, seq, t->call_ts, t->tid, t->arena);
    trace::put_free(t->enc, t->pending_ptr);
  }
  // zstd level for blocks (0 = off); a block is stored compressed only when that is smaller.
  void set_compression(int level) { zstd_level_ = level; }
  int compression() const { return zstd_level_; }
  void flush(TraceThread* t);
  // Best effort: other threads' buffers are read without a lock. interrupted: from a signal
  // handler that may have stopped an event half-written (in this thread or another): each block
  // ends with the last whole event (BlockEncoder::cut_to_whole).
  void flush_all(bool interrupted = false);
  // The process is ending (a fatal signal, _exit, exit, exec) while other threads may still be
  // writing their buffers: flushing those races with them (a torn or doubled event). A buffer in
  // a salvage file (salvage.h) other than the calling thread's (self) is left for `heapviz record`,
  // which reads it once the process is gone; the others are flushed as flush_all does.
  void flush_ending(bool interrupted, const TraceThread* self);
  void release(ThreadState& ts); // thread exit: flush and unmap the buffer
  // Drops inherited buffers (the parent flushes its own copies); ts: the forking thread's state.
  void after_fork_child(ThreadState* ts);
  // Called per event; stores only on a change so threads do not keep writing a shared line.
  // Back to one thread (glibc's flag set again: the live server does so after starting its
  // thread, and that thread may have written events meanwhile), the counter goes on above every
  // number the clocks gave out, and every thread reads the clock again: threads that exited may
  // have written numbers and times later than ours.
  void set_single_threaded(bool s) {
    if (__builtin_expect(single_ != s, 0)) {
      if (s) back_to_one_counter();
      single_ = s;
    }
  }
  void set_write_through(bool w) { write_through_ = w; }
  // Events written so far (HEAPVIZ_BREAK_AT and HEAPVIZ_VERIFY count them; sims report them):
  // while single-threaded, exactly the last sequence number; once threaded, the sum of every
  // thread's count (this takes the buffers' lock: not for the event path).
  uint64_t events_written();
  // Call stacks: node numbers are unique in a process (they never restart); the epoch changes
  // whenever a trace or a viewer's stream starts, and every thread's stack cache and the module
  // list then start over, so that each trace defines the nodes and modules it uses.
  uint32_t take_stack_ids(uint32_t n) { return __atomic_fetch_add(&next_stack_id_, n, __ATOMIC_RELAXED); }
  uint32_t stack_epoch() const { return __atomic_load_n(&stack_epoch_, __ATOMIC_ACQUIRE); }
  void new_stack_epoch() { __atomic_add_fetch(&stack_epoch_, 1, __ATOMIC_ACQ_REL); }
  uint64_t now_ns() {
    if (__builtin_expect(mult_ == 0, 0)) return slow_now_ns();
    uint64_t d = __rdtsc() - tsc0_;
    return mono0_ + static_cast<uint64_t>((static_cast<unsigned __int128>(d) * mult_) >> 32);
  }

private:
  uint64_t slow_now_ns();
  bool compress_and_write(TraceThread* t);
  // The next sequence number for thread t (see "Order" above). While single-threaded: seq_++.
  // Threaded: the clocks the event depends on tick, each by one compare-and-swap on a line that
  // a thread working in its own arena has to itself.
  __attribute__((always_inline)) uint64_t take_seq(TraceThread* t, OrderBy by, uint32_t arena_index,
                                                   uint64_t key = 0, uint64_t key2 = 0) {
    if (__builtin_expect(single_, 1)) return seq_++;
    return take_threaded(t, by, arena_index, key, key2);
  }
  uint64_t take_threaded(TraceThread* t, OrderBy by, uint32_t arena_index, uint64_t key, uint64_t key2) {
    uint64_t n = t->clock + 1;
    if (t->call_ts > n) n = t->call_ts;
    if (seq_ > n) n = seq_; // above every number of the single-threaded start
    switch (by) {
    case OrderBy::Thread:
      break;
    case OrderBy::Arena:
      n = tick(t, arena_clock(arena_index), n);
      break;
    case OrderBy::System:
      n = tick(t, clock_at(0), n);
      n = tick(t, arena_clock(arena_index), n);
      raise(clock_at(0), n);
      break;
    case OrderBy::Address:
      if (key) n = tick(t, region_clock(key), n);
      if (key2) {
        uint64_t m = tick(t, region_clock(key2), n);
        if (m > n && key) raise(region_clock(key), m);
        n = m;
      }
      break;
    case OrderBy::All:
      n = tick_all(t, n);
      break;
    }
    t->clock = n;
    ++t->threaded_events;
    t->enc.set_clocked();
    return n;
  }
  OrderClock* clock_at(uint32_t i) {
    auto base = (reinterpret_cast<uintptr_t>(clock_words_) + 63) & ~uintptr_t(63);
    return reinterpret_cast<OrderClock*>(base) + i;
  }
  OrderClock* arena_clock(uint32_t arena_index) { return clock_at(1 + arena_index % kArenaClocks); }
  OrderClock* region_clock(uint64_t addr) {
    uint64_t r = addr >> 26; // 64 MiB: a non-main arena's heap, or a slice of the main heap
    return clock_at(1 + kArenaClocks + static_cast<uint32_t>((r ^ (r >> 8)) % kRegionClocks));
  }
  // Ticks clock c for an event that may be numbered n at the earliest: returns its number, n
  // or past the clock. When the clock was ahead (another thread's event came last on it), this
  // event also takes that number as its time: a number is never below its event's time (both
  // are ns of the same clock), so time does not run back from that event to this one, whatever
  // preempted this thread since its stamp. (A time published beside the number, read before or
  // after the compare-and-swap, could be another event's than the one that set `old`: measured
  // 3.2 and 3.7 ms back under load.)
  uint64_t tick(TraceThread* t, OrderClock* c, uint64_t n) {
    uint64_t old = __atomic_load_n(&c->n, __ATOMIC_RELAXED), want;
    do {
      want = old >= n ? old + 1 : n;
    } while (!__atomic_compare_exchange_n(&c->n, &old, want, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    if (old >= n) t->call_ts = old; // (old >= n >= call_ts)
    return want;
  }
  // Raises clock c to n (another clock of the same event numbered it n).
  static void raise(OrderClock* c, uint64_t n) {
    uint64_t old = __atomic_load_n(&c->n, __ATOMIC_RELAXED);
    while (old < n &&
           !__atomic_compare_exchange_n(&c->n, &old, n, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
  }
  uint64_t tick_all(TraceThread* t, uint64_t n);
  void calibrate();
  void back_to_one_counter(); // see set_single_threaded

  void write_out(const void* data, size_t n);
  void write_block(const void* data, size_t n);
  void stop_after_failed_write(int err);

  int fd_ = -1;
  BlockFn stream_fn_ = nullptr; // live mode
  void* stream_ctx_ = nullptr;
  BlockFn block_fn_ = nullptr; // overrides both, while set
  void* block_ctx_ = nullptr;
  // The single-threaded counter (read-only once threaded: every thread reads it, none writes it).
  alignas(64) uint64_t seq_ = 1;
  uint64_t seq_skipped_ = 0; // numbers the counter skipped going back to one thread (not events)
  bool single_ = true;
  bool write_through_ = false;
  bool precise_time_ = false;
  int zstd_level_ = 0;
  TraceThread* all_ = nullptr;
  int all_lock_ = 0;
  // TSC -> CLOCK_MONOTONIC ns: ns = mono0 + ((tsc - tsc0) * mult >> 32)
  uint64_t tsc0_ = 0, mono0_ = 0, mult_ = 0;

  // The file's state, touched once per block: after the fields every event reads, and at least
  // a cache line away from them (padding rather than alignas, which would raise MallocCore's
  // alignment), so that blocks being written do not slow the event path. write_lock_
  // serialises the write(2)s of finished blocks, so that a block whose write comes back short
  // is finished before any other thread's block starts (O_APPEND alone keeps only each single
  // write(2) whole).
  [[maybe_unused]] char cold_pad_[64] = {};
  // The clocks (OrderClock, kClocks of them, 64-byte aligned within: see clock_at). Untouched
  // until the process is threaded, so their pages are not resident before.
  uint64_t clock_words_[kClocks * 8 + 8] = {};
  uint64_t retired_events_ = 0; // threaded_events of buffers released (threads that exited)
  uint64_t retired_clock_ = 0;  // the highest clock of a released buffer: a new one starts past it
  Lock write_lock_{};
  uint32_t next_stack_id_ = 1; // node 0 is the root
  uint32_t stack_epoch_ = 1;
  bool regular_file_ = false;         // the trace is a regular file (a torn block can be cut off)
  uint64_t start_unix_ns_ = 0;        // the trace's FileHeader.start_unix_ns (salvage files name it)
  bool failed_ = false;               // a write failed: nothing more is written
  uint64_t file_bytes_ = 0;           // header and whole blocks in the file
  uint64_t file_events_ = 0;          // events in those blocks
  char path_[4096] = {};              // for the message that says a write failed; salvage files name it
  void point_salvage(TraceThread* t); // (salvage.h) says where t's events go
};

} // namespace hv::alloc
