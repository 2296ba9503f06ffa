// trace_summary.h - the one summary of a replay pass: event counts by type, API calls, the peaks
// of footprint and live bytes, the time span, heap errors and the timeline's curves. Fed one
// event at a time during the pass (Replay::build's callback), so `heapviz stats` and the app
// read the same numbers.
//
// Owns: TraceSummary and its series (about kSeriesPoints points, each the highest footprint, live
// bytes and resident estimate since the previous point, and the fragmentation at the point), and
// the released bytes at the footprint's peak.
// Must not: read files, decode or apply events (the pass does), or draw.
#pragma once

#include "model/heap_model.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace hv::analysis {

using trace::Event;

// The curves of the timeline: one point every step() events.
struct SeriesPoint {
  uint64_t pos;        // events applied
  uint64_t heap, live; // the highest footprint and live bytes since the previous point
  uint64_t resident;   // the highest footprint minus released bytes since the previous point
  float frag;          // external fragmentation at pos
};
inline constexpr uint64_t kSeriesPoints = 8192;

class TraceSummary {
public:
  // expected_events: about how many events the pass will apply (sets the series' step; 0 for
  // no series).
  explicit TraceSummary(uint64_t expected_events = 0, uint64_t points = kSeriesPoints);

  // After each event the pass applied, with the model after it.
  void add(const Event& e, const model::HeapModel& m) {
    ++counts_[uint8_t(e.type)];
    if (e.tid != last_caller_) [[unlikely]] // (most calls come from the thread of the one before)
      if (trace::event_info(e.type).api) note_caller(e.tid);
    // Timestamps are per thread and read every few calls, so the last event in seq order need
    // not carry the latest time: the span is the earliest and the latest stamp.
    if (events_++ == 0) first_ts_ = last_ts_ = e.ts;
    first_ts_ = std::min(first_ts_, e.ts);
    if (e.ts < last_ts_) [[unlikely]] { // time ran back in seq order (traces before 2026-12)
      if (back_steps_++ == 0) back_first_ = events_;
      back_max_ = std::max(back_max_, last_ts_ - e.ts);
    }
    last_ts_ = std::max(last_ts_, e.ts);
    uint64_t h = m.heap_bytes(), l = m.live_bytes(), rel = m.released_bytes();
    heap_max_ = std::max(heap_max_, h);
    live_max_ = std::max(live_max_, l);
    resident_max_ = std::max(resident_max_, h - std::min(h, rel));
    if (h > top_heap_) [[unlikely]] { // a new peak of the footprint: what was released then
      top_heap_ = h;
      peak_released_ = rel;
    }
    if (events_ == next_point_) point(m);
  }
  // At the end of the pass: the last point (the model as the pass left it).
  void finish(const model::HeapModel& m);
  // Before more events are added after finish() (a live file grew): takes back finish()'s last
  // point. Past twice the points asked for, the series halves (pairs of points become one at
  // twice the step), so it keeps between `points` and 2 x `points` points however long it grows.
  void resume();

  uint64_t events() const { return events_; }
  uint64_t count(trace::Ev t) const { return counts_[uint8_t(t)]; }
  uint64_t count(uint8_t t) const { return counts_[t]; }
  // API calls: a free that went straight into the tcache is still a free() call.
  uint64_t calls(trace::Ev t) const {
    return counts_[uint8_t(t)] + (t == trace::Ev::Free ? counts_[uint8_t(trace::Ev::FreeTcache)] : 0);
  }
  uint64_t peak_heap() const { return peak_heap_; }
  uint64_t peak_live() const { return peak_live_; }
  // Released bytes (model/released.h) after the first event at which the footprint reached
  // peak_heap(): footprint minus this is the resident estimate at the peak.
  uint64_t peak_released() const { return peak_released_; }
  uint64_t first_ts() const { return first_ts_; }
  uint64_t duration_ns() const { return last_ts_ - first_ts_; }
  uint64_t heap_errors() const { return counts_[uint8_t(trace::Ev::Error)]; }
  // The threads that made at least one call (malloc's family, free) so far: the program's
  // threads. A trace's file can have more: heapviz's live thread writes the snapshots of a live
  // capture in blocks of its own.
  size_t calling_threads() const { return callers_.size(); }
  // Events whose time is earlier than an event before them in seq order, by how much at most,
  // and the first of them (1-based; 0: none).
  uint64_t time_back_steps() const { return back_steps_; }
  uint64_t time_back_max_ns() const { return back_max_; }
  uint64_t time_back_first() const { return back_first_; }
  const std::vector<SeriesPoint>& series() const { return series_; }

private:
  void point(const model::HeapModel& m);
  void note_caller(uint32_t tid) {
    last_caller_ = tid;
    auto it = std::lower_bound(callers_.begin(), callers_.end(), tid);
    if (it == callers_.end() || *it != tid) callers_.insert(it, tid);
  }

  uint64_t counts_[256] = {};
  uint64_t events_ = 0, first_ts_ = 0, last_ts_ = 0;
  uint64_t back_steps_ = 0, back_max_ = 0, back_first_ = 0;
  uint64_t peak_heap_ = 0, peak_live_ = 0;    // over the whole pass
  uint64_t heap_max_ = 0, live_max_ = 0;      // since the previous point
  uint64_t resident_max_ = 0;                 // since the previous point
  uint64_t top_heap_ = 0, peak_released_ = 0; // the footprint's peak so far, released bytes then
  uint64_t step_ = 0, next_point_ = UINT64_MAX, points_ = 0;
  bool tail_ = false; // finish() added a point that resume() takes back
  std::vector<SeriesPoint> series_;
  uint32_t last_caller_ = UINT32_MAX; // the thread of the latest call (UINT32_MAX: none yet)
  std::vector<uint32_t> callers_;     // the calling threads, sorted
};

} // namespace hv::analysis
