// runner.h - runs a parsed scenario on a Policy and keeps the name -> block bookkeeping.
//
// Owns: scenario semantics (names, liveness, realloc rules, the errors for freeing an unknown or
// freed name; tunables applied before the first operation, mallopt and malloc_trim in their
// place; the thread each operation runs on, and the heapN names of non-main heaps).
// Must not: print; callers format results.
#pragma once

#include "sim/policy.h"
#include "sim/scenario.h"

#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hv::sim {

struct StepResult {
  const Op* op;
  void* ptr = nullptr; // the result of an allocating op (nullptr for NULL)
  bool allocating = false;
};

struct Block {
  std::string name; // the name it was bound to (may have been rebound since)
  uint64_t requested = 0;
  int line = 0;
};

class ScenarioRunner {
public:
  explicit ScenarioRunner(Policy& policy) : policy_(policy) {}

  // Applies the scenario's tunables and checks its mallopt settings, before anything runs (and
  // before a trace starts, so its header shows the tunables). run() calls it if nobody did.
  // False with *error_line and *error_message set when the policy refuses a setting.
  bool prepare(const std::vector<Op>& ops, int* error_line, std::string* error_message);

  // Runs ops in order. `after_each` is called after every op; return false from it to stop
  // (then run returns false with the message it left in *error_message). Scenario errors
  // (free of an unknown or freed name) stop the run with *error_line and *error_message set.
  bool run(const std::vector<Op>& ops, int* error_line, std::string* error_message,
           const std::function<bool(const StepResult&, std::string*)>& after_each = {});

  // "mmap", "null", or the offset from the heap base in lowercase 0x-hex; a block in a non-main
  // arena's heap: "heapN+0xOFFSET", from that heap's start (docs/scenarios.md, "Threads").
  std::string offset_text(void* p) const;
  // Every name bound so far and its last pointer (live or freed; 0 for a NULL result).
  std::vector<std::pair<std::string, uintptr_t>> bound_names() const;
  // A non-main heap's name, "heapN": heaps are numbered 1, 2, ... in the order the scenario's
  // results first name them (then, for the printout, in the order asked).
  std::string heap_name(uintptr_t heap_start) const;
  // The thread that ran the last operation (0: main).
  int current_thread() const { return thread_; }
  // Blocks currently allocated, by user pointer.
  const std::map<uintptr_t, Block>& live_blocks() const { return live_; }
  // The sum of their requested sizes (mdriver's "total_size"; sim/utilization.h).
  uint64_t live_requested_bytes() const { return live_bytes_; }

private:
  // "" when the expectation holds, else what is true instead.
  std::string check_expect(const Op& op);
  struct NameState {
    void* ptr = nullptr;
    bool live = false;
    int freed_line = 0;
    const char* freed_how = "";
    int made_line = 0;         // the operation that set it (a NULL: the call that failed)
    uint64_t requested = 0;    // its size
    const char* null_why = ""; // a NULL that is no failure: realloc to 0, calloc's overflow
  };
  Policy& policy_;
  bool prepared_ = false;
  std::unordered_map<std::string, NameState> names_;
  std::map<uintptr_t, Block> live_;
  uint64_t live_bytes_ = 0;
  int thread_ = 0;
  mutable std::vector<uintptr_t> heaps_; // non-main heaps' starts, heapN = heaps_[N - 1]
};

} // namespace hv::sim
