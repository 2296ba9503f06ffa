// errors.h - the heap errors of a trace, each tied to the block it names and to the stacks behind
// it: the faulting call's, the block's allocation and, for a freed block, its earlier free.
//
// Owns: ErrorLog, fed a trace's events in sequence order with the model after each (a pass of
// its own, or Replay::build's callback): the history of every user pointer (its latest
// allocation and free: seq, stack, request), each ERROR event with its ERROR_REPORT (kind,
// message, stack, differing bytes; older traces have none: the kind from the error code, the
// stack from the thread's latest call), and where the pointer lies: "N bytes inside|after|before
// a block of M bytes". `heapviz errors` and the Errors window read it.
// Must not: print, format JSON or draw (the CLI and the views do), or symbolize (they do, with
// site_frames' rules through frames_of_stack).
#pragma once

#include "model/heap_model.h"
#include "model/policy_info.h"
#include "trace/error_report.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace hv::analysis {

struct HeapError {
  uint64_t seq = 0, offset = 0; // the ERROR event's
  uint32_t tid = 0;
  trace::ErrorCode code = trace::ErrorCode::Other;
  trace::ErrorReport report; // kind, source, message, stack, pointer, bytes (synthesized for old traces)
  bool has_report = false;   // the trace had an ERROR_REPORT for it
  uint64_t address = 0;      // the pointer the check names

  // The block: the chunk holding address (or, when none holds it, the in-use chunk just below).
  bool has_block = false;
  uint64_t chunk = 0, chunk_size = 0;
  uint64_t user = 0;      // its user pointer (a block's start as the program sees it)
  uint64_t requested = 0; // bytes its latest allocation asked for (0: not known)
  uint8_t state = 0;      // the chunk's ChunkState at the error
  bool freed = false;     // the block had been freed (its latest event is a free)
  // address - user: negative before the block's start.
  int64_t delta() const { return int64_t(address - user); }

  // An overflow into the block's own header (a heap-buffer-overflow whose bytes are the header's):
  // the live block that ends there, which wrote past its end, and where it was allocated.
  bool has_writer = false;
  uint64_t writer_user = 0, writer_requested = 0, writer_alloc_seq = 0;
  uint32_t writer_alloc_stack = 0;

  uint64_t call_seq = 0;                // the thread's latest API event before the error (0: none)
  uint32_t stack = 0;                   // the faulting call's
  uint32_t alloc_stack = 0;             // the block's latest allocation (0: none recorded)
  uint32_t free_stack = 0;              // its free before the error (0: none)
  uint64_t alloc_seq = 0, free_seq = 0; // (0: none in the trace)
};

class ErrorLog {
public:
  explicit ErrorLog(const model::PolicyInfo& policy = model::PolicyInfo{}) : policy_(policy) {}
  // One event, in seq order, with the model after it. False with *error set on a malformed
  // ERROR_REPORT (the error is still listed, without its report).
  bool add(const trace::Event& e, const model::HeapModel& m, std::string* error);
  const std::vector<HeapError>& errors() const { return errors_; }

private:
  struct History {
    uint64_t alloc_seq = 0, free_seq = 0, prior_free_seq = 0, requested = 0;
    uint32_t alloc_stack = 0, free_stack = 0, prior_free_stack = 0;
    bool freed = false, prior_freed = false; // (prior: before the latest free)
  };
  struct LastCall {
    uint64_t seq = 0;
    uint32_t stack = 0;
  };
  void on_error(const trace::Event& e, const model::HeapModel& m);
  void locate(HeapError& h, const model::HeapModel& m) const;
  model::PolicyInfo policy_;
  std::unordered_map<uint64_t, History> blocks_; // by user pointer
  std::unordered_map<uint32_t, LastCall> last_;  // by thread: its latest API call
  std::vector<HeapError> errors_;
};

// "0x7f..10 is 0 bytes inside a block of 40 bytes" (freed: "a freed block"), "8 bytes after",
// "16 bytes before"; "0x... is not in any block of the heap" when there is none.
std::string where_text(const HeapError& h);

} // namespace hv::analysis
