// event_stream.h - all events of a trace in sequence order: a k-way merge of the threads.
//
// Owns: one decoder per thread over that thread's blocks (in file order, which is seq order),
// zstd decompression into a bounded per-thread buffer, the merge, the checks that sequence
// numbers only go up, and saving/restoring a position (for the model's checkpoints).
// Must not: know about the heap model.
#pragma once

#include "event_decoder.h"
#include "trace_file.h"

#include <memory>
#include <optional>
#include <vector>

namespace hv::trace {

class EventStream {
public:
  explicit EventStream(const TraceFile& file);
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // The next event in seq order, or nullptr at the end or on the first error (error()). The
  // pointer stays valid until the next call.
  const Event* next() {
    if (cur_ >= 0 && !advance(cur_)) return nullptr;
    return pick();
  }
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
  };
  Position save() const;
  void restore(const Position& p);

private:
  struct Thread;
  bool advance(int t);
  const Event* pick();
  bool load_block(Thread& th, uint32_t k);
  bool fail_from(Thread& th);
  void finish();

  const TraceFile& file_;
  std::vector<std::unique_ptr<Thread>> threads_;
  int cur_ = -1; // the thread whose head was returned last
  uint64_t emitted_ = 0, last_seq_ = 0, gaps_ = 0;
  bool stop_at_gap_ = false;
  bool done_ = false;
  std::optional<TraceError> error_;
};

} // namespace hv::trace
