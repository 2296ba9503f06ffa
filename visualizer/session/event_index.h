// event_index.h - random access to the events of a trace, by position, and search by kind.
//
// Owns: one pass over the merged event stream that saves a stream position every kGroup events,
// a kind mask per group (so "next free" skips whole groups), the marks (position and label),
// reading any window of events back, and the event kinds the timeline and the event list use.
// Must not: apply events to a heap model (that is hv_model's Replay) or draw anything.
//
// Positions: event i (0-based) is the (i+1)-th event in seq order; the heap "at position n" is
// the state after events 0..n-1, so selecting event i shows position i+1.
#pragma once

#include "analysis/event_query.h"
#include "trace/event_stream.h"
#include "trace/trace_file.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace hv::session {

using trace::Event;

// The event kinds are the analysis layer's (analysis/event_query.h), named here for the views.
using analysis::kAllKinds;
using analysis::Kind;
using analysis::kind_name;
using analysis::kind_of;
using analysis::kKindAlloc;
using analysis::kKindBin;
using analysis::kKindChunk;
using analysis::kKindCount;
using analysis::kKindError;
using analysis::kKindFree;
using analysis::kKindGrow;
using analysis::kKindMark;
using analysis::kKindMerge;
using analysis::kKindOther;
using analysis::kKindSplit;
using analysis::kKindTop;
using analysis::kKindTrim;

struct MarkInfo {
  uint64_t index; // the event's index (0-based)
  std::string label;
};

class EventIndex : public analysis::EventSource {
public:
  static constexpr uint64_t kGroup = 4096;

  explicit EventIndex(const trace::TraceFile& file);

  // The indexing pass. Publishes the events indexed so far in *progress; stops early (returns
  // false) when *cancel becomes true.
  bool build(std::atomic<uint64_t>* progress = nullptr, const std::atomic<bool>* cancel = nullptr);

  uint64_t size() const { return total_; }
  // Copies events [first, first + count) (clipped to size()) into out. Their data pointers
  // (mark labels, snapshots) are cleared: use mark_label() for marks.
  void read(uint64_t first, uint64_t count, std::vector<Event>* out);
  Event at(uint64_t i);
  // The first event index >= from (or, backwards, <= from) whose kind_of() & mask, or -1.
  int64_t find_next(uint64_t from, uint32_t mask);
  int64_t find_prev(uint64_t from, uint32_t mask);

  const std::vector<MarkInfo>& marks() const { return marks_; }
  const std::vector<uint32_t>& threads() const { return threads_; }
  uint64_t first_ts() const { return t0_; }
  uint32_t group_kinds(uint64_t group) const { return group < kinds_.size() ? kinds_[group] : 0; }

  // analysis::EventSource: queries scan the index.
  uint64_t event_count() const override { return size(); }
  uint64_t group_size() const override { return kGroup; }
  uint32_t kinds_in_group(uint64_t g) const override { return group_kinds(g); }
  void read_events(uint64_t first, uint64_t count, std::vector<Event>* out) override {
    read(first, count, out);
  }

private:
  bool seek_to(uint64_t i); // positions stream_ so that its next() returns event i

  const trace::TraceFile& file_;
  trace::EventStream stream_;
  uint64_t stream_next_ = 0;                         // index of the event stream_.next() returns
  std::vector<trace::EventStream::Position> starts_; // at event g * kGroup
  std::vector<uint32_t> kinds_;                      // per group
  std::vector<MarkInfo> marks_;
  std::vector<uint32_t> threads_;
  uint64_t total_ = 0, t0_ = 0;
};

} // namespace hv::session
