// snapshot_check.cpp - see snapshot_check.h.
#include "analysis/snapshot_check.h"

namespace hv::analysis {

bool SnapshotCheck::check(const trace::Event& e, const model::HeapModel& m) {
  if (!parts_.feed(e)) return true; // more parts to come
  const model::Snapshot& snap = parts_.snapshot();
  if (auto mm = model::verify_snapshot(m, snap)) {
    failure_ = "offset " + std::to_string(snap.offset) + ": snapshot at seq " + std::to_string(snap.seq) +
               " differs from the model: " + mm->describe();
    return false;
  }
  ++verified_;
  return true;
}

} // namespace hv::analysis
