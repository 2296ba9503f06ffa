// trace_summary.cpp - see trace_summary.h.
#include "analysis/trace_summary.h"

namespace hv::analysis {

TraceSummary::TraceSummary(uint64_t expected_events, uint64_t points) : points_(points) {
  if (expected_events && points) {
    step_ = std::max<uint64_t>(1, (expected_events + points - 1) / points);
    next_point_ = step_;
    series_.reserve(2 * points + 2);
    series_.push_back(SeriesPoint{0, 0, 0, 0, 0});
  }
}

void TraceSummary::point(const model::HeapModel& m) {
  peak_heap_ = std::max(peak_heap_, heap_max_);
  peak_live_ = std::max(peak_live_, live_max_);
  if (step_) {
    series_.push_back(
        SeriesPoint{events_, heap_max_, live_max_, resident_max_, float(m.metrics().fragmentation())});
    next_point_ += step_;
    if (series_.size() - 1 == 2 * points_) { // an even number of points after the first: halve
      for (size_t j = 1; j <= points_; ++j) {
        const SeriesPoint &a = series_[2 * j - 1], &b = series_[2 * j];
        series_[j] = SeriesPoint{b.pos, std::max(a.heap, b.heap), std::max(a.live, b.live),
                                 std::max(a.resident, b.resident), b.frag};
      }
      series_.resize(points_ + 1);
      step_ *= 2;
      next_point_ = series_.back().pos + step_;
    }
  }
  heap_max_ = live_max_ = resident_max_ = 0;
}

void TraceSummary::resume() {
  const bool had_series = step_ != 0;
  if (tail_) {
    tail_ = false;
    if (had_series) {
      heap_max_ = series_.back().heap; // the maxima since the point before it, as they were
      live_max_ = series_.back().live;
      resident_max_ = series_.back().resident;
      series_.pop_back();
    }
  }
  if (!had_series && points_) { // the pass had no events to size the series by: start it now
    step_ = 1;
    next_point_ = events_ + 1;
    if (series_.empty()) series_.push_back(SeriesPoint{events_, 0, 0, 0, 0});
  }
}

void TraceSummary::finish(const model::HeapModel& m) {
  bool pending = !step_ || series_.back().pos != events_;
  heap_max_ = std::max(heap_max_, m.heap_bytes());
  live_max_ = std::max(live_max_, m.live_bytes());
  resident_max_ = std::max(resident_max_, m.metrics().resident_bytes());
  tail_ = pending;
  if (pending) {
    peak_heap_ = std::max(peak_heap_, heap_max_);
    peak_live_ = std::max(peak_live_, live_max_);
    if (step_)
      series_.push_back(
          SeriesPoint{events_, heap_max_, live_max_, resident_max_, float(m.metrics().fragmentation())});
  }
  // The maxima since the last point: none yet (resume() may add more).
  heap_max_ = live_max_ = resident_max_ = 0;
}

} // namespace hv::analysis
