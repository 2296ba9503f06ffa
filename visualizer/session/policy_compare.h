// policy_compare.h - one scenario run on several allocator policies, side by side: a trace per
// policy (what each map shows), the comparison's numbers after every operation, and the mapping
// between the traces' positions that keeps their maps in step (docs/policies.md, "Side by side").
//
// Owns: running the scenario on each policy (sim/), writing each run's trace, the per-operation
// metrics (footprint, live bytes requested, in-use and free block bytes, largest free block,
// blocks searched), the whole-run figures (peak footprint, utilization as malloclab's mdriver
// computes it), and, for a policy that does not count its search (glibc), a pass over its trace.
// Must not: draw, print, or keep a replay (the app opens each trace as a Document).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace hv::session {

// The heap after one operation of the scenario that calls the allocator (malloc, calloc,
// realloc, memalign, free).
struct OpMetrics {
  int line = 0;              // the scenario line
  uint64_t end = 0;          // trace position at which the operation's events are all applied
  uint64_t footprint = 0;    // bytes the heap holds from the system (sbrk space + mmapped chunks)
  uint64_t live = 0;         // bytes requested by the blocks in use
  uint64_t in_use = 0;       // bytes of the blocks in use, headers included
  uint64_t free_bytes = 0;   // bytes of the free blocks on a list (glibc: binned, not top)
  uint64_t largest_free = 0; // the largest of them
  uint64_t searched = 0;     // blocks this operation looked at to find room (docs/policies.md)
  bool allocating = false;   // malloc, calloc, realloc, memalign (not a free)
};

// The comparison's figures after some operations (PolicyRun::figures).
struct Figures {
  uint64_t footprint = 0, peak_footprint = 0, live = 0, peak_live = 0;
  double utilization = 0;            // peak live / peak footprint so far
  double external = 0, internal = 0; // fragmentation now (PolicyRun::external_frag, internal_frag)
  double searched_per_malloc = 0;    // so far
};

struct PolicyRun {
  std::string policy;
  std::string trace_path;
  std::string error; // "FILE:LINE: message" when the run stopped early (its trace holds the ops before)
  std::vector<OpMetrics> ops;
  uint64_t start = 0;  // trace position before the first operation
  uint64_t events = 0; // the trace's events
  // Whole-run figures.
  uint64_t peak_footprint = 0, peak_live = 0, mallocs = 0, searched = 0;
  size_t peak_done = 0; // operations done when the live bytes first reach their peak
  double utilization() const { return peak_footprint ? double(peak_live) / double(peak_footprint) : 0.0; }
  double searched_per_malloc() const { return mallocs ? double(searched) / double(mallocs) : 0.0; }
  // After `done` operations (0: before the first): footprint, live, and the fragmentation:
  // external, 1 - largest free block / free bytes; internal, the share of the in-use blocks'
  // bytes that were not requested (headers, rounding, slack). Clamped to the operations run.
  const OpMetrics* after(size_t done) const {
    return done && !ops.empty() ? &ops[std::min(done, ops.size()) - 1] : nullptr;
  }
  double external_frag(size_t done) const;
  double internal_frag(size_t done) const;
  Figures figures(size_t done) const;
  // The operations whose events are all at or before `position`, and the position at which
  // `done` operations are complete (clamped).
  size_t ops_done(uint64_t position) const;
  uint64_t position_after(size_t done) const;
  // The allocating operation whose API event has sequence number seq (a chunk's allocating
  // event: the map's selection), or -1.
  int64_t op_of_seq(uint64_t seq) const;
};

struct CompareOptions {
  std::vector<std::string> policies; // names for sim::make_policy
  std::string trace_dir;             // where the traces go (created if missing; "" for a new temporary one)
};

// Runs the scenario file on every policy. False only when nothing can be run (the file cannot be
// read or parsed, an unknown policy, a trace that cannot be written): *error says why. A policy
// that stops on an operation (a textbook policy refusing memalign) keeps what it ran, with its
// error in PolicyRun::error.
bool compare_policies(const std::string& scenario_path, const CompareOptions& opts,
                      std::vector<PolicyRun>* runs, std::string* error);

// The policies a scenario can run on (sim::policy_names(): glibc first).
std::vector<std::string> known_policies();

// "glibc,first-fit,buddy" -> names; false with *error for an empty list, an unknown or a
// repeated name.
bool parse_policy_list(const std::string& list, std::vector<std::string>* names, std::string* error);

} // namespace hv::session
