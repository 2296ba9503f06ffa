// event_index.h - random access to the events of a trace, by position, and search by kind.
//
// Owns: stream positions about every kGroup events, a kind mask per group (so "next free" skips
// whole groups) and a summary per group of the addresses, sizes and threads its events carry
// (analysis::GroupSummary: a chunk's history or a filter reads only the groups that may match),
// readers of its own for other threads (IndexReader), the marks (position and label), the threads, reading
// any window of events back (from the nearest position), and the event kinds the timeline and the event list
// use. It is fed by the replay pass (Document: Replay's position tap and its per-event callback, so the file
// is decoded once), and goes on being fed when a live file grows; build() is the same on a pass of its own.
// Must not: apply events to a heap model (that is hv_model's Replay) or draw anything.
//
// Positions: event i (0-based) is the (i+1)-th event in seq order; the heap "at position n" is
// the state after events 0..n-1, so selecting event i shows position i+1.
#pragma once

#include "analysis/event_query.h"
#include "analysis/group_summary.h"
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

  // Fed by a pass over the events in order: add_position() with the stream position before
  // event pos (at pos 0, then about every kGroup events), add() with each event.
  void add_position(uint64_t pos, const trace::EventStream::Position& p);
  void add(const Event& e) {
    uint64_t i = total_++;
    if (i == 0) t0_ = e.ts;
    if (i / kGroup >= kinds_.size()) {
      kinds_.push_back(0);
      summaries_.emplace_back();
    }
    kinds_.back() |= kind_of(e);
    summaries_.back().add(e);
    if (e.type == trace::Ev::Mark) add_mark(i, e);
    if (e.tid != last_tid_) add_thread(e.tid);
  }
  // After the file grew (TraceFile::grow), before the new events are added.
  void refresh_blocks();
  // The indexing pass on its own (no replay feeding it). Publishes the events indexed so far in
  // *progress; stops early (returns false) when *cancel becomes true.
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
  bool group_may_match(uint64_t g, const analysis::Filter& f) const override {
    return (group_kinds(g) & f.kinds) && g < summaries_.size() && summaries_[g].may_match(f);
  }
  // What the index holds beside the file (positions, kinds, summaries), in bytes.
  uint64_t memory_bytes() const;
  void read_events(uint64_t first, uint64_t count, std::vector<Event>* out) override {
    read(first, count, out);
  }
  uint64_t visit_events(uint64_t first, uint64_t count, const std::function<void(const Event&)>& f) override {
    return visit(stream_, &stream_next_, first, count, f);
  }

private:
  friend class IndexReader;
  // Positions s (whose next() returns event *s_next) so that its next() returns event i.
  bool seek_to(trace::EventStream& s, uint64_t* s_next, uint64_t i) const;
  bool seek_to(uint64_t i) { return seek_to(stream_, &stream_next_, i); }
  void read(trace::EventStream& s, uint64_t* s_next, uint64_t first, uint64_t count,
            std::vector<Event>* out) const;
  // Events in place, as EventSource::visit_events (their data pointers are not cleared).
  uint64_t visit(trace::EventStream& s, uint64_t* s_next, uint64_t first, uint64_t count,
                 const std::function<void(const Event&)>& f) const;
  void add_mark(uint64_t i, const Event& e);
  void add_thread(uint32_t tid);

  const trace::TraceFile& file_;
  trace::EventStream stream_;
  uint64_t stream_next_ = 0;                         // index of the event stream_.next() returns
  std::vector<uint64_t> start_at_;                   // ascending: the event each start is before
  std::vector<trace::EventStream::Position> starts_; // the stream there
  std::vector<uint32_t> kinds_;                      // per group
  std::vector<analysis::GroupSummary> summaries_;    // per group
  std::vector<MarkInfo> marks_;
  std::vector<uint32_t> threads_;
  uint32_t last_tid_ = ~0u;
  uint64_t total_ = 0, t0_ = 0;
};

// The events of an index read on another thread, through a stream of its own (the index's own
// read() is the UI thread's). Safe while nothing is added to the index: Document::extend stops
// the QueryJobs that read through one before the index grows.
class IndexReader : public analysis::EventSource {
public:
  explicit IndexReader(const EventIndex& ix) : ix_(ix), stream_(ix.file_) {}
  uint64_t event_count() const override { return ix_.size(); }
  uint64_t group_size() const override { return EventIndex::kGroup; }
  uint32_t kinds_in_group(uint64_t g) const override { return ix_.group_kinds(g); }
  bool group_may_match(uint64_t g, const analysis::Filter& f) const override {
    return ix_.group_may_match(g, f);
  }
  void read_events(uint64_t first, uint64_t count, std::vector<Event>* out) override {
    ix_.read(stream_, &next_, first, count, out);
  }
  uint64_t visit_events(uint64_t first, uint64_t count, const std::function<void(const Event&)>& f) override {
    return ix_.visit(stream_, &next_, first, count, f);
  }
  // The index grew (a live file): the stream takes its new blocks.
  void refresh_blocks() { stream_.refresh_blocks(); }

private:
  const EventIndex& ix_;
  trace::EventStream stream_;
  uint64_t next_ = 0;
};

} // namespace hv::session
