// trace_summary.cpp - see trace_summary.h.
#include "analysis/trace_summary.h"

namespace hv::analysis {

TraceSummary::TraceSummary(uint64_t expected_events, uint64_t points) {
  if (expected_events && points) {
    step_ = std::max<uint64_t>(1, (expected_events + points - 1) / points);
    next_point_ = step_;
    series_.reserve(points + 2);
    series_.push_back(SeriesPoint{0, 0, 0, 0});
  }
}

void TraceSummary::point(const model::HeapModel& m) {
  peak_heap_ = std::max(peak_heap_, heap_max_);
  peak_live_ = std::max(peak_live_, live_max_);
  if (step_) {
    series_.push_back(SeriesPoint{events_, heap_max_, live_max_, float(m.metrics().fragmentation())});
    next_point_ += step_;
  }
  heap_max_ = live_max_ = 0;
}

void TraceSummary::finish(const model::HeapModel& m) {
  bool pending = !step_ || series_.back().pos != events_;
  heap_max_ = std::max(heap_max_, m.heap_bytes());
  live_max_ = std::max(live_max_, m.live_bytes());
  if (pending) {
    peak_heap_ = std::max(peak_heap_, heap_max_);
    peak_live_ = std::max(peak_live_, live_max_);
    if (step_)
      series_.push_back(SeriesPoint{events_, heap_max_, live_max_, float(m.metrics().fragmentation())});
    heap_max_ = live_max_ = 0;
  }
}

} // namespace hv::analysis
