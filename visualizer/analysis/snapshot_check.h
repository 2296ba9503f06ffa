// snapshot_check.h - verification of a trace against the allocator's own snapshots: at every
// complete SNAPSHOT event (parts joined; baselines are loaded by the model, not checked), the
// model must equal it chunk for chunk (model::verify_snapshot).
//
// Owns: the running check and its first failure, in the words `heapviz check` prints.
// Must not: read files or apply events (the pass does, before calling on_event).
#pragma once

#include "model/heap_model.h"

#include <cstdint>
#include <string>

namespace hv::analysis {

class SnapshotCheck {
public:
  // After the pass applied e to m. False once a snapshot differs (failure() says how).
  bool on_event(const trace::Event& e, const model::HeapModel& m) {
    if (e.type != trace::Ev::Snapshot || (e.snapshot_flags() & trace::kSnapshotBaseline) || !failure_.empty())
      return failure_.empty();
    return check(e, m);
  }
  uint64_t verified() const { return verified_; }
  // "offset N: snapshot at seq S differs from the model: chunk 0x...: ..." or "".
  const std::string& failure() const { return failure_; }

private:
  bool check(const trace::Event& e, const model::HeapModel& m);
  model::SnapshotAssembler parts_;
  uint64_t verified_ = 0;
  std::string failure_;
};

} // namespace hv::analysis
