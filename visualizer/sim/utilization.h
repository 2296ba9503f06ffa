// utilization.h - mdriver's space utilization of a run (docs/malloclab.md, "Utilization").
//
// Owns: the measure itself: the peak of the live requested bytes over the peak of the heap's
// footprint, each a maximum over every operation. Callers feed it after each operation (a
// ScenarioRunner's after_each); `heapviz sim` prints it and a comparison across policies can
// reuse it. Must not: print, format, or run anything.
#pragma once

#include "sim/policy.h"

#include <cstdint>

namespace hv::sim {

struct Utilization {
  uint64_t peak_live = 0; // max over operations of the bytes requested by the live blocks
  uint64_t peak_heap = 0; // max over operations of the footprint (heap_bytes + mmapped_bytes)
  // peak_live / peak_heap, or 0 before the heap holds anything.
  double ratio() const { return peak_heap ? double(peak_live) / double(peak_heap) : 0.0; }
};

class UtilizationMeter {
public:
  // Call after every operation: `live_bytes` is ScenarioRunner::live_requested_bytes().
  void observe(uint64_t live_bytes, const HeapSummary& heap) {
    if (live_bytes > u_.peak_live) u_.peak_live = live_bytes;
    const uint64_t footprint = heap.heap_bytes + heap.mmapped_bytes;
    if (footprint > u_.peak_heap) u_.peak_heap = footprint;
  }
  const Utilization& result() const { return u_; }

private:
  Utilization u_;
};

} // namespace hv::sim
