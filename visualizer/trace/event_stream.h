// event_stream.h - all events of a trace in sequence order: a k-way merge of the threads.
//
// Owns: one decoder per thread over that thread's blocks (in file order, which is seq order),
// zstd decompression into a bounded per-thread buffer, the merge, the checks that sequence
// numbers only go up, the merge of a threaded process's clocked numbers (kBlockClocked: by
// number, ties in thread order; the events it returns are numbered 1, 2, 3... in that order),
// saving/restoring a position (for the model's checkpoints), and releasing the file's pages every thread has
// read past (a pass over a trace of any size keeps a bounded part of it resident; TraceFile::release). Must
// not: know about the heap model.
#pragma once

#include "trace/event_decoder.h"
#include "trace/trace_file.h"

#include <memory>
#include <optional>
#include <vector>

struct ZSTD_DCtx_s;

namespace hv::trace {

class EventStream {
public:
  explicit EventStream(const TraceFile& file);
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // The next event in seq order, or nullptr at the end or on the first error (error()). The
  // pointer stays valid until the next call.
  inline const Event* next();
  // The next events in seq order (at most max), each passed to sink.apply<T>(e) with T = e.type
  // as a constant: the same events as next() would return, in the same order, with the same
  // errors, but most are decoded and applied with one switch (the decoder's). Returns how many
  // were passed: fewer than max at the end or on an error. The event last passed stays valid
  // until the next call.
  template <class Sink> uint64_t run(Sink& sink, uint64_t max);
  // The error that stopped the stream: a decode error, or the file's own (torn tail, bad block)
  // once its readable prefix is exhausted. Empty at a clean end.
  const std::optional<TraceError>& error() const { return error_; }
  uint64_t emitted() const { return emitted_; }
  // Jumps in the sequence numbers (events the writer lost). When the file itself is damaged
  // (torn tail, bad block) the stream stops at the first jump instead: after it, events of
  // the lost blocks would be missing from the middle of the order.
  uint64_t gaps() const { return gaps_; }

  // A position in the stream (small: a few words per thread).
  struct Position {
    struct Thread {
      uint32_t k; // index into the thread's block list
      BlockDecoder::State dec;
      bool has_head;
      Event head;
    };
    std::vector<Thread> threads;
    int cur;
    uint64_t emitted, last_seq, gaps;
    uint64_t last_raw = 0;     // clocked merge: the number the last event had in the file
    bool last_clocked = false; // ... and whether its block was clocked
  };
  Position save() const;
  // Restores a saved position. A thread the position does not list (the file gained it later:
  // TraceFile::grow) starts at its first event; a thread that had run out of events goes on
  // with blocks the file gained since.
  void restore(const Position& p);
  // After the file grew (TraceFile::grow): takes the blocks and threads it gained. A stream that
  // had ended at the old end goes on with the new events, as if they had been there from the
  // start (a live capture's next sync).
  void refresh_blocks();

private:
  struct Thread {
    uint32_t tid = 0;
    std::vector<uint32_t> blocks; // indices into file.blocks(), in file order
    uint32_t k = 0;
    BlockDecoder dec;
    Event head{};
    bool has_head = false;
    std::unique_ptr<uint8_t[]> zbuf; // kMaxBlockPayload bytes, allocated at the first zstd block
    int64_t zloaded = -1;            // file block index whose payload is in zbuf
    ZSTD_DCtx_s* dctx = nullptr;
    ~Thread();
  };
  // Passes the events of a run (each numbered last + 1) from the decoder to the sink; stops
  // (on() returns false) at the first event numbered otherwise, which stays the thread's head
  // (shown to sink.ahead<T>(e) first, if the sink has one: it will be applied soon).
  template <class Sink> struct Gate {
    EventStream& s;
    Sink& sink;
    uint64_t want, left; // the next seq, events still wanted
    bool miss = false;   // stopped at an event that is not next
    template <Ev T> bool on(const Event& e) {
      if (e.seq != want) { // e stays the thread's head: the sink may prepare for it
        if constexpr (requires { sink.template ahead<T>(e); }) sink.template ahead<T>(e);
        miss = true;
        return false;
      }
      sink.template apply<T>(e);
      ++want;
      return --left != 0;
    }
    // After a miss: when exactly one other head is at or below want and it is want (pick_next's
    // usual case), applies that head and, if its decoder can_run(), goes on there. Otherwise the
    // run ends and run() takes over (it does the same through pick_next() and pick()).
    bool resume(BlockDecoder*& d, Event*& ep) {
      if (!miss) return false;
      size_t n = s.threads_.size();
      uint64_t* heads = s.heads_.data();
      heads[size_t(s.cur_)] = ep->seq;
      size_t below = 0, match = 0;
      for (size_t t = 0; t < n; ++t) {
        bool le = heads[t] <= want;
        below += le;
        match = le ? t : match;
      }
      if (below != 1 || heads[match] != want || want == UINT64_MAX) return false;
      Thread& nt = *s.threads_[match];
      s.cur_ = int(match);
      miss = false;
      dispatch(nt.head, sink);
      ++want;
      if (--left == 0 || !nt.dec.can_run()) return false;
      d = &nt.dec;
      ep = &nt.head;
      return true;
    }
  };
  bool advance(int t); // the general case: block boundaries, errors, the end of the thread
  // The merge when some block is kBlockClocked (a threaded process's clocks: numbers that jump
  // and may repeat in other threads): the lowest head, ties to the first thread, renumbered
  // last + 1 (an unclocked block's number is kept, so a gap there still shows and counts).
  const Event* next_clocked();
  bool any_clocked() const;
  const Event* pick(); // the general case: a switch to another thread, gaps, errors, the end
  // pick() after the current thread's run ended at a head numbered otherwise than last + 1 (it
  // has a head): inline for the usual case, another thread's head is last + 1 and it is the
  // only head at or below that number (so it is the lowest and no other has the same number).
  const Event* pick_next() {
    size_t n = threads_.size();
    uint64_t* heads = heads_.data();
    heads[size_t(cur_)] = threads_[size_t(cur_)]->head.seq;
    uint64_t want = last_seq_ + 1;
    size_t below = 0, match = 0;
    for (size_t t = 0; t < n; ++t) {
      bool le = heads[t] <= want;
      below += le;
      match = le ? t : match;
    }
    if (below != 1 || heads[match] != want || want == UINT64_MAX) return pick();
    cur_ = int(match);
    last_seq_ = want;
    ++emitted_;
    return &threads_[match]->head;
  }
  void sync_head(int t) {
    const Thread& th = *threads_[size_t(t)];
    heads_[size_t(t)] = th.has_head ? th.head.seq : UINT64_MAX;
  }
  bool load_block(Thread& th, uint32_t k);
  bool start_thread(int t); // loads thread t's first event (its head)
  bool fail_from(Thread& th);
  bool jump(uint64_t seq, uint64_t last, uint32_t tid, uint64_t offset); // not last + 1: a gap or an error
  void finish();

