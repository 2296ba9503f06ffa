// snapshot_check.h - verification of a trace against the allocator's own snapshots: at every
// complete SNAPSHOT event (parts joined; baselines are loaded by the model, not checked), the
// model must equal it chunk for chunk (model::verify_snapshot); at every complete BIN_LISTS event
// after it, each bin's list must be in the same order (verify_bin_lists).
//
// Owns: the running check and its first failure, in the words `heapviz check` prints; the
// comparison of the model's lists with a snapshot's.
// Must not: read files or apply events (the pass does, before calling on_event).
#pragma once

#include "model/heap_model.h"
#include "trace/bin_lists.h"

#include <cstdint>
#include <optional>
#include <string>

namespace hv::analysis {

// The first list that differs between a snapshot's lists and the model's, in list order (by
// owner, kind, index), and where: "tcache[1] of thread 4242, position 3 (0 = head): snapshot has
// 0x..., model has 0x...". Compares every list of the kinds the snapshot lists (coarse: the
// unsorted bin, smallbins and largebins only): a list the snapshot does not name is empty.
std::optional<std::string> verify_bin_lists(const model::HeapModel& m, const trace::BinLists& s);

class SnapshotCheck {
public:
  // After the pass applied e to m. False once a snapshot differs (failure() says how).
  bool on_event(const trace::Event& e, const model::HeapModel& m) {
    if (!failure_.empty()) return false;
    if (e.type == trace::Ev::Snapshot && !(e.snapshot_flags() & trace::kSnapshotBaseline)) return check(e, m);
    // (every part of a snapshot's lists carries its baseline flag)
    if (e.type == trace::Ev::BinLists && !(trace::bin_lists_flags(e) & trace::kSnapshotBaseline))
      return check_lists(e, m);
    return true;
  }
  uint64_t verified() const { return verified_; }
  uint64_t orders_verified() const { return orders_verified_; } // snapshots whose bin lists matched
  // "offset N: snapshot at seq S differs from the model: chunk 0x...: ..." or "".
  const std::string& failure() const { return failure_; }

private:
  bool check(const trace::Event& e, const model::HeapModel& m);
  bool check_lists(const trace::Event& e, const model::HeapModel& m);
  model::SnapshotAssembler parts_;
  trace::BinListsAssembler lists_;
  uint64_t verified_ = 0, orders_verified_ = 0;
  std::string failure_;
};

} // namespace hv::analysis