  const TraceFile& file_;
  std::vector<std::unique_ptr<Thread>> threads_;
  std::vector<uint64_t> heads_; // head seq per thread (UINT64_MAX: none), current at pick()
  int cur_ = -1;                // the thread whose head was returned last
  uint64_t emitted_ = 0, last_seq_ = 0, gaps_ = 0;
  bool stop_at_gap_ = false;
  bool clocked_ = false;      // some block is kBlockClocked: next_clocked() merges
  uint64_t last_raw_ = 0;     // (clocked) the file's number of the event returned last
  bool last_clocked_ = false; // (clocked) and whether its block was clocked
  Event out_{};               // (clocked) the event returned last, renumbered
  uint64_t released_ = 0;     // the file's pages before this offset were released (release_behind)
  static constexpr uint64_t kKeepBehind = 8u << 20, kReleaseStep = 16u << 20;
  // Releases the pages more than kKeepBehind before the lowest block any thread still reads.
  void release_behind();
  uint64_t lowest_block() const; // that block's offset (UINT64_MAX: every thread has ended)
  bool done_ = false;
  std::optional<TraceError> error_;
};

// ---- inline hot path ------------------------------------------------------------------------
// Most events continue the current thread's block (the decoder checks that seq increases there)
// and are numbered last + 1; everything else takes advance() and pick().
inline const Event* EventStream::next() {
  if (done_) return nullptr;
  if (clocked_) return next_clocked();
  if (cur_ < 0) return pick();
  Thread& th = *threads_[size_t(cur_)];
  if (!th.dec.at_block_start() && th.dec.next(th.head)) {
    if (th.head.seq == last_seq_ + 1) {
      last_seq_ = th.head.seq;
      ++emitted_;
      return &th.head;
    }
  } else if (!advance(cur_)) {
    return nullptr;
  }
  return pick();
}

template <class Sink> uint64_t EventStream::run(Sink& sink, uint64_t max) {
  uint64_t n = 0;
  if (clocked_) {
    for (const Event* e; n < max && (e = next_clocked()); ++n)
      dispatch(*e, sink);
    return n;
  }
  while (n < max && !done_) {
    const Event* e;
    if (cur_ >= 0 && !threads_[size_t(cur_)]->dec.at_block_start()) {
      Thread& th = *threads_[size_t(cur_)]; // the run may go on in other threads (Gate::resume)
      Gate<Sink> g{*this, sink, last_seq_ + 1, max - n};
      bool ok = th.dec.next(th.head, g);
      // The events the sink saw count even when the run ends at a decode error (next() returns
      // them too before it reports the error).
      uint64_t k = g.want - (last_seq_ + 1);
      n += k;
      emitted_ += k;
      last_seq_ = g.want - 1;
      if (ok) {
        if (!g.miss) continue;
        e = pick_next(); // as next() does for an event that is not next
      } else {
        if (!advance(cur_)) break;
        e = pick();
      }
    } else {
      e = next();
    }
    if (!e) break;
    dispatch(*e, sink);
    ++n;
  }
  return n;
}

} // namespace hv::trace
